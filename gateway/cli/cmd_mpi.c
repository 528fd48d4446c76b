/*
 * fhirgate mpi reviews|decide|merge|unmerge|split|history — patient index
 * stewardship from the command line (gateway/mpi; docs/design/mpi.md), the
 * same operations as the admin API's /admin/mpi/…  The index records the
 * actor of each change as "cli:<login name>" in its history.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "fhir/base/arena.h"
#include "fhir/base/str.h"
#include "fhir/json/fhir_json.h"
#include "gateway/cli/cli.h"
#include "gateway/cli/db_connect.h"
#include "gateway/db/gw_db.h"
#include "gateway/mpi/gw_mpi.h"

#define MPI_MAX_ARGS 3

struct mpi_opts {
    const char *sub;
    const char *args[MPI_MAX_ARGS];
    size_t n_args;
    const char *reason;
    const char *database;
    const char *state_dir;
    bool all;
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: fhirgate mpi reviews [--all]\n"
               "       fhirgate mpi decide REVIEW_ID same|not-same [--reason NOTE]\n"
               "       fhirgate mpi merge SURVIVOR_ID MERGED_ID --reason TEXT\n"
               "       fhirgate mpi unmerge MERGE_ID --reason TEXT\n"
               "       fhirgate mpi split MEMBER SYSTEM VALUE --reason TEXT\n"
               "       fhirgate mpi history PERSON_ID\n"
               "common options: [--database URL] [--state-dir DIR]\n\n"
               "Works the regional patient index: `reviews` lists the possible matches waiting\n"
               "for a decision (all of them with --all), `decide` settles one, `merge` joins two\n"
               "regional persons (ids are the regional Patient ids), `unmerge` undoes a merge,\n"
               "`split` moves one member record (member id, identifier system and value) to a\n"
               "person of its own, `history` prints every link change of a person.  Output is\n"
               "JSON.  The database is --database URL, FHIRGATE_DATABASE_URL, or the embedded\n"
               "one of --state-dir.\n");
}

static int
parse_args(int argc, char **argv, struct mpi_opts *o)
{
    static const char *const names[] = {"--reason", "--database", "--state-dir"};

    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        const char **slots[] = {&o->reason, &o->database, &o->state_dir};
        int taken;

        if (strcmp(argv[i], "--all") == 0) {
            o->all = true;
            continue;
        }
        taken =
            cli_take_opts("mpi", argc, argv, &i, names, slots, sizeof(names) / sizeof(names[0]));
        if (taken < 0)
            return CLI_USAGE;
        if (taken)
            continue;
        if (o->sub == NULL) {
            o->sub = argv[i];
        } else if (o->n_args < MPI_MAX_ARGS) {
            o->args[o->n_args++] = argv[i];
        } else {
            fprintf(stderr, "fhirgate mpi: unexpected argument\n");
            return CLI_USAGE;
        }
    }
    if (o->sub == NULL) {
        usage(stderr);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* Arguments and --reason each subcommand needs. */
static int
check_args(const struct mpi_opts *o)
{
    static const struct {
        const char *sub;
        size_t n_args;
        bool reason;
    } subs[] = {{"reviews", 0, false}, {"decide", 2, false}, {"merge", 2, true},
                {"unmerge", 1, true},  {"split", 3, true},   {"history", 1, false}};

    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (strcmp(o->sub, subs[i].sub) != 0)
            continue;
        if (o->n_args != subs[i].n_args) {
            fprintf(stderr, "fhirgate mpi %s: %zu argument(s) expected, see --help\n", o->sub,
                    subs[i].n_args);
            return CLI_USAGE;
        }
        if (subs[i].reason && (o->reason == NULL || o->reason[0] == '\0')) {
            fprintf(stderr, "fhirgate mpi %s: --reason is required\n", o->sub);
            return CLI_USAGE;
        }
        return CLI_OK;
    }
    fprintf(stderr, "fhirgate mpi: unknown subcommand %s\n", o->sub);
    return CLI_USAGE;
}

/* "cli:<login>" for the index's history. */
static const char *
actor(struct base_arena *a)
{
    const struct passwd *pw = getpwuid(getuid());
    const char *login = pw != NULL && pw->pw_name != NULL ? pw->pw_name : getenv("USER");

    return base_arena_sprintf(a, "cli:%s", login != NULL ? login : "unknown");
}

/* Through fhir_json_dump, which writes the index's decimals (weights,
 * scores) as numbers; jansson's own writer would not. */
static int
print_json(struct base_arena *a, json_t *v)
{
    size_t len = 0;
    char *text = v != NULL ? fhir_json_dump_arena(v, FHIR_JSON_PRETTY, a, &len) : NULL;
    int rc = text != NULL && fwrite(text, 1, len, stdout) == len ? CLI_OK : CLI_FAILED;

    json_decref(v);
    return rc;
}

static bool
positive_id(const char *s, int64_t *out)
{
    return base_str_to_i64(base_str_from_cstr(s), out) && *out > 0;
}

static int
run(PGconn *db, struct base_arena *a, const struct mpi_opts *o, struct base_err *err)
{
    const char *who = actor(a);
    int64_t id = 0;
    json_t *v = NULL;

    if (strcmp(o->sub, "reviews") == 0) {
        TRY(gw_mpi_review_list(db, a, !o->all, 500, 0, &v, err));
    } else if (strcmp(o->sub, "decide") == 0) {
        bool same = strcmp(o->args[1], "same") == 0;

        ENSURE(positive_id(o->args[0], &id), err, BASE_E_INVALID, "value", "REVIEW_ID",
               "not a review id");
        ENSURE(same || strcmp(o->args[1], "not-same") == 0, err, BASE_E_INVALID, "value",
               "decision", "the decision is same or not-same");
        TRY(gw_mpi_review_decide(db, id, same ? GW_MPI_SAME_PERSON : GW_MPI_NOT_SAME, who,
                                 o->reason, err));
        v = json_pack("{s:I, s:s}", "review", (json_int_t)id, "decision", o->args[1]);
    } else if (strcmp(o->sub, "merge") == 0) {
        TRY(gw_mpi_merge(db, o->args[0], o->args[1], who, o->reason, &id, err));
        v = json_pack("{s:I, s:s, s:s}", "merge_id", (json_int_t)id, "survivor", o->args[0],
                      "merged", o->args[1]);
    } else if (strcmp(o->sub, "unmerge") == 0) {
        ENSURE(positive_id(o->args[0], &id), err, BASE_E_INVALID, "value", "MERGE_ID",
               "not a merge id");
        TRY(gw_mpi_unmerge(db, id, who, o->reason, err));
        v = json_pack("{s:I, s:b}", "merge_id", (json_int_t)id, "undone", 1);
    } else if (strcmp(o->sub, "split") == 0) {
        char person[48];

        TRY(gw_mpi_split(db, o->args[0], o->args[1], o->args[2], who, o->reason, person,
                         sizeof(person), err));
        v = json_pack("{s:s}", "person", person);
    } else {
        TRY(gw_mpi_history(db, a, o->args[0], &v, err));
    }
    ENSURE(print_json(a, v) == CLI_OK, err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    return BASE_OK;
}

int
cli_cmd_mpi(int argc, char **argv)
{
    struct base_arena *a;
    struct base_err err = {0};
    struct mpi_opts o;
    struct gw_db_conn *c;
    int rc;

    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return CLI_OK;
    }
    if ((rc = parse_args(argc, argv, &o)) != CLI_OK || (rc = check_args(&o)) != CLI_OK)
        return rc;
    if ((a = base_arena_new(0)) == NULL)
        return CLI_FAILED;
    c = cli_db_connect("mpi", o.database, o.state_dir);
    if (c == NULL) {
        base_arena_free(a);
        return CLI_FAILED;
    }
    rc = run(gw_db_conn_pg(c), a, &o, &err) == BASE_OK ? CLI_OK : CLI_FAILED;
    if (rc != CLI_OK)
        fprintf(stderr, "fhirgate mpi %s: %s%s%s\n", o.sub, err.where,
                err.where[0] != '\0' ? ": " : "", err.msg);
    gw_db_conn_free(c);
    base_arena_free(a);
    return rc;
}
