/*
 * The validator's entry points, issue reporting and locations.
 *
 * Locations are kept as a stack of (name, index) steps and rendered only
 * when an issue is reported, so a valid resource costs no string work.
 */
#include "fhir/validate/fhir_validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/validate/validate_int.h"

/* Property names are shown in locations only when they look like FHIR
 * names; anything else (which could be arbitrary client text) is not
 * echoed (STYLE: never quote input). */
static bool
plausible_name(const char *s, size_t len)
{
    if (len == 0 || len > 64)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '[' || ch == ']' || (ch == '.' && i > 0)))
            return false;
    }
    return true;
}

static void
put(char *buf, size_t cap, size_t *n, const char *s, size_t len)
{
    if (*n >= cap - 1)
        return;
    if (len > cap - 1 - *n)
        len = cap - 1 - *n;
    memcpy(buf + *n, s, len);
    *n += len;
    buf[*n] = '\0';
}

static void
put_step(char *buf, size_t cap, size_t *n, const char *name, size_t len, long index)
{
    char ix[24];

    if (*n > 0)
        put(buf, cap, n, ".", 1);
    if (plausible_name(name, len))
        put(buf, cap, n, name, len);
    else
        put(buf, cap, n, "(invalid name)", 14);
    if (index >= 0) {
        int k = snprintf(ix, sizeof(ix), "[%ld]", index);

        put(buf, cap, n, ix, (size_t)k);
    }
}

static void
render_location(const struct fhir_validate__ctx *c, const char *extra, size_t extra_len, char *buf,
                size_t cap)
{
    size_t n = 0;
    size_t shown = c->nsegs < FHIR_VALIDATE__MAX_SEGS ? c->nsegs : FHIR_VALIDATE__MAX_SEGS;

    buf[0] = '\0';
    for (size_t i = 0; i < shown; i++)
        put_step(buf, cap, &n, c->segs[i].name, c->segs[i].len, c->segs[i].index);
    if (shown < c->nsegs)
        put(buf, cap, &n, "...", 3);
    if (extra != NULL)
        put_step(buf, cap, &n, extra, extra_len, -1);
}

void
fhir_validate__issue(struct fhir_validate__ctx *c, enum fhir_validate__sev sev, const char *code,
                     const char *extra, size_t extra_len, const char *fmt, ...)
{
    char where[512];
    char msg[256];
    bool want_err = false;
    bool want_oo = false;
    va_list ap;

    if (sev == FHIR_VALIDATE__WARNING) {
        if (c->no_warnings)
            return;
        c->res.warnings++;
    } else {
        want_err = c->res.errors == 0 && c->err != NULL;
        c->res.errors++;
    }
    if (c->oo != NULL) {
        if (c->res.issues < c->max_issues)
            want_oo = true;
        else
            c->res.truncated = true;
    }
    if (!want_err && !want_oo)
        return;
    render_location(c, extra, extra_len, where, sizeof(where));
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (want_err)
        (void)base_err_set(c->err, BASE_E_INVALID, code, where, "%s", msg);
    if (want_oo) {
        if (fhir_outcome_add(c->oo, sev == FHIR_VALIDATE__ERROR ? "error" : "warning", code,
                             where[0] != '\0' ? where : NULL, msg) != BASE_OK)
            c->rc = BASE_E_NOMEM;
        else
            c->res.issues++;
    }
}

static void
ctx_init(struct fhir_validate__ctx *c, const struct fhir_validate_opts *opts, json_t *oo,
         struct base_err *err)
{
    memset(c, 0, offsetof(struct fhir_validate__ctx, segs)); /* segs are written before read */
    c->oo = oo;
    c->err = err;
    c->max_issues = BASE_LIMIT_FHIR_MAX_ISSUES;
    c->max_depth = BASE_LIMIT_FHIR_MAX_DEPTH;
    if (opts != NULL) {
        if (opts->max_issues > 0)
            c->max_issues = opts->max_issues;
        if (opts->max_depth > 0)
            c->max_depth = opts->max_depth;
        c->no_warnings = opts->no_warnings;
    }
}

static int
finish(struct fhir_validate__ctx *c, struct fhir_validate_result *out)
{
    if (out != NULL)
        *out = c->res;
    if (c->rc != BASE_OK)
        return c->rc;
    return c->res.errors > 0 ? BASE_E_INVALID : BASE_OK;
}

int
fhir_validate(const json_t *resource, const struct fhir_validate_opts *opts, json_t *oo,
              struct fhir_validate_result *out, struct base_err *err)
{
    struct fhir_validate__ctx c;

    ctx_init(&c, opts, oo, err);
    fhir_validate__resource(&c, resource, FHIR_VALIDATE__RES_TOP,
                            opts != NULL ? opts->expect_type : NULL);
    return finish(&c, out);
}

size_t
fhir_validate_error_count(const json_t *resource)
{
    struct fhir_validate__ctx c;

    ctx_init(&c, NULL, NULL, NULL);
    fhir_validate__resource(&c, resource, FHIR_VALIDATE__RES_TOP, NULL);
    return c.res.errors;
}

int
fhir_validate_value(const json_t *value, const struct fhir_model_type *type, const char *path,
                    const struct fhir_validate_opts *opts, json_t *oo,
                    struct fhir_validate_result *out, struct base_err *err)
{
    struct fhir_validate__ctx c;

    ctx_init(&c, opts, oo, err);
    fhir_validate__push(&c, path != NULL ? path : type->name,
                        path != NULL ? strlen(path) : type->name_len, -1);
    if (type->kind == FHIR_MODEL_RESOURCE)
        fhir_validate__resource(&c, value, FHIR_VALIDATE__RES_NESTED,
                                (type->flags & FHIR_MODEL_TYPE_ABSTRACT) ? NULL : type->name);
    else
        fhir_validate__value(&c, value, type, NULL);
    return finish(&c, out);
}

/* Forget the issues reported since `mark` (the fast path gave up). */
static void
roll_back(json_t *oo, size_t mark)
{
    json_t *issues = json_object_get(oo, "issue");

    while (json_array_size(issues) > mark)
        (void)json_array_remove(issues, json_array_size(issues) - 1);
}

int
fhir_validate_json(const char *text, size_t len, const struct fhir_validate_opts *opts, json_t *oo,
                   struct fhir_validate_result *out, struct base_err *err)
{
    struct base_err perr; /* zeroed on the slow path only (it is 476 bytes) */
    struct fhir_validate__ctx c;
    size_t mark = oo != NULL ? json_array_size(json_object_get(oo, "issue")) : 0;
    json_t *res = NULL;
    int rc;

    /* fast path: no tree; proves the document clean or gives up */
    ctx_init(&c, opts, oo, err);
    if (fhir_validate__stream(&c, text, len, opts != NULL ? opts->expect_type : NULL) == 0) {
        c.res.fast = true;
        return finish(&c, out);
    }
    if (oo != NULL)
        roll_back(oo, mark);
    /* reference path: parse, then walk the tree */
    memset(&perr, 0, sizeof(perr));
    rc = fhir_json_parse(text, len, NULL, &res, &perr);
    if (rc == BASE_E_NOMEM)
        return rc;
    if (rc != BASE_OK) {
        struct fhir_validate_result r = {.errors = 1};

        if (oo != NULL) {
            if (fhir_outcome_add(oo, "error", perr.issue_code[0] ? perr.issue_code : "structure",
                                 perr.where, perr.msg) != BASE_OK)
                return BASE_E_NOMEM;
            r.issues = 1;
        }
        if (err != NULL)
            *err = perr;
        if (out != NULL)
            *out = r;
        return BASE_E_INVALID;
    }
    rc = fhir_validate(res, opts, oo, out, err);
    json_decref(res);
    return rc;
}
