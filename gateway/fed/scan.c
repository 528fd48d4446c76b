/*
 * One strict pass over a member's searchset Bundle (issue #5 "Speed": a
 * jansson tree of 73 member answers costs six times what relaying them
 * does, so the merge never builds one).  jscan.c validates the whole text
 * as RFC 8259 JSON — UTF-8 (RFC 3629), no U+0000 (FHIR forbids it and our
 * reader rejects it), no duplicate member names, bounded depth; this file
 * follows the Bundle's structure and records the spans of each entry and
 * the few fields the gateway needs.
 */
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "gateway/fed/scan_int.h"

/* ---- typed helpers --------------------------------------------------------------- */

static bool
key_is(const char *key, size_t len, const char *lit, size_t lit_len)
{
    return len == lit_len && memcmp(key, lit, len) == 0;
}
#define KEY(lit) key_is(key, key_len, lit, sizeof(lit) - 1)

/* A member whose value must be a string. */
static int
sc_want_string(struct sc *s, struct gw_fed_span *span, bool *esc, const char *what)
{
    if (!sc_at(s, '"'))
        return sc_fail(s, BASE_E_INVALID, "structure", what);
    return sc_string(s, span, esc);
}

static bool
span_is(struct sc *s, struct gw_fed_span sp, bool esc, const char *lit)
{
    size_t n = strlen(lit);
    const char *t = (const char *)s->base + sp.off;

    if (!esc)
        return sp.len == n && memcmp(t, lit, n) == 0;
    char buf[64];
    if (sp.len >= sizeof(buf))
        return false;
    size_t m = fed_json_unescape(t, sp.len, buf);
    return m == n && memcmp(buf, lit, n) == 0;
}

/* FHIR R4 resource type names: an upper-case letter then letters. */
static bool
type_name_ok(const char *p, size_t n)
{
    if (n == 0 || n > 64 || p[0] < 'A' || p[0] > 'Z')
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = p[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
            return false;
    }
    return true;
}

/* FHIR R4 id: [A-Za-z0-9\-\.]{1,64}. */
static bool
id_ok(const char *p, size_t n)
{
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return false;
    }
    return true;
}

/* Decoded bytes of a string span: the text itself, or a copy in buf
 * (spans longer than cap - 1 when escaped give NULL). */
static const char *
span_bytes(struct sc *s, struct gw_fed_span sp, bool esc, char *buf, size_t cap, size_t *n)
{
    const char *t = (const char *)s->base + sp.off;

    if (!esc) {
        *n = sp.len;
        return t;
    }
    if (sp.len >= cap)
        return NULL;
    *n = fed_json_unescape(t, sp.len, buf);
    return buf;
}

/* ---- resource fields ------------------------------------------------------------ */

/* Base names of the date elements sort keys read (enum gw_fed_date_elem
 * order), and whether the element is a choice[x]. */
static const struct {
    const char *name;
    uint8_t len;
    bool choice;
    uint8_t form; /* for non-choice elements */
} date_elems[GW_FED_DE_COUNT] = {
    [GW_FED_DE_EFFECTIVE] = {"effective", 9, true, 0},
    [GW_FED_DE_PERIOD] = {"period", 6, false, GW_FED_DF_PERIOD},
    [GW_FED_DE_RECORDED_DATE] = {"recordedDate", 12, false, GW_FED_DF_DATETIME},
    [GW_FED_DE_ONSET] = {"onset", 5, true, 0},
    [GW_FED_DE_STARTED] = {"started", 7, false, GW_FED_DF_DATETIME},
    [GW_FED_DE_AUTHORED_ON] = {"authoredOn", 10, false, GW_FED_DF_DATETIME},
    [GW_FED_DE_PERFORMED] = {"performed", 9, true, 0},
    [GW_FED_DE_OCCURRENCE] = {"occurrence", 10, true, 0},
    [GW_FED_DE_DATE] = {"date", 4, false, GW_FED_DF_DATETIME},
    [GW_FED_DE_ISSUED] = {"issued", 6, false, GW_FED_DF_DATETIME},
    [GW_FED_DE_RECORDED] = {"recorded", 8, false, GW_FED_DF_DATETIME},
    [GW_FED_DE_DATE_ASSERTED] = {"dateAsserted", 12, false, GW_FED_DF_DATETIME},
    [GW_FED_DE_DATE_TIME] = {"dateTime", 8, false, GW_FED_DF_DATETIME},
    [GW_FED_DE_CREATED] = {"created", 7, false, GW_FED_DF_DATETIME},
    [GW_FED_DE_BIRTH_DATE] = {"birthDate", 9, false, GW_FED_DF_DATETIME},
    [GW_FED_DE_ABATEMENT] = {"abatement", 9, true, 0},
    [GW_FED_DE_LAST_OCCURRENCE] = {"lastOccurrence", 14, false, GW_FED_DF_DATETIME},
    [GW_FED_DE_START] = {"start", 5, true, 0},
};

/* Form of a choice element from its type suffix (R4 §2.24.0.1 choice[x]). */
static uint8_t
choice_form(const char *suffix, size_t n)
{
    if (key_is(suffix, n, "DateTime", 8) || key_is(suffix, n, "Instant", 7) ||
        key_is(suffix, n, "Date", 4))
        return GW_FED_DF_DATETIME;
    if (key_is(suffix, n, "Period", 6))
        return GW_FED_DF_PERIOD;
    return GW_FED_DF_OTHER;
}

/* The initials of date_elems' names (bit c - 'a'): most member names are
 * refused by this one test.  A name added above with a new initial must be
 * added here; check_fed_scan's span-versus-tree sort keys would catch it. */
#define DE_BIT(c) (1u << ((c) - 'a'))
#define DE_INITIALS                                                                                \
    (DE_BIT('a') | DE_BIT('b') | DE_BIT('c') | DE_BIT('d') | DE_BIT('e') | DE_BIT('i') |           \
     DE_BIT('l') | DE_BIT('o') | DE_BIT('p') | DE_BIT('r') | DE_BIT('s'))

/* Which date element a top-level member name is, or -1. */
static int
date_elem_of(const char *key, size_t key_len, uint8_t *form)
{
    unsigned c = (unsigned)(unsigned char)key[0] - 'a';

    if (key_len < 4 || c >= 26 || (DE_INITIALS & (1u << c)) == 0)
        return -1;
    for (int i = 0; i < GW_FED_DE_COUNT; i++) {
        size_t n = date_elems[i].len;

        if (key_len < n || key[0] != date_elems[i].name[0] ||
            memcmp(key, date_elems[i].name, n) != 0)
            continue;
        if (!date_elems[i].choice) {
            if (key_len != n)
                continue;
            *form = date_elems[i].form;
            return i;
        }
        /* choice: the suffix is a capitalised type name */
        if (key_len == n || key[n] < 'A' || key[n] > 'Z')
            continue;
        *form = choice_form(key + n, key_len - n);
        return i;
    }
    return -1;
}

static int
capture_date(struct sc *s, struct gw_fed_entry *e, int elem, uint8_t form)
{
    const unsigned char *start = s->p;
    struct gw_fed_date_field f = {(uint8_t)elem, form, {0, 0}};
    bool esc = false;

    if (sc_at(s, '"')) {
        TRY(sc_string(s, &f.value, &esc));
        if (form != GW_FED_DF_DATETIME)
            f.form = GW_FED_DF_OTHER;
        if (esc)
            e->escaped |= GW_FED_ESC_OTHER;
    } else {
        TRY(sc_value(s));
        f.value.off = (uint32_t)(start - s->base);
        f.value.len = (uint32_t)(s->p - start);
        if (form != GW_FED_DF_PERIOD || *start != '{')
            f.form = GW_FED_DF_OTHER;
    }
    e->date_seen |= 1u << elem;
    if (e->n_dates == GW_FED_MAX_DATE_FIELDS)
        e->dates_overflow = true;
    else
        e->dates[e->n_dates++] = f;
    return BASE_OK;
}

/* system + code (Coding) or system + value (Identifier). */
struct pair_ctx {
    const char *second; /* "code" or "value" */
    size_t second_len;
    struct gw_fed_coding c;
    bool esc;
};

static int
pair_member(struct sc *s, const char *key, size_t key_len, void *ctx)
{
    struct pair_ctx *pc = ctx;
    bool esc = false;

    if (KEY("system") && sc_at(s, '"')) {
        TRY(sc_string(s, &pc->c.system, &esc));
    } else if (key_is(key, key_len, pc->second, pc->second_len) && sc_at(s, '"')) {
        TRY(sc_string(s, &pc->c.code, &esc));
    } else {
        return sc_value(s);
    }
    pc->esc |= esc;
    return BASE_OK;
}

static int
grow(struct sc *s, void **arr, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap)
        return BASE_OK;
    size_t ncap = *cap == 0 ? 16 : *cap * 2;
    void *na = base_arena_grow(s->a, *arr, n, ncap, elem);
    if (na == NULL)
        return sc_fail(s, BASE_E_NOMEM, "exception", "out of memory");
    *arr = na;
    *cap = ncap;
    return BASE_OK;
}

/* A Coding / Identifier object; stored into *arr unless the entry already
 * has `cap_per_entry` of them (then *over is set). */
static int
sc_pair(struct sc *s, struct gw_fed_entry *e, bool identifier, const char *what)
{
    struct pair_ctx pc = {
        identifier ? "value" : "code", identifier ? 5u : 4u, {{0, 0}, {0, 0}}, false};
    struct gw_fed_scan *o = s->out;

    if (!sc_at(s, '{'))
        return sc_fail(s, BASE_E_INVALID, "structure", what);
    TRY(sc_object(s, pair_member, &pc));
    if (pc.esc)
        e->escaped |= GW_FED_ESC_OTHER;
    if (identifier) {
        if (pc.c.code.len == 0 || e->n_idents >= BASE_LIMIT_FED_MAX_IDENTIFIERS)
            return BASE_OK; /* only identifiers with a value take part in de-duplication */
        TRY(grow(s, (void **)&o->idents, o->n_idents, &s->cap_idents, sizeof(*o->idents)));
        if (e->n_idents++ == 0)
            e->first_ident = (uint32_t)o->n_idents;
        o->idents[o->n_idents++] = pc.c;
        return BASE_OK;
    }
    /* Security labels decide what a user may see: never drop one silently. */
    if (e->n_labels >= BASE_LIMIT_FED_MAX_LABELS)
        return sc_fail(s, BASE_E_LIMIT, "too-costly", "too many security labels");
    TRY(grow(s, (void **)&o->codings, o->n_codings, &s->cap_codings, sizeof(*o->codings)));
    if (e->n_labels++ == 0)
        e->first_label = (uint32_t)o->n_codings;
    o->codings[o->n_codings++] = pc.c;
    return BASE_OK;
}

static int
label_elem(struct sc *s, size_t index, void *ctx)
{
    (void)index;
    return sc_pair(s, ctx, false, "meta.security holds a non-object");
}

static int
ident_elem(struct sc *s, size_t index, void *ctx)
{
    (void)index;
    return sc_pair(s, ctx, true, "identifier holds a non-object");
}

static int
meta_member(struct sc *s, const char *key, size_t key_len, void *ctx)
{
    struct gw_fed_entry *e = ctx;
    bool esc = false;

    e->meta_has |= GW_FED_META_ANY;
    if (KEY("versionId")) {
        TRY(sc_want_string(s, &e->version_id, &esc, "meta.versionId is not a string"));
        e->escaped |= esc ? GW_FED_ESC_VERSION : 0;
    } else if (KEY("lastUpdated")) {
        TRY(sc_want_string(s, &e->last_updated, &esc, "meta.lastUpdated is not a string"));
        e->escaped |= esc ? GW_FED_ESC_UPDATED : 0;
    } else if (KEY("security")) {
        if (!sc_at(s, '['))
            return sc_fail(s, BASE_E_INVALID, "structure", "meta.security is not an array");
        return sc_array(s, label_elem, e);
    } else {
        /* names decoded: "\u0073ource" is a source too */
        e->meta_has |= KEY("source") ? GW_FED_META_SOURCE : KEY("tag") ? GW_FED_META_TAG : 0u;
        return sc_value(s);
    }
    return BASE_OK;
}

static int
resource_member(struct sc *s, const char *key, size_t key_len, void *ctx)
{
    struct gw_fed_entry *e = ctx;
    const unsigned char *start = s->p;
    bool esc = false;
    uint8_t form;
    int elem;

    if (KEY("resourceType")) {
        TRY(sc_want_string(s, &e->type, &esc, "resourceType is not a string"));
        e->escaped |= esc ? GW_FED_ESC_TYPE : 0;
    } else if (KEY("id")) {
        TRY(sc_want_string(s, &e->id, &esc, "id is not a string"));
        e->escaped |= esc ? GW_FED_ESC_ID : 0;
        if (e->id.len == 0) /* a span of 0 means "no id" from here on */
            return sc_fail(s, BASE_E_INVALID, "value", "resource id is not a FHIR id");
    } else if (KEY("meta")) {
        if (!sc_at(s, '{'))
            return sc_fail(s, BASE_E_INVALID, "structure", "meta is not an object");
        TRY(sc_object(s, meta_member, e));
        e->meta.off = (uint32_t)(start - s->base);
        e->meta.len = (uint32_t)(s->p - start);
    } else if (KEY("identifier")) {
        /* 0..* in most resources, 0..1 in a few (Composition, Bundle, …) */
        if (sc_at(s, '{'))
            return sc_pair(s, e, true, "identifier is not an object");
        if (!sc_at(s, '['))
            return sc_fail(s, BASE_E_INVALID, "structure", "identifier is not an array");
        return sc_array(s, ident_elem, e);
    } else if (KEY("masterIdentifier")) {
        return sc_pair(s, e, true, "masterIdentifier is not an object");
    } else if ((elem = date_elem_of(key, key_len, &form)) >= 0) {
        return capture_date(s, e, elem, form);
    } else {
        return sc_value(s);
    }
    return BASE_OK;
}

/* ---- entries ------------------------------------------------------------------------ */

struct entry_ctx {
    struct gw_fed_entry *e;
    bool has_resource;
};

static int
search_member(struct sc *s, const char *key, size_t key_len, void *ctx)
{
    struct gw_fed_entry *e = ctx;
    struct gw_fed_span m;
    bool esc;

    if (!KEY("mode"))
        return sc_value(s);
    TRY(sc_want_string(s, &m, &esc, "search.mode is not a string"));
    if (span_is(s, m, esc, "match"))
        e->mode = GW_FED_MODE_MATCH;
    else if (span_is(s, m, esc, "include"))
        e->mode = GW_FED_MODE_INCLUDE;
    else if (span_is(s, m, esc, "outcome"))
        e->mode = GW_FED_MODE_OUTCOME;
    else
        return sc_fail(s, BASE_E_INVALID, "code-invalid", "unknown search.mode");
    return BASE_OK;
}

static int
entry_member(struct sc *s, const char *key, size_t key_len, void *ctx)
{
    struct entry_ctx *ec = ctx;
    const unsigned char *start = s->p;
    bool esc = false;

    if (KEY("fullUrl")) {
        TRY(sc_want_string(s, &ec->e->full_url, &esc, "fullUrl is not a string"));
        ec->e->escaped |= esc ? GW_FED_ESC_FULLURL : 0;
    } else if (KEY("resource")) {
        if (!sc_at(s, '{'))
            return sc_fail(s, BASE_E_INVALID, "structure", "resource is not an object");
        TRY(sc_object(s, resource_member, ec->e));
        ec->e->resource.off = (uint32_t)(start - s->base);
        ec->e->resource.len = (uint32_t)(s->p - start);
        ec->has_resource = true;
    } else if (KEY("search")) {
        if (!sc_at(s, '{'))
            return sc_fail(s, BASE_E_INVALID, "structure", "search is not an object");
        return sc_object(s, search_member, ec->e);
    } else {
        return sc_value(s);
    }
    return BASE_OK;
}

static bool
type_listed(const char *const *types, size_t n_types, const char *t, size_t n)
{
    for (size_t i = 0; i < n_types; i++) {
        if (strlen(types[i]) == n && memcmp(types[i], t, n) == 0)
            return true;
    }
    return false;
}

/* Match entries: one of opts->types; include entries: one of
 * opts->include_types (none when only match types are given). */
static bool
type_expected(struct sc *s, unsigned mode, const char *t, size_t n)
{
    if (s->opts->types == NULL)
        return true;
    if (mode == GW_FED_MODE_INCLUDE)
        return type_listed(s->opts->include_types, s->opts->n_include_types, t, n);
    return type_listed(s->opts->types, s->opts->n_types, t, n);
}

/* What an entry must be once read: a resource with a type name and an id,
 * of an expected type (an OperationOutcome only as an outcome entry). */
static int
entry_check(struct sc *s, const struct entry_ctx *ec)
{
    const struct gw_fed_entry *e = ec->e;
    char buf[72];
    size_t n;
    const char *t;

    if (!ec->has_resource)
        return sc_fail(s, BASE_E_INVALID, "required", "entry without a resource");
    if (e->type.len == 0)
        return sc_fail(s, BASE_E_INVALID, "required", "resource without resourceType");
    t = span_bytes(s, e->type, (e->escaped & GW_FED_ESC_TYPE) != 0, buf, sizeof(buf), &n);
    if (t == NULL || !type_name_ok(t, n))
        return sc_fail(s, BASE_E_INVALID, "value", "resourceType is not a type name");
    if (e->id.len > 0) {
        const char *id =
            span_bytes(s, e->id, (e->escaped & GW_FED_ESC_ID) != 0, buf, sizeof(buf), &n);

        if (id == NULL || !id_ok(id, n))
            return sc_fail(s, BASE_E_INVALID, "value", "resource id is not a FHIR id");
        t = span_bytes(s, e->type, (e->escaped & GW_FED_ESC_TYPE) != 0, buf, sizeof(buf), &n);
    }
    bool outcome = n == 16 && memcmp(t, "OperationOutcome", 16) == 0;
    if (e->mode == GW_FED_MODE_OUTCOME && !outcome)
        return sc_fail(s, BASE_E_INVALID, "invalid", "outcome entry is not an OperationOutcome");
    if (e->mode != GW_FED_MODE_OUTCOME && !type_expected(s, e->mode, t, n))
        return sc_fail(s, BASE_E_INVALID, "invalid", "resource type not asked for");
    return BASE_OK;
}

static int
entry_elem(struct sc *s, size_t index, void *ctx)
{
    struct gw_fed_scan *o = s->out;
    size_t max = s->opts->max_entries != 0 ? s->opts->max_entries : BASE_LIMIT_FED_MAX_ENTRIES;
    struct entry_ctx ec = {NULL, false};

    (void)ctx;
    s->entry = (long)index;
    if (!sc_at(s, '{'))
        return sc_fail(s, BASE_E_INVALID, "structure", "not an object");
    if (o->n_entries >= max)
        return sc_fail(s, BASE_E_LIMIT, "too-costly", "too many entries");
    TRY(grow(s, (void **)&o->entries, o->n_entries, &s->cap_entries, sizeof(*o->entries)));
    ec.e = &o->entries[o->n_entries++];
    memset(ec.e, 0, sizeof(*ec.e));
    TRY(sc_object(s, entry_member, &ec));
    TRY(entry_check(s, &ec));
    s->entry = -1;
    return BASE_OK;
}

/* ---- the Bundle ------------------------------------------------------------------- */

struct link_ctx {
    struct gw_fed_span relation, url;
    bool rel_esc, url_esc;
};

static int
link_member(struct sc *s, const char *key, size_t key_len, void *ctx)
{
    struct link_ctx *lc = ctx;

    if (KEY("relation"))
        return sc_want_string(s, &lc->relation, &lc->rel_esc, "link.relation is not a string");
    if (KEY("url"))
        return sc_want_string(s, &lc->url, &lc->url_esc, "link.url is not a string");
    return sc_value(s);
}

static int
link_elem(struct sc *s, size_t index, void *ctx)
{
    struct link_ctx lc = {{0, 0}, {0, 0}, false, false};

    (void)index;
    (void)ctx;
    if (!sc_at(s, '{'))
        return sc_fail(s, BASE_E_INVALID, "structure", "link is not an object");
    TRY(sc_object(s, link_member, &lc));
    if (span_is(s, lc.relation, lc.rel_esc, "next") && lc.url.len > 0) {
        s->out->next_url = lc.url;
        s->out->next_escaped = lc.url_esc;
    }
    return BASE_OK;
}

struct bundle_ctx {
    bool is_bundle;
    bool searchset;
};

static int
sc_total(struct sc *s)
{
    uint64_t v = 0;

    if (!sc_at(s, '0') && !(s->p < s->end && *s->p >= '1' && *s->p <= '9'))
        return sc_fail(s, BASE_E_INVALID, "value", "total is not an unsigned integer");
    /* RFC 8259 §6: no leading zeros ("00" is not JSON) */
    if (sc_at(s, '0') && s->end - s->p > 1 && s->p[1] >= '0' && s->p[1] <= '9')
        return sc_syntax(s);
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        if (v > (UINT64_MAX - 9) / 10)
            return sc_fail(s, BASE_E_INVALID, "value", "total out of range");
        v = v * 10 + (uint64_t)(*s->p++ - '0');
    }
    if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E'))
        return sc_fail(s, BASE_E_INVALID, "value", "total is not an unsigned integer");
    s->out->has_total = true;
    s->out->total = v;
    return BASE_OK;
}

static int
bundle_member(struct sc *s, const char *key, size_t key_len, void *ctx)
{
    struct bundle_ctx *bc = ctx;
    struct gw_fed_span v;
    bool esc;

    /* wrong kinds of answer fail at once, before their entries are read */
    if (KEY("resourceType")) {
        TRY(sc_want_string(s, &v, &esc, "resourceType is not a string"));
        bc->is_bundle = span_is(s, v, esc, "Bundle");
        if (!bc->is_bundle)
            return sc_fail(s, BASE_E_INVALID, "invalid", "answer is not a Bundle");
    } else if (KEY("type")) {
        TRY(sc_want_string(s, &v, &esc, "Bundle.type is not a string"));
        bc->searchset = span_is(s, v, esc, "searchset");
        if (!bc->searchset)
            return sc_fail(s, BASE_E_INVALID, "invalid", "Bundle is not a searchset");
    } else if (KEY("total")) {
        return sc_total(s);
    } else if (KEY("link")) {
        if (!sc_at(s, '['))
            return sc_fail(s, BASE_E_INVALID, "structure", "Bundle.link is not an array");
        return sc_array(s, link_elem, NULL);
    } else if (KEY("entry")) {
        if (!sc_at(s, '['))
            return sc_fail(s, BASE_E_INVALID, "structure", "Bundle.entry is not an array");
        return sc_array(s, entry_elem, NULL);
    } else {
        return sc_value(s);
    }
    return BASE_OK;
}

static int
scan_bundle(struct sc *s)
{
    struct bundle_ctx bc = {false, false};

    if (!sc_at(s, '{')) {
        TRY(sc_value(s)); /* say "not JSON" rather than "not an object" when it is not */
        return sc_fail(s, BASE_E_INVALID, "structure", "answer is not a JSON object");
    }
    TRY(sc_object(s, bundle_member, &bc));
    if (!bc.is_bundle)
        return sc_fail(s, BASE_E_INVALID, "invalid", "answer is not a Bundle");
    if (!bc.searchset)
        return sc_fail(s, BASE_E_INVALID, "invalid", "Bundle is not a searchset");
    return BASE_OK;
}

/* ---- entry point -------------------------------------------------------------------- */

int
gw_fed_scan_bundle(struct base_arena *a, const char *text, size_t len,
                   const struct gw_fed_scan_opts *opts, struct gw_fed_scan *out,
                   struct base_err *err)
{
    static const struct gw_fed_scan_opts none = {0};
    struct sc s;

    memset(out, 0, sizeof(*out));
    memset(&s, 0, sizeof(s));
    s.opts = opts != NULL ? opts : &none;
    s.base = (const unsigned char *)text;
    s.p = s.base;
    s.end = s.base + len;
    s.a = a;
    s.err = err;
    s.out = out;
    s.entry = -1;
    s.max_depth = s.opts->max_depth != 0 ? s.opts->max_depth : BASE_LIMIT_FHIR_MAX_DEPTH;
    out->text = text;
    out->len = len;
    if (text == NULL || len >= UINT32_MAX)
        return sc_fail(&s, BASE_E_LIMIT, "too-costly", "answer too large");
    /* RFC 8259 §8.1: a parser may ignore a byte order mark. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        s.p += 3;
    sc_ws(&s);
    TRY(scan_bundle(&s));
    sc_ws(&s);
    if (s.p != s.end)
        return sc_syntax(&s);
    return BASE_OK;
}
