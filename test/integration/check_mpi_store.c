/*
 * MPI against a real PostgreSQL: ingest from three members, deterministic
 * and probabilistic links, conflicting resident ids, the review queue,
 * merge/unmerge with history, resolve, PIXm and PDQm.
 */
#include <check.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "gateway/mpi/gw_mpi.h"
#include "test/support/jsonpath.h"
#include "test/support/mpi_testdb.h"
#include "test/support/runcli.h"
#include "test/support/testutil.h"

#define RESID_A "11010519491231002X" /* GB 11643's own example */
#define RESID_B "110105194912310046"

static PGconn *DB;
static struct base_arena *A;
static struct gw_mpi_config CFG;

static void
setup(void)
{
    char name[64];

    snprintf(name, sizeof(name), "mpi_store_%d", (int)getpid());
    DB = tu_mpi_db(name);
    ck_assert_ptr_nonnull(DB);
    A = base_arena_new(0);
    CFG = gw_mpi_config_default();
    CFG.today = 20260115;
}

static void
teardown(void)
{
    base_arena_free(A);
    PQfinish(DB);
}

/* A member's Patient; NULL/"" arguments are left out. */
static json_t *
pt(int member, const char *mrn, const char *resid, const char *name, const char *birth,
   const char *gender, const char *phone, const char *addr)
{
    char sys[64];
    json_t *p;

    snprintf(sys, sizeof(sys), "urn:oid:1.2.156.9.%d", member);
    p = json_pack("{s:s, s:[{s:s, s:s}]}", "resourceType", "Patient", "identifier", "system", sys,
                  "value", mrn);
    if (resid != NULL)
        json_array_append_new(
            json_object_get(p, "identifier"),
            json_pack("{s:s, s:s}", "system", GW_MPI_RESID_SYSTEM, "value", resid));
    if (name != NULL)
        json_object_set_new(p, "name", json_pack("[{s:s}]", "text", name));
    if (birth != NULL)
        json_object_set_new(p, "birthDate", json_string(birth));
    if (gender != NULL)
        json_object_set_new(p, "gender", json_string(gender));
    if (phone != NULL)
        json_object_set_new(p, "telecom",
                            json_pack("[{s:s, s:s}]", "system", "phone", "value", phone));
    if (addr != NULL)
        json_object_set_new(p, "address", json_pack("[{s:s}]", "text", addr));
    return p;
}

static struct gw_mpi_ingest_result
ingest(int member, json_t *patient)
{
    struct gw_mpi_ingest_result res;
    struct base_err err = {0};
    char m[16];

    snprintf(m, sizeof(m), "hosp-%d", member);
    ck_assert_msg(gw_mpi_ingest_identity(DB, &CFG, m, patient, &res, &err) == BASE_OK,
                  "ingest: %s at %s", err.msg, err.where);
    json_decref(patient);
    return res;
}

static long
count(const char *sql)
{
    PGresult *r = PQexecParams(DB, sql, 0, NULL, NULL, NULL, NULL, 0);
    long n;

    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return n;
}

static const char ADDR[] = "辽宁省沈阳市和平区南京北街155号";

START_TEST(three_members_link)
{
    struct gw_mpi_ingest_result a;
    struct gw_mpi_ingest_result b;
    struct gw_mpi_ingest_result c;
    struct gw_mpi_person ps;
    struct base_err err = {0};

    a = ingest(1, pt(1, "A-1", RESID_A, "张三", "1949-12-31", "female", "13800138000", ADDR));
    ck_assert_int_eq(a.outcome, GW_MPI_CREATED);
    /* another name form, same valid number: deterministic */
    b = ingest(2, pt(2, "B-9", "11010519491231002x", "章 叁", "1949-12-13", "female", NULL, NULL));
    ck_assert_int_eq(b.outcome, GW_MPI_LINKED_DETERMINISTIC);
    ck_assert_str_eq(b.person_id, a.person_id);
    /* no number, same demographics (traditional characters, +86 phone): probabilistic */
    c = ingest(3, pt(3, "C-5", NULL, "張三", "1949-12-31", "female", "+86 138 0013 8000",
                     "沈阳市和平区南京北街155号"));
    ck_assert_int_eq(c.outcome, GW_MPI_LINKED_PROBABILISTIC);
    ck_assert_str_eq(c.person_id, a.person_id);
    ck_assert(c.score >= CFG.upper);
    /* the same record again: an update, still linked */
    c = ingest(3, pt(3, "C-5", NULL, "張三", "1949-12-31", "female", "13800138000", NULL));
    ck_assert_int_eq(c.outcome, GW_MPI_UPDATED);
    ck_assert_str_eq(c.person_id, a.person_id);

    ck_assert_int_eq(gw_mpi_resolve(DB, A, &CFG, GW_MPI_RESID_SYSTEM, "110105491231002", &ps, &err),
                     BASE_OK); /* 15-digit form resolves too */
    ck_assert_str_eq(ps.id, a.person_id);
    ck_assert_str_eq(ps.resident_id, RESID_A);
    ck_assert_uint_eq(ps.n_links, 3);
    ck_assert_str_eq(ps.links[0].member, "hosp-1");
    ck_assert_str_eq(ps.links[0].value, "A-1");
    ck_assert_int_eq(ps.links[0].type, GW_MPI_LINK_SOLE);
    ck_assert_str_eq(ps.links[1].member, "hosp-2");
    ck_assert_int_eq(ps.links[1].type, GW_MPI_LINK_DETERMINISTIC);
    ck_assert_str_eq(ps.links[2].member, "hosp-3");
    ck_assert_int_eq(ps.links[2].type, GW_MPI_LINK_PROBABILISTIC);
    ck_assert_int_eq(gw_mpi_resolve(DB, A, &CFG, "urn:oid:1.2.156.9.3", "C-5", &ps, &err), BASE_OK);
    ck_assert_str_eq(ps.id, a.person_id);
    ck_assert_int_eq(gw_mpi_resolve(DB, A, &CFG, CFG.person_system, a.person_id, &ps, &err),
                     BASE_OK);
    ck_assert_int_eq(gw_mpi_resolve(DB, A, &CFG, "urn:oid:1.2.156.9.3", "nope", &ps, &err),
                     BASE_E_NOTFOUND);
    base_err_clear(&err);
    /* an invalid number is refused, never looked up */
    ck_assert_int_eq(
        gw_mpi_resolve(DB, A, &CFG, GW_MPI_RESID_SYSTEM, "110105194912310021", &ps, &err),
        BASE_E_INVALID);
    ck_assert_int_eq(gw_mpi_resolve(DB, A, &CFG, CFG.person_system, "not-a-uuid", &ps, NULL),
                     BASE_E_NOTFOUND);
}
END_TEST

/* Add one PDQm parameter, which must be valid. */
static void
pdq(struct gw_mpi_pdq_query *q, const char *name, const char *value)
{
    struct base_err err = {0};

    ck_assert_msg(gw_mpi_pdq_param(A, q, name, value, &err) == BASE_OK, "%s: %s", name, err.msg);
}

/* Bundle.total of a PDQm search by NULL-ended name/value pairs; -1 when a
 * parameter is refused, -rc when the search is. */
static int
pdq_total(const char *name, ...)
{
    struct gw_mpi_pdq_query q;
    struct base_err err = {0};
    json_t *out = NULL;
    va_list ap;
    int total;
    int rc;

    memset(&q, 0, sizeof(q));
    va_start(ap, name);
    for (const char *n = name; n != NULL; n = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);

        if (v == NULL || gw_mpi_pdq_param(A, &q, n, v, &err) != BASE_OK) {
            va_end(ap);
            return -1;
        }
    }
    va_end(ap);
    rc = gw_mpi_pdq_search(DB, A, &CFG, &q, NULL, &out, NULL, &err);
    if (rc != BASE_OK)
        return -rc;
    total = (int)json_integer_value(json_object_get(out, "total"));
    json_decref(out);
    return total;
}

START_TEST(fhir_answers)
{
    struct gw_mpi_ingest_result a;
    json_t *out = NULL;
    struct base_err err = {0};
    const char *targets[] = {"urn:oid:1.2.156.9.2", NULL};
    struct gw_mpi_pdq_query q = {0};

    a = ingest(1, pt(1, "A-1", RESID_A, "张三", "1949-12-31", "female", "13800138000", ADDR));
    (void)ingest(2, pt(2, "B-9", RESID_A, "张三", "1949-12-31", "female", NULL, NULL));
    /* PIXm from hospital 1's number: hospital 2's, the resident id, the regional id */
    ck_assert_int_eq(gw_mpi_pix(DB, A, &CFG, "urn:oid:1.2.156.9.1", "A-1", NULL, &out, &err),
                     BASE_OK);
    json_t *params = json_object_get(out, "parameter");
    ck_assert_str_eq(json_string_value(json_object_get(out, "resourceType")), "Parameters");
    ck_assert_uint_eq(json_array_size(params), 4); /* regional, resident, B-9, targetId */
    json_t *last = json_array_get(params, 3);
    ck_assert_str_eq(json_string_value(json_object_get(last, "name")), "targetId");
    char ref[80];
    snprintf(ref, sizeof(ref), "Patient/%s", a.person_id);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(last, "valueReference"), "reference")),
        ref);
    json_decref(out);
    ck_assert_int_eq(gw_mpi_pix(DB, A, &CFG, "urn:oid:1.2.156.9.1", "A-1", targets, &out, &err),
                     BASE_OK);
    params = json_object_get(out, "parameter");
    ck_assert_uint_eq(json_array_size(params), 2);
    json_t *vi = json_object_get(json_array_get(params, 0), "valueIdentifier");
    ck_assert_str_eq(json_string_value(json_object_get(vi, "value")), "B-9");
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(vi, "assigner"), "reference")),
        "Organization/hosp-2");
    json_decref(out);
    ck_assert_int_eq(gw_mpi_pix(DB, A, &CFG, "urn:oid:1.2.156.9.1", "zzz", NULL, &out, &err),
                     BASE_E_NOTFOUND);

    /* PDQm by Han name + birth date, by pinyin, by identifier; empty on no match */
    pdq(&q, "name", "张三");
    pdq(&q, "birthdate", "1949-12-31");
    ck_assert_int_eq(
        gw_mpi_pdq_search(DB, A, &CFG, &q, "https://gw.example/fhir", &out, NULL, &err), BASE_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(out, "total")), 1);
    json_t *e = json_array_get(json_object_get(out, "entry"), 0);
    json_t *p = json_object_get(e, "resource");
    ck_assert_str_eq(json_string_value(json_object_get(p, "id")), a.person_id);
    ck_assert_str_eq(json_string_value(json_object_get(p, "birthDate")), "1949-12-31");
    ck_assert_uint_eq(json_array_size(json_object_get(p, "identifier")), 4);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(e, "fullUrl")), a.person_id));
    json_decref(out);
    ck_assert_int_eq(pdq_total("family", "Zhang", "given", "San", "gender", "female", NULL), 1);
    ck_assert_int_eq(pdq_total("family", "Zhang", "given", "San", "gender", "male", NULL), 0);
    /* a homophone is not found by characters, but is by sound */
    (void)ingest(3, pt(3, "C-1", NULL, "章三", "1990-01-01", "male", NULL, NULL));
    ck_assert_int_eq(pdq_total("name", "章三", NULL), 1);
    ck_assert_int_eq(pdq_total("name", "zhang san", NULL), 2);
    /* gender=unknown is a gender like the others, not "any" */
    ck_assert_int_eq(pdq_total("name", "zhang san", "gender", "unknown", NULL), 0);
    ck_assert_int_eq(pdq_total("name", "zhang san", "gender", "unknown,male", NULL), 1);
    /* a name part that starts with the value matches (R4 string search):
     * the family name alone, by characters or by sound; :exact wants all,
     * :contains a part holding it anywhere */
    static const struct {
        const char *param, *value;
        int total;
    } parts[] = {
        {"name", "张", 1},
        {"name", "zhang", 2},
        {"name:exact", "zhang", 0},
        {"name:exact", "张", 0},
        {"name:exact", "张三", 1},
        {"name:exact", "zhangsan", 2},
        {"family", "zh", 2},
        {"family:exact", "zh", 0},
        {"family:exact", "zhang", 2},
        {"given", "sa", 2},
        {"given:exact", "sa", 0},
        {"given:exact", "san", 2},
        {"name", "san", 2},
        {"name", "li", 0},
        {"family", "张", 1},
        {"family:exact", "张", 1},
        {"family:contains", "han", 2},
        {"given:contains", "an", 2},
        {"name:contains", "三", 2},
        {"name:contains", "gsa", 2},
        {"family:contains", "x", 0},
        {"family", "Li,Zhang", 2},
        {"family", "Li,Wang", 0},
        {"name", "章三,张三", 2},
        {"family:exact", "zh,zhang", 2},
    };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        ck_assert_msg(pdq_total(parts[i].param, parts[i].value, NULL) == parts[i].total,
                      "case %zu: %s", i, parts[i].param);
    /* repeated parameters are ANDed, a list's values ORed */
    ck_assert_int_eq(pdq_total("family", "Zhang", "family", "Zha", NULL), 2);
    ck_assert_int_eq(pdq_total("family", "Zhang", "family", "Wang", NULL), 0);
    ck_assert_int_eq(pdq_total("family", "Zhang", "gender", "male,female", NULL), 2);
    ck_assert_int_eq(pdq_total("family", "Zhang", "gender", "male", "gender", "female", NULL), 0);
    ck_assert_int_eq(
        pdq_total("identifier", "urn:oid:1.2.156.9.3|C-1,urn:oid:1.2.156.9.1|A-1", NULL), 2);
    ck_assert_int_eq(pdq_total("identifier", "urn:oid:1.2.156.9.3|C-1", "identifier",
                               "urn:oid:1.2.156.9.1|A-1", NULL),
                     0);
    ck_assert_int_eq(pdq_total("identifier", GW_MPI_RESID_SYSTEM "|" RESID_A, NULL), 1);
    /* telecom narrows, in any of the forms a number is written in */
    static const struct {
        const char *phone;
        int total;
    } phones[] = {{"13800138000", 1}, {"+86 138-0013-8000", 1}, {"13900000000", 0}, {"abc", 0}};
    for (size_t i = 0; i < sizeof(phones) / sizeof(phones[0]); i++)
        ck_assert_msg(pdq_total("name", "张三", "birthdate", "1949", "telecom", phones[i].phone,
                                NULL) == phones[i].total,
                      "phone case %zu", i);
    /* _id (ITI-78): that person, with other criteria ANDed */
    ck_assert_int_eq(pdq_total("identifier", GW_MPI_RESID_SYSTEM "|" RESID_A, "_id",
                               "00000000-0000-4000-8000-000000000000", NULL),
                     0);
    ck_assert_int_eq(
        pdq_total("identifier", GW_MPI_RESID_SYSTEM "|" RESID_A, "_id", a.person_id, NULL), 1);
    memset(&q, 0, sizeof(q));
    pdq(&q, "_id", a.person_id);
    ck_assert_int_eq(gw_mpi_pdq_search(DB, A, &CFG, &q, NULL, &out, NULL, &err), BASE_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(out, "total")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_array_get(json_object_get(out, "entry"), 0),
                                         "resource"),
                         "id")),
                     a.person_id);
    json_decref(out);
    ck_assert_int_eq(pdq_total("_id", a.person_id, "name", "章三", NULL), 0);
    ck_assert_int_eq(pdq_total("_id", "not-a-uuid", NULL), 0);
    memset(&q, 0, sizeof(q));
    ck_assert_int_eq(gw_mpi_pdq_search(DB, A, &CFG, &q, NULL, &out, NULL, &err), BASE_E_INVALID);
    /* birthdate prefixes against a member that gave the year only: the
     * record stands for all of 1950 (R4 search.html#prefix, ranges) */
    (void)ingest(3, pt(3, "C-7", NULL, "李四", "1950", "male", NULL, NULL));
    static const struct {
        const char *birthdate[2];
        int total;
    } bds[] = {
        {{"1950", NULL}, 1},         {{"eq1950-06-01", NULL}, 0}, {{"1950-06", NULL}, 0},
        {{"ne1950-06-01", NULL}, 1}, {{"ge1950-06-01", NULL}, 1}, {{"le1950-06-01", NULL}, 1},
        {{"gt1950-12-31", NULL}, 0}, {{"lt1950-01-01", NULL}, 0}, {{"gt1949", NULL}, 1},
        {{"sa1949-12-31", NULL}, 1}, {{"sa1950-01-01", NULL}, 0}, {{"eb1951", NULL}, 1},
        {{"ge1940", "le1960"}, 1},   {{"ge1951", "le1960"}, 0},   {{"1949,1950", NULL}, 1},
        {{"1948,1949", NULL}, 0},
    };
    for (size_t i = 0; i < sizeof(bds) / sizeof(bds[0]); i++) {
        int total = bds[i].birthdate[1] != NULL
                        ? pdq_total("name", "李四", "birthdate", bds[i].birthdate[0], "birthdate",
                                    bds[i].birthdate[1], NULL)
                        : pdq_total("name", "李四", "birthdate", bds[i].birthdate[0], NULL);

        ck_assert_msg(total == bds[i].total, "birthdate case %zu", i);
    }
    /* a value without a system finds every person holding it in any
     * system; with a system, every person holding that pair */
    (void)ingest(4, pt(4, "C-7", NULL, "王五", "1960-02-02", "male", NULL, NULL));
    ck_assert_int_eq(pdq_total("identifier", "C-7", NULL), 2);
    memset(&q, 0, sizeof(q));
    pdq(&q, "identifier", "urn:oid:1.2.156.9.4|C-7");
    ck_assert_int_eq(gw_mpi_pdq_search(DB, A, &CFG, &q, NULL, &out, NULL, &err), BASE_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(out, "total")), 1);
    char *text = json_dumps(out, 0);
    ck_assert_ptr_nonnull(strstr(text, "\"C-7\""));
    ck_assert_ptr_nonnull(strstr(text, "王五"));
    ck_assert_ptr_null(strstr(text, "李四"));
    free(text);
    json_decref(out);
    ck_assert_int_eq(pdq_total("identifier", RESID_A, NULL), 1); /* the resident id, no system */
    /* SYSTEM| (ITI-78 "Populating Which Domains are Returned"): the persons
     * holding one of that domain, showing only its identifiers; a domain
     * the index does not know is "targetSystem not found" */
    memset(&q, 0, sizeof(q));
    pdq(&q, "name", "张三");
    pdq(&q, "identifier", "urn:oid:1.2.156.9.2|");
    ck_assert_int_eq(gw_mpi_pdq_search(DB, A, &CFG, &q, NULL, &out, NULL, &err), BASE_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(out, "total")), 1);
    p = json_object_get(json_array_get(json_object_get(out, "entry"), 0), "resource");
    ck_assert_uint_eq(json_array_size(json_object_get(p, "identifier")), 1);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(p, "identifier"), 0), "value")),
                     "B-9");
    json_decref(out);
    ck_assert_int_eq(pdq_total("name", "章三", "identifier", "urn:oid:1.2.156.9.2|", NULL), 0);
    ck_assert_int_eq(pdq_total("identifier", "urn:oid:1.2.156.9.9|", NULL), -BASE_E_NOTFOUND);
    memset(&q, 0, sizeof(q));
    ck_assert_int_eq(gw_mpi_pdq_date("ap1950", &q.terms[0].date, &err), BASE_E_INVALID);
    ck_assert_int_eq(gw_mpi_pdq_date("1950-02-30", &q.terms[0].date, &err), BASE_E_INVALID);
    ck_assert_int_eq(gw_mpi_pdq_date("1950-01-01T00:00", &q.terms[0].date, &err), BASE_E_INVALID);
    /* the regional Patient */
    ck_assert_int_eq(gw_mpi_person_patient(DB, A, &CFG, a.person_id, &out, &err), BASE_OK);
    ck_assert_str_eq(json_string_value(json_object_get(out, "gender")), "female");
    json_decref(out);
}
END_TEST

/* The grade of the first entry of a $match answer ("" when none). */
static const char *
match_grade(const json_t *b, size_t i)
{
    const json_t *e = json_array_get(json_object_get(b, "entry"), i);
    const json_t *x = json_array_get(json_object_get(json_object_get(e, "search"), "extension"), 0);

    return e != NULL ? json_string_value(json_object_get(x, "valueCode")) : "";
}

static json_t *
match(const json_t *patient, bool only_certain, size_t count, int want_rc)
{
    struct gw_mpi_match_opts o = {only_certain, count};
    struct base_err err = {0};
    json_t *out = NULL;

    ck_assert_msg(gw_mpi_match(DB, A, &CFG, patient, &o, "https://gw.example/fhir", &out, &err) ==
                      want_rc,
                  "%s at %s", err.msg, err.where);
    return out;
}

/* Patient/$match (R4 patient-match, IHE ITI-119): certain by resident id
 * or record number, probable/possible by score, never a person with
 * another resident id, onlyCertainMatches and count. */
/* A search matching more persons than GW_MPI_LIMIT_PDQ_MATCHES (a common
 * family name alone, as ITI-78 allows) answers its first page with a
 * warning and no next page; a later page is refused, not served. */
START_TEST(broad_searches_are_capped)
{
    struct gw_mpi_pdq_query q;
    struct base_err err = {0};
    json_t *out = NULL;
    PGresult *r;
    bool more = true;
    char n[16];
    const char *p[1] = {n};

    snprintf(n, sizeof(n), "%u", GW_MPI_LIMIT_PDQ_MATCHES + 1);
    r = PQexecParams(DB,
                     "WITH p AS (INSERT INTO mpi.person SELECT FROM generate_series(1, $1::int) "
                     "RETURNING id) INSERT INTO mpi.record (member_id, local_system, local_value, "
                     "person_id, link_type, name_han, name_py, name_py_family, name_py_given, sex) "
                     "SELECT 'hosp-1', 'urn:oid:1.2.156.9.1', 'W-' || id, id, 'sole', '王伟', "
                     "'wangwei', 'wang', 'wei', 1 FROM p",
                     1, NULL, p, NULL, NULL, 0);
    ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    r = PQexec(DB, "INSERT INTO mpi.identifier SELECT local_system, local_value, id FROM "
                   "mpi.record WHERE local_value LIKE 'W-%'");
    ck_assert_int_eq(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    memset(&q, 0, sizeof(q));
    q.count = 10;
    pdq(&q, "family", "wang");
    ck_assert_int_eq(gw_mpi_pdq_search(DB, A, &CFG, &q, NULL, &out, &more, &err), BASE_OK);
    ck_assert(!more);
    ck_assert_int_eq(json_integer_value(json_object_get(out, "total")),
                     GW_MPI_LIMIT_PDQ_MATCHES + 1);
    ck_assert_uint_eq(json_array_size(json_object_get(out, "entry")), 11);
    ck_assert_str_eq(tu_json_str(out, "entry.10.search.mode"), "outcome");
    ck_assert_str_eq(tu_json_str(out, "entry.10.resource.issue.0.code"), "too-costly");
    q.after = tu_json_str(out, "entry.9.resource.id");
    json_t *first = out;
    out = NULL;
    ck_assert_int_eq(gw_mpi_pdq_search(DB, A, &CFG, &q, NULL, &out, &more, &err), BASE_E_INVALID);
    ck_assert_str_eq(err.issue_code, "too-costly");
    json_decref(first);
    /* narrowed under the cap, no warning */
    base_err_clear(&err);
    memset(&q, 0, sizeof(q));
    pdq(&q, "family", "wang");
    pdq(&q, "gender", "female");
    ck_assert_int_eq(gw_mpi_pdq_search(DB, A, &CFG, &q, NULL, &out, &more, &err), BASE_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(out, "total")), 0);
    ck_assert_uint_eq(json_array_size(json_object_get(out, "entry")), 0);
    json_decref(out);
}
END_TEST

START_TEST(match_grades)
{
    struct gw_mpi_ingest_result a;
    json_t *q;
    json_t *b;
    char *text;

    a = ingest(1, pt(1, "A-1", RESID_A, "张三", "1949-12-31", "female", "13800138000", ADDR));
    (void)ingest(2, pt(2, "B-1", NULL, "李雷", "1980-03-04", "male", "13911112222", NULL));

    /* the resident id alone: certain, score 1 */
    q = json_pack("{s:s, s:[{s:s, s:s}]}", "resourceType", "Patient", "identifier", "system",
                  GW_MPI_RESID_SYSTEM, "value", RESID_A);
    b = match(q, false, 0, BASE_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(b, "total")), 1);
    ck_assert_str_eq(match_grade(b, 0), "certain");
    text = fhir_json_dump_arena(b, 0, A, NULL);
    ck_assert_ptr_nonnull(strstr(text, "\"score\":1.000"));
    ck_assert_ptr_nonnull(strstr(text, a.person_id));
    ck_assert_ptr_nonnull(strstr(text, "\"mode\":\"match\""));
    json_decref(b);
    b = match(q, true, 0, BASE_OK); /* one certain person: returned */
    ck_assert_int_eq(json_integer_value(json_object_get(b, "total")), 1);
    json_decref(b);
    json_decref(q);

    /* a member's record number: certain */
    q = json_pack("{s:s, s:[{s:s, s:s}]}", "resourceType", "Patient", "identifier", "system",
                  "urn:oid:1.2.156.9.1", "value", "A-1");
    b = match(q, false, 0, BASE_OK);
    ck_assert_str_eq(match_grade(b, 0), "certain");
    json_decref(b);
    json_decref(q);

    /* demographics only: probable, never certain; onlyCertainMatches: none */
    q = pt(9, "X", NULL, "张三", "1949-12-31", "female", "13800138000", ADDR);
    json_object_del(q, "identifier");
    b = match(q, false, 0, BASE_OK);
    ck_assert_int_ge(json_integer_value(json_object_get(b, "total")), 1);
    ck_assert_str_eq(match_grade(b, 0), "probable");
    text = fhir_json_dump_arena(b, 0, A, NULL);
    ck_assert_ptr_nonnull(strstr(text, a.person_id));
    ck_assert_ptr_null(strstr(text, "\"score\":1.000"));
    json_decref(b);
    b = match(q, true, 0, BASE_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(b, "total")), 0);
    ck_assert_ptr_null(json_object_get(b, "entry"));
    json_decref(b);
    /* fewer agreeing fields: lower, still the same person first */
    json_object_del(q, "telecom");
    json_object_del(q, "address");
    json_object_set_new(q, "birthDate", json_string("1949-12-13"));
    b = match(q, false, 1, BASE_OK);
    ck_assert_int_le(json_integer_value(json_object_get(b, "total")), 1);
    if (json_integer_value(json_object_get(b, "total")) == 1)
        ck_assert_str_ne(match_grade(b, 0), "certain");
    json_decref(b);
    json_decref(q);

    /* the same demographics with another valid resident id: certainly not */
    q = pt(9, "X", RESID_B, "张三", "1949-12-31", "female", "13800138000", ADDR);
    json_object_set_new(q, "identifier",
                        json_pack("[{s:s, s:s}]", "system", GW_MPI_RESID_SYSTEM, "value", RESID_B));
    b = match(q, false, 0, BASE_OK);
    ck_assert_int_eq(json_integer_value(json_object_get(b, "total")), 0);
    json_decref(b);
    json_decref(q);

    /* too little to tell people apart, or not a Patient */
    q = json_pack("{s:s, s:s}", "resourceType", "Patient", "gender", "male");
    (void)match(q, false, 0, BASE_E_INVALID);
    json_decref(q);
    q = json_pack("{s:s, s:[{s:s}], s:s}", "resourceType", "Patient", "name", "text", "李雷",
                  "gender", "male");
    (void)match(q, false, 0, BASE_E_INVALID);
    json_decref(q);
    q = json_pack("{s:s}", "resourceType", "Observation");
    (void)match(q, false, 0, BASE_E_INVALID);
    json_decref(q);
}
END_TEST

START_TEST(conflicting_resident_ids_never_link)
{
    struct gw_mpi_ingest_result a;
    struct gw_mpi_ingest_result b;

    a = ingest(1, pt(1, "A-1", RESID_A, "张三", "1949-12-31", "female", "13800138000", ADDR));
    b = ingest(2, pt(2, "B-1", RESID_B, "张三", "1949-12-31", "female", "13800138000", ADDR));
    ck_assert_int_eq(b.outcome, GW_MPI_CREATED);
    ck_assert(b.resid_conflict);
    ck_assert_str_ne(a.person_id, b.person_id);
    ck_assert_int_eq(count("SELECT count(*) FROM mpi.review"), 0);
    /* and a manual merge of the two is refused */
    struct base_err err = {0};
    int64_t mid = 0;
    ck_assert_int_eq(gw_mpi_merge(DB, a.person_id, b.person_id, "admin", "test", &mid, &err),
                     BASE_E_CONFLICT);
    /* an invalid number does not count as evidence either way */
    b = ingest(3, pt(3, "C-1", "110105194912310021", "李四", "1970-01-01", "male", NULL, NULL));
    ck_assert_int_eq(b.outcome, GW_MPI_CREATED);
    ck_assert_int_eq(count("SELECT count(*) FROM mpi.record WHERE resident_id IS NULL"), 1);
}
END_TEST

START_TEST(review_queue_and_unmerge)
{
    struct gw_mpi_ingest_result a;
    struct gw_mpi_ingest_result b;
    struct base_err err = {0};
    json_t *list = NULL;
    json_t *hist = NULL;
    struct gw_mpi_person ps;

    a = ingest(1, pt(1, "A-1", NULL, "王小明", "1980-05-17", "male", "13912345678",
                     "辽宁省沈阳市和平区三好街10号"));
    /* homophones, two birth digits swapped, nothing else: a possible match */
    b = ingest(3, pt(3, "C-1", NULL, "汪晓明", "1908-05-17", "male", NULL, NULL));
    ck_assert_msg(b.outcome == GW_MPI_REVIEW, "outcome %s score %.2f",
                  gw_mpi_outcome_name(b.outcome), b.score);
    ck_assert_str_ne(b.person_id, a.person_id);
    ck_assert_int_eq(gw_mpi_review_list(DB, A, true, 10, 0, &list, &err), BASE_OK);
    ck_assert_uint_ge(json_array_size(list), 1);
    json_t *item = json_array_get(list, 0);
    int64_t rid = json_integer_value(json_object_get(item, "id"));
    ck_assert_str_eq(json_string_value(json_object_get(item, "candidate")), a.person_id);
    ck_assert_str_eq(json_string_value(json_object_get(item, "person")), b.person_id);
    ck_assert_uint_eq(json_array_size(json_object_get(item, "fields")), 5);
    json_decref(list);

    ck_assert_int_eq(gw_mpi_review_decide(DB, rid, GW_MPI_SAME_PERSON, "dr-li", "same", &err),
                     BASE_OK);
    ck_assert_int_eq(gw_mpi_review_decide(DB, rid, GW_MPI_NOT_SAME, "dr-li", NULL, &err),
                     BASE_E_CONFLICT);
    ck_assert_int_eq(gw_mpi_resolve(DB, A, &CFG, "urn:oid:1.2.156.9.3", "C-1", &ps, &err), BASE_OK);
    ck_assert_str_eq(ps.id, a.person_id); /* now linked */
    ck_assert_int_eq(count("SELECT count(*) FROM mpi.person WHERE status = 'merged'"), 1);
    /* the retired person resolves to the survivor */
    ck_assert_int_eq(gw_mpi_resolve(DB, A, &CFG, CFG.person_system, b.person_id, &ps, &err),
                     BASE_OK);
    ck_assert_str_eq(ps.id, a.person_id);

    /* unmerge restores the previous link */
    long mid = count("SELECT max(id) FROM mpi.merge");
    ck_assert_int_eq(gw_mpi_unmerge(DB, mid, "dr-wang", "wrong decision", &err), BASE_OK);
    ck_assert_int_eq(gw_mpi_resolve(DB, A, &CFG, "urn:oid:1.2.156.9.3", "C-1", &ps, &err), BASE_OK);
    ck_assert_str_eq(ps.id, b.person_id);
    ck_assert_int_eq(ps.links[0].type, GW_MPI_LINK_SOLE);
    ck_assert_int_eq(gw_mpi_unmerge(DB, mid, "dr-wang", "again", &err), BASE_E_CONFLICT);
    ck_assert_int_eq(gw_mpi_history(DB, A, b.person_id, &hist, &err), BASE_OK);
    ck_assert_uint_eq(json_array_size(hist), 3); /* link, merge, unmerge */
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(hist, 1), "action")),
                     "merge");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(hist, 2), "action")),
                     "unmerge");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(hist, 2), "actor")),
                     "dr-wang");
    json_decref(hist);
    ck_assert_int_eq(gw_mpi_review_decide(DB, 999999, GW_MPI_NOT_SAME, "x", NULL, &err),
                     BASE_E_NOTFOUND);
}
END_TEST

/* pt() with the member's resource id, and for a merge its Patient.link. */
static json_t *
with_id(json_t *p, const char *id, const char *link_type, const char *other)
{
    json_object_set_new(p, "id", json_string(id));
    if (link_type != NULL) {
        char ref[64];

        snprintf(ref, sizeof(ref), "Patient/%s", other);
        json_object_set_new(
            p, "link", json_pack("[{s:{s:s}, s:s}]", "other", "reference", ref, "type", link_type));
        if (strcmp(link_type, "replaced-by") == 0)
            json_object_set_new(p, "active", json_false());
    }
    return p;
}

/* A member that merges two of its records (HL7 v2 A40 → Patient.link)
 * asserts one person: the index follows, whichever record comes second. */
START_TEST(member_merges_are_followed)
{
    struct gw_mpi_ingest_result x, y, r;
    struct gw_mpi_person ps;
    struct base_err err = {0};

    /* hosp-1 registered one woman twice, under two names: two persons */
    x = ingest(1, with_id(pt(1, "A-20", NULL, "吴九", "1960-01-01", "female", NULL, NULL), "x20",
                          NULL, NULL));
    y = ingest(1, with_id(pt(1, "A-21", NULL, "郑十", "1961-02-02", "female", NULL, NULL), "y21",
                          NULL, NULL));
    ck_assert_str_ne(x.person_id, y.person_id);
    /* the retired record comes back: inactive, replaced by y21 */
    r = ingest(1, with_id(pt(1, "A-20", NULL, "吴九", "1960-01-01", "female", NULL, NULL), "x20",
                          "replaced-by", "y21"));
    ck_assert_uint_eq(r.member_merges, 1);
    ck_assert_str_eq(r.person_id, y.person_id);
    ck_assert_int_eq(gw_mpi_resolve(DB, A, &CFG, "urn:oid:1.2.156.9.1", "A-20", &ps, &err),
                     BASE_OK);
    ck_assert_str_eq(ps.id, y.person_id);
    /* the old person id leads to the survivor too */
    ck_assert_int_eq(gw_mpi_resolve(DB, A, &CFG, CFG.person_system, x.person_id, &ps, &err),
                     BASE_OK);
    ck_assert_str_eq(ps.id, y.person_id);
    ck_assert_int_eq(count("SELECT count(*) FROM mpi.merge WHERE actor = 'mpi'"), 1);
    /* reported again: nothing more to do */
    r = ingest(1, with_id(pt(1, "A-20", NULL, "吴九", "1960-01-01", "female", NULL, NULL), "x20",
                          "replaced-by", "y21"));
    ck_assert_uint_eq(r.member_merges, 0);

    /* the survivor's report second: "replaces x30" */
    x = ingest(1, with_id(pt(1, "A-30", NULL, "王十一", "1950-03-03", "male", NULL, NULL), "x30",
                          NULL, NULL));
    r = ingest(1, with_id(pt(1, "A-31", NULL, "冯十二", "1951-04-04", "male", NULL, NULL), "y31",
                          "replaces", "x30"));
    ck_assert_uint_eq(r.member_merges, 1);
    ck_assert_int_eq(gw_mpi_resolve(DB, A, &CFG, "urn:oid:1.2.156.9.1", "A-30", &ps, &err),
                     BASE_OK);
    ck_assert_str_eq(ps.id, r.person_id);
    ck_assert_str_ne(ps.id, x.person_id);

    /* two valid resident ids: a person must decide, nothing is merged */
    x = ingest(1, with_id(pt(1, "A-40", RESID_A, "陈一", "1949-12-31", "female", NULL, NULL), "x40",
                          NULL, NULL));
    y = ingest(1, with_id(pt(1, "A-41", RESID_B, "陈一", "1949-12-31", "female", NULL, NULL), "y41",
                          NULL, NULL));
    r = ingest(1, with_id(pt(1, "A-40", RESID_A, "陈一", "1949-12-31", "female", NULL, NULL), "x40",
                          "replaced-by", "y41"));
    ck_assert_uint_eq(r.member_merges, 0);
    ck_assert_str_eq(r.person_id, x.person_id);

    /* a record of another member with that id is not the survivor */
    (void)ingest(2, with_id(pt(2, "B-50", NULL, "褚十三", "1970-05-05", "male", NULL, NULL), "z50",
                            NULL, NULL));
    r = ingest(1, with_id(pt(1, "A-50", NULL, "卫十四", "1971-06-06", "male", NULL, NULL), "x50",
                          "replaced-by", "z50"));
    ck_assert_uint_eq(r.member_merges, 0);
}
END_TEST

/* `fhirgate mpi …` against this database; the result of one run. */
static struct tu_run
mpi_cli(const char *a1, const char *a2, const char *a3, const char *a4, const char *a5,
        const char *a6)
{
    char conninfo[1024];
    const char *argv[12];
    struct tu_run r = {0};
    size_t n = 0;

    snprintf(conninfo, sizeof(conninfo), "host=%s port=%s dbname=%s user=%s", PQhost(DB),
             PQport(DB), PQdb(DB), PQuser(DB));
    argv[n++] = tu_bin("fhirgate");
    argv[n++] = "mpi";
    argv[n++] = "--database";
    argv[n++] = conninfo;
    for (const char *const *v = (const char *const[]){a1, a2, a3, a4, a5, a6, NULL}; *v != NULL;
         v++)
        argv[n++] = *v;
    argv[n] = NULL;
    ck_assert_int_eq(tu_run(argv, &r), 0);
    return r;
}

/* The stewardship operations from the command line, for real. */
START_TEST(mpi_command_line)
{
    struct gw_mpi_ingest_result a, b;
    struct tu_run r;
    char id[32];
    json_t *v;

    (void)ingest(1, pt(1, "A-7", NULL, "周八", "1975-06-07", "female", "13700000000", NULL));
    b = ingest(2, pt(2, "B-7", NULL, "周八", "1975-07-06", "female", NULL, NULL));
    ck_assert_int_eq(b.outcome, GW_MPI_REVIEW);
    r = mpi_cli("reviews", NULL, NULL, NULL, NULL, NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    v = json_loads(r.out, 0, NULL);
    id[0] = '\0';
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *it = json_array_get(v, i);

        if (strcmp(json_string_value(json_object_get(json_object_get(it, "record"), "value")),
                   "B-7") == 0)
            snprintf(id, sizeof(id), "%lld",
                     (long long)json_integer_value(json_object_get(it, "id")));
    }
    ck_assert_msg(id[0] != '\0', "%zu items, none for B-7", json_array_size(v));
    /* weights are numbers (not the library's internal decimal form) */
    ck_assert(json_is_number(json_object_get(
        json_array_get(json_object_get(json_array_get(v, 0), "fields"), 0), "weight")));
    json_decref(v);
    tu_run_free(&r);
    r = mpi_cli("decide", id, "not-same", "--reason", "different mothers", NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    tu_run_free(&r);
    ck_assert_int_eq(count("SELECT count(*) FROM mpi.review WHERE status = 'not-same' AND "
                           "decided_by LIKE 'cli:%'"),
                     1);
    r = mpi_cli("decide", id, "same", NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 1); /* already decided */
    ck_assert_ptr_nonnull(strstr(r.err, "fhirgate mpi decide:"));
    tu_run_free(&r);
    /* merge, history, unmerge */
    a = ingest(3, pt(3, "C-8", NULL, "韩九", "1966-01-01", "male", NULL, NULL));
    b = ingest(4, pt(4, "D-8", NULL, "韩久", "1966-01-01", "male", NULL, NULL));
    r = mpi_cli("merge", a.person_id, b.person_id, NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 2); /* --reason is required */
    tu_run_free(&r);
    r = mpi_cli("merge", a.person_id, b.person_id, "--reason", "one man", NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    v = json_loads(r.out, 0, NULL);
    snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(json_object_get(v, "merge_id")));
    json_decref(v);
    tu_run_free(&r);
    r = mpi_cli("history", a.person_id, NULL, NULL, NULL, NULL);
    ck_assert_msg(r.status == 0 && strstr(r.out, "\"merge\"") != NULL, "%s", r.err);
    tu_run_free(&r);
    r = mpi_cli("unmerge", id, "--reason", "two men after all", NULL, NULL);
    ck_assert_msg(r.status == 0, "%s", r.err);
    tu_run_free(&r);
    ck_assert_int_eq(count("SELECT count(*) FROM mpi.merge WHERE undone_by LIKE 'cli:%'"), 1);
    /* split, and the refusals */
    r = mpi_cli("split", "hosp-3", "urn:oid:1.2.156.9.3", "C-8", "--reason", "alone already");
    ck_assert_int_eq(r.status, 1);
    tu_run_free(&r);
    r = mpi_cli("unmerge", "x", "--reason", "r", NULL, NULL);
    ck_assert_int_eq(r.status, 1);
    tu_run_free(&r);
    r = mpi_cli("frobnicate", NULL, NULL, NULL, NULL, NULL);
    ck_assert_int_eq(r.status, 2);
    tu_run_free(&r);
}
END_TEST

START_TEST(manual_merge_and_not_same)
{
    struct gw_mpi_ingest_result a;
    struct gw_mpi_ingest_result b;
    struct gw_mpi_ingest_result c;
    struct base_err err = {0};
    int64_t m1 = 0;
    int64_t m2 = 0;
    json_t *list = NULL;

    a = ingest(1, pt(1, "A-1", RESID_A, "赵四", "1990-01-02", "male", NULL, NULL));
    b = ingest(2, pt(2, "B-1", NULL, "钱五", "1991-03-04", "male", NULL, NULL));
    c = ingest(3, pt(3, "C-1", NULL, "孙六", "1992-05-06", "female", NULL, NULL));
    ck_assert_int_eq(
        gw_mpi_merge(DB, a.person_id, b.person_id, "admin", "paper records", &m1, &err), BASE_OK);
    ck_assert_int_eq(
        gw_mpi_merge(DB, a.person_id, c.person_id, "admin", "paper records", &m2, &err), BASE_OK);
    ck_assert_int_eq(gw_mpi_merge(DB, a.person_id, b.person_id, "admin", "twice", &m1, &err),
                     BASE_E_CONFLICT);
    ck_assert_int_eq(count("SELECT count(*) FROM mpi.record WHERE person_id = (SELECT id FROM "
                           "mpi.person WHERE status = 'active')"),
                     3);
    ck_assert_int_eq(gw_mpi_unmerge(DB, m1, "admin", "undo", &err), BASE_OK);
    ck_assert_int_eq(count("SELECT count(*) FROM mpi.person WHERE status = 'active'"), 2);
    ck_assert_int_eq(gw_mpi_merge(DB, a.person_id, "00000000-0000-0000-0000-000000000000", "admin",
                                  "x", &m1, &err),
                     BASE_E_NOTFOUND);
    ck_assert_int_eq(gw_mpi_merge(DB, a.person_id, a.person_id, "admin", "x", &m1, &err),
                     BASE_E_CONFLICT);
    ck_assert_int_eq(gw_mpi_merge(DB, a.person_id, b.person_id, "", "x", &m1, &err),
                     BASE_E_INVALID);

    /* a "not the same" decision keeps them apart and closes the item */
    (void)ingest(1, pt(1, "A-7", NULL, "周八", "1975-06-07", "female", "13700000000", NULL));
    c = ingest(2, pt(2, "B-7", NULL, "周八", "1975-07-06", "female", NULL, NULL));
    ck_assert_int_eq(c.outcome, GW_MPI_REVIEW);
    ck_assert_int_eq(gw_mpi_review_list(DB, A, true, 0, 0, &list, &err), BASE_OK);
    int64_t rid = json_integer_value(json_object_get(json_array_get(list, 0), "id"));
    json_decref(list);
    ck_assert_int_eq(gw_mpi_review_decide(DB, rid, GW_MPI_NOT_SAME, "dr-li", "different", &err),
                     BASE_OK);
    ck_assert_int_eq(count("SELECT count(*) FROM mpi.review WHERE status = 'open'"), 0);
    ck_assert_int_eq(gw_mpi_review_list(DB, A, false, 0, 0, &list, &err), BASE_OK);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 0), "status")),
                     "not-same");
    json_decref(list);
}
END_TEST

START_TEST(split_undoes_a_wrong_link)
{
    struct gw_mpi_ingest_result a;
    struct gw_mpi_ingest_result b;
    struct base_err err = {0};
    char np[40];
    struct gw_mpi_person ps;
    json_t *hist = NULL;

    a = ingest(1, pt(1, "A-1", RESID_A, "张三", "1949-12-31", "female", "13800138000", ADDR));
    b = ingest(2, pt(2, "B-1", RESID_A, "张三", "1949-12-31", "female", NULL, NULL));
    ck_assert_str_eq(a.person_id, b.person_id);
    ck_assert_int_eq(gw_mpi_split(DB, "hosp-2", "urn:oid:1.2.156.9.2", "B-1", "dr-li",
                                  "another woman", np, sizeof(np), &err),
                     BASE_OK);
    ck_assert_str_ne(np, a.person_id);
    ck_assert_int_eq(gw_mpi_resolve(DB, A, &CFG, "urn:oid:1.2.156.9.2", "B-1", &ps, &err), BASE_OK);
    ck_assert_str_eq(ps.id, np);
    ck_assert_int_eq(ps.links[0].type, GW_MPI_LINK_MANUAL);
    ck_assert_int_eq(gw_mpi_split(DB, "hosp-2", "urn:oid:1.2.156.9.2", "B-1", "dr-li", NULL, np,
                                  sizeof(np), &err),
                     BASE_E_CONFLICT);
    ck_assert_int_eq(gw_mpi_split(DB, "hosp-9", "urn:oid:1.2.156.9.2", "B-1", "dr-li", NULL, np,
                                  sizeof(np), &err),
                     BASE_E_NOTFOUND);
    ck_assert_int_eq(gw_mpi_history(DB, A, a.person_id, &hist, &err), BASE_OK);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(hist, 2), "action")),
                     "split");
    json_decref(hist);
}
END_TEST

START_TEST(database_errors_leave_the_connection_usable)
{
    struct gw_mpi_ingest_result res;
    struct base_err err = {0};
    json_t *p = pt(1, "A-1", RESID_A, "张三", "1949-12-31", "female", NULL, NULL);

    ck_assert_int_eq(count("SELECT count(*) FROM (SELECT 1) x"), 1);
    PQclear(PQexecParams(DB, "DROP TABLE mpi.block", 0, NULL, NULL, NULL, NULL, 0));
    ck_assert_int_eq(gw_mpi_ingest_identity(DB, &CFG, "hosp-1", p, &res, &err), BASE_E_IO);
    ck_assert_str_eq(err.msg, "patient index unavailable"); /* no SQL, no values */
    ck_assert_int_eq(PQpipelineStatus(DB), PQ_PIPELINE_OFF);
    ck_assert_int_eq(PQtransactionStatus(DB), PQTRANS_IDLE);
    ck_assert_int_eq(count("SELECT count(*) FROM mpi.record"), 0);
    json_decref(p);
}
END_TEST

START_TEST(twins_go_to_review)
{
    struct gw_mpi_ingest_result a;
    struct gw_mpi_ingest_result b;

    a = ingest(1, pt(1, "A-1", NULL, "王思涵", "2010-03-04", "female", "13800138000", ADDR));
    b = ingest(1, pt(1, "A-2", NULL, "王思雨", "2010-03-04", "female", "13800138000", ADDR));
    ck_assert_str_ne(a.person_id, b.person_id);
    ck_assert_int_ne(b.outcome, GW_MPI_LINKED_PROBABILISTIC);
}
END_TEST

/* Two gateway nodes (two connections) report the same 60 people at once,
 * each from its own member: the advisory lock must keep them one person each. */
struct racer {
    const char *dbname;
    int member;
    int failures;
};

static void *
race(void *arg)
{
    struct racer *rc = arg;
    const char *keys[] = {"dbname", "dbname", NULL};
    const char *vals[] = {getenv("FHIRGATE_TEST_DATABASE_URL"), rc->dbname, NULL};
    PGconn *db = PQconnectdbParams(keys, vals, 1);
    struct gw_mpi_config cfg = gw_mpi_config_default();

    cfg.today = 20260115;
    for (int i = 0; i < 60 && PQstatus(db) == CONNECTION_OK; i++) {
        char d17[32];
        char resid[19];
        char mrn[16];
        char m[16];
        struct gw_mpi_ingest_result res;
        json_t *p;

        snprintf(d17, sizeof(d17), "210102198001%02u%03u", 1u + (unsigned)i % 28u,
                 100u + (unsigned)i);
        memcpy(resid, d17, 17);
        resid[17] = gw_mpi_resid_check_char(d17);
        resid[18] = '\0';
        snprintf(mrn, sizeof(mrn), "R-%d", i);
        snprintf(m, sizeof(m), "hosp-%d", rc->member);
        p = pt(rc->member, mrn, resid, NULL, NULL, NULL, NULL, NULL);
        if (gw_mpi_ingest_identity(db, &cfg, m, p, &res, NULL) != BASE_OK)
            rc->failures++;
        json_decref(p);
    }
    if (PQstatus(db) != CONNECTION_OK)
        rc->failures++;
    PQfinish(db);
    return NULL;
}

START_TEST(concurrent_nodes_do_not_split_people)
{
    char name[64];
    pthread_t t[2];
    struct racer r[2];

    snprintf(name, sizeof(name), "mpi_store_%d", (int)getpid());
    for (int i = 0; i < 2; i++) {
        r[i] = (struct racer){name, i + 1, 0};
        ck_assert_int_eq(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(r[i].failures, 0);
    }
    ck_assert_int_eq(count("SELECT count(*) FROM mpi.record"), 120);
    ck_assert_int_eq(count("SELECT count(*) FROM mpi.person"), 60);
}
END_TEST

Suite *mpi_store_suite(void)
{
    Suite *s = suite_create("mpi_store");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, three_members_link);
    tcase_add_test(tc, fhir_answers);
    tcase_add_test(tc, broad_searches_are_capped);
    tcase_add_test(tc, match_grades);
    tcase_add_test(tc, conflicting_resident_ids_never_link);
    tcase_add_test(tc, review_queue_and_unmerge);
    tcase_add_test(tc, manual_merge_and_not_same);
    tcase_add_test(tc, member_merges_are_followed);
    tcase_add_test(tc, mpi_command_line);
    tcase_add_test(tc, split_undoes_a_wrong_link);
    tcase_add_test(tc, database_errors_leave_the_connection_usable);
    tcase_add_test(tc, twins_go_to_review);
    tcase_add_test(tc, concurrent_nodes_do_not_split_people);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
