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

struct adapter_register {
    struct adapter_daemon *d;
    pthread_mutex_t mu; /* guards stop */
    pthread_cond_t cv;
    bool stop;
    pthread_t th;
};

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

/* Wait up to ms, or until stopped; true when stopped. */
static bool
sleep_or_stop(struct adapter_register *r, unsigned ms)
{
    struct timespec until;
    bool stop;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(ms / 1000u);
    until.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->mu);
    while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &until) != ETIMEDOUT)
        ;
    stop = r->stop;
    pthread_mutex_unlock(&r->mu);
    return stop;
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

static void *
register_main(void *arg)
{
    struct adapter_register *r = arg;
    const struct adapter_config *cfg = r->d->cfg;
    unsigned backoff = 1000;

    for (unsigned attempt = 1;; attempt++) {
        struct base_buf answer;
        long status;

        base_buf_init(&answer, MAX_ANSWER);
        status = post_once(cfg, &answer);
        if (status == 200 || status == 201 || status == 202) {
            log_answer(&answer, status);
            base_buf_fini(&answer);
            return NULL;
        }
        base_buf_fini(&answer);
        if (status >= 400 && status < 500 && status != 408 && status != 429) {
            BASE_LOG(BASE_LOG_ERROR, "adapter.register_refused",
                     "http_status=%ld attempt=%u (check [gateway] and the certificate)", status,
                     attempt);
            return NULL;
        }
        BASE_LOG(BASE_LOG_WARN, "adapter.register_retry", "http_status=%ld attempt=%u wait_ms=%u",
                 status, attempt, backoff);
        if (sleep_or_stop(r, backoff))
            return NULL;
        backoff = backoff * 2 > cfg->register_retry_max_ms ? cfg->register_retry_max_ms
                                                           : backoff * 2;
    }
}

int
adapter__register_start(struct adapter_daemon *d, struct base_err *err)
{
    struct adapter_register *r;

    if (!d->cfg->register_enabled || d->cfg->gw_url == NULL)
        return BASE_OK;
    r = BASE_NEW(d->arena, struct adapter_register);
    if (r == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    r->d = d;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->th, NULL, register_main, r) != 0)
        return base_err_set(err, BASE_E_INTERNAL, "exception", "gateway", "no registration thread");
    d->reg = r;
    return BASE_OK;
}

void
adapter__register_stop(struct adapter_daemon *d)
{
    struct adapter_register *r = d->reg;

    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->th, NULL);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    d->reg = NULL;
}
