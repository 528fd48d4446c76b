/*
 * fhirgate member add|list|approve|disable|enable — the member registry
 * from the command line (gateway/registry; docs/design/region.md
 * "Members").  A running gateway picks changes up at its next registry
 * refresh (30 s) or at once through the admin API.
 */
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/cli/cli.h"
#include "gateway/cli/db_connect.h"
#include "gateway/db/gw_db.h"
#include "gateway/registry/gw_registry.h"

struct member_opts {
    const char *sub;
    const char *id;
    const char *name;
    const char *base;
    const char *cert_sha256;
    const char *status;
    const char *database;
    const char *state_dir;
    bool allow_http;
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: fhirgate member add ID --name NAME --base URL [--cert-sha256 HEX]\n"
               "                          [--status active|pending] [--allow-http]\n"
               "       fhirgate member list\n"
               "       fhirgate member approve|disable|enable ID\n"
               "common options: [--database URL] [--state-dir DIR]\n\n"
               "ID is the member id (a-z, 0-9, '.', '_', '-'; the CN of its adapter's client\n"
               "certificate); URL the FHIR base of its adapter (https).  `approve` and `enable`\n"
               "make a member active, `disable` stops every request to it.  The database is\n"
               "--database URL, FHIRGATE_DATABASE_URL, or the embedded one of --state-dir.\n");
}

static int
parse_args(int argc, char **argv, struct member_opts *o)
{
    static const char *const names[] = {"--name",     "--base",     "--cert-sha256",
                                        "--status",   "--database", "--state-dir"};

    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        const char **slots[] = {&o->name,   &o->base,     &o->cert_sha256,
                                &o->status, &o->database, &o->state_dir};
        int taken;

        if (strcmp(argv[i], "--allow-http") == 0) {
            o->allow_http = true;
            continue;
        }
        taken =
            cli_take_opts("member", argc, argv, &i, names, slots, sizeof(names) / sizeof(names[0]));
        if (taken < 0)
            return CLI_USAGE;
        if (!taken && !cli_take_sub_id("member", argv[i], &o->sub, &o->id))
            return CLI_USAGE;
    }
    if (o->sub == NULL) {
        usage(stderr);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int
do_add(struct gw_db_conn *c, const struct member_opts *o)
{
    struct gw_registry_member m = {.id = o->id,
                                   .name = o->name,
                                   .base = o->base,
                                   .cert_sha256 = o->cert_sha256,
                                   .source = "admin",
                                   .status = GW_REGISTRY_ACTIVE};
    struct base_err err = {0};

    if (o->status != NULL && !gw_registry_status_parse(o->status, &m.status)) {
        fprintf(stderr, "fhirgate member: --status must be active, pending or disabled\n");
        return CLI_USAGE;
    }
    if (gw_registry_member_check(&m, o->allow_http, &err) != BASE_OK ||
        gw_registry_put(c, &m, &err) != BASE_OK) {
        fprintf(stderr, "fhirgate member add: %s: %s\n", err.where, err.msg);
        return CLI_FAILED;
    }
    printf("member %s: %s\n", m.id, gw_registry_status_name(m.status));
    return CLI_OK;
}

static int
do_list(struct gw_db_conn *c)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_registry_member *ms = NULL;
    struct base_err err = {0};
    size_t n = 0;

    if (a == NULL || gw_registry_list(c, a, &ms, &n, &err) != BASE_OK) {
        fprintf(stderr, "fhirgate member list: %s\n", a == NULL ? "out of memory" : err.msg);
        base_arena_free(a);
        return CLI_FAILED;
    }
    printf("%-20s %-9s %-7s %-40s %s\n", "ID", "STATUS", "SOURCE", "BASE", "NAME");
    for (size_t i = 0; i < n; i++)
        printf("%-20s %-9s %-7s %-40s %s\n", ms[i].id, gw_registry_status_name(ms[i].status),
               ms[i].source, ms[i].base, ms[i].name);
    base_arena_free(a);
    return CLI_OK;
}

static int
do_status(struct gw_db_conn *c, const struct member_opts *o, enum gw_registry_status st)
{
    struct base_err err = {0};

    if (gw_registry_set_status(c, o->id, st, &err) != BASE_OK) {
        fprintf(stderr, "fhirgate member %s: %s\n", o->sub, err.msg);
        return CLI_FAILED;
    }
    printf("member %s: %s\n", o->id, gw_registry_status_name(st));
    return CLI_OK;
}

static int
check_args(const struct member_opts *o)
{
    bool needs_id = strcmp(o->sub, "list") != 0;

    if (strcmp(o->sub, "add") != 0 && strcmp(o->sub, "list") != 0 &&
        strcmp(o->sub, "approve") != 0 && strcmp(o->sub, "disable") != 0 &&
        strcmp(o->sub, "enable") != 0) {
        fprintf(stderr, "fhirgate member: unknown subcommand %s\n", o->sub);
        return CLI_USAGE;
    }
    if (needs_id && o->id == NULL) {
        fprintf(stderr, "fhirgate member %s: a member ID is required\n", o->sub);
        return CLI_USAGE;
    }
    if (strcmp(o->sub, "add") == 0 && (o->name == NULL || o->base == NULL)) {
        fprintf(stderr, "fhirgate member add: --name and --base are required\n");
        return CLI_USAGE;
    }
    return CLI_OK;
}

int
cli_cmd_member(int argc, char **argv)
{
    struct member_opts o;
    struct gw_db_conn *c;
    int rc;

    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return CLI_OK;
    }
    if ((rc = parse_args(argc, argv, &o)) != CLI_OK || (rc = check_args(&o)) != CLI_OK)
        return rc;
    c = cli_db_connect("member", o.database, o.state_dir);
    if (c == NULL)
        return CLI_FAILED;
    if (strcmp(o.sub, "add") == 0)
        rc = do_add(c, &o);
    else if (strcmp(o.sub, "list") == 0)
        rc = do_list(c);
    else if (strcmp(o.sub, "disable") == 0)
        rc = do_status(c, &o, GW_REGISTRY_DISABLED);
    else
        rc = do_status(c, &o, GW_REGISTRY_ACTIVE);
    gw_db_conn_free(c);
    return rc;
}
