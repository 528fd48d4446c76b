/*
 * `fhirgate demo-feed`: an HL7 v2 sender as a hospital's interface engine
 * is one — one message at a time over MLLP (HL7 v2.5.1 appendix C), each
 * sent again until the receiver acknowledges it, in original mode:
 *   - AA (or CA): next message;
 *   - AE / AR (CE / CR): stop, saying which message and what the receiver
 *     said (ERR-8 / MSA-3, which the receiver keeps free of patient data);
 *   - no answer within the timeout: stop (a receiver that takes the message
 *     and never answers must be looked at, not flooded);
 *   - connection refused, reset or closed before the answer: reconnect with
 *     backoff and send the same message again (at-least-once delivery; the
 *     adapter's conditional updates make a repeat harmless), for at most
 *     retry_ms.
 * With `live`, new ORU^R01 results follow for the hospital's patients,
 * drawn from the seed's model (values continue each person's trends).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/json/fhir_json.h"
#include "gateway/demo/demo_int.h"

#define CONNECT_MS 3000
#define STOPPED    1 /* positive: asked to stop, not an error */

struct feed {
    const struct gw_demo_feed_opts *o;
    struct gw_demo_feed_stats *st;
    SSL_CTX *ctx;
    int fd;
    SSL *ssl;
    char *rbuf; /* bytes received, not yet consumed */
    size_t rlen;
};

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool
stopping(const struct feed *f)
{
    return f->o->stop != NULL && *f->o->stop;
}

/* Sleep up to ms, waking early when asked to stop. */
static void
nap(const struct feed *f, unsigned ms)
{
    int64_t until = now_ms() + ms;

    while (!stopping(f) && now_ms() < until) {
        int64_t left = until - now_ms();

        (void)poll(NULL, 0, (int)(left > 100 ? 100 : left));
    }
}

/* ---------------------------------------------------------- connection -- */

static void
conn_close(struct feed *f)
{
    if (f->ssl != NULL) {
        SSL_shutdown(f->ssl);
        SSL_free(f->ssl);
        f->ssl = NULL;
    }
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    f->rlen = 0;
}

static int
wait_fd(int fd, short events, int64_t deadline)
{
    struct pollfd p = {fd, events, 0};
    int64_t left = deadline - now_ms();
    int n;

    if (left <= 0)
        return 0;
    n = poll(&p, 1, (int)left);
    return n < 0 && errno == EINTR ? -2 : n;
}

static int
tcp_connect(const struct gw_demo_feed_opts *o)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int fd = -1;

    if (getaddrinfo(o->host, o->port, &hints, &res) != 0)
        return -1;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        int64_t deadline = now_ms() + CONNECT_MS;
        int soerr = 0;
        socklen_t sl = sizeof(soerr);

        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        if ((connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) ||
            wait_fd(fd, POLLOUT, deadline) <= 0 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

static int
tls_handshake(struct feed *f, int64_t deadline)
{
    const char *name = f->o->tls_name != NULL ? f->o->tls_name : f->o->host;
    struct in6_addr ip;

    f->ssl = SSL_new(f->ctx);
    if (f->ssl == NULL || SSL_set_fd(f->ssl, f->fd) != 1)
        return -1;
    /* verify the name the listener's certificate must carry (RFC 6125) */
    if (inet_pton(AF_INET, name, &ip) == 1 || inet_pton(AF_INET6, name, &ip) == 1) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(f->ssl), name) != 1)
            return -1;
    } else if (SSL_set_tlsext_host_name(f->ssl, name) != 1 || SSL_set1_host(f->ssl, name) != 1) {
        return -1;
    }
    for (;;) {
        int rc = SSL_connect(f->ssl);
        int e = SSL_get_error(f->ssl, rc);

        if (rc == 1)
            return 0;
        if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
            wait_fd(f->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline) <= 0)
            return -1;
    }
}

static bool
conn_open(struct feed *f)
{
    f->fd = tcp_connect(f->o);
    if (f->fd < 0)
        return false;
    if (f->ctx != NULL && tls_handshake(f, now_ms() + CONNECT_MS) != 0) {
        conn_close(f);
        return false;
    }
    return true;
}

/* Write all of data; false when the connection failed. */
static bool
conn_write(struct feed *f, const char *data, size_t len)
{
    int64_t deadline = now_ms() + (int64_t)f->o->ack_timeout_ms;

    while (len > 0) {
        ssize_t n;

        if (f->ssl != NULL) {
            int rc = SSL_write(f->ssl, data, (int)(len > 1u << 30 ? 1u << 30 : len));
            int e = SSL_get_error(f->ssl, rc);

            if (rc <= 0 && (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)) {
                if (wait_fd(f->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline) <= 0)
                    return false;
                continue;
            }
            n = rc;
        } else {
            n = send(f->fd, data, len, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                if (wait_fd(f->fd, POLLOUT, deadline) == 0)
                    return false;
                continue;
            }
        }
        if (n <= 0)
            return false;
        data += n;
        len -= (size_t)n;
    }
    return true;
}

enum rd {
    RD_DATA,
    RD_CLOSED, /* EOF or reset: reconnect */
    RD_TIMEOUT,
    RD_STOP
};

static enum rd
conn_read(struct feed *f, int64_t deadline)
{
    size_t room = GW_DEMO_LIMIT_ACK + 16 - f->rlen;

    for (;;) {
        ssize_t n;

        if (stopping(f))
            return RD_STOP;
        if (f->ssl != NULL) {
            int rc = SSL_read(f->ssl, f->rbuf + f->rlen, (int)room);
            int e = SSL_get_error(f->ssl, rc);

            if (rc > 0) {
                n = rc;
            } else if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                int w = wait_fd(f->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);

                if (w == 0)
                    return RD_TIMEOUT;
                continue;
            } else {
                return RD_CLOSED;
            }
        } else {
            n = recv(f->fd, f->rbuf + f->rlen, room, 0);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                if (wait_fd(f->fd, POLLIN, deadline) == 0)
                    return RD_TIMEOUT;
                continue;
            }
            if (n <= 0)
                return RD_CLOSED;
        }
        f->rlen += (size_t)n;
        return RD_DATA;
    }
}

/* ----------------------------------------------------------- exchange -- */

enum xr {
    XR_ACK,   /* *ack filled */
    XR_RETRY, /* connection lost: reconnect and resend */
    XR_TIMEOUT,
    XR_STOP,
    XR_ERROR /* err set (bad frame or acknowledgement) */
};

static enum xr
await_ack(struct feed *f, struct gw_demo_ack *ack, struct base_err *err)
{
    int64_t deadline = now_ms() + (int64_t)f->o->ack_timeout_ms;

    for (;;) {
        size_t start = 0;
        size_t len = 0;
        size_t used = 0;
        int found =
            gw_demo_mllp_find(f->rbuf, f->rlen, GW_DEMO_LIMIT_ACK, &start, &len, &used, err);
        enum rd r;

        if (found < 0)
            return XR_ERROR;
        if (found == 1) {
            int rc = gw_demo_ack_parse(f->rbuf + start, len, ack, err);

            memmove(f->rbuf, f->rbuf + used, f->rlen - used);
            f->rlen -= used;
            return rc == BASE_OK ? XR_ACK : XR_ERROR;
        }
        memmove(f->rbuf, f->rbuf + used, f->rlen - used);
        f->rlen -= used;
        r = conn_read(f, deadline);
        if (r == RD_CLOSED)
            return XR_RETRY;
        if (r == RD_TIMEOUT)
            return XR_TIMEOUT;
        if (r == RD_STOP)
            return XR_STOP;
    }
}

static int send_frame(struct feed *f, const char *frame, size_t len, const char *label,
                      struct gw_demo_ack *ack, struct base_err *err);

/* Frame and send one message, reconnecting as needed, until acknowledged.
 * Returns BASE_OK (ack filled), STOPPED, or an error. */
static int
exchange(struct feed *f, const char *msg, size_t len, const char *label, struct gw_demo_ack *ack,
         struct base_err *err)
{
    char *frame = base_malloc(len + 3);
    int rc;

    if (frame == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", label, "out of memory");
    /* one write per frame: three small ones would meet Nagle's algorithm
     * and the peer's delayed ACK (40 ms a message on Linux) */
    frame[0] = 0x0B;
    memcpy(frame + 1, msg, len);
    frame[len + 1] = 0x1C;
    frame[len + 2] = 0x0D;
    rc = send_frame(f, frame, len + 3, label, ack, err);
    base_free(frame);
    return rc;
}

static int
send_frame(struct feed *f, const char *frame, size_t len, const char *label,
           struct gw_demo_ack *ack, struct base_err *err)
{
    int64_t give_up = now_ms() + (int64_t)f->o->retry_ms;
    unsigned backoff = 250;

    for (;;) {
        enum xr x;

        if (stopping(f))
            return STOPPED;
        if (f->fd < 0 && !conn_open(f)) {
            if (now_ms() > give_up)
                return base_err_set(err, BASE_E_UPSTREAM, "transient", label,
                                    "the listener could not be reached for %u ms", f->o->retry_ms);
            nap(f, backoff);
            backoff = backoff < 2000 ? backoff * 2 : 2000;
            continue;
        }
        if (!conn_write(f, frame, len)) {
            conn_close(f);
            f->st->reconnects++;
            continue;
        }
        x = await_ack(f, ack, err);
        if (x == XR_ACK)
            return BASE_OK;
        if (x == XR_STOP)
            return STOPPED;
        if (x == XR_ERROR)
            return err->rc;
        if (x == XR_TIMEOUT)
            return base_err_set(err, BASE_E_UPSTREAM, "timeout", label,
                                "no acknowledgement within %u ms", f->o->ack_timeout_ms);
        conn_close(f);
        f->st->reconnects++;
        give_up = now_ms() + (int64_t)f->o->retry_ms;
    }
}

/* MSH-10 of a message (HL7 v2.5 2.14.9.10), for matching MSA-2. */
static void
control_id(const char *msg, size_t len, char out[200])
{
    size_t f = 1;
    size_t i = 3;

    out[0] = '\0';
    if (len < 8 || memcmp(msg, "MSH", 3) != 0)
        return;
    while (i < len && msg[i] != '\r') {
        if (msg[i] == msg[3] && ++f == 10) {
            size_t n = 0;

            while (++i < len && msg[i] != msg[3] && msg[i] != '\r' && n < 199)
                out[n++] = msg[i];
            out[n] = '\0';
            return;
        }
        i++;
    }
}

static int
send_checked(struct feed *f, const char *msg, size_t len, const char *label, struct base_err *err)
{
    struct gw_demo_ack ack;
    char id[200];
    int rc = exchange(f, msg, len, label, &ack, err);

    if (rc != BASE_OK)
        return rc;
    control_id(msg, len, id);
    if (strcmp(ack.code, "AA") != 0 && strcmp(ack.code, "CA") != 0)
        return base_err_set(err, BASE_E_UPSTREAM, "processing", label,
                            "the receiver answered %s: %s", ack.code,
                            ack.text[0] != '\0' ? ack.text : "(no reason given)");
    if (strcmp(ack.control_id, id) != 0)
        return base_err_set(err, BASE_E_UPSTREAM, "processing", label,
                            "the acknowledgement is for another message (MSA-2)");
    f->st->sent++;
    return BASE_OK;
}

/* ------------------------------------------------------------- replay -- */

static int
cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
list_files(struct base_arena *a, const char *dir, char ***out, size_t *n, struct base_err *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t cap = 0;

    *n = 0;
    if (d == NULL)
        return base_err_set(err, BASE_E_IO, "exception", "--from", "cannot open the folder: %s",
                            strerror(errno));
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);

        if (len < 5 || strcmp(e->d_name + len - 4, ".hl7") != 0)
            continue;
        if (*n == cap) {
            cap = cap == 0 ? 1024 : cap * 2;
            names = cap > GW_DEMO_LIMIT_FILES ? NULL
                                              : base_arena_grow(a, names, *n, cap, sizeof(*names));
        }
        if (names == NULL || (names[*n] = base_arena_strdup(a, e->d_name)) == NULL) {
            closedir(d);
            return base_err_set(err, BASE_E_LIMIT, "too-costly", "--from", "more than %u messages",
                                GW_DEMO_LIMIT_FILES);
        }
        (*n)++;
    }
    closedir(d);
    if (*n > 0)
        qsort(names, *n, sizeof(*names), cmp_name);
    *out = names;
    return BASE_OK;
}

/* A message file: segments end with CR on the wire (HL7 v2.5 2.5.3);
 * files edited by hand may have LF or CRLF. */
static char *
read_message(struct base_arena *a, const char *path, size_t *len, struct base_err *err)
{
    FILE *fp = fopen(path, "rb");
    char *raw = base_arena_alloc(a, GW_DEMO_LIMIT_MESSAGE_FILE + 1);
    size_t n = 0;
    size_t w = 0;

    if (fp == NULL || raw == NULL) {
        if (fp != NULL)
            fclose(fp);
        base_err_set(err, BASE_E_IO, "exception", path, "cannot read the message");
        return NULL;
    }
    n = fread(raw, 1, GW_DEMO_LIMIT_MESSAGE_FILE + 1, fp);
    fclose(fp);
    if (n > GW_DEMO_LIMIT_MESSAGE_FILE || n < 8 || memcmp(raw, "MSH", 3) != 0) {
        base_err_set(err, BASE_E_INVALID, "invalid", path,
                     "not one HL7 v2 message (MSH first, at most %u bytes)",
                     GW_DEMO_LIMIT_MESSAGE_FILE);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (raw[i] == '\r' && i + 1 < n && raw[i + 1] == '\n')
            continue;
        raw[w++] = raw[i] == '\n' ? '\r' : raw[i];
    }
    while (w > 0 && raw[w - 1] == '\r')
        w--;
    raw[w++] = '\r';
    *len = w;
    return raw;
}

static int
replay(struct feed *f, struct base_err *err)
{
    struct base_arena *a = base_arena_new(0);
    char **names = NULL;
    size_t n = 0;
    int rc;

    if (a == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "feed", "out of memory");
    rc = list_files(a, f->o->from_dir, &names, &n, err);
    for (size_t i = f->o->skip; i < n && rc == BASE_OK; i++) {
        struct base_arena *m = base_arena_child(a, 0);
        char path[4096];
        size_t len = 0;
        char *msg;

        snprintf(path, sizeof(path), "%s/%s", f->o->from_dir, names[i]);
        msg = m != NULL ? read_message(m, path, &len, err) : NULL;
        rc = msg == NULL ? (err->rc != 0 ? err->rc : BASE_E_NOMEM)
                         : send_checked(f, msg, len, names[i], err);
        base_arena_free(m);
        if (rc == BASE_OK && !f->o->quiet && (i + 1) % 500 == 0)
            fprintf(stderr, "demo-feed: %zu of %zu messages acknowledged\n", i + 1, n);
    }
    base_arena_free(a);
    return rc;
}

/* --------------------------------------------------------------- live -- */

static int
read_config(const char *path, struct gw_demo_config *cfg, struct base_err *err)
{
    struct base_arena *a = base_arena_new(0);
    json_t *doc = NULL;
    json_t *c;
    size_t len = 0;
    char *text = a != NULL ? base_arena_alloc(a, GW_DEMO_LIMIT_MANIFEST + 1) : NULL;
    FILE *fp = text != NULL ? fopen(path, "rb") : NULL;
    struct base_str as_of;
    int y = 0, m = 0, d = 0;
    int rc = BASE_OK;

    if (fp != NULL) {
        len = fread(text, 1, GW_DEMO_LIMIT_MANIFEST + 1, fp);
        fclose(fp);
    }
    if (fp == NULL || len > GW_DEMO_LIMIT_MANIFEST ||
        fhir_json_parse(text, len, NULL, &doc, NULL) != BASE_OK) {
        base_arena_free(a);
        return base_err_set(err, BASE_E_INVALID, "invalid", "--manifest",
                            "cannot read the generation's manifest.json");
    }
    c = json_object_get(doc, "config");
    as_of = fhir_json_str(json_object_get(c, "as_of"));
    if (!json_is_integer(json_object_get(c, "seed")) ||
        !json_is_integer(json_object_get(c, "people")) ||
        sscanf(as_of.ptr != NULL ? as_of.ptr : "", "%4d-%2d-%2d", &y, &m, &d) != 3)
        rc = base_err_set(err, BASE_E_INVALID, "invalid", "manifest.json config",
                          "seed, people and as_of are required");
    else {
        cfg->seed = (uint64_t)json_integer_value(json_object_get(c, "seed"));
        cfg->n_people = (size_t)json_integer_value(json_object_get(c, "people"));
        cfg->as_of = y * 10000 + m * 100 + d;
    }
    json_decref(doc);
    base_arena_free(a);
    return rc;
}

/* One live result: every fifth for the shared patient (HbA1c and renal
 * function, so their trend charts move), the rest for someone the
 * hospital knows, with one or two of the panels that suit them. */
static int
live_one(struct feed *f, const struct demo_region *r, struct demo_rec **recs, size_t n,
         const char *tag, size_t seq, struct base_err *err)
{
    struct demo_rng rng = demo_rng_for(r->cfg.seed, 20, seq, 0);
    bool star = seq % 5 == 0;
    const struct demo_rec *rec =
        star ? r->star->rec[DEMO_HOSP_A] : recs[demo_rng_below(&rng, (unsigned)n)];
    time_t t = time(NULL) + 8 * 3600; /* the region's local time, UTC+8 */
    int day = (int)(t / 86400);
    int minute = (int)(t % 86400 / 60);
    unsigned suit = demo_panels_for(rec->person, day);
    unsigned panels = star ? (1u << DEMO_P_HBA1C) | (1u << DEMO_P_RENAL) : 0;
    struct base_buf b;
    char label[48];
    int rc;

    for (int k = 0; panels == 0 && k < 32; k++) {
        unsigned bit = demo_rng_below(&rng, (unsigned)demo_n_panels);

        if (suit & (1u << bit))
            panels |= 1u << bit;
    }
    if (panels == 0)
        panels = 1u << DEMO_P_ROUTINE_CBC;
    base_buf_init(&b, 1u << 20);
    snprintf(label, sizeof(label), "live message %zu", seq);
    rc = demo_hl7_live_oru(r, rec, day, minute, panels, tag, seq, &b, err);
    if (rc == BASE_OK)
        rc = send_checked(f, b.data, b.len, label, err);
    base_buf_fini(&b);
    if (rc == BASE_OK)
        f->st->live++;
    return rc;
}

static int
live(struct feed *f, struct base_err *err)
{
    struct gw_demo_config cfg;
    struct base_arena *a = base_arena_new(0);
    struct demo_region r;
    struct demo_rec **recs;
    char manifest[4096];
    char tag[16];
    size_t n = 0;
    int rc;

    if (f->o->manifest != NULL)
        snprintf(manifest, sizeof(manifest), "%s", f->o->manifest);
    else
        snprintf(manifest, sizeof(manifest), "%s/../../manifest.json", f->o->from_dir);
    /* ids of this run's messages: a restarted feed must not overwrite the
     * results an earlier run sent */
    snprintf(tag, sizeof(tag), "%08lx",
             (unsigned long)((unsigned long long)time(NULL) & 0xFFFFFFFFu));
    rc = a == NULL ? BASE_E_NOMEM : read_config(manifest, &cfg, err);
    if (rc == BASE_OK)
        rc = demo_region_build(a, &cfg, &r, err);
    recs = rc == BASE_OK ? BASE_NEW_N(a, struct demo_rec *, r.n_persons) : NULL;
    for (size_t i = 0; recs != NULL && i < r.n_persons; i++) {
        if (r.persons[i].rec[DEMO_HOSP_A] != NULL)
            recs[n++] = r.persons[i].rec[DEMO_HOSP_A];
    }
    for (size_t seq = 0; rc == BASE_OK && n > 0 && !stopping(f); seq++) {
        if (f->o->max_live > 0 && seq >= f->o->max_live)
            break;
        nap(f, f->o->interval_ms);
        if (!stopping(f))
            rc = live_one(f, &r, recs, n, tag, seq, err);
    }
    base_arena_free(a);
    return rc;
}

/* --------------------------------------------------------------- run -- */

static int
tls_setup(struct feed *f, struct base_err *err)
{
    const struct gw_demo_feed_opts *o = f->o;

    if (o->tls_ca == NULL)
        return BASE_OK;
    f->ctx = SSL_CTX_new(TLS_client_method());
    if (f->ctx == NULL || SSL_CTX_set_min_proto_version(f->ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_load_verify_locations(f->ctx, o->tls_ca, NULL) != 1)
        return base_err_set(err, BASE_E_INVALID, "security", "--tls-ca",
                            "cannot load the CA certificates");
    SSL_CTX_set_verify(f->ctx, SSL_VERIFY_PEER, NULL);
    if (o->tls_cert != NULL &&
        (SSL_CTX_use_certificate_chain_file(f->ctx, o->tls_cert) != 1 ||
         SSL_CTX_use_PrivateKey_file(f->ctx, o->tls_key != NULL ? o->tls_key : o->tls_cert,
                                     SSL_FILETYPE_PEM) != 1 ||
         SSL_CTX_check_private_key(f->ctx) != 1))
        return base_err_set(err, BASE_E_INVALID, "security", "--tls-cert",
                            "cannot load the client certificate and key");
    return BASE_OK;
}

int
gw_demo_feed_run(const struct gw_demo_feed_opts *o, struct gw_demo_feed_stats *st,
                 struct base_err *err)
{
    struct feed f = {o, st, NULL, -1, NULL, NULL, 0};
    struct base_err local = {0};
    int rc;

    if (err == NULL)
        err = &local; /* the exchange reads back the code it recorded */
    memset(st, 0, sizeof(*st));
    f.rbuf = base_malloc(GW_DEMO_LIMIT_ACK + 16);
    if (f.rbuf == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "feed", "out of memory");
    rc = tls_setup(&f, err);
    if (rc == BASE_OK)
        rc = replay(&f, err);
    if (rc == BASE_OK && o->live)
        rc = live(&f, err);
    conn_close(&f);
    SSL_CTX_free(f.ctx);
    ERR_clear_error();
    base_free(f.rbuf);
    return rc == STOPPED ? BASE_OK : rc;
}
