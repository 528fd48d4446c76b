/*
 * HL7 v2 messages through the pipeline:
 *
 *   bytes -> hl7v2_msg_parse -> hl7v2_map (code maps applied) -> Bundle tree
 *         -> labels + validation (pipeline.c) -> committer (ledger key =
 *         sender MSH-3|MSH-4 + MSH-10) -> ACK after the commit.
 *
 * Acknowledgements (HL7 v2.5.1 ch. 2.9.2, original mode): AA once the
 * message's Bundle is committed; AE with an ERR segment naming the location
 * for content that cannot be mapped or does not validate (never stored);
 * AR for a message whose header cannot be read, and for a store that is
 * unavailable (the sender should retry).  A message refused before
 * conversion still goes to the ledger when it has a control id, so a
 * repeat gets the same ACK; the same message twice changes nothing.
 *
 * MLLP frames are converted on a converter thread (the listener's thread
 * only copies them), in arrival order; POST /ingest/hl7v2 converts on the
 * request's thread.  Each message has its own arena, freed after its ACK.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/sha.h>

#include "adapters/codemap/codemap.h"
#include "adapters/daemon/daemon_int.h"
#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/base/log.h"
#include "fhir/json/fhir_json.h"

#define MSG_BUDGET_EXTRA (64u << 20) /* arena budget beyond 16x the message */

struct hl7_msg {
    struct adapter_daemon *d;
    struct adapter_job job;
    const char *raw;
    size_t len;
    struct hl7v2_msg *msg;       /* NULL when it did not parse */
    enum hl7v2_ack_code refusal; /* for a message refused before the store */
    struct base_err why;         /* why it was refused */
    adapter_ack_fn deliver;
    void *deliver_ctx;
    struct hl7_msg *next; /* converter queue */
};

/* -------------------------------------------------------------- ACKs -- */

/* MSH-7 of our ACK: local time in the configured offset (v2 DTM). */
static void
ack_time(const char *tz, char *out, size_t cap)
{
    time_t now = time(NULL);
    int sign = tz[0] == '-' ? -1 : 1;
    long off = 0;
    struct tm tm;

    if (tz[0] == '+' || tz[0] == '-')
        off = sign * (((tz[1] - '0') * 10 + (tz[2] - '0')) * 3600L +
                      ((tz[4] - '0') * 10 + (tz[5] - '0')) * 60L);
    now += off;
    gmtime_r(&now, &tm);
    snprintf(out, cap, "%04d%02d%02d%02d%02d%02d%c%c%c%c%c", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, sign < 0 ? '-' : '+',
             tz[0] == 'Z' ? '0' : tz[1], tz[0] == 'Z' ? '0' : tz[2], tz[0] == 'Z' ? '0' : tz[4],
             tz[0] == 'Z' ? '0' : tz[5]);
}

static int
make_ack(struct hl7_msg *h, struct base_arena *a, enum hl7v2_ack_code code,
         const struct base_err *why, struct base_str *out)
{
    const struct adapter_config *cfg = h->d->cfg;
    char when[48];
    char id[32];
    struct hl7v2_ack_opts o = {cfg->ack_app, cfg->ack_facility, id, when};
    struct base_err err = {0};
    unsigned long long seq = (unsigned long long)atomic_fetch_add(&h->d->ack_seq, 1);

    ack_time(cfg->tz, when, sizeof(when));
    /* Unique per ACK and short (ST 20 in v2.5): start-time prefix + counter. */
    snprintf(id, sizeof(id), "A%08llX%010llu", seq >> 32, seq & 0xffffffffull);
    return hl7v2_ack_build(a, h->msg, base_str_make(h->raw, h->len), code, why, &o, out, &err);
}

/* HL7 table 0008 by the store's outcome: 5xx means "try again". */
static enum hl7v2_ack_code
code_for(const struct hl7_msg *h, const struct adapter_store_result *r)
{
    if (r->rc == BASE_OK)
        return HL7V2_ACK_AA;
    if (h->job.item.bundle == NULL)
        return h->refusal;
    return r->status >= 500 ? HL7V2_ACK_AR : HL7V2_ACK_AE;
}

/* The store's callback: the ACK is recorded in the ledger with the data,
 * before the commit; it is sent after. */
static int
ledger_ack(void *ctx, const struct adapter_store_result *r, struct base_arena *a, const char **ack)
{
    struct hl7_msg *h = ctx;
    struct base_str s;
    enum hl7v2_ack_code code = code_for(h, r);

    TRY(make_ack(h, a, code, code == HL7V2_ACK_AA ? NULL : &r->err, &s));
    *ack = base_str_dup0(a, s);
    return *ack != NULL ? BASE_OK : BASE_E_NOMEM;
}

static void
free_msg(struct hl7_msg *h)
{
    base_arena_free(h->job.a);
}

static void
send_now(struct hl7_msg *h, enum hl7v2_ack_code code, const struct base_err *why)
{
    struct base_str ack = BASE_STR_NULL;

    if (make_ack(h, h->job.a, code, why, &ack) != BASE_OK)
        ack = BASE_STR_LIT("MSH|^~\\&|||||||ACK||P|2.5\rMSA|AR|\r");
    h->deliver(h->deliver_ctx, ack.ptr, ack.len, false);
    gw_http_metric_add(h->d->m.acks, (const char *[]){code == HL7V2_ACK_AE ? "AE" : "AR"}, 1);
    free_msg(h);
}

/* Committer thread, after the commit (or the batch's failure). */
static void
job_done(struct adapter_job *j, int batch_rc)
{
    struct hl7_msg *h = j->ctx;
    const struct adapter_store_result *r = &j->result;
    enum hl7v2_ack_code code;

    if (batch_rc != BASE_OK) {
        /* Nothing of the batch is durable: AR, the sender retries. */
        send_now(h, HL7V2_ACK_AR, &r->err);
        return;
    }
    code = r->replayed ? (r->rc == BASE_OK ? HL7V2_ACK_AA : HL7V2_ACK_AE) : code_for(h, r);
    if (r->ack != NULL) {
        h->deliver(h->deliver_ctx, r->ack, strlen(r->ack), code == HL7V2_ACK_AA);
        gw_http_metric_add(h->d->m.acks,
                           (const char *[]){code == HL7V2_ACK_AA   ? "AA"
                                            : code == HL7V2_ACK_AE ? "AE"
                                                                   : "AR"},
                           1);
        free_msg(h);
        return;
    }
    if (code == HL7V2_ACK_AA) {
        struct base_str ack;

        if (make_ack(h, h->job.a, HL7V2_ACK_AA, NULL, &ack) == BASE_OK) {
            h->deliver(h->deliver_ctx, ack.ptr, ack.len, true);
            gw_http_metric_add(h->d->m.acks, (const char *[]){"AA"}, 1);
            free_msg(h);
            return;
        }
    }
    send_now(h, code == HL7V2_ACK_AA ? HL7V2_ACK_AR : code, &r->err);
}

/* -------------------------------------------------------- conversion -- */

static struct hl7_msg *
msg_new(struct adapter_daemon *d, const char *data, size_t len, adapter_ack_fn deliver, void *ctx)
{
    struct base_arena *a = base_arena_new(MSG_BUDGET_EXTRA + 16 * len);
    struct hl7_msg *h = a != NULL ? BASE_NEW(a, struct hl7_msg) : NULL;
    char *copy = h != NULL ? base_arena_memdup(a, data, len) : NULL;

    if (copy == NULL) {
        base_arena_free(a);
        return NULL;
    }
    h->d = d;
    h->job.a = a;
    h->job.ctx = h;
    h->job.done = job_done;
    h->job.kind = "hl7v2";
    h->job.enqueued_us = adapter__now_us();
    h->raw = copy;
    h->len = len;
    h->deliver = deliver;
    h->deliver_ctx = ctx;
    return h;
}

/*
 * Ledger key: the sending application and facility (MSH-3, MSH-4) and the
 * control id (MSH-10), as sent, plus a digest of the message.  A resend is
 * byte for byte the same message (HL7 v2.5.1 ch. 2.10: the same MSH-10),
 * so it is answered from the ledger; but senders do reuse control ids for
 * different messages (test feeds, counters reset by a restart — nine
 * different messages in the shared corpus are all "MSG00001"), and such a
 * message must be stored, not answered as a repeat.  A resend whose bytes
 * changed (a new MSH-7) is applied again, which changes nothing: every
 * entry is a conditional update and identical content makes no version.
 * No control id: no ledger row.
 */
static void
ledger_key(struct hl7_msg *h)
{
    const struct hl7v2_seg *msh = &h->msg->segs[0];
    struct base_str app = hl7v2_get(h->msg, msh, 3, 0, 0, 0);
    struct base_str fac = hl7v2_get(h->msg, msh, 4, 0, 0, 0);
    unsigned char *md = BASE_NEW_N(h->job.a, unsigned char, SHA256_DIGEST_LENGTH);

    if (md == NULL || h->msg->control_id.len == 0 ||
        h->msg->control_id.len + 18 > BASE_LIMIT_STORE_MAX_LEDGER_KEY ||
        app.len + fac.len + 1 > BASE_LIMIT_STORE_MAX_LEDGER_KEY)
        return;
    SHA256((const unsigned char *)h->raw, h->len, md);
    h->job.item.message_sha256 = md;
    h->job.item.source =
        base_arena_sprintf(h->job.a, "%.*s|%.*s", (int)app.len, app.ptr, (int)fac.len, fac.ptr);
    h->job.item.message_id = base_arena_sprintf(
        h->job.a, "%.*s#%02x%02x%02x%02x%02x%02x%02x%02x", (int)h->msg->control_id.len,
        h->msg->control_id.ptr, md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7]);
}

static void
refuse(struct hl7_msg *h, enum hl7v2_ack_code code)
{
    h->refusal = code;
    h->job.item.bundle = NULL;
    h->job.item.refused = &h->why;
}

/* A problem in MSH (or no MSH at all) makes the whole message unreadable:
 * AR; anything later is content: AE. */
static enum hl7v2_ack_code
parse_refusal(const struct base_err *e)
{
    struct hl7v2_loc loc;

    if (!hl7v2_loc_parse(e->where, &loc) || strcmp(loc.seg, "MSH") == 0 || loc.seg_index <= 1)
        return HL7V2_ACK_AR;
    return e->rc == BASE_E_PARSE || e->rc == BASE_E_INVALID ? HL7V2_ACK_AE : HL7V2_ACK_AR;
}

static void
convert(struct hl7_msg *h, const struct hl7v2_map_opts *mo)
{
    const struct adapter_config *cfg = h->d->cfg;
    struct hl7v2_limits lim = HL7V2_LIMITS_DEFAULT;
    struct hl7v2_bundle *hb = NULL;
    json_t *tree = NULL;

    lim.max_message = cfg->mllp_max_frame;
    h->job.item.ack = ledger_ack;
    h->job.item.ack_ctx = h;
    if (hl7v2_msg_parse(h->job.a, h->raw, h->len, &lim, &cfg->parse, &h->msg, &h->why) != BASE_OK) {
        h->msg = NULL;
        refuse(h, parse_refusal(&h->why));
        return;
    }
    ledger_key(h);
    if (hl7v2_map(h->job.a, h->msg, mo, &hb, &h->why) != BASE_OK) {
        refuse(h, h->why.rc == BASE_E_NOMEM || h->why.rc == BASE_E_LIMIT ? HL7V2_ACK_AR
                                                                         : HL7V2_ACK_AE);
        return;
    }
    if (hl7v2_bundle_tree(hb, &tree, &h->why) != BASE_OK ||
        fhir_json_tie(h->job.a, tree) != BASE_OK) {
        refuse(h, HL7V2_ACK_AR);
        return;
    }
    if (adapter__prepare_bundle(tree, NULL, &h->why) != BASE_OK) {
        /* A resource that does not validate is never stored (AE). */
        refuse(h, h->why.rc == BASE_E_NOMEM ? HL7V2_ACK_AR : HL7V2_ACK_AE);
        return;
    }
    h->job.item.bundle = tree;
}

/* Parse, map with this message's own code-map report, build and check the
 * Bundle; the report's counts go with the Bundle to the store. */
static void
convert_counted(struct hl7_msg *h)
{
    struct hl7v2_map_opts mo = h->d->map;

    mo.codemap_report = adapter__code_uses_begin();
    if (mo.codemap_report == NULL) {
        (void)base_err_set(&h->why, BASE_E_NOMEM, "exception", NULL, "out of memory");
        refuse(h, HL7V2_ACK_AR);
        return;
    }
    convert(h, &mo);
    if (adapter__code_uses_end(mo.codemap_report, h->job.a, &h->job.item) != BASE_OK &&
        h->job.item.bundle != NULL) {
        (void)base_err_set(&h->why, BASE_E_NOMEM, "exception", NULL, "out of memory");
        refuse(h, HL7V2_ACK_AR);
    }
    codemap_report_free(mo.codemap_report);
}

static void
submit(struct hl7_msg *h)
{
    struct base_err err = {0};

    if (h->job.item.bundle == NULL && h->job.item.source == NULL) {
        /* Refused and not in the ledger: nothing to commit. */
        send_now(h, h->refusal, &h->why);
        return;
    }
    if (adapter__committer_submit(h->d->committer, &h->job, &err) != BASE_OK)
        send_now(h, HL7V2_ACK_AR, &err);
}

int
adapter__hl7_submit(struct adapter_daemon *d, const char *data, size_t len, adapter_ack_fn deliver,
                    void *ctx)
{
    struct hl7_msg *h = msg_new(d, data, len, deliver, ctx);

    if (h == NULL)
        return BASE_E_NOMEM;
    convert_counted(h);
    submit(h);
    return BASE_OK;
}

/* --------------------------------------------------- converter thread -- */

struct adapter_converter {
    struct adapter_daemon *d;
    pthread_mutex_t mu; /* guards the queue and stop */
    pthread_cond_t cv;
    struct hl7_msg *head;
    struct hl7_msg *tail;
    bool stop;
    pthread_t th;
};

static void *
converter_main(void *arg)
{
    struct adapter_converter *c = arg;

    for (;;) {
        struct hl7_msg *h;

        pthread_mutex_lock(&c->mu);
        while (c->head == NULL && !c->stop)
            pthread_cond_wait(&c->cv, &c->mu);
        h = c->head;
        if (h != NULL) {
            c->head = h->next;
            if (c->head == NULL)
                c->tail = NULL;
        }
        pthread_mutex_unlock(&c->mu);
        if (h == NULL)
            return NULL; /* stopping with nothing queued */
        convert_counted(h);
        submit(h);
    }
}

int
adapter__converter_new(struct adapter_daemon *d, struct adapter_converter **out,
                       struct base_err *err)
{
    struct adapter_converter *c = base_calloc(1, sizeof(*c));

    if (c == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    c->d = d;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->th, NULL, converter_main, c) != 0) {
        base_free(c);
        return base_err_set(err, BASE_E_INTERNAL, "exception", NULL, "no converter thread");
    }
    *out = c;
    return BASE_OK;
}

int
adapter__converter_push(struct adapter_converter *c, const char *data, size_t len,
                        adapter_ack_fn deliver, void *ctx)
{
    struct hl7_msg *h = msg_new(c->d, data, len, deliver, ctx);

    if (h == NULL)
        return BASE_E_NOMEM;
    pthread_mutex_lock(&c->mu);
    if (c->tail != NULL)
        c->tail->next = h;
    else
        c->head = h;
    c->tail = h;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return BASE_OK;
}

/* Convert and submit everything queued, then stop the thread. */
void
adapter__converter_free(struct adapter_converter *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->th, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    base_free(c);
}

/* ---------------------------------------------------- POST /ingest/hl7v2 -- */

struct http_batch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t pending;
    char **acks; /* one per message (base_malloc'd) */
    size_t *lens;
    bool *ok;
};

struct http_slot {
    struct http_batch *b;
    size_t i;
};

static void
http_deliver(void *ctx, const char *ack, size_t len, bool accepted)
{
    struct http_slot *s = ctx;
    struct http_batch *b = s->b;
    char *copy = ack != NULL ? base_malloc(len + 1) : NULL;

    if (copy != NULL) {
        memcpy(copy, ack, len);
        copy[len] = '\0';
    }
    pthread_mutex_lock(&b->mu);
    b->acks[s->i] = copy;
    b->lens[s->i] = copy != NULL ? len : 0;
    b->ok[s->i] = accepted;
    if (--b->pending == 0)
        pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

static int
collect(struct http_batch *b, size_t n, struct base_buf *acks, struct adapter_ingest_counts *cnt)
{
    int rc = BASE_OK;

    pthread_mutex_lock(&b->mu);
    while (b->pending > 0)
        pthread_cond_wait(&b->cv, &b->mu);
    pthread_mutex_unlock(&b->mu);
    for (size_t i = 0; i < n; i++) {
        if (rc == BASE_OK && b->acks[i] != NULL)
            rc = base_buf_append(acks, b->acks[i], b->lens[i]);
        if (rc == BASE_OK && i + 1 < n)
            rc = base_buf_putc(acks, '\n');
        cnt->accepted += b->ok[i];
        cnt->rejected += !b->ok[i];
        base_free(b->acks[i]);
    }
    return rc;
}

int
adapter_ingest_hl7v2(struct adapter_daemon *d, const char *data, size_t len, struct base_buf *acks,
                     struct adapter_ingest_counts *cnt, struct base_err *err)
{
    struct hl7v2_limits lim = HL7V2_LIMITS_DEFAULT;
    struct base_arena *a = base_arena_new(0);
    struct http_batch b = {
        PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, NULL, NULL, NULL};
    struct http_slot *slots = NULL;
    struct hl7v2_file f;
    int rc;

    memset(cnt, 0, sizeof(*cnt));
    if (a == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    rc = hl7v2_file_split(a, data, len, &lim, &f, err);
    if (rc == BASE_OK) {
        b.acks = BASE_NEW_N(a, char *, f.nmsgs);
        b.lens = BASE_NEW_N(a, size_t, f.nmsgs);
        b.ok = BASE_NEW_N(a, bool, f.nmsgs);
        slots = BASE_NEW_N(a, struct http_slot, f.nmsgs);
        if (b.acks == NULL || b.lens == NULL || b.ok == NULL || slots == NULL)
            rc = base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    }
    /* Submitted in file order, acknowledged after their commits. */
    for (size_t i = 0; rc == BASE_OK && i < f.nmsgs; i++) {
        slots[i] = (struct http_slot){&b, i};
        pthread_mutex_lock(&b.mu);
        b.pending++;
        pthread_mutex_unlock(&b.mu);
        if (adapter__hl7_submit(d, f.msgs[i].data.ptr, f.msgs[i].data.len, http_deliver,
                                &slots[i]) != BASE_OK)
            http_deliver(&slots[i], NULL, 0, false);
        cnt->messages++;
    }
    if (cnt->messages > 0 && collect(&b, cnt->messages, acks, cnt) != BASE_OK && rc == BASE_OK)
        rc = base_err_set(err, BASE_E_LIMIT, "too-costly", NULL, "acknowledgements too large");
    pthread_cond_destroy(&b.cv);
    pthread_mutex_destroy(&b.mu);
    base_arena_free(a);
    return rc;
}
