/*
 * The MLLP listener for real, over TCP on 127.0.0.1 (port chosen by the
 * kernel): many clients, ordered asynchronous ACKs from a batching
 * committer, back-pressure, silent and never-ending clients, oversized
 * frames, garbage between frames, TLS with client certificates, and HL7
 * messages acknowledged end to end.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "adapters/hl7v2/hl7v2.h"
#include "adapters/mllp/mllp.h"
#include "fhir/base/arena.h"
#include "test/support/testutil.h"

/* ------------------------------------------------------------- harness -- */

struct server {
    struct mllp_listener *l;
    pthread_t th;
    uint16_t port;
};

static void *
run_thread(void *arg)
{
    struct server *s = arg;

    (void)mllp_listener_run(s->l);
    return NULL;
}

static void
server_start(struct server *s, struct mllp_listener_cfg *cfg)
{
    struct base_err err = {0};

    ck_assert_msg(mllp_listener_new(cfg, &s->l, &err) == BASE_OK, "%s: %s", err.where, err.msg);
    s->port = mllp_listener_port(s->l);
    ck_assert_uint_gt(s->port, 0);
    ck_assert_int_eq(pthread_create(&s->th, NULL, run_thread, s), 0);
}

static void
server_stop(struct server *s)
{
    mllp_listener_stop(s->l);
    pthread_join(s->th, NULL);
    mllp_listener_free(s->l);
}

static uint64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static int
client(uint16_t port, unsigned timeout_ms)
{
    struct sockaddr_in sa;
    struct timeval tv = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void
send_all(int fd, const void *p, size_t n)
{
    ck_assert_int_eq(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void
send_frame(int fd, const char *msg)
{
    struct base_buf b;

    base_buf_init(&b, 0);
    ck_assert_int_eq(mllp_frame(&b, msg, strlen(msg)), BASE_OK);
    send_all(fd, b.data, b.len);
    base_buf_fini(&b);
}

/* Reads one frame into out (NUL-terminated); false on EOF/timeout. */
struct reader {
    struct mllp_deframer d;
    char buf[8192];
    size_t len;
    size_t off;
};

static bool
read_frame(int fd, struct reader *r, char *out, size_t cap)
{
    for (;;) {
        struct base_str f;
        size_t used = 0;

        if (r->off < r->len) {
            int rc = mllp_deframer_feed(&r->d, r->buf + r->off, r->len - r->off, &used, &f, NULL);

            r->off += used;
            if (rc == MLLP_FRAME) {
                ck_assert_uint_lt(f.len, cap);
                memcpy(out, f.ptr, f.len);
                out[f.len] = '\0';
                return true;
            }
            continue;
        }
        {
            ssize_t n = recv(fd, r->buf, sizeof(r->buf), 0);

            if (n <= 0)
                return false;
            r->len = (size_t)n;
            r->off = 0;
        }
    }
}

/* Poll the listener's counters until field >= want (or 10 s pass). */
static struct mllp_stats
wait_stat(struct mllp_listener *l, size_t offset, uint64_t want)
{
    struct mllp_stats st;
    uint64_t end = now_ms() + 10000;

    do {
        mllp_listener_stats(l, &st);
        if (*(const uint64_t *)((const char *)&st + offset) >= want)
            break;
        sleep_ms(10);
    } while (now_ms() < end);
    return st;
}

#define WAIT_STAT(l, field, want) wait_stat((l), offsetof(struct mllp_stats, field), (want))

/* Does the server close the connection (EOF/reset) within ms? */
static bool
closed_within(int fd, unsigned ms)
{
    uint64_t end = now_ms() + ms;
    char c;

    while (now_ms() < end) {
        ssize_t n = recv(fd, &c, 1, 0);

        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return true;
    }
    return false;
}

/* ------------------------------------------------------------ callbacks -- */

/* Synchronous: ACK "ACK <seq> <len>" at once. */
static void
ingest_echo(void *ctx, struct mllp_listener *l, const struct mllp_msg *m, struct mllp_ticket t)
{
    char ack[64];
    int n = snprintf(ack, sizeof(ack), "ACK %llu %zu", (unsigned long long)t.seq, m->len);

    (void)ctx;
    ck_assert_int_eq(mllp_listener_complete(l, t, ack, (size_t)n), BASE_OK);
}

/* A committer thread: takes messages as they come, "commits" them in
 * batches (here: every 25 ms or 64 messages), then completes each batch in
 * reverse order, so the listener has to restore per-connection order. */
struct committer {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct mllp_listener *l;
    struct mllp_ticket t[4096];
    size_t lens[4096];
    size_t n;
    bool quit;
    size_t batches;
    size_t hold; /* > 0: complete nothing until n >= hold */
    pthread_t th;
};

static void
ingest_commit(void *ctx, struct mllp_listener *l, const struct mllp_msg *m, struct mllp_ticket t)
{
    struct committer *c = ctx;

    pthread_mutex_lock(&c->mu);
    ck_assert_uint_lt(c->n, 4096);
    c->l = l;
    c->lens[c->n] = m->len;
    c->t[c->n++] = t;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void *
committer_thread(void *arg)
{
    struct committer *c = arg;

    pthread_mutex_lock(&c->mu);
    while (!c->quit) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 25000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&c->cv, &c->mu, &ts);
        if (c->n == 0 || (c->hold > 0 && c->n < c->hold))
            continue;
        for (size_t i = c->n; i-- > 0;) {
            char ack[64];
            int k = snprintf(ack, sizeof(ack), "ACK %llu %zu", (unsigned long long)c->t[i].seq,
                             c->lens[i]);

            ck_assert_int_eq(mllp_listener_complete(c->l, c->t[i], ack, (size_t)k), BASE_OK);
        }
        c->n = 0;
        c->batches++;
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static void
committer_start(struct committer *c)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    ck_assert_int_eq(pthread_create(&c->th, NULL, committer_thread, c), 0);
}

static void
committer_stop(struct committer *c)
{
    pthread_mutex_lock(&c->mu);
    c->quit = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->th, NULL);
}

/* ---------------------------------------------------------------- tests -- */

START_TEST(acks_in_order_for_several_frames_per_write)
{
    static const char three[] = "\x0b"
                                "one\x1c\r"
                                "\x0b"
                                "three\x1c\r"
                                "\x0b"
                                "two22\x1c\r";
    struct mllp_listener_cfg cfg = {.ingest = ingest_echo};
    struct server s;
    struct reader r = {0};
    char ack[256];
    int fd;

    server_start(&s, &cfg);
    fd = client(s.port, 5000);
    mllp_deframer_init(&r.d, 0);
    send_all(fd, three, sizeof(three) - 1);
    ck_assert(read_frame(fd, &r, ack, sizeof(ack)));
    ck_assert_str_eq(ack, "ACK 0 3");
    ck_assert(read_frame(fd, &r, ack, sizeof(ack)));
    ck_assert_str_eq(ack, "ACK 1 5");
    ck_assert(read_frame(fd, &r, ack, sizeof(ack)));
    ck_assert_str_eq(ack, "ACK 2 5");
    close(fd);
    mllp_deframer_fini(&r.d);
    server_stop(&s);
}
END_TEST

struct load_arg {
    uint16_t port;
    int id;
    int nmsgs;
    int ok;
};

static void *
load_client(void *arg)
{
    struct load_arg *a = arg;
    struct reader r = {0};
    char ack[256];
    char msg[128];
    int fd = client(a->port, 10000);

    mllp_deframer_init(&r.d, 0);
    for (int i = 0; i < a->nmsgs; i++) {
        snprintf(msg, sizeof(msg), "MSH|client %d message %d", a->id, i);
        send_frame(fd, msg); /* pipelined: no wait for the ACK */
    }
    for (int i = 0; i < a->nmsgs; i++) {
        char want[64];

        snprintf(msg, sizeof(msg), "MSH|client %d message %d", a->id, i);
        snprintf(want, sizeof(want), "ACK %d %zu", i, strlen(msg));
        if (read_frame(fd, &r, ack, sizeof(ack)) && strcmp(ack, want) == 0)
            a->ok++;
    }
    close(fd);
    mllp_deframer_fini(&r.d);
    return NULL;
}

START_TEST(many_clients_batched_commits)
{
    struct committer cm;
    struct mllp_listener_cfg cfg = {.ingest = ingest_commit};
    struct server s;
    struct load_arg args[40];
    pthread_t th[40];
    struct mllp_stats st;

    committer_start(&cm);
    cfg.ingest_ctx = &cm;
    server_start(&s, &cfg);
    for (int i = 0; i < 40; i++) {
        args[i] = (struct load_arg){s.port, i, 50, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, load_client, &args[i]), 0);
    }
    for (int i = 0; i < 40; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(args[i].ok, 50);
    }
    mllp_listener_stats(s.l, &st);
    ck_assert_uint_eq(st.frames, 2000);
    ck_assert_uint_eq(st.acks, 2000);
    ck_assert_uint_ge(st.accepted, 40);
    /* fewer commits than messages: batching worked */
    ck_assert_uint_lt(cm.batches, 2000);
    server_stop(&s);
    committer_stop(&cm);
}
END_TEST

START_TEST(backpressure_and_no_ack_before_commit)
{
    struct committer cm;
    struct mllp_listener_cfg cfg = {.ingest = ingest_commit, .max_inflight = 2};
    struct server s;
    struct reader r = {0};
    struct mllp_stats st;
    char ack[64];
    int fd;

    committer_start(&cm);
    cm.hold = 1000; /* commit nothing for now */
    cfg.ingest_ctx = &cm;
    server_start(&s, &cfg);
    fd = client(s.port, 300);
    mllp_deframer_init(&r.d, 0);
    for (int i = 0; i < 6; i++)
        send_frame(fd, "MSH|x");
    WAIT_STAT(s.l, frames, 2);
    sleep_ms(200);
    mllp_listener_stats(s.l, &st);
    ck_assert_uint_eq(st.frames, 2);                  /* reading paused at max_inflight */
    ck_assert(!read_frame(fd, &r, ack, sizeof(ack))); /* nothing committed: no ACK */
    pthread_mutex_lock(&cm.mu);
    cm.hold = 0;
    pthread_cond_signal(&cm.cv);
    pthread_mutex_unlock(&cm.mu);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){5, 0}, sizeof(struct timeval));
    for (int i = 0; i < 6; i++) {
        char want[32];

        snprintf(want, sizeof(want), "ACK %d 5", i);
        ck_assert(read_frame(fd, &r, ack, sizeof(ack)));
        ck_assert_str_eq(ack, want);
    }
    close(fd);
    mllp_deframer_fini(&r.d);
    server_stop(&s);
    committer_stop(&cm);
}
END_TEST

START_TEST(silent_and_endless_clients_are_cut_off)
{
    struct mllp_listener_cfg cfg = {.ingest = ingest_echo, .idle_ms = 300, .frame_ms = 600};
    struct server s;
    struct reader r = {0};
    struct mllp_stats st;
    char ack[64];
    int silent;
    int endless;
    int good;
    bool silent_gone = false;
    bool endless_gone = false;
    uint64_t t0;
    uint64_t silent_at = 0;

    server_start(&s, &cfg);
    silent = client(s.port, 10);
    endless = client(s.port, 10);
    good = client(s.port, 3000);
    mllp_deframer_init(&r.d, 0);
    t0 = now_ms();
    send_all(endless, "\x0bMSH|never ends", 15);
    while ((!silent_gone || !endless_gone) && now_ms() - t0 < 5000) {
        /* the good client is served all along */
        send_frame(good, "MSH|ok");
        ck_assert(read_frame(good, &r, ack, sizeof(ack)));
        if (!silent_gone && closed_within(silent, 20)) {
            silent_gone = true;
            silent_at = now_ms() - t0;
        }
        if (!endless_gone && closed_within(endless, 20))
            endless_gone = true;
        if (!endless_gone)
            send(endless, "x", 1, MSG_NOSIGNAL); /* activity does not excuse an unending frame */
        sleep_ms(30);
    }
    ck_assert(silent_gone);
    ck_assert(endless_gone);
    ck_assert_uint_ge(silent_at, 250);
    send_frame(good, "MSH|still ok");
    ck_assert(read_frame(good, &r, ack, sizeof(ack)));
    mllp_listener_stats(s.l, &st);
    ck_assert_uint_ge(st.timeouts, 2);
    close(silent);
    close(endless);
    close(good);
    mllp_deframer_fini(&r.d);
    server_stop(&s);
}
END_TEST

START_TEST(oversized_frame_closes_only_that_client)
{
    struct mllp_listener_cfg cfg = {.ingest = ingest_echo, .max_frame = 1024};
    struct server s;
    struct reader r = {0};
    struct mllp_stats st;
    char big[4096];
    char ack[64];
    int bad;
    int good;

    server_start(&s, &cfg);
    bad = client(s.port, 3000);
    good = client(s.port, 3000);
    mllp_deframer_init(&r.d, 0);
    big[0] = 0x0b;
    memset(big + 1, 'A', sizeof(big) - 1);
    send_all(bad, big, sizeof(big));
    ck_assert(closed_within(bad, 3000));
    send_frame(good, "MSH|fine");
    ck_assert(read_frame(good, &r, ack, sizeof(ack)));
    ck_assert_str_eq(ack, "ACK 0 8");
    mllp_listener_stats(s.l, &st);
    ck_assert_uint_eq(st.protocol_errors, 1);
    close(bad);
    close(good);
    mllp_deframer_fini(&r.d);
    server_stop(&s);
}
END_TEST

START_TEST(garbage_between_frames_and_slow_bytes)
{
    struct mllp_listener_cfg cfg = {.ingest = ingest_echo};
    struct server s;
    struct reader r = {0};
    struct mllp_stats st;
    const char stream[] = "noise\r\n\x0b"
                          "A\x1c\r\n\n\x0b"
                          "BB\x1c\rtail";
    char ack[64];
    int fd;

    server_start(&s, &cfg);
    fd = client(s.port, 3000);
    mllp_deframer_init(&r.d, 0);
    for (size_t i = 0; i < sizeof(stream) - 1; i++) {
        send_all(fd, stream + i, 1); /* one byte per segment */
        if (i % 4 == 0)
            sleep_ms(5);
    }
    ck_assert(read_frame(fd, &r, ack, sizeof(ack)));
    ck_assert_str_eq(ack, "ACK 0 1");
    ck_assert(read_frame(fd, &r, ack, sizeof(ack)));
    ck_assert_str_eq(ack, "ACK 1 2");
    st = WAIT_STAT(s.l, garbage_bytes, 7 + 2 + 4);
    ck_assert_uint_eq(st.garbage_bytes, 7 + 2 + 4);
    close(fd);
    mllp_deframer_fini(&r.d);
    server_stop(&s);
}
END_TEST

START_TEST(completion_after_disconnect_is_dropped)
{
    struct committer cm;
    struct mllp_listener_cfg cfg = {.ingest = ingest_commit};
    struct server s;
    struct mllp_stats st;
    int fd;

    committer_start(&cm);
    cm.hold = 1;
    cfg.ingest_ctx = &cm;
    pthread_mutex_lock(&cm.mu);
    cm.hold = 1000;
    pthread_mutex_unlock(&cm.mu);
    server_start(&s, &cfg);
    fd = client(s.port, 1000);
    send_frame(fd, "MSH|gone");
    WAIT_STAT(s.l, frames, 1);
    /* reset, not a half-close: a half-closed peer may still read its ACK */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){1, 0}, sizeof(struct linger));
    close(fd);
    for (uint64_t end = now_ms() + 10000; now_ms() < end; sleep_ms(10)) {
        mllp_listener_stats(s.l, &st);
        if (st.open == 0)
            break; /* the listener has seen the reset */
    }
    pthread_mutex_lock(&cm.mu);
    cm.hold = 0;
    pthread_cond_signal(&cm.cv);
    pthread_mutex_unlock(&cm.mu);
    st = WAIT_STAT(s.l, dropped_acks, 1);
    ck_assert_uint_eq(st.frames, 1);
    ck_assert_uint_eq(st.acks, 0);
    ck_assert_uint_eq(st.dropped_acks, 1);
    ck_assert_uint_eq(st.open, 0);
    server_stop(&s);
    committer_stop(&cm);
}
END_TEST

START_TEST(too_many_clients_are_refused)
{
    struct mllp_listener_cfg cfg = {.ingest = ingest_echo, .max_clients = 2};
    struct server s;
    struct mllp_stats st;
    int a;
    int b;
    int c;

    server_start(&s, &cfg);
    a = client(s.port, 1000);
    b = client(s.port, 1000);
    WAIT_STAT(s.l, accepted, 2);
    c = client(s.port, 1000);
    ck_assert(closed_within(c, 2000));
    mllp_listener_stats(s.l, &st);
    ck_assert_uint_eq(st.refused, 1);
    close(a);
    close(b);
    close(c);
    server_stop(&s);
}
END_TEST

/* A drain: the listening socket closes — a new connection is refused —
 * while an open connection is still served and ACKed. */
START_TEST(close_listen_refuses_new_clients_serves_open_ones)
{
    struct mllp_listener_cfg cfg = {.ingest = ingest_echo};
    struct server s;
    struct reader rd = {0};
    struct sockaddr_in sa;
    char ack[4096];
    int a;
    int b;
    int rc = 0;
    int err = 0;

    server_start(&s, &cfg);
    mllp_deframer_init(&rd.d, 0);
    a = client(s.port, 3000);
    WAIT_STAT(s.l, accepted, 1);
    mllp_listener_close_listen(s.l);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(s.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /*
     * The loop thread closes it within a wake-up.  An attempt whose handshake
     * was in the backlog when the socket closed is reset (ECONNRESET): that
     * races with the close, so try again until the port itself refuses.
     */
    for (int i = 0; i < 500; i++) {
        b = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_ge(b, 0);
        rc = connect(b, (struct sockaddr *)&sa, sizeof(sa));
        err = rc != 0 ? errno : 0;
        close(b);
        if (err == ECONNREFUSED)
            break;
        sleep_ms(10);
    }
    ck_assert_msg(err == ECONNREFUSED,
                  "a new connection was still accepted (connect: %d, errno %d)", rc, err);
    send_frame(a, "MSH|^~\\&|A|B|C|D|20240101||ADT^A01|M1|P|2.5\r");
    ck_assert_msg(read_frame(a, &rd, ack, sizeof(ack)), "the open connection got no ACK");
    ck_assert_str_eq(ack, "ACK 0 44"); /* seq 0, the 44-byte message */
    close(a);
    mllp_deframer_fini(&rd.d);
    server_stop(&s);
}
END_TEST

START_TEST(bad_configuration)
{
    struct mllp_listener_cfg cfg = {.ingest = ingest_echo, .bind_addr = "not-an-ip"};
    struct mllp_listener *l = NULL;
    struct base_err err = {0};

    ck_assert_int_eq(mllp_listener_new(&cfg, &l, &err), BASE_E_INVALID);
    cfg.bind_addr = NULL;
    cfg.ingest = NULL;
    ck_assert_int_eq(mllp_listener_new(&cfg, &l, &err), BASE_E_INVALID);
    cfg.ingest = ingest_echo;
    cfg.tls_cert_file = "/nonexistent.pem";
    ck_assert_int_eq(mllp_listener_new(&cfg, &l, &err), BASE_E_INVALID); /* no key */
    cfg.tls_key_file = "/nonexistent.key";
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(mllp_listener_new(&cfg, &l, &err), BASE_E_IO);
    ck_assert_str_eq(err.msg, "could not load the certificate file");
}
END_TEST

/* --------------------------------------------------------------- HL7 -- */

static void
ingest_hl7(void *ctx, struct mllp_listener *l, const struct mllp_msg *m, struct mllp_ticket t)
{
    struct base_arena *a = base_arena_new(0);
    struct hl7v2_msg *msg = NULL;
    struct base_err why = {0};
    struct base_err err = {0};
    struct hl7v2_ack_opts o = {"FHIRGATE", "TEST", "ACK1", "20240301000000+0800"};
    struct base_str ack;
    int rc = hl7v2_msg_parse(a, m->data, m->len, NULL, NULL, &msg, &why);

    (void)ctx;
    ck_assert_int_eq(hl7v2_ack_build(a, msg, base_str_make(m->data, m->len),
                                     rc == BASE_OK ? HL7V2_ACK_AA : HL7V2_ACK_AR, &why, &o, &ack,
                                     &err),
                     BASE_OK);
    ck_assert_int_eq(mllp_listener_complete(l, t, ack.ptr, ack.len), BASE_OK);
    base_arena_free(a);
}

START_TEST(hl7_messages_acknowledged_end_to_end)
{
    struct mllp_listener_cfg cfg = {.ingest = ingest_hl7};
    struct server s;
    struct reader r = {0};
    char ack[2048];
    size_t len = 0;
    char *msg = tu_read_file(tu_corpus_path("hl7v2/valid/LAB-ORU-1.hl7"), &len);
    struct base_buf b;
    int fd;

    ck_assert_ptr_nonnull(msg);
    server_start(&s, &cfg);
    fd = client(s.port, 5000);
    mllp_deframer_init(&r.d, 0);
    base_buf_init(&b, 0);
    ck_assert_int_eq(mllp_frame(&b, msg, len), BASE_OK);
    send_all(fd, b.data, b.len);
    ck_assert(read_frame(fd, &r, ack, sizeof(ack)));
    ck_assert_ptr_nonnull(strstr(ack, "\rMSA|AA|182\r"));
    ck_assert(strncmp(ack, "MSH|^~\\&|FHIRGATE|TEST|SomeSystem||", 35) == 0);
    send_frame(fd, "not HL7 at all");
    ck_assert(read_frame(fd, &r, ack, sizeof(ack)));
    ck_assert_ptr_nonnull(
        strstr(ack, "\rMSA|AR|\rERR||^1^|100^Segment sequence error^HL70357|E||||"));
    close(fd);
    base_buf_fini(&b);
    free(msg);
    mllp_deframer_fini(&r.d);
    server_stop(&s);
}
END_TEST

/* ---------------------------------------------------------------- TLS -- */

static EVP_PKEY *
new_key(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");

    ck_assert_ptr_nonnull(k);
    return k;
}

static X509 *
new_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, bool ca)
{
    X509 *x = X509_new();
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    static long serial = 1;

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(issuer != NULL ? issuer : x));
    X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    ext =
        X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    if (!ca) {
        ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1");
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    ck_assert_int_gt(X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256()), 0);
    return x;
}

static void
write_pem(const char *dir, const char *name, X509 *cert, EVP_PKEY *key)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    if (cert != NULL)
        PEM_write_X509(f, cert);
    if (key != NULL)
        PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
}

struct pki {
    char dir[256];
    EVP_PKEY *ca_key, *srv_key, *cli_key, *rogue_key;
    X509 *ca, *srv, *cli, *rogue;
};

static void
make_pki(struct pki *p)
{
    const char *tmp = getenv("FHIRGATE_TEST_TMP");

    snprintf(p->dir, sizeof(p->dir), "%s/mllp-tls-XXXXXX", tmp != NULL ? tmp : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(p->dir));
    p->ca_key = new_key();
    p->ca = new_cert(p->ca_key, "Test Region CA", NULL, NULL, true);
    p->srv_key = new_key();
    p->srv = new_cert(p->srv_key, "127.0.0.1", p->ca, p->ca_key, false);
    p->cli_key = new_key();
    p->cli = new_cert(p->cli_key, "his.hospital-a.example", p->ca, p->ca_key, false);
    p->rogue_key = new_key();
    p->rogue = new_cert(p->rogue_key, "rogue", NULL, NULL, false); /* self-signed */
    write_pem(p->dir, "ca.pem", p->ca, NULL);
    write_pem(p->dir, "server.pem", p->srv, NULL);
    write_pem(p->dir, "server.key", NULL, p->srv_key);
}

static void
free_pki(struct pki *p)
{
    const char *names[] = {"ca.pem", "server.pem", "server.key"};

    for (size_t i = 0; i < 3; i++) {
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", p->dir, names[i]);
        unlink(path);
    }
    rmdir(p->dir);
    X509_free(p->ca);
    X509_free(p->srv);
    X509_free(p->cli);
    X509_free(p->rogue);
    EVP_PKEY_free(p->ca_key);
    EVP_PKEY_free(p->srv_key);
    EVP_PKEY_free(p->cli_key);
    EVP_PKEY_free(p->rogue_key);
}

/* TLS client: send one frame, return the ACK (or "" when refused). */
static void
tls_exchange(struct pki *p, uint16_t port, X509 *cert, EVP_PKEY *key, char *out, size_t cap)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    int fd = client(port, 3000);
    SSL *ssl;
    char buf[512];
    size_t got = 0;
    struct base_buf b;

    X509_STORE_add_cert(store, p->ca);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (cert != NULL) {
        SSL_CTX_use_certificate(ctx, cert);
        SSL_CTX_use_PrivateKey(ctx, key);
    }
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    out[0] = '\0';
    base_buf_init(&b, 0);
    ck_assert_int_eq(mllp_frame(&b, "MSH|tls", 7), BASE_OK);
    if (SSL_connect(ssl) == 1 && SSL_write(ssl, b.data, (int)b.len) == (int)b.len) {
        for (;;) {
            int n = SSL_read(ssl, buf + got, (int)(sizeof(buf) - got));

            if (n <= 0)
                break;
            got += (size_t)n;
            if (got >= 3 && buf[got - 2] == 0x1c && buf[got - 1] == '\r')
                break;
        }
        if (got >= 3 && buf[0] == 0x0b) {
            snprintf(out, cap, "%.*s", (int)(got - 3), buf + 1);
        }
    }
    ERR_clear_error();
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    base_buf_fini(&b);
}

START_TEST(tls_with_client_certificates)
{
    struct pki p;
    char cert[600];
    char key[600];
    char ca[600];
    struct mllp_listener_cfg cfg = {.ingest = ingest_echo};
    struct server s;
    struct mllp_stats st;
    char ack[256];

    make_pki(&p);
    snprintf(cert, sizeof(cert), "%s/server.pem", p.dir);
    snprintf(key, sizeof(key), "%s/server.key", p.dir);
    snprintf(ca, sizeof(ca), "%s/ca.pem", p.dir);
    cfg.tls_cert_file = cert;
    cfg.tls_key_file = key;
    cfg.tls_ca_file = ca;
    server_start(&s, &cfg);
    tls_exchange(&p, s.port, p.cli, p.cli_key, ack, sizeof(ack));
    ck_assert_str_eq(ack, "ACK 0 7");
    tls_exchange(&p, s.port, NULL, NULL, ack, sizeof(ack)); /* no certificate */
    ck_assert_str_eq(ack, "");
    tls_exchange(&p, s.port, p.rogue, p.rogue_key, ack, sizeof(ack)); /* another CA */
    ck_assert_str_eq(ack, "");
    {
        /* plain MLLP to a TLS port: nothing is ingested */
        int fd = client(s.port, 500);

        send_frame(fd, "MSH|plain");
        ck_assert(closed_within(fd, 3000));
        close(fd);
    }
    mllp_listener_stats(s.l, &st);
    ck_assert_uint_eq(st.frames, 1);
    ck_assert_uint_ge(st.protocol_errors, 2);
    server_stop(&s);
    free_pki(&p);
}
END_TEST

Suite *mllp_listener_suite(void);

Suite *
mllp_listener_suite(void)
{
    Suite *s = suite_create("mllp_listener");
    TCase *tc = tcase_create("tcp");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, acks_in_order_for_several_frames_per_write);
    tcase_add_test(tc, many_clients_batched_commits);
    tcase_add_test(tc, backpressure_and_no_ack_before_commit);
    tcase_add_test(tc, silent_and_endless_clients_are_cut_off);
    tcase_add_test(tc, oversized_frame_closes_only_that_client);
    tcase_add_test(tc, garbage_between_frames_and_slow_bytes);
    tcase_add_test(tc, completion_after_disconnect_is_dropped);
    tcase_add_test(tc, too_many_clients_are_refused);
    tcase_add_test(tc, close_listen_refuses_new_clients_serves_open_ones);
    tcase_add_test(tc, bad_configuration);
    tcase_add_test(tc, hl7_messages_acknowledged_end_to_end);
    tcase_add_test(tc, tls_with_client_certificates);
    suite_add_tcase(s, tc);
    return s;
}
