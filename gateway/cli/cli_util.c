#include "gateway/cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"

bool
cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    }
    return false;
}

char *
cli_read_file(const char *path, size_t max, size_t *out_len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *data = NULL;
    size_t len = 0;
    size_t cap = 0;

    if (max == 0)
        max = 256u << 20;
    if (f == NULL) {
        fprintf(stderr, "%s: could not read: %s\n", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        size_t n;

        if (cap - len < 65536) {
            char *p;

            cap = cap == 0 ? 65536 : cap * 2;
            p = base_realloc(data, cap + 1);
            if (p == NULL) {
                fprintf(stderr, "%s: could not read: out of memory\n", path);
                goto fail;
            }
            data = p;
        }
        n = fread(data + len, 1, cap - len, f);
        len += n;
        if (len > max) {
            fprintf(stderr, "%s: could not read: file exceeds %zu bytes\n", path, max);
            goto fail;
        }
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "%s: could not read: %s\n", path, strerror(errno));
        goto fail;
    }
    if (f != stdin)
        fclose(f);
    data[len] = '\0';
    *out_len = len;
    return data;
fail:
    if (f != stdin)
        fclose(f);
    base_free(data);
    return NULL;
}

const char *
cli_database_url(const char *flag_value)
{
    const char *env;

    if (flag_value != NULL && flag_value[0] != '\0')
        return flag_value;
    env = getenv("FHIRGATE_DATABASE_URL");
    return (env != NULL && env[0] != '\0') ? env : NULL;
}
