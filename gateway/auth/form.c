/*
 * application/x-www-form-urlencoded bodies of token requests (RFC 6749
 * Appendix B; WHATWG URL §5.1 for '+' and empty sequences).
 */
#include "gateway/auth/gw_auth.h"

#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/auth/auth_int.h"

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode in place ('+' → space, %XX → byte); false on a bad escape. */
static bool
url_decode(char *s, size_t len, size_t *out_len)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            s[o++] = ' ';
        } else if (s[i] == '%') {
            int hi;
            int lo;

            if (i + 2 >= len || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
                return false;
            s[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            s[o++] = s[i];
        }
    }
    s[o] = '\0';
    *out_len = o;
    return true;
}

static bool
text_ok(const char *s, size_t len)
{
    if (!base_utf8_valid(s, len, NULL))
        return false;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    }
    return true;
}

static int
parse_pair(struct base_arena *a, struct base_str pair, size_t idx, struct gw_auth_form_field *f,
           struct base_err *err)
{
    struct base_str name;
    struct base_str value;
    char where[32];
    char *n;
    char *v;
    size_t n_len;

    snprintf(where, sizeof(where), "form[%zu]", idx);
    (void)base_str_cut(pair, '=', &name, &value);
    n = base_str_dup0(a, name);
    v = gw_auth__secret_dup(a, value.ptr != NULL ? value.ptr : "", value.len);
    ENSURE(n != NULL && v != NULL, err, BASE_E_NOMEM, "exception", where, "out of memory");
    ENSURE(url_decode(n, name.len, &n_len) && url_decode(v, value.len, &f->value_len), err,
           BASE_E_PARSE, "structure", where, "malformed percent-encoding");
    ENSURE(n_len > 0 && text_ok(n, n_len) && strlen(n) == n_len, err, BASE_E_PARSE, "structure",
           where, "field name is empty or not text");
    ENSURE(text_ok(v, f->value_len) && strlen(v) == f->value_len, err, BASE_E_PARSE, "structure",
           where, "field value is not UTF-8 text");
    f->name = n;
    f->value = v;
    return BASE_OK;
}

int
gw_auth_form_parse(struct base_arena *a, const char *body, size_t len, struct gw_auth_form *out,
                   struct base_err *err)
{
    struct base_str rest = base_str_make(body, len);
    size_t idx = 0;

    memset(out, 0, sizeof(*out));
    ENSURE(len <= BASE_LIMIT_AUTH_MAX_FORM, err, BASE_E_LIMIT, "too-costly", "form",
           "request body exceeds %u bytes", BASE_LIMIT_AUTH_MAX_FORM);
    out->fields = BASE_NEW_N(a, struct gw_auth_form_field, BASE_LIMIT_AUTH_MAX_FORM_FIELDS);
    ENSURE(out->fields != NULL, err, BASE_E_NOMEM, "exception", "form", "out of memory");
    while (rest.len > 0) {
        struct base_str pair;
        struct gw_auth_form_field *f;

        (void)base_str_cut(rest, '&', &pair, &rest);
        if (pair.len == 0)
            continue;
        ENSURE(out->count < BASE_LIMIT_AUTH_MAX_FORM_FIELDS, err, BASE_E_LIMIT, "too-costly",
               "form", "request has more than %u fields", BASE_LIMIT_AUTH_MAX_FORM_FIELDS);
        f = &out->fields[out->count];
        TRY(parse_pair(a, pair, idx, f, err));
        /* RFC 6749 §3.2: parameters MUST NOT be included more than once. */
        if (gw_auth_form_get(out, f->name) != NULL) {
            char where[32];

            snprintf(where, sizeof(where), "form[%zu]", idx);
            return base_err_set(err, BASE_E_PARSE, "structure", where, "request repeats a field");
        }
        idx++;
        out->count++;
    }
    return BASE_OK;
}

const char *
gw_auth_form_get(const struct gw_auth_form *f, const char *name)
{
    for (size_t i = 0; i < f->count; i++) {
        if (strcmp(f->fields[i].name, name) == 0)
            return f->fields[i].value;
    }
    return NULL;
}
