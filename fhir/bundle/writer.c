/*
 * Streaming Bundle writer.  The gateway merges member answers by splicing
 * each entry's resource text into its own Bundle (issue #5: a full tree of
 * 73 member answers costs several times what relaying them does).  Spliced
 * text is syntax-checked first, without building a tree, so a member that
 * sends `{…}]},{"resource":…` cannot add entries or break the document.
 */
#include "fhir/bundle/fhir_bundle.h"

#include <stdio.h>
#include <string.h>

#include "fhir/base/limits.h"
#include "fhir/base/str.h"
#include "fhir/json/fhir_json.h"

/* ---- JSON syntax check (RFC 8259), no allocation --------------------------- */

struct jc {
    const unsigned char *p;
    const unsigned char *start;
    const unsigned char *end;
    size_t depth;
    size_t max_depth;
};

static int jc_value(struct jc *j);

static void
jc_ws(struct jc *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static bool
is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Four hex digits after "\\u" at j->p + 1; -1 when malformed. */
static long
hex4_at(const unsigned char *p, const unsigned char *end)
{
    long v = 0;

    if (end - p < 5)
        return -1;
    for (int i = 1; i <= 4; i++) {
        unsigned char c = p[i];

        if (!is_hex(c))
            return -1;
        v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

/* j->p at the 'u' of an escape.  RFC 8259 §7: a high surrogate must be
 * followed by an escaped low one; a lone low surrogate is not a character.
 * FHIR forbids U+0000 and our reader rejects it, so the check does too. */
static int
jc_unicode_escape(struct jc *j)
{
    long cp = hex4_at(j->p, j->end);

    if (cp <= 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
        return BASE_E_PARSE;
    j->p += 4;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        long lo;

        if (j->end - j->p < 3 || j->p[1] != '\\' || j->p[2] != 'u')
            return BASE_E_PARSE;
        lo = hex4_at(j->p + 2, j->end);
        if (lo < 0xDC00 || lo > 0xDFFF)
            return BASE_E_PARSE;
        j->p += 6;
    }
    return BASE_OK;
}

static int
jc_string(struct jc *j)
{
    if (j->p >= j->end || *j->p != '"')
        return BASE_E_PARSE;
    for (j->p++; j->p < j->end; j->p++) {
        unsigned char c = *j->p;

        if (c == '"') {
            j->p++;
            return BASE_OK;
        }
        if (c < 0x20)
            return BASE_E_PARSE;
        if (c != '\\')
            continue;
        if (++j->p >= j->end)
            return BASE_E_PARSE;
        if (*j->p == 'u') {
            TRY(jc_unicode_escape(j));
        } else if (strchr("\"\\/bfnrt", *j->p) == NULL || *j->p == '\0') {
            return BASE_E_PARSE;
        }
    }
    return BASE_E_PARSE;
}

static bool
jc_digits(struct jc *j)
{
    const unsigned char *s = j->p;

    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
        j->p++;
    return j->p > s;
}

static int
jc_number(struct jc *j)
{
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p < j->end && *j->p == '0')
        j->p++;
    else if (!jc_digits(j))
        return BASE_E_PARSE;
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (!jc_digits(j))
            return BASE_E_PARSE;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (!jc_digits(j))
            return BASE_E_PARSE;
    }
    return BASE_OK;
}

static int
jc_literal(struct jc *j, const char *lit)
{
    size_t n = strlen(lit);

    if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
        return BASE_E_PARSE;
    j->p += n;
    return BASE_OK;
}

/* Object or array: members / elements separated by ','. */
static int
jc_container(struct jc *j, char close)
{
    if (++j->depth > j->max_depth)
        return BASE_E_LIMIT;
    j->p++;
    jc_ws(j);
    if (j->p < j->end && *j->p == (unsigned char)close) {
        j->p++;
        j->depth--;
        return BASE_OK;
    }
    for (;;) {
        if (close == '}') {
            TRY(jc_string(j));
            jc_ws(j);
            if (j->p >= j->end || *j->p != ':')
                return BASE_E_PARSE;
            j->p++;
        }
        TRY(jc_value(j));
        jc_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            jc_ws(j);
            continue;
        }
        if (j->p < j->end && *j->p == (unsigned char)close) {
            j->p++;
            j->depth--;
            return BASE_OK;
        }
        return BASE_E_PARSE;
    }
}

static int
jc_value(struct jc *j)
{
    jc_ws(j);
    if (j->p >= j->end)
        return BASE_E_PARSE;
    switch (*j->p) {
    case '{':
        return jc_container(j, '}');
    case '[':
        return jc_container(j, ']');
    case '"':
        return jc_string(j);
    case 't':
        return jc_literal(j, "true");
    case 'f':
        return jc_literal(j, "false");
    case 'n':
        return jc_literal(j, "null");
    default:
        return jc_number(j);
    }
}

/* A UTF-8 byte order mark before a document is tolerated, as the reader
 * does (RFC 8259 §8.1), and never copied into the middle of a Bundle. */
static size_t
bom_len(const char *text, size_t len)
{
    return text != NULL && len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

int
fhir_bundle_json_object_check(const char *text, size_t len, size_t max_depth, struct base_err *err)
{
    size_t skip = bom_len(text, len);
    struct jc j = {(const unsigned char *)text + skip, (const unsigned char *)text,
                   (const unsigned char *)text + len, 0, max_depth};
    size_t bad = 0;
    int rc;

    if (text == NULL || !base_utf8_valid(text, len, &bad)) {
        char where[32];

        snprintf(where, sizeof(where), "byte %zu", bad);
        return base_err_set(err, BASE_E_PARSE, "structure", where, "invalid UTF-8 in entry");
    }
    jc_ws(&j);
    if (j.p >= j.end || *j.p != '{') {
        rc = BASE_E_PARSE;
    } else {
        rc = jc_value(&j);
        jc_ws(&j);
        if (rc == BASE_OK && j.p != j.end)
            rc = BASE_E_PARSE;
    }
    if (rc != BASE_OK) {
        char where[32];

        snprintf(where, sizeof(where), "byte %zu", (size_t)(j.p - j.start));
        return base_err_set(err, rc, rc == BASE_E_LIMIT ? "too-costly" : "structure", where,
                            rc == BASE_E_LIMIT ? "entry nests too deeply"
                                               : "entry is not one JSON object");
    }
    return BASE_OK;
}

/* ---- writer ------------------------------------------------------------------- */

/* A JSON string with the mandatory escapes (RFC 8259 §7), copied in runs:
 * every entry's fullUrl goes through here. */
static int
put_str(struct base_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t len = strlen(s);
    size_t run = 0;

    if (!base_utf8_valid(s, len, NULL))
        return BASE_E_INVALID;
    TRY(base_buf_append_fast(b, "\"", 1));
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        TRY(base_buf_append_fast(b, s + run, i - run));
        run = i + 1;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};

            TRY(base_buf_append_fast(b, esc, 2));
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

            TRY(base_buf_append_fast(b, esc, 6));
        }
    }
    TRY(base_buf_append_fast(b, s + run, len - run));
    return base_buf_append_fast(b, "\"", 1);
}

static int
put_member(struct base_buf *b, const char *key, const char *value)
{
    TRY(base_buf_appendf(b, ",\"%s\":", key));
    return put_str(b, value);
}

static int
put_links(struct base_buf *b, const struct fhir_bundle_link *links, size_t n)
{
    if (n == 0)
        return BASE_OK;
    TRY(base_buf_append_cstr(b, ",\"link\":["));
    for (size_t i = 0; i < n; i++) {
        TRY(base_buf_append_cstr(b, i > 0 ? ",{\"relation\":" : "{\"relation\":"));
        TRY(put_str(b, links[i].relation));
        TRY(base_buf_append_cstr(b, ",\"url\":"));
        TRY(put_str(b, links[i].url));
        TRY(base_buf_putc(b, '}'));
    }
    return base_buf_putc(b, ']');
}

static int
write_header(struct base_buf *b, const struct fhir_bundle_header *h)
{
    TRY(base_buf_append_cstr(b, "{\"resourceType\":\"Bundle\""));
    if (h->id != NULL)
        TRY(put_member(b, "id", h->id));
    TRY(put_member(b, "type", fhir_bundle_type_code(h->type)));
    if (h->timestamp != NULL)
        TRY(put_member(b, "timestamp", h->timestamp));
    if (h->has_total)
        TRY(base_buf_appendf(b, ",\"total\":%llu", (unsigned long long)h->total));
    return put_links(b, h->links, h->n_links);
}

static int
sticky(struct fhir_bundle_writer *w, int rc)
{
    if (rc != BASE_OK && w->rc == BASE_OK)
        w->rc = rc;
    return rc;
}

int
fhir_bundle_writer_begin(struct fhir_bundle_writer *w, struct base_buf *out,
                         const struct fhir_bundle_header *h)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
    w->max_depth = BASE_LIMIT_FHIR_MAX_DEPTH;
    w->open = true;
    return sticky(w, write_header(out, h));
}

/* `,{"fullUrl":…,"resource":` — the part of an entry before the resource. */
static int
entry_start(struct fhir_bundle_writer *w, const char *full_url)
{
    TRY(base_buf_append_cstr(w->out, w->n_entries == 0 ? ",\"entry\":[{" : ",{"));
    if (full_url != NULL) {
        TRY(base_buf_append_cstr(w->out, "\"fullUrl\":"));
        TRY(put_str(w->out, full_url));
        TRY(base_buf_putc(w->out, ','));
    }
    return base_buf_append_cstr(w->out, "\"resource\":");
}

static int
entry_end(struct fhir_bundle_writer *w, enum fhir_bundle_mode mode, const char *score)
{
    if (mode != FHIR_BUNDLE_MODE_NONE) {
        const char *m = mode == FHIR_BUNDLE_MODE_INCLUDE   ? ",\"search\":{\"mode\":\"include\""
                        : mode == FHIR_BUNDLE_MODE_OUTCOME ? ",\"search\":{\"mode\":\"outcome\""
                                                           : ",\"search\":{\"mode\":\"match\"";

        TRY(base_buf_append_cstr(w->out, m));
        if (score != NULL)
            TRY(base_buf_appendf(w->out, ",\"score\":%s", score));
        TRY(base_buf_putc(w->out, '}'));
    }
    TRY(base_buf_putc(w->out, '}'));
    w->n_entries++;
    return BASE_OK;
}

static int
entry_ok(struct fhir_bundle_writer *w, const char *score)
{
    if (w->rc != BASE_OK)
        return w->rc;
    if (!w->open)
        return sticky(w, BASE_E_INVALID);
    if (score != NULL && !fhir_json_number_syntax_ok(score, strlen(score)))
        return BASE_E_INVALID;
    return BASE_OK;
}

static int
entry_splice(struct fhir_bundle_writer *w, const char *full_url, const char *resource_json,
             size_t len, enum fhir_bundle_mode mode, const char *score)
{
    size_t skip = bom_len(resource_json, len);
    size_t mark;
    int rc;

    resource_json += skip;
    len -= skip;
    mark = w->out->len;
    rc = entry_start(w, full_url);
    if (rc == BASE_OK)
        rc = base_buf_append(w->out, resource_json, len);
    if (rc == BASE_OK)
        rc = entry_end(w, mode, score);
    if (rc == BASE_E_INVALID) {
        w->out->len = mark; /* an unprintable fullUrl: drop just this entry */
        w->out->data[mark] = '\0';
        return rc;
    }
    return sticky(w, rc);
}

int
fhir_bundle_writer_entry_raw(struct fhir_bundle_writer *w, const char *full_url,
                             const char *resource_json, size_t len, enum fhir_bundle_mode mode,
                             const char *score, struct base_err *err)
{
    TRY(entry_ok(w, score));
    TRY(fhir_bundle_json_object_check(resource_json, len, w->max_depth, err));
    return entry_splice(w, full_url, resource_json, len, mode, score);
}

int
fhir_bundle_writer_entry_checked(struct fhir_bundle_writer *w, const char *full_url,
                                 const char *resource_json, size_t len, enum fhir_bundle_mode mode,
                                 const char *score)
{
    TRY(entry_ok(w, score));
    /* the caller vouches for the text; only what is cheap is checked again */
    if (resource_json == NULL || len < 2 || resource_json[0] != '{' ||
        resource_json[len - 1] != '}')
        return BASE_E_INVALID;
    return entry_splice(w, full_url, resource_json, len, mode, score);
}

int
fhir_bundle_writer_entry_checked_fn(struct fhir_bundle_writer *w, const char *full_url,
                                    fhir_bundle_resource_fn fn, void *ctx,
                                    enum fhir_bundle_mode mode, const char *score)
{
    size_t mark;
    size_t at;
    int rc;

    TRY(entry_ok(w, score));
    if (fn == NULL)
        return BASE_E_INVALID;
    mark = w->out->len;
    rc = entry_start(w, full_url);
    at = w->out->len;
    if (rc == BASE_OK)
        rc = fn(w->out, ctx);
    /* the caller vouches for the text; only what is cheap is checked again */
    if (rc == BASE_OK && (w->out->len - at < 2 || w->out->data[at] != '{' ||
                          w->out->data[w->out->len - 1] != '}'))
        rc = BASE_E_INVALID;
    if (rc == BASE_OK)
        rc = entry_end(w, mode, score);
    if (rc == BASE_E_INVALID) {
        w->out->len = mark; /* drop just this entry */
        if (w->out->data != NULL)
            w->out->data[mark] = '\0';
        return rc;
    }
    return sticky(w, rc);
}

int
fhir_bundle_writer_entry(struct fhir_bundle_writer *w, const char *full_url, const json_t *resource,
                         enum fhir_bundle_mode mode, const char *score)
{
    int rc;

    TRY(entry_ok(w, score));
    rc = entry_start(w, full_url);
    if (rc == BASE_OK)
        rc = fhir_json_dump(resource, FHIR_JSON_COMPACT, w->out, NULL);
    if (rc == BASE_OK)
        rc = entry_end(w, mode, score);
    return sticky(w, rc);
}

int
fhir_bundle_writer_end(struct fhir_bundle_writer *w)
{
    if (w->rc != BASE_OK)
        return w->rc;
    if (!w->open)
        return sticky(w, BASE_E_INVALID);
    w->open = false;
    /* FHIR JSON has no empty arrays: "entry" only exists with an entry. */
    return sticky(w, base_buf_append_cstr(w->out, w->n_entries > 0 ? "]}" : "}"));
}
