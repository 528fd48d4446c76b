/*
 * gateway/policy/gw_policy.h — who may see what, decided before and while
 * a federated answer is assembled.
 *
 * Three questions, in the order the gateway asks them:
 *   1. gw_policy_decide(): may this principal, for this purpose, look at
 *      this person's record at all?  (role, purpose of use, break-the-glass
 *      reason, the patient's consents, own-record rule for patients)
 *   2. gw_policy_member_denied(): should a member not even be asked,
 *      because the patient's consent withholds everything it holds?
 *   3. gw_policy_entry_allowed(): may this one returned entry (from this
 *      member, of this type, with these security labels) be shown?
 *
 * Consents are FHIR R4 Consent resources (scope patient-privacy) compiled
 * once per request with gw_policy_consent_compile().  The region's default
 * is sharing for treatment (an opt-out model, as in the regional platforms
 * this gateway serves); a Consent narrows it:
 *   - policyRule OPTOUT (or provision.type deny) with no conditions: no
 *     sharing at all;
 *   - a provision whose actor has role CST (custodian) and references
 *     Organization/<member id>: the rule covers data held by that member;
 *   - provision.securityLabel (v3 ActCode sensitivity codes such as PSY,
 *     HIV, ETH, SEX, STD, SDV): the rule covers data carrying those labels;
 *   - provision.class (resource types): the rule covers those types;
 *   - nested provisions refine their parent: the deepest matching rule
 *     decides (R4 Consent: nested rules are exceptions to their parent);
 *     a nested rule without a type is the opposite of its parent.
 * When several consents apply, a deny from any of them wins.
 * Break-the-glass (an emergency purpose with a reason) overrides consent
 * denials; it never overrides role or purpose checks.
 */
#ifndef GATEWAY_POLICY_GW_POLICY_H
#define GATEWAY_POLICY_GW_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"
#include "fhir/base/str.h"
#include "gateway/auth/gw_auth.h"

struct base_arena;

#define GW_POLICY_MAX_CONSENTS   32u  /* active consents considered per patient */
#define GW_POLICY_MAX_RULES      64u  /* provisions (all levels) per patient */
#define GW_POLICY_MAX_SET        16u  /* members / labels / types per provision */
#define GW_POLICY_MAX_DEPTH      4u   /* nesting of provisions */
#define GW_POLICY_MAX_REASON     500u /* bytes of a break-the-glass reason */
#define GW_POLICY_MIN_REASON     8u   /* characters of a meaningful reason */

/* The compiled consents of one patient (opaque; lives in the arena). */
struct gw_policy_consent;

/*
 * Compile the patient's Consent resources.  Inactive consents (status other
 * than active) and consents whose provision.period does not contain `now_us`
 * (UTC microseconds) are ignored.  `consents` may be empty (NULL, 0): the
 * region default applies.  BASE_E_LIMIT beyond the GW_POLICY_MAX_* bounds
 * (fail closed: the caller must not share), BASE_E_INVALID for a Consent
 * that is not one (location "Consent[i].…"), BASE_E_NOMEM.
 */
BASE_MUST_CHECK int gw_policy_consent_compile(struct base_arena *a, const json_t *const *consents,
                                              size_t n, int64_t now_us,
                                              struct gw_policy_consent **out,
                                              struct base_err *err);

/* True when some consent withholds all sharing (an unconditional deny). */
bool gw_policy_consent_opts_out(const struct gw_policy_consent *c);
/* True when some consent restricts anything at all. */
bool gw_policy_consent_restricts(const struct gw_policy_consent *c);

enum gw_policy_verdict {
    GW_POLICY_DENY = 0,
    GW_POLICY_ALLOW,
    GW_POLICY_ALLOW_BTG /* allowed only because of break-the-glass: flag it */
};

/* Why a request was denied (stable codes for audit and the portal). */
enum gw_policy_reason {
    GW_POLICY_R_NONE = 0,
    GW_POLICY_R_ROLE,          /* this role never sees clinical data */
    GW_POLICY_R_NOT_MEMBER,    /* the clinician's organization is not an active member */
    GW_POLICY_R_PURPOSE,       /* purpose of use not allowed for this role */
    GW_POLICY_R_NOT_OWN,       /* a patient asked for someone else's record */
    GW_POLICY_R_REASON,        /* break-the-glass without a usable reason */
    GW_POLICY_R_CONSENT        /* the patient's consent withholds sharing */
};

struct gw_policy_request {
    enum gw_auth_role role;
    bool org_is_active_member; /* clinician: their organization is an active member */
    enum gw_auth_pou pou;      /* purpose of use in force for this request */
    struct base_str reason;    /* break-the-glass reason (may be empty) */
    bool is_own_record;        /* patient role: the record is the caller's own */
};

struct gw_policy_decision {
    enum gw_policy_verdict verdict;
    enum gw_policy_reason reason; /* set when verdict is DENY */
    bool btg;                     /* an emergency purpose is in force */
    bool consent_overridden;      /* btg lifted a consent restriction */
    bool unrestricted;            /* no entry filtering needed */
};

/* Stable code ("consent", "purpose", …) and a client-safe sentence. */
const char *gw_policy_reason_code(enum gw_policy_reason r);
const char *gw_policy_reason_message(enum gw_policy_reason r);

/*
 * Decide a request for clinical data about one person.  `consent` may be
 * NULL (no consents on file).  Never fails: the result is in *out.
 */
void gw_policy_decide(const struct gw_policy_request *req, const struct gw_policy_consent *consent,
                      struct gw_policy_decision *out);

/* Is a break-the-glass reason usable (length, printable UTF-8, not blank)? */
bool gw_policy_reason_ok(struct base_str reason);

/*
 * Should `member_id` be left out of the fan-out because the consent
 * withholds everything it holds (and no break-the-glass is in force)?
 */
bool gw_policy_member_denied(const struct gw_policy_consent *c, const struct gw_policy_decision *d,
                             struct base_str member_id);

/*
 * May an entry from `member_id` of `resource_type` carrying `labels`
 * (meta.security codes; system-less comparison of v3 codes) be shown?
 */
bool gw_policy_entry_allowed(const struct gw_policy_consent *c, const struct gw_policy_decision *d,
                             struct base_str member_id, struct base_str resource_type,
                             const struct base_str *labels, size_t nlabels);

#endif /* GATEWAY_POLICY_GW_POLICY_H */
