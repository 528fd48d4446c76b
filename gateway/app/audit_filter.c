/*
 * gateway/app/audit_filter.c — the R4 AuditEvent search parameters that
 * look into the events themselves (auditevent.html#search): type,
 * agent-role, altid, policy, entity-type, entity-role, site, source
 * (token, uri and reference: matched by JSON containment) and address,
 * agent-name, entity-name (string: case-insensitive "starts with", or
 * :exact / :contains).  An IHE RESTful ATNA [ITI-81] Audit Consumer asks
 * for these; the columns of audit.event answer the others (h_audit.c).
 *
 * What is built is data for gw_audit_search (gw_audit.h): `contains`, a
 * JSON array over the parameters (all must hold) of arrays over their
 * comma-separated values (any may hold) of objects the event must contain;
 * `strings`, a JSON array of {"on", "path", "mode", "any"}.
 */
#include "gateway/app/app_int.h"

#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"

/* The element's JSON shape: a Coding, a list of CodeableConcept, a string
 * searched as a token, a list of uri, a Reference, a string. */
enum shape { TOKEN_CODING, TOKEN_CC, TOKEN_STRING, URI, REFERENCE, STRING };

struct content_param {
    const char *name;
    enum shape shape;
    const char *on;   /* the repeating element it lives in: "agent", "entity" or NULL */
    const char *path; /* JSON path below it, '.'-separated */
};

static const struct content_param PARAMS[] = {
    {"type", TOKEN_CODING, NULL, "type"},
    {"agent-role", TOKEN_CC, "agent", "role"},
    {"altid", TOKEN_STRING, "agent", "altId"},
    {"policy", URI, "agent", "policy"},
    {"entity-type", TOKEN_CODING, "entity", "type"},
    {"entity-role", TOKEN_CODING, "entity", "role"},
    {"site", TOKEN_STRING, NULL, "source.site"},
    {"source", REFERENCE, NULL, "source.observer"},
    {"address", STRING, "agent", "network.address"},
    {"agent-name", STRING, "agent", "name"},
    {"entity-name", STRING, "entity", "name"},
};

static const struct content_param *
find_param(struct base_str name, struct base_str *modifier)
{
    struct base_str base = name;

    *modifier = BASE_STR_NULL;
    (void)base_str_cut(name, ':', &base, modifier);
    for (size_t i = 0; i < BASE_ARRAY_LEN(PARAMS); i++) {
        if (base_str_eq_cstr(base, PARAMS[i].name))
            return &PARAMS[i];
    }
    return NULL;
}

/* {"a":{"b":leaf}} for the path "a.b" (the leaf is taken). */
static json_t *
nest(const char *path, json_t *leaf)
{
    const char *dot = strrchr(path, '.');
    json_t *o = json_object();
    char key[32];
    size_t n;

    if (leaf == NULL || o == NULL)
        goto fail;
    if (dot == NULL) {
        if (json_object_set_new(o, path, leaf) != 0)
            goto fail_o;
        return o;
    }
    if (json_object_set_new(o, dot + 1, leaf) != 0)
        goto fail_o;
    n = (size_t)(dot - path);
    if (n >= sizeof(key))
        goto fail_o;
    memcpy(key, path, n);
    key[n] = '\0';
    return nest(key, o);
fail:
    json_decref(leaf);
fail_o:
    json_decref(o);
    return NULL;
}

/* A Coding for "code", "|code" or "system|code"; NULL when malformed. */
static json_t *
coding(struct base_str v)
{
    struct base_str system = BASE_STR_NULL;
    struct base_str code = v;
    json_t *c;

    if (memchr(v.ptr, '|', v.len) != NULL &&
        (!base_str_cut(v, '|', &system, &code) || memchr(code.ptr, '|', code.len) != NULL))
        return NULL;
    if (code.len == 0)
        return NULL;
    c = json_object();
    if (c == NULL || json_object_set_new(c, "code", json_stringn(code.ptr, code.len)) != 0 ||
        (system.len > 0 &&
         json_object_set_new(c, "system", json_stringn(system.ptr, system.len)) != 0)) {
        json_decref(c);
        return NULL;
    }
    return c;
}

/* What the event must contain for one value. */
static json_t *
pattern(const struct content_param *p, struct base_str v)
{
    json_t *leaf = NULL;
    json_t *inner;

    switch (p->shape) {
    case TOKEN_CODING:
        leaf = coding(v);
        break;
    case TOKEN_CC: /* agent.role is 0..* CodeableConcept */
        leaf = coding(v);
        leaf = leaf != NULL ? json_pack("[{s:[o]}]", "coding", leaf) : NULL;
        break;
    case TOKEN_STRING: /* a token on a string element: its value, any system */
        if (memchr(v.ptr, '|', v.len) != NULL)
            (void)base_str_cut(v, '|', &(struct base_str){0}, &v);
        leaf = v.len > 0 ? json_stringn(v.ptr, v.len) : NULL;
        break;
    case URI:
        leaf = v.len > 0 ? json_pack("[s%]", v.ptr, v.len) : NULL;
        break;
    case REFERENCE:
        leaf = v.len > 0 ? json_pack("{s:s%}", "reference", v.ptr, v.len) : NULL;
        break;
    case STRING:
        return NULL;
    }
    inner = nest(p->path, leaf);
    if (inner == NULL || p->on == NULL)
        return inner;
    return json_pack("{s:[o]}", p->on, inner);
}

/* Split v at commas (R4 search.html#escaping: "\," is a comma in a value). */
static bool
each_value(struct base_arena *a, struct base_str v, bool (*fn)(void *, struct base_str), void *ctx)
{
    char *buf = BASE_NEW_N(a, char, v.len + 1);
    size_t n = 0;

    if (buf == NULL)
        return false;
    for (size_t i = 0; i < v.len; i++) {
        if ((unsigned char)v.ptr[i] < 0x20) /* no code, name or address has one */
            return false;
    }
    for (size_t i = 0; i <= v.len; i++) {
        if (i < v.len && v.ptr[i] == '\\' && i + 1 < v.len &&
            (v.ptr[i + 1] == ',' || v.ptr[i + 1] == '\\' || v.ptr[i + 1] == '|' ||
             v.ptr[i + 1] == '$')) {
            buf[n++] = v.ptr[++i];
            continue;
        }
        if (i == v.len || v.ptr[i] == ',') {
            if (n == 0 || !fn(ctx, base_str_make(buf, n)))
                return false;
            buf = BASE_NEW_N(a, char, v.len + 1);
            n = 0;
            if (buf == NULL)
                return false;
            continue;
        }
        buf[n++] = v.ptr[i];
    }
    return true;
}

struct values {
    const struct content_param *p;
    json_t *any;
};

static bool
add_pattern(void *ctx, struct base_str v)
{
    struct values *x = ctx;
    json_t *o = pattern(x->p, v);

    return o != NULL && json_array_append_new(x->any, o) == 0;
}

static bool
add_string(void *ctx, struct base_str v)
{
    struct values *x = ctx;

    return json_array_append_new(x->any, json_stringn(v.ptr, v.len)) == 0;
}

static json_t *
lazy_array(struct base_arena *a, json_t **slot)
{
    if (*slot == NULL && ((*slot = json_array()) == NULL || fhir_json_tie(a, *slot) != BASE_OK))
        *slot = NULL;
    return *slot;
}

int
gw_app_audit_filter(struct base_arena *a, const struct gw_http_param *hp,
                    struct gw_app_audit_filter *f)
{
    struct base_str modifier;
    const struct content_param *p = find_param(hp->name, &modifier);
    struct values x = {p, json_array()};
    const char *mode = "prefix";
    json_t *list;
    bool ok;

    if (p == NULL) {
        json_decref(x.any);
        return GW_APP_AUDIT_FILTER_NONE;
    }
    /* string parameters take :exact and :contains; no other modifier */
    if (p->shape == STRING && base_str_eq_cstr(modifier, "exact"))
        mode = "exact";
    else if (p->shape == STRING && base_str_eq_cstr(modifier, "contains"))
        mode = "contains";
    ok = x.any != NULL && (modifier.len == 0 || strcmp(mode, "prefix") != 0) &&
         hp->value.len <= BASE_LIMIT_HTTP_MAX_URL &&
         each_value(a, hp->value, p->shape == STRING ? add_string : add_pattern, &x);
    if (ok && p->shape == STRING) {
        list = lazy_array(a, &f->strings);
        ok = list != NULL &&
             json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:o}", "on", p->on, "path",
                                                   p->path, "mode", mode, "any", x.any)) == 0;
        x.any = NULL;
    } else if (ok) {
        list = lazy_array(a, &f->contains);
        ok = list != NULL && json_array_append_new(list, x.any) == 0;
        x.any = NULL;
    }
    json_decref(x.any);
    return ok ? GW_APP_AUDIT_FILTER_OK : GW_APP_AUDIT_FILTER_BAD;
}
