/*
 * The federated merge (issue #5, docs/design/federation.md): from the
 * members' answers to one searchset page.
 *
 *   1. Scan each answer (scan.c); an answer that is not a valid searchset
 *      becomes an "invalid" failure of that member, never a crash and never
 *      silently dropped.
 *   2. Compute each entry's sort keys from the scanned spans (sortkey.c);
 *      only an entry whose _sort key the scanner cannot read gets a tree.
 *   3. Select the page by a k-way merge over the members' lists: each
 *      member's consumed entries are always a prefix of its own answer, so
 *      its next page starts at a plain offset (or inside its current page)
 *      and nothing is skipped or repeated across pages.  Duplicates (same
 *      type and business identifier from two members, or the same resource
 *      twice from one) are folded into the first, which then names both
 *      sources.  A member that runs out while it has a next page ends the
 *      page early, since its unseen entries may sort first.
 *   4. Sort the page, and sign the next cursor: each member's offset or
 *      next link.
 * Steps 1-2 are here, 3-4 in select.c; emit.c then writes the Bundle
 * incrementally.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/base/str.h"
#include "fhir/json/fhir_json.h"
#include "gateway/fed/merge_int.h"

/* ---- failures ------------------------------------------------------------------- */

static void
fail_member(struct m_member *mb, enum gw_fed_error e, const char *detail)
{
    mb->ok = false;
    mb->error = e;
    mb->detail = detail;
}

/* A member's next link must stay under its base: the gateway will send its
 * client certificate there on the next page. */
bool
fed_under_base(const char *url, const char *base)
{
    size_t n = strlen(base);

    return strncmp(url, base, n) == 0 && (url[n] == '/' || url[n] == '?');
}

static int
member_paging(struct gw_fed_merge *m, struct m_member *mb)
{
    const struct gw_fed_scan *sc = &mb->scan;

    mb->link_mode = mb->in != NULL ? mb->in->page_url != NULL : !mb->r->offset_paging;
    if (sc->next_url.len > 0) {
        char *next = gw_fed_span_str(m->a, sc->text, sc->next_url, sc->next_escaped);

        if (next == NULL)
            return BASE_E_NOMEM;
        if (!fed_under_base(next, mb->base)) {
            fail_member(mb, GW_FED_E_INVALID, "next link outside the member's base URL");
            return BASE_OK;
        }
        mb->more = true;
        mb->next_rel = next + strlen(mb->base);
        /* a next link in _offset form is offset paging, whatever was said */
        if (mb->in == NULL && strstr(mb->next_rel, "_offset=") != NULL)
            mb->link_mode = false;
    }
    return BASE_OK;
}

/* Scan one answer; a bad one becomes that member's failure. */
static int
member_scan(struct gw_fed_merge *m, struct m_member *mb)
{
    const struct gw_fed_result *r = mb->r;
    struct gw_fed_scan_opts so = {m->opts.max_depth,     0,
                                  m->opts.types,         m->opts.n_types,
                                  m->opts.include_types, m->opts.n_include_types};
    struct base_err err = {0};
    int rc;

    if (r->error != GW_FED_OK) {
        fail_member(mb, r->error, r->detail);
        return BASE_OK;
    }
    if (r->body == NULL || r->body_len == 0) {
        fail_member(mb, GW_FED_E_INVALID, "empty answer");
        return BASE_OK;
    }
    rc = gw_fed_scan_bundle(m->a, r->body, r->body_len, &so, &mb->scan, &err);
    if (rc == BASE_E_NOMEM)
        return rc;
    if (rc != BASE_OK) {
        char *d = base_arena_sprintf(m->a, "invalid answer: %s (%s)", err.msg, err.where);

        if (d == NULL)
            return BASE_E_NOMEM;
        fail_member(mb, GW_FED_E_INVALID, d);
        return BASE_OK;
    }
    mb->ok = true;
    return member_paging(m, mb);
}

/* ---- sort keys --------------------------------------------------------------------- */

/* The keys the scanner cannot give: a tree of this one resource. */
static void
keys_from_tree(struct gw_fed_merge *m, struct m_entry *ent, bool *need)
{
    const char *text = ent->mb->scan.text + ent->e->resource.off;
    json_t *tree = NULL;

    if (fhir_json_parse(text, ent->e->resource.len, NULL, &tree, NULL) != BASE_OK)
        return; /* cannot happen for scanned text; the keys stay absent */
    for (size_t k = 0; k < m->n_keys; k++) {
        struct fhir_search_sortval sv;

        /* an error (another type's parameter, out of memory) leaves the key
         * absent, as fhir_search_compare() treats it; strings live in m->a */
        if (!need[k] ||
            fhir_search_sort_value(m->a, tree, &m->opts.search->sort[k], &sv, NULL) != BASE_OK)
            continue;
        /* token and uri keys point into the tree, which goes below */
        if (sv.str != NULL)
            sv.str = base_arena_strdup(m->a, sv.str);
        if (sv.str2 != NULL)
            sv.str2 = base_arena_strdup(m->a, sv.str2);
        ent->keys[k] = sv;
    }
    json_decref(tree);
}

static int
entry_keys(struct gw_fed_merge *m, struct m_entry *ent)
{
    bool need[BASE_LIMIT_SEARCH_MAX_SORT_KEYS];
    bool any = false;

    ent->keys = BASE_NEW_N(m->a, struct fhir_search_sortval, m->n_keys);
    if (ent->keys == NULL)
        return BASE_E_NOMEM;
    if (m->opts.search == NULL || m->opts.search->n_sort == 0) {
        fed_sort_default(&ent->mb->scan, ent->e, &ent->keys[0]);
        return BASE_OK;
    }
    for (size_t k = 0; k < m->n_keys; k++) {
        need[k] = !fed_sort_fast(&ent->mb->scan, ent->e, &m->opts.search->sort[k], &ent->keys[k]);
        any |= need[k];
    }
    if (any)
        keys_from_tree(m, ent, need);
    return BASE_OK;
}

/* ---- the admit filter ---------------------------------------------------------- */

int
fed_admit(struct gw_fed_merge *m, struct m_entry *ent)
{
    const struct gw_fed_scan *sc = &ent->mb->scan;
    const struct gw_fed_entry *e = ent->e;
    bool esc = (e->escaped & GW_FED_ESC_OTHER) != 0;
    struct gw_fed_entry_info info = {ent->mb->r->member_id, NULL, NULL, NULL, NULL, 0};
    struct gw_fed_label *labels = BASE_NEW_N(m->a, struct gw_fed_label, e->n_labels + 1u);

    info.type = gw_fed_span_str(m->a, sc->text, e->type, (e->escaped & GW_FED_ESC_TYPE) != 0);
    if (labels == NULL || info.type == NULL)
        return BASE_E_NOMEM;
    if (e->id.len > 0)
        info.id = gw_fed_span_str(m->a, sc->text, e->id, (e->escaped & GW_FED_ESC_ID) != 0);
    if (e->version_id.len > 0)
        info.version_id =
            gw_fed_span_str(m->a, sc->text, e->version_id, (e->escaped & GW_FED_ESC_VERSION) != 0);
    for (uint32_t i = 0; i < e->n_labels; i++) {
        const struct gw_fed_coding *c = &sc->codings[e->first_label + i];

        labels[i].system =
            c->system.len > 0 ? gw_fed_span_str(m->a, sc->text, c->system, esc) : NULL;
        labels[i].code = gw_fed_span_str(m->a, sc->text, c->code, esc);
        if (labels[i].code == NULL)
            return BASE_E_NOMEM;
    }
    info.security = labels;
    info.n_security = e->n_labels;
    ent->filtered = !m->opts.admit(&info, m->opts.admit_ctx);
    m->info.n_filtered += ent->filtered;
    return BASE_OK;
}

static int
member_entries(struct gw_fed_merge *m, struct m_member *mb)
{
    const struct gw_fed_scan *sc = &mb->scan;
    size_t n_match = 0;

    size_t n_inc = 0;

    for (size_t i = 0; i < sc->n_entries; i++) {
        /* no search.mode counts as a match */
        n_inc += sc->entries[i].mode == GW_FED_MODE_INCLUDE;
        n_match += sc->entries[i].mode != GW_FED_MODE_INCLUDE &&
                   sc->entries[i].mode != GW_FED_MODE_OUTCOME;
    }
    mb->ents = BASE_NEW_N(m->a, struct m_entry, n_match + 1);
    mb->incs = BASE_NEW_N(m->a, struct m_entry, n_inc + 1);
    mb->outcomes =
        BASE_NEW_N(m->a, const struct gw_fed_entry *, sc->n_entries - n_match - n_inc + 1);
    if (mb->ents == NULL || mb->incs == NULL || mb->outcomes == NULL)
        return BASE_E_NOMEM;
    for (size_t i = 0; i < sc->n_entries; i++) {
        const struct gw_fed_entry *e = &sc->entries[i];
        struct m_entry *ent;

        if (e->mode == GW_FED_MODE_OUTCOME) {
            mb->outcomes[mb->n_outcomes++] = e;
            continue;
        }
        if (e->mode == GW_FED_MODE_INCLUDE) {
            ent = &mb->incs[mb->n_incs];
            ent->pos = mb->n_incs++;
        } else {
            ent = &mb->ents[mb->n_ents];
            ent->pos = mb->n_ents++;
        }
        ent->mb = mb;
        ent->e = e;
    }
    mb->skip = mb->in != NULL && mb->in->page_url != NULL
                   ? (size_t)(mb->in->offset < mb->n_ents ? mb->in->offset : mb->n_ents)
                   : 0;
    mb->pos = mb->skip;
    for (size_t i = mb->skip; i < mb->n_ents; i++) {
        TRY(entry_keys(m, &mb->ents[i]));
        if (m->opts.admit != NULL)
            TRY(fed_admit(m, &mb->ents[i]));
    }
    return BASE_OK;
}

/* ---- results for the caller ---------------------------------------------------- */

static int
fill_entities(struct gw_fed_merge *m)
{
    m->entities = BASE_NEW_N(m->a, struct gw_fed_entity, m->n_page + m->n_incl + 1);
    if (m->entities == NULL)
        return BASE_E_NOMEM;
    for (size_t i = 0; i < m->n_page + m->n_incl; i++) {
        const struct m_entry *ent = i < m->n_page ? m->page[i] : m->incl[i - m->n_page];
        const struct gw_fed_entry *e = ent->e;
        const char *t = ent->mb->scan.text;
        struct gw_fed_entity *x = &m->entities[i];

        x->type = gw_fed_span_str(m->a, t, e->type, (e->escaped & GW_FED_ESC_TYPE) != 0);
        x->id = e->id.len > 0 ? gw_fed_span_str(m->a, t, e->id, (e->escaped & GW_FED_ESC_ID) != 0)
                              : NULL;
        x->version = e->version_id.len > 0 ? gw_fed_span_str(m->a, t, e->version_id,
                                                             (e->escaped & GW_FED_ESC_VERSION) != 0)
                                           : NULL;
        x->member_id = ent->mb->r->member_id;
        x->also_from = ent->also;
        x->n_also = ent->n_also;
        if (x->type == NULL)
            return BASE_E_NOMEM;
    }
    return BASE_OK;
}

static int
fill_failures_and_total(struct gw_fed_merge *m)
{
    bool all_total = true;
    uint64_t total = 0;

    m->failures = BASE_NEW_N(m->a, struct gw_fed_failure, m->n_members + 1);
    if (m->failures == NULL)
        return BASE_E_NOMEM;
    for (size_t i = 0; i < m->n_members; i++) {
        const struct m_member *mb = &m->members[i];

        if (!mb->ok) {
            m->failures[m->n_failures++] = (struct gw_fed_failure){
                mb->r->member_id, mb->r->member_name, mb->error,
                mb->detail != NULL ? mb->detail : gw_fed_error_name(mb->error), mb->r->latency_us};
            all_total = false;
            continue;
        }
        m->info.n_ok++;
        all_total &= mb->scan.has_total;
        if (!__builtin_add_overflow(total, mb->scan.total, &total))
            continue;
        all_total = false;
    }
    /* A total that counted entries the policy filter removed would tell the
     * caller they exist (DESIGN.md §6: scopes enforced without revealing
     * whether data exists), so it is left out then. */
    m->info.has_total =
        all_total && m->n_members > 0 && m->info.n_filtered == 0 && total >= m->info.n_duplicates;
    m->info.total = m->info.has_total ? total - m->info.n_duplicates : 0;
    return BASE_OK;
}

static int
make_links(struct gw_fed_merge *m)
{
    const struct gw_fed_merge_opts *o = &m->opts;

    if (o->base_url == NULL || o->path == NULL)
        return BASE_OK;
    char *self = fhir_bundle_page_url(m->a, o->base_url, o->path, o->query, o->self_cursor);
    if (self == NULL)
        return BASE_E_NOMEM;
    m->links[m->n_links++] = (struct fhir_bundle_link){"self", self};
    if (m->info.next_cursor != NULL) {
        char *next =
            fhir_bundle_page_url(m->a, o->base_url, o->path, o->query, m->info.next_cursor);
        if (next == NULL)
            return BASE_E_NOMEM;
        m->links[m->n_links++] = (struct fhir_bundle_link){"next", next};
    }
    return BASE_OK;
}

/* ---- entry point ----------------------------------------------------------------- */

static bool
utf8_ok(const char *s)
{
    return s == NULL || base_utf8_valid(s, strlen(s), NULL);
}

int
gw_fed_merge_start(struct base_arena *a, size_t n_members, const struct gw_fed_merge_opts *opts,
                   struct gw_fed_merge **out, struct base_err *err)
{
    const struct fhir_search *s = opts != NULL ? opts->search : NULL;
    struct gw_fed_merge *m;
    int rc;

    *out = NULL;
    if (opts == NULL || n_members > BASE_LIMIT_FED_MAX_REQUESTS ||
        (s != NULL && s->n_sort > BASE_LIMIT_SEARCH_MAX_SORT_KEYS))
        return base_err_set(err, BASE_E_INVALID, "exception", NULL, "bad merge options");
    m = BASE_NEW(a, struct gw_fed_merge);
    if (m == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    m->a = a;
    m->opts = *opts;
    m->info.n_members = n_members;
    m->n_members = n_members;
    m->n_keys = s != NULL && s->n_sort > 0 ? s->n_sort : 1;
    m->desc = BASE_NEW_N(a, bool, m->n_keys);
    m->members = BASE_NEW_N(a, struct m_member, n_members + 1);
    base_buf_init(&m->out, 0);
    m->target = &m->out;
    base_buf_init(&m->url, 0);
    base_buf_init(&m->tagbuf, 0);
    rc = m->desc == NULL || m->members == NULL ? BASE_E_NOMEM : base_buf_tie(&m->out, a);
    if (rc == BASE_OK)
        rc = base_buf_tie(&m->url, a);
    if (rc == BASE_OK)
        rc = base_buf_tie(&m->tagbuf, a);
    if (rc != BASE_OK)
        return base_err_set(err, rc, "exception", NULL, "out of memory");
    for (size_t k = 0; k < m->n_keys; k++)
        m->desc[k] = s != NULL && s->n_sort > 0 ? s->sort[k].desc : true;
    *out = m;
    return BASE_OK;
}

int
gw_fed_merge_add(struct gw_fed_merge *m, size_t idx, const struct gw_fed_result *r,
                 struct base_err *err)
{
    struct m_member *mb;

    /* these go into the Bundle's text (tags, meta.source): the registry
     * must hand over UTF-8 */
    if (idx >= m->n_members || m->members[idx].r != NULL || m->finished || r == NULL ||
        r->member_id == NULL || !utf8_ok(r->member_id) || !utf8_ok(r->member_name) ||
        !utf8_ok(r->base))
        return base_err_set(err, BASE_E_INVALID, "exception", NULL,
                            "member %zu: added twice, or id, name or base not UTF-8", idx);
    mb = &m->members[idx];
    const char *b = r->base != NULL ? r->base : "";
    size_t bl = strlen(b);
    while (bl > 0 && b[bl - 1] == '/')
        bl--;
    mb->idx = idx;
    mb->r = r;
    mb->base = base_arena_strndup(m->a, b, bl);
    if (mb->base == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    mb->in = gw_fed_cursor_find(m->opts.cursor, r->member_id);
    int rc = member_scan(m, mb);
    if (rc == BASE_OK && mb->ok)
        rc = member_entries(m, mb);
    if (rc != BASE_OK)
        return base_err_set(err, rc, "exception", NULL, "cannot merge the member answers");
    m->n_added++;
    return BASE_OK;
}

int
gw_fed_merge_finish(struct gw_fed_merge *m, struct base_err *err)
{
    int rc;

    if (m->finished || m->n_added != m->n_members)
        return base_err_set(err, BASE_E_INVALID, "exception", NULL,
                            "merge finished twice or before every member was added");
    m->finished = true;
    rc = fed_select_page(m);
    if (rc == BASE_OK)
        rc = fill_failures_and_total(m);
    if (rc == BASE_OK)
        rc = fed_next_cursor(m);
    if (rc == BASE_OK)
        rc = fill_entities(m);
    if (rc == BASE_OK)
        rc = make_links(m);
    if (rc != BASE_OK)
        return base_err_set(err, rc, "exception", NULL, "cannot merge the member answers");
    m->info.n_entries = m->n_page;
    m->ready = true;
    return BASE_OK;
}

int
gw_fed_merge_new(struct base_arena *a, const struct gw_fed_result *results, size_t n_results,
                 const struct gw_fed_merge_opts *opts, struct gw_fed_merge **out,
                 struct base_err *err)
{
    struct gw_fed_merge *m = NULL;

    *out = NULL;
    if (results == NULL && n_results > 0)
        return base_err_set(err, BASE_E_INVALID, "exception", NULL, "bad merge options");
    TRY(gw_fed_merge_start(a, n_results, opts, &m, err));
    for (size_t i = 0; i < n_results; i++)
        TRY(gw_fed_merge_add(m, i, &results[i], err));
    TRY(gw_fed_merge_finish(m, err));
    *out = m;
    return BASE_OK;
}

void
gw_fed_merge_entities(const struct gw_fed_merge *m, const struct gw_fed_entity **out, size_t *n)
{
    *out = m->entities;
    *n = m->n_page + m->n_incl;
}

void
gw_fed_merge_failures(const struct gw_fed_merge *m, const struct gw_fed_failure **out, size_t *n)
{
    *out = m->failures;
    *n = m->n_failures;
}

void
gw_fed_merge_info(const struct gw_fed_merge *m, struct gw_fed_merge_info *out)
{
    *out = m->info;
}
