/*
 * fhirgate client add-app|list|disable-app|enable-app — SMART App Launch
 * public clients (gateway/auth; docs/design/auth.md "App clients").  The
 * gateway reads registrations per request, so a change applies at once.
 */
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/auth/gw_auth_store.h"
#include "gateway/cli/cli.h"
#include "gateway/cli/db_connect.h"
#include "gateway/db/gw_db.h"

struct client_opts {
    const char *sub;
    const char *id;
    const char *name;
    const char *scope;
    const char *database;
    const char *state_dir;
    const char *uris[BASE_LIMIT_AUTH_MAX_REDIRECT_URIS];
    size_t n_uris;
    bool disabled;
};

static void
usage(FILE *f)
{
    fprintf(f, "usage: fhirgate client add-app ID --redirect-uri URI [--redirect-uri URI …]\n"
               "                               --scope SCOPES [--name NAME] [--disabled]\n"
               "       fhirgate client list\n"
               "       fhirgate client disable-app|enable-app ID\n"
               "common options: [--database URL] [--state-dir DIR]\n\n"
               "Registers a SMART App Launch app: a public client (no secret; PKCE S256) that\n"
               "signs users in through /auth/authorize.  Each redirect URI is matched exactly and\n"
               "must be https://, or http:// to 127.0.0.1, [::1] or localhost for a native app\n"
               "(any port then, RFC 8252).  SCOPES is the most the app may be granted, e.g.\n"
               "\"patient/*.rs launch/patient\"; each user is further limited by their role.\n"
               "Running add-app again for the same ID replaces the registration.\n");
}

static int
take_uri(struct client_opts *o, int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "fhirgate client: --redirect-uri needs a value\n");
        return CLI_USAGE;
    }
    if (o->n_uris == BASE_LIMIT_AUTH_MAX_REDIRECT_URIS) {
        fprintf(stderr, "fhirgate client: at most %u redirect URIs\n",
                BASE_LIMIT_AUTH_MAX_REDIRECT_URIS);
        return CLI_USAGE;
    }
    o->uris[o->n_uris++] = argv[++*i];
    return CLI_OK;
}

static int
parse_args(int argc, char **argv, struct client_opts *o)
{
    static const char *const names[] = {"--name", "--scope", "--database", "--state-dir"};

    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        const char **slots[] = {&o->name, &o->scope, &o->database, &o->state_dir};
        int taken;

        if (strcmp(argv[i], "--disabled") == 0) {
            o->disabled = true;
            continue;
        }
        if (strcmp(argv[i], "--redirect-uri") == 0) {
            if (take_uri(o, argc, argv, &i) != CLI_OK)
                return CLI_USAGE;
            continue;
        }
        taken =
            cli_take_opts("client", argc, argv, &i, names, slots, sizeof(names) / sizeof(names[0]));
        if (taken < 0)
            return CLI_USAGE;
        if (!taken && !cli_take_sub_id("client", argv[i], &o->sub, &o->id))
            return CLI_USAGE;
    }
    if (o->sub == NULL) {
        usage(stderr);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int
check_args(const struct client_opts *o)
{
    if (strcmp(o->sub, "add-app") != 0 && strcmp(o->sub, "list") != 0 &&
        strcmp(o->sub, "disable-app") != 0 && strcmp(o->sub, "enable-app") != 0) {
        fprintf(stderr, "fhirgate client: unknown subcommand %s\n", o->sub);
        return CLI_USAGE;
    }
    if (strcmp(o->sub, "list") != 0 && o->id == NULL) {
        fprintf(stderr, "fhirgate client %s: a client ID is required\n", o->sub);
        return CLI_USAGE;
    }
    if (strcmp(o->sub, "add-app") == 0 && (o->n_uris == 0 || o->scope == NULL)) {
        fprintf(stderr, "fhirgate client add-app: --redirect-uri and --scope are required\n");
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int
do_add(PGconn *c, const struct client_opts *o)
{
    struct gw_auth_app_client cl = {.client_id = o->id,
                                    .display_name = o->name,
                                    .redirect_uris = (const char **)o->uris,
                                    .redirect_count = o->n_uris,
                                    .allowed_scopes = o->scope,
                                    .is_enabled = !o->disabled};
    struct base_err err = {0};

    if (gw_auth_app_client_put(c, &cl, &err) != BASE_OK) {
        fprintf(stderr, "fhirgate client add-app: %s: %s\n", err.where, err.msg);
        return CLI_FAILED;
    }
    printf("app client %s: %s\n", cl.client_id, cl.is_enabled ? "enabled" : "disabled");
    return CLI_OK;
}

static int
do_list(PGconn *c)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_app_client *cs = NULL;
    struct base_err err = {0};
    size_t n = 0;

    if (a == NULL || gw_auth_app_client_list(c, a, &cs, &n, &err) != BASE_OK) {
        fprintf(stderr, "fhirgate client list: %s\n", a == NULL ? "out of memory" : err.msg);
        base_arena_free(a);
        return CLI_FAILED;
    }
    printf("%-24s %-9s %-30s %s\n", "CLIENT", "STATUS", "NAME", "SCOPES");
    for (size_t i = 0; i < n; i++) {
        printf("%-24s %-9s %-30s %s\n", cs[i].client_id, cs[i].is_enabled ? "enabled" : "disabled",
               cs[i].display_name != NULL ? cs[i].display_name : "", cs[i].allowed_scopes);
        for (size_t k = 0; k < cs[i].redirect_count; k++)
            printf("  redirect %s\n", cs[i].redirect_uris[k]);
    }
    base_arena_free(a);
    return CLI_OK;
}

static int
do_status(PGconn *c, const struct client_opts *o, bool enabled)
{
    struct base_err err = {0};

    if (gw_auth_app_client_set_enabled(c, o->id, enabled, &err) != BASE_OK) {
        fprintf(stderr, "fhirgate client %s: %s\n", o->sub, err.msg);
        return CLI_FAILED;
    }
    printf("app client %s: %s\n", o->id, enabled ? "enabled" : "disabled");
    return CLI_OK;
}

int
cli_cmd_client(int argc, char **argv)
{
    struct client_opts o;
    struct gw_db_conn *c;
    int rc;

    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return CLI_OK;
    }
    if ((rc = parse_args(argc, argv, &o)) != CLI_OK || (rc = check_args(&o)) != CLI_OK)
        return rc;
    c = cli_db_connect("client", o.database, o.state_dir);
    if (c == NULL)
        return CLI_FAILED;
    if (strcmp(o.sub, "add-app") == 0)
        rc = do_add(gw_db_conn_pg(c), &o);
    else if (strcmp(o.sub, "list") == 0)
        rc = do_list(gw_db_conn_pg(c));
    else
        rc = do_status(gw_db_conn_pg(c), &o, strcmp(o.sub, "enable-app") == 0);
    gw_db_conn_free(c);
    return rc;
}
