/*
 * bench_fhir_xml — FHIR XML throughput on one core over the XML form of the
 * official R4 examples and the Synthea NDJSON lines (converted in memory
 * with fhir_xml_write; the corpus is read in place).
 *
 * usage: bench_fhir_xml EXAMPLES_DIR SYNTHEA_DIR REPS MIN_SECONDS
 * Prints "ours all WORK MB_PER_S SPREAD_PERCENT OK/TOTAL" per work, MB of
 * XML per second of CPU time (median of REPS runs):
 *   read      fhir_xml_read: XML text -> JSON tree (SAX + model)
 *   validate  fhir_xml_validate: read + fhir_validate
 *   write     fhir_xml_write: JSON tree -> XML text
 *   dom       libxml2 xmlReadMemory + xmlFreeDoc alone (the reference peer:
 *             the same parser building its own tree, no FHIR work)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>

#include "fhir/base/buf.h"
#include "fhir/json/fhir_json.h"
#include "fhir/validate/fhir_validate.h"
#include "fhir/xml/fhir_xml.h"
#include "test/support/testutil.h"

struct doc {
    json_t *tree;
    char *xml;
    size_t len;
};

struct corpus {
    struct doc *docs;
    size_t n;
    size_t bytes;
};

enum work { W_READ, W_VALIDATE, W_WRITE, W_DOM };
static const char *const work_names[] = {"read", "validate", "write", "dom"};

static double
now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
add_json(struct corpus *c, const char *text, size_t len)
{
    struct base_buf b;
    struct doc *d;

    c->docs = realloc(c->docs, (c->n + 1) * sizeof(*c->docs));
    if (c->docs == NULL)
        exit(2);
    d = &c->docs[c->n];
    if (fhir_json_parse(text, len, NULL, &d->tree, NULL) != BASE_OK)
        exit(3);
    base_buf_init(&b, 0);
    if (fhir_xml_write(d->tree, 0, &b, NULL) != BASE_OK)
        exit(3);
    d->xml = strndup(b.data, b.len);
    d->len = b.len;
    base_buf_fini(&b);
    c->bytes += d->len;
    c->n++;
}

static void
load(struct corpus *c, const char *dir, const char *suffix)
{
    size_t n;
    char **files = tu_list_dir(dir, suffix, &n);

    for (size_t i = 0; i < n; i++) {
        size_t len;
        char *text = tu_read_file(files[i], &len);
        const char *p = text;

        if (text == NULL)
            exit(2);
        while (p < text + len) { /* NDJSON: one document per line */
            const char *nl =
                strcmp(suffix, ".ndjson") == 0 ? memchr(p, '\n', (size_t)(text + len - p)) : NULL;
            size_t ll = (size_t)((nl != NULL ? nl : text + len) - p);

            if (ll > 0)
                add_json(c, p, ll);
            p += ll + 1;
        }
        free(text);
    }
    tu_free_list(files);
}

static size_t
pass(const struct corpus *c, enum work w, struct base_buf *out)
{
    size_t ok = 0;

    for (size_t i = 0; i < c->n; i++) {
        const struct doc *d = &c->docs[i];
        json_t *v = NULL;
        xmlDocPtr x;

        switch (w) {
        case W_READ:
            ok += fhir_xml_read(d->xml, d->len, NULL, NULL, &v, NULL) == BASE_OK;
            json_decref(v);
            break;
        case W_VALIDATE:
            ok += fhir_xml_validate(d->xml, d->len, NULL, NULL, NULL, NULL) == BASE_OK;
            break;
        case W_WRITE:
            base_buf_reset(out);
            ok += fhir_xml_write(d->tree, 0, out, NULL) == BASE_OK;
            break;
        default:
            x = xmlReadMemory(d->xml, (int)d->len, NULL, NULL, XML_PARSE_NONET);
            ok += x != NULL;
            xmlFreeDoc(x);
            break;
        }
    }
    return ok;
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
    size_t ok = 0;

    base_buf_init(&out, 0);
    reps = reps > 64 ? 64 : reps;
    for (;;) { /* warm-up and calibration: enough loops for min_s per run */
        double t0 = now();
        double s;

        for (size_t i = 0; i < loops; i++)
            ok = pass(c, w, &out);
        s = now() - t0;
        if (s >= min_s)
            break;
        loops = (size_t)((double)loops * min_s / (s > 1e-3 ? s : 1e-3)) + loops;
    }
    for (int r = 0; r < reps; r++) {
        double t0 = now();

        for (size_t i = 0; i < loops; i++)
            (void)pass(c, w, &out);
        rates[r] = (double)c->bytes * (double)loops / 1e6 / (now() - t0);
    }
    qsort(rates, (size_t)reps, sizeof(rates[0]), cmp_double);
    printf("ours all %s %.1f %.1f %zu/%zu\n", work_names[w], rates[reps / 2],
           (rates[reps - 1] - rates[0]) / rates[reps / 2] * 100.0, ok, c->n);
    fflush(stdout);
    base_buf_fini(&out);
}

int
main(int argc, char **argv)
{
    struct corpus c = {0};
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    double min_s = argc > 4 ? atof(argv[4]) : 0.5;

    if (argc < 3) {
        fprintf(stderr, "usage: bench_fhir_xml EXAMPLES_DIR SYNTHEA_DIR [REPS [MIN_S]]\n");
        return 2;
    }
    load(&c, argv[1], ".json");
    load(&c, argv[2], ".ndjson");
    fprintf(stderr, "XML of examples + Synthea: %zu documents, %zu bytes\n", c.n, c.bytes);
    for (int w = W_READ; w <= W_DOM; w++)
        measure(&c, (enum work)w, reps < 1 ? 1 : reps, min_s);
    return 0;
}
