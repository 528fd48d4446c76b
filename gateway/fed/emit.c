/*
 * Writing the merged page incrementally (issue #5: "$everything must not
 * time out on a large record: stream, page, and bound it").  Each call of
 * fed_emit_next() appends one piece — the Bundle header, one failed
 * member's OperationOutcome, one entry, the end — to m->out, which the
 * reader drains before the next piece is made; so the merge holds at most
 * one entry's text beyond the member answers themselves.
 *
 * Entries go through fhir_bundle_writer_entry_checked(): the scanner has
 * validated each resource strictly (a stricter check than the writer's
 * own), the tagging only adds strings escaped here from UTF-8 checked in
 * gw_fed_merge_new(), and a second validation pass cost half the merge's
 * CPU (issue #5 "Speed").  The fuzz target fuzz_bundle_merge checks that
 * every merged Bundle parses with the strict reader.
 */
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "fhir/outcome/fhir_outcome.h"
#include "gateway/fed/merge_int.h"

static json_t *
member_coding(const char *id, const char *name)
{
    json_t *c = json_pack("{s:s, s:s}", "system", GW_FED_TAG_SYSTEM, "code", id);

    if (c != NULL && name != NULL)
        json_object_set_new(c, "display", json_string(name));
    return c;
}

/* The OperationOutcome of one failed member (docs/design/region.md): one
 * issue, code timeout|transient|exception|invalid, diagnostics naming the
 * member and the reason, details.coding naming it for machines, and the
 * latency and error kind as extensions. */
static json_t *
failure_outcome(struct gw_fed_merge *m, const struct gw_fed_failure *f)
{
    uint64_t ms = (f->latency_us + 999) / 1000;
    const char *name = f->member_name != NULL ? f->member_name : f->member_id;
    char *diag = base_arena_sprintf(
        m->a, "member %s (%s): %s: %s; %llu ms", f->member_id, name, gw_fed_error_name(f->error),
        f->detail != NULL ? f->detail : "failed", (unsigned long long)ms);
    json_t *oo = fhir_outcome_new();
    json_t *issue;

    if (diag == NULL || oo == NULL ||
        fhir_outcome_add(oo, "warning", gw_fed_error_issue_code(f->error), NULL, diag) != BASE_OK) {
        json_decref(oo);
        return NULL;
    }
    issue = json_array_get(json_object_get(oo, "issue"), 0);
    json_object_set_new(issue, "extension",
                        json_pack("[{s:s, s:I}, {s:s, s:s}]", "url", GW_FED_EXT_LATENCY,
                                  "valueInteger", (json_int_t)(ms > INT32_MAX ? INT32_MAX : ms),
                                  "url", GW_FED_EXT_ERROR, "valueCode",
                                  gw_fed_error_name(f->error)));
    json_object_set_new(
        issue, "details",
        json_pack("{s:[o]}", "coding", member_coding(f->member_id, f->member_name)));
    json_object_set_new(oo, "meta",
                        json_pack("{s:[o]}", "tag", member_coding(f->member_id, f->member_name)));
    return oo;
}

static json_t *
truncated_outcome(void)
{
    json_t *oo = fhir_outcome_new();

    if (oo != NULL &&
        fhir_outcome_add(oo, "warning", "too-costly", NULL,
                         "more results exist, but the paging state is too large to continue; "
                         "narrow the search") != BASE_OK) {
        json_decref(oo);
        return NULL;
    }
    return oo;
}

static int
emit_tree(struct gw_fed_merge *m, json_t *oo)
{
    int rc;

    if (oo == NULL)
        return BASE_E_NOMEM;
    rc = fhir_bundle_writer_entry(&m->w, NULL, oo, FHIR_BUNDLE_MODE_OUTCOME, NULL);
    json_decref(oo);
    return rc;
}

static const char *
member_name_of(const struct gw_fed_merge *m, const char *id)
{
    for (size_t i = 0; i < m->n_members; i++) {
        if (strcmp(m->members[i].r->member_id, id) == 0)
            return m->members[i].r->member_name;
    }
    return NULL;
}

/* A span's text: straight from the answer, decoded only when escaped. */
static int
put_span(struct gw_fed_merge *m, const char *text, struct gw_fed_span sp, bool esc)
{
    if (!esc)
        return base_buf_append(&m->url, text + sp.off, sp.len);
    const char *d = gw_fed_span_str(m->a, text, sp, true);
    return d != NULL ? base_buf_append_cstr(&m->url, d) : BASE_E_NOMEM;
}

/* entry.fullUrl: the member's absolute URL of the resource (region.md), made
 * from its base rather than trusted from the answer, so a member cannot
 * claim another's URLs.  A resource without id keeps a urn:uuid fullUrl. */
static const char *
full_url(struct gw_fed_merge *m, const struct m_entry *ent)
{
    const struct gw_fed_entry *e = ent->e;
    const char *t = ent->mb->scan.text;

    base_buf_reset(&m->url);
    if (e->id.len > 0) {
        if (base_buf_append_cstr(&m->url, ent->mb->base) != BASE_OK ||
            base_buf_putc(&m->url, '/') != BASE_OK ||
            put_span(m, t, e->type, (e->escaped & GW_FED_ESC_TYPE) != 0) != BASE_OK ||
            base_buf_putc(&m->url, '/') != BASE_OK ||
            put_span(m, t, e->id, (e->escaped & GW_FED_ESC_ID) != 0) != BASE_OK)
            return NULL;
        return m->url.data;
    }
    if (e->full_url.len > 9 && (e->escaped & GW_FED_ESC_FULLURL) == 0 &&
        memcmp(t + e->full_url.off, "urn:uuid:", 9) == 0 &&
        base_buf_append(&m->url, t + e->full_url.off, e->full_url.len) == BASE_OK)
        return m->url.data;
    return "";
}

struct tagging {
    const struct m_member *mb;
    const struct gw_fed_entry *e;
    const struct fed_tag_text *tag;
};

/* The member's resource with our tags, straight into the page. */
static int
write_tagged(struct base_buf *out, void *ctx)
{
    const struct tagging *t = ctx;

    return fed_tag_resource_text(out, t->mb->scan.text, t->e, t->tag);
}

/* The tagging text of (mb, and the members `ent` folded in): the member's
 * own, escaped once, when it is the only source. */
static int
tag_text(struct gw_fed_merge *m, struct m_member *mb, const struct m_entry *ent,
         struct fed_tag_text *out)
{
    size_t n_also = ent != NULL ? ent->n_also : 0;
    struct gw_fed_tag one = {mb->r->member_id, mb->r->member_name};
    struct gw_fed_tag *tv = &one;
    struct base_buf *b = n_also > 0 ? &m->tagbuf : &m->url;

    if (n_also == 0 && mb->tag.text != NULL) {
        *out = mb->tag;
        return BASE_OK;
    }
    if (n_also > 0) {
        tv = BASE_NEW_N(m->a, struct gw_fed_tag, n_also + 1);
        if (tv == NULL)
            return BASE_E_NOMEM;
        tv[0] = one;
        for (size_t i = 0; i < n_also; i++)
            tv[i + 1] = (struct gw_fed_tag){ent->also[i], member_name_of(m, ent->also[i])};
    }
    base_buf_reset(b);
    TRY(fed_tag_text_put(b, mb->base, tv, n_also + 1, &out->source_len));
    out->codings_len = b->len - out->source_len;
    out->text = b->data;
    if (n_also > 0)
        return BASE_OK;
    out->text = base_buf_dup0(b, m->a);
    if (out->text == NULL)
        return BASE_E_NOMEM;
    mb->tag = *out;
    return BASE_OK;
}

static int
emit_resource(struct gw_fed_merge *m, struct m_member *mb, const struct gw_fed_entry *e,
              const struct m_entry *ent, enum fhir_bundle_mode mode)
{
    struct fed_tag_text tt;
    const char *url = "";

    TRY(tag_text(m, mb, ent, &tt));
    if (ent != NULL && (url = full_url(m, ent)) == NULL)
        return BASE_E_NOMEM;
    struct tagging t = {mb, e, &tt};

    return fhir_bundle_writer_entry_checked_fn(&m->w, url[0] != '\0' ? url : NULL, write_tagged,
                                               &t, mode, NULL);
}

static int
emit_header(struct gw_fed_merge *m)
{
    struct fhir_bundle_header h = {
        FHIR_BUNDLE_SEARCHSET, m->opts.bundle_id, m->opts.timestamp, m->info.has_total,
        m->info.total,         m->links,          m->n_links};

    return fhir_bundle_writer_begin(&m->w, m->target, &h);
}

/* The member outcome entries: the (i, j)-th of the usable members. */
static bool
next_member_outcome(struct gw_fed_merge *m, struct m_member **mb, const struct gw_fed_entry **e)
{
    while (m->cursor_i < m->n_members) {
        struct m_member *x = &m->members[m->cursor_i];

        if (x->ok && m->cursor_j < x->n_outcomes) {
            *mb = x;
            *e = x->outcomes[m->cursor_j++];
            return true;
        }
        m->cursor_i++;
        m->cursor_j = 0;
    }
    return false;
}

static int
emit_step(struct gw_fed_merge *m)
{
    struct m_member *mb;
    const struct gw_fed_entry *e;

    switch (m->stage) {
    case ST_HEADER:
        m->stage = ST_LEAD;
        return emit_header(m);
    case ST_LEAD:
        m->stage = ST_FAILURES;
        return m->lead == NULL ? BASE_OK
                               : fhir_bundle_writer_entry_checked(&m->w, NULL, m->lead,
                                                                  strlen(m->lead),
                                                                  FHIR_BUNDLE_MODE_OUTCOME, NULL);
    case ST_FAILURES:
        if (m->cursor_i < m->n_failures)
            return emit_tree(m, failure_outcome(m, &m->failures[m->cursor_i++]));
        m->stage = ST_OUTCOMES;
        m->cursor_i = 0;
        return m->cursor_dropped ? emit_tree(m, truncated_outcome()) : BASE_OK;
    case ST_OUTCOMES:
        if (next_member_outcome(m, &mb, &e))
            return emit_resource(m, mb, e, NULL, FHIR_BUNDLE_MODE_OUTCOME);
        m->stage = ST_ENTRIES;
        m->cursor_i = 0;
        return BASE_OK;
    case ST_ENTRIES:
        if (m->cursor_i < m->n_page) {
            const struct m_entry *ent = m->page[m->cursor_i++];

            return emit_resource(m, ent->mb, ent->e, ent, FHIR_BUNDLE_MODE_MATCH);
        }
        if (m->cursor_i < m->n_page + m->n_incl) {
            const struct m_entry *ent = m->incl[m->cursor_i++ - m->n_page];

            return emit_resource(m, ent->mb, ent->e, ent, FHIR_BUNDLE_MODE_INCLUDE);
        }
        m->stage = ST_END;
        return BASE_OK;
    case ST_END:
        m->stage = ST_DONE;
        return fhir_bundle_writer_end(&m->w);
    case ST_DONE:
    default:
        return BASE_OK;
    }
}

bool
fed_emit_next(struct gw_fed_merge *m)
{
    if (!m->ready && m->rc == BASE_OK)
        m->rc = BASE_E_INVALID; /* not finished: nothing to write */
    if (m->rc != BASE_OK || m->stage == ST_DONE)
        return false;
    m->rc = emit_step(m);
    return m->rc == BASE_OK;
}

int
gw_fed_merge_lead_outcome(struct gw_fed_merge *m, const char *resource_json)
{
    if (m->stage != ST_HEADER || resource_json == NULL)
        return BASE_E_INVALID;
    m->lead = base_arena_strdup(m->a, resource_json);
    return m->lead != NULL ? BASE_OK : BASE_E_NOMEM;
}

ssize_t
gw_fed_merge_read(struct gw_fed_merge *m, char *buf, size_t max)
{
    while (m->out_pos == m->out.len) {
        base_buf_reset(&m->out);
        m->out_pos = 0;
        if (!fed_emit_next(m))
            return m->rc != BASE_OK ? -1 : 0;
    }
    size_t n = m->out.len - m->out_pos;
    if (n > max)
        n = max;
    memcpy(buf, m->out.data + m->out_pos, n);
    m->out_pos += n;
    return (ssize_t)n;
}

/* About the page's length: each entry's resource plus what the merge adds
 * to it (fullUrl and meta.source from the member's base, the member's tag,
 * search), failures and the Bundle's own members.  A generous guess costs
 * a little memory for as long as the page lives; too small a guess costs
 * one more doubling. */
static size_t
page_estimate(const struct gw_fed_merge *m)
{
    size_t n = 2048 + m->n_failures * 1024;

    for (size_t i = 0; i < m->n_members; i++) {
        const struct m_member *mb = &m->members[i];

        for (size_t j = 0; mb->ok && j < mb->n_outcomes; j++)
            n += mb->outcomes[j]->resource.len + 512;
    }
    for (size_t i = 0; i < m->n_page + m->n_incl; i++) {
        const struct m_entry *ent = i < m->n_page ? m->page[i] : m->incl[i - m->n_page];
        const struct gw_fed_result *r = ent->mb->r;

        n += ent->e->resource.len + 2 * strlen(ent->mb->base) + strlen(r->member_id) +
             (r->member_name != NULL ? strlen(r->member_name) : 0) + 192 + ent->n_also * 128;
    }
    return n;
}

int
gw_fed_merge_write(struct gw_fed_merge *m, struct base_buf *out)
{
    if (m->stage != ST_HEADER) { /* partly read already: drain the reader */
        char chunk[4096];
        ssize_t n;

        while ((n = gw_fed_merge_read(m, chunk, sizeof(chunk))) > 0)
            TRY(base_buf_append(out, chunk, (size_t)n));
        return n == 0 ? BASE_OK : m->rc;
    }
    /* from the start: the writer writes straight into `out`, no copy, and
     * into room made once rather than by doubling through the page (past
     * out's limit the writer itself fails, where it really is too long) */
    if (m->ready && base_buf_reserve(out, page_estimate(m)) == BASE_E_NOMEM)
        return BASE_E_NOMEM;
    m->target = out;
    while (fed_emit_next(m))
        ;
    return m->rc;
}
