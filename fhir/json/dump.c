/*
 * JSON writer for jansson trees that may hold decimal nodes, plus the
 * small accessors declared in fhir_json.h.
 */
#include "fhir/json/fhir_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/json/json_int.h"

#define MAX_DUMP_DEPTH 1000

struct dstate {
    struct base_buf *out;
    unsigned flags;
    struct base_err *err;
};

bool
fhir_json_is_decimal_node(const json_t *v)
{
    return json_is_string(v) && json_string_length(v) >= 2 && json_string_value(v)[0] == '\0';
}

enum fhir_json_kind
fhir_json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return FHIR_JSON_OBJECT;
    case JSON_ARRAY:
        return FHIR_JSON_ARRAY;
    case JSON_STRING:
        return fhir_json_is_decimal_node(v) ? FHIR_JSON_NUMBER : FHIR_JSON_STRING;
    case JSON_INTEGER:
    case JSON_REAL:
        return FHIR_JSON_NUMBER;
    case JSON_TRUE:
    case JSON_FALSE:
        return FHIR_JSON_BOOL;
    case JSON_NULL:
        return FHIR_JSON_NULL;
    default:
        BASE_ASSERT_UNREACHABLE();
        return FHIR_JSON_NULL;
    }
}

bool
fhir_json_is_string(const json_t *v)
{
    return v != NULL && json_is_string(v) && !fhir_json_is_decimal_node(v);
}

bool
fhir_json_is_number(const json_t *v)
{
    return v != NULL && (json_is_number(v) || fhir_json_is_decimal_node(v));
}

struct base_str
fhir_json_str(const json_t *v)
{
    if (!fhir_json_is_string(v))
        return base_str_make("", 0);
    return base_str_make(json_string_value(v), json_string_length(v));
}

static struct base_str
real_text(double d, char *buf, size_t cap)
{
    int n = 0;

    if (!isfinite(d) || cap < 32)
        return base_str_make("", 0);
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, cap, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    /* A real that prints as an integer stays a number either way in JSON;
     * keep a decimal point so readers see it was a decimal. */
    if (strpbrk(buf, ".eEn") == NULL && (size_t)n + 2 < cap) {
        buf[n++] = '.';
        buf[n++] = '0';
        buf[n] = '\0';
    }
    return base_str_make(buf, (size_t)n);
}

struct base_str
fhir_json_number_text(const json_t *v, char *buf, size_t cap)
{
    if (fhir_json_is_decimal_node(v))
        return base_str_make(json_string_value(v) + 1, json_string_length(v) - 1);
    if (json_is_integer(v)) {
        int n = snprintf(buf, cap, "%lld", (long long)json_integer_value(v));

        return (n < 0 || (size_t)n >= cap) ? base_str_make("", 0)
                                           : base_str_make(buf, (size_t)n);
    }
    if (json_is_real(v))
        return real_text(json_real_value(v), buf, cap);
    return base_str_make("", 0);
}

double
fhir_json_number_double(const json_t *v)
{
    if (fhir_json_is_decimal_node(v))
        return strtod(json_string_value(v) + 1, NULL);
    if (json_is_integer(v))
        return (double)json_integer_value(v);
    if (json_is_real(v))
        return json_real_value(v);
    return NAN;
}

bool
fhir_json_number_i64(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (fhir_json_is_decimal_node(v)) {
        /* "1e2" or "10.0" are not integers in FHIR's sense: only plain digits */
        return base_str_to_i64(base_str_make(json_string_value(v) + 1,
                                             json_string_length(v) - 1),
                               out);
    }
    return false;
}

bool
fhir_json_equal(const json_t *a, const json_t *b)
{
    enum fhir_json_kind ka;
    char ba[40];
    char bb[40];

    if (a == NULL || b == NULL)
        return a == b;
    ka = fhir_json_kind(a);
    if (ka != fhir_json_kind(b))
        return false;
    switch (ka) {
    case FHIR_JSON_NUMBER:
        return base_str_eq(fhir_json_number_text(a, ba, sizeof(ba)),
                           fhir_json_number_text(b, bb, sizeof(bb)));
    case FHIR_JSON_STRING:
        return base_str_eq(fhir_json_str(a), fhir_json_str(b));
    case FHIR_JSON_BOOL:
        return json_is_true(a) == json_is_true(b);
    case FHIR_JSON_NULL:
        return true;
    case FHIR_JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return false;
        for (size_t i = 0; i < json_array_size(a); i++) {
            if (!fhir_json_equal(json_array_get(a, i), json_array_get(b, i)))
                return false;
        }
        return true;
    case FHIR_JSON_OBJECT: {
        const char *key;
        json_t *va;

        if (json_object_size(a) != json_object_size(b))
            return false;
        json_object_foreach((json_t *)a, key, va) {
            if (!fhir_json_equal(va, json_object_get(b, key)))
                return false;
        }
        return true;
    }
    default:
        return false;
    }
}

#define DUMP_UNLIKELY(x) __builtin_expect(!!(x), 0)

static int
emit_fail(struct dstate *ds)
{
    return base_err_set(ds->err, BASE_E_LIMIT, "too-costly", NULL, "output exceeds size limit");
}

static inline int
emit(struct dstate *ds, const char *p, size_t n)
{
    if (DUMP_UNLIKELY(base_buf_append_fast(ds->out, p, n) != BASE_OK))
        return emit_fail(ds);
    return BASE_OK;
}

/* Room for exactly n more bytes (and the buffer's NUL) at the end of the
 * output, or NULL with the error set: the caller writes them and calls
 * wrote().  Reserving only what is written keeps the size limit exact. */
static inline char *
room(struct dstate *ds, size_t n)
{
    struct base_buf *b = ds->out;

    if (DUMP_UNLIKELY(b->data == NULL || n >= b->cap - b->len) &&
        base_buf_reserve(b, n) != BASE_OK) {
        (void)emit_fail(ds);
        return NULL;
    }
    return b->data + b->len;
}

static inline void
wrote(struct dstate *ds, size_t n)
{
    ds->out->len += n;
    ds->out->data[ds->out->len] = '\0';
}

/* A string with escapes to write: the plain runs between them as they are. */
static int
emit_string_escaped(struct dstate *ds, const char *s, size_t len, size_t i)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;

    TRY(emit(ds, "\"", 1));
    for (;; i++) {
        unsigned char c;
        char esc[6];
        size_t n = 2;

        /* UTF-8 is written as it is; only '"', '\\' and controls escape */
        i += fhir_json__plain_len(s + i, len - i, true);
        if (i >= len)
            break;
        c = (unsigned char)s[i];
        TRY(emit(ds, s + run, i - run));
        run = i + 1;
        esc[0] = '\\';
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
            break;
        }
        TRY(emit(ds, esc, n));
    }
    TRY(emit(ds, s + run, len - run));
    return emit(ds, "\"", 1);
}

/* The string and `tail` (":" after a key, "" after a value): nearly every
 * FHIR string needs no escape, so it is copied with its quotes in one go. */
static inline int
emit_string_then(struct dstate *ds, const char *s, size_t len, const char *tail, size_t tail_len)
{
    size_t plain = fhir_json__plain_len(s, len, true);
    char *w;

    if (DUMP_UNLIKELY(plain < len)) {
        TRY(emit_string_escaped(ds, s, len, plain));
        return emit(ds, tail, tail_len);
    }
    w = room(ds, len + 2 + tail_len);
    if (w == NULL)
        return BASE_E_LIMIT;
    w[0] = '"';
    memcpy(w + 1, s, len);
    w[len + 1] = '"';
    memcpy(w + len + 2, tail, tail_len);
    wrote(ds, len + 2 + tail_len);
    return BASE_OK;
}

static int
emit_string(struct dstate *ds, const char *s, size_t len)
{
    return emit_string_then(ds, s, len, "", 0);
}

static int
newline_indent(struct dstate *ds, size_t depth)
{
    static const char spaces[] = "                                ";

    if (!(ds->flags & FHIR_JSON_PRETTY))
        return BASE_OK;
    TRY(emit(ds, "\n", 1));
    for (size_t n = depth * 2; n > 0;) {
        size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

        TRY(emit(ds, spaces, k));
        n -= k;
    }
    return BASE_OK;
}

static int dump_value(struct dstate *ds, const json_t *v, size_t depth);

struct member {
    const char *key;
    const json_t *val;
};

static int
member_cmp(const void *a, const void *b)
{
    return strcmp(((const struct member *)a)->key, ((const struct member *)b)->key);
}

/* FHIR objects are small: sort them in place without a call per compare. */
static void
sort_members(struct member *m, size_t n)
{
    if (n > 16) {
        qsort(m, n, sizeof(*m), member_cmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        struct member x = m[i];
        size_t j = i;

        for (; j > 0 && strcmp(m[j - 1].key, x.key) > 0; j--)
            m[j] = m[j - 1];
        m[j] = x;
    }
}

static int
dump_member(struct dstate *ds, const char *key, size_t key_len, const json_t *val, size_t depth,
            bool first)
{
    bool pretty = ds->flags & FHIR_JSON_PRETTY;

    if (!first)
        TRY(emit(ds, ",", 1));
    TRY(newline_indent(ds, depth + 1));
    TRY(emit_string_then(ds, key, key_len, pretty ? ": " : ":", pretty ? 2 : 1));
    return dump_value(ds, val, depth + 1);
}

/* Keys with their values (no second lookup per key), on the stack unless
 * the object is large: the audit trail writes every AuditEvent this way. */
static int
dump_object_sorted(struct dstate *ds, const json_t *v, size_t depth)
{
    struct member local[16];
    size_t n = json_object_size(v);
    struct member *m = n <= BASE_ARRAY_LEN(local) ? local : base_calloc(n, sizeof(*m));
    const char *key;
    json_t *val;
    size_t i = 0;
    int rc = BASE_OK;

    if (m == NULL)
        return base_err_set(ds->err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    json_object_foreach((json_t *)v, key, val) {
        m[i].key = key;
        m[i++].val = val;
    }
    sort_members(m, n);
    for (i = 0; i < n && rc == BASE_OK; i++)
        rc = dump_member(ds, m[i].key, strlen(m[i].key), m[i].val, depth, i == 0);
    if (m != local)
        base_free(m);
    return rc;
}

static int
dump_object(struct dstate *ds, const json_t *v, size_t depth)
{
    bool first = true;

    TRY(emit(ds, "{", 1));
    if (json_object_size(v) == 0)
        return emit(ds, "}", 1);
    if (ds->flags & FHIR_JSON_SORT_KEYS) {
        TRY(dump_object_sorted(ds, v, depth));
    } else {
        /* the iterator gives each key's length: no strlen per member */
        for (void *it = json_object_iter((json_t *)v); it != NULL;
             it = json_object_iter_next((json_t *)v, it)) {
            TRY(dump_member(ds, json_object_iter_key(it), json_object_iter_key_len(it),
                            json_object_iter_value(it), depth, first));
            first = false;
        }
    }
    TRY(newline_indent(ds, depth));
    return emit(ds, "}", 1);
}

static int
dump_array(struct dstate *ds, const json_t *v, size_t depth)
{
    size_t n = json_array_size(v);

    TRY(emit(ds, "[", 1));
    if (n == 0)
        return emit(ds, "]", 1);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            TRY(emit(ds, ",", 1));
        TRY(newline_indent(ds, depth + 1));
        TRY(dump_value(ds, json_array_get(v, i), depth + 1));
    }
    TRY(newline_indent(ds, depth));
    return emit(ds, "]", 1);
}

/* "%lld" without the printf machinery (integers are common in FHIR). */
static int
emit_integer(struct dstate *ds, json_int_t iv)
{
    char digits[24];
    size_t n = sizeof(digits);
    /* the magnitude as unsigned, so INT64_MIN has one too */
    unsigned long long m = iv < 0 ? 0ULL - (unsigned long long)iv : (unsigned long long)iv;

    do {
        digits[--n] = (char)('0' + m % 10);
        m /= 10;
    } while (m != 0);
    if (iv < 0)
        digits[--n] = '-';
    return emit(ds, digits + n, sizeof(digits) - n);
}

static int
dump_value(struct dstate *ds, const json_t *v, size_t depth)
{
    char nb[40];
    struct base_str t;

    if (DUMP_UNLIKELY(depth > MAX_DUMP_DEPTH))
        return base_err_set(ds->err, BASE_E_INVALID, "too-costly", NULL,
                            "value nests deeper than %d levels", MAX_DUMP_DEPTH);
    /* by jansson type first: a string is a decimal node only if it starts with NUL */
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return dump_object(ds, v, depth);
    case JSON_ARRAY:
        return dump_array(ds, v, depth);
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);

        if (DUMP_UNLIKELY(len >= 2 && s[0] == '\0'))
            return emit(ds, s + 1, len - 1);
        return emit_string(ds, s, len);
    }
    case JSON_INTEGER:
        return emit_integer(ds, json_integer_value(v));
    case JSON_REAL:
        t = fhir_json_number_text(v, nb, sizeof(nb));
        if (t.len == 0)
            return base_err_set(ds->err, BASE_E_INVALID, "value", NULL,
                                "number cannot be written as JSON");
        return emit(ds, t.ptr, t.len);
    case JSON_TRUE:
        return emit(ds, "true", 4);
    case JSON_FALSE:
        return emit(ds, "false", 5);
    case JSON_NULL:
        return emit(ds, "null", 4);
    default:
        BASE_ASSERT_UNREACHABLE();
        return BASE_E_INTERNAL;
    }
}

int
fhir_json_dump(const json_t *v, unsigned flags, struct base_buf *out, struct base_err *err)
{
    struct dstate ds = {out, flags, err};

    if (v == NULL)
        return base_err_set(err, BASE_E_INTERNAL, "exception", NULL, "nothing to write");
    TRY(dump_value(&ds, v, 0));
    if (flags & FHIR_JSON_PRETTY)
        TRY(emit(&ds, "\n", 1));
    return BASE_OK;
}

char *
fhir_json_dump_arena(const json_t *v, unsigned flags, struct base_arena *a, size_t *out_len)
{
    struct base_buf b;
    char *s = NULL;

    base_buf_init(&b, 0);
    if (fhir_json_dump(v, flags, &b, NULL) == BASE_OK) {
        s = base_buf_dup0(&b, a);
        if (s != NULL && out_len != NULL)
            *out_len = b.len;
    }
    base_buf_fini(&b);
    return s;
}

static void
decref_cleanup(void *obj)
{
    json_decref(obj);
}

int
fhir_json_tie(struct base_arena *a, json_t *v)
{
    if (v == NULL)
        return BASE_OK;
    return base_arena_on_free(a, decref_cleanup, v) == 0 ? BASE_OK : BASE_E_NOMEM;
}
