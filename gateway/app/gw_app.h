/*
 * gateway/app/gw_app.h — the gateway daemon: wires configuration, database,
 * audit trail, authentication, policy, MPI, registry, federation and the
 * HTTP server into bin/fhirgate-gateway (docs/design/gateway.md; the HTTP
 * contract is docs/design/gateway-api.md).
 */
#ifndef GATEWAY_APP_GW_APP_H
#define GATEWAY_APP_GW_APP_H

#include <jansson.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"

struct gw_app;
struct gw_config;

/*
 * Start everything, in order: database (the embedded cluster under the
 * state folder when no URL is configured; migrations applied or checked),
 * audit writers, signing keys, registry (seeded from the config), the
 * federation engine, the background loop (probes, identity pull) and last
 * the HTTP server.  `cfg` must outlive the app.  On failure nothing keeps
 * running and err says which step failed (never a secret).
 */
BASE_MUST_CHECK int gw_app_start(const struct gw_config *cfg, struct gw_app **out,
                                 struct base_err *err);

/* The port the server listens on. */
unsigned gw_app_port(const struct gw_app *app);

/*
 * Graceful stop: stop accepting, let requests in flight (suspended ones
 * too) finish within the configured grace, stop the background loop and
 * the federation engine, flush the audit trail (a last signed checkpoint),
 * close the pools.  NULL is a no-op.
 */
void gw_app_stop(struct gw_app *app);

/* The CapabilityStatement GET /fhir/metadata answers (new reference). */
json_t *gw_app_capability_statement(const struct gw_config *cfg);

/* Its terse form, GET /fhir/metadata?mode=terse (R4 http.html#capabilities):
 * the statement's identity, kind, software, fhirVersion and formats, and one
 * rest entry with its mode, security (how to get a token) and, for each
 * resource, only type and interaction; tagged SUBSETTED.  `full` is
 * borrowed; new reference, NULL when out of memory. */
json_t *gw_app_capability_terse(const json_t *full);

#endif /* GATEWAY_APP_GW_APP_H */
