/*
 * manifest.json — what a generation holds, for the demo script and the
 * tests: the configuration (enough to regenerate the model, which the live
 * feed does), the members and their identifier systems, the demo users,
 * the consents, the well-known shared patient, counts, and every person
 * with their records (which member, which number, which registration
 * errors, whether the resident identity number is valid, missing or
 * mistyped, and whether the member's format carries it to FHIR at all).
 *
 * Users: names, roles and organizations are here; their passwords are
 * random (OpenSSL RAND_bytes) and go to secrets.json (mode 0600), the one
 * file a generation does not reproduce byte for byte.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "fhir/json/fhir_json.h"
#include "gateway/demo/demo_int.h"
#include "gateway/mpi/gw_mpi_synth.h"

#define OOM(err) base_err_set((err), BASE_E_NOMEM, "exception", "manifest", "out of memory")

static void
date_text(int ymd, char out[16])
{
    if (ymd == 0)
        out[0] = '\0';
    else
        snprintf(out, 16, "%04d-%02d-%02d", ymd / 10000, ymd / 100 % 100, ymd % 100);
}

static json_t *
errors_of(unsigned flags)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{GW_MPI_SYNTH_HOMOPHONE, "homophone"},
                 {GW_MPI_SYNTH_CHAR_TYPO, "char-typo"},
                 {GW_MPI_SYNTH_TRADITIONAL, "traditional"},
                 {GW_MPI_SYNTH_ROMANIZED, "romanized"},
                 {GW_MPI_SYNTH_DATE_SWAP, "date-swap"},
                 {GW_MPI_SYNTH_DATE_TYPO, "date-typo"},
                 {GW_MPI_SYNTH_NO_DATE, "no-birth-date"},
                 {GW_MPI_SYNTH_NO_ID, "no-resident-id"},
                 {GW_MPI_SYNTH_BAD_ID, "invalid-resident-id"},
                 {GW_MPI_SYNTH_NO_PHONE, "no-phone"},
                 {GW_MPI_SYNTH_NEW_PHONE, "new-phone"},
                 {GW_MPI_SYNTH_NO_ADDRESS, "no-address"},
                 {GW_MPI_SYNTH_MOVED, "moved"},
                 {GW_MPI_SYNTH_TWIN, "twin"},
                 {GW_MPI_SYNTH_NAMESAKE, "namesake"}};
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < BASE_ARRAY_LEN(names); i++) {
        if (flags & names[i].bit)
            json_array_append_new(a, json_string(names[i].name));
    }
    return a;
}

static json_t *
sources_of(unsigned s)
{
    json_t *a = json_array();

    if (s & DEMO_SRC_HL7)
        json_array_append_new(a, json_string("hl7v2"));
    if (s & DEMO_SRC_CDA)
        json_array_append_new(a, json_string("cda"));
    if (s & DEMO_SRC_CSV)
        json_array_append_new(a, json_string("csv"));
    if (s & DEMO_SRC_DICOM)
        json_array_append_new(a, json_string("dicom"));
    return a;
}

static const char *
resid_status(enum demo_resid_state s)
{
    return s == DEMO_RESID_VALID ? "valid" : s == DEMO_RESID_INVALID ? "invalid" : "none";
}

static json_t *
record_json(const struct demo_rec *rec)
{
    char system[80];
    char oid[72];
    char birth[16];
    /* HL7 PID-3 and the CDA header carry it; the Synthea CSV layout has no
     * column for it and the DICOM converter reads PatientID only */
    bool carried =
        rec->resid_state != DEMO_RESID_NONE && (rec->sources & (DEMO_SRC_HL7 | DEMO_SRC_CDA)) != 0;

    demo_member_oid(rec->member, DEMO_ARC_PATIENT, oid);
    snprintf(system, sizeof(system), "urn:oid:%s", oid);
    if (rec->member == DEMO_HOSP_B && rec->sources == DEMO_SRC_CSV)
        snprintf(system, sizeof(system), "https://github.com/synthetichealth/synthea");
    date_text(rec->birth, birth);
    return json_pack("{s:s, s:s, s:s, s:s?, s:s, s:b, s:s, s:s?, s:s, s:o, s:o, s:I}", "member",
                     demo_members[rec->member].id, "mrn", rec->mrn, "system", system, "resident_id",
                     rec->resid_state != DEMO_RESID_NONE ? rec->resid : NULL, "resident_id_status",
                     resid_status(rec->resid_state), "resident_id_carried", carried, "name",
                     rec->name.text, "birth_date", birth[0] != '\0' ? birth : NULL, "gender",
                     rec->sex == 'M'   ? "male"
                     : rec->sex == 'F' ? "female"
                                       : "unknown",
                     "errors", errors_of(rec->flags), "sources", sources_of(rec->sources), "visits",
                     (json_int_t)rec->n_visits);
}

static json_t *
person_json(const struct demo_person *p)
{
    char id[16];
    char birth[16];
    json_t *recs = json_array();
    json_t *members = json_array();
    json_t *conds = json_array();

    snprintf(id, sizeof(id), "P%04zu", p->index + 1);
    date_text(p->birth, birth);
    for (int m = 0; m < DEMO_N_MEMBERS; m++) {
        if (p->rec[m] == NULL)
            continue;
        json_array_append_new(recs, record_json(p->rec[m]));
        json_array_append_new(members, json_string(demo_members[m].id));
    }
    for (int k = 0; k < p->n_cond; k++)
        json_array_append_new(conds, json_string(demo_conditions[p->cond[k].ix].icd10));
    return json_pack("{s:s, s:s?, s:s, s:s, s:o, s:b, s:b, s:o, s:o}", "id", id, "resident_id",
                     p->resid[0] != '\0' ? p->resid : NULL, "gender",
                     p->sex == 'M' ? "male" : "female", "birth_date", birth, "members", members,
                     "shared", p->n_rec > 1, "star", p->star, "conditions", conds, "records", recs);
}

static json_t *
member_json(enum demo_member m, size_t records)
{
    static const char *const source[] = {"hl7v2-mllp", "cda+csv", "dicom"};
    static const char *const dirs[] = {"hosp-a/hl7", "hosp-b", "img-c/dicom"};
    char root[72];
    char sys[4][80];

    demo_member_oid(m, 0, root);
    for (int k = 0; k < 4; k++) {
        char oid[72];

        demo_member_oid(m, k + 1, oid);
        snprintf(sys[k], sizeof(sys[k]), "urn:oid:%s", oid);
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:I}", "id",
                     demo_members[m].id, "name", demo_members[m].name, "source", source[m], "dir",
                     dirs[m], "namespace", demo_members[m].namespace, "oid", root,
                     "identifier_systems", "patient", sys[0], "visit", sys[1], "placer_order",
                     sys[2], "filler_order", sys[3], "records", (json_int_t)records);
}

static json_t *
star_json(const struct demo_person *p)
{
    json_t *recs = json_array();
    char birth[16];
    char ident[64];

    date_text(p->birth, birth);
    snprintf(ident, sizeof(ident), "%s|%s", DEMO_RESID_SYSTEM, p->resid);
    for (int m = 0; m < DEMO_N_MEMBERS; m++)
        json_array_append_new(recs, record_json(p->rec[m]));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s, s], s:s, s:o}", "person", "",
                     "resident_id", p->resid, "system", DEMO_RESID_SYSTEM, "identifier", ident,
                     "name", p->rec[DEMO_HOSP_A]->name.text, "birth_date", birth, "gender",
                     p->sex == 'M' ? "male" : "female", "trend_loinc",
                     demo_labs[DEMO_L_HBA1C].loinc, demo_labs[DEMO_L_CREATININE].loinc,
                     "withheld_label", "PSY", "records", recs);
}

/* ------------------------------------------------------------- users -- */

struct user {
    const char *name;
    const char *role;
    int member; /* clinicians: their member; -1 otherwise */
};

static const struct user users[] = {
    {"doctor-a", "clinician", DEMO_HOSP_A},
    {"doctor-b", "clinician", DEMO_HOSP_B},
    {"doctor-c", "clinician", DEMO_IMG_C},
    {"regulator", "regulator", -1},
    {"admin", "admin", -1},
    {"patient", "patient", -1},
};

static json_t *
user_json(const struct demo_region *r, const struct user *u)
{
    char display[96];

    if (u->member >= 0) {
        const struct demo_staff *s = &r->staff[u->member][0];

        snprintf(display, sizeof(display), "%s%s 医生", s->family, s->given);
        return json_pack("{s:s, s:s, s:s, s:s}", "name", u->name, "role", u->role, "display_name",
                         display, "organization", demo_members[u->member].id);
    }
    if (strcmp(u->role, "patient") == 0)
        return json_pack("{s:s, s:s, s:s, s:s}", "name", u->name, "role", u->role, "display_name",
                         r->star->rec[DEMO_HOSP_A]->name.text, "resident_id", r->star->resid);
    return json_pack("{s:s, s:s, s:s}", "name", u->name, "role", u->role, "display_name",
                     strcmp(u->role, "admin") == 0 ? "区域平台管理员" : "卫生健康委员会监管员");
}

/* 20 characters from a 32-letter alphabet without look-alikes: 100 bits. */
static int
password(char out[21])
{
    static const char alphabet[] = "abcdefghjkmnpqrstuvwxyz23456789AB";
    unsigned char raw[20];

    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return BASE_E_INTERNAL;
    for (size_t i = 0; i < sizeof(raw); i++)
        out[i] = alphabet[raw[i] % 32];
    out[20] = '\0';
    return BASE_OK;
}

int
demo_users_write(const struct demo_region *r, struct demo_out *o, json_t *list,
                 struct base_err *err)
{
    json_t *secrets = json_array();
    struct base_buf b;
    char path[4096];
    int rc = BASE_OK;

    for (size_t i = 0; i < BASE_ARRAY_LEN(users) && rc == BASE_OK; i++) {
        char pw[21];

        if (password(pw) != BASE_OK)
            rc = base_err_set(err, BASE_E_INTERNAL, "exception", "secrets.json",
                              "no random bytes for the passwords");
        else if (json_array_append_new(list, user_json(r, &users[i])) != 0 ||
                 json_array_append_new(
                     secrets, json_pack("{s:s, s:s}", "name", users[i].name, "password", pw)) != 0)
            rc = OOM(err);
    }
    base_buf_init(&b, 1u << 20);
    if (rc == BASE_OK) {
        json_t *doc = json_pack("{s:o}", "users", secrets);

        secrets = NULL;
        rc = doc != NULL ? fhir_json_dump(doc, FHIR_JSON_PRETTY, &b, err) : OOM(err);
        json_decref(doc);
    }
    /* the file is created 0600 before a byte of it is written */
    snprintf(path, sizeof(path), "%s/secrets.json", o->dir);
    if (rc == BASE_OK) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (fd < 0 || fchmod(fd, 0600) != 0 || write(fd, b.data, b.len) != (ssize_t)b.len)
            rc = base_err_set(err, BASE_E_IO, "exception", "secrets.json", "could not write");
        if (fd >= 0 && close(fd) != 0 && rc == BASE_OK)
            rc = base_err_set(err, BASE_E_IO, "exception", "secrets.json", "could not write");
    }
    json_decref(secrets);
    base_buf_fini(&b);
    return rc;
}

/* ---------------------------------------------------------- manifest -- */

static json_t *
counts_json(const struct gw_demo_summary *s)
{
    return json_pack("{s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:I, s:I, s:I, s:I, s:I, s:I}", "patients",
                     (json_int_t)s->patients, "shared", (json_int_t)s->shared, "at_three",
                     (json_int_t)s->at_three, "records", "hosp-a", (json_int_t)s->records[0],
                     "hosp-b", (json_int_t)s->records[1], "img-c", (json_int_t)s->records[2],
                     "hl7_messages", (json_int_t)s->hl7_messages, "cda_documents",
                     (json_int_t)s->cda_documents, "csv_rows", (json_int_t)s->csv_rows,
                     "dicom_studies", (json_int_t)s->dicom_studies, "dicom_files",
                     (json_int_t)s->dicom_files, "consents", (json_int_t)s->consents);
}

static json_t *
build(const struct demo_region *r, json_t *consents, json_t *users_list,
      const struct gw_demo_summary *s)
{
    json_t *persons = json_array();
    json_t *members = json_array();
    json_t *star = star_json(r->star);
    char as_of[16];
    char pid[16];

    date_text(r->cfg.as_of, as_of);
    snprintf(pid, sizeof(pid), "P%04zu", r->star->index + 1);
    json_object_set_new(star, "person", json_string(pid));
    for (size_t i = 0; i < r->n_persons; i++)
        json_array_append_new(persons, person_json(&r->persons[i]));
    for (int m = 0; m < DEMO_N_MEMBERS; m++)
        json_array_append_new(members, member_json((enum demo_member)m, s->records[m]));
    return json_pack("{s:s, s:i, s:{s:I, s:s, s:I}, s:s, s:o, s:o, s:s, s:O, s:o, s:o, s:o}",
                     "generator", "fhirgate demo-data", "format", 1, "config", "seed",
                     (json_int_t)r->cfg.seed, "as_of", as_of, "people", (json_int_t)r->cfg.n_people,
                     "resident_id_system", DEMO_RESID_SYSTEM, "members", members, "users",
                     users_list, "secrets", "secrets.json", "consents", consents, "shared_patient",
                     star, "counts", counts_json(s), "patients", persons);
}

int
demo_manifest_write(const struct demo_region *r, struct demo_out *o, json_t *consents,
                    const struct gw_demo_summary *s, struct base_err *err)
{
    json_t *users_list = json_array();
    json_t *doc;
    struct base_buf b;
    int rc;

    if (users_list == NULL)
        return OOM(err);
    rc = demo_users_write(r, o, users_list, err);
    if (rc != BASE_OK) {
        json_decref(users_list);
        return rc;
    }
    doc = build(r, consents, users_list, s);
    if (doc == NULL)
        return OOM(err);
    base_buf_init(&b, 64u << 20);
    rc = fhir_json_dump(doc, FHIR_JSON_PRETTY, &b, err);
    if (rc == BASE_OK)
        rc = demo_write(o, "manifest.json", b.data, b.len, err);
    base_buf_fini(&b);
    json_decref(doc);
    return rc;
}
