/*
 * adapters/facade/facade_int.h — shared by the facade's handler files.
 */
#ifndef ADAPTERS_FACADE_FACADE_INT_H
#define ADAPTERS_FACADE_FACADE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "adapters/facade/adapter_facade.h"
#include "adapters/store/adapter_store.h"
#include "fhir/base/buf.h"
#include "fhir/bundle/fhir_bundle.h"
#include "gateway/db/gw_db.h"
#include "gateway/http/gw_http.h"

struct adapter_facade {
    struct adapter_daemon *d;
    const struct adapter_config *cfg;
    struct gw_http_config http; /* the daemon's [http] plus routes and serializers */
    struct gw_http_server *srv;
};

/* Resource types: searchable (issue #3's list) and readable (those plus
 * what $everything includes). */
extern const char *const adapter_facade_search_types[];
extern const size_t adapter_facade_search_type_count;
extern const char *const adapter_facade_read_types[];
extern const size_t adapter_facade_read_type_count;
bool adapter_facade__type_in(const char *const *set, size_t n, struct base_str type);

/* Authorization; each answers 403 (OperationOutcome) itself and returns
 * false when the client may not. */
bool adapter_facade__allow_data(struct gw_http_req *r, struct adapter_facade *f);
bool adapter_facade__allow_admin(struct gw_http_req *r, struct adapter_facade *f);
bool adapter_facade__allow_ingest(struct gw_http_req *r, struct adapter_facade *f);

/* A pooled connection, or NULL after answering 503. */
struct gw_db_conn *adapter_facade__db(struct gw_http_req *r, struct adapter_facade *f);

/* Answer FHIR JSON text (a resource or Bundle, in the request's arena or
 * static): sent as is when JSON was asked for, else parsed and negotiated
 * (XML, _pretty). */
void adapter_facade__send_text(struct gw_http_req *r, unsigned status, const char *json,
                               size_t len);
/* An error as an OperationOutcome; a parse/validation problem of the
 * query is a 400 (never 406). */
void adapter_facade__fail(struct gw_http_req *r, const struct base_err *err);

/* ---- a page of results as a searchset Bundle (page.c) ---- */

struct adapter_page_row {
    const char *type;
    const char *id;
    const char *json; /* stored JSON text, or NULL with `tree` */
    size_t len;
    const json_t *tree; /* a resource built here (live PACS answers) */
    int64_t last_updated_us;
    enum fhir_bundle_mode mode;
};

struct adapter_page {
    struct base_arena *a;
    struct adapter_page_row *rows;
    size_t n;
    size_t cap;
};

/* Room for `cap` rows (plus one) in `a`.  BASE_E_NOMEM. */
int adapter_facade__page_init(struct adapter_page *p, struct base_arena *a, size_t cap);
/* adapter_store_row_fn: copy a streamed row into the page. */
int adapter_facade__page_row(void *ctx, const struct adapter_store_row *row,
                             enum fhir_bundle_mode mode);
/* Add a resource tree (borrowed: it must live as long as the page). */
int adapter_facade__page_tree(struct adapter_page *p, const json_t *res,
                              enum fhir_bundle_mode mode);
/* The searchset Bundle: entries (fullUrl base/Type/id), then `outcome` (may
 * be NULL) as an entry with search.mode = outcome. */
int adapter_facade__page_write(const struct adapter_page *p, const char *base,
                               const struct fhir_bundle_link *links, size_t n_links, bool has_total,
                               uint64_t total, const json_t *outcome, struct base_buf *out,
                               struct base_err *err);

/* Handlers. */
void adapter_facade__h_metadata(struct gw_http_req *r, void *cls);
void adapter_facade__h_read(struct gw_http_req *r, void *cls);
void adapter_facade__h_vread(struct gw_http_req *r, void *cls);
void adapter_facade__h_search(struct gw_http_req *r, void *cls);
void adapter_facade__h_search_post(struct gw_http_req *r, void *cls); /* POST [type]/_search */
void adapter_facade__h_everything(struct gw_http_req *r, void *cls);
void adapter_facade__h_ingest_hl7v2(struct gw_http_req *r, void *cls);
void adapter_facade__h_ingest_cda(struct gw_http_req *r, void *cls);
void adapter_facade__h_ingest_csv(struct gw_http_req *r, void *cls);
void adapter_facade__h_codemap(struct gw_http_req *r, void *cls);
void adapter_facade__h_metrics(struct gw_http_req *r, void *cls);

#endif /* ADAPTERS_FACADE_FACADE_INT_H */
