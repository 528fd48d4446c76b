/* Patient/ID/$everything against the private PostgreSQL: the compartment
 * is exactly what the matcher finds for the R4 compartment parameters,
 * includes are referenced resources, keyset paging visits every row once,
 * and a large record streams in bounded memory. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "adapters/store/store_int.h"
#include "fhir/base/log.h"
#include "fhir/search/fhir_search.h"
#include "test/integration/store_corpus.h"

#define BIG_PATIENT "big-patient"
#define BIG_N       5000

static const struct adapter_store_search_opts sopts = {SC_BASE, 0};

static json_t *
big_observation(int i)
{
    char text[4096];
    char note[2100];

    /* ~2 KB of narrative each: 5000 of them are 10+ MB of text, so holding
     * the whole record at once would show in the memory check below. */
    memset(note, 'x', 2048);
    note[2048] = '\0';
    snprintf(text, sizeof(text),
             "{\"resourceType\":\"Observation\",\"id\":\"big-%d\",\"status\":\"final\","
             "\"text\":{\"status\":\"generated\",\"div\":\"<div xmlns=\\\"http://www.w3.org/"
             "1999/xhtml\\\">%s</div>\"},"
             "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"2339-0\"}]},"
             "\"subject\":{\"reference\":\"Patient/" BIG_PATIENT "\"},"
             "\"performer\":[{\"reference\":\"Practitioner/example\"}],"
             "\"effectiveDateTime\":\"2021-%02d-%02dT10:00:00Z\","
             "\"valueQuantity\":{\"value\":%d.%d,\"system\":\"http://unitsofmeasure.org\","
             "\"code\":\"mg/dL\"}}",
             i, note, 1 + i % 12, 1 + i % 28, 70 + i % 50, i % 10);
    return sit_json(text);
}

static void
load_big(PGconn *c, struct base_arena *a)
{
    struct adapter_store_item items[10];
    struct adapter_store_result res[10];
    json_t *bundles[10];
    json_t *obs[100];
    struct base_err err = {0};
    struct adapter_store_opts o = {SC_BASE, 0};

    sc_apply(c, a,
             sit_json("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{"
                      "\"resource\":{\"resourceType\":\"Patient\",\"id\":\"" BIG_PATIENT "\"},"
                      "\"request\":{\"method\":\"PUT\",\"url\":\"Patient/" BIG_PATIENT "\"}}]}"));
    for (int batch = 0; batch < BIG_N / 1000; batch++) {
        for (int b = 0; b < 10; b++) {
            for (int k = 0; k < 100; k++)
                obs[k] = big_observation(batch * 1000 + b * 100 + k);
            bundles[b] = sc_put_bundle(obs, 100);
            for (int k = 0; k < 100; k++)
                json_decref(obs[k]);
            items[b] = (struct adapter_store_item){.bundle = bundles[b]};
        }
        ck_assert_int_eq(adapter_store_apply_batch(c, a, &o, items, 10, res, &err), BASE_OK);
        for (int b = 0; b < 10; b++) {
            ck_assert_int_eq(res[b].rc, BASE_OK);
            json_decref(bundles[b]);
        }
    }
}

static void
setup(void)
{
    static bool done;

    base_log_set_level(BASE_LOG_WARN);
    sc_setup(&done, "store_everything", 200, 40, load_big);
}

/* ---- helpers ------------------------------------------------------------------------ */

struct rows {
    char **keys; /* "Type/id" */
    int *mode;
    size_t n;
};

static int
keep(void *ctx, const struct adapter_store_row *row, enum fhir_bundle_mode mode)
{
    struct rows *r = ctx;
    char key[256];

    snprintf(key, sizeof(key), "%s/%s", row->type, row->id);
    r->keys = realloc(r->keys, (r->n + 1) * sizeof(*r->keys));
    r->mode = realloc(r->mode, (r->n + 1) * sizeof(*r->mode));
    r->keys[r->n] = strdup(key);
    r->mode[r->n++] = mode;
    return BASE_OK;
}

static void
rows_free(struct rows *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->keys[i]);
    free(r->keys);
    free(r->mode);
    memset(r, 0, sizeof(*r));
}

static bool
has(const struct rows *r, const char *key, int mode)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->keys[i], key) == 0 && (mode < 0 || r->mode[i] == mode))
            return true;
    }
    return false;
}

/* The compartment by the matcher: every stored resource that one of the
 * compartment's (type, parameter) pairs selects for Patient/id. */
static void
expected_members(PGconn *c, struct base_arena *a, const char *pid, struct rows *out)
{
    const char *types[64];
    const char *params[64];
    size_t n = st_compartment(types, params, 64);
    PGresult *r = PQexecParams(c, "SELECT content::text FROM store.resource WHERE NOT deleted", 0,
                               NULL, NULL, NULL, NULL, 0);
    struct fhir_search_match_opts mo = {0, SC_BASE};

    ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    for (int row = 0; row < PQntuples(r); row++) {
        json_t *res = sit_json(PQgetvalue(r, row, 0));
        const char *type = json_string_value(json_object_get(res, "resourceType"));
        const char *id = json_string_value(json_object_get(res, "id"));
        bool in = strcmp(type, "Patient") == 0 && strcmp(id, pid) == 0;

        for (size_t i = 0; i < n && !in; i++) {
            char q[256];
            struct fhir_search *s = NULL;

            if (strcmp(types[i], type) != 0)
                continue;
            snprintf(q, sizeof(q), "%s=Patient/%s", params[i], pid);
            ck_assert_int_eq(fhir_search_parse(a, type, q, strlen(q), NULL, &s, NULL), BASE_OK);
            ck_assert_int_eq(fhir_search_match(s, res, &mo, a, &in, NULL), BASE_OK);
        }
        if (in)
            keep(out, &(struct adapter_store_row){type, id, 1, 0, false, NULL, 0},
                 FHIR_BUNDLE_MODE_MATCH);
        json_decref(res);
    }
    PQclear(r);
}

/* ---- tests ------------------------------------------------------------------------------ */

START_TEST(compartment_matches_the_matcher)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_everything e = {
        .patient_id = "79a66c97-6131-3213-f3c9-4606946ab056", .count = 1000, .total = true};
    struct rows got = {0};
    struct rows want = {0};
    struct adapter_store_page page;
    struct base_err err = {0};
    size_t members = 0;

    ck_assert_int_eq(adapter_store_everything(c, a, &e, &sopts, keep, &got, &page, &err), BASE_OK);
    expected_members(c, a, e.patient_id, &want);
    ck_assert_uint_gt(want.n, 20);
    for (size_t i = 0; i < want.n; i++)
        ck_assert_msg(has(&got, want.keys[i], FHIR_BUNDLE_MODE_MATCH), "missing %s", want.keys[i]);
    for (size_t i = 0; i < got.n; i++) {
        if (got.mode[i] == FHIR_BUNDLE_MODE_MATCH) {
            ck_assert_msg(has(&want, got.keys[i], -1), "extra member %s", got.keys[i]);
            members++;
        } else {
            /* an include: referenced by a member, not a member itself */
            char pat[300];
            const char *p[1] = {pat};

            ck_assert(!has(&want, got.keys[i], -1));
            snprintf(pat, sizeof(pat), "%%\"%s\"%%", got.keys[i]);
            ck_assert_int_gt(sit_count(c,
                                       "SELECT count(*) FROM store.resource WHERE content::text"
                                       " LIKE $1",
                                       1, p),
                             0);
        }
    }
    ck_assert_uint_eq(members, want.n);
    /* the CDA converter's goals, family history and care teams: the
     * patient's own, and a team the patient is a member of */
    ck_assert(has(&got, "Goal/care-g-4", FHIR_BUNDLE_MODE_MATCH));
    ck_assert(has(&got, "FamilyMemberHistory/care-f-14", FHIR_BUNDLE_MODE_MATCH));
    ck_assert(has(&got, "CareTeam/care-t-4", FHIR_BUNDLE_MODE_MATCH));
    ck_assert(has(&got, "CareTeam/care-t-3", FHIR_BUNDLE_MODE_MATCH));
    ck_assert(!has(&got, "Goal/care-g-3", -1));
    ck_assert_uint_gt(got.n, members); /* practitioners, organizations, encounters… */
    ck_assert(page.has_total);
    ck_assert_uint_eq(page.total, got.n);
    ck_assert_str_eq(got.keys[0], "Patient/79a66c97-6131-3213-f3c9-4606946ab056");
    rows_free(&got);
    rows_free(&want);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

START_TEST(keyset_pages_visit_each_row_once)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_everything e = {.patient_id = "79a66c97-6131-3213-f3c9-4606946ab056",
                                         .count = 1000};
    struct rows all = {0};
    struct rows paged = {0};
    struct adapter_store_page page;
    struct base_err err = {0};

    ck_assert_int_eq(adapter_store_everything(c, a, &e, &sopts, keep, &all, &page, &err), BASE_OK);
    e.count = 7;
    do {
        size_t before = paged.n;

        ck_assert_int_eq(adapter_store_everything(c, a, &e, &sopts, keep, &paged, &page, &err),
                         BASE_OK);
        ck_assert_uint_le(paged.n - before, 7);
        e.cursor = page.next_cursor;
    } while (e.cursor != NULL);
    ck_assert_uint_eq(paged.n, all.n);
    for (size_t i = 0; i < all.n; i++)
        ck_assert_str_eq(paged.keys[i], all.keys[i]);
    rows_free(&all);
    rows_free(&paged);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

START_TEST(type_since_and_unknown_patient)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    const char *types[] = {"Condition"};
    struct adapter_store_everything e = {.patient_id = "79a66c97-6131-3213-f3c9-4606946ab056",
                                         .count = 1000,
                                         .types = types,
                                         .n_types = 1};
    struct rows got = {0};
    struct adapter_store_page page;
    struct base_err err = {0};
    const char *bad[] = {"Condition;DROP"};

    ck_assert_int_eq(adapter_store_everything(c, a, &e, &sopts, keep, &got, &page, &err), BASE_OK);
    ck_assert_uint_gt(got.n, 0);
    for (size_t i = 0; i < got.n; i++)
        ck_assert(strncmp(got.keys[i], "Condition/", 10) == 0);
    rows_free(&got);
    e.types = NULL;
    e.n_types = 0;
    e.since_us = INT64_C(4102444800000000); /* 2100: nothing is that new */
    ck_assert_int_eq(adapter_store_everything(c, a, &e, &sopts, keep, &got, &page, &err), BASE_OK);
    ck_assert_uint_eq(got.n, 0);
    e.since_us = 0;
    e.patient_id = "nobody";
    ck_assert_int_eq(adapter_store_everything(c, a, &e, &sopts, keep, &got, &page, &err),
                     BASE_E_NOTFOUND);
    base_err_clear(&err);
    e.patient_id = "79a66c97-6131-3213-f3c9-4606946ab056";
    e.types = bad;
    e.n_types = 1;
    ck_assert_int_eq(adapter_store_everything(c, a, &e, &sopts, keep, &got, &page, &err),
                     BASE_E_INVALID);
    ck_assert_str_eq(err.where, "_type");
    base_err_clear(&err);
    e.types = NULL;
    e.n_types = 0;
    e.cursor = "9.x";
    ck_assert_int_eq(adapter_store_everything(c, a, &e, &sopts, keep, &got, &page, &err),
                     BASE_E_INVALID);
    ck_assert_str_eq(err.where, "_cursor");
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

struct counter {
    size_t n;
    size_t bytes;
};

/* start/end select by care date (R4 Patient-everything): the big patient's
 * Observations fall in month 1 + i % 12 of 2021; the Patient is always in. */
START_TEST(start_and_end_are_care_dates)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    static const struct {
        const char *start, *end;
        size_t observations;
    } cases[] = {
        {"2021-03", "2021-03", 417},     /* i % 12 == 2 */
        {"2021-11", NULL, 832},          /* November and December */
        {NULL, "2021-02", 834},          /* January and February */
        {"2021-03-01", "2021-02-28", 0}, /* an empty range */
        {"2022", NULL, 0},
        {NULL, "2020", 0},
        {"2021", "2021", BIG_N},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        struct adapter_store_everything e = {
            .patient_id = BIG_PATIENT, .count = 1000, .total = true};
        struct rows got = {0};
        struct adapter_store_page page;
        struct base_err err = {0};
        int64_t lo;
        int64_t hi;
        size_t obs = 0;

        if (cases[i].start != NULL) {
            ck_assert(fhir_search_date_range(cases[i].start, strlen(cases[i].start), &lo, &hi));
            e.has_start = true;
            e.start_us = lo;
        }
        if (cases[i].end != NULL) {
            ck_assert(fhir_search_date_range(cases[i].end, strlen(cases[i].end), &lo, &hi));
            e.has_end = true;
            e.end_us = hi;
        }
        /* every page, counting Observations; the Patient comes first */
        do {
            got = (struct rows){0};
            ck_assert_int_eq(adapter_store_everything(c, a, &e, &sopts, keep, &got, &page, &err),
                             BASE_OK);
            if (e.cursor == NULL)
                ck_assert(has(&got, "Patient/" BIG_PATIENT, FHIR_BUNDLE_MODE_MATCH));
            for (size_t r = 0; r < got.n; r++)
                obs += strncmp(got.keys[r], "Observation/", 12) == 0;
            /* the total: those, the Patient, and what they refer to */
            if (e.cursor == NULL)
                ck_assert(page.total >= cases[i].observations + 1 &&
                          page.total <= cases[i].observations + 2);
            rows_free(&got);
            e.cursor = page.next_cursor;
        } while (e.cursor != NULL);
        ck_assert_msg(obs == cases[i].observations, "case %zu: %zu observations", i, obs);
    }
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

static int
count_row(void *ctx, const struct adapter_store_row *row, enum fhir_bundle_mode mode)
{
    struct counter *k = ctx;

    (void)mode;
    k->n++;
    k->bytes += row->len;
    return BASE_OK;
}

static long
max_rss_kib(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* 5000 Observations of one patient: pages of 1000 stream through a callback
 * while the process's peak memory hardly moves, and one page as a Bundle. */
START_TEST(large_record_streams_in_bounded_memory)
{
    PGconn *c = sit_connect();
    struct base_arena *a = base_arena_new(0);
    struct adapter_store_everything e = {.patient_id = BIG_PATIENT, .count = 1000, .total = true};
    struct counter k = {0, 0};
    char cursor[64];
    struct adapter_store_page page;
    struct base_err err = {0};
    struct base_buf out;
    long before;
    int pages = 0;
    json_t *b;

    /* warm up libpq and the arena once, then measure */
    ck_assert_int_eq(adapter_store_everything(c, a, &e, &sopts, count_row, &k, &page, &err),
                     BASE_OK);
    k = (struct counter){0, 0};
    before = max_rss_kib();
    do {
        struct base_arena *pa = base_arena_new(0);

        ck_assert_int_eq(adapter_store_everything(c, pa, &e, &sopts, count_row, &k, &page, &err),
                         BASE_OK);
        ck_assert_uint_eq(page.total, BIG_N + 2); /* + the Patient + Practitioner/example */
        if (page.next_cursor != NULL)
            snprintf(cursor, sizeof(cursor), "%s", page.next_cursor);
        e.cursor = page.next_cursor != NULL ? cursor : NULL;
        base_arena_free(pa);
        pages++;
    } while (e.cursor != NULL);
    ck_assert_uint_eq(k.n, BIG_N + 2);
    ck_assert_int_eq(pages, 6);
    /* a page (1000 rows, ~2.5 MB) at most, not the 12 MB that went by (not
     * under ASan, whose quarantine keeps freed memory) */
    ck_assert_uint_gt(k.bytes, 10u << 20);
#ifndef __SANITIZE_ADDRESS__
    ck_assert_msg(max_rss_kib() - before < 4096, "peak memory grew by %ld KiB for %zu bytes",
                  max_rss_kib() - before, k.bytes);
#else
    (void)before;
#endif
    base_buf_init(&out, 64u << 20);
    e.cursor = NULL;
    e.total = false;
    ck_assert_int_eq(adapter_store_everything_bundle(c, a, &e, &sopts, &out, &err), BASE_OK);
    b = sit_json(out.data);
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 1000);
    ck_assert_ptr_nonnull(strstr(
        json_string_value(json_object_get(json_array_get(json_object_get(b, "link"), 1), "url")),
        SC_BASE "/Patient/" BIG_PATIENT "/$everything?_count=1000&_cursor=1."));
    json_decref(b);
    base_buf_fini(&out);
    PQfinish(c);
    base_arena_free(a);
}
END_TEST

Suite *store_everything_suite(void);

Suite *
store_everything_suite(void)
{
    Suite *s = suite_create("store_everything");
    TCase *tc = tcase_create("everything");

    tcase_add_unchecked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, compartment_matches_the_matcher);
    tcase_add_test(tc, keyset_pages_visit_each_row_once);
    tcase_add_test(tc, type_since_and_unknown_patient);
    tcase_add_test(tc, start_and_end_are_care_dates);
    tcase_add_test(tc, large_record_streams_in_bounded_memory);
    suite_add_tcase(s, tc);
    return s;
}
