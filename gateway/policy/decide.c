/*
 * Request, member and entry decisions over compiled consents.
 */
#include "gateway/policy/gw_policy.h"

#include "gateway/policy/policy_int.h"

const char *
gw_policy_reason_code(enum gw_policy_reason r)
{
    switch (r) {
    case GW_POLICY_R_NONE:
        return "none";
    case GW_POLICY_R_ROLE:
        return "role";
    case GW_POLICY_R_NOT_MEMBER:
        return "not-member";
    case GW_POLICY_R_PURPOSE:
        return "purpose";
    case GW_POLICY_R_NOT_OWN:
        return "not-own-record";
    case GW_POLICY_R_REASON:
        return "break-glass-reason";
    case GW_POLICY_R_CONSENT:
        return "consent";
    default:
        return "unknown";
    }
}

const char *
gw_policy_reason_message(enum gw_policy_reason r)
{
    switch (r) {
    case GW_POLICY_R_ROLE:
        return "this role may not access clinical records";
    case GW_POLICY_R_NOT_MEMBER:
        return "the caller's organization is not an active member of the region";
    case GW_POLICY_R_PURPOSE:
        return "the purpose of use is not permitted for this role";
    case GW_POLICY_R_NOT_OWN:
        return "patients may access only their own record";
    case GW_POLICY_R_REASON:
        return "emergency access requires a reason of at least 8 characters";
    case GW_POLICY_R_CONSENT:
        return "access withheld by the patient's consent; emergency access (break-the-glass) "
               "with a reason may be requested";
    case GW_POLICY_R_NONE:
    default:
        return "access denied";
    }
}

bool
gw_policy_reason_ok(struct base_str reason)
{
    struct base_str t = base_str_trim(reason);
    size_t chars = 0;

    if (t.len == 0 || t.len > GW_POLICY_MAX_REASON || !base_utf8_valid(t.ptr, t.len, NULL))
        return false;
    for (size_t i = 0; i < t.len; i++) {
        unsigned char c = (unsigned char)t.ptr[i];

        if (c < 0x20 || c == 0x7f)
            return false; /* no control characters in what regulators read */
        if ((c & 0xC0) != 0x80)
            chars++;
    }
    /* A Chinese reason is short in characters: count characters, and let
     * three CJK characters (9 bytes) count as meaningful. */
    return chars >= GW_POLICY_MIN_REASON || t.len >= 9;
}

static bool
set_has(const struct base_str *set, size_t n, struct base_str v)
{
    for (size_t i = 0; i < n; i++) {
        if (base_str_eq(set[i], v))
            return true;
    }
    return false;
}

struct entry {
    struct base_str member;
    struct base_str type;
    const struct base_str *labels;
    size_t nlabels;
};

static bool
rule_matches(const struct gw_policy__rule *r, const struct entry *e)
{
    bool label_hit = r->nlabels == 0;

    if (!r->in_force)
        return false;
    if (r->nmembers > 0 && !set_has(r->members, r->nmembers, e->member))
        return false;
    if (r->ntypes > 0 && !set_has(r->types, r->ntypes, e->type))
        return false;
    for (size_t i = 0; i < e->nlabels && !label_hit; i++)
        label_hit = set_has(r->labels, r->nlabels, e->labels[i]);
    return label_hit;
}

/* The deepest matching rules under `ix` decide; among siblings a deny wins.
 * Depth is bounded by GW_POLICY_MAX_DEPTH at compile time. */
static bool
eval_denies(const struct gw_policy_consent *c, size_t ix, const struct entry *e)
{
    bool any_child = false;
    bool child_denies = false;

    for (size_t k = ix + 1; k < c->nrules; k++) {
        if (c->rules[k].parent != (int)ix || !rule_matches(&c->rules[k], e))
            continue;
        any_child = true;
        if (eval_denies(c, k, e))
            child_denies = true;
    }
    return any_child ? child_denies : c->rules[ix].deny;
}

static bool
entry_denied(const struct gw_policy_consent *c, const struct entry *e)
{
    if (c == NULL)
        return false;
    for (size_t i = 0; i < c->nrules; i++) {
        if (c->rules[i].parent == -1 && rule_matches(&c->rules[i], e) && eval_denies(c, i, e))
            return true;
    }
    return false;
}

static bool
has_permit_below(const struct gw_policy_consent *c, size_t ix)
{
    for (size_t k = ix + 1; k < c->nrules; k++) {
        size_t p = k;

        if (c->rules[k].deny || !c->rules[k].in_force)
            continue;
        while (c->rules[p].parent >= 0 && (size_t)c->rules[p].parent != ix)
            p = (size_t)c->rules[p].parent;
        if (c->rules[p].parent == (int)ix)
            return true;
    }
    return false;
}

bool
gw_policy_consent_opts_out(const struct gw_policy_consent *c)
{
    for (size_t i = 0; c != NULL && i < c->nrules; i++) {
        const struct gw_policy__rule *r = &c->rules[i];

        if (r->parent == -1 && r->in_force && r->deny && r->nmembers == 0 && r->nlabels == 0 &&
            r->ntypes == 0 && !has_permit_below(c, i))
            return true;
    }
    return false;
}

bool
gw_policy_consent_restricts(const struct gw_policy_consent *c)
{
    for (size_t i = 0; c != NULL && i < c->nrules; i++) {
        if (c->rules[i].deny && c->rules[i].in_force)
            return true;
    }
    return false;
}

static bool
clinical_role_ok(const struct gw_policy_request *req, struct gw_policy_decision *out)
{
    switch (req->role) {
    case GW_AUTH_ROLE_CLINICIAN:
        if (!req->org_is_active_member) {
            out->reason = GW_POLICY_R_NOT_MEMBER;
            return false;
        }
        return true;
    case GW_AUTH_ROLE_PATIENT:
        if (!req->is_own_record) {
            out->reason = GW_POLICY_R_NOT_OWN;
            return false;
        }
        return true;
    case GW_AUTH_ROLE_MEMBER_SYSTEM:
        return true;
    case GW_AUTH_ROLE_REGULATOR:
    case GW_AUTH_ROLE_ADMIN:
    case GW_AUTH_ROLE_NONE:
    default:
        out->reason = GW_POLICY_R_ROLE;
        return false;
    }
}

static bool
purpose_ok(const struct gw_policy_request *req)
{
    switch (req->pou) {
    case GW_AUTH_POU_TREAT:
    case GW_AUTH_POU_COC:
    case GW_AUTH_POU_CAREMGT:
        return req->role == GW_AUTH_ROLE_CLINICIAN || req->role == GW_AUTH_ROLE_MEMBER_SYSTEM;
    case GW_AUTH_POU_ETREAT:
    case GW_AUTH_POU_BTG:
    case GW_AUTH_POU_ERTREAT:
        return req->role == GW_AUTH_ROLE_CLINICIAN;
    case GW_AUTH_POU_PATRQT:
        return req->role == GW_AUTH_ROLE_PATIENT;
    default:
        return false;
    }
}

void
gw_policy_decide(const struct gw_policy_request *req, const struct gw_policy_consent *consent,
                 struct gw_policy_decision *out)
{
    out->verdict = GW_POLICY_DENY;
    out->reason = GW_POLICY_R_NONE;
    out->btg = false;
    out->consent_overridden = false;
    out->unrestricted = false;
    if (!clinical_role_ok(req, out))
        return;
    if (!purpose_ok(req)) {
        out->reason = GW_POLICY_R_PURPOSE;
        return;
    }
    out->btg = gw_auth_pou_is_emergency(req->pou);
    if (out->btg && !gw_policy_reason_ok(req->reason)) {
        out->reason = GW_POLICY_R_REASON;
        out->btg = false;
        return;
    }
    /* Patients always see their own record; consent governs sharing with others. */
    if (req->role == GW_AUTH_ROLE_PATIENT || !gw_policy_consent_restricts(consent)) {
        out->verdict = out->btg ? GW_POLICY_ALLOW_BTG : GW_POLICY_ALLOW;
        out->unrestricted = true;
        return;
    }
    if (out->btg) {
        out->verdict = GW_POLICY_ALLOW_BTG;
        out->consent_overridden = true;
        out->unrestricted = true;
        return;
    }
    if (gw_policy_consent_opts_out(consent)) {
        out->reason = GW_POLICY_R_CONSENT;
        return;
    }
    out->verdict = GW_POLICY_ALLOW; /* entries are filtered one by one */
}

bool
gw_policy_member_denied(const struct gw_policy_consent *c, const struct gw_policy_decision *d,
                        struct base_str member_id)
{
    if (d->verdict == GW_POLICY_DENY)
        return true;
    if (d->unrestricted || c == NULL)
        return false;
    for (size_t i = 0; i < c->nrules; i++) {
        const struct gw_policy__rule *r = &c->rules[i];

        if (r->parent == -1 && r->in_force && r->deny && r->nlabels == 0 && r->ntypes == 0 &&
            (r->nmembers == 0 || set_has(r->members, r->nmembers, member_id)) &&
            !has_permit_below(c, i))
            return true;
    }
    return false;
}

bool
gw_policy_entry_allowed(const struct gw_policy_consent *c, const struct gw_policy_decision *d,
                        struct base_str member_id, struct base_str resource_type,
                        const struct base_str *labels, size_t nlabels)
{
    struct entry e = {member_id, resource_type, labels, nlabels};

    if (d->verdict == GW_POLICY_DENY)
        return false;
    if (d->unrestricted)
        return true;
    return !entry_denied(c, &e);
}
