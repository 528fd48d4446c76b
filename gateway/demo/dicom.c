/*
 * img-c's PACS content: one DICOM study per imaging visit (CT, MR, CR or
 * US), 1-3 series of a few tiny 8x8 instances, written as Part 10 files
 * (img-c/dicom/<PatientID>/<AccessionNumber>/<series>_<instance>.dcm) that
 * Orthanc accepts.  Specific Character Set ISO_IR 192 (UTF-8): Patient's
 * Name carries the pinyin (alphabetic) and Han (ideographic) groups as
 * Chinese PACS write them ("ZHANG^SAN=张^三").  PatientID is the centre's
 * own number (issuer: its OID); the resident identity number, when the
 * registration has one, goes in Other Patient IDs Sequence.  Every UID is
 * a UUID-derived UID under 2.25 (PS3.5 B.2) of a name that holds the seed,
 * so two generations with different seeds never collide in one PACS.
 */
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/demo/demo_int.h"
#include "gateway/demo/gw_demo_dicom.h"
#include "gateway/mpi/gw_mpi.h"

#define T(g, e)   GW_DEMO_DCM_TAG(0x##g, 0x##e)
#define IMPL_NAME "FHIRGATE_DEMO1"

struct study {
    const struct demo_region *r;
    const struct demo_rec *rec;
    const struct demo_visit *v;
    const struct demo_imaging *im;
    char study_uid[72];
    char frame_uid[72];
    char date[16];
    char time[16];
};

static const char *
sop_class(const char *modality)
{
    if (strcmp(modality, "CT") == 0)
        return "1.2.840.10008.5.1.4.1.1.2"; /* CT Image Storage */
    if (strcmp(modality, "MR") == 0)
        return "1.2.840.10008.5.1.4.1.1.4"; /* MR Image Storage */
    if (strcmp(modality, "CR") == 0)
        return "1.2.840.10008.5.1.4.1.1.1"; /* Computed Radiography Image Storage */
    return "1.2.840.10008.5.1.4.1.1.6.1";   /* Ultrasound Image Storage */
}

static void
uid_for(const struct study *s, const char *what, int a, int b, char out[72])
{
    char name[160];

    snprintf(name, sizeof(name), "fhirgate demo %llu %s %s %d %d",
             (unsigned long long)s->r->cfg.seed, s->v->number, what, a, b);
    demo_uid(name, out);
}

/* ISO_IR 192 person name: alphabetic=ideographic groups (PS3.5 6.2.1.2). */
static void
pn(const char *py_family, const char *py_given, const char *family, const char *given, bool latin,
   char out[256])
{
    if (latin)
        snprintf(out, 256, "%s^%s", family, given);
    else if (py_family[0] != '\0')
        snprintf(out, 256, "%s^%s=%s^%s", py_family, py_given, family, given);
    else
        snprintf(out, 256, "=%s^%s", family, given);
}

/* ------------------------------------------------------------ modules -- */

static int
patient_module(struct base_arena *a, struct gw_demo_dcm *ds, const struct study *s,
               struct base_err *err)
{
    const struct demo_rec *rec = s->rec;
    const struct demo_name *n = &rec->name;
    char name[256];
    char birth[9] = "";
    char issuer[72];
    char age[8];
    char phone[24];

    pn(n->py_family, n->py_given, n->family, n->given, n->latin, name);
    if (rec->birth != 0)
        snprintf(birth, sizeof(birth), "%08d", rec->birth);
    demo_member_oid(DEMO_IMG_C, DEMO_ARC_PATIENT, issuer);
    snprintf(age, sizeof(age), "%03dY", demo_age(rec->person, s->v->day) % 1000);
    TRY(gw_demo_dcm_str(ds, T(0010, 0010), "PN", name, err));
    TRY(gw_demo_dcm_str(ds, T(0010, 0020), "LO", rec->mrn, err));
    TRY(gw_demo_dcm_str(ds, T(0010, 0021), "LO", issuer, err));
    TRY(gw_demo_dcm_str(ds, T(0010, 0030), "DA", birth, err));
    TRY(gw_demo_dcm_str(ds, T(0010, 0040), "CS",
                        rec->sex == 'M'   ? "M"
                        : rec->sex == 'F' ? "F"
                                          : "",
                        err));
    TRY(gw_demo_dcm_str(ds, T(0010, 1010), "AS", age, err));
    if (rec->phone[0] != '\0' &&
        gw_mpi_norm_phone(rec->phone, strlen(rec->phone), phone) != GW_MPI_PHONE_NONE)
        TRY(gw_demo_dcm_str(ds, T(0010, 2154), "SH", phone, err));
    if (rec->resid_state != DEMO_RESID_NONE) {
        struct gw_demo_dcm *item = gw_demo_dcm_new(a);
        struct gw_demo_dcm **items = BASE_NEW_N(a, struct gw_demo_dcm *, 1);

        if (item == NULL || items == NULL)
            return base_err_set(err, BASE_E_NOMEM, "exception", "dicom", "out of memory");
        TRY(gw_demo_dcm_str(item, T(0010, 0020), "LO", rec->resid, err));
        TRY(gw_demo_dcm_str(item, T(0010, 0021), "LO", DEMO_RESID_OID, err));
        TRY(gw_demo_dcm_str(item, T(0010, 0022), "CS", "TEXT", err));
        items[0] = item;
        TRY(gw_demo_dcm_seq(ds, T(0010, 1002), items, 1, err));
    }
    return BASE_OK;
}

static int
study_module(struct gw_demo_dcm *ds, const struct study *s, struct base_err *err)
{
    const struct demo_visit *v = s->v;
    const struct demo_staff *ref = &s->r->staff[v->referrer][v->doctor];
    char name[256];
    char study_id[17];

    pn(ref->py_family, ref->py_given, ref->family, ref->given, false, name);
    snprintf(study_id, sizeof(study_id), "%s", v->number + strlen(v->number) - 8);
    TRY(gw_demo_dcm_str(ds, T(0008, 0005), "CS", "ISO_IR 192", err));
    TRY(gw_demo_dcm_str(ds, T(0008, 0020), "DA", s->date, err));
    TRY(gw_demo_dcm_str(ds, T(0008, 0030), "TM", s->time, err));
    TRY(gw_demo_dcm_str(ds, T(0008, 0050), "SH", v->number, err));
    TRY(gw_demo_dcm_str(ds, T(0008, 0060), "CS", s->im->modality, err));
    TRY(gw_demo_dcm_str(ds, T(0008, 0070), "LO", "fhirgate demo", err));
    TRY(gw_demo_dcm_str(ds, T(0008, 0080), "LO", demo_members[DEMO_IMG_C].name, err));
    TRY(gw_demo_dcm_str(ds, T(0008, 0090), "PN", name, err));
    TRY(gw_demo_dcm_str(ds, T(0008, 0201), "SH", "+0800", err));
    TRY(gw_demo_dcm_str(ds, T(0008, 1010), "SH", s->im->modality, err));
    TRY(gw_demo_dcm_str(ds, T(0008, 1030), "LO", s->im->desc, err));
    TRY(gw_demo_dcm_str(ds, T(0008, 1090), "LO", "demo scanner", err));
    TRY(gw_demo_dcm_str(ds, T(0018, 0015), "CS", s->im->body, err));
    TRY(gw_demo_dcm_str(ds, T(0020, 000D), "UI", s->study_uid, err));
    return gw_demo_dcm_str(ds, T(0020, 0010), "SH", study_id, err);
}

/* CT/MR: Image Plane and Frame of Reference modules. */
static int
plane_module(struct gw_demo_dcm *ds, const struct study *s, int inst, struct base_err *err)
{
    char pos[64];
    char loc[16];

    snprintf(pos, sizeof(pos), "-100\\-100\\%d", inst * 5);
    snprintf(loc, sizeof(loc), "%d", inst * 5);
    TRY(gw_demo_dcm_str(ds, T(0018, 0050), "DS", "5", err));
    TRY(gw_demo_dcm_str(ds, T(0018, 5100), "CS", "HFS", err));
    TRY(gw_demo_dcm_str(ds, T(0020, 0032), "DS", pos, err));
    TRY(gw_demo_dcm_str(ds, T(0020, 0037), "DS", "1\\0\\0\\0\\1\\0", err));
    TRY(gw_demo_dcm_str(ds, T(0020, 0052), "UI", s->frame_uid, err));
    TRY(gw_demo_dcm_str(ds, T(0020, 1040), "LO", "", err));
    TRY(gw_demo_dcm_str(ds, T(0020, 1041), "DS", loc, err));
    return gw_demo_dcm_str(ds, T(0028, 0030), "DS", "25\\25", err);
}

static int
modality_module(struct gw_demo_dcm *ds, const struct study *s, int inst, struct base_err *err)
{
    const char *m = s->im->modality;

    if (strcmp(m, "CT") == 0) {
        TRY(plane_module(ds, s, inst, err));
        TRY(gw_demo_dcm_str(ds, T(0018, 0060), "DS", "120", err));
        TRY(gw_demo_dcm_str(ds, T(0028, 1050), "DS", "40", err));
        TRY(gw_demo_dcm_str(ds, T(0028, 1051), "DS", "400", err));
        TRY(gw_demo_dcm_str(ds, T(0028, 1052), "DS", "-1024", err));
        TRY(gw_demo_dcm_str(ds, T(0028, 1053), "DS", "1", err));
        return gw_demo_dcm_str(ds, T(0028, 1054), "LO", "HU", err);
    }
    if (strcmp(m, "MR") == 0) {
        TRY(plane_module(ds, s, inst, err));
        TRY(gw_demo_dcm_str(ds, T(0018, 0020), "CS", "SE", err));
        TRY(gw_demo_dcm_str(ds, T(0018, 0021), "CS", "NONE", err));
        TRY(gw_demo_dcm_str(ds, T(0018, 0022), "CS", "", err));
        TRY(gw_demo_dcm_str(ds, T(0018, 0023), "CS", "2D", err));
        TRY(gw_demo_dcm_str(ds, T(0018, 0080), "DS", "500", err));
        TRY(gw_demo_dcm_str(ds, T(0018, 0081), "DS", "15", err));
        TRY(gw_demo_dcm_str(ds, T(0018, 0087), "DS", "1.5", err));
        return gw_demo_dcm_str(ds, T(0018, 0091), "IS", "1", err);
    }
    TRY(gw_demo_dcm_str(ds, T(0020, 0020), "CS", "", err));
    if (strcmp(m, "CR") == 0) {
        TRY(gw_demo_dcm_str(ds, T(0018, 0060), "DS", "110", err));
        return gw_demo_dcm_str(ds, T(0018, 5101), "CS", inst == 1 ? "PA" : "LL", err);
    }
    return gw_demo_dcm_str(ds, T(0028, 2110), "CS", "00", err);
}

/* Image Pixel module: 8x8 MONOCHROME2, 16 bits (12 stored) or 8 for US;
 * a soft disc whose brightness depends on series and instance. */
static int
pixels(struct gw_demo_dcm *ds, const struct study *s, int series, int inst, struct base_err *err)
{
    bool us = strcmp(s->im->modality, "US") == 0;
    uint16_t one = 1;
    uint16_t dim = 8;
    uint16_t bits[3] = {us ? 8 : 16, us ? 8 : 12, us ? 7 : 11};
    uint16_t zero = 0;
    uint8_t px[128];

    for (int y = 0; y < 8; y++) {
        for (int x = 0; x < 8; x++) {
            int d2 = (2 * x - 7) * (2 * x - 7) + (2 * y - 7) * (2 * y - 7);
            int v = d2 < 40 ? 200 + 8 * series + 4 * inst - d2 : 20 + (x + y) % 4;

            if (us) {
                px[y * 8 + x] = (uint8_t)v;
            } else {
                unsigned w = (unsigned)(v * 4 + 824);

                px[2 * (y * 8 + x)] = (uint8_t)(w & 0xFF);
                px[2 * (y * 8 + x) + 1] = (uint8_t)(w >> 8);
            }
        }
    }
    TRY(gw_demo_dcm_us(ds, T(0028, 0002), &one, 1, err));
    TRY(gw_demo_dcm_str(ds, T(0028, 0004), "CS", "MONOCHROME2", err));
    TRY(gw_demo_dcm_us(ds, T(0028, 0010), &dim, 1, err));
    TRY(gw_demo_dcm_us(ds, T(0028, 0011), &dim, 1, err));
    TRY(gw_demo_dcm_us(ds, T(0028, 0100), &bits[0], 1, err));
    TRY(gw_demo_dcm_us(ds, T(0028, 0101), &bits[1], 1, err));
    TRY(gw_demo_dcm_us(ds, T(0028, 0102), &bits[2], 1, err));
    TRY(gw_demo_dcm_us(ds, T(0028, 0103), &zero, 1, err));
    return gw_demo_dcm_bytes(ds, T(7FE0, 0010), us ? "OB" : "OW", px, us ? 64 : 128, err);
}

static int
instance(struct base_arena *a, const struct study *s, int series, int inst, struct base_buf *out,
         struct base_err *err)
{
    struct gw_demo_dcm *ds = gw_demo_dcm_new(a);
    bool volume = strcmp(s->im->modality, "CT") == 0 || strcmp(s->im->modality, "MR") == 0;
    char series_uid[72];
    char sop_uid[72];
    char impl[72];
    char time[16];
    char num[16];
    char inum[16];

    if (ds == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "dicom", "out of memory");
    uid_for(s, "series", series, 0, series_uid);
    uid_for(s, "instance", series, inst, sop_uid);
    demo_uid("fhirgate demo implementation 1", impl);
    snprintf(time, sizeof(time), "%02u%02u%02u", (unsigned)(s->v->minute / 60) % 24u,
             (unsigned)(s->v->minute % 60 + 2 * series) % 60u, (unsigned)inst % 60u);
    snprintf(num, sizeof(num), "%d", series);
    snprintf(inum, sizeof(inum), "%d", inst);
    TRY(patient_module(a, ds, s, err));
    TRY(study_module(ds, s, err));
    TRY(gw_demo_dcm_str(ds, T(0008, 0008), "CS",
                        volume ? "ORIGINAL\\PRIMARY\\AXIAL" : "ORIGINAL\\PRIMARY", err));
    TRY(gw_demo_dcm_str(ds, T(0008, 0012), "DA", s->date, err));
    TRY(gw_demo_dcm_str(ds, T(0008, 0013), "TM", time, err));
    TRY(gw_demo_dcm_str(ds, T(0008, 0016), "UI", sop_class(s->im->modality), err));
    TRY(gw_demo_dcm_str(ds, T(0008, 0018), "UI", sop_uid, err));
    TRY(gw_demo_dcm_str(ds, T(0008, 0021), "DA", s->date, err));
    TRY(gw_demo_dcm_str(ds, T(0008, 0023), "DA", s->date, err));
    TRY(gw_demo_dcm_str(ds, T(0008, 0031), "TM", time, err));
    TRY(gw_demo_dcm_str(ds, T(0008, 0033), "TM", time, err));
    TRY(gw_demo_dcm_str(ds, T(0008, 103E), "LO", s->im->series[series - 1].desc, err));
    TRY(gw_demo_dcm_str(ds, T(0020, 000E), "UI", series_uid, err));
    TRY(gw_demo_dcm_str(ds, T(0020, 0011), "IS", num, err));
    if (volume)
        TRY(gw_demo_dcm_str(ds, T(0020, 0012), "IS", "1", err));
    TRY(gw_demo_dcm_str(ds, T(0020, 0013), "IS", inum, err));
    TRY(modality_module(ds, s, inst, err));
    TRY(pixels(ds, s, series, inst, err));
    return gw_demo_dcm_write(ds, impl, IMPL_NAME, out, err);
}

static int
study(const struct demo_region *r, const struct demo_rec *rec, const struct demo_visit *v,
      struct demo_out *o, size_t *n_files, struct base_err *err)
{
    struct study s = {r, rec, v, &demo_imaging[v->imaging], "", "", "", ""};
    struct base_buf b;
    int rc = BASE_OK;

    uid_for(&s, "study", 0, 0, s.study_uid);
    uid_for(&s, "frame", 0, 0, s.frame_uid);
    snprintf(s.date, sizeof(s.date), "%08d", demo_ymd(v->day));
    snprintf(s.time, sizeof(s.time), "%02d%02d00", v->minute / 60, v->minute % 60);
    base_buf_init(&b, 1u << 20);
    for (int se = 1; se <= 3 && s.im->series[se - 1].desc != NULL && rc == BASE_OK; se++) {
        for (int in = 1; in <= s.im->series[se - 1].instances && rc == BASE_OK; in++) {
            struct base_arena *a = base_arena_new(0);
            char name[128];

            if (a == NULL)
                return base_err_set(err, BASE_E_NOMEM, "exception", "dicom", "out of memory");
            base_buf_reset(&b);
            rc = instance(a, &s, se, in, &b, err);
            base_arena_free(a);
            snprintf(name, sizeof(name), "img-c/dicom/%s/%s/%d_%d.dcm", rec->mrn, v->number, se,
                     in);
            if (rc == BASE_OK)
                rc = demo_write(o, name, b.data, b.len, err);
            (*n_files)++;
        }
    }
    base_buf_fini(&b);
    return rc;
}

int
demo_dicom_write_all(const struct demo_region *r, struct demo_out *o, size_t *n_studies,
                     size_t *n_files, struct base_err *err)
{
    *n_studies = 0;
    *n_files = 0;
    for (size_t i = 0; i < r->n_persons; i++) {
        const struct demo_rec *rec = r->persons[i].rec[DEMO_IMG_C];

        for (size_t v = 0; rec != NULL && v < rec->n_visits; v++) {
            TRY(study(r, rec, &rec->visits[v], o, n_files, err));
            (*n_studies)++;
        }
    }
    return BASE_OK;
}
