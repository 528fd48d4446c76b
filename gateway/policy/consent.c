/*
 * Compile FHIR R4 Consent resources into a small rule tree per patient.
 * See gw_policy.h for the semantics.
 */
#include "gateway/policy/gw_policy.h"

#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "fhir/search/fhir_search.h"
#include "gateway/policy/policy_int.h"

#define V3_ACTCODE      "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#define V3_PARTICIPANT  "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
#define CONSENT_SCOPE   "http://terminology.hl7.org/CodeSystem/consentscope"

struct compiler {
    struct base_arena *a;
    struct gw_policy_consent *out;
    int64_t now_us;
    size_t consent_ix;
    struct base_err *err;
};

static bool
coding_has(const json_t *coding, const char *system, const char *code)
{
    struct base_str sys = fhir_json_str(json_object_get(coding, "system"));
    struct base_str c = fhir_json_str(json_object_get(coding, "code"));

    return (system == NULL || sys.len == 0 || base_str_eq_cstr(sys, system)) &&
           base_str_eq_cstr(c, code);
}

static bool
concept_has(const json_t *concept, const char *system, const char *code)
{
    const json_t *codings = json_object_get(concept, "coding");

    for (size_t i = 0; i < json_array_size(codings); i++) {
        if (coding_has(json_array_get(codings, i), system, code))
            return true;
    }
    return false;
}

/* Does the period (if any) contain now?  An unreadable period fails closed
 * for permits and open for denies: the caller passes which. */
static bool
period_contains(const json_t *period, int64_t now_us)
{
    int64_t lo;
    int64_t hi;
    struct base_str s;

    if (period == NULL)
        return true;
    s = fhir_json_str(json_object_get(period, "start"));
    if (s.len > 0 && fhir_search_date_range(s.ptr, s.len, &lo, &hi) && now_us < lo)
        return false;
    s = fhir_json_str(json_object_get(period, "end"));
    if (s.len > 0 && fhir_search_date_range(s.ptr, s.len, &lo, &hi) && now_us >= hi)
        return false;
    return true;
}

/* "Organization/hosp-a", or an absolute URL ending that way -> "hosp-a". */
static bool
organization_id(struct base_str ref, struct base_str *id)
{
    static const char key[] = "Organization/";
    const char *p = NULL;

    for (size_t i = 0; i + sizeof(key) - 1 <= ref.len; i++) {
        if (memcmp(ref.ptr + i, key, sizeof(key) - 1) == 0 &&
            (i == 0 || ref.ptr[i - 1] == '/'))
            p = ref.ptr + i + sizeof(key) - 1;
    }
    if (p == NULL)
        return false;
    *id = base_str_make(p, (size_t)(ref.ptr + ref.len - p));
    /* drop a version suffix: Organization/x/_history/2 */
    (void)base_str_cut(*id, '/', id, &ref);
    return id->len > 0;
}

static int
add_to_set(struct compiler *cc, struct base_str *set, size_t *n, struct base_str v,
           const char *where)
{
    if (*n >= GW_POLICY_MAX_SET)
        return base_err_set(cc->err, BASE_E_LIMIT, "too-costly", where,
                            "consent provision lists more than %u values", GW_POLICY_MAX_SET);
    set[(*n)++] = v;
    return BASE_OK;
}

static int
read_conditions(struct compiler *cc, const json_t *prov, struct gw_policy__rule *r)
{
    const json_t *actors = json_object_get(prov, "actor");
    const json_t *labels = json_object_get(prov, "securityLabel");
    const json_t *classes = json_object_get(prov, "class");

    for (size_t i = 0; i < json_array_size(actors); i++) {
        const json_t *actor = json_array_get(actors, i);
        struct base_str ref = fhir_json_str(json_object_get(json_object_get(actor, "reference"),
                                                            "reference"));
        struct base_str id;

        if (!concept_has(json_object_get(actor, "role"), V3_PARTICIPANT, "CST"))
            continue; /* only custodians narrow what is shared */
        if (organization_id(ref, &id))
            TRY(add_to_set(cc, r->members, &r->nmembers, id, "Consent.provision.actor"));
    }
    for (size_t i = 0; i < json_array_size(labels); i++) {
        struct base_str code = fhir_json_str(json_object_get(json_array_get(labels, i), "code"));

        if (code.len > 0)
            TRY(add_to_set(cc, r->labels, &r->nlabels, code, "Consent.provision.securityLabel"));
    }
    for (size_t i = 0; i < json_array_size(classes); i++) {
        struct base_str code = fhir_json_str(json_object_get(json_array_get(classes, i), "code"));

        if (code.len > 0)
            TRY(add_to_set(cc, r->types, &r->ntypes, code, "Consent.provision.class"));
    }
    return BASE_OK;
}

static int
compile_provision(struct compiler *cc, const json_t *prov, int parent, bool parent_deny,
                  bool default_deny, size_t depth)
{
    struct gw_policy_consent *out = cc->out;
    struct gw_policy__rule *r;
    const json_t *type = json_object_get(prov, "type");
    const json_t *nested = json_object_get(prov, "provision");
    int self;

    if (depth > GW_POLICY_MAX_DEPTH)
        return base_err_set(cc->err, BASE_E_LIMIT, "too-costly", "Consent.provision",
                            "consent provisions nest deeper than %u levels",
                            GW_POLICY_MAX_DEPTH);
    if (out->nrules >= GW_POLICY_MAX_RULES)
        return base_err_set(cc->err, BASE_E_LIMIT, "too-costly", "Consent.provision",
                            "consents hold more than %u provisions", GW_POLICY_MAX_RULES);
    self = (int)out->nrules++;
    r = &out->rules[self];
    memset(r, 0, sizeof(*r));
    r->parent = parent;
    r->consent = cc->consent_ix;
    if (type != NULL)
        r->deny = base_str_eq_cstr(fhir_json_str(type), "deny");
    else
        r->deny = parent < 0 ? default_deny : !parent_deny; /* nested: opposite of parent */
    /* A rule outside its period does not apply; for a root that means the
     * consent says nothing, for a nested rule that its parent decides. */
    r->in_force = period_contains(json_object_get(prov, "period"), cc->now_us);
    TRY(read_conditions(cc, prov, r));
    for (size_t i = 0; i < json_array_size(nested); i++)
        TRY(compile_provision(cc, json_array_get(nested, i), self, r->deny, false, depth + 1));
    return BASE_OK;
}

static bool
is_privacy_consent(const json_t *c)
{
    const json_t *scope = json_object_get(c, "scope");

    /* R4 requires scope; a consent about research or treatment decisions
     * says nothing about sharing records. */
    return scope != NULL && concept_has(scope, CONSENT_SCOPE, "patient-privacy");
}

static int
compile_one(struct compiler *cc, const json_t *c)
{
    const json_t *policy = json_object_get(c, "policyRule");
    const json_t *prov = json_object_get(c, "provision");
    bool default_deny;

    if (!base_str_eq_cstr(fhir_json_str(json_object_get(c, "resourceType")), "Consent"))
        return base_err_set(cc->err, BASE_E_INVALID, "invalid", "Consent",
                            "resource is not a Consent");
    if (!base_str_eq_cstr(fhir_json_str(json_object_get(c, "status")), "active") ||
        !is_privacy_consent(c))
        return BASE_OK;
    default_deny = concept_has(policy, V3_ACTCODE, "OPTOUT") ||
                   concept_has(policy, V3_ACTCODE, "OPTOUTE");
    if (prov == NULL && !default_deny)
        return BASE_OK; /* no provision and no opt-out: nothing narrowed */
    /* json_object_get(NULL, …) is NULL, so a missing provision compiles to
     * an unconditional rule decided by the policy rule alone. */
    return compile_provision(cc, prov, -1, false, default_deny, 0);
}

int
gw_policy_consent_compile(struct base_arena *a, const json_t *const *consents, size_t n,
                          int64_t now_us, struct gw_policy_consent **out, struct base_err *err)
{
    struct compiler cc = {a, NULL, now_us, 0, err};

    *out = NULL;
    if (n > GW_POLICY_MAX_CONSENTS)
        return base_err_set(err, BASE_E_LIMIT, "too-costly", "Consent",
                            "patient has more than %u consents", GW_POLICY_MAX_CONSENTS);
    cc.out = BASE_NEW(a, struct gw_policy_consent);
    if (cc.out == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        cc.consent_ix = i;
        TRY(compile_one(&cc, consents[i]));
    }
    cc.out->nconsents = n;
    *out = cc.out;
    return BASE_OK;
}
