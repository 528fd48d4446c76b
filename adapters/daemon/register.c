/*
 * Self-registration with the gateway (docs/design/region.md "Members"):
 * POST {gateway}/members/register over mutual TLS with this adapter's
 * region-CA client certificate (CN = member id), body
 *   {"member": id, "name": hospital name, "base": our facade's FHIR base}.
 * The gateway answers 201 (active) or 202 (pending until an admin approves).
 * Network failures and 5xx are retried with exponential back-off (1 s
 * doubling to retry_max); a 4xx is a configuration problem, logged once
 * and not retried.  The outcome is logged either way.
 */
#include <curl/curl.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "adapters/daemon/daemon_int.h"
#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "fhir/json/fhir_json.h"

#define MAX_ANSWER (64u << 10)

static size_t
sink(char *p, size_t size, size_t n, void *ctx)
{
    struct base_buf *b = ctx;

    return base_buf_append(b, p, size * n) == BASE_OK ? size * n : 0;
}

/* One attempt: the HTTP status (0 when the exchange failed). */
static long
post_once(const struct adapter_config *cfg, struct base_buf *answer)
{
    size_t n = strlen(cfg->gw_url);
    char url[1200];
    struct base_buf body;
    struct curl_slist *h = NULL;
    long status = 0;
    CURL *c = curl_easy_init();
    json_t *j = json_pack("{s:s, s:s, s:s}", "member", cfg->member_id, "name", cfg->name, "base",
                          cfg->public_url);

    base_buf_init(&body, MAX_ANSWER);
    if (n > 0 && cfg->gw_url[n - 1] == '/')
        n--;
    snprintf(url, sizeof(url), "%.*s/members/register", (int)n, cfg->gw_url);
    if (c == NULL || j == NULL || fhir_json_dump(j, FHIR_JSON_COMPACT, &body, NULL) != BASE_OK)
        goto out;
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body.len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CAINFO, cfg->gw_ca);
    curl_easy_setopt(c, CURLOPT_SSLCERT, cfg->gw_client_cert);
    curl_easy_setopt(c, CURLOPT_SSLKEY, cfg->gw_client_key);
    curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, answer);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MAX_ANSWER);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
out:
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    base_buf_fini(&body);
    json_decref(j);
    return status;
}

static void
log_answer(const struct base_buf *answer, long status)
{
    json_t *j = NULL;
    const char *st = NULL;

    if (answer->len > 0 && fhir_json_parse(answer->data, answer->len, NULL, &j, NULL) == BASE_OK)
        st = json_string_value(json_object_get(j, "status"));
    BASE_LOG(BASE_LOG_INFO, "adapter.registered", "http_status=%ld member_status=%s", status,
             st != NULL ? st : "?");
    json_decref(j);
}

static void
register_main(struct adapter_worker *w, void *arg)
{
    const struct adapter_config *cfg = arg;
    unsigned backoff = 1000;

    for (unsigned attempt = 1;; attempt++) {
        struct base_buf answer;
        long status;

        base_buf_init(&answer, MAX_ANSWER);
        status = post_once(cfg, &answer);
        if (status == 200 || status == 201 || status == 202) {
            log_answer(&answer, status);
            base_buf_fini(&answer);
            return;
        }
        base_buf_fini(&answer);
        if (status >= 400 && status < 500 && status != 408 && status != 429) {
            BASE_LOG(BASE_LOG_ERROR, "adapter.register_refused",
                     "http_status=%ld attempt=%u (check [gateway] and the certificate)", status,
                     attempt);
            return;
        }
        BASE_LOG(BASE_LOG_WARN, "adapter.register_retry", "http_status=%ld attempt=%u wait_ms=%u",
                 status, attempt, backoff);
        if (adapter__worker_sleep(w, backoff))
            return;
        backoff =
            backoff * 2 > cfg->register_retry_max_ms ? cfg->register_retry_max_ms : backoff * 2;
    }
}

int
adapter__register_start(struct adapter_daemon *d, struct base_err *err)
{
    if (!d->cfg->register_enabled || d->cfg->gw_url == NULL)
        return BASE_OK;
    return adapter__worker_start(&d->reg, register_main, (void *)d->cfg, "gateway", err);
}

void
adapter__register_stop(struct adapter_daemon *d)
{
    adapter__worker_stop(&d->reg);
}
