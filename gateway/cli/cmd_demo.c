/*
 * fhirgate demo-data / demo-feed — the demo region's data and its live
 * HL7 v2 feed (gateway/demo/gw_demo.h, docs/design/demo-data.md).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/cli/cli.h"
#include "gateway/demo/gw_demo.h"

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* A decimal number in [min, max]. */
static bool
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* "500ms", "2s", "1m" or plain seconds -> milliseconds (at most a day). */
static bool
parse_duration(const char *s, unsigned *ms)
{
    char num[24];
    size_t n = strspn(s, "0123456789");
    uint64_t v;
    uint64_t scale;

    if (n == 0 || n >= sizeof(num))
        return false;
    memcpy(num, s, n);
    num[n] = '\0';
    if (strcmp(s + n, "ms") == 0)
        scale = 1;
    else if (strcmp(s + n, "s") == 0 || s[n] == '\0')
        scale = 1000;
    else if (strcmp(s + n, "m") == 0)
        scale = 60000;
    else
        return false;
    if (!parse_u64(num, 0, 86400000, &v) || v * scale > 86400000u)
        return false;
    *ms = (unsigned)(v * scale);
    return true;
}

static bool
parse_date(const char *s, int *ymd)
{
    int y;
    int m;
    int d;
    char tail;

    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return false;
    *ymd = y * 10000 + m * 100 + d;
    return true;
}

static int
usage_error(const char *cmd, const char *what, const char *opt)
{
    fprintf(stderr, "fhirgate %s: %s %s\n", cmd, what, opt);
    return CLI_USAGE;
}

/* ------------------------------------------------------------ demo-data -- */

static void
data_usage(FILE *f)
{
    fprintf(f,
            "usage: fhirgate demo-data --out DIR [--seed N] [--as-of YYYY-MM-DD] [--people N]\n\n"
            "Generate the demo region's data: hosp-a's HL7 v2 messages, hosp-b's CDA\n"
            "documents and Synthea-layout CSV files, img-c's DICOM files, FHIR Consents,\n"
            "the demo users and manifest.json (see docs/design/demo-data.md).  The same\n"
            "seed gives the same bytes (except the random passwords in DIR/secrets.json).\n"
            "DIR is created, or must hold only an earlier generation (replaced).\n\n"
            "  --seed N          default %u\n"
            "  --as-of DATE      last day the data covers, default %04d-%02d-%02d\n"
            "  --people N        people drawn from the synthetic population, default %u\n",
            GW_DEMO_DEFAULT_SEED, GW_DEMO_DEFAULT_AS_OF / 10000, GW_DEMO_DEFAULT_AS_OF / 100 % 100,
            GW_DEMO_DEFAULT_AS_OF % 100, GW_DEMO_DEFAULT_PEOPLE);
}

static int
data_args(int argc, char **argv, struct gw_demo_config *cfg, const char **out)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n;

        if (v == NULL)
            return usage_error("demo-data", "unknown option or missing value:", a);
        if (strcmp(a, "--out") == 0)
            *out = v;
        else if (strcmp(a, "--seed") == 0 && parse_u64(v, 0, UINT64_MAX, &n))
            cfg->seed = n;
        else if (strcmp(a, "--people") == 0 && parse_u64(v, 320, 20000, &n))
            cfg->n_people = (size_t)n;
        else if (strcmp(a, "--as-of") == 0 && parse_date(v, &cfg->as_of))
            ;
        else
            return usage_error("demo-data", "bad option or value:", a);
        i++;
    }
    if (*out == NULL)
        return usage_error("demo-data", "missing", "--out DIR");
    return CLI_OK;
}

int
cli_cmd_demo_data(int argc, char **argv)
{
    struct gw_demo_config cfg = gw_demo_config_default();
    struct gw_demo_summary s;
    struct base_err err = {0};
    const char *out = NULL;
    struct timespec t0;
    struct timespec t1;
    int rc;

    if (cli_wants_help(argc, argv)) {
        data_usage(stdout);
        return CLI_OK;
    }
    rc = data_args(argc, argv, &cfg, &out);
    if (rc != CLI_OK)
        return rc;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (gw_demo_generate(&cfg, out, &s, &err) != BASE_OK) {
        fprintf(stderr, "fhirgate demo-data: %s: %s\n", err.where, err.msg);
        return CLI_FAILED;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("demo-data: seed %llu into %s in %.2f s\n", (unsigned long long)cfg.seed, out,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    printf("patients: %zu (seen at two or three members: %zu, at all three: %zu)\n", s.patients,
           s.shared, s.at_three);
    printf("hosp-a: %zu records, %zu HL7 v2 messages\n", s.records[0], s.hl7_messages);
    printf("hosp-b: %zu records, %zu CDA documents, %zu CSV rows\n", s.records[1], s.cda_documents,
           s.csv_rows);
    printf("img-c: %zu records, %zu studies, %zu DICOM files\n", s.records[2], s.dicom_studies,
           s.dicom_files);
    printf("consents: %zu; users in manifest.json, their passwords in %s/secrets.json\n",
           s.consents, out);
    printf("patient shared: urn:oid:2.16.156.10011.1.3|%s\n", s.shared_resident_id);
    return CLI_OK;
}

/* ------------------------------------------------------------ demo-feed -- */

static void
feed_usage(FILE *f)
{
    fprintf(f,
            "usage: fhirgate demo-feed --mllp HOST:PORT --from DIR/hosp-a/hl7 [--live]\n"
            "                          [--interval 2s] [--timeout 10s] [--retry 60s] [--skip N]\n"
            "                          [--count N] [--manifest FILE] [--tls-ca FILE]\n"
            "                          [--tls-cert FILE --tls-key FILE] [--tls-name NAME]\n\n"
            "Send the .hl7 files of DIR in name order over MLLP, one at a time, waiting for\n"
            "each acknowledgement.  Stops on AE/AR or when no acknowledgement comes within\n"
            "--timeout; reconnects and resends while the listener is down (up to --retry).\n"
            "With --live, then sends new ORU^R01 results for hosp-a's patients every\n"
            "--interval (at most --count of them, default: until SIGINT/SIGTERM); the model\n"
            "is rebuilt from the generation's manifest.json (DIR/../../manifest.json).\n"
            "TLS when --tls-ca is given (mutual TLS with --tls-cert/--tls-key).\n");
}

static bool
split_hostport(char *s, struct gw_demo_feed_opts *o)
{
    char *colon = strrchr(s, ':');

    if (colon == NULL || colon == s || colon[1] == '\0')
        return false;
    *colon = '\0';
    o->port = colon + 1;
    o->host = s;
    if (s[0] == '[' && colon[-1] == ']') { /* [::1]:2575 */
        colon[-1] = '\0';
        o->host = s + 1;
    }
    return strspn(o->port, "0123456789") == strlen(o->port);
}

static const char **
feed_slot(struct gw_demo_feed_opts *o, const char *a)
{
    if (strcmp(a, "--from") == 0)
        return &o->from_dir;
    if (strcmp(a, "--manifest") == 0)
        return &o->manifest;
    if (strcmp(a, "--tls-ca") == 0)
        return &o->tls_ca;
    if (strcmp(a, "--tls-cert") == 0)
        return &o->tls_cert;
    if (strcmp(a, "--tls-key") == 0)
        return &o->tls_key;
    if (strcmp(a, "--tls-name") == 0)
        return &o->tls_name;
    return NULL;
}

static bool
feed_value(struct gw_demo_feed_opts *o, const char *a, char *v)
{
    const char **slot = feed_slot(o, a);
    uint64_t n;

    if (slot != NULL) {
        *slot = v;
        return true;
    }
    if (strcmp(a, "--mllp") == 0)
        return split_hostport(v, o);
    if (strcmp(a, "--interval") == 0)
        return parse_duration(v, &o->interval_ms) && o->interval_ms > 0;
    if (strcmp(a, "--timeout") == 0)
        return parse_duration(v, &o->ack_timeout_ms) && o->ack_timeout_ms > 0;
    if (strcmp(a, "--retry") == 0)
        return parse_duration(v, &o->retry_ms);
    if (strcmp(a, "--skip") == 0 && parse_u64(v, 0, 100000000, &n)) {
        o->skip = (size_t)n;
        return true;
    }
    if (strcmp(a, "--count") == 0 && parse_u64(v, 1, 100000000, &n)) {
        o->max_live = (size_t)n;
        return true;
    }
    return false;
}

static int
feed_args(int argc, char **argv, struct gw_demo_feed_opts *o)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--live") == 0) {
            o->live = true;
            continue;
        }
        if (strcmp(argv[i], "--quiet") == 0) {
            o->quiet = true;
            continue;
        }
        if (i + 1 >= argc || !feed_value(o, argv[i], argv[i + 1]))
            return usage_error("demo-feed", "bad option or value:", argv[i]);
        i++;
    }
    if (o->host == NULL || o->from_dir == NULL)
        return usage_error("demo-feed", "missing", "--mllp HOST:PORT and --from DIR");
    if ((o->tls_cert == NULL) != (o->tls_key == NULL) || (o->tls_cert != NULL && o->tls_ca == NULL))
        return usage_error("demo-feed", "mutual TLS needs", "--tls-ca, --tls-cert and --tls-key");
    return CLI_OK;
}

int
cli_cmd_demo_feed(int argc, char **argv)
{
    struct gw_demo_feed_opts o = {
        .interval_ms = 2000, .ack_timeout_ms = 10000, .retry_ms = 60000, .stop = &stop_flag};
    struct gw_demo_feed_stats st;
    struct base_err err = {0};
    struct sigaction sa;
    int rc;

    if (cli_wants_help(argc, argv)) {
        feed_usage(stdout);
        return CLI_OK;
    }
    rc = feed_args(argc, argv, &o);
    if (rc != CLI_OK)
        return rc;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: a blocked poll() wakes up */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    rc = gw_demo_feed_run(&o, &st, &err);
    printf("demo-feed: %zu messages acknowledged (%zu live), %zu reconnects%s\n", st.sent, st.live,
           st.reconnects, stop_flag ? ", stopped by signal" : "");
    if (rc != BASE_OK) {
        fprintf(stderr, "fhirgate demo-feed: %s: %s\n", err.where, err.msg);
        return CLI_FAILED;
    }
    return CLI_OK;
}
