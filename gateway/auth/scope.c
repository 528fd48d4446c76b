/*
 * SMART on FHIR scopes (SMART App Launch 2.x, "Scopes and Launch Context"):
 *   v1  (patient|user|system)/(Type|*).(read|write|*)
 *   v2  (patient|user|system)/(Type|*).[c][r][u][d][s][?param=value&...]
 * v1 read = v2 rs, write = cud, * = cruds (SMART 2.0 §Scopes for requesting
 * FHIR resources, "v1 to v2 equivalence").
 */
#include "gateway/auth/gw_auth.h"

#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"

#define MAX_TYPE 64

/* RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ). */
static bool
scope_char_ok(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

static bool
type_ok(struct base_str t)
{
    if (t.len == 1 && t.ptr[0] == '*')
        return true;
    if (t.len == 0 || t.len > MAX_TYPE || t.ptr[0] < 'A' || t.ptr[0] > 'Z')
        return false;
    for (size_t i = 1; i < t.len; i++) {
        char c = t.ptr[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
            return false;
    }
    return true;
}

/* v2 permission letters, each at most once, in the order c r u d s. */
static bool
parse_perms(struct base_str p, unsigned *out, bool *is_v1)
{
    static const char order[] = "cruds";
    size_t at = 0;

    *is_v1 = true;
    if (base_str_eq_cstr(p, "read")) {
        *out = GW_AUTH_PERM_R | GW_AUTH_PERM_S;
        return true;
    }
    if (base_str_eq_cstr(p, "write")) {
        *out = GW_AUTH_PERM_C | GW_AUTH_PERM_U | GW_AUTH_PERM_D;
        return true;
    }
    if (base_str_eq_cstr(p, "*")) {
        *out = GW_AUTH_PERM_ALL;
        return true;
    }
    *is_v1 = false;
    *out = 0;
    for (size_t i = 0; i < p.len; i++) {
        while (at < 5 && order[at] != p.ptr[i])
            at++;
        if (at == 5)
            return false; /* unknown letter, repeated, or out of order */
        *out |= 1u << at;
        at++;
    }
    return *out != 0;
}

static int
add_scope(struct gw_auth_scopes *s, size_t cap, const struct gw_auth_scope *sc)
{
    for (size_t i = 0; i < s->count && !sc->has_query; i++) {
        struct gw_auth_scope *have = &s->items[i];

        if (!have->has_query && have->ctx == sc->ctx && strcmp(have->type, sc->type) == 0) {
            have->perms |= sc->perms;
            have->is_v1 = have->is_v1 && sc->is_v1;
            return BASE_OK;
        }
    }
    if (s->count >= cap)
        return BASE_E_LIMIT;
    s->items[s->count++] = *sc;
    return BASE_OK;
}

static int
parse_resource_scope(struct base_arena *a, struct base_str tok, enum gw_auth_scope_ctx ctx,
                     size_t prefix, struct gw_auth_scope *out)
{
    struct base_str rest = base_str_sub(tok, prefix, tok.len - prefix);
    struct base_str type;
    struct base_str perms;
    struct base_str query = BASE_STR_NULL;

    if (!base_str_cut(rest, '.', &type, &perms) || !type_ok(type))
        return BASE_E_INVALID;
    out->has_query = base_str_cut(perms, '?', &perms, &query);
    if (out->has_query && query.len == 0)
        return BASE_E_INVALID;
    if (!parse_perms(perms, &out->perms, &out->is_v1) || (out->has_query && out->is_v1))
        return BASE_E_INVALID;
    out->ctx = ctx;
    out->type = base_str_dup0(a, type);
    return out->type != NULL ? BASE_OK : BASE_E_NOMEM;
}

static const struct {
    const char *name;
    unsigned flag;
} flag_scopes[] = {
    {"openid", GW_AUTH_SCOPE_OPENID},
    {"fhirUser", GW_AUTH_SCOPE_FHIRUSER},
    {"launch/patient", GW_AUTH_SCOPE_LAUNCH_PATIENT},
    {"offline_access", GW_AUTH_SCOPE_OFFLINE},
    {"online_access", GW_AUTH_SCOPE_ONLINE},
};

static const struct {
    const char *prefix;
    enum gw_auth_scope_ctx ctx;
} ctx_prefixes[] = {
    {"patient/", GW_AUTH_CTX_PATIENT},
    {"user/", GW_AUTH_CTX_USER},
    {"system/", GW_AUTH_CTX_SYSTEM},
};

/* One scope token: a flag, a resource scope, or something we ignore. */
static int
parse_token(struct base_arena *a, struct base_str tok, size_t idx, struct gw_auth_scopes *out,
            struct base_err *err)
{
    char where[32];
    struct gw_auth_scope sc = {0};

    snprintf(where, sizeof(where), "scope[%zu]", idx);
    ENSURE(tok.len <= BASE_LIMIT_AUTH_MAX_SCOPE_LEN, err, BASE_E_LIMIT, "too-long", where,
           "scope exceeds %u bytes", BASE_LIMIT_AUTH_MAX_SCOPE_LEN);
    for (size_t i = 0; i < tok.len; i++) {
        ENSURE(scope_char_ok((unsigned char)tok.ptr[i]), err, BASE_E_INVALID, "value", where,
               "scope contains a character RFC 6749 does not allow");
    }
    for (size_t i = 0; i < BASE_ARRAY_LEN(flag_scopes); i++) {
        if (base_str_eq_cstr(tok, flag_scopes[i].name)) {
            out->flags |= flag_scopes[i].flag;
            return BASE_OK;
        }
    }
    for (size_t i = 0; i < BASE_ARRAY_LEN(ctx_prefixes); i++) {
        int rc;

        if (!base_str_starts_with(tok, ctx_prefixes[i].prefix))
            continue;
        rc = parse_resource_scope(a, tok, ctx_prefixes[i].ctx, strlen(ctx_prefixes[i].prefix), &sc);
        ENSURE(rc != BASE_E_NOMEM, err, BASE_E_NOMEM, "exception", where, "out of memory");
        ENSURE(rc == BASE_OK, err, BASE_E_INVALID, "value", where,
               "malformed SMART resource scope");
        ENSURE(add_scope(out, BASE_LIMIT_AUTH_MAX_SCOPES, &sc) == BASE_OK, err, BASE_E_LIMIT,
               "too-costly", where, "more than %u scopes", BASE_LIMIT_AUTH_MAX_SCOPES);
        return BASE_OK;
    }
    return BASE_OK; /* launch, profile, …: well-formed but never granted */
}

int
gw_auth_scopes_parse(struct base_arena *a, struct base_str text, struct gw_auth_scopes *out,
                     struct base_err *err)
{
    size_t idx = 0;
    struct base_str rest = text;

    memset(out, 0, sizeof(*out));
    out->items = BASE_NEW_N(a, struct gw_auth_scope, BASE_LIMIT_AUTH_MAX_SCOPES);
    ENSURE(out->items != NULL, err, BASE_E_NOMEM, "exception", "scope", "out of memory");
    while (rest.len > 0) {
        struct base_str tok;

        (void)base_str_cut(rest, ' ', &tok, &rest);
        if (tok.len == 0)
            continue; /* tolerate doubled spaces */
        ENSURE(idx < BASE_LIMIT_AUTH_MAX_SCOPES, err, BASE_E_LIMIT, "too-costly", "scope",
               "more than %u scopes", BASE_LIMIT_AUTH_MAX_SCOPES);
        TRY(parse_token(a, tok, idx, out, err));
        idx++;
    }
    return BASE_OK;
}

static unsigned
interaction_perm(enum gw_auth_interaction i)
{
    switch (i) {
    case GW_AUTH_READ:
    case GW_AUTH_VREAD:
    case GW_AUTH_HISTORY_INSTANCE:
        return GW_AUTH_PERM_R;
    case GW_AUTH_SEARCH:
    case GW_AUTH_HISTORY_TYPE:
        return GW_AUTH_PERM_S;
    case GW_AUTH_CREATE:
        return GW_AUTH_PERM_C;
    case GW_AUTH_UPDATE:
    case GW_AUTH_PATCH:
        return GW_AUTH_PERM_U;
    case GW_AUTH_DELETE:
        return GW_AUTH_PERM_D;
    default:
        return 0;
    }
}

bool
gw_auth_scope_allows(const struct gw_auth_scopes *s, const char *resource_type,
                     enum gw_auth_interaction interaction)
{
    unsigned need = interaction_perm(interaction);

    if (need == 0 || resource_type == NULL)
        return false;
    for (size_t i = 0; i < s->count; i++) {
        const struct gw_auth_scope *sc = &s->items[i];

        if (!sc->has_query && (sc->perms & need) != 0 &&
            (strcmp(sc->type, "*") == 0 || strcmp(sc->type, resource_type) == 0))
            return true;
    }
    return false;
}

/* Intersection of two scopes; false when they share nothing. */
static bool
scope_meet(const struct gw_auth_scope *x, const struct gw_auth_scope *y, struct gw_auth_scope *out)
{
    if (x->has_query || y->has_query || x->ctx != y->ctx || (x->perms & y->perms) == 0)
        return false;
    *out = *x;
    out->perms = x->perms & y->perms;
    if (strcmp(x->type, "*") == 0)
        out->type = y->type;
    else if (strcmp(y->type, "*") != 0 && strcmp(x->type, y->type) != 0)
        return false;
    return true;
}

int
gw_auth_scopes_intersect(struct base_arena *a, const struct gw_auth_scopes *x,
                         const struct gw_auth_scopes *y, struct gw_auth_scopes *out,
                         struct base_err *err)
{
    size_t cap = x->count * y->count; /* both <= BASE_LIMIT_AUTH_MAX_SCOPES */

    memset(out, 0, sizeof(*out));
    out->flags = x->flags & y->flags;
    if (cap == 0)
        return BASE_OK;
    out->items = BASE_NEW_N(a, struct gw_auth_scope, cap);
    ENSURE(out->items != NULL, err, BASE_E_NOMEM, "exception", "scope", "out of memory");
    for (size_t i = 0; i < x->count; i++) {
        for (size_t j = 0; j < y->count; j++) {
            struct gw_auth_scope m;

            if (scope_meet(&x->items[i], &y->items[j], &m))
                TRY(add_scope(out, cap, &m));
        }
    }
    return BASE_OK;
}

static const char *
perm_text(const struct gw_auth_scope *sc, char buf[6])
{
    static const char letters[] = "cruds";
    size_t n = 0;

    if (sc->is_v1 && sc->perms == (GW_AUTH_PERM_R | GW_AUTH_PERM_S))
        return "read";
    if (sc->is_v1 && sc->perms == (GW_AUTH_PERM_C | GW_AUTH_PERM_U | GW_AUTH_PERM_D))
        return "write";
    if (sc->is_v1 && sc->perms == GW_AUTH_PERM_ALL)
        return "*";
    for (unsigned b = 0; b < 5; b++) {
        if (sc->perms & (1u << b))
            buf[n++] = letters[b];
    }
    buf[n] = '\0';
    return buf;
}

static const char *
ctx_text(enum gw_auth_scope_ctx ctx)
{
    switch (ctx) {
    case GW_AUTH_CTX_PATIENT:
        return "patient";
    case GW_AUTH_CTX_USER:
        return "user";
    case GW_AUTH_CTX_SYSTEM:
        return "system";
    default:
        return "";
    }
}

int
gw_auth_scopes_format(const struct gw_auth_scopes *s, struct base_buf *out, struct base_err *err)
{
    const char *sep = "";
    int rc = BASE_OK;

    for (size_t i = 0; i < BASE_ARRAY_LEN(flag_scopes) && rc == BASE_OK; i++) {
        if (s->flags & flag_scopes[i].flag) {
            rc = base_buf_appendf(out, "%s%s", sep, flag_scopes[i].name);
            sep = " ";
        }
    }
    for (size_t i = 0; i < s->count && rc == BASE_OK; i++) {
        const struct gw_auth_scope *sc = &s->items[i];
        char buf[6];

        if (sc->has_query)
            continue; /* never granted, so never written */
        rc = base_buf_appendf(out, "%s%s/%s.%s", sep, ctx_text(sc->ctx), sc->type,
                              perm_text(sc, buf));
        sep = " ";
    }
    ENSURE(rc == BASE_OK, err, rc, "too-costly", "scope", "scope text too long");
    return BASE_OK;
}

/* ---------------------------------------------------------- role rules -- */

int
gw_auth_scopes_restrict_to_role(struct base_arena *a, const struct gw_auth_scopes *s,
                                enum gw_auth_role role, struct gw_auth_scopes *out,
                                struct base_err *err)
{
    struct gw_auth_scopes ceiling;

    TRY(gw_auth_scopes_parse(a, base_str_from_cstr(gw_auth_role_scope_ceiling(role)), &ceiling,
                             err));
    return gw_auth_scopes_intersect(a, s, &ceiling, out, err);
}

static bool
within(const struct gw_auth_scope *sc, const struct gw_auth_scopes *ceiling)
{
    for (size_t i = 0; i < ceiling->count; i++) {
        const struct gw_auth_scope *c = &ceiling->items[i];

        if (!c->has_query && c->ctx == sc->ctx && (sc->perms & ~c->perms) == 0 &&
            (strcmp(c->type, "*") == 0 || strcmp(c->type, sc->type) == 0))
            return true;
    }
    return false;
}

bool
gw_auth_scopes_within(const struct gw_auth_scopes *s, const struct gw_auth_scopes *ceiling)
{
    if ((s->flags & ~ceiling->flags) != 0)
        return false;
    for (size_t i = 0; i < s->count; i++) {
        if (!within(&s->items[i], ceiling))
            return false;
    }
    return true;
}

int
gw_auth_scopes_check_role(const struct gw_auth_scopes *s, enum gw_auth_role role,
                          struct base_err *err)
{
    struct base_arena *a = base_arena_new(64u << 10);
    struct gw_auth_scopes ceiling;
    int rc;

    ENSURE(a != NULL, err, BASE_E_NOMEM, "exception", "scope", "out of memory");
    rc = gw_auth_scopes_parse(a, base_str_from_cstr(gw_auth_role_scope_ceiling(role)), &ceiling,
                              err);
    if (rc == BASE_OK && (s->flags & ~ceiling.flags) != 0)
        rc = base_err_set(err, BASE_E_AUTH, "forbidden", "scope",
                          "scope is not allowed for the role %s", gw_auth_role_name(role));
    for (size_t i = 0; i < s->count && rc == BASE_OK; i++) {
        char where[32];

        snprintf(where, sizeof(where), "scope[%zu]", i);
        if (!within(&s->items[i], &ceiling))
            rc = base_err_set(err, BASE_E_AUTH, "forbidden", where,
                              "scope is not allowed for the role %s", gw_auth_role_name(role));
    }
    base_arena_free(a);
    return rc;
}
