/*
 * bench_fhir_validate — FHIR JSON parse + validate (+ serialize) throughput
 * on one core, over the official R4 examples and the Synthea NDJSON lines
 * (each line one document), the same documents the Node/ajv peer reads.
 *
 * usage: bench_fhir_validate EXAMPLES_DIR SYNTHEA_DIR REPS MIN_SECONDS
 * Prints "ours CORPUS WORK MB_PER_S SPREAD_PERCENT VALID/TOTAL" per figure;
 * MB/s are per second of CPU time (median of REPS runs).
 * WORK: parse, validate (parse + validate), validate+serialize.
 * BENCH_FHIR_ONLY=CORPUS:WORK (e.g. "examples:validate") measures one figure
 * only, for profiling.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fhir/base/buf.h"
#include "fhir/json/fhir_json.h"
#include "fhir/validate/fhir_validate.h"
#include "test/support/testutil.h"

struct doc {
    const char *text;
    size_t len;
};

struct corpus {
    const char *name;
    struct doc *docs;
    size_t n;
    size_t bytes;
};

enum work {
    W_PARSE,    /* fhir_json_parse alone (for reference) */
    W_VALIDATE, /* fhir_validate_json: text in, verdict out */
    W_TREE,     /* fhir_json_parse + fhir_validate on the tree */
    W_SERIALIZE /* fhir_validate_json + fhir_json_parse + fhir_json_dump */
};

static const char *const work_names[] = {"parse", "validate", "validate-tree",
                                         "validate+serialize"};

/* CPU time of this process: on a machine shared with other work, wall time
 * would mostly measure the scheduler (the peer is timed the same way). */
static double
now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
add_doc(struct corpus *c, const char *text, size_t len)
{
    c->docs = realloc(c->docs, (c->n + 1) * sizeof(*c->docs));
    if (c->docs == NULL)
        exit(2);
    c->docs[c->n].text = text;
    c->docs[c->n].len = len;
    c->n++;
    c->bytes += len;
}

static void
load_examples(struct corpus *c, const char *dir)
{
    size_t n;
    char **files = tu_list_dir(dir, ".json", &n);

    for (size_t i = 0; i < n; i++) {
        size_t len;
        char *text = tu_read_file(files[i], &len);

        if (text == NULL)
            exit(2);
        add_doc(c, text, len);
    }
    tu_free_list(files);
}

static void
load_ndjson(struct corpus *c, const char *dir)
{
    size_t n;
    char **files = tu_list_dir(dir, ".ndjson", &n);

    for (size_t i = 0; i < n; i++) {
        size_t len;
        char *text = tu_read_file(files[i], &len);
        const char *p = text;
        const char *end;

        if (text == NULL)
            exit(2);
        end = text + len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t ll = (size_t)((nl != NULL ? nl : end) - p);

            if (ll > 0)
                add_doc(c, p, ll);
            p += ll + 1;
        }
    }
    tu_free_list(files);
}

/* One pass over the corpus; returns the number of valid documents. */
static size_t
pass(const struct corpus *c, enum work w, struct base_buf *out)
{
    size_t valid = 0;

    for (size_t i = 0; i < c->n; i++) {
        const char *text = c->docs[i].text;
        size_t len = c->docs[i].len;
        struct fhir_validate_result r;
        json_t *v = NULL;

        if (w == W_VALIDATE || w == W_SERIALIZE) {
            if (fhir_validate_json(text, len, NULL, NULL, &r, NULL) != BASE_OK)
                continue;
            valid++;
            if (w == W_VALIDATE)
                continue;
        }
        if (fhir_json_parse(text, len, NULL, &v, NULL) != BASE_OK)
            continue;
        if (w == W_PARSE)
            valid++;
        if (w == W_TREE && fhir_validate(v, NULL, NULL, &r, NULL) == BASE_OK)
            valid++;
        if (w == W_SERIALIZE) {
            base_buf_reset(out);
            if (fhir_json_dump(v, FHIR_JSON_COMPACT, out, NULL) != BASE_OK)
                exit(3);
        }
        json_decref(v);
    }
    return valid;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void
measure(const struct corpus *c, enum work w, int reps, double min_s)
{
    struct base_buf out;
    size_t loops = 1;
    double rates[64];
    size_t valid = 0;

    base_buf_init(&out, 0);
    if (reps > 64)
        reps = 64;
    /* warm-up and calibration: enough loops for min_s per run */
    for (;;) {
        double t0 = now();
        double s;

        for (size_t i = 0; i < loops; i++)
            valid = pass(c, w, &out);
        s = now() - t0;
        if (s >= min_s)
            break;
        loops = loops * 2 > (size_t)(loops * min_s / (s > 1e-3 ? s : 1e-3))
                    ? loops * 2
                    : (size_t)(loops * min_s / (s > 1e-3 ? s : 1e-3)) + 1;
    }
    for (int r = 0; r < reps; r++) {
        double t0 = now();

        for (size_t i = 0; i < loops; i++)
            (void)pass(c, w, &out);
        rates[r] = (double)c->bytes * (double)loops / 1e6 / (now() - t0);
    }
    qsort(rates, (size_t)reps, sizeof(rates[0]), cmp_double);
    printf("ours %s %s %.1f %.1f %zu/%zu\n", c->name, work_names[w], rates[reps / 2],
           (rates[reps - 1] - rates[0]) / rates[reps / 2] * 100.0, valid, c->n);
    fflush(stdout);
    base_buf_fini(&out);
}

/* BENCH_FHIR_ONLY: "CORPUS:WORK", unset for every figure. */
static bool
wanted(const struct corpus *c, enum work w)
{
    const char *only = getenv("BENCH_FHIR_ONLY");
    char want[64];

    if (only == NULL || only[0] == '\0')
        return true;
    (void)snprintf(want, sizeof(want), "%s:%s", c->name, work_names[w]);
    return strcmp(only, want) == 0;
}

int
main(int argc, char **argv)
{
    struct corpus ex = {"examples", NULL, 0, 0};
    struct corpus sy = {"synthea", NULL, 0, 0};
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    double min_s = argc > 4 ? atof(argv[4]) : 0.5;

    if (argc < 3) {
        fprintf(stderr, "usage: bench_fhir_validate EXAMPLES_DIR SYNTHEA_DIR [REPS [MIN_S]]\n");
        return 2;
    }
    if (reps < 1)
        reps = 1;
    load_examples(&ex, argv[1]);
    load_ndjson(&sy, argv[2]);
    fprintf(stderr, "examples: %zu documents, %zu bytes; synthea: %zu documents, %zu bytes\n", ex.n,
            ex.bytes, sy.n, sy.bytes);
    for (int w = W_PARSE; w <= W_SERIALIZE; w++) {
        if (wanted(&ex, (enum work)w))
            measure(&ex, (enum work)w, reps, min_s);
        if (wanted(&sy, (enum work)w))
            measure(&sy, (enum work)w, reps, min_s);
    }
    return 0;
}
