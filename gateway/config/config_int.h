/* gateway/config/config_int.h — internals of gateway/config. */
#ifndef GATEWAY_CONFIG_CONFIG_INT_H
#define GATEWAY_CONFIG_CONFIG_INT_H

#include "fhir/base/conf.h"
#include "gateway/config/gw_config.h"

/* The schema of the gateway's config file. */
const struct base_conf_schema *gw_config__schema(void);

#endif /* GATEWAY_CONFIG_CONFIG_INT_H */
