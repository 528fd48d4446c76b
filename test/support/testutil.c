#include "test/support/testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *
tu_corpus_dir(void)
{
    const char *c = getenv("FHIRGATE_CORPUS");

    return (c != NULL && c[0] != '\0') ? c : "../shared/corpus";
}

const char *
tu_corpus_path(const char *rel)
{
    static _Thread_local char buf[4096];

    snprintf(buf, sizeof(buf), "%s/%s", tu_corpus_dir(), rel);
    return buf;
}

const char *
tu_bin(const char *name)
{
    static _Thread_local char buf[4096];
    const char *b = getenv("FHIRGATE_BIN");

    snprintf(buf, sizeof(buf), "%s/%s", (b != NULL && b[0] != '\0') ? b : "bin", name);
    return buf;
}

char *
tu_read_file(const char *path, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    char *data;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    data = malloc((size_t)n + 1);
    if (data == NULL || fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        fclose(f);
        return NULL;
    }
    fclose(f);
    data[n] = '\0';
    if (out_len != NULL)
        *out_len = (size_t)n;
    return data;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
tu_list_dir(const char *dir, const char *suffix, size_t *out_count)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **list = NULL;
    size_t n = 0;
    size_t cap = 0;

    if (out_count != NULL)
        *out_count = 0;
    if (d == NULL)
        return NULL;
    while ((de = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        size_t nl = strlen(de->d_name);

        if (de->d_name[0] == '.')
            continue;
        if (suffix != NULL &&
            (nl < strlen(suffix) || strcmp(de->d_name + nl - strlen(suffix), suffix) != 0))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n + 2 > cap) {
            cap = cap ? cap * 2 : 64;
            list = realloc(list, cap * sizeof(*list));
        }
        list[n++] = strdup(path);
    }
    closedir(d);
    if (list == NULL)
        return NULL;
    qsort(list, n, sizeof(*list), cmp_str);
    list[n] = NULL;
    if (out_count != NULL)
        *out_count = n;
    return list;
}

void
tu_free_list(char **list)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++)
        free(list[i]);
    free(list);
}
