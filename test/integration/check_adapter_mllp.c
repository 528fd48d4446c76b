/*
 * The real bin/fhirgate-adapter over MLLP (issue #3): every corpus message
 * through the listener (AA and stored valid, or AE/AR with the location);
 * kill -9 in the middle of a pipelined stream and restart: every message
 * whose ACK the sender saw is in the store, and sending everything again
 * duplicates nothing; silent, never-ending, oversized and garbage clients
 * are cut while others are served, in bounded memory; SIGTERM drains.
 */
#include "test/integration/adapter_it.h"
#include "test/support/runcli.h"

#include <sys/time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

/* ----------------------------------------------------------- messages -- */

/* ORU^R01 number k: DiagnosticReport with filler order "KF<k>", patient
 * "KP<k / 5>", two Observations. */
static size_t
oru(char *buf, size_t cap, unsigned k)
{
    int n = snprintf(buf, cap,
                     "MSH|^~\\&|LIS|HOSP-A|FHIRGATE|HOSP-A|20261128111500||ORU^R01^ORU_R01|K%u|P|"
                     "2.5.1\r"
                     "PID|1||KP%u^^^HOSP-A^MR||Test^Patient%u||19800101|M\r"
                     "OBR|1|KO%u|KF%u|24331-1^Lipid panel^LN|||20261128110000|||||||||||||||"
                     "20261128111000|||F\r"
                     "OBX|1|NM|2093-3^Cholesterol^LN||%u|mg/dL|<200|N|||F|||20261128110000\r"
                     "OBX|2|NM|2571-8^Triglyceride^LN||%u|mg/dL|<150|N|||F|||20261128110000\r",
                     k, k / 5, k / 5, k, k, 150 + k % 50, 90 + k % 40);

    ck_assert(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

/* The control ids (K<k>) the sender saw acknowledged with AA. */
struct stream {
    unsigned n;
    bool *acked;
    unsigned n_acked;
    unsigned n_other;
};

/* The k of "MSA|AA|K<k>". */
static long
acked_k(const char *ack)
{
    const char *m = ack != NULL ? strstr(ack, "\rMSA|AA|K") : NULL;

    return m != NULL ? strtol(m + 9, NULL, 10) : -1;
}

static void
note_ack(struct stream *s, const char *ack)
{
    long k = acked_k(ack);

    if (k >= 0 && (unsigned long)k < s->n) {
        if (!s->acked[k])
            s->n_acked++;
        s->acked[k] = true;
    } else {
        s->n_other++;
    }
}

/*
 * Send messages [0, n) pipelined (at most `window` unacknowledged), and
 * call `at` once after `trigger` ACKs (may be NULL).  Reads until every
 * message is acknowledged or the connection ends.
 */
static void
pump(const struct ait *t, struct stream *s, unsigned window, unsigned trigger, void (*at)(void *),
     void *ctx)
{
    int fd = ait_mllp_connect(t);
    unsigned sent = 0;
    unsigned got = 0;
    bool fired = at == NULL;
    char msg[2048];

    while (got < s->n) {
        char *ack;

        while (sent < s->n && sent - got < window) {
            size_t len = oru(msg, sizeof(msg), sent++);
            char sb = 0x0b;
            char eb[2] = {0x1c, 0x0d};

            if (send(fd, &sb, 1, MSG_NOSIGNAL) != 1 ||
                send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len ||
                send(fd, eb, 2, MSG_NOSIGNAL) != 2) {
                sent = s->n; /* the peer went away */
                break;
            }
        }
        ack = ait_mllp_ack(fd, 20000);
        if (ack == NULL)
            break;
        note_ack(s, ack);
        free(ack);
        got++;
        if (!fired && got >= trigger) {
            fired = true;
            at(ctx);
        }
    }
    close(fd);
}

static void
kill9(void *ctx)
{
    struct ait *t = ctx;

    kill(t->pid, SIGKILL);
}

static void
term(void *ctx)
{
    struct ait *t = ctx;

    kill(t->pid, SIGTERM);
}

/* How many of the acknowledged messages have their DiagnosticReport. */
static long
stored_of_acked(const struct ait *t, const struct stream *s)
{
    size_t cap = 64 + (size_t)s->n * 16;
    char *sql = malloc(cap);
    size_t len;
    long n;

    ck_assert_ptr_nonnull(sql);
    len = (size_t)snprintf(sql, cap,
                           "SELECT count(DISTINCT i.value) FROM store.identifier i WHERE "
                           "i.res_type = 'DiagnosticReport' AND i.value IN ('-'");
    for (unsigned k = 0; k < s->n; k++) {
        if (s->acked[k])
            len += (size_t)snprintf(sql + len, cap - len, ",'KF%u'", k);
    }
    snprintf(sql + len, cap - len, ")");
    n = ait_count(t, sql);
    free(sql);
    return n;
}

/* ------------------------------------------------------------- tests -- */

static void
send_file(const struct ait *t, int fd, const char *path, bool want_accept)
{
    char **msgs = NULL;
    size_t n = ait_split_hl7(path, &msgs);

    for (size_t i = 0; i < n; i++) {
        char *ack;

        ait_mllp_send(fd, msgs[i], strlen(msgs[i]));
        ack = ait_mllp_ack(fd, 20000);
        ck_assert_msg(ack != NULL, "%s message %zu: no ACK", path, i + 1);
        if (want_accept) {
            ck_assert_msg(strcmp(ait_msa(ack), ait_accepted(msgs[i])) == 0, "%s message %zu: %s",
                          path, i + 1, ack);
        } else {
            /* Refused, with an ERR segment naming where and why (CE/CR
             * when the sender asked for enhanced-mode accept ACKs). */
            bool enh = ait_enhanced(msgs[i]);

            ck_assert_msg(strcmp(ait_msa(ack), enh ? "CE" : "AE") == 0 ||
                              strcmp(ait_msa(ack), enh ? "CR" : "AR") == 0,
                          "%s: %s", path, ack);
            ck_assert_msg(strstr(ack, "\rERR|") != NULL, "%s: no ERR segment", path);
        }
        free(ack);
    }
    ait_free_msgs(msgs);
    (void)t;
}

static void
send_dir(const struct ait *t, int fd, const char *rel, bool want_accept)
{
    size_t n = 0;
    char **files = tu_list_dir(tu_corpus_path(rel), NULL, &n);

    ck_assert_ptr_nonnull(files);
    for (size_t i = 0; i < n; i++) {
        /* The hapi ED fragment is the content of one field, not a message:
         * it must be refused with its reason like the malformed ones. */
        bool fragment = strstr(files[i], "uuencoded-escaped-fragment") != NULL;

        if (strstr(files[i], "PROVENANCE") == NULL)
            send_file(t, fd, files[i], want_accept && !fragment);
    }
    tu_free_list(files);
}

/* Every stored resource validates against R4. */
static void
assert_store_valid(const struct ait *t)
{
    char **rows;
    size_t n = 0;

    rows = pt_column(t->db, "SELECT content::text FROM store.resource WHERE NOT deleted", &n);
    ck_assert_ptr_nonnull(rows);
    ck_assert_uint_gt(n, 100);
    for (size_t i = 0; i < n; i++) {
        json_t *v = NULL;

        ck_assert_int_eq(fhir_json_parse(rows[i], strlen(rows[i]), NULL, &v, NULL), BASE_OK);
        ait_assert_valid(v, json_string_value(json_object_get(v, "resourceType")));
        json_decref(v);
        free(rows[i]);
    }
    free(rows);
}

START_TEST(corpus_through_mllp)
{
    struct ait t;
    int fd;

    ait_init(&t, "ait-mllp-corpus", "");
    ait_start(&t);
    fd = ait_mllp_connect(&t);
    send_dir(&t, fd, "hl7v2/valid", true);
    send_dir(&t, fd, "hl7v2/line-endings", true);
    send_dir(&t, fd, "hl7v2/malformed", false);
    close(fd);
    ck_assert_int_gt(ait_count(&t, "SELECT count(*) FROM store.resource WHERE res_type = "
                                   "'Patient'"),
                     10);
    ck_assert_int_gt(ait_count(&t, "SELECT count(*) FROM store.resource WHERE res_type = "
                                   "'Observation'"),
                     10);
    assert_store_valid(&t);
    ck_assert_int_eq(ait_stop(&t, SIGTERM), 0);
}
END_TEST

/* A message that parses but cannot be mapped (no patient identifier): AE
 * naming PID-3, recorded in the ledger, and the repeat gets the same ACK. */
START_TEST(refusal_is_recorded_and_repeated)
{
    static const char msg[] = "MSH|^~\\&|HIS|HOSP-A|FHIRGATE|HOSP-A|20261128101500||ADT^A01|"
                              "NOPID-1|P|2.5.1\rEVN|A01|20261128101500\rPID|1||||Doe^John\r";
    struct ait t;
    char *a1;
    char *a2;
    int fd;

    ait_init(&t, "ait-mllp-refusal", "");
    ait_start(&t);
    fd = ait_mllp_connect(&t);
    ait_mllp_send(fd, msg, sizeof(msg) - 1);
    a1 = ait_mllp_ack(fd, 10000);
    ait_mllp_send(fd, msg, sizeof(msg) - 1);
    a2 = ait_mllp_ack(fd, 10000);
    ck_assert_ptr_nonnull(a1);
    ck_assert_ptr_nonnull(a2);
    ck_assert_str_eq(ait_msa(a1), "AE");
    ck_assert_ptr_nonnull(strstr(a1, "PID^1^3"));
    ck_assert_str_eq(a1, a2); /* answered from the ledger, byte for byte */
    ck_assert_int_eq(ait_count(&t, "SELECT count(*) FROM store.ingest_ledger WHERE status = 400"),
                     1);
    ck_assert_int_eq(ait_count(&t, "SELECT count(*) FROM store.resource"), 0);
    free(a1);
    free(a2);
    close(fd);
    ck_assert_int_eq(ait_stop(&t, SIGTERM), 0);
}
END_TEST

/*
 * A sender that is not ours: python-hl7's mllp_send (Debian python3-hl7),
 * which hospitals' scripts and interface engineers use to replay files.  It
 * reads a file with \n line ends (--loose: one message per MSH), and reads
 * each ACK with a single recv(), so an ACK must arrive in one piece and
 * before the next message is sent.
 */
START_TEST(a_third_party_sender_is_acknowledged)
{
    static const char feed[] =
        "MSH|^~\\&|HIS|HOSP-A|FHIRGATE|HOSP-A|20261128101500||ADT^A01^ADT_A01|PYS-1|P|2.5.1\n"
        "EVN|A01|20261128101500\n"
        "PID|1||PYS100^^^HOSP-A^MR||Wang^Fang||19700312|F\n"
        "PV1|1|I|W1^101^1||||||||||||||||PYS-V1\n"
        "MSH|^~\\&|LIS|HOSP-A|FHIRGATE|HOSP-A|20261128111500||ORU^R01^ORU_R01|PYS-2|P|2.5.1\n"
        "PID|1||PYS100^^^HOSP-A^MR||Wang^Fang||19700312|F\n"
        "OBR|1|PYS-O1|PYS-F1|2345-7^Glucose^LN|||20261128110000\n"
        "OBX|1|NM|2345-7^Glucose^LN||5.4|mmol/L|3.9-6.1|N|||F|||20261128110000\n"
        "MSH|^~\\&|HIS|HOSP-A|FHIRGATE|HOSP-A|20261128121500||ADT^A08^ADT_A01|PYS-3|P|2.5.1\n"
        "EVN|A08|20261128121500\n"
        "PID|1||||Doe^John\n";
    struct ait t;
    struct tu_run r = {0};
    char path[600];
    char port[16];
    FILE *f;
    const char *a1;
    const char *a2;
    const char *a3;

    ck_assert_msg(access("/usr/bin/mllp_send", X_OK) == 0,
                  "mllp_send is missing (python3-hl7, deploy/install-deps.sh)");
    ait_init(&t, "ait-mllp-send", "");
    ait_start(&t);
    snprintf(path, sizeof(path), "%s/feed.hl7", t.dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(feed, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
    snprintf(port, sizeof(port), "%u", t.mllp);
    ck_assert_int_eq(tu_run((const char *[]){"/usr/bin/mllp_send", "--loose", "-f", path, "-p",
                                             port, "127.0.0.1", NULL},
                            &r),
                     0);
    ck_assert_msg(r.status == 0, "mllp_send: %s", r.err);
    /* each ACK whole, in order: MSA-2 echoes MSH-10 */
    a1 = strstr(r.out, "MSA|AA|PYS-1");
    a2 = strstr(r.out, "MSA|AA|PYS-2");
    a3 = strstr(r.out, "MSA|AE|PYS-3");
    ck_assert_msg(a1 != NULL && a2 != NULL && a3 != NULL && a1 < a2 && a2 < a3,
                  "acknowledgements: %s", r.out);
    ck_assert_ptr_nonnull(strstr(a3, "PID^1^3")); /* the refusal names its field */
    ck_assert_int_eq(
        ait_count(&t, "SELECT count(*) FROM store.resource WHERE res_type = 'Observation'"), 1);
    ck_assert_int_eq(
        ait_count(&t, "SELECT count(*) FROM store.resource WHERE res_type = 'Encounter'"), 1);
    tu_run_free(&r);
    ck_assert_int_eq(ait_stop(&t, SIGTERM), 0);
}
END_TEST

START_TEST(kill9_mid_stream_loses_nothing_acknowledged)
{
    struct ait t;
    struct stream s = {1200, NULL, 0, 0};
    struct stream again = {1200, NULL, 0, 0};

    s.acked = calloc(s.n, sizeof(bool));
    again.acked = calloc(again.n, sizeof(bool));
    ait_init(&t, "ait-mllp-kill9", "");
    ait_start(&t);
    pump(&t, &s, 200, 150, kill9, &t);
    ck_assert_int_eq(ait_stop(&t, SIGKILL), -SIGKILL);
    ck_assert_uint_ge(s.n_acked, 150);
    ck_assert_uint_lt(s.n_acked, s.n); /* the kill did cut the stream */
    /* Every message whose ACK the sender saw survived the kill. */
    ait_start(&t);
    ck_assert_int_eq(stored_of_acked(&t, &s), (long)s.n_acked);
    /* The sender resends everything: nothing duplicates. */
    pump(&t, &again, 200, 0, NULL, NULL);
    ck_assert_uint_eq(again.n_acked, again.n);
    ck_assert_int_eq(ait_count(&t, "SELECT count(*) FROM store.resource WHERE res_type = "
                                   "'DiagnosticReport'"),
                     1200);
    ck_assert_int_eq(ait_count(&t, "SELECT count(*) FROM store.resource WHERE res_type = "
                                   "'Observation'"),
                     2400);
    ck_assert_int_eq(ait_count(&t, "SELECT count(*) FROM store.resource WHERE res_type = "
                                   "'Patient'"),
                     240);
    ck_assert_int_eq(ait_count(&t, "SELECT count(*) FROM store.resource WHERE res_type = "
                                   "'DiagnosticReport' AND version > 1"),
                     0);
    ck_assert_int_eq(ait_stop(&t, SIGTERM), 0);
    free(s.acked);
    free(again.acked);
}
END_TEST

/* One good message on a new connection gets AA within 5 s. */
static void
assert_served(const struct ait *t, unsigned k)
{
    int fd = ait_mllp_connect(t);
    char msg[2048];
    size_t len = oru(msg, sizeof(msg), k);
    long long t0 = ait_now_ms();
    char *ack;

    ait_mllp_send(fd, msg, len);
    ack = ait_mllp_ack(fd, 5000);
    ck_assert_msg(ack != NULL && strcmp(ait_msa(ack), "AA") == 0, "good client not served");
    ck_assert_int_lt(ait_now_ms() - t0, 5000);
    free(ack);
    close(fd);
}

START_TEST(bad_clients_are_cut_others_served)
{
    struct ait t;
    int silent;
    int endless;
    int big;
    int junk;
    char *blob = malloc(3u << 20);
    char *ack;
    long rss0;

    ck_assert_ptr_nonnull(blob);
    memset(blob, 'A', 3u << 20);
    ait_init(&t, "ait-mllp-bad", "");
    ait_start(&t);
    assert_served(&t, 1);
    rss0 = ait_rss_kb(&t);
    ck_assert_int_gt(rss0, 0);
    silent = ait_mllp_connect(&t);
    endless = ait_mllp_connect(&t);
    ck_assert_int_eq(write(endless, "\x0bMSH|^~\\&|A|B|C|D|", 18), 18);
    /* 3 MB in one frame: over max_frame (1 MB) */
    big = ait_mllp_connect(&t);
    ck_assert_int_eq(write(big, "\x0b", 1), 1);
    for (size_t off = 0; off < (3u << 20);) {
        ssize_t n = send(big, blob + off, (3u << 20) - off, MSG_NOSIGNAL);

        if (n <= 0)
            break; /* cut while we write: fine */
        off += (size_t)n;
    }
    assert_served(&t, 2);
    /* A frame that is not HL7 at all: refused with AR, connection kept. */
    junk = ait_mllp_connect(&t);
    ck_assert_int_eq(write(junk, "\x0bnot hl7 at all\x1c\x0d", 18), 18);
    ack = ait_mllp_ack(junk, 5000);
    ck_assert_ptr_nonnull(ack);
    ck_assert_str_eq(ait_msa(ack), "AR");
    ck_assert_ptr_nonnull(strstr(ack, "\rERR|"));
    free(ack);
    ck_assert(tu_tcp_wait_closed(big, 5000));
    ck_assert(tu_tcp_wait_closed(silent, 6000));  /* idle_timeout 2 s */
    ck_assert(tu_tcp_wait_closed(endless, 6000)); /* frame_timeout 2 s */
    assert_served(&t, 3);
    /* Bounded memory: the oversized frame was never held whole. */
    ck_assert_int_lt(ait_rss_kb(&t) - rss0, 64 * 1024);
    close(silent);
    close(endless);
    close(big);
    close(junk);
    free(blob);
    ck_assert_int_eq(ait_stop(&t, SIGTERM), 0);
}
END_TEST

/* ---------------------------------------------------------- MLLP/TLS -- */

/* One message over MLLP inside TLS (the region CA as the trust anchor,
 * `cert`/`key` as the client certificate or NULL).  Returns 1 with the
 * ACK frame (malloc'd, without markers) in *ack, 0 when the handshake
 * failed, -1 when no ACK came. */
static int
tls_send(const struct ait *t, const char *cert, const char *key, const char *msg, size_t len,
         char **ack)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = NULL;
    char *buf = malloc(1 << 16);
    size_t got = 0;
    int fd = ait_mllp_connect(t);
    int rc = 0;

    *ack = NULL;
    ck_assert_ptr_nonnull(ctx);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(SSL_CTX_load_verify_locations(ctx, t->pki.p.ca, NULL), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (cert != NULL) {
        ck_assert_int_eq(SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM), 1);
        ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM), 1);
    }
    ssl = SSL_new(ctx);
    ck_assert_ptr_nonnull(ssl);
    SSL_set_fd(ssl, fd);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){10, 0}, sizeof(struct timeval));
    if (SSL_connect(ssl) != 1)
        goto out;
    buf[0] = 0x0b;
    memcpy(buf + 1, msg, len);
    buf[len + 1] = 0x1c;
    buf[len + 2] = 0x0d;
    rc = -1;
    /* TLS 1.3: a refused client certificate shows on the first read. */
    if (SSL_write(ssl, buf, (int)len + 3) != (int)len + 3)
        goto out;
    while (got + 1 < (1 << 16)) {
        int n = SSL_read(ssl, buf + got, (int)((1 << 16) - 1 - got));

        if (n <= 0)
            break;
        got += (size_t)n;
        if (got >= 3 && buf[got - 2] == 0x1c && buf[got - 1] == 0x0d) {
            buf[got - 2] = '\0';
            *ack = strdup(buf[0] == 0x0b ? buf + 1 : buf);
            rc = 1;
            break;
        }
    }
out:
    ERR_clear_error();
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    free(buf);
    return rc;
}

/* [mllp] tls_cert/tls_key/tls_client_ca: the feed inside TLS with a client
 * certificate of the region CA gets its AA and the data is stored; a
 * plain-TCP sender, a sender without a certificate and one with another
 * CA's certificate get no ACK and store nothing. */
START_TEST(mllp_over_tls_with_client_certificates)
{
    struct ait t;
    char extra[2048];
    char msg[2048];
    size_t len;
    char *ack = NULL;
    int fd;

    ait_init(&t, "ait-mllp-tls", "");
    /* The [mllp] section is written by ait_init: append the TLS keys to
     * it by rewriting the config with the keys right after its header. */
    {
        size_t clen = 0;
        char *conf = tu_read_file(t.conf, &clen);
        char *at = conf != NULL ? strstr(conf, "[mllp]\n") : NULL;
        FILE *f;

        ck_assert_ptr_nonnull(at);
        snprintf(extra, sizeof(extra), "tls_cert = %s\ntls_key = %s\ntls_client_ca = %s\n",
                 t.pki.p.server_cert, t.pki.p.server_key, t.pki.p.ca);
        f = fopen(t.conf, "w");
        ck_assert_ptr_nonnull(f);
        fwrite(conf, 1, (size_t)(at - conf) + 7, f);
        fputs(extra, f);
        fputs(at + 7, f);
        fclose(f);
        free(conf);
    }
    ait_start(&t);
    len = oru(msg, sizeof(msg), 11);
    ck_assert_int_eq(tls_send(&t, t.pki.his_cert, t.pki.his_key, msg, len, &ack), 1);
    ck_assert_str_eq(ait_msa(ack), "AA");
    free(ack);
    ck_assert_int_eq(ait_count(&t, "SELECT count(*) FROM store.resource WHERE res_type = "
                                   "'DiagnosticReport'"),
                     1);
    /* plain MLLP on the TLS port: no ACK */
    len = oru(msg, sizeof(msg), 12);
    fd = ait_mllp_connect(&t);
    (void)!send(fd, "\x0b", 1, MSG_NOSIGNAL); /* the server may cut us at any byte */
    (void)!send(fd, msg, len, MSG_NOSIGNAL);
    (void)!send(fd, "\x1c\r", 2, MSG_NOSIGNAL);
    ack = ait_mllp_ack(fd, 3000);
    ck_assert_ptr_null(ack);
    close(fd);
    /* no client certificate, or one from another CA: no ACK */
    ck_assert_int_le(tls_send(&t, NULL, NULL, msg, len, &ack), 0);
    ck_assert_ptr_null(ack);
    ck_assert_int_le(tls_send(&t, t.pki.alien_cert, t.pki.alien_key, msg, len, &ack), 0);
    ck_assert_ptr_null(ack);
    ck_assert_int_eq(ait_count(&t, "SELECT count(*) FROM store.resource WHERE res_type = "
                                   "'DiagnosticReport'"),
                     1);
    ck_assert_int_eq(ait_stop(&t, SIGTERM), 0);
}
END_TEST

/* The database goes away: messages get AR (retry later), never AA; reads
 * get 503; when it is back the same message is accepted. */
START_TEST(database_down_means_ar_then_recovery)
{
    struct ait t;
    struct tu_http_resp r = {0};
    char msg[2048];
    size_t len;
    char *ack;
    bool accepted = false;
    long long t0;
    int fd;

    ait_init(&t, "ait-mllp-dbdown", "");
    ait_start(&t);
    len = oru(msg, sizeof(msg), 7);
    ck_assert_int_eq(pt_pg_stop(), 0);
    fd = ait_mllp_connect(&t);
    t0 = ait_now_ms();
    ait_mllp_send(fd, msg, len);
    ack = ait_mllp_ack(fd, 30000); /* after the committer's retry window */
    if (ack == NULL)
        ait_dump_log(&t);
    ck_assert_msg(ack != NULL, "no ACK %lld ms after sending", ait_now_ms() - t0);
    ck_assert_str_eq(ait_msa(ack), "AR");
    /* ERR-3 207 (table 0357: application internal error), within the
     * committer's retry window plus the connect attempts */
    ck_assert_ptr_nonnull(strstr(ack, "\rERR|"));
    ck_assert_ptr_nonnull(strstr(ack, "207^"));
    ck_assert_int_lt(ait_now_ms() - t0, 20000);
    free(ack);
    ait_http(&t, AIT_GATEWAY, "GET", "/fhir/Patient", NULL, 0, &r);
    ck_assert_int_eq(r.status, 503);
    ck_assert_ptr_nonnull(strstr(r.body, "OperationOutcome"));
    tu_http_resp_free(&r);
    close(fd); /* the idle timeout (2 s) would close it anyway */
    ck_assert_int_eq(pt_pg_start(), 0);
    /* The sender reconnects and resends until accepted; the adapter gets
     * its database back by itself. */
    for (int i = 0; i < 50 && !accepted; i++) {
        fd = ait_mllp_connect(&t);
        ait_mllp_send(fd, msg, len);
        ack = ait_mllp_ack(fd, 30000);
        close(fd);
        ck_assert_ptr_nonnull(ack);
        accepted = strcmp(ait_msa(ack), "AA") == 0;
        if (!accepted)
            ck_assert_str_eq(ait_msa(ack), "AR"); /* never AE: the message is fine */
        free(ack);
        if (!accepted)
            usleep(200000);
    }
    ck_assert_msg(accepted, "no AA within 50 attempts after the database came back");
    ait_http(&t, AIT_GATEWAY, "GET", "/fhir/Patient", NULL, 0, &r);
    ck_assert_int_eq(r.status, 200);
    tu_http_resp_free(&r);
    ck_assert_int_eq(ait_count(&t, "SELECT count(*) FROM store.resource WHERE res_type = "
                                   "'DiagnosticReport'"),
                     1);
    ck_assert_int_eq(ait_stop(&t, SIGTERM), 0);
}
END_TEST

START_TEST(sigterm_drains_and_acks)
{
    struct ait t;
    struct stream s = {800, NULL, 0, 0};

    s.acked = calloc(s.n, sizeof(bool));
    ait_init(&t, "ait-mllp-term", "");
    ait_start(&t);
    pump(&t, &s, 256, 100, term, &t);
    ck_assert_int_eq(ait_stop(&t, SIGTERM), 0);
    ck_assert_uint_ge(s.n_acked, 100);
    ck_assert_uint_eq(s.n_other, 0); /* nothing was answered AR while draining */
    ait_start(&t);
    ck_assert_int_eq(stored_of_acked(&t, &s), (long)s.n_acked);
    ck_assert_int_eq(ait_stop(&t, SIGTERM), 0);
    free(s.acked);
}
END_TEST

Suite *
adapter_mllp_suite(void)
{
    Suite *s = suite_create("adapter_mllp");
    TCase *tc = tcase_create("mllp");

    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, corpus_through_mllp);
    tcase_add_test(tc, refusal_is_recorded_and_repeated);
    tcase_add_test(tc, a_third_party_sender_is_acknowledged);
    tcase_add_test(tc, kill9_mid_stream_loses_nothing_acknowledged);
    tcase_add_test(tc, bad_clients_are_cut_others_served);
    tcase_add_test(tc, sigterm_drains_and_acks);
    tcase_add_test(tc, database_down_means_ar_then_recovery);
    tcase_add_test(tc, mllp_over_tls_with_client_certificates);
    suite_add_tcase(s, tc);
    return s;
}
