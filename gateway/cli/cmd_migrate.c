/*
 * fhirgate migrate [--target gateway|adapter] [--database URL] [--state-dir DIR] [--status]
 *
 * Applies the schema migrations built into this program (schemas/sql/TARGET)
 * that the database does not have yet, each in its own transaction, or with
 * --status lists every migration and its state.  Exit 0 when the schema is
 * current (or was brought up to date), 1 on failure — including an applied
 * migration whose file has changed since — and 2 on a usage error.
 */
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/cli/cli.h"
#include "gateway/cli/db_connect.h"
#include "gateway/db/gw_db.h"

static void
usage(FILE *f)
{
    fprintf(f, "usage: fhirgate migrate [--target gateway|adapter] [--database URL]\n"
               "                        [--state-dir DIR] [--status]\n\n"
               "Applies the pending schema migrations built into this program, each in\n"
               "its own transaction, in numeric order (forward-only).  The database is\n"
               "--database, else $FHIRGATE_DATABASE_URL, else the private cluster under\n"
               "--state-dir (created and started when needed).  Run it with an owner\n"
               "or superuser login: migrations create roles, schemas and grants.\n\n"
               "  --target T   gateway (default) or adapter\n"
               "  --status     list the migrations and their state; change nothing\n");
}

static const char *
state_name(enum gw_db_migration_state s)
{
    switch (s) {
    case GW_DB_MIG_PENDING:
        return "pending";
    case GW_DB_MIG_APPLIED:
        return "applied";
    case GW_DB_MIG_CHANGED:
        return "CHANGED";
    case GW_DB_MIG_UNKNOWN:
        return "unknown to this build";
    default:
        return "?";
    }
}

static int
print_status(struct gw_db_conn *c, const char *target, const struct gw_db_migration *set,
             size_t count)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_db_migration_status *st = NULL;
    struct base_err err = {0};
    size_t n = 0;
    int rc = CLI_OK;

    if (a == NULL || gw_db_migrate_status(c, target, set, count, a, &st, &n, &err) != BASE_OK) {
        fprintf(stderr, "fhirgate migrate: %s\n", a == NULL ? "out of memory" : err.msg);
        base_arena_free(a);
        return CLI_FAILED;
    }
    for (size_t i = 0; i < n; i++) {
        printf("%-40s %-22s %s\n", st[i].name, state_name(st[i].state), st[i].applied_at);
        if (st[i].state == GW_DB_MIG_CHANGED) {
            fprintf(stderr, "fhirgate migrate: %s: applied migration was changed afterwards\n",
                    st[i].name);
            rc = CLI_FAILED;
        }
    }
    base_arena_free(a);
    return rc;
}

int
cli_cmd_migrate(int argc, char **argv)
{
    const char *target = "gateway";
    const char *database = NULL;
    const char *state_dir = NULL;
    bool status = false;
    const struct gw_db_migration *set;
    struct gw_db_conn *c;
    struct base_err err = {0};
    unsigned applied = 0;
    size_t count = 0;
    int rc;

    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return CLI_OK;
    }
    for (int i = 1; i < argc; i++) {
        int t;

        if (strcmp(argv[i], "--status") == 0) {
            status = true;
            continue;
        }
        if ((t = cli_take_opt("migrate", argc, argv, &i, "--target", &target)) == 0 &&
            (t = cli_take_opt("migrate", argc, argv, &i, "--database", &database)) == 0)
            t = cli_take_opt("migrate", argc, argv, &i, "--state-dir", &state_dir);
        if (t < 0)
            return CLI_USAGE;
        if (t == 0) {
            fprintf(stderr, "fhirgate migrate: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    if (strcmp(target, "gateway") != 0 && strcmp(target, "adapter") != 0) {
        fprintf(stderr, "fhirgate migrate: --target must be gateway or adapter\n");
        return CLI_USAGE;
    }
    set = gw_db_migrations(target, &count);
    c = cli_db_connect("migrate", database, state_dir);
    if (c == NULL)
        return CLI_FAILED;
    if (status) {
        rc = print_status(c, target, set, count);
        gw_db_conn_free(c);
        return rc;
    }
    rc = gw_db_migrate(c, target, set, count, &applied, &err);
    gw_db_conn_free(c);
    if (rc != BASE_OK) {
        fprintf(stderr, "fhirgate migrate: %s: %s\n", err.where[0] ? err.where : target, err.msg);
        if (err.log_detail[0] != '\0')
            fprintf(stderr, "fhirgate migrate: detail: %s\n", err.log_detail);
        if (applied > 0)
            fprintf(stderr, "fhirgate migrate: %u migration(s) were applied before the failure\n",
                    applied);
        return CLI_FAILED;
    }
    printf("migrate %s: %u applied, %zu in this build\n", target, applied, count);
    return CLI_OK;
}
