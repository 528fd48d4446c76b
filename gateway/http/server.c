/*
 * The daemon: configuration, start, connection bookkeeping, the deadline
 * sweeper and the graceful stop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/base/log.h"
#include "gateway/http/gw_http_int.h"

#define SWEEP_MS 100u /* how often connection deadlines are checked */

struct gw_http_limits
gw_http_limits_default(void)
{
    struct gw_http_limits l = {
        .max_body = BASE_LIMIT_HTTP_MAX_BODY,
        .max_url = BASE_LIMIT_HTTP_MAX_URL,
        .max_header = BASE_LIMIT_HTTP_MAX_HEADER,
        .max_params = BASE_LIMIT_HTTP_MAX_PARAMS,
        .max_param_len = BASE_LIMIT_HTTP_MAX_PARAM_LEN,
        .max_segments = BASE_LIMIT_HTTP_MAX_SEGMENTS,
        .max_connections = BASE_LIMIT_HTTP_MAX_CONNECTIONS,
        .max_per_ip = BASE_LIMIT_HTTP_MAX_PER_IP,
        .conn_memory = BASE_LIMIT_HTTP_CONN_MEMORY,
        .idle_timeout_ms = BASE_LIMIT_HTTP_IDLE_MS,
        .header_timeout_ms = BASE_LIMIT_HTTP_HEADER_MS,
        .body_timeout_ms = BASE_LIMIT_HTTP_BODY_MS,
        .arena_budget = BASE_LIMIT_HTTP_REQUEST_MEMORY,
    };

    return l;
}

void
gw_http_config_init(struct gw_http_config *c)
{
    memset(c, 0, sizeof(*c));
    c->name = "http";
    c->bind = "127.0.0.1";
    c->limits = gw_http_limits_default();
    c->client_auth = GW_HTTP_CLIENT_AUTH_NONE;
    c->hsts_max_age_s = 31536000u; /* one year (RFC 6797 6.1.1) */
}

/* ------------------------------------------------------ connections -- */

static void
client_address(struct MHD_Connection *conn, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn,
                                                                 MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

    snprintf(out, cap, "-");
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)cap);
}

static void
conn_started(struct gw_http_server *s, struct MHD_Connection *conn, void **ctx)
{
    const union MHD_ConnectionInfo *ci;
    struct gw_http_conn *cc = base_calloc(1, sizeof(*cc));

    *ctx = cc;
    atomic_fetch_add(&s->n_conns, 1u);
    gw_http_metric_add(s->m_conns, NULL, 1);
    if (cc == NULL)
        return; /* requests on it answer 500 when they need the identity */
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    cc->fd = ci != NULL ? ci->connect_fd : -1;
    client_address(conn, cc->addr, sizeof(cc->addr));
    atomic_init(&cc->wait, (int)GW_HTTP__WAIT_HEADERS);
    atomic_init(&cc->deadline_ms, gw_http__now_ms() + (int64_t)s->lim.header_timeout_ms);
    pthread_mutex_lock(&s->conn_lock);
    cc->next = s->conns;
    if (s->conns != NULL)
        s->conns->prev = cc;
    s->conns = cc;
    pthread_mutex_unlock(&s->conn_lock);
}

static void
conn_closed(struct gw_http_server *s, void **ctx)
{
    struct gw_http_conn *cc = *ctx;

    atomic_fetch_sub(&s->n_conns, 1u);
    gw_http_metric_add(s->m_conns, NULL, -1);
    if (cc == NULL)
        return;
    /* MHD closes the socket after this returns; unlinking under the lock
     * keeps the sweeper from shutting down a reused descriptor. */
    pthread_mutex_lock(&s->conn_lock);
    if (cc->prev != NULL)
        cc->prev->next = cc->next;
    else
        s->conns = cc->next;
    if (cc->next != NULL)
        cc->next->prev = cc->prev;
    pthread_mutex_unlock(&s->conn_lock);
    base_free(cc->client_mem);
    base_free(cc);
    *ctx = NULL;
}

static void
notify_connection(void *cls, struct MHD_Connection *conn, void **ctx,
                  enum MHD_ConnectionNotificationCode code)
{
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        conn_started(cls, conn, ctx);
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
        conn_closed(cls, ctx);
}

static const char *
wait_name(int w)
{
    switch (w) {
    case GW_HTTP__WAIT_HEADERS:
        return "headers";
    case GW_HTTP__WAIT_BODY:
        return "body";
    case GW_HTTP__WAIT_IDLE:
        return "idle";
    default:
        return "other";
    }
}

/* Cut connections whose deadline passed: slow headers (slowloris), slow
 * bodies, keep-alive connections idle too long.  shutdown() wakes MHD,
 * which then closes the connection on its own thread. */
static void
sweep(struct gw_http_server *s)
{
    int64_t now = gw_http__now_ms();
    size_t cut[4] = {0};

    pthread_mutex_lock(&s->conn_lock);
    for (struct gw_http_conn *cc = s->conns; cc != NULL; cc = cc->next) {
        int64_t d = atomic_load(&cc->deadline_ms);

        if (d == 0 || now < d || cc->fd < 0)
            continue;
        atomic_store(&cc->deadline_ms, 0);
        (void)shutdown(cc->fd, SHUT_RDWR);
        cut[atomic_load(&cc->wait) & 3]++;
    }
    pthread_mutex_unlock(&s->conn_lock);
    for (int w = 1; w < 4; w++) {
        const char *reason = wait_name(w);

        if (cut[w] == 0)
            continue;
        gw_http_metric_add(s->m_cut, &reason, (double)cut[w]);
        BASE_LOG(BASE_LOG_INFO, "http_connection_cut", "waiting_for=%s count=%zu", reason, cut[w]);
    }
}

static void *
sweeper_main(void *arg)
{
    struct gw_http_server *s = arg;

    pthread_mutex_lock(&s->sweep_lock);
    while (!s->sweep_stop) {
        struct timespec until;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)SWEEP_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&s->sweep_cond, &s->sweep_lock, &until);
        if (s->sweep_stop)
            break;
        pthread_mutex_unlock(&s->sweep_lock);
        sweep(s);
        pthread_mutex_lock(&s->sweep_lock);
    }
    pthread_mutex_unlock(&s->sweep_lock);
    return NULL;
}

/* --------------------------------------------------------------- start -- */

/* MHD's messages: warnings while starting (bad TLS material, address in
 * use), debug afterwards (clients hanging up, timeouts: routine noise). */
static void __attribute__((format(printf, 2, 0)))
mhd_log(void *cls, const char *fm, va_list ap)
{
    struct gw_http_server *s = cls;
    char msg[512];
    size_t n;

    vsnprintf(msg, sizeof(msg), fm, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    if (atomic_load(&s->running))
        BASE_LOG(BASE_LOG_DEBUG, "http_mhd", "%s", msg);
    else
        BASE_LOG(BASE_LOG_WARN, "http_mhd", "%s", msg);
}

/* MHD would decode the path and arguments in place; we parse the raw
 * target ourselves (gw_http_target_parse), so this saves the work. */
static size_t
no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

static int
check_limits(const struct gw_http_limits *l, struct base_err *err)
{
    if (l->max_url < 64 || l->max_header < 256 || l->max_segments == 0 ||
        l->max_param_len == 0 || l->max_connections == 0 || l->conn_memory < 4096 ||
        l->idle_timeout_ms < 100 || l->header_timeout_ms < 100 || l->body_timeout_ms < 100 ||
        l->arena_budget < 65536)
        return base_err_set(err, BASE_E_INVALID, "invalid", "limits",
                            "HTTP limits out of range (see docs/design/http.md)");
    /* the request head and our error answer share MHD's pool */
    if (l->conn_memory < (l->max_url > l->max_header ? l->max_url : l->max_header) + 1024)
        return base_err_set(err, BASE_E_INVALID, "invalid", "connection_memory",
                            "connection_memory must exceed max_url and max_header by 1 KiB");
    return BASE_OK;
}

static int
make_address(const struct gw_http_config *c, struct sockaddr_storage *ss, bool *v6,
             struct base_err *err)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    const char *bind = c->bind != NULL ? c->bind : "127.0.0.1";

    memset(ss, 0, sizeof(*ss));
    if (c->port > 65535)
        return base_err_set(err, BASE_E_INVALID, "invalid", "listen", "port out of range");
    if (inet_pton(AF_INET, bind, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)c->port);
        *v6 = false;
        return BASE_OK;
    }
    if (inet_pton(AF_INET6, bind, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)c->port);
        *v6 = true;
        return BASE_OK;
    }
    return base_err_set(err, BASE_E_INVALID, "invalid", "listen",
                        "listen address must be an IPv4 or IPv6 address");
}

static int
add_metrics(struct gw_http_server *s, struct base_err *err)
{
    s->metrics = s->cfg->metrics;
    if (s->metrics == NULL) {
        s->metrics = gw_http_metrics_new();
        s->own_metrics = true;
    }
    if (s->metrics == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    s->m_requests = gw_http_metrics_add(s->metrics, GW_HTTP_METRIC_COUNTER,
                                        "fhirgate_http_requests_total",
                                        "HTTP requests answered, by method, route and status.",
                                        "method,route,status", NULL, 0);
    s->m_latency = gw_http_metrics_add(s->metrics, GW_HTTP_METRIC_HISTOGRAM,
                                       "fhirgate_http_request_duration_seconds",
                                       "Time from request line to completion, by route.", "route",
                                       NULL, 0);
    s->m_cut = gw_http_metrics_add(s->metrics, GW_HTTP_METRIC_COUNTER,
                                   "fhirgate_http_connections_cut_total",
                                   "Connections closed for missing a deadline, by what they "
                                   "were waiting for.",
                                   "reason", NULL, 0);
    s->m_conns = gw_http_metrics_add(s->metrics, GW_HTTP_METRIC_GAUGE, "fhirgate_http_connections",
                                     "Open client connections.", NULL, NULL, 0);
    s->m_inflight = gw_http_metrics_add(s->metrics, GW_HTTP_METRIC_GAUGE,
                                        "fhirgate_http_inflight",
                                        "Requests received and not yet completed.", NULL, NULL, 0);
    s->m_suspended = gw_http_metrics_add(s->metrics, GW_HTTP_METRIC_GAUGE,
                                         "fhirgate_http_suspended",
                                         "Requests waiting on another thread (suspended).", NULL,
                                         NULL, 0);
    if (s->m_requests == NULL || s->m_latency == NULL || s->m_cut == NULL || s->m_conns == NULL ||
        s->m_inflight == NULL || s->m_suspended == NULL)
        return base_err_set(err, BASE_E_INVALID, "invalid", "metrics",
                            "could not register the HTTP metrics");
    return BASE_OK;
}

static size_t
online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (size_t)n : 1;
}

#define OPT(o, v, p) ((struct MHD_OptionItem){(o), (intptr_t)(v), (p)})

static int
start_daemon(struct gw_http_server *s, struct base_err *err)
{
    const struct gw_http_config *c = s->cfg;
    struct MHD_OptionItem opts[32];
    struct sockaddr_storage ss;
    size_t n = 0;
    size_t threads = c->threads != 0 ? c->threads : online_cpus();
    unsigned flags = MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                     (c->event_loop == GW_HTTP_LOOP_EPOLL ? MHD_USE_EPOLL_INTERNAL_THREAD
                                                          : MHD_USE_POLL_INTERNAL_THREAD);
    bool v6 = false;
    const union MHD_DaemonInfo *di;

    TRY(make_address(c, &ss, &v6, err));
    if (v6)
        flags |= MHD_USE_IPv6;
    /* the logger first, or MHD prints the messages of earlier options itself */
    opts[n++] = OPT(MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s);
    opts[n++] = OPT(MHD_OPTION_SOCK_ADDR, 0, &ss);
    opts[n++] = OPT(MHD_OPTION_URI_LOG_CALLBACK, gw_http__uri_log, s);
    opts[n++] = OPT(MHD_OPTION_NOTIFY_COMPLETED, gw_http__completed, s);
    opts[n++] = OPT(MHD_OPTION_NOTIFY_CONNECTION, notify_connection, s);
    opts[n++] = OPT(MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, s);
    opts[n++] = OPT(MHD_OPTION_CONNECTION_LIMIT, s->lim.max_connections, NULL);
    if (s->lim.max_per_ip > 0)
        opts[n++] = OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->lim.max_per_ip, NULL);
    opts[n++] = OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->lim.conn_memory, NULL);
    opts[n++] = OPT(MHD_OPTION_CONNECTION_MEMORY_INCREMENT, 1024, NULL);
    opts[n++] = OPT(MHD_OPTION_CONNECTION_TIMEOUT, (s->lim.idle_timeout_ms + 999u) / 1000u, NULL);
    opts[n++] = OPT(MHD_OPTION_LISTEN_BACKLOG_SIZE, 511, NULL);
    if (threads > 1)
        opts[n++] = OPT(MHD_OPTION_THREAD_POOL_SIZE, threads, NULL);
    if (s->tls) {
        flags |= MHD_USE_TLS;
        opts[n++] = OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, s->key_pem);
        opts[n++] = OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert_pem);
        opts[n++] = OPT(MHD_OPTION_HTTPS_PRIORITIES, 0,
                        (void *)(uintptr_t)(c->tls_priorities != NULL ? c->tls_priorities
                                                                       : GW_HTTP_TLS_PRIORITIES));
        if (c->client_auth != GW_HTTP_CLIENT_AUTH_NONE)
            opts[n++] = OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, s->ca_pem);
    }
    opts[n++] = OPT(MHD_OPTION_END, 0, NULL);
    s->d = MHD_start_daemon(flags, (uint16_t)c->port, NULL, NULL, gw_http__access, s,
                            MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (s->d == NULL)
        return base_err_set(err, BASE_E_IO, "exception", "listen",
                            "could not listen on %s port %u (in use, bad address, or bad TLS "
                            "material or priorities)",
                            c->bind != NULL ? c->bind : "127.0.0.1", c->port);
    atomic_store(&s->running, true);
    di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di != NULL ? di->port : c->port;
    BASE_LOG(BASE_LOG_INFO, "http_listen", "name=%s address=%s port=%u tls=%d client_auth=%d "
                                           "threads=%zu loop=%s",
             c->name != NULL ? c->name : "http", c->bind != NULL ? c->bind : "127.0.0.1", s->port,
             s->tls ? 1 : 0, (int)c->client_auth, threads,
             c->event_loop == GW_HTTP_LOOP_EPOLL ? "epoll" : "poll");
    return BASE_OK;
}

static void server_free(struct gw_http_server *s);

static int
init_server(struct gw_http_server *s, const struct gw_http_config *cfg, struct base_err *err)
{
    s->cfg = cfg;
    s->lim = cfg->limits;
    s->tls = !cfg->plain_http;
    TRY(check_limits(&s->lim, err));
    if (pthread_mutex_init(&s->conn_lock, NULL) != 0 ||
        pthread_mutex_init(&s->async_lock, NULL) != 0 ||
        pthread_mutex_init(&s->sweep_lock, NULL) != 0 ||
        pthread_cond_init(&s->sweep_cond, NULL) != 0)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "could not create locks");
    s->arena = base_arena_new(0);
    if (s->arena == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    TRY(gw_http_router_new(s->arena, cfg->routes, cfg->route_count, &s->router, err));
    TRY(add_metrics(s, err));
    TRY(gw_http__tls_load(s, err));
    s->csp = cfg->csp != NULL ? cfg->csp : GW_HTTP_DEFAULT_CSP;
    TRY(gw_http__cors_init(s, err));
    if (s->tls && cfg->hsts_max_age_s > 0) {
        s->hsts = base_arena_sprintf(s->arena, "max-age=%u; includeSubDomains",
                                     cfg->hsts_max_age_s);
        if (s->hsts == NULL)
            return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    }
    return BASE_OK;
}

int
gw_http_server_start(const struct gw_http_config *cfg, struct gw_http_server **out,
                     struct base_err *err)
{
    struct gw_http_server *s = base_calloc(1, sizeof(*s));
    int rc;

    *out = NULL;
    if (s == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    rc = init_server(s, cfg, err);
    if (rc == BASE_OK)
        rc = start_daemon(s, err);
    if (rc == BASE_OK && pthread_create(&s->sweeper, NULL, sweeper_main, s) != 0)
        rc = base_err_set(err, BASE_E_NOMEM, "exception", NULL, "could not start a thread");
    if (rc != BASE_OK) {
        server_free(s);
        return rc;
    }
    s->sweeper_started = true;
    *out = s;
    return BASE_OK;
}

unsigned
gw_http_server_port(const struct gw_http_server *s)
{
    return s->port;
}

struct gw_http_metrics *
gw_http_server_metrics(const struct gw_http_server *s)
{
    return s->metrics;
}

bool
gw_http_server_draining(const struct gw_http_server *s)
{
    return atomic_load(&s->draining);
}

/* ---------------------------------------------------------------- stop -- */

static void
sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Wait until nothing is in flight (or suspended), or `until` passes. */
static bool
wait_idle(struct gw_http_server *s, int64_t until, bool only_suspended)
{
    for (;;) {
        bool idle = atomic_load(&s->n_suspended) == 0 &&
                    (only_suspended || atomic_load(&s->inflight) == 0);

        if (idle)
            return true;
        if (gw_http__now_ms() >= until)
            return false;
        sleep_ms(5);
    }
}

static void
server_free(struct gw_http_server *s)
{
    if (s->sweeper_started) {
        pthread_mutex_lock(&s->sweep_lock);
        s->sweep_stop = true;
        pthread_cond_signal(&s->sweep_cond);
        pthread_mutex_unlock(&s->sweep_lock);
        pthread_join(s->sweeper, NULL);
    }
    if (s->d != NULL)
        MHD_stop_daemon(s->d);
    gw_http__tls_free(s);
    if (s->own_metrics)
        gw_http_metrics_free(s->metrics);
    base_arena_free(s->arena);
    pthread_mutex_destroy(&s->conn_lock);
    pthread_mutex_destroy(&s->async_lock);
    pthread_mutex_destroy(&s->sweep_lock);
    pthread_cond_destroy(&s->sweep_cond);
    base_free(s);
}

size_t
gw_http_server_stop(struct gw_http_server *s, unsigned deadline_ms)
{
    int64_t until = gw_http__now_ms() + (int64_t)deadline_ms;
    MHD_socket lsock;
    size_t cancelled;

    atomic_store(&s->draining, true);
    lsock = MHD_quiesce_daemon(s->d); /* no new connections from here on */
    (void)wait_idle(s, until, false);
    cancelled = gw_http__async_cancel_all(s);
    /* MHD_stop_daemon() must not see a suspended connection: wait until
     * every cancelled one has been answered on its pool thread.  That only
     * takes a poll cycle, but never give up: a panic is worse than a wait. */
    while (!wait_idle(s, gw_http__now_ms() + 1000, true))
        BASE_LOG(BASE_LOG_WARN, "http_stop_waiting", "suspended=%zu",
                 (size_t)atomic_load(&s->n_suspended));
    /* let the answers just queued leave before connections are closed */
    (void)wait_idle(s, gw_http__now_ms() + 500, false);
    /* a cancelled holder's later gw_http_resume() only touches its request,
     * which its reference keeps alive: the server can go */
    BASE_LOG(BASE_LOG_INFO, "http_stopped", "cancelled=%zu inflight=%zu", cancelled,
             (size_t)atomic_load(&s->inflight));
    server_free(s);
    if (lsock != MHD_INVALID_SOCKET)
        close(lsock); /* after MHD_stop_daemon, as MHD_quiesce_daemon requires */
    return cancelled;
}
