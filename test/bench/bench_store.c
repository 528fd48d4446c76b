/*
 * bench_store — the adapter store against a durable PostgreSQL.
 *
 *   bench_store apply URL adt|oru batched|naive N BATCH
 *       apply N converter-shaped transaction Bundles (HL7 ADT: Patient,
 *       Encounter, Practitioner, Provenance; ORU: Patient, DiagnosticReport,
 *       8 Observations, Provenance), each a message with a ledger key;
 *       batched = BATCH messages per transaction (adapter_store_apply_batch),
 *       naive = one transaction and commit per message (the peer).
 *       Prints "bundles_per_s R" and "resources_per_s R".
 *   bench_store load URL PATIENTS PER_PATIENT
 *       generate a store of PATIENTS × PER_PATIENT resources (Observations,
 *       Encounters, Conditions) through the store's own write path.
 *   bench_store search URL PATIENTS QUERIES
 *       the hot query Observation?patient=…&_sort=-date&_count=50 for
 *       random patients, as a searchset Bundle; prints p50_ms and p99_ms.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "adapters/store/adapter_store.h"
#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "fhir/json/fhir_json.h"

#define BASE "https://bench.example/fhir"

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
must(int rc)
{
    if (rc != BASE_OK) {
        fprintf(stderr, "bench_store: building a Bundle failed\n");
        exit(2);
    }
}

/* CPU seconds of this process and of the connection's server backend
 * (/proc/PID/stat utime + stime): on a shared machine wall time depends on
 * what the scheduler grants, CPU time per Bundle does not. */
static double
client_cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double
server_cpu_s(PGconn *c)
{
    char path[64];
    char buf[1024];
    FILE *f;
    unsigned long ut = 0;
    unsigned long st = 0;
    const char *p;

    snprintf(path, sizeof(path), "/proc/%d/stat", PQbackendPID(c));
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    if (fgets(buf, sizeof(buf), f) == NULL || (p = strrchr(buf, ')')) == NULL ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) {
        fclose(f);
        return 0;
    }
    fclose(f);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static json_t *
parse_or_die(const char *text)
{
    json_t *v = NULL;
    struct base_err err = {0};

    if (fhir_json_parse(text, strlen(text), NULL, &v, &err) != BASE_OK) {
        fprintf(stderr, "bench_store: bad generated JSON: %s at %s\n", err.msg, err.where);
        exit(2);
    }
    return v;
}

/* ---- converter-shaped Bundles ------------------------------------------------------ */

static int
put_entry(char *out, size_t cap, const char *full_url, const char *resource, const char *url)
{
    return snprintf(out, cap,
                    "{\"fullUrl\":\"%s\",\"resource\":%s,\"request\":{\"method\":\"PUT\","
                    "\"url\":\"%s\"}}",
                    full_url, resource, url);
}

static json_t *
adt(long i)
{
    char pat[1024];
    char enc[1024];
    char prac[512];
    char prov[1024];
    char e[4][1600];
    char text[8192];

    snprintf(pat, sizeof(pat),
             "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:oid:2.16.156.10011."
             "1.3\",\"value\":\"11010119800101%04ld\"},{\"system\":\"https://bench.example/mrn\","
             "\"value\":\"A%ld\"}],\"name\":[{\"text\":\"李伟\",\"family\":\"Li\",\"given\":["
             "\"Wei\"]}],\"gender\":\"male\",\"birthDate\":\"19%02ld-0%ld-1%ld\",\"telecom\":[{"
             "\"system\":\"phone\",\"value\":\"138%08ld\"}],\"address\":[{\"city\":\"Beijing\","
             "\"line\":[\"1 Chang'an Ave\"]}]}",
             i % 10000, i, i % 100, 1 + i % 9, i % 10, i);
    snprintf(enc, sizeof(enc),
             "{\"resourceType\":\"Encounter\",\"identifier\":[{\"system\":\"https://bench."
             "example/visit\",\"value\":\"V%ld\"}],\"status\":\"in-progress\",\"class\":{"
             "\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\"IMP\"},"
             "\"subject\":{\"reference\":\"urn:uuid:00000000-0000-4000-8000-%012ld\"},"
             "\"participant\":[{\"individual\":{\"reference\":\"urn:uuid:00000000-0000-4000-9000-"
             "%012ld\"}}],\"period\":{\"start\":\"2026-01-0%ldT08:00:00+08:00\"},\"location\":[{"
             "\"location\":{\"display\":\"Ward %ld\"}}]}",
             i, i, i % 50, 1 + i % 9, i % 20);
    snprintf(prac, sizeof(prac),
             "{\"resourceType\":\"Practitioner\",\"identifier\":[{\"system\":\"https://bench."
             "example/staff\",\"value\":\"D%ld\"}],\"name\":[{\"family\":\"Wang\",\"given\":["
             "\"Dr %ld\"]}]}",
             i % 50, i % 50);
    snprintf(prov, sizeof(prov),
             "{\"resourceType\":\"Provenance\",\"id\":\"p%ld\",\"target\":[{\"reference\":"
             "\"urn:uuid:00000000-0000-4000-8000-%012ld\"},{\"reference\":\"urn:uuid:00000000-"
             "0000-4000-a000-%012ld\"}],\"recorded\":\"2026-01-01T08:00:00+08:00\",\"agent\":[{"
             "\"who\":{\"display\":\"HIS\"}}],\"entity\":[{\"role\":\"source\",\"what\":{"
             "\"identifier\":{\"value\":\"MSG%ld\"}}}]}",
             i, i, i, i);
    {
        char fu[80];
        char url[160];

        snprintf(fu, sizeof(fu), "urn:uuid:00000000-0000-4000-8000-%012ld", i);
        snprintf(url, sizeof(url), "Patient?identifier=https://bench.example/mrn|A%ld", i);
        put_entry(e[0], sizeof(e[0]), fu, pat, url);
        snprintf(fu, sizeof(fu), "urn:uuid:00000000-0000-4000-a000-%012ld", i);
        snprintf(url, sizeof(url), "Encounter?identifier=https://bench.example/visit|V%ld", i);
        put_entry(e[1], sizeof(e[1]), fu, enc, url);
        snprintf(fu, sizeof(fu), "urn:uuid:00000000-0000-4000-9000-%012ld", i % 50);
        snprintf(url, sizeof(url), "Practitioner?identifier=https://bench.example/staff|D%ld",
                 i % 50);
        put_entry(e[2], sizeof(e[2]), fu, prac, url);
        snprintf(url, sizeof(url), "Provenance/p%ld", i);
        put_entry(e[3], sizeof(e[3]), "urn:uuid:00000000-0000-4000-b000-000000000000", prov, url);
    }
    snprintf(text, sizeof(text),
             "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[%s,%s,%s,%s]}", e[0],
             e[1], e[2], e[3]);
    return parse_or_die(text);
}

static const char *const loinc[][3] = {
    {"718-7", "Hemoglobin", "g/dL"},
    {"789-8", "Erythrocytes", "10*6/uL"},
    {"6690-2", "Leukocytes", "10*3/uL"},
    {"777-3", "Platelets", "10*3/uL"},
    {"4544-3", "Hematocrit", "%"},
    {"787-2", "MCV", "fL"},
    {"785-6", "MCH", "pg"},
    {"786-4", "MCHC", "g/dL"},
};

static void
oru_observation(long i, int k, char *out, size_t cap)
{
    snprintf(out, cap,
             "{\"fullUrl\":\"urn:uuid:00000000-0000-4000-c%03d-%012ld\",\"resource\":{"
             "\"resourceType\":\"Observation\",\"identifier\":[{\"system\":\"https://bench."
             "example/result\",\"value\":\"F%ld-%d\"}],\"status\":\"final\",\"category\":[{"
             "\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/observation-"
             "category\",\"code\":\"laboratory\"}]}],\"code\":{\"coding\":[{\"system\":\"http://"
             "loinc.org\",\"code\":\"%s\",\"display\":\"%s\"}]},\"subject\":{\"reference\":\"urn:"
             "uuid:00000000-0000-4000-8000-%012ld\"},\"effectiveDateTime\":\"2026-01-0%ldT09:%02d:"
             "00+08:00\",\"valueQuantity\":{\"value\":%ld.%d,\"unit\":\"%s\",\"system\":\"http://"
             "unitsofmeasure.org\",\"code\":\"%s\"},\"referenceRange\":[{\"low\":{\"value\":4.0},"
             "\"high\":{\"value\":11.0}}],\"interpretation\":[{\"coding\":[{\"system\":\"http://"
             "terminology.hl7.org/CodeSystem/v3-ObservationInterpretation\",\"code\":\"N\"}]}]},"
             "\"request\":{\"method\":\"PUT\",\"url\":\"Observation?identifier=https://bench."
             "example/result|F%ld-%d\"}}",
             k, i, i, k, loinc[k][0], loinc[k][1], i % 1000, 1 + i % 9, k, 3 + i % 10, k,
             loinc[k][2], loinc[k][2], i, k);
}

static json_t *
oru(long i)
{
    static char text[32768];
    char obs[8][1600];
    char pat[512];
    char dr[1024];
    char prov[512];
    long p = i % 1000;

    for (int k = 0; k < 8; k++)
        oru_observation(i, k, obs[k], sizeof(obs[k]));
    snprintf(pat, sizeof(pat),
             "{\"fullUrl\":\"urn:uuid:00000000-0000-4000-8000-%012ld\",\"resource\":{"
             "\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"https://bench.example/"
             "mrn\",\"value\":\"A%ld\"}]},\"request\":{\"method\":\"PUT\",\"url\":\"Patient?"
             "identifier=https://bench.example/mrn|A%ld\"}}",
             i % 1000, p, p);
    snprintf(dr, sizeof(dr),
             "{\"fullUrl\":\"urn:uuid:00000000-0000-4000-d000-%012ld\",\"resource\":{"
             "\"resourceType\":\"DiagnosticReport\",\"identifier\":[{\"system\":\"https://bench."
             "example/order\",\"value\":\"F%ld\"}],\"status\":\"final\",\"code\":{\"coding\":[{"
             "\"system\":\"http://loinc.org\",\"code\":\"58410-2\"}]},\"subject\":{\"reference\":"
             "\"urn:uuid:00000000-0000-4000-8000-%012ld\"},\"effectiveDateTime\":\"2026-01-01T09:"
             "00:00+08:00\",\"result\":[{\"reference\":\"urn:uuid:00000000-0000-4000-c000-%012ld\"}"
             ",{\"reference\":\"urn:uuid:00000000-0000-4000-c001-%012ld\"}]},\"request\":{"
             "\"method\":\"PUT\",\"url\":\"DiagnosticReport?identifier=https://bench.example/"
             "order|F%ld\"}}",
             i, i, i % 1000, i, i, i);
    snprintf(prov, sizeof(prov),
             "{\"resource\":{\"resourceType\":\"Provenance\",\"id\":\"r%ld\",\"target\":[{"
             "\"reference\":\"urn:uuid:00000000-0000-4000-d000-%012ld\"}],\"recorded\":"
             "\"2026-01-01T09:00:00+08:00\",\"agent\":[{\"who\":{\"display\":\"LIS\"}}]},"
             "\"request\":{\"method\":\"PUT\",\"url\":\"Provenance/r%ld\"}}",
             i, i, i);
    snprintf(text, sizeof(text),
             "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[%s,%s,%s,%s,%s,%s,"
             "%s,%s,%s,%s,%s]}",
             pat, dr, obs[0], obs[1], obs[2], obs[3], obs[4], obs[5], obs[6], obs[7], prov);
    return parse_or_die(text);
}

/* ---- apply throughput ---------------------------------------------------------------- */

static int
ack(void *ctx, const struct adapter_store_result *r, struct base_arena *a, const char **out)
{
    (void)ctx;
    *out = base_arena_sprintf(a, "MSH|^~\\&|ADAPTER|HOSP|HIS|HOSP|20260101||ACK|1|P|2.5\rMSA|%s|1",
                              r->rc == BASE_OK ? "AA" : "AE");
    return BASE_OK;
}

static int
run_apply(PGconn *c, const char *kind, const char *mode, long n, long batch)
{
    struct adapter_store_opts o = {BASE, 0};
    bool is_adt = strcmp(kind, "adt") == 0;
    long base = (long)time(NULL) % 100000 * 100000; /* fresh messages on every run */
    long entries = 0;
    double t0 = now_s();
    double c0 = client_cpu_s();
    double s0 = server_cpu_s(c);
    double gen = 0;

    for (long i = 0; i < n; i += batch) {
        struct base_arena *a = base_arena_new(0);
        long k = n - i < batch ? n - i : batch;
        struct adapter_store_item *items = calloc((size_t)k, sizeof(*items));
        struct adapter_store_result *res = calloc((size_t)k, sizeof(*res));
        char(*ids)[32] = calloc((size_t)k, 32);
        struct base_err err = {0};

        double g0 = client_cpu_s();

        for (long j = 0; j < k; j++) {
            json_t *b = is_adt ? adt(base + i + j) : oru(base + i + j);

            snprintf(ids[j], 32, "%ld", base + i + j);
            items[j] = (struct adapter_store_item){.bundle = b,
                                                   .source = is_adt ? "HIS^HOSP" : "LIS^HOSP",
                                                   .message_id = ids[j],
                                                   .ack = ack};
            entries += (long)json_array_size(json_object_get(b, "entry"));
        }
        gen += client_cpu_s() - g0; /* making the Bundles is the converter's cost */
        if (strcmp(mode, "batched") == 0) {
            if (adapter_store_apply_batch(c, a, &o, items, (size_t)k, res, &err) != BASE_OK) {
                fprintf(stderr, "bench_store: batch failed: %s (%s)\n", err.msg, err.log_detail);
                return 1;
            }
        } else {
            for (long j = 0; j < k; j++) {
                if (adapter_store_apply_batch(c, a, &o, &items[j], 1, &res[j], &err) != BASE_OK)
                    return 1;
            }
        }
        for (long j = 0; j < k; j++) {
            if (res[j].rc != BASE_OK) {
                fprintf(stderr, "bench_store: bundle failed: %s at %s (%s)\n", res[j].err.msg,
                        res[j].err.where, res[j].err.log_detail);
                return 1;
            }
            json_decref((json_t *)items[j].bundle);
        }
        free(items);
        free(res);
        free(ids);
        base_arena_free(a);
    }
    {
        double wall = now_s() - t0;
        double cc = client_cpu_s() - c0 - gen;
        double sc = server_cpu_s(c) - s0;

        printf("bundles_per_s %.1f\nresources_per_s %.1f\nclient_cpu_us_per_bundle %.0f\n"
               "server_cpu_us_per_bundle %.0f\nbundles_per_cpu_s %.1f\n",
               (double)n / wall, (double)entries / wall, cc * 1e6 / (double)n, sc * 1e6 / (double)n,
               (double)n / (cc + sc));
    }
    return 0;
}

/* ---- reindexing ------------------------------------------------------------------------------ */

/* A full reindex pass over what the apply runs wrote, as the adapter runs
 * it after an upgrade (batches of 200 under the writers' lock). */
static int
run_reindex(PGconn *c)
{
    char fp[65];
    bool needed = false;
    bool finished = false;
    size_t total = 0;
    struct base_err err = {0};
    PGresult *r;
    double t0;
    double c0;
    double s0;

    if (adapter_store_index_fingerprint(fp, &err) != BASE_OK ||
        adapter_store_reindex_begin(c, fp, &needed, &err) != BASE_OK)
        return 1;
    /* as if an older build had written the rows */
    r = PQexec(c, "UPDATE store.index_state SET fingerprint = 'older build', pending = NULL");
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return 1;
    PQclear(r);
    t0 = now_s();
    c0 = client_cpu_s();
    s0 = server_cpu_s(c);
    if (adapter_store_reindex_begin(c, fp, &needed, &err) != BASE_OK || !needed)
        return 1;
    while (!finished) {
        size_t n = 0;

        if (adapter_store_reindex_step(c, fp, 200, &n, &finished, &err) != BASE_OK) {
            fprintf(stderr, "bench_store: reindex failed: %s (%s)\n", err.msg, err.log_detail);
            return 1;
        }
        total += n;
    }
    {
        double wall = now_s() - t0;
        double cpu = client_cpu_s() - c0 + server_cpu_s(c) - s0;

        printf("resources_per_s %.1f\nresources_per_cpu_s %.1f\nresources %zu\n",
               (double)total / wall, (double)total / cpu, total);
    }
    return 0;
}

/* ---- the search data set ------------------------------------------------------------------ */

static void
load_entry(struct base_buf *b, long p, long k, bool first)
{
    const char *type = k % 10 == 8 ? "Encounter" : k % 10 == 9 ? "Condition" : "Observation";
    int day = (int)(1 + k % 28);
    int month = (int)(1 + (k / 28) % 12);
    int year = (int)(2000 + (k / 336) % 26);

    must(base_buf_appendf(b, "%s{\"resource\":{\"resourceType\":\"%s\",\"id\":\"%c%ld-%ld\",",
                          first ? "" : ",", type, type[0], p, k));
    if (type[0] == 'O')
        must(base_buf_appendf(
            b,
            "\"status\":\"final\",\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7."
            "org/CodeSystem/observation-category\",\"code\":\"laboratory\"}]}],\"code\":{"
            "\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"%s\"}]},\"subject\":{"
            "\"reference\":\"Patient/p%ld\"},\"effectiveDateTime\":\"%04d-%02d-%02dT10:00:00Z\","
            "\"valueQuantity\":{\"value\":%ld.%ld,\"system\":\"http://unitsofmeasure.org\","
            "\"code\":\"%s\"}}",
            loinc[k % 8][0], p, year, month, day, 3 + k % 10, k % 10, loinc[k % 8][2]));
    else if (type[0] == 'E')
        must(base_buf_appendf(b,
                              "\"status\":\"finished\",\"class\":{\"code\":\"AMB\"},\"subject\":"
                              "{\"reference\":\"Patient/p%ld\"},\"period\":{\"start\":"
                              "\"%04d-%02d-%02dT09:00:00Z\",\"end\":\"%04d-%02d-%02dT11:00:00Z\"}}",
                              p, year, month, day, year, month, day));
    else
        must(base_buf_appendf(b,
                              "\"clinicalStatus\":{\"coding\":[{\"code\":\"active\"}]},\"code\":"
                              "{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":"
                              "\"%ld\"}]},\"subject\":{\"reference\":\"Patient/p%ld\"},"
                              "\"onsetDateTime\":\"%04d-%02d-%02d\"}",
                              44054006 + k % 50, p, year, month, day));
    must(base_buf_appendf(b, ",\"request\":{\"method\":\"PUT\",\"url\":\"%s/%c%ld-%ld\"}}", type,
                          type[0], p, k));
}

/* One patient's record as a few transactions of up to 500 resources. */
static int
run_load(PGconn *c, long patients, long per)
{
    struct adapter_store_opts o = {BASE, 0};
    double t0 = now_s();
    long done = 0;

    for (long p = 0; p < patients; p++) {
        struct base_arena *a = base_arena_new(0);
        struct adapter_store_item items[8];
        struct adapter_store_result res[8];
        json_t *bundles[8];
        size_t nb = 0;
        struct base_err err = {0};

        for (long k0 = -1; k0 < per; k0 += 500) {
            struct base_buf b;

            base_buf_init(&b, 64u << 20);
            must(base_buf_append_cstr(&b, "{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
                                          "\"entry\":["));
            if (k0 < 0)
                must(base_buf_appendf(
                    &b,
                    "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"p%ld\",\"identifier\":[{"
                    "\"system\":\"https://bench.example/mrn\",\"value\":\"L%ld\"}],\"gender\":"
                    "\"%s\"},\"request\":{\"method\":\"PUT\",\"url\":\"Patient/p%ld\"}}",
                    p, p, p % 2 ? "male" : "female", p));
            for (long k = k0 < 0 ? 0 : k0; k < k0 + 500 && k < per; k++)
                load_entry(&b, p, k, k0 < 0 ? false : k == k0);
            must(base_buf_append_cstr(&b, "]}"));
            bundles[nb] = parse_or_die(b.data);
            items[nb] = (struct adapter_store_item){.bundle = bundles[nb]};
            nb++;
            base_buf_fini(&b);
        }
        if (adapter_store_apply_batch(c, a, &o, items, nb, res, &err) != BASE_OK) {
            fprintf(stderr, "bench_store: load failed: %s (%s)\n", err.msg, err.log_detail);
            return 1;
        }
        for (size_t i = 0; i < nb; i++) {
            if (res[i].rc != BASE_OK) {
                fprintf(stderr, "bench_store: load bundle failed: %s at %s (%s)\n", res[i].err.msg,
                        res[i].err.where, res[i].err.log_detail);
                return 1;
            }
            json_decref(bundles[i]);
        }
        done += per + 1;
        base_arena_free(a);
        if (p % 100 == 99)
            fprintf(stderr, "bench_store: loaded %ld resources (%.0f/s)\n", done,
                    (double)done / (now_s() - t0));
    }
    printf("resources %ld\nresources_per_s %.1f\n", done, (double)done / (now_s() - t0));
    return 0;
}

/* ---- hot query latency ---------------------------------------------------------------------- */

static int
cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x;
    double b = *(const double *)y;

    return a < b ? -1 : a > b;
}

static int
run_search(PGconn *c, long patients, long queries)
{
    struct adapter_store_search_opts o = {BASE, 0};
    double *ms = calloc((size_t)queries, sizeof(*ms));
    uint64_t seed = 88172645463325252ULL;
    size_t bytes = 0;

    for (long q = 0; q < queries; q++) {
        struct base_arena *a = base_arena_new(0);
        struct fhir_search *s = NULL;
        struct base_err err = {0};
        struct base_buf out;
        char query[128];
        double t0;

        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        snprintf(query, sizeof(query), "patient=Patient/p%" PRIu64 "&_sort=-date&_count=50",
                 seed % (uint64_t)patients);
        base_buf_init(&out, 64u << 20);
        t0 = now_s();
        if (fhir_search_parse(a, "Observation", query, strlen(query), NULL, &s, &err) != BASE_OK ||
            adapter_store_search_bundle(c, a, s, &o, &out, &err) != BASE_OK) {
            fprintf(stderr, "bench_store: search failed: %s (%s)\n", err.msg, err.log_detail);
            return 1;
        }
        ms[q] = (now_s() - t0) * 1000.0;
        bytes += out.len;
        base_buf_fini(&out);
        base_arena_free(a);
    }
    qsort(ms, (size_t)queries, sizeof(*ms), cmp_double);
    printf("p50_ms %.3f\np99_ms %.3f\nbundle_bytes %zu\n", ms[queries / 2],
           ms[(size_t)((double)queries * 0.99)], bytes / (size_t)queries);
    free(ms);
    return 0;
}

static long
arg(const char *s)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);

    if (end == s || *end != '\0' || v <= 0) {
        fprintf(stderr, "bench_store: bad number argument\n");
        exit(2);
    }
    return v;
}

int
main(int argc, char **argv)
{
    PGconn *c;
    int rc = 2;

    base_log_set_level(BASE_LOG_WARN);
    if (argc < 3) {
        fprintf(stderr, "usage: bench_store apply|load|search URL …\n");
        return 2;
    }
    c = PQconnectdb(argv[2]);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "bench_store: cannot connect\n");
        return 2;
    }
    if (strcmp(argv[1], "apply") == 0 && argc == 7)
        rc = run_apply(c, argv[3], argv[4], arg(argv[5]), arg(argv[6]));
    else if (strcmp(argv[1], "reindex") == 0 && argc == 3)
        rc = run_reindex(c);
    else if (strcmp(argv[1], "load") == 0 && argc == 5)
        rc = run_load(c, arg(argv[3]), arg(argv[4]));
    else if (strcmp(argv[1], "search") == 0 && argc == 5)
        rc = run_search(c, arg(argv[3]), arg(argv[4]));
    else
        fprintf(stderr, "bench_store: bad arguments\n");
    PQfinish(c);
    return rc;
}
