/*
 * adapters/facade/adapter_facade.h — the adapter's HTTPS face.
 *
 * FHIR R4 over HTTPS with mutual TLS (gateway/http): client certificates
 * only from the region CA; data only to the identity configured as the
 * gateway (subject CN, and SHA-256 fingerprint when configured); everyone
 * else gets 403 with an OperationOutcome.
 *
 *   GET  /fhir/metadata                   CapabilityStatement (any region client)
 *   GET  /fhir/TYPE/ID[/_history/V]       read, vread                (gateway)
 *   GET  /fhir/TYPE?…                     search, paging             (gateway)
 *   GET  /fhir/Patient/ID/$everything     paged, bounded             (gateway)
 *   POST /ingest/hl7v2 | cda | csv?mapping=NAME                (ingest clients)
 *   GET  /admin/codemap-report            code-mapping report (gateway, admins)
 *   GET  /metrics                         Prometheus text     (gateway, admins)
 *   GET  /healthz                         any region client
 *
 * docs/design/adapter.md lists the search parameters and their semantics.
 */
#ifndef ADAPTERS_FACADE_ADAPTER_FACADE_H
#define ADAPTERS_FACADE_ADAPTER_FACADE_H

#include "adapters/daemon/adapter_daemon.h"
#include "fhir/base/compat.h"
#include "fhir/base/err.h"

struct adapter_facade;

/* Start the HTTPS server on the daemon's [http] settings.  The daemon must
 * outlive the facade.  Errors as gw_http_server_start(). */
BASE_MUST_CHECK int adapter_facade_start(struct adapter_daemon *d, struct adapter_facade **out,
                                         struct base_err *err);

/* The TCP port the facade listens on. */
unsigned adapter_facade_port(const struct adapter_facade *f);

/* Graceful stop: no new connections, requests in flight finish (up to
 * deadline_ms), then the server closes.  `f` is invalid afterwards. */
void adapter_facade_stop(struct adapter_facade *f, unsigned deadline_ms);

/* The CapabilityStatement this adapter serves (new reference; NULL when
 * out of memory).  Exposed for tests (it must validate). */
json_t *adapter_facade_capability(const struct adapter_config *cfg);

#endif /* ADAPTERS_FACADE_ADAPTER_FACADE_H */
