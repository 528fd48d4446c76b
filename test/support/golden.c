#include "test/support/golden.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fhir/base/buf.h"
#include "fhir/json/fhir_json.h"
#include "test/support/testutil.h"

/* The input file of a case: the first "input.*" in the folder. */
static char *
find_input(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char *path = NULL;

    if (d == NULL)
        return NULL;
    while (path == NULL && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "input.", 6) == 0 && asprintf(&path, "%s/%s", dir, de->d_name) < 0)
            path = NULL;
    }
    closedir(d);
    return path;
}

static void
write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL)
        return;
    fwrite(data, 1, len, f);
    fclose(f);
}

static char *
dump(const json_t *v, size_t *len)
{
    struct base_buf b;
    char *out;

    base_buf_init(&b, 0);
    if (fhir_json_dump(v, FHIR_JSON_PRETTY | FHIR_JSON_SORT_KEYS, &b, NULL) != BASE_OK) {
        base_buf_fini(&b);
        return NULL;
    }
    out = strndup(b.data, b.len);
    *len = b.len;
    base_buf_fini(&b);
    return out;
}

static void
save_actual(const char *format, const char *name, const char *text, size_t len)
{
    char *path = NULL;

    (void)mkdir("build", 0755);
    (void)mkdir("build/golden-actual", 0755);
    if (asprintf(&path, "build/golden-actual/%s", format) < 0)
        return;
    (void)mkdir(path, 0755);
    free(path);
    if (asprintf(&path, "build/golden-actual/%s/%s.json", format, name) < 0)
        return;
    write_file(path, text, len);
    fprintf(stderr, "golden %s/%s: output differs; actual in %s\n", format, name, path);
    free(path);
}

static int
check_err(const char *format, const char *name, const char *exp_path, const struct base_err *err,
          int rc, bool update)
{
    char actual[512];
    char *expected;
    size_t n;
    int bad;

    snprintf(actual, sizeof(actual), "%s %s %s\n", base_rc_name(rc), err->issue_code, err->where);
    if (update) {
        write_file(exp_path, actual, strlen(actual));
        return 0;
    }
    expected = tu_read_file(exp_path, &n);
    bad = expected == NULL || strcmp(expected, actual) != 0;
    if (bad)
        fprintf(stderr, "golden %s/%s: expected error '%s', got '%.*s'\n", format, name,
                expected != NULL ? expected : "(none)", (int)strlen(actual) - 1, actual);
    free(expected);
    return bad;
}

static int
check_json(const char *format, const char *name, const char *exp_path, const json_t *out,
           bool update)
{
    size_t len = 0;
    char *text = dump(out, &len);
    char *expected;
    json_t *want = NULL;
    size_t n;
    int bad;

    if (text == NULL)
        return 1;
    if (update) {
        write_file(exp_path, text, len);
        free(text);
        return 0;
    }
    expected = tu_read_file(exp_path, &n);
    bad = expected == NULL || fhir_json_parse(expected, n, NULL, &want, NULL) != BASE_OK ||
          !fhir_json_equal(want, out);
    if (bad)
        save_actual(format, name, text, len);
    json_decref(want);
    free(expected);
    free(text);
    return bad;
}

static int
run_case(const char *format, const char *dir, const char *name, tu_golden_fn fn)
{
    bool update = getenv("UPDATE_GOLDEN") != NULL && getenv("UPDATE_GOLDEN")[0] == '1';
    char *exp_err = NULL;
    char *exp_json = NULL;
    struct base_err err = {0};
    json_t *out = NULL;
    char *input = find_input(dir);
    char *data;
    size_t len = 0;
    struct stat st;
    int rc;
    int bad;

    data = input != NULL ? tu_read_file(input, &len) : NULL;
    free(input);
    if (data == NULL || asprintf(&exp_err, "%s/expected.err", dir) < 0 ||
        asprintf(&exp_json, "%s/expected.json", dir) < 0) {
        free(data);
        free(exp_err);
        fprintf(stderr, "golden %s/%s: no readable input.* file\n", format, name);
        return 1;
    }
    rc = fn(dir, data, len, &out, &err);
    free(data);
    if (rc != BASE_OK || stat(exp_err, &st) == 0)
        bad = rc == BASE_OK
                  ? (fprintf(stderr, "golden %s/%s: expected an error\n", format, name), 1)
                  : check_err(format, name, exp_err, &err, rc, update);
    else
        bad = check_json(format, name, exp_json, out, update);
    json_decref(out);
    free(exp_err);
    free(exp_json);
    return bad;
}

int
tu_golden_run(const char *format, tu_golden_fn fn, size_t *cases)
{
    char root[256];
    DIR *d;
    struct dirent *de;
    int failures = 0;
    size_t n = 0;

    snprintf(root, sizeof(root), "test/golden/%s", format);
    d = opendir(root);
    if (d == NULL) {
        fprintf(stderr, "golden %s: cannot open %s\n", format, root);
        return 1;
    }
    while ((de = readdir(d)) != NULL) {
        char *dir = NULL;
        struct stat st;

        if (de->d_name[0] == '.' || asprintf(&dir, "%s/%s", root, de->d_name) < 0)
            continue;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
            n++;
            failures += run_case(format, dir, de->d_name, fn);
        }
        free(dir);
    }
    closedir(d);
    if (cases != NULL)
        *cases = n;
    return failures;
}
