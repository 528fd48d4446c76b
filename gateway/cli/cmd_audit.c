/*
 * fhirgate audit verify|archive|report|keygen — the audit trail's admin side.
 *
 *   verify  [--from T] [--to T] [--key PUB.pem] [--chain ID]
 *           exit 0 intact, 1 when a row was changed, removed or inserted (the
 *           first one is named: chain, sequence number, time) or on failure
 *   archive --before YYYY-MM [--to DIR] --signing-key KEY.pem [--force]
 *   report  --from T --to T [--tz ZONE] [--hours 22-6] [--factor K] [--min N]
 *   keygen  --out KEY.pem [--public PUB.pem]
 * Every subcommand but keygen takes --database URL (or FHIRGATE_DATABASE_URL)
 * or --state-dir DIR (the embedded cluster).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/buf.h"
#include "fhir/json/fhir_json.h"
#include "gateway/audit/gw_audit.h"
#include "gateway/cli/cli.h"
#include "gateway/cli/db_connect.h"
#include "gateway/db/gw_db.h"

/* Options of every subcommand; each uses some. */
struct opts {
    const char *database;
    const char *state_dir;
    const char *from;
    const char *to;
    const char *key;
    const char *chain;
    const char *before;
    const char *signing_key;
    const char *tz;
    const char *hours;
    const char *factor;
    const char *min;
    const char *member;
    const char *user;
    const char *out;
    const char *public_out;
    bool force;
};

static void
usage(FILE *f)
{
    fprintf(
        f,
        "usage: fhirgate audit verify [--from TIME] [--to TIME] [--key PUBKEY.pem] [--chain ID]\n"
        "       fhirgate audit archive --before YYYY-MM [--to DIR] --signing-key KEY.pem "
        "[--force]\n"
        "       fhirgate audit report --from TIME --to TIME [--tz ZONE] [--hours 22-6]\n"
        "                             [--factor K] [--min N] [--member ID] [--user NAME]\n"
        "       fhirgate audit keygen --out KEY.pem [--public PUB.pem]\n"
        "  (verify, archive and report also take --database URL or --state-dir DIR)\n\n"
        "verify   recompute the audit hash chains over a range, starting at the signed\n"
        "         checkpoint before --from, and check checkpoint signatures (with --key,\n"
        "         against that public key only).  Exit 0 when intact; otherwise the\n"
        "         first row changed, removed or inserted is named and the exit is 1.\n"
        "archive  export each month before YYYY-MM to DIR (default .), checkpoint the\n"
        "         chains at the boundary and drop the month's partition.\n"
        "report   the regulators' report for a period as JSON (accesses per member,\n"
        "         clinician and day, denials, break-the-glass, unusual hours and volume),\n"
        "         optionally only for one member's staff or one user.\n"
        "keygen   write a new P-256 audit signing key (and its public key).\n");
}

static int
parse(const char *cmd, int argc, char **argv, struct opts *o)
{
    static const struct {
        const char *name;
        size_t off;
    } known[] = {
        {"--database", offsetof(struct opts, database)},
        {"--state-dir", offsetof(struct opts, state_dir)},
        {"--from", offsetof(struct opts, from)},
        {"--to", offsetof(struct opts, to)},
        {"--key", offsetof(struct opts, key)},
        {"--chain", offsetof(struct opts, chain)},
        {"--before", offsetof(struct opts, before)},
        {"--signing-key", offsetof(struct opts, signing_key)},
        {"--tz", offsetof(struct opts, tz)},
        {"--hours", offsetof(struct opts, hours)},
        {"--factor", offsetof(struct opts, factor)},
        {"--min", offsetof(struct opts, min)},
        {"--member", offsetof(struct opts, member)},
        {"--user", offsetof(struct opts, user)},
        {"--out", offsetof(struct opts, out)},
        {"--public", offsetof(struct opts, public_out)},
    };

    for (int i = 2; i < argc; i++) {
        int t = 0;

        if (strcmp(argv[i], "--force") == 0) {
            o->force = true;
            continue;
        }
        for (size_t k = 0; k < BASE_ARRAY_LEN(known) && t == 0; k++)
            t = cli_take_opt(cmd, argc, argv, &i, known[k].name,
                             (const char **)((char *)o + known[k].off));
        if (t < 0)
            return CLI_USAGE;
        if (t == 0) {
            fprintf(stderr, "fhirgate %s: unknown option '%s'\n", cmd, argv[i]);
            return CLI_USAGE;
        }
    }
    return CLI_OK;
}

static int
run_verify(const struct opts *o)
{
    struct gw_audit_verify_opts vo = {0};
    struct gw_audit_verify_result vr;
    struct gw_audit_key *key = NULL;
    struct base_err err = {0};
    struct gw_db_conn *c;
    int rc;

    if (o->key != NULL && gw_audit_key_load_public(o->key, &key, &err) != BASE_OK) {
        fprintf(stderr, "fhirgate audit verify: %s: %s\n", o->key, err.msg);
        return CLI_FAILED;
    }
    c = cli_db_connect("audit verify", o->database, o->state_dir);
    if (c == NULL) {
        gw_audit_key_free(key);
        return CLI_FAILED;
    }
    vo.from = o->from;
    vo.to = o->to;
    vo.chain_id = o->chain;
    vo.key = key;
    vo.out = stdout;
    rc = gw_audit_verify(c, &vo, &vr, &err);
    gw_db_conn_free(c);
    gw_audit_key_free(key);
    if (rc != BASE_OK) {
        fprintf(stderr, "fhirgate audit verify: %s: %s\n", err.where[0] ? err.where : "verify",
                err.msg);
        return CLI_FAILED;
    }
    if (!vr.intact) {
        printf("audit verify: FAILED: %u of %u chain(s) damaged; first: chain %s, %s seq %lld "
               "(%s%s)\n",
               vr.chains_bad, vr.chains, vr.first.chain_id,
               vr.first.kind == GW_AUDIT_BAD_CHECKPOINT ? "checkpoint at" : "row",
               (long long)vr.first.seq,
               vr.first.kind == GW_AUDIT_REMOVED ? (vr.first.time[0] ? "after " : "at the start")
                                                 : "",
               vr.first.time[0] != '\0' || vr.first.kind == GW_AUDIT_REMOVED ? vr.first.time
                                                                             : "time unknown");
        return CLI_FAILED;
    }
    printf("audit verify: intact: %u chain(s), %llu rows, %llu checkpoint signatures\n", vr.chains,
           (unsigned long long)vr.rows, (unsigned long long)vr.checkpoints);
    return CLI_OK;
}

static int
run_archive(const struct opts *o)
{
    struct gw_audit_archive_opts ao = {0};
    struct gw_audit_key *key = NULL;
    struct base_err err = {0};
    struct gw_db_conn *c;
    unsigned months = 0;
    int rc;

    if (o->before == NULL || o->signing_key == NULL) {
        fprintf(stderr,
                "fhirgate audit archive: --before YYYY-MM and --signing-key are required\n");
        return CLI_USAGE;
    }
    if (gw_audit_key_load_private(o->signing_key, &key, &err) != BASE_OK) {
        fprintf(stderr, "fhirgate audit archive: %s: %s\n", o->signing_key, err.msg);
        return CLI_FAILED;
    }
    c = cli_db_connect("audit archive", o->database, o->state_dir);
    if (c == NULL) {
        gw_audit_key_free(key);
        return CLI_FAILED;
    }
    ao.before = o->before;
    ao.dir = o->to != NULL ? o->to : ".";
    ao.key = key;
    ao.force = o->force;
    ao.out = stdout;
    rc = gw_audit_archive(c, &ao, &months, &err);
    gw_db_conn_free(c);
    gw_audit_key_free(key);
    if (rc != BASE_OK) {
        fprintf(stderr, "fhirgate audit archive: %s: %s\n", err.where[0] ? err.where : "archive",
                err.msg);
        return rc == BASE_E_INVALID ? CLI_USAGE : CLI_FAILED;
    }
    printf("audit archive: %u month(s) archived\n", months);
    return CLI_OK;
}

static bool
parse_uint(const char *s, unsigned max, unsigned *out)
{
    uint64_t v;

    if (!base_str_to_u64(base_str_from_cstr(s), &v) || v > max)
        return false;
    *out = (unsigned)v;
    return true;
}

/* "22-6" -> night_start 22, night_end 6. */
static bool
parse_hours(const char *s, struct gw_audit_report_opts *ro)
{
    struct base_str start;
    struct base_str end;
    uint64_t a;
    uint64_t b;

    if (!base_str_cut(base_str_from_cstr(s), '-', &start, &end) || !base_str_to_u64(start, &a) ||
        !base_str_to_u64(end, &b) || a > 23 || b > 23)
        return false;
    ro->night_start = (unsigned)a;
    ro->night_end = (unsigned)b;
    return true;
}

static int
run_report(const struct opts *o)
{
    struct gw_audit_report_opts ro = {0};
    struct base_err err = {0};
    struct gw_db_conn *c;
    struct base_buf b;
    json_t *report = NULL;
    int rc;

    ro.from = o->from;
    ro.to = o->to;
    ro.tz = o->tz;
    ro.member = o->member;
    ro.user = o->user;
    if (o->hours != NULL && !parse_hours(o->hours, &ro)) {
        fprintf(stderr, "fhirgate audit report: --hours must be START-END (0..23)\n");
        return CLI_USAGE;
    }
    if (o->factor != NULL) {
        char *end = NULL;

        ro.volume_factor = strtod(o->factor, &end);
        if (end == o->factor || *end != '\0' || !(ro.volume_factor > 0)) {
            fprintf(stderr, "fhirgate audit report: --factor must be a positive number\n");
            return CLI_USAGE;
        }
    }
    if (o->min != NULL && !parse_uint(o->min, 1000000, &ro.volume_min)) {
        fprintf(stderr, "fhirgate audit report: --min must be a whole number\n");
        return CLI_USAGE;
    }
    if (o->from == NULL || o->to == NULL) {
        fprintf(stderr, "fhirgate audit report: --from and --to are required\n");
        return CLI_USAGE;
    }
    c = cli_db_connect("audit report", o->database, o->state_dir);
    if (c == NULL)
        return CLI_FAILED;
    rc = gw_audit_report(c, &ro, &report, &err);
    gw_db_conn_free(c);
    if (rc != BASE_OK) {
        fprintf(stderr, "fhirgate audit report: %s: %s\n", err.where[0] ? err.where : "report",
                err.msg);
        return rc == BASE_E_INVALID ? CLI_USAGE : CLI_FAILED;
    }
    base_buf_init(&b, 0);
    rc = fhir_json_dump(report, FHIR_JSON_PRETTY, &b, &err);
    if (rc == BASE_OK)
        fwrite(b.data, 1, b.len, stdout);
    base_buf_fini(&b);
    json_decref(report);
    return rc == BASE_OK ? CLI_OK : CLI_FAILED;
}

static int
run_keygen(const struct opts *o)
{
    struct base_err err = {0};

    if (o->out == NULL) {
        fprintf(stderr, "fhirgate audit keygen: --out KEY.pem is required\n");
        return CLI_USAGE;
    }
    if (gw_audit_key_generate(o->out, o->public_out, &err) != BASE_OK) {
        fprintf(stderr, "fhirgate audit keygen: %s\n", err.msg);
        return CLI_FAILED;
    }
    return CLI_OK;
}

int
cli_cmd_audit(int argc, char **argv)
{
    static const struct {
        const char *name;
        const char *cmd;
        int (*run)(const struct opts *o);
    } subs[] = {
        {"archive", "audit archive", run_archive},
        {"keygen", "audit keygen", run_keygen},
        {"report", "audit report", run_report},
        {"verify", "audit verify", run_verify},
    };
    struct opts o = {0};

    if (argc < 2 || cli_wants_help(argc, argv)) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    for (size_t i = 0; i < BASE_ARRAY_LEN(subs); i++) {
        int rc;

        if (strcmp(argv[1], subs[i].name) != 0)
            continue;
        rc = parse(subs[i].cmd, argc, argv, &o);
        if (rc != CLI_OK) {
            usage(stderr);
            return rc;
        }
        return subs[i].run(&o);
    }
    fprintf(stderr, "fhirgate audit: unknown subcommand '%s'\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
