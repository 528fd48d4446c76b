#include "gateway/cli/db_connect.h"

#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/cli/cli.h"
#include "gateway/db/gw_db.h"

int
cli_take_opt(const char *cmd, int argc, char **argv, int *i, const char *name, const char **out)
{
    const char *a = argv[*i];
    size_t n = strlen(name);

    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *out = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "fhirgate %s: option %s needs a value\n", cmd, name);
        return -1;
    }
    *out = argv[++*i];
    return 1;
}

int
cli_take_opts(const char *cmd, int argc, char **argv, int *i, const char *const *names,
              const char **const *slots, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        int taken = cli_take_opt(cmd, argc, argv, i, names[k], slots[k]);

        if (taken != 0)
            return taken;
    }
    if (argv[*i][0] == '-' && argv[*i][1] != '\0') {
        fprintf(stderr, "fhirgate %s: unknown option %s\n", cmd, argv[*i]);
        return -1;
    }
    return 0;
}

bool
cli_take_sub_id(const char *cmd, const char *arg, const char **sub, const char **id)
{
    if (*sub == NULL)
        *sub = arg;
    else if (*id == NULL)
        *id = arg;
    else {
        fprintf(stderr, "fhirgate %s: unexpected argument\n", cmd);
        return false;
    }
    return true;
}

struct gw_db_conn *
cli_db_connect(const char *cmd, const char *database, const char *state_dir)
{
    struct gw_db_config cfg;
    struct gw_db_conn *c = NULL;
    struct base_err err = {0};
    struct base_arena *a = NULL;
    const char *url = cli_database_url(database);

    gw_db_config_defaults(&cfg);
    cfg.application_name = "fhirgate-cli";
    if (url == NULL && state_dir != NULL) {
        struct gw_db_embedded_urls urls;

        a = base_arena_new(0);
        if (a == NULL || gw_db_embedded_ensure(state_dir, NULL, a, &urls, &err) != BASE_OK) {
            fprintf(stderr, "fhirgate %s: %s: %s\n", cmd, err.where[0] ? err.where : "database",
                    a == NULL ? "out of memory" : err.msg);
            base_arena_free(a);
            return NULL;
        }
        url = urls.admin;
    }
    if (url == NULL) {
        fprintf(stderr,
                "fhirgate %s: no database: give --database URL, set "
                "FHIRGATE_DATABASE_URL or give --state-dir DIR\n",
                cmd);
        return NULL;
    }
    cfg.url = url;
    if (gw_db_connect(&cfg, &c, &err) != BASE_OK) {
        char desc[256];

        gw_db_url_describe(url, desc, sizeof(desc));
        fprintf(stderr, "fhirgate %s: %s (%s)\n", cmd, err.msg, desc);
        c = NULL;
    }
    base_arena_free(a);
    return c;
}
