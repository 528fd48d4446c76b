/*
 * The demo region's data: determinism, the counts issue #8 asks for, the
 * resident identity numbers, hosp-a's HL7 v2 messages (structure, and the
 * HL7 v2 converter when it is part of the build), the consents against the
 * gateway's policy, and the well-known shared patient.
 */
#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fhir/base/arena.h"
#include "fhir/validate/fhir_validate.h"
#include "gateway/mpi/gw_mpi.h"
#include "gateway/policy/gw_policy.h"
#include "test/support/tu_dicom.h"
#define DEMO_TEST_ONE_GENERATION
#include "test/unit/gateway/demo/demo_test.h"

#if defined(__has_include)
#if __has_include("adapters/hl7v2/hl7v2_map.h")
#include "adapters/hl7v2/hl7v2.h"
#include "adapters/hl7v2/hl7v2_map.h"
#define HAVE_HL7V2 1
#endif
#endif

/* ---------------------------------------------------------- file trees -- */

static char **tree;
static size_t tree_n;
static size_t tree_root;

static int
collect(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_F) {
        tree = realloc(tree, (tree_n + 1) * sizeof(*tree));
        tree[tree_n++] = strdup(path + tree_root);
    }
    return 0;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **
list_tree(const char *root, size_t *n)
{
    tree = NULL;
    tree_n = 0;
    tree_root = strlen(root);
    ck_assert_int_eq(nftw(root, collect, 16, FTW_PHYS), 0);
    qsort(tree, tree_n, sizeof(*tree), cmp_str);
    *n = tree_n;
    return tree;
}

static void
free_tree(char **t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(t[i]);
    free(t);
}

static bool
same_file(const char *a, const char *b)
{
    size_t la = 0;
    size_t lb = 0;
    char *da = tu_read_file(a, &la);
    char *db = tu_read_file(b, &lb);
    bool same = da != NULL && db != NULL && la == lb && memcmp(da, db, la) == 0;

    free(da);
    free(db);
    return same;
}

START_TEST(same_seed_same_bytes)
{
    char again[256];
    char other[256];
    struct gw_demo_summary s2;
    size_t na;
    size_t nb;
    char **a;
    char **b;

    demo_test_generate(GW_DEMO_DEFAULT_SEED, again, &s2);
    a = list_tree(dir, &na);
    b = list_tree(again, &nb);
    ck_assert_uint_eq(na, nb);
    ck_assert_uint_gt(na, 1000);
    for (size_t i = 0; i < na; i++) {
        char pa[1024];
        char pb[1024];

        ck_assert_str_eq(a[i], b[i]);
        if (strcmp(a[i], "/secrets.json") == 0)
            continue; /* random passwords, by design */
        snprintf(pa, sizeof(pa), "%s%s", dir, a[i]);
        snprintf(pb, sizeof(pb), "%s%s", again, b[i]);
        ck_assert_msg(same_file(pa, pb), "%s differs between two runs", a[i]);
    }
    free_tree(a, na);
    free_tree(b, nb);
    /* generating again into the same folder replaces it cleanly */
    {
        struct gw_demo_config cfg = gw_demo_config_default();
        struct base_err err = {0};
        char pa[1024];
        char pb[1024];

        ck_assert_int_eq(gw_demo_generate(&cfg, again, &s2, &err), BASE_OK);
        snprintf(pa, sizeof(pa), "%s/manifest.json", dir);
        snprintf(pb, sizeof(pb), "%s/manifest.json", again);
        ck_assert(same_file(pa, pb));
    }
    demo_test_rmdir(again);
    /* another seed, other people */
    demo_test_generate(GW_DEMO_DEFAULT_SEED + 1, other, &s2);
    ck_assert_str_ne(s2.shared_resident_id, sum.shared_resident_id);
    demo_test_rmdir(other);
}
END_TEST

START_TEST(refuses_a_foreign_folder)
{
    char d[256];
    char f[300];
    struct gw_demo_config cfg = gw_demo_config_default();
    struct gw_demo_summary s;
    struct base_err err = {0};
    FILE *fp;

    demo_test_tmpdir(d);
    snprintf(f, sizeof(f), "%s/notes.txt", d);
    fp = fopen(f, "w");
    fputs("keep me\n", fp);
    fclose(fp);
    ck_assert_int_eq(gw_demo_generate(&cfg, d, &s, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.where, "--out");
    ck_assert_int_eq(access(f, F_OK), 0); /* nothing deleted */
    cfg.n_people = 10;
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(gw_demo_generate(&cfg, d, &s, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.where, "--people");
    cfg = gw_demo_config_default();
    cfg.as_of = 20260231;
    ck_assert_int_eq(gw_demo_generate(&cfg, d, &s, &err), BASE_E_INVALID);
    demo_test_rmdir(d);
}
END_TEST

/* ----------------------------------------------------------- manifest -- */

START_TEST(counts)
{
    json_t *m = demo_test_manifest(dir);
    json_t *c = json_object_get(m, "counts");
    json_t *people = json_object_get(m, "patients");
    size_t shared = 0;
    size_t three = 0;

    ck_assert_int_ge(json_integer_value(json_object_get(c, "patients")), 300);
    ck_assert_int_ge(json_integer_value(json_object_get(c, "shared")), 60);
    ck_assert_int_ge(json_integer_value(json_object_get(c, "at_three")), 1);
    ck_assert_uint_eq(json_array_size(people), sum.patients);
    for (size_t i = 0; i < json_array_size(people); i++) {
        size_t n = json_array_size(json_object_get(json_array_get(people, i), "records"));

        shared += n > 1;
        three += n == 3;
    }
    ck_assert_uint_eq(shared, sum.shared);
    ck_assert_uint_eq(three, sum.at_three);
    ck_assert_int_eq(json_integer_value(json_object_get(c, "hl7_messages")),
                     (json_int_t)sum.hl7_messages);
    ck_assert_uint_gt(sum.cda_documents, 100);
    ck_assert_uint_gt(sum.csv_rows, 1000);
    ck_assert_uint_gt(sum.dicom_studies, 50);
    ck_assert_uint_eq(sum.consents, 6);
    /* sensitive diagnoses for the consent and label features */
    {
        static const char *const sensitive[] = {"F32.9", "F10.2", "B20"};

        for (size_t k = 0; k < BASE_ARRAY_LEN(sensitive); k++) {
            size_t n = 0;

            for (size_t i = 0; i < json_array_size(people); i++) {
                json_t *conds = json_object_get(json_array_get(people, i), "conditions");

                for (size_t j = 0; j < json_array_size(conds); j++)
                    n += strcmp(json_string_value(json_array_get(conds, j)), sensitive[k]) == 0;
            }
            ck_assert_msg(n >= 2, "%zu people with %s", n, sensitive[k]);
        }
    }
    json_decref(m);
}
END_TEST

START_TEST(resident_ids)
{
    json_t *m = demo_test_manifest(dir);
    json_t *people = json_object_get(m, "patients");
    size_t valid = 0;
    size_t invalid = 0;
    size_t none = 0;

    for (size_t i = 0; i < json_array_size(people); i++) {
        json_t *p = json_array_get(people, i);
        json_t *recs = json_object_get(p, "records");
        const char *truth = json_string_value(json_object_get(p, "resident_id"));
        struct gw_mpi_resid r;

        if (truth != NULL)
            ck_assert_int_eq(gw_mpi_resid_parse(truth, strlen(truth), 20261031, &r, NULL), BASE_OK);
        for (size_t k = 0; k < json_array_size(recs); k++) {
            json_t *rec = json_array_get(recs, k);
            const char *st = json_string_value(json_object_get(rec, "resident_id_status"));
            const char *id = json_string_value(json_object_get(rec, "resident_id"));
            int rc = id != NULL ? gw_mpi_resid_parse(id, strlen(id), 20261031, &r, NULL) : 1;

            if (strcmp(st, "valid") == 0) {
                ck_assert_int_eq(rc, BASE_OK);
                valid++;
            } else if (strcmp(st, "invalid") == 0) {
                ck_assert_int_eq(rc, BASE_E_INVALID);
                invalid++;
            } else {
                ck_assert_ptr_null(id);
                none++;
            }
        }
    }
    /* every kind is there: the patient index has real work */
    ck_assert_uint_gt(valid, 200);
    ck_assert_uint_gt(invalid, 3);
    ck_assert_uint_gt(none, 30);
    json_decref(m);
}
END_TEST

START_TEST(registration_errors)
{
    json_t *m = demo_test_manifest(dir);
    json_t *people = json_object_get(m, "patients");
    static const char *const want[] = {"homophone",      "date-swap",           "date-typo",
                                       "no-resident-id", "invalid-resident-id", "romanized",
                                       "no-birth-date"};
    size_t seen[BASE_ARRAY_LEN(want)] = {0};
    size_t shared_with_missing_id = 0;

    for (size_t i = 0; i < json_array_size(people); i++) {
        json_t *recs = json_object_get(json_array_get(people, i), "records");
        bool any_none = false;
        bool any_valid = false;

        for (size_t k = 0; k < json_array_size(recs); k++) {
            json_t *rec = json_array_get(recs, k);
            json_t *errs = json_object_get(rec, "errors");
            const char *st = json_string_value(json_object_get(rec, "resident_id_status"));

            any_none |= strcmp(st, "none") == 0;
            any_valid |= strcmp(st, "valid") == 0;
            for (size_t e = 0; e < json_array_size(errs); e++) {
                for (size_t w = 0; w < BASE_ARRAY_LEN(want); w++)
                    seen[w] += strcmp(json_string_value(json_array_get(errs, e)), want[w]) == 0;
            }
        }
        shared_with_missing_id += json_array_size(recs) > 1 && any_none && any_valid;
    }
    for (size_t w = 0; w < BASE_ARRAY_LEN(want); w++)
        ck_assert_msg(seen[w] > 0, "no record with %s", want[w]);
    /* a missing resident id at one member of a shared person */
    ck_assert_uint_gt(shared_with_missing_id, 3);
    json_decref(m);
}
END_TEST

START_TEST(users_and_secrets)
{
    json_t *m = demo_test_manifest(dir);
    json_t *users = json_object_get(m, "users");
    char path[512];
    struct stat st;
    size_t len = 0;
    char *text;
    json_t *sec = NULL;
    const char *roles[] = {"clinician", "clinician", "clinician", "regulator", "admin", "patient"};

    ck_assert_uint_eq(json_array_size(users), 6);
    for (size_t i = 0; i < 6; i++)
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(users, i), "role")),
                         roles[i]);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(users, 5), "resident_id")),
                     sum.shared_resident_id);
    snprintf(path, sizeof(path), "%s/secrets.json", dir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    text = tu_read_file(path, &len);
    ck_assert_int_eq(fhir_json_parse(text, len, NULL, &sec, NULL), BASE_OK);
    for (size_t i = 0; i < 6; i++) {
        json_t *u = json_array_get(json_object_get(sec, "users"), i);

        ck_assert_str_eq(json_string_value(json_object_get(u, "name")),
                         json_string_value(json_object_get(json_array_get(users, i), "name")));
        ck_assert_uint_ge(strlen(json_string_value(json_object_get(u, "password"))), 12);
    }
    /* no password in the manifest */
    {
        char mpath[512];
        size_t mlen = 0;
        char *mtext;

        snprintf(mpath, sizeof(mpath), "%s/manifest.json", dir);
        mtext = tu_read_file(mpath, &mlen);
        for (size_t i = 0; i < 6; i++) {
            json_t *u = json_array_get(json_object_get(sec, "users"), i);

            ck_assert_ptr_null(strstr(mtext, json_string_value(json_object_get(u, "password"))));
        }
        free(mtext);
    }
    free(text);
    json_decref(sec);
    json_decref(m);
}
END_TEST

/* ----------------------------------------------------------- HL7 v2 -- */

struct hl7_check {
    json_t *by_mrn; /* mrn -> manifest record */
    json_t *ids;    /* control ids seen */
    char last_ts[32];
    unsigned kinds;
};

static size_t
split(char *s, char sep, char **out, size_t max)
{
    size_t n = 0;

    out[n++] = s;
    for (char *p = s; *p != '\0' && n < max; p++) {
        if (*p == sep) {
            *p = '\0';
            out[n++] = p + 1;
        }
    }
    return n;
}

static bool
utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t k = s[i] < 0x80         ? 1
                   : (s[i] >> 5) == 6  ? 2
                   : (s[i] >> 4) == 14 ? 3
                   : (s[i] >> 3) == 30 ? 4
                                       : 0;

        if (k == 0 || i + k > n)
            return false;
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
        }
        i += k;
    }
    return true;
}

static void
check_msh(struct hl7_check *c, char *seg, size_t index)
{
    static const char *const types[] = {"ADT^A04^ADT_A01", "ADT^A01^ADT_A01", "ADT^A08^ADT_A01",
                                        "ADT^A03^ADT_A03", "ORU^R01^ORU_R01", "RDE^O11^RDE_O11",
                                        "VXU^V04^VXU_V04"};
    char *f[32];
    size_t n = split(seg, '|', f, 32);
    char want[24];
    bool known = false;

    ck_assert_uint_ge(n, 18);
    ck_assert_str_eq(f[1], "^~\\&");
    ck_assert_str_eq(f[3], "HOSPA");
    ck_assert_uint_eq(strlen(f[6]), 19); /* YYYYMMDDHHMMSS+0800 */
    ck_assert_str_eq(f[6] + 14, "+0800");
    ck_assert_int_ge(strcmp(f[6], c->last_ts), 0); /* in time order */
    snprintf(c->last_ts, sizeof(c->last_ts), "%s", f[6]);
    for (size_t i = 0; i < BASE_ARRAY_LEN(types); i++) {
        if (strcmp(f[8], types[i]) == 0) {
            known = true;
            c->kinds |= 1u << i;
        }
    }
    ck_assert_msg(known, "message %zu: type %s", index, f[8]);
    snprintf(want, sizeof(want), "HA%08zu", index);
    ck_assert_str_eq(f[9], want);
    ck_assert_str_eq(f[11], "2.5");
    ck_assert_str_eq(f[14], ""); /* original acknowledgement mode */
    ck_assert_str_eq(f[15], "");
    ck_assert_str_eq(f[16], "CHN");
    ck_assert_str_eq(f[17], "UNICODE UTF-8");
}

static void
check_pid(struct hl7_check *c, char *seg)
{
    char *f[32];
    char *rep[4];
    char *cx[8];
    size_t n = split(seg, '|', f, 32);
    size_t nrep;
    json_t *rec;
    const char *status;
    struct gw_mpi_resid r;

    ck_assert_uint_ge(n, 9);
    nrep = split(f[3], '~', rep, 4);
    ck_assert_uint_eq(split(rep[0], '^', cx, 8), 5);
    ck_assert_str_eq(cx[4], "MR");
    ck_assert(strncmp(cx[3], "HOSPA&2.25.", 11) == 0);
    rec = json_object_get(c->by_mrn, cx[0]);
    ck_assert_ptr_nonnull(rec);
    status = json_string_value(json_object_get(rec, "resident_id_status"));
    ck_assert_uint_eq(nrep, strcmp(status, "none") == 0 ? 1 : 2);
    if (nrep == 2) {
        ck_assert_uint_eq(split(rep[1], '^', cx, 8), 5);
        ck_assert_str_eq(cx[3], "&2.16.156.10011.1.3&ISO");
        ck_assert_str_eq(cx[4], "NNCHN");
        ck_assert_int_eq(gw_mpi_resid_parse(cx[0], strlen(cx[0]), 20261031, &r, NULL),
                         strcmp(status, "valid") == 0 ? BASE_OK : BASE_E_INVALID);
    }
    ck_assert(f[5][0] != '\0' && f[5][0] != '^'); /* a name */
    ck_assert(strcmp(f[8], "M") == 0 || strcmp(f[8], "F") == 0 || strcmp(f[8], "U") == 0);
}

static void
check_obx(char *seg)
{
    static const char *const units[] = {"%",   "mmol/L", "umol/L", "mL/min/{1.73_m2}",
                                        "g/L", "10*9/L", "U/L",    "m[IU]/L"};
    char *f[20];
    char *u[4];
    size_t n = split(seg, '|', f, 20);
    char *end;
    double v;
    double lo = 0;
    double hi = 0;
    bool unit_ok = false;

    ck_assert_uint_ge(n, 15);
    ck_assert_str_eq(f[2], "NM");
    ck_assert(strstr(f[3], "^LN") != NULL);
    v = strtod(f[5], &end);
    ck_assert_msg(*end == '\0' && end != f[5], "OBX-5 not a number");
    ck_assert_uint_eq(split(f[6], '^', u, 4), 3);
    ck_assert_str_eq(u[2], "UCUM");
    for (size_t i = 0; i < BASE_ARRAY_LEN(units); i++)
        unit_ok |= strcmp(u[0], units[i]) == 0;
    ck_assert(unit_ok);
    /* OBX-8 agrees with OBX-7 */
    if (sscanf(f[7], "%lf-%lf", &lo, &hi) == 2)
        ck_assert(strcmp(f[8], "N") == 0 ? v >= lo && v <= hi
                  : v < lo               ? f[8][0] == 'L'
                                         : f[8][0] == 'H');
    else if (f[7][0] == '<')
        ck_assert(v > strtod(f[7] + 1, NULL) ? f[8][0] == 'H' : strcmp(f[8], "N") == 0);
    else
        ck_assert(f[7][0] == '>' &&
                  (v < strtod(f[7] + 1, NULL) ? f[8][0] == 'L' : strcmp(f[8], "N") == 0));
    ck_assert_str_eq(f[11], "F");
}

static void
check_message(struct hl7_check *c, char *msg, size_t len, size_t index)
{
    char *segs[256];
    size_t n;
    size_t pids = 0;

    ck_assert(utf8_ok((const unsigned char *)msg, len));
    ck_assert(len > 0 && msg[len - 1] == '\r' && memchr(msg, '\n', len) == NULL);
    msg[len - 1] = '\0';
    n = split(msg, '\r', segs, 256);
    ck_assert(strncmp(segs[0], "MSH|", 4) == 0);
    for (size_t i = 0; i < n; i++) {
        const char *s = segs[i];

        ck_assert(s[0] >= 'A' && s[0] <= 'Z' && s[3] == '|');
        if (strncmp(s, "MSH", 3) == 0)
            check_msh(c, segs[i], index);
        else if (strncmp(s, "PID", 3) == 0) {
            check_pid(c, segs[i]);
            pids++;
        } else if (strncmp(s, "OBX", 3) == 0)
            check_obx(segs[i]);
    }
    ck_assert_uint_eq(pids, 1);
}

static json_t *
records_by_mrn(json_t *m, const char *member)
{
    json_t *by = json_object();
    json_t *people = json_object_get(m, "patients");

    for (size_t i = 0; i < json_array_size(people); i++) {
        json_t *recs = json_object_get(json_array_get(people, i), "records");

        for (size_t k = 0; k < json_array_size(recs); k++) {
            json_t *rec = json_array_get(recs, k);

            if (strcmp(json_string_value(json_object_get(rec, "member")), member) == 0)
                json_object_set(by, json_string_value(json_object_get(rec, "mrn")), rec);
        }
    }
    return by;
}

START_TEST(hl7_messages)
{
    json_t *m = demo_test_manifest(dir);
    struct hl7_check c = {records_by_mrn(m, "hosp-a"), NULL, "", 0};
    char hl7dir[300];
    size_t n = 0;
    char **files;

    snprintf(hl7dir, sizeof(hl7dir), "%s/hosp-a/hl7", dir);
    files = tu_list_dir(hl7dir, ".hl7", &n);
    ck_assert_uint_eq(n, sum.hl7_messages);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        char *msg = tu_read_file(files[i], &len);

        check_message(&c, msg, len, i + 1);
        free(msg);
    }
    ck_assert_uint_eq(c.kinds, 0x7F); /* every message type */
    tu_free_list(files);
    json_decref(c.by_mrn);
    json_decref(m);
}
END_TEST

#ifdef HAVE_HL7V2
/* Every message through the HL7 v2 converter; every resource valid. */
START_TEST(hl7_messages_convert)
{
    char hl7dir[300];
    size_t n = 0;
    char **files;
    struct hl7v2_limits lim = HL7V2_LIMITS_DEFAULT;
    size_t resources = 0;

    snprintf(hl7dir, sizeof(hl7dir), "%s/hosp-a/hl7", dir);
    files = tu_list_dir(hl7dir, ".hl7", &n);
    for (size_t i = 0; i < n; i++) {
        struct base_arena *a = base_arena_new(0);
        struct hl7v2_bundle *b = NULL;
        struct base_err err = {0};
        json_t *bundle = NULL;
        size_t len = 0;
        char *msg = tu_read_file(files[i], &len);

        ck_assert_msg(hl7v2_convert(a, msg, len, &lim, NULL, NULL, &b, &err) == BASE_OK,
                      "%s: %s: %s", files[i], err.where, err.msg);
        for (size_t w = 0; w < b->nwarnings; w++)
            ck_assert_msg(strstr(b->warnings[w].msg, "GB 11643") != NULL, "%s: %s: %s", files[i],
                          b->warnings[w].where, b->warnings[w].msg);
        ck_assert_int_eq(hl7v2_bundle_tree(b, &bundle, &err), BASE_OK);
        for (size_t e = 0; e < json_array_size(json_object_get(bundle, "entry")); e++) {
            json_t *res =
                json_object_get(json_array_get(json_object_get(bundle, "entry"), e), "resource");

            ck_assert_msg(fhir_validate(res, NULL, NULL, NULL, &err) == BASE_OK, "%s: %s: %s",
                          files[i], err.where, err.msg);
            resources++;
        }
        json_decref(bundle);
        free(msg);
        base_arena_free(a);
    }
    ck_assert_uint_gt(resources, n * 3);
    tu_free_list(files);
}
END_TEST
#endif

/* ----------------------------------------------------------- consents -- */

static json_t *
read_json(const char *path)
{
    size_t len = 0;
    char *text = tu_read_file(path, &len);
    json_t *doc = NULL;

    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(fhir_json_parse(text, len, NULL, &doc, NULL), BASE_OK);
    free(text);
    return doc;
}

static void
check_consent(json_t *c, const char *kind)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_policy_consent *pc = NULL;
    struct gw_policy_request req = {
        .role = GW_AUTH_ROLE_CLINICIAN, .org_is_active_member = true, .pou = GW_AUTH_POU_TREAT};
    struct gw_policy_decision d;
    struct base_str psy = BASE_STR_LIT("PSY");
    const json_t *one[1] = {c};
    struct base_err err = {0};

    ck_assert_msg(fhir_validate(c, NULL, NULL, NULL, &err) == BASE_OK, "%s: %s", err.where,
                  err.msg);
    ck_assert_int_eq(gw_policy_consent_compile(a, one, 1, 1790000000000000, &pc, &err), BASE_OK);
    gw_policy_decide(&req, pc, &d);
    if (strcmp(kind, "opt-out") == 0) {
        ck_assert(gw_policy_consent_opts_out(pc));
        ck_assert_int_eq(d.verdict, GW_POLICY_DENY);
        ck_assert_int_eq(d.reason, GW_POLICY_R_CONSENT);
    } else if (strcmp(kind, "deny-member") == 0) {
        ck_assert_int_ne(d.verdict, GW_POLICY_DENY);
        ck_assert(gw_policy_member_denied(pc, &d, BASE_STR_LIT("hosp-b")));
        ck_assert(!gw_policy_member_denied(pc, &d, BASE_STR_LIT("hosp-a")));
    } else {
        ck_assert_int_ne(d.verdict, GW_POLICY_DENY);
        ck_assert(!gw_policy_entry_allowed(pc, &d, BASE_STR_LIT("hosp-b"),
                                           BASE_STR_LIT("Condition"), &psy, 1));
        ck_assert(gw_policy_entry_allowed(pc, &d, BASE_STR_LIT("hosp-b"), BASE_STR_LIT("Condition"),
                                          NULL, 0));
    }
    base_arena_free(a);
}

START_TEST(consents)
{
    json_t *m = demo_test_manifest(dir);
    json_t *list = json_object_get(m, "consents");
    size_t kinds[4] = {0};
    static const char *const names[] = {"opt-out", "deny-member", "deny-label",
                                        "shared-patient-deny-label"};

    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *e = json_array_get(list, i);
        const char *kind = json_string_value(json_object_get(e, "kind"));
        char path[600];
        json_t *c;

        snprintf(path, sizeof(path), "%s/%s", dir, json_string_value(json_object_get(e, "file")));
        c = read_json(path);
        ck_assert_str_eq(
            json_string_value(json_object_get(
                json_object_get(json_object_get(c, "patient"), "identifier"), "value")),
            json_string_value(json_object_get(e, "resident_id")));
        check_consent(c, kind);
        for (size_t k = 0; k < 4; k++)
            kinds[k] += strcmp(kind, names[k]) == 0;
        json_decref(c);
    }
    ck_assert_uint_eq(kinds[0], 3);
    ck_assert_uint_eq(kinds[1], 1);
    ck_assert_uint_eq(kinds[2], 1);
    ck_assert_uint_eq(kinds[3], 1);
    json_decref(m);
}
END_TEST

/* ---------------------------------------------------- the shared patient -- */

/* hosp-b: a discharge summary and HbA1c + creatinine results over years. */
static void
shared_patient_hosp_b(const char *mrn)
{
    char cdadir[300];
    char needle[64];
    char **files;
    size_t n = 0;
    size_t with_trends = 0;
    size_t discharge = 0;
    int first_year = 9999;
    int last_year = 0;

    snprintf(cdadir, sizeof(cdadir), "%s/hosp-b/cda", dir);
    snprintf(needle, sizeof(needle), "extension=\"%s\"", mrn);
    files = tu_list_dir(cdadir, ".xml", &n);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        char *xml = tu_read_file(files[i], &len);
        const char *t;
        int y = 0;

        if (strstr(xml, needle) != NULL && strstr(xml, "code=\"4548-4\"") != NULL &&
            strstr(xml, "code=\"14682-9\"") != NULL &&
            (t = strstr(xml, "<effectiveTime value=\"")) != NULL &&
            sscanf(t + strlen("<effectiveTime value=\""), "%4d", &y) == 1) {
            with_trends++;
            discharge += strstr(files[i], "-CYXJ.xml") != NULL;
            first_year = y < first_year ? y : first_year;
            last_year = y > last_year ? y : last_year;
        }
        free(xml);
    }
    tu_free_list(files);
    ck_assert_uint_ge(with_trends, 6);
    ck_assert_uint_eq(discharge, 1);
    ck_assert_int_ge(last_year - first_year, 4);
}

/* img-c: a CT study among the patient's studies. */
static void
shared_patient_img_c(const char *mrn)
{
    char pdir[300];
    DIR *d;
    struct dirent *e;
    bool ct = false;

    snprintf(pdir, sizeof(pdir), "%s/img-c/dicom/%s", dir, mrn);
    d = opendir(pdir);
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) {
        char f[600];
        size_t len = 0;
        char *data;
        char mod[16];

        if (e->d_name[0] == '.')
            continue;
        snprintf(f, sizeof(f), "%s/%s/1_1.dcm", pdir, e->d_name);
        data = tu_read_file(f, &len);
        ck_assert_ptr_nonnull(data);
        ct |= tu_dcm_string((const uint8_t *)data, len, 0x00080060, mod, sizeof(mod)) &&
              strcmp(mod, "CT") == 0;
        free(data);
    }
    closedir(d);
    ck_assert(ct);
}

START_TEST(shared_patient)
{
    json_t *m = demo_test_manifest(dir);
    json_t *star = json_object_get(m, "shared_patient");
    json_t *recs = json_object_get(star, "records");
    const char *mrn_a = NULL;
    char hl7dir[300];
    char **files;
    size_t n = 0;
    int first_year = 9999;
    int last_year = 0;
    size_t hba1c = 0;

    ck_assert_str_eq(json_string_value(json_object_get(star, "resident_id")),
                     sum.shared_resident_id);
    ck_assert_uint_eq(json_array_size(recs), 3);
    for (size_t k = 0; k < 3; k++) {
        json_t *r = json_array_get(recs, k);

        ck_assert_str_eq(json_string_value(json_object_get(r, "resident_id_status")), "valid");
        if (strcmp(json_string_value(json_object_get(r, "member")), "hosp-a") == 0)
            mrn_a = json_string_value(json_object_get(r, "mrn"));
    }
    /* an HbA1c trend over years at hosp-a */
    snprintf(hl7dir, sizeof(hl7dir), "%s/hosp-a/hl7", dir);
    files = tu_list_dir(hl7dir, ".hl7", &n);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        char *msg = tu_read_file(files[i], &len);
        const char *obx;

        if (strstr(msg, mrn_a) != NULL && strstr(msg, "ORU^R01") != NULL &&
            (obx = strstr(msg, "OBX|1|NM|4548-4^")) != NULL) {
            int y = 0;

            const char *ts = strstr(msg, "|LIS|HOSPA|FHIRGATE|REGION|");

            ck_assert_int_eq(sscanf(ts + strlen("|LIS|HOSPA|FHIRGATE|REGION|"), "%4d", &y), 1);

            first_year = y < first_year ? y : first_year;
            last_year = y > last_year ? y : last_year;
            hba1c++;
        }
        free(msg);
    }
    tu_free_list(files);
    ck_assert_uint_ge(hba1c, 8);
    ck_assert_int_ge(last_year - first_year, 4);
    shared_patient_hosp_b(json_string_value(json_object_get(json_array_get(recs, 1), "mrn")));
    shared_patient_img_c(json_string_value(json_object_get(json_array_get(recs, 2), "mrn")));
    json_decref(m);
}
END_TEST

Suite *
demo_data_suite(void)
{
    Suite *s = suite_create("demo_data");
    TCase *tc = tcase_create("generation");

    tcase_add_unchecked_fixture(tc, setup_once, teardown_once);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, same_seed_same_bytes);
    tcase_add_test(tc, refuses_a_foreign_folder);
    tcase_add_test(tc, counts);
    tcase_add_test(tc, resident_ids);
    tcase_add_test(tc, registration_errors);
    tcase_add_test(tc, users_and_secrets);
    tcase_add_test(tc, hl7_messages);
#ifdef HAVE_HL7V2
    tcase_add_test(tc, hl7_messages_convert);
#endif
    tcase_add_test(tc, consents);
    tcase_add_test(tc, shared_patient);
    suite_add_tcase(s, tc);
    return s;
}
