/*
 * test/browser/member.c — a member hospital for the portal's browser tests
 * until the real adapter (bin/fhirgate-adapter) can be started by them.
 *
 * A real HTTPS FHIR R4 server built from the project's own parts:
 * gateway/http (libmicrohttpd + GnuTLS, mutual TLS required, the client
 * certificate must be the gateway's), fhir/json (the data file),
 * fhir/search (R4 search parameters parsed and matched, _sort, _count,
 * _offset) and fhir/bundle (searchset Bundles with next links).  It serves a
 * fixed set of resources from one file:
 *
 *   GET /fhir/metadata                      CapabilityStatement
 *   GET /fhir/TYPE?params                   searchset (the gateway's identity
 *                                           pull and its federated queries)
 *   GET /fhir/TYPE/ID                       read
 *   GET /fhir/Patient/ID/$everything        the patient's compartment
 *
 * usage: portal_member --id ID --data FILE --cert CRT --key KEY --ca CA
 *                      [--gateway-cn CN] [--port N] [--port-file FILE]
 * It prints "listening PORT" on stdout and runs until SIGTERM/SIGINT.
 * SIGUSR1 toggles a slow mode (every FHIR answer waits --slow-ms, default
 * 1000 ms) so tests can watch the portal while a member is still answering.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "fhir/base/arena.h"
#include "fhir/base/conf.h"
#include "fhir/base/err.h"
#include "fhir/bundle/fhir_bundle.h"
#include "fhir/json/fhir_json.h"
#include "fhir/search/fhir_search.h"
#include "gateway/http/gw_http.h"

#define MAX_DATA (64u << 20)

struct member {
    const char *id;
    const char *gateway_cn;
    json_t *resources; /* array of every resource served */
    char base[128];    /* https://127.0.0.1:PORT/fhir */
};

/* One handler at a time touches the data: jansson reference counts are not
 * atomic and the resources are shared between answers. */
static pthread_mutex_t serve_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t stop_flag;
static volatile sig_atomic_t slow_flag;
static unsigned slow_ms = 1000;

/* An answer that could not be queued: the client sees the connection
 * close; nothing else can be done from a handler. */
static void
sent(int rc)
{
    if (rc != BASE_OK)
        fprintf(stderr, "portal_member: could not queue an answer\n");
}

static void
on_signal(int sig)
{
    if (sig == SIGUSR1)
        slow_flag = !slow_flag;
    else
        stop_flag = 1;
}

/* Slow mode: wait before answering (outside the lock, so the pool threads
 * answer concurrent requests in parallel, as a real server would). */
static void
maybe_slow(void)
{
    if (slow_flag)
        usleep(slow_ms * 1000u);
}

/* Only the gateway may ask (docs/design/region.md "Trust"). */
static bool
caller_ok(struct gw_http_req *r, const struct member *m)
{
    const struct gw_http_client *c = gw_http_req_client(r);

    if (c->verified && c->subject_cn != NULL && strcmp(c->subject_cn, m->gateway_cn) == 0)
        return true;
    sent(gw_http_respond_outcome(r, 403, "security", NULL, "only the gateway may call"));
    return false;
}

static void
h_metadata(struct gw_http_req *r, void *cls)
{
    (void)cls;
    json_t *cs = json_pack("{s:s, s:s, s:s, s:s, s:[s], s:[{s:s, s:[{s:s}, {s:s}]}]}",
                           "resourceType", "CapabilityStatement", "status", "active", "kind",
                           "instance", "fhirVersion", "4.0.1", "format", "json", "rest", "mode",
                           "server", "interaction", "code", "search-type", "code", "read");
    if (cs == NULL || gw_http_respond_resource(r, 200, cs) != BASE_OK)
        sent(gw_http_respond_outcome(r, 500, "exception", NULL, "out of memory"));
    json_decref(cs);
}

struct sort_ctx {
    const struct fhir_search *s;
    struct base_arena *scratch;
};

static int
cmp_resources(const void *x, const void *y, void *cls)
{
    const struct sort_ctx *c = cls;

    return fhir_search_compare(c->s, *(json_t *const *)x, *(json_t *const *)y, c->scratch);
}

/* Every resource of `type` that satisfies `s`, sorted as asked. */
static int
select_matches(const struct member *m, const char *type, const struct fhir_search *s,
               struct base_arena *a, json_t ***out, size_t *n_out, struct base_err *err)
{
    size_t cap = json_array_size(m->resources);
    json_t **hits = BASE_NEW_N(a, json_t *, cap + 1);
    size_t n = 0;
    size_t i;
    json_t *res;

    if (hits == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "search", "out of memory");
    json_array_foreach(m->resources, i, res)
    {
        bool ok = false;
        if (strcmp(json_string_value(json_object_get(res, "resourceType")), type) != 0)
            continue;
        TRY(fhir_search_match(s, res, NULL, a, &ok, err));
        if (ok)
            hits[n++] = res;
    }
    if (s->n_sort > 0) {
        struct sort_ctx c = {s, a};
        qsort_r(hits, n, sizeof(*hits), cmp_resources, &c);
    }
    *out = hits;
    *n_out = n;
    return BASE_OK;
}

static json_t *
searchset(const struct member *m, const char *type, const struct fhir_search *s, json_t **hits,
          size_t n, struct base_arena *a)
{
    json_t *b = fhir_bundle_new(FHIR_BUNDLE_SEARCHSET, NULL, NULL);
    uint64_t end = s->offset + s->count;
    const char *q = fhir_search_canonical_query(a, s);

    if (b == NULL || q == NULL || fhir_bundle_set_total(b, n) != BASE_OK)
        goto fail;
    for (uint64_t i = s->offset; i < n && i < end; i++) {
        const char *id = json_string_value(json_object_get(hits[i], "id"));
        json_incref(hits[i]);
        if (fhir_bundle_add_entry(b, fhir_bundle_full_url(a, m->base, type, id), hits[i],
                                  FHIR_BUNDLE_MODE_MATCH, NULL) != BASE_OK)
            goto fail;
    }
    if (end < n) {
        const char *next = base_arena_sprintf(a, "%s/%s?%s%s_offset=%llu", m->base, type, q,
                                              q[0] != '\0' ? "&" : "", (unsigned long long)end);
        if (next == NULL || fhir_bundle_add_link(b, "next", next) != BASE_OK)
            goto fail;
    }
    return b;
fail:
    json_decref(b);
    return NULL;
}

static void
h_search(struct gw_http_req *r, void *cls)
{
    struct member *m = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct base_str type = gw_http_req_param(r, "type");
    struct base_str query = gw_http_req_query_string(r);
    struct fhir_search *s = NULL;
    struct base_err err = {0};
    json_t **hits = NULL;
    size_t n = 0;
    json_t *b;

    if (!caller_ok(r, m))
        return;
    maybe_slow();
    char *t = base_arena_strndup(a, type.ptr, type.len);
    if (t == NULL || !fhir_search_resource_known(t)) {
        sent(gw_http_respond_outcome(r, 404, "not-found", NULL, "unknown resource type"));
        return;
    }
    pthread_mutex_lock(&serve_lock);
    if (fhir_search_parse(a, t, query.ptr, query.len, NULL, &s, &err) != BASE_OK ||
        select_matches(m, t, s, a, &hits, &n, &err) != BASE_OK) {
        sent(gw_http_respond_error(r, &err));
    } else if ((b = searchset(m, t, s, hits, n, a)) == NULL) {
        sent(gw_http_respond_outcome(r, 500, "exception", NULL, "out of memory"));
    } else {
        sent(gw_http_respond_resource(r, 200, b));
        json_decref(b);
    }
    pthread_mutex_unlock(&serve_lock);
}

static const json_t *
find(const struct member *m, struct base_str type, struct base_str id)
{
    size_t i;
    json_t *res;

    json_array_foreach(m->resources, i, res)
    {
        const char *rt = json_string_value(json_object_get(res, "resourceType"));
        const char *rid = json_string_value(json_object_get(res, "id"));
        if (rt != NULL && rid != NULL && base_str_eq_cstr(type, rt) && base_str_eq_cstr(id, rid))
            return res;
    }
    return NULL;
}

static void
h_read(struct gw_http_req *r, void *cls)
{
    struct member *m = cls;
    const json_t *res;

    if (!caller_ok(r, m))
        return;
    pthread_mutex_lock(&serve_lock);
    res = find(m, gw_http_req_param(r, "type"), gw_http_req_param(r, "id"));
    if (res == NULL)
        sent(gw_http_respond_outcome(r, 404, "not-found", NULL, "no such resource"));
    else
        sent(gw_http_respond_resource(r, 200, res));
    pthread_mutex_unlock(&serve_lock);
}

/* $everything: the Patient and every resource whose search parameter
 * `patient` (or `subject`) names it. */
static void
h_everything(struct gw_http_req *r, void *cls)
{
    struct member *m = cls;
    struct base_arena *a = gw_http_req_arena(r);
    struct base_str id = gw_http_req_param(r, "id");
    struct base_err err = {0};
    json_t *b = fhir_bundle_new(FHIR_BUNDLE_SEARCHSET, NULL, NULL);
    size_t i;
    json_t *res;

    if (!caller_ok(r, m)) {
        json_decref(b);
        return;
    }
    pthread_mutex_lock(&serve_lock);
    const char *ref = base_arena_sprintf(a, "patient=Patient/%.*s", (int)id.len, id.ptr);
    json_array_foreach(m->resources, i, res)
    {
        const char *rt = json_string_value(json_object_get(res, "resourceType"));
        struct fhir_search *s = NULL;
        bool ok = false;
        if (strcmp(rt, "Patient") == 0) {
            ok = base_str_eq_cstr(id, json_string_value(json_object_get(res, "id")));
        } else if (fhir_search_param_find(rt, "patient", 7) != NULL &&
                   fhir_search_parse(a, rt, ref, strlen(ref), NULL, &s, &err) == BASE_OK &&
                   fhir_search_match(s, res, NULL, a, &ok, &err) != BASE_OK) {
            ok = false;
        }
        if (ok) {
            json_incref(res);
            const char *url =
                fhir_bundle_full_url(a, m->base, rt, json_string_value(json_object_get(res, "id")));
            if (fhir_bundle_add_entry(b, url, res, FHIR_BUNDLE_MODE_MATCH, NULL) != BASE_OK)
                break;
        }
    }
    sent(gw_http_respond_resource(r, 200, b));
    pthread_mutex_unlock(&serve_lock);
    json_decref(b);
}

/* The data file: a Bundle (its entries' resources) or an array of resources. */
static int
load(struct member *m, const char *path, struct base_err *err)
{
    struct base_arena *a = base_arena_new(MAX_DATA * 2);
    char *text = NULL;
    size_t len = 0;
    json_t *doc = NULL;
    int rc;

    if (a == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "data", "out of memory");
    rc = base_conf_read_file(a, path, MAX_DATA, "data", "data file", &text, &len, err);
    if (rc == BASE_OK)
        rc = fhir_json_parse(text, len, NULL, &doc, err);
    base_arena_free(a);
    if (rc != BASE_OK)
        return rc;
    m->resources = json_array();
    if (json_is_array(doc)) {
        json_array_extend(m->resources, doc);
    } else {
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(doc, "entry"), i, e)
        {
            json_t *res = json_object_get(e, "resource");
            if (json_is_object(res))
                json_array_append(m->resources, res);
        }
    }
    json_decref(doc);
    return BASE_OK;
}

static const char *
arg(int argc, char **argv, const char *name, const char *dflt)
{
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    }
    return dflt;
}

int
main(int argc, char **argv)
{
    struct member m = {0};
    struct gw_http_config cfg;
    struct gw_http_server *srv = NULL;
    struct base_err err = {0};
    const char *data = arg(argc, argv, "--data", NULL);
    char *end = NULL;
    unsigned long port = strtoul(arg(argc, argv, "--port", "0"), &end, 10);

    m.id = arg(argc, argv, "--id", NULL);
    m.gateway_cn = arg(argc, argv, "--gateway-cn", "gateway");
    if (m.id == NULL || data == NULL || end == NULL || *end != '\0' || port > 65535) {
        fprintf(stderr, "usage: portal_member --id ID --data FILE --cert CRT --key KEY --ca CA "
                        "[--gateway-cn CN] [--port N]\n");
        return 2;
    }
    if (load(&m, data, &err) != BASE_OK) {
        fprintf(stderr, "portal_member %s: %s: %s\n", m.id, err.where, err.msg);
        return 1;
    }
    struct gw_http_route routes[] = {
        {"GET", "/fhir/metadata", h_metadata, &m},
        {"GET", "/fhir/Patient/{id}/$everything", h_everything, &m},
        {"GET", "/fhir/{type}", h_search, &m},
        {"GET", "/fhir/{type}/{id}", h_read, &m},
    };
    gw_http_config_init(&cfg);
    cfg.name = "portal-member";
    cfg.port = (unsigned)port;
    cfg.cert_file = arg(argc, argv, "--cert", NULL);
    cfg.key_file = arg(argc, argv, "--key", NULL);
    cfg.client_ca_file = arg(argc, argv, "--ca", NULL);
    cfg.client_auth = GW_HTTP_CLIENT_AUTH_REQUIRED;
    cfg.threads = 8;
    cfg.routes = routes;
    cfg.route_count = BASE_ARRAY_LEN(routes);
    if (gw_http_server_start(&cfg, &srv, &err) != BASE_OK) {
        fprintf(stderr, "portal_member %s: %s: %s\n", m.id, err.where, err.msg);
        return 1;
    }
    snprintf(m.base, sizeof(m.base), "https://127.0.0.1:%u/fhir", gw_http_server_port(srv));
    slow_ms = (unsigned)strtoul(arg(argc, argv, "--slow-ms", "1000"), NULL, 10);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGUSR1, on_signal);
    printf("listening %u\n", gw_http_server_port(srv));
    fflush(stdout);
    while (!stop_flag)
        pause();
    gw_http_server_stop(srv, 1000);
    json_decref(m.resources);
    return 0;
}
