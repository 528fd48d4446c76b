/*
 * HL7 v2 parse + map throughput on one core.
 *
 * usage: bench_hl7v2 CORPUS_DIR DUMP_FILE [SECONDS_PER_RUN] [RUNS]
 *
 * Loads every message of CORPUS_DIR/hl7v2/{valid,line-endings} (files of
 * several messages are split), normalises segment terminators to CR (the
 * npm peer splits on CR only), writes them to DUMP_FILE (4-byte big-endian
 * length + bytes, for the peer to read the very same input), then times
 * parse-only and parse+map (a fresh arena per message, as the ingest path
 * does; glibc told not to trim the heap after each, as a daemon would) and
 * prints one JSON object:
 *   {"messages":N,"bytes":B,"parse":{"median":…,"spread":…},"map":{…}}
 * with messages per second of CPU time, median of RUNS runs (the project's
 * bench convention, docs/BENCHMARKS.md: the machine is shared, so wall time
 * would measure the neighbours).
 *
 * With BENCH_HL7V2_PASSES=N it instead runs exactly N passes (parse+map, or
 * parse alone with BENCH_HL7V2_PARSE_ONLY=1) and exits: a fixed workload to
 * count instructions with callgrind or `perf stat -e instructions`, which
 * the shared machine does not disturb as it does time.  BENCH_HL7V2_OUT=FILE
 * writes every message's Bundle to FILE (one per line), to check that a
 * faster mapper still writes the very same bytes.
 */
#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/hl7v2/hl7v2.h"
#include "adapters/hl7v2/hl7v2_map.h"
#include "fhir/base/arena.h"
#include "test/support/testutil.h"

#define MAX_MSGS 1024

struct set {
    char *msg[MAX_MSGS];
    size_t len[MAX_MSGS];
    size_t n;
    size_t bytes;
};

/* CPU seconds of this process (single-threaded: those of the work). */
static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
add(struct set *s, const char *p, size_t n)
{
    char *m = malloc(n + 1);
    size_t o = 0;

    if (m == NULL || s->n >= MAX_MSGS)
        exit(2);
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')
            continue;
        m[o++] = p[i] == '\n' ? '\r' : p[i];
    }
    s->msg[s->n] = m;
    s->len[s->n++] = o;
    s->bytes += o;
}

static void
load_dir(struct set *s, const char *dir)
{
    size_t n = 0;
    char **files = tu_list_dir(dir, NULL, &n);

    for (size_t i = 0; files != NULL && i < n; i++) {
        size_t len = 0;
        char *data = tu_read_file(files[i], &len);
        struct base_arena *a = base_arena_new(0);
        struct hl7v2_file f;

        if (data != NULL && hl7v2_file_split(a, data, len, NULL, &f, NULL) == BASE_OK) {
            for (size_t k = 0; k < f.nmsgs; k++)
                add(s, f.msgs[k].data.ptr, f.msgs[k].data.len);
        }
        base_arena_free(a);
        free(data);
    }
    tu_free_list(files);
}

static FILE *
create(const char *path)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL) {
        perror(path);
        exit(2);
    }
    return f;
}

static void
dump(const struct set *s, const char *path)
{
    FILE *f = create(path);

    for (size_t i = 0; i < s->n; i++) {
        unsigned char h[4] = {(unsigned char)(s->len[i] >> 24), (unsigned char)(s->len[i] >> 16),
                              (unsigned char)(s->len[i] >> 8), (unsigned char)s->len[i]};

        fwrite(h, 1, 4, f);
        fwrite(s->msg[i], 1, s->len[i], f);
    }
    fclose(f);
}

/* A Bundle and its entry index, for comparing outputs byte for byte. */
static void
put_bundle(FILE *f, const struct hl7v2_bundle *b)
{
    fwrite(b->json.ptr, 1, b->json.len, f);
    for (size_t k = 0; k < b->nentries; k++)
        fprintf(f, "\n%s %s %.*s %zu", b->entries[k].type, b->entries[k].full_url,
                (int)b->entries[k].url.len, b->entries[k].url.ptr,
                (size_t)(b->entries[k].resource.ptr - b->json.ptr));
}

/* One pass over the set; returns how many messages succeeded.  With `out`
 * (map only), every Bundle is written there, one message per line. */
static size_t
pass(const struct set *s, int map, FILE *out)
{
    size_t ok = 0;

    for (size_t i = 0; i < s->n; i++) {
        struct base_arena *a = base_arena_new(0);
        struct hl7v2_msg *m = NULL;
        struct hl7v2_bundle *b = NULL;

        if (hl7v2_msg_parse(a, s->msg[i], s->len[i], NULL, NULL, &m, NULL) == BASE_OK &&
            (!map || hl7v2_map(a, m, NULL, &b, NULL) == BASE_OK)) {
            ok++;
            if (out != NULL && b != NULL)
                put_bundle(out, b);
        }
        if (out != NULL)
            fputc('\n', out);
        base_arena_free(a);
    }
    return ok;
}

static void
write_bundles(const struct set *s, const char *path)
{
    FILE *f = create(path);

    (void)pass(s, 1, f);
    fclose(f);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

static void
measure(const struct set *s, int map, double secs, int runs, double *median, double *spread)
{
    double rates[32];

    for (double end = now_s() + 0.5; now_s() < end;)
        (void)pass(s, map, NULL); /* warm-up */
    for (int r = 0; r < runs; r++) {
        double t0 = now_s();
        size_t msgs = 0;

        while (now_s() - t0 < secs)
            msgs += pass(s, map, NULL);
        rates[r] = (double)msgs / (now_s() - t0);
    }
    qsort(rates, (size_t)runs, sizeof(double), cmp_double);
    *median = runs % 2 ? rates[runs / 2] : (rates[runs / 2 - 1] + rates[runs / 2]) / 2;
    *spread = *median > 0 ? 100.0 * (rates[runs - 1] - rates[0]) / *median : 0;
}

int
main(int argc, char **argv)
{
    struct set s = {0};
    char dir[4096];
    double secs = argc > 3 ? strtod(argv[3], NULL) : 2.0;
    int runs = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 7;
    double pm, ps, mm, ms;
    size_t ok;

    /* As the adapter daemon does: an arena per message must not make glibc
     * give memory back to the kernel (brk/munmap) after every message. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_MMAP_THRESHOLD, 16 << 20);
    if (argc < 3) {
        fprintf(stderr, "usage: %s CORPUS_DIR DUMP_FILE [SECONDS] [RUNS]\n", argv[0]);
        return 2;
    }
    if (runs < 1 || runs > 31)
        runs = 7;
    if (!(secs > 0.05 && secs < 600))
        secs = 2.0;
    snprintf(dir, sizeof(dir), "%s/hl7v2/valid", argv[1]);
    load_dir(&s, dir);
    snprintf(dir, sizeof(dir), "%s/hl7v2/line-endings", argv[1]);
    load_dir(&s, dir);
    ok = pass(&s, 1, NULL);
    if (s.n == 0 || ok != s.n) {
        fprintf(stderr, "bench_hl7v2: %zu of %zu messages converted\n", ok, s.n);
        return 1;
    }
    dump(&s, argv[2]);
    if (getenv("BENCH_HL7V2_OUT") != NULL)
        write_bundles(&s, getenv("BENCH_HL7V2_OUT"));
    if (getenv("BENCH_HL7V2_PASSES") != NULL) {
        long n = strtol(getenv("BENCH_HL7V2_PASSES"), NULL, 10);
        int map = getenv("BENCH_HL7V2_PARSE_ONLY") == NULL;

        for (long i = 0; i < n; i++)
            (void)pass(&s, map, NULL);
        printf("{\"messages\":%zu,\"passes\":%ld,\"map\":%d}\n", s.n, n, map);
        goto out;
    }
    measure(&s, 0, secs, runs, &pm, &ps);
    measure(&s, 1, secs, runs, &mm, &ms);
    printf("{\"messages\":%zu,\"bytes\":%zu,\"parse\":{\"median\":%.0f,\"spread\":%.1f},"
           "\"map\":{\"median\":%.0f,\"spread\":%.1f}}\n",
           s.n, s.bytes, pm, ps, mm, ms);
out:
    for (size_t i = 0; i < s.n; i++)
        free(s.msg[i]);
    return 0;
}
