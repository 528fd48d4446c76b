/*
 * Converter benchmarks (driven by bench_converters.sh):
 *
 *   bench_converters gen-csv ROWS FILE       write a Synthea-style observations.csv
 *   bench_converters csv FILE MAPPING        stream FILE through the CSV loader
 *   bench_converters csv-parse FILE          the RFC 4180 reader alone
 *   bench_converters cda SECONDS FILE...     CDA documents -> Bundles, round robin
 *   bench_converters dicom SECONDS STUDIES   a QIDO answer of STUDIES studies -> ImagingStudy
 *
 * Each run prints one JSON line: {"count":N,"seconds":S,"per_s":R,"max_rss_kb":K}.
 * Files are read in 64 KiB chunks, so peak memory shows what the converter
 * keeps, not the file size.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "adapters/cda/cda.h"
#include "adapters/csv/csv.h"
#include "adapters/dicomweb/dicomweb.h"
#include "test/support/testutil.h"

static double
now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
report(size_t count, double seconds)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    printf("{\"count\":%zu,\"seconds\":%.3f,\"per_s\":%.1f,\"max_rss_kb\":%ld}\n", count, seconds,
           seconds > 0 ? (double)count / seconds : 0.0, ru.ru_maxrss);
}

/* ------------------------------------------------------------------ csv */

static int
gen_csv(size_t rows, const char *path)
{
    static const char *const codes[][4] = {
        {"8302-2", "Body Height", "cm", "vital-signs"},
        {"29463-7", "Body Weight", "kg", "vital-signs"},
        {"8480-6", "Systolic Blood Pressure", "mm[Hg]", "vital-signs"},
        {"2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", "laboratory"},
        {"72166-2", "Tobacco smoking status", "", "survey"},
    };
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return 1;
    fprintf(f, "DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE\n");
    for (size_t i = 0; i < rows; i++) {
        const char *const *c = codes[i % 5];
        bool text = i % 5 == 4;

        /* every fifth row is text: a quoted value with a comma and a "" */
        fprintf(f,
                "2019-%02zu-%02zuT%02zu:%02zu:%02zuZ,%08zx-2def-4559-bb2a-7850888ae060,"
                "%08zx-8d87-447e-836e-99d26ad52ea5,%s,%s,%s,",
                i % 12 + 1, i % 28 + 1, i % 24, i % 60, (i / 60) % 60, i / 50, i / 5, c[3], c[0],
                c[1]);
        if (text)
            fprintf(f, "\"Never smoked, \"\"tobacco\"\" (finding)\",,text\n");
        else
            fprintf(f, "%zu.%zu,%s,numeric\n", i % 200, i % 10, c[2]);
    }
    return fclose(f) == 0 ? 0 : 1;
}

static int
drop_bundle(void *ctx, json_t *b)
{
    size_t *n = ctx;

    *n += json_array_size(json_object_get(b, "entry"));
    json_decref(b);
    return BASE_OK;
}

static int
bench_csv(const char *path, const char *mapping)
{
    size_t mlen = 0;
    char *mtext = tu_read_file(mapping, &mlen);
    struct csv_mapping *m = NULL;
    struct csv_load *l = NULL;
    struct csv_report rep = {0};
    struct base_err err = {0};
    size_t resources = 0;
    char chunk[65536];
    int fd = open(path, O_RDONLY);
    ssize_t n;
    double t0;

    if (mtext == NULL || fd < 0 || csv_mapping_parse(mtext, mlen, NULL, &m, &err) != BASE_OK ||
        csv_load_new(m, NULL, NULL, drop_bundle, NULL, &resources, &l, &err) != BASE_OK) {
        fprintf(stderr, "bench csv: setup failed: %s\n", err.msg);
        return 1;
    }
    t0 = now();
    while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
        if (csv_load_feed(l, chunk, (size_t)n, &err) != BASE_OK)
            break;
    }
    if (csv_load_finish(l, &rep, &err) != BASE_OK || rep.rows_bad > 0) {
        fprintf(stderr, "bench csv: %s: %s (%zu bad rows)\n", err.where, err.msg, rep.rows_bad);
        return 1;
    }
    report(rep.rows, now() - t0);
    csv_load_free(l);
    csv_mapping_free(m);
    free(mtext);
    close(fd);
    return resources == rep.rows ? 0 : 1;
}

static int
count_record(void *ctx, const struct csv_record *r)
{
    (void)r;
    (*(size_t *)ctx)++;
    return BASE_OK;
}

static int
bench_csv_parse(const char *path)
{
    struct csv_reader *r = NULL;
    size_t records = 0;
    char chunk[65536];
    int fd = open(path, O_RDONLY);
    ssize_t n;
    double t0;

    if (fd < 0 || csv_reader_new(',', NULL, count_record, NULL, &records, &r) != BASE_OK)
        return 1;
    t0 = now();
    while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
        if (csv_reader_feed(r, chunk, (size_t)n) != BASE_OK)
            return 1;
    }
    if (csv_reader_finish(r) != BASE_OK)
        return 1;
    report(records - 1, now() - t0); /* the header is not a row */
    csv_reader_free(r);
    close(fd);
    return 0;
}

/* ------------------------------------------------------------------ cda */

static int
bench_cda(double seconds, int nfiles, char **files)
{
    char *docs[64];
    size_t lens[64];
    size_t count = 0;
    double t0;

    if (nfiles <= 0 || nfiles > 64)
        return 1;
    for (int i = 0; i < nfiles; i++) {
        docs[i] = tu_read_file(files[i], &lens[i]);
        if (docs[i] == NULL)
            return 1;
    }
    t0 = now();
    while (now() - t0 < seconds) {
        for (int i = 0; i < nfiles; i++) {
            json_t *b = NULL;

            if (cda_to_bundle(docs[i], lens[i], NULL, NULL, &b, NULL, NULL) != BASE_OK)
                return 1;
            json_decref(b);
            count++;
        }
    }
    report(count, now() - t0);
    for (int i = 0; i < nfiles; i++)
        free(docs[i]);
    return 0;
}

/* ---------------------------------------------------------------- dicom */

/* A QIDO-RS study-level answer as Orthanc writes it, `n` studies. */
static char *
qido_answer(size_t n, size_t *len)
{
    size_t cap = n * 1400 + 16;
    char *buf = malloc(cap);
    size_t o = 0;

    if (buf == NULL)
        return NULL;
    o += (size_t)snprintf(buf + o, cap - o, "[");
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(
            buf + o, cap - o,
            "%s{\"00080005\":{\"vr\":\"CS\",\"Value\":[\"ISO_IR 192\"]},"
            "\"00080020\":{\"vr\":\"DA\",\"Value\":[\"2024%02zu%02zu\"]},"
            "\"00080030\":{\"vr\":\"TM\",\"Value\":[\"093015\"]},"
            "\"00080050\":{\"vr\":\"SH\",\"Value\":[\"ACC%zu\"]},"
            "\"00080061\":{\"vr\":\"CS\",\"Value\":[\"CT\",\"SR\"]},"
            "\"00080090\":{\"vr\":\"PN\",\"Value\":[{\"Alphabetic\":\"Li^Si\",\"Ideographic\":"
            "\"\xe6\x9d\x8e^\xe5\x9b\x9b\"}]},"
            "\"00080201\":{\"vr\":\"SH\",\"Value\":[\"+0800\"]},"
            "\"00081030\":{\"vr\":\"LO\",\"Value\":[\"CT CHEST\"]},"
            "\"00081190\":{\"vr\":\"UR\",\"Value\":[\"http://pacs:8042/dicom-web/studies/"
            "1.2.156.112605.%zu\"]},"
            "\"00100010\":{\"vr\":\"PN\",\"Value\":[{\"Alphabetic\":\"Zhang^San\","
            "\"Ideographic\":\"\xe5\xbc\xa0^\xe4\xb8\x89\"}]},"
            "\"00100020\":{\"vr\":\"LO\",\"Value\":[\"ZY%zu\"]},"
            "\"00100030\":{\"vr\":\"DA\",\"Value\":[\"19800101\"]},"
            "\"00100040\":{\"vr\":\"CS\",\"Value\":[\"M\"]},"
            "\"0020000D\":{\"vr\":\"UI\",\"Value\":[\"1.2.156.112605.%zu\"]},"
            "\"00200010\":{\"vr\":\"SH\",\"Value\":[\"%zu\"]},"
            "\"00201206\":{\"vr\":\"IS\",\"Value\":[2]},"
            "\"00201208\":{\"vr\":\"IS\",\"Value\":[131]}}",
            i > 0 ? "," : "", i % 12 + 1, i % 28 + 1, i, i, i % 97, i, i);
    o += (size_t)snprintf(buf + o, cap - o, "]");
    *len = o;
    return buf;
}

static int
bench_dicom(double seconds, size_t studies)
{
    size_t len = 0;
    char *text = qido_answer(studies, &len);
    struct dicomweb_options opt = {.patient_ref = "Patient/1", .pacs_name = "bench"};
    size_t count = 0;
    double t0;

    if (text == NULL)
        return 1;
    t0 = now();
    while (now() - t0 < seconds) {
        json_t *ds = NULL;
        json_t *out = NULL;

        if (dicomweb_parse(text, len, NULL, &ds, NULL) != BASE_OK ||
            dicomweb_studies(ds, &opt, &out, NULL) != BASE_OK)
            return 1;
        count += json_array_size(out);
        json_decref(out);
        json_decref(ds);
    }
    report(count, now() - t0);
    free(text);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "gen-csv") == 0)
        return gen_csv(strtoul(argv[2], NULL, 10), argv[3]);
    if (argc == 4 && strcmp(argv[1], "csv") == 0)
        return bench_csv(argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "csv-parse") == 0)
        return bench_csv_parse(argv[2]);
    if (argc >= 4 && strcmp(argv[1], "cda") == 0)
        return bench_cda(strtod(argv[2], NULL), argc - 3, argv + 3);
    if (argc == 4 && strcmp(argv[1], "dicom") == 0)
        return bench_dicom(strtod(argv[2], NULL), strtoul(argv[3], NULL, 10));
    fprintf(stderr, "usage: see the comment at the top of test/bench/bench_converters.c\n");
    return 2;
}
