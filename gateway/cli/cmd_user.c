/*
 * fhirgate user add|bootstrap|list|disable|enable|passwd|unlock — manage
 * the gateway's portal users (gateway/auth, docs/design/auth.md).
 *
 * Passwords are never taken from the command line (other users could read
 * them in the process list): they come from --password-file FILE, or from
 * standard input ("-", the default), prompting without echo on a terminal.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "fhir/base/arena.h"
#include "gateway/auth/gw_auth.h"
#include "gateway/auth/gw_auth_store.h"
#include "gateway/cli/cli.h"

#define PW_BUF (BASE_LIMIT_AUTH_MAX_PASSWORD + 2)

struct user_opts {
    const char *sub;  /* add, bootstrap, list, … */
    const char *name; /* the user name argument */
    const char *role;
    const char *display;
    const char *org;
    const char *patient;
    const char *pw_file; /* NULL = stdin */
    const char *database;
    bool is_disabled;
};

static void
usage(FILE *f)
{
    fprintf(f,
            "usage: fhirgate user add NAME --role ROLE [--display-name TEXT]\n"
            "                     [--organization ORG] [--patient PERSON] [--disabled]\n"
            "       fhirgate user bootstrap NAME [--display-name TEXT]\n"
            "       fhirgate user list\n"
            "       fhirgate user disable|enable|unlock NAME\n"
            "       fhirgate user passwd NAME\n"
            "common options: [--database URL] [--password-file FILE]\n\n"
            "ROLE is clinician (needs --organization), regulator, admin or patient (needs\n"
            "--patient, the regional person id).  Passwords (at least %u characters) are\n"
            "read from --password-file, or from standard input (a prompt on a terminal);\n"
            "never from the command line.  `bootstrap` creates the first admin and does\n"
            "nothing when an admin exists, so deploy scripts may run it every time.\n"
            "The database is --database URL or FHIRGATE_DATABASE_URL; run `fhirgate\n"
            "migrate` first.\n",
            BASE_LIMIT_AUTH_MIN_PASSWORD);
}

static int
parse_args(int argc, char **argv, struct user_opts *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;

        if (strcmp(a, "--disabled") == 0) {
            o->is_disabled = true;
            continue;
        }
        if (strcmp(a, "--role") == 0)
            slot = &o->role;
        else if (strcmp(a, "--display-name") == 0)
            slot = &o->display;
        else if (strcmp(a, "--organization") == 0)
            slot = &o->org;
        else if (strcmp(a, "--patient") == 0)
            slot = &o->patient;
        else if (strcmp(a, "--password-file") == 0)
            slot = &o->pw_file;
        else if (strcmp(a, "--database") == 0)
            slot = &o->database;
        if (slot != NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "fhirgate user: option %s needs a value\n", a);
                return CLI_USAGE;
            }
            *slot = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "fhirgate user: unknown option %s\n", a);
            return CLI_USAGE;
        } else if (o->sub == NULL) {
            o->sub = a;
        } else if (o->name == NULL) {
            o->name = a;
        } else {
            fprintf(stderr, "fhirgate user: unexpected argument\n");
            return CLI_USAGE;
        }
    }
    return CLI_OK;
}

/* One line from `f` into buf without the line end; false when nothing. */
static bool
read_line(FILE *f, char *buf, size_t cap, size_t *len)
{
    if (fgets(buf, (int)cap, f) == NULL)
        return false;
    *len = strcspn(buf, "\r\n");
    buf[*len] = '\0';
    return true;
}

static bool
prompt_hidden(const char *prompt, char *buf, size_t cap, size_t *len)
{
    struct termios old;
    struct termios quiet;
    bool ok;

    fprintf(stderr, "%s", prompt);
    tcgetattr(STDIN_FILENO, &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    ok = read_line(stdin, buf, cap, len);
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    fprintf(stderr, "\n");
    return ok;
}

/* Read the new password into buf (PW_BUF bytes); prints why on failure. */
static bool
read_password(const struct user_opts *o, char *buf, size_t *len)
{
    FILE *f = stdin;
    bool ok;

    if (o->pw_file == NULL && isatty(STDIN_FILENO)) {
        char again[PW_BUF];
        size_t again_len = 0;

        ok = prompt_hidden("new password: ", buf, PW_BUF, len) &&
             prompt_hidden("repeat: ", again, sizeof(again), &again_len) && again_len == *len &&
             memcmp(again, buf, *len) == 0;
        OPENSSL_cleanse(again, sizeof(again));
        if (!ok)
            fprintf(stderr, "fhirgate user: the passwords do not match\n");
        return ok;
    }
    if (o->pw_file != NULL && strcmp(o->pw_file, "-") != 0 &&
        (f = fopen(o->pw_file, "r")) == NULL) {
        fprintf(stderr, "%s: could not read: %s\n", o->pw_file, strerror(errno));
        return false;
    }
    ok = read_line(f, buf, PW_BUF, len);
    if (f != stdin)
        fclose(f);
    if (!ok)
        fprintf(stderr, "fhirgate user: no password given\n");
    return ok;
}

/* Read, check against the policy, and hash a new password for `user`. */
static bool
new_password_hash(const struct user_opts *o, const char *user, char hash[GW_AUTH_PW_HASH_MAX])
{
    char pw[PW_BUF];
    size_t len = 0;
    struct gw_auth_pw_params params;
    struct base_err err = {0};
    bool ok = read_password(o, pw, &len);

    gw_auth_pw_params_default(&params);
    if (ok &&
        (gw_auth_password_check_policy(pw, len, user, &err) != BASE_OK ||
         gw_auth_password_hash(pw, len, &params, hash, GW_AUTH_PW_HASH_MAX, &err) != BASE_OK)) {
        fprintf(stderr, "fhirgate user: %s\n", err.msg);
        ok = false;
    }
    OPENSSL_cleanse(pw, sizeof(pw));
    return ok;
}

static void
print_err(const char *what, const struct base_err *err)
{
    fprintf(stderr, "fhirgate user: %s: %s%s%s%s\n", what, err->msg,
            err->log_detail[0] != '\0' ? " (" : "", err->log_detail,
            err->log_detail[0] != '\0' ? ")" : "");
}

static bool
normalized_name(const struct user_opts *o, char out[BASE_LIMIT_AUTH_MAX_USERNAME + 1])
{
    struct base_err err = {0};

    if (o->name == NULL) {
        fprintf(stderr, "fhirgate user %s: a user name is required\n", o->sub);
        return false;
    }
    if (gw_auth_username_normalize(o->name, strlen(o->name), out, BASE_LIMIT_AUTH_MAX_USERNAME + 1,
                                   &err) != BASE_OK) {
        fprintf(stderr, "fhirgate user: %s\n", err.msg);
        return false;
    }
    return true;
}

static int
cmd_add(PGconn *c, const struct user_opts *o, bool is_bootstrap)
{
    char name[BASE_LIMIT_AUTH_MAX_USERNAME + 1];
    char hash[GW_AUTH_PW_HASH_MAX];
    struct gw_auth_user u = {0};
    struct base_err err = {0};
    bool created = false;
    int rc;

    if (!normalized_name(o, name))
        return CLI_USAGE;
    u.username = name;
    u.display_name = o->display != NULL ? o->display : name;
    u.organization = o->org;
    u.patient = o->patient;
    u.is_enabled = !o->is_disabled;
    u.role = GW_AUTH_ROLE_ADMIN;
    if (!is_bootstrap &&
        (o->role == NULL || !gw_auth_role_parse(base_str_from_cstr(o->role), &u.role))) {
        fprintf(stderr,
                "fhirgate user add: --role must be clinician, regulator, admin or patient\n");
        return CLI_USAGE;
    }
    if (gw_auth_user_check(&u, &err) != BASE_OK) {
        fprintf(stderr, "fhirgate user: %s\n", err.msg);
        return CLI_USAGE;
    }
    if (!new_password_hash(o, name, hash))
        return CLI_FAILED;
    u.password_hash = hash;
    rc = is_bootstrap ? gw_auth_user_bootstrap_admin(c, &u, &created, &err)
                      : gw_auth_user_create(c, &u, &err);
    OPENSSL_cleanse(hash, sizeof(hash));
    if (rc == BASE_E_CONFLICT) {
        fprintf(stderr, "fhirgate user: user %s already exists\n", name);
        return CLI_FAILED;
    }
    if (rc != BASE_OK) {
        print_err("could not create the user", &err);
        return CLI_FAILED;
    }
    if (is_bootstrap && !created) {
        fprintf(stderr, "fhirgate user bootstrap: an admin already exists; nothing changed\n");
        return CLI_OK;
    }
    printf("created %s %s\n", gw_auth_role_name(u.role), name);
    return CLI_OK;
}

static int
cmd_list(PGconn *c)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_auth_user *users = NULL;
    size_t n = 0;
    struct base_err err = {0};

    if (a == NULL || gw_auth_user_list(c, a, &users, &n, &err) != BASE_OK) {
        print_err("could not list users", &err);
        base_arena_free(a);
        return CLI_FAILED;
    }
    printf("%-24s %-10s %-8s %-20s %s\n", "NAME", "ROLE", "STATUS", "ORGANIZATION", "DISPLAY NAME");
    for (size_t i = 0; i < n; i++) {
        const struct gw_auth_user *u = &users[i];

        printf("%-24s %-10s %-8s %-20s %s\n", u->username, gw_auth_role_name(u->role),
               u->is_enabled ? "enabled" : "disabled",
               u->organization != NULL ? u->organization : "-", u->display_name);
    }
    base_arena_free(a);
    return CLI_OK;
}

static int
cmd_update(PGconn *c, const struct user_opts *o)
{
    char name[BASE_LIMIT_AUTH_MAX_USERNAME + 1];
    char hash[GW_AUTH_PW_HASH_MAX];
    struct base_err err = {0};
    int rc;

    if (!normalized_name(o, name))
        return CLI_USAGE;
    if (strcmp(o->sub, "passwd") == 0) {
        if (!new_password_hash(o, name, hash))
            return CLI_FAILED;
        rc = gw_auth_user_set_password(c, name, hash, &err);
        OPENSSL_cleanse(hash, sizeof(hash));
    } else if (strcmp(o->sub, "unlock") == 0) {
        rc = gw_auth_throttle_clear(c, name, &err);
    } else {
        rc = gw_auth_user_set_enabled(c, name, strcmp(o->sub, "enable") == 0, &err);
    }
    if (rc != BASE_OK) {
        print_err(rc == BASE_E_NOTFOUND ? "cannot update" : "could not update the user", &err);
        return CLI_FAILED;
    }
    printf("%s: %s\n", o->sub, name);
    return CLI_OK;
}

static int
dispatch(PGconn *c, const struct user_opts *o)
{
    if (strcmp(o->sub, "add") == 0)
        return cmd_add(c, o, false);
    if (strcmp(o->sub, "bootstrap") == 0)
        return cmd_add(c, o, true);
    if (strcmp(o->sub, "list") == 0)
        return cmd_list(c);
    return cmd_update(c, o);
}

static bool
known_sub(const char *s)
{
    static const char *const subs[] = {"add",    "bootstrap", "list",  "disable",
                                       "enable", "passwd",    "unlock"};

    for (size_t i = 0; i < BASE_ARRAY_LEN(subs); i++) {
        if (strcmp(s, subs[i]) == 0)
            return true;
    }
    return false;
}

int
cli_cmd_user(int argc, char **argv)
{
    struct user_opts o;
    const char *url;
    PGconn *c;
    int rc;

    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return CLI_OK;
    }
    rc = parse_args(argc, argv, &o);
    if (rc != CLI_OK || o.sub == NULL || !known_sub(o.sub)) {
        if (rc == CLI_OK)
            fprintf(stderr, "fhirgate user: %s\n",
                    o.sub == NULL ? "a subcommand is required" : "unknown subcommand");
        usage(stderr);
        return CLI_USAGE;
    }
    url = cli_database_url(o.database);
    if (url == NULL) {
        fprintf(stderr, "fhirgate user: needs --database URL or FHIRGATE_DATABASE_URL\n");
        return CLI_USAGE;
    }
    c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "fhirgate user: could not connect to the database: %s", PQerrorMessage(c));
        PQfinish(c);
        return CLI_FAILED;
    }
    rc = dispatch(c, &o);
    PQfinish(c);
    return rc;
}
