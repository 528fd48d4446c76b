/*
 * One member request as a libcurl easy handle: the options (mTLS against
 * the region CA only, HTTPS only, HTTP/2 offered, no redirects, bounded
 * body and time), and the classification of how it ended.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/fed/engine_int.h"

const char *
gw_fed_error_name(enum gw_fed_error e)
{
    switch (e) {
    case GW_FED_OK:
        return "ok";
    case GW_FED_E_REFUSED:
        return "refused";
    case GW_FED_E_TIMEOUT:
        return "timeout";
    case GW_FED_E_TLS:
        return "tls";
    case GW_FED_E_HTTP_STATUS:
        return "http-status";
    case GW_FED_E_TOO_LARGE:
        return "too-large";
    case GW_FED_E_RESET:
        return "reset";
    case GW_FED_E_INVALID:
        return "invalid";
    case GW_FED_E_CIRCUIT_OPEN:
        return "circuit-open";
    case GW_FED_E_SHUTDOWN:
        return "shutdown";
    case GW_FED_E_INTERNAL:
        return "internal";
    default:
        return "unknown";
    }
}

/* docs/design/region.md: timeout | transient | exception | invalid.
 * Transient = worth asking again soon (the member or the path to it is
 * down for now); exception = the exchange itself went wrong. */
const char *
gw_fed_error_issue_code(enum gw_fed_error e)
{
    switch (e) {
    case GW_FED_E_TIMEOUT:
        return "timeout";
    case GW_FED_E_REFUSED:
    case GW_FED_E_RESET:
    case GW_FED_E_CIRCUIT_OPEN:
    case GW_FED_E_SHUTDOWN:
        return "transient";
    case GW_FED_E_INVALID:
        return "invalid";
    default:
        return "exception"; /* tls, http-status, too-large, internal */
    }
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    struct fed_xfer *x = ud;
    size_t n = size * nmemb;

    if (x->body.len == 0) {
        curl_off_t cl = -1;

        /* Reserve once from Content-Length (capped: the header may lie). */
        if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK &&
            cl > 0 && (size_t)cl <= x->job->max_body &&
            base_buf_reserve(&x->body, (size_t)cl) != BASE_OK)
            return 0; /* out of memory: the transfer fails as internal */
    }
    int rc = base_buf_append(&x->body, p, n);
    if (rc != BASE_OK) {
        x->too_large = rc == BASE_E_LIMIT;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    return n;
}

#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (cc == CURLE_OK)                                                                        \
            cc = curl_easy_setopt(h, opt, val);                                                    \
    } while (0)

/* What every request of the engine has in common, set once per easy handle
 * (pooled handles keep it: curl_easy_reset() and setting these again cost
 * a dozen string copies and frees per member request). */
int
fed_easy_setup(struct fed_loop *L, CURL *h)
{
    const struct gw_fed_config *c = &L->e->cfg;
    CURLcode cc = CURLE_OK;

    SET(CURLOPT_PROTOCOLS_STR, c->allow_http ? "http,https" : "https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
    SET(CURLOPT_FOLLOWLOCATION, 0L); /* a member does not send the gateway elsewhere */
    SET(CURLOPT_HTTPGET, 1L);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_SHARE, L->e->share);
    /* Members are trusted through the region CA alone: no system store. */
    SET(CURLOPT_CAINFO, c->ca_file);
    SET(CURLOPT_CAPATH, NULL);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    SET(CURLOPT_SSLCERT, c->cert_file);
    SET(CURLOPT_SSLKEY, c->key_file);
    SET(CURLOPT_HTTP_VERSION,
        c->http1_only ? (long)CURL_HTTP_VERSION_1_1 : (long)CURL_HTTP_VERSION_2TLS);
    /* HTTP/2: wait for a connection that multiplexes rather than open more */
    SET(CURLOPT_PIPEWAIT, c->http1_only ? 0L : 1L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_TCP_NODELAY, 1L);
    return cc == CURLE_OK ? BASE_OK : BASE_E_INTERNAL;
}

/* A pooled handle forgets the transfer it served: nothing may point into
 * the job's memory, which goes with the job. */
void
fed_easy_forget(CURL *h)
{
    CURLcode cc = CURLE_OK;

    SET(CURLOPT_PRIVATE, NULL);
    SET(CURLOPT_WRITEDATA, NULL);
    SET(CURLOPT_ERRORBUFFER, NULL);
    SET(CURLOPT_HTTPHEADER, NULL);
    (void)cc;
}

int
fed_xfer_setup(struct fed_loop *L, struct fed_xfer *x, unsigned timeout_ms)
{
    const struct gw_fed_config *c = &L->e->cfg;
    const struct gw_fed_result *r = &x->job->answer->results[x->idx];
    CURL *h = x->easy;
    unsigned connect = c->connect_ms < timeout_ms ? c->connect_ms : timeout_ms;
    CURLcode cc = CURLE_OK;

    x->timeout_ms = timeout_ms;
    SET(CURLOPT_URL, r->url);
    SET(CURLOPT_PRIVATE, x);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_ERRORBUFFER, x->errbuf);
    SET(CURLOPT_HTTPHEADER, x->headers);
    SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(connect > 0 ? connect : 1));
    SET(CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 1));
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->job->max_body);
    SET(CURLOPT_FRESH_CONNECT, x->attempts > 0 ? 1L : 0L); /* a retry avoids the dead one */
    return cc == CURLE_OK ? BASE_OK : BASE_E_INTERNAL;
}
#undef SET

/* ---- how it ended ------------------------------------------------------------------ */

static bool
is_reset(CURLcode cc)
{
    switch (cc) {
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

static bool
is_tls(CURLcode cc)
{
    switch (cc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_USE_SSL_FAILED:
        return true;
    default:
        return false;
    }
}

static enum gw_fed_error
classify(CURLcode cc, long os_errno, bool too_large, long status)
{
    if (cc == CURLE_OK)
        return status >= 200 && status < 300 ? GW_FED_OK : GW_FED_E_HTTP_STATUS;
    if (too_large || cc == CURLE_FILESIZE_EXCEEDED)
        return GW_FED_E_TOO_LARGE;
    if (cc == CURLE_OPERATION_TIMEDOUT)
        return GW_FED_E_TIMEOUT;
    if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
        cc == CURLE_COULDNT_RESOLVE_PROXY)
        return GW_FED_E_REFUSED;
    /* a peer that drops the connection during the handshake is a reset,
     * not a certificate problem */
    if (is_reset(cc) ||
        (cc == CURLE_SSL_CONNECT_ERROR && (os_errno == ECONNRESET || os_errno == EPIPE)))
        return GW_FED_E_RESET;
    if (is_tls(cc))
        return GW_FED_E_TLS;
    if (cc == CURLE_WEIRD_SERVER_REPLY || cc == CURLE_BAD_CONTENT_ENCODING)
        return GW_FED_E_INVALID;
    return GW_FED_E_INTERNAL;
}

/* A client-safe reason: our words, plus libcurl's for TLS (it names the
 * certificate problem, never the URL). */
static const char *
describe(struct base_arena *a, const struct fed_xfer *x, enum gw_fed_error e, CURLcode cc,
         long status)
{
    switch (e) {
    case GW_FED_OK:
        return NULL;
    case GW_FED_E_HTTP_STATUS:
        return base_arena_sprintf(a, "HTTP status %ld", status);
    case GW_FED_E_TOO_LARGE:
        return base_arena_sprintf(a, "answer larger than %zu bytes", x->job->max_body);
    case GW_FED_E_TIMEOUT:
        return base_arena_sprintf(a, "no complete answer within %u ms", x->timeout_ms);
    case GW_FED_E_REFUSED:
        return cc == CURLE_COULDNT_CONNECT ? "connection refused or unreachable"
                                           : "host name not found";
    case GW_FED_E_RESET:
        return "connection reset or closed before the answer ended";
    case GW_FED_E_TLS:
        return base_arena_sprintf(a, "TLS: %s",
                                  x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(cc));
    case GW_FED_E_INVALID:
        return "not an HTTP answer";
    default:
        return base_arena_sprintf(a, "transfer failed (%s)", curl_easy_strerror(cc));
    }
}

void
fed_xfer_result(struct fed_xfer *x, CURLcode cc, struct gw_fed_result *r)
{
    struct base_arena *a = x->job->arena;
    long status = 0;
    long os_errno = 0;
    long httpv = 0;
    char *ct = NULL;

    (void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    (void)curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os_errno);
    (void)curl_easy_getinfo(x->easy, CURLINFO_HTTP_VERSION, &httpv);
    (void)curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
    r->status = status;
    r->error = classify(cc, os_errno, x->too_large, status);
    r->detail = describe(a, x, r->error, cc, status);
    if (r->error != GW_FED_OK && r->detail == NULL)
        r->detail = gw_fed_error_name(r->error);
    r->http_version = status == 0 ? 0 : httpv == CURL_HTTP_VERSION_2_0 ? 2 : 1;
    r->content_type = ct != NULL ? base_arena_strdup(a, ct) : NULL;
    r->attempts = x->attempts;
    r->latency_us = (uint64_t)((x->t_end != 0 ? x->t_end : fed_now_us()) - x->t_start);
    if (x->body.len > 0 && !x->too_large) {
        r->body = x->body.data;
        r->body_len = x->body.len;
    }
}

bool
fed_xfer_retry(const struct fed_xfer *x, CURLcode cc, int64_t now_us)
{
    long os_errno = 0;
    int64_t left = x->job->deadline_us - now_us;
    int64_t took = now_us - x->t_start;

    if (x->attempts != 1 || x->too_large)
        return false;
    (void)curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os_errno);
    if (classify(cc, os_errno, false, 0) != GW_FED_E_RESET)
        return false;
    /* only when there is time for a second try at the pace of the first */
    return left >= 50000 && left >= took;
}
