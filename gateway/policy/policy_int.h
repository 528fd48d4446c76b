/* gateway/policy internals shared by consent.c and decide.c. */
#ifndef GATEWAY_POLICY_POLICY_INT_H
#define GATEWAY_POLICY_POLICY_INT_H

#include "gateway/policy/gw_policy.h"

struct gw_policy__rule {
    int parent;     /* index of the parent rule, -1 for a consent's root */
    size_t consent; /* which consent it came from */
    bool deny;      /* deny or permit when it applies */
    bool in_force;  /* its period contains now */
    struct base_str members[GW_POLICY_MAX_SET]; /* custodian member ids; none = any */
    size_t nmembers;
    struct base_str labels[GW_POLICY_MAX_SET]; /* security label codes; none = any */
    size_t nlabels;
    struct base_str types[GW_POLICY_MAX_SET]; /* resource types; none = any */
    size_t ntypes;
};

struct gw_policy_consent {
    struct gw_policy__rule rules[GW_POLICY_MAX_RULES]; /* pre-order: parents first */
    size_t nrules;
    size_t nconsents;
};

#endif /* GATEWAY_POLICY_POLICY_INT_H */
