/*
 * The demo's consents: FHIR R4 Consent resources, scope patient-privacy,
 * shaped for the semantics gateway/policy/gw_policy.h applies:
 *   - opt-out: policyRule OPTOUT and an unconditional deny;
 *   - withhold a member: policyRule OPTIN (the region shares for treatment)
 *     and a deny whose actor is the custodian (role CST)
 *     Organization/hosp-b — the gateway then does not even ask hosp-b;
 *   - withhold a category: the same with provision.securityLabel PSY (the
 *     label adapters/label puts on F00-F99 diagnoses).
 * The patient is named by the resident identity number (a logical
 * reference: consents are regional, the person's local ids differ by
 * member).
 */
#include <stdio.h>
#include <string.h>

#include "fhir/json/fhir_json.h"
#include "gateway/demo/demo_int.h"

#define ACTCODE "http://terminology.hl7.org/CodeSystem/v3-ActCode"

static const char *
kind_name(enum demo_consent_kind k)
{
    switch (k) {
    case DEMO_CONSENT_OPTOUT:
        return "opt-out";
    case DEMO_CONSENT_DENY_MEMBER:
        return "deny-member";
    case DEMO_CONSENT_DENY_PSY:
        return "deny-label";
    case DEMO_CONSENT_STAR:
        return "shared-patient-deny-label";
    case DEMO_CONSENT_NONE:
    default:
        return "none";
    }
}

static const char *
display_name(const struct demo_person *p)
{
    for (int m = 0; m < DEMO_N_MEMBERS; m++) {
        if (p->rec[m] != NULL && !p->rec[m]->name.latin)
            return p->rec[m]->name.text;
    }
    for (int m = 0; m < DEMO_N_MEMBERS; m++) {
        if (p->rec[m] != NULL)
            return p->rec[m]->name.text;
    }
    return "";
}

/* The base rule is the region's (sharing for treatment, policyRule OPTIN);
 * the provision is the exception: a deny, unconditional (opt-out), for one
 * custodian, or for one sensitivity label. */
static json_t *
provision(const struct demo_person *p)
{
    switch (p->consent) {
    case DEMO_CONSENT_OPTOUT:
        return json_pack("{s:s}", "type", "deny");
    case DEMO_CONSENT_DENY_MEMBER:
        return json_pack("{s:s, s:[{s:{s:[{s:s, s:s, s:s}]}, s:{s:s, s:s}}]}", "type", "deny",
                         "actor", "role", "coding", "system",
                         "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code",
                         "CST", "display", "custodian", "reference", "reference",
                         "Organization/hosp-b", "display", demo_members[DEMO_HOSP_B].name);
    default:
        return json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "type", "deny", "securityLabel", "system",
                         ACTCODE, "code", "PSY", "display",
                         "psychiatry disorder information sensitivity");
    }
}

static const char *
narrative(enum demo_consent_kind k)
{
    switch (k) {
    case DEMO_CONSENT_OPTOUT:
        return "<div "
               "xmlns=\"http://www.w3.org/1999/xhtml\"><p>患者拒绝通过区域平台共享其健康记录。</"
               "p></div>";
    case DEMO_CONSENT_DENY_MEMBER:
        return "<div "
               "xmlns=\"http://www.w3.org/1999/"
               "xhtml\"><p>患者同意共享健康记录，但不共享演示医科大学附属医院保存的记录。</p></"
               "div>";
    default:
        return "<div "
               "xmlns=\"http://www.w3.org/1999/"
               "xhtml\"><p>患者同意共享健康记录，但不共享精神心理类敏感信息。</p></div>";
    }
}

static json_t *
consent(const struct demo_region *r, const struct demo_person *p, int n)
{
    char id[32];
    char when[40];
    int ymd = demo_ymd(r->end_day - 30 - 61 * n);

    snprintf(id, sizeof(id), "demo-consent-%02d", n);
    snprintf(when, sizeof(when), "%04d-%02d-%02dT10:00:00+08:00", ymd / 10000, ymd / 100 % 100,
             ymd % 100);
    return json_pack(
        "{s:s, s:s, s:{s:s, s:s}, s:s, s:{s:[{s:s, s:s, s:s}]}, s:[{s:[{s:s, s:s, s:s}]}],"
        " s:{s:{s:s, s:s}, s:s}, s:s, s:[{s:s, s:s}], s:{s:[{s:s, s:s}]}, s:o}",
        "resourceType", "Consent", "id", id, "text", "status", "generated", "div",
        narrative(p->consent), "status", "active", "scope", "coding", "system",
        "http://terminology.hl7.org/CodeSystem/consentscope", "code", "patient-privacy", "display",
        "Privacy Consent", "category", "coding", "system", "http://loinc.org", "code", "59284-0",
        "display", "Patient Consent", "patient", "identifier", "system", DEMO_RESID_SYSTEM, "value",
        p->resid, "display", display_name(p), "dateTime", when, "organization", "reference",
        "Organization/hosp-a", "display", demo_members[DEMO_HOSP_A].name, "policyRule", "coding",
        "system", ACTCODE, "code", p->consent == DEMO_CONSENT_OPTOUT ? "OPTOUT" : "OPTIN",
        "provision", provision(p));
}

int
demo_consent_write_all(const struct demo_region *r, struct demo_out *o, json_t *list,
                       struct base_err *err)
{
    static const enum demo_consent_kind order[] = {DEMO_CONSENT_OPTOUT, DEMO_CONSENT_DENY_MEMBER,
                                                   DEMO_CONSENT_DENY_PSY, DEMO_CONSENT_STAR};
    struct base_buf b;
    int n = 0;
    int rc = BASE_OK;

    base_buf_init(&b, 1u << 20);
    for (size_t k = 0; k < BASE_ARRAY_LEN(order) && rc == BASE_OK; k++) {
        for (size_t i = 0; i < r->n_persons && rc == BASE_OK; i++) {
            const struct demo_person *p = &r->persons[i];
            char file[64];
            char pid[16];
            json_t *c;

            if (p->consent != order[k])
                continue;
            c = consent(r, p, ++n);
            snprintf(file, sizeof(file), "consents/%02d-%s.json", n, kind_name(p->consent));
            snprintf(pid, sizeof(pid), "P%04zu", p->index + 1);
            base_buf_reset(&b);
            rc = c != NULL && fhir_json_dump(c, FHIR_JSON_PRETTY, &b, err) == BASE_OK
                     ? demo_write(o, file, b.data, b.len, err)
                     : base_err_set(err, BASE_E_NOMEM, "exception", "consent", "out of memory");
            json_decref(c);
            if (rc == BASE_OK &&
                json_array_append_new(
                    list,
                    json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?}", "file", file, "kind",
                              kind_name(p->consent), "person", pid, "resident_id", p->resid,
                              "withholds_member",
                              p->consent == DEMO_CONSENT_DENY_MEMBER ? "hosp-b" : NULL,
                              "withholds_label",
                              p->consent == DEMO_CONSENT_DENY_PSY || p->consent == DEMO_CONSENT_STAR
                                  ? "PSY"
                                  : NULL)) != 0)
                rc = base_err_set(err, BASE_E_NOMEM, "exception", "consent", "out of memory");
        }
    }
    base_buf_fini(&b);
    return rc;
}
