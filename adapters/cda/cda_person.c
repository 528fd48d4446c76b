/*
 * PN, AD and TEL (HL7 V3 Data Types R1) -> HumanName, Address, ContactPoint.
 *
 * Chinese documents (WS/T 500) usually write a name as plain text
 * (<name>张三</name>) and an address with the parts
 * state/city/county/township/streetName/houseNumber; both are kept.
 */
#include <string.h>

#include "adapters/cda/cda_int.h"

/* EntityNameUse -> FHIR name-use (C-CDA on FHIR). */
static const struct cda_pair name_use[] = {
    {"L", "official"}, {"OR", "official"},    {"C", "official"}, {"P", "nickname"},
    {"A", "nickname"}, {"ANON", "anonymous"}, {"ASGN", "usual"}, {"SRCH", "temp"},
};

/* PostalAddressUse -> FHIR address-use. */
static const struct cda_pair addr_use[] = {
    {"H", "home"},   {"HP", "home"},  {"HV", "home"}, {"WP", "work"}, {"DIR", "work"},
    {"PUB", "work"}, {"TMP", "temp"}, {"OLD", "old"}, {"BAD", "old"},
};

/* TelecommunicationAddressUse -> FHIR contact-point-use. */
static const struct cda_pair tel_use[] = {
    {"H", "home"},   {"HP", "home"},  {"HV", "home"},   {"WP", "work"},
    {"DIR", "work"}, {"PUB", "work"}, {"MC", "mobile"}, {"PG", "mobile"},
    {"TMP", "temp"}, {"BAD", "old"},  {"OLD", "old"},
};

/* URL scheme of a TEL value -> ContactPoint.system (RFC 3966 tel:, RFC 6068
 * mailto:, fax:, sms:, web). */
static const struct cda_pair tel_scheme[] = {
    {"tel:", "phone"}, {"mailto:", "email"}, {"fax:", "fax"},          {"sms:", "sms"},
    {"http:", "url"},  {"https:", "url"},    {"x-text-tel:", "phone"},
};

static bool
has_own_text(const xmlNode *n)
{
    for (const xmlNode *k = n->children; k != NULL; k = k->next) {
        if (k->type != XML_TEXT_NODE)
            continue;
        for (const xmlChar *p = k->content; p != NULL && *p != '\0'; p++) {
            if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
                return true;
        }
    }
    return false;
}

static int
name_parts(struct cda_ctx *c, json_t *hn, const xmlNode *pn, bool *any)
{
    static const struct cda_pair part_key[] = {
        {"given", "given"}, {"prefix", "prefix"}, {"suffix", "suffix"}};

    for (xmlNodePtr k = pn->children; k != NULL; k = k->next) {
        const char *key;
        const char *t;

        if (k->type != XML_ELEMENT_NODE)
            continue;
        t = cda_text(c, k);
        if (t[0] == '\0')
            continue;
        if (cda_is(k, "family")) {
            /* FHIR HumanName.family is 0..1: further family parts stay in text */
            if (json_object_get(hn, "family") == NULL)
                TRY(adapter_jset_str(hn, "family", t));
            *any = true;
            continue;
        }
        key = CDA_LOOKUP(part_key, (const char *)k->name);
        if (key == NULL || !cda_is(k, (const char *)k->name))
            continue;
        TRY(adapter_jpush(hn, key, json_string(t)));
        *any = true;
    }
    return BASE_OK;
}

json_t *
cda_human_name(struct cda_ctx *c, const xmlNode *pn)
{
    json_t *hn;
    bool any = false;
    const char *use;

    if (pn == NULL || cda_attr(c, pn, "nullFlavor") != NULL || cda_filler_text(cda_text(c, pn)))
        return NULL;
    hn = json_object();
    if (hn == NULL)
        goto nomem;
    use = CDA_LOOKUP(name_use, cda_attr(c, pn, "use"));
    if (adapter_jset_str(hn, "use", use) != BASE_OK || name_parts(c, hn, pn, &any) != BASE_OK)
        goto nomem;
    if (has_own_text(pn) || !any) {
        const char *t = cda_text(c, pn);

        if (t[0] == '\0') {
            json_decref(hn);
            return NULL;
        }
        if (adapter_jset_str(hn, "text", t) != BASE_OK)
            goto nomem;
    }
    return hn;
nomem:
    json_decref(hn);
    (void)cda_nomem(c);
    return NULL;
}

/* One address line from the detailed street parts, in document order. */
static int
street_line(struct cda_ctx *c, json_t *addr, const xmlNode *ad)
{
    static const char *const parts[] = {"township", "streetName", "houseNumber", "unitID"};
    char *line = NULL;

    for (xmlNodePtr k = ad->children; k != NULL; k = k->next) {
        bool want = false;

        for (size_t i = 0; i < BASE_ARRAY_LEN(parts); i++)
            want = want || cda_is(k, parts[i]);
        if (!want || cda_text(c, k)[0] == '\0' || cda_filler_text(cda_text(c, k)))
            continue;
        line = line == NULL ? base_arena_strdup(c->arena, cda_text(c, k))
                            : base_arena_sprintf(c->arena, "%s %s", line, cda_text(c, k));
        if (line == NULL)
            return BASE_E_NOMEM;
    }
    return line == NULL ? BASE_OK : adapter_jpush(addr, "line", json_string(line));
}

static int
address_parts(struct cda_ctx *c, json_t *addr, const xmlNode *ad)
{
    static const struct cda_pair simple[] = {
        {"city", "city"},       {"state", "state"},     {"postalCode", "postalCode"},
        {"country", "country"}, {"county", "district"}, {"precinct", "district"},
    };

    CDA_EACH(l, ad, "streetAddressLine")
    {
        const char *t = cda_text(c, l);

        if (t[0] != '\0' && !cda_filler_text(t))
            TRY(adapter_jpush(addr, "line", json_string(t)));
    }
    TRY(street_line(c, addr, ad));
    for (size_t i = 0; i < BASE_ARRAY_LEN(simple); i++) {
        xmlNodePtr k = cda_child(ad, simple[i].from);

        /* postalCode "-" or 无 (WS/T 500 generators): no postal code */
        if (k != NULL && json_object_get(addr, simple[i].to) == NULL &&
            !cda_filler_text(cda_text(c, k)))
            TRY(adapter_jset_str(addr, simple[i].to, cda_text(c, k)));
    }
    if (has_own_text(ad))
        TRY(adapter_jset_str(addr, "text", cda_text(c, ad)));
    return BASE_OK;
}

json_t *
cda_address(struct cda_ctx *c, const xmlNode *ad)
{
    json_t *addr;
    const char *use;

    if (ad == NULL || cda_attr(c, ad, "nullFlavor") != NULL)
        return NULL;
    addr = json_object();
    if (addr == NULL || address_parts(c, addr, ad) != BASE_OK)
        goto nomem;
    if (json_object_size(addr) == 0) {
        json_decref(addr);
        return NULL;
    }
    use = CDA_LOOKUP(addr_use, cda_attr(c, ad, "use"));
    if (adapter_jset_str(addr, "use", use) != BASE_OK)
        goto nomem;
    /* AD.useablePeriod: when the address held (athenahealth lists every
     * former address with its end); without it an old address reads as
     * the current one */
    json_t *period = cda_period(c, cda_child(ad, "useablePeriod"));
    if (period != NULL && adapter_jset(addr, "period", period) != BASE_OK)
        goto nomem;
    return addr;
nomem:
    json_decref(addr);
    (void)cda_nomem(c);
    return NULL;
}

/* A TEL value without a URL scheme (WS/T 500 exports write the bare
 * number, "13900000000"): an address is email, digits and punctuation a
 * phone, anything else "other". */
static const char *
schemeless_system(const char *v)
{
    size_t digits = 0;

    if (strchr(v, '@') != NULL && strchr(v, ' ') == NULL)
        return "email";
    for (const char *p = v; *p != '\0'; p++) {
        if (*p >= '0' && *p <= '9')
            digits++;
        else if (strchr("+-() .", *p) == NULL)
            return "other";
    }
    return digits >= 3 ? "phone" : "other";
}

json_t *
cda_contact(struct cda_ctx *c, const xmlNode *tel)
{
    const char *v = cda_attr(c, tel, "value");
    const char *system = "other";
    json_t *cp;

    if (v == NULL || v[0] == '\0' || cda_attr(c, tel, "nullFlavor") != NULL)
        return NULL;
    for (size_t i = 0; i < BASE_ARRAY_LEN(tel_scheme); i++) {
        size_t n = strlen(tel_scheme[i].from);

        if (strncmp(v, tel_scheme[i].from, n) == 0) {
            system = tel_scheme[i].to;
            /* keep the whole URL for web addresses, drop the scheme otherwise */
            if (strcmp(system, "url") != 0)
                v += n;
            break;
        }
    }
    while (*v == ' ')
        v++;
    if (cda_filler_text(v))
        return NULL;
    if (strcmp(system, "other") == 0)
        system = schemeless_system(v);
    cp = json_object();
    if (cp == NULL || adapter_jset_str(cp, "system", system) != BASE_OK ||
        adapter_jset_str(cp, "value", v) != BASE_OK ||
        adapter_jset_str(cp, "use", CDA_LOOKUP(tel_use, cda_attr(c, tel, "use"))) != BASE_OK) {
        json_decref(cp);
        (void)cda_nomem(c);
        return NULL;
    }
    if (json_object_get(cp, "value") == NULL) {
        json_decref(cp);
        return NULL;
    }
    return cp;
}

int
cda_add_demographics(struct cda_ctx *c, json_t *res, const xmlNode *names, const xmlNode *contacts)
{
    CDA_EACH(pn, names, "name")
    {
        json_t *hn = cda_human_name(c, pn);

        if (hn != NULL)
            TRY(adapter_jpush(res, "name", hn));
    }
    CDA_EACH(tel, contacts, "telecom")
    {
        json_t *cp = cda_contact(c, tel);

        if (cp != NULL)
            TRY(adapter_jpush(res, "telecom", cp));
    }
    CDA_EACH(ad, contacts, "addr")
    {
        json_t *a = cda_address(c, ad);

        if (a != NULL)
            TRY(adapter_jpush(res, "address", a));
    }
    return BASE_OK;
}
