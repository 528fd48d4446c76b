/*
 * The merge's page (issue #5, docs/design/federation.md "Selection and
 * paging"): a k-way merge over the members' lists in sort order, folding
 * duplicates, so that what is taken from each member is a prefix of its
 * own answer; then where each member continues (the next cursor).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fhir/base/arena.h"
#include "gateway/fed/merge_int.h"

/* ---- ordering ---------------------------------------------------------------------- */

static int
ent_cmp(const struct m_entry *x, const struct m_entry *y, const struct gw_fed_merge *m)
{
    for (size_t k = 0; k < m->n_keys; k++) {
        int c = fhir_search_sortval_cmp(&x->keys[k], &y->keys[k], m->desc[k]);

        if (c != 0)
            return c;
    }
    if (x->mb->idx != y->mb->idx)
        return x->mb->idx < y->mb->idx ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int
ent_cmp_qsort(const void *a, const void *b, void *ctx)
{
    return ent_cmp(*(struct m_entry *const *)a, *(struct m_entry *const *)b, ctx);
}

/* A binary heap of members ordered by their head entry. */
struct heap {
    struct m_member **v;
    size_t n;
    const struct gw_fed_merge *m;
};

static bool
heap_less(const struct heap *h, size_t i, size_t j)
{
    return ent_cmp(&h->v[i]->ents[h->v[i]->pos], &h->v[j]->ents[h->v[j]->pos], h->m) < 0;
}

static void
heap_swap(struct heap *h, size_t i, size_t j)
{
    struct m_member *t = h->v[i];

    h->v[i] = h->v[j];
    h->v[j] = t;
}

static void
heap_down(struct heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1;
        size_t best = i;

        if (l < h->n && heap_less(h, l, best))
            best = l;
        if (l + 1 < h->n && heap_less(h, l + 1, best))
            best = l + 1;
        if (best == i)
            return;
        heap_swap(h, i, best);
        i = best;
    }
}

static void
heap_build(struct heap *h)
{
    for (size_t i = h->n / 2; i-- > 0;)
        heap_down(h, i);
}

/* ---- de-duplication --------------------------------------------------------------- */

struct dd_slot {
    uint64_t hash;
    const char *key;
    size_t len;
    struct m_entry *ent;
};

struct dedupe {
    struct dd_slot *slots;
    size_t cap; /* power of two, at least twice the keys */
};

static uint64_t
hash_bytes(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ULL;
    }
    return h ? h : 1;
}

/* Look `key` up; insert it (for `ent`) when absent.  Returns the entry that
 * already held it, or NULL. */
static struct m_entry *
dd_put(struct dedupe *d, const char *key, size_t len, struct m_entry *ent)
{
    uint64_t h = hash_bytes(key, len);

    for (size_t i = h & (d->cap - 1);; i = (i + 1) & (d->cap - 1)) {
        struct dd_slot *s = &d->slots[i];

        if (s->hash == 0) {
            *s = (struct dd_slot){h, key, len, ent};
            return NULL;
        }
        if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0)
            return s->ent;
    }
}

/* Key text "type\0system\0value" (an identifier) or "type\0\0id\0member". */
static const char *
dd_key(struct base_arena *a, const char *parts[4], size_t n_parts, size_t *len)
{
    size_t total = 0;

    for (size_t i = 0; i < n_parts; i++)
        total += strlen(parts[i]) + 1;
    char *k = base_arena_alloc(a, total);
    if (k == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n_parts; i++) {
        size_t n = strlen(parts[i]);

        memcpy(k + o, parts[i], n + 1);
        o += n + 1;
    }
    *len = total;
    return k;
}

/* The keys an entry is known by: its own (member, type, id) and each
 * business identifier with a system (a bare value is only local: two
 * hospitals' record number 123 are different people). */
static int
dd_check(struct gw_fed_merge *m, struct dedupe *d, struct m_entry *ent, struct m_entry **dup)
{
    const struct gw_fed_scan *sc = &ent->mb->scan;
    const struct gw_fed_entry *e = ent->e;
    bool esc = (e->escaped & GW_FED_ESC_OTHER) != 0;
    const char *type =
        gw_fed_span_str(m->a, sc->text, e->type, (e->escaped & GW_FED_ESC_TYPE) != 0);
    size_t len;

    *dup = NULL;
    if (type == NULL)
        return BASE_E_NOMEM;
    if (e->id.len > 0) {
        const char *id = gw_fed_span_str(m->a, sc->text, e->id, (e->escaped & GW_FED_ESC_ID) != 0);
        const char *parts[4] = {type, "", id, ent->mb->r->member_id};
        const char *k = id != NULL ? dd_key(m->a, parts, 4, &len) : NULL;

        if (k == NULL)
            return BASE_E_NOMEM;
        *dup = dd_put(d, k, len, ent);
    }
    for (uint32_t i = 0; i < e->n_idents; i++) {
        const struct gw_fed_coding *c = &sc->idents[e->first_ident + i];

        if (c->system.len == 0)
            continue;
        const char *parts[4] = {type, gw_fed_span_str(m->a, sc->text, c->system, esc),
                                gw_fed_span_str(m->a, sc->text, c->code, esc), NULL};
        if (parts[1] == NULL || parts[2] == NULL)
            return BASE_E_NOMEM;
        const char *k = dd_key(m->a, parts, 3, &len);
        if (k == NULL)
            return BASE_E_NOMEM;
        struct m_entry *prev = dd_put(d, k, len, ent);
        if (*dup == NULL && prev != NULL && prev != ent)
            *dup = prev;
    }
    return BASE_OK;
}

static int
fold(struct gw_fed_merge *m, struct m_entry *kept, struct m_entry *dup)
{
    const char *id = dup->mb->r->member_id;

    if (kept->mb == dup->mb)
        return BASE_OK; /* the same member twice: nothing to record */
    for (size_t i = 0; i < kept->n_also; i++) {
        if (strcmp(kept->also[i], id) == 0)
            return BASE_OK;
    }
    if (kept->n_also == kept->cap_also) {
        size_t cap = kept->cap_also == 0 ? 2 : kept->cap_also * 2;
        const char **na = base_arena_grow(m->a, kept->also, kept->n_also, cap, sizeof(*na));

        if (na == NULL)
            return BASE_E_NOMEM;
        kept->also = na;
        kept->cap_also = cap;
    }
    kept->also[kept->n_also++] = id;
    return BASE_OK;
}

/* ---- page selection ------------------------------------------------------------- */

/* What the members whose matches made the page included for them, in
 * member order (each member includes a resource once); the consent filter
 * applies as to matches, and only here, so that includes that never reach
 * the page neither cost a check nor count as withheld.  A member includes
 * for its whole page, of which the gateway's page may take a prefix: extra
 * includes are harmless, missing ones not. */
static int
page_includes(struct gw_fed_merge *m)
{
    size_t n = 0;

    for (size_t i = 0; i < m->n_members; i++)
        n += m->members[i].on_page ? m->members[i].n_incs : 0;
    m->incl = BASE_NEW_N(m->a, struct m_entry *, n + 1);
    if (m->incl == NULL)
        return BASE_E_NOMEM;
    for (size_t i = 0; i < m->n_members; i++) {
        struct m_member *mb = &m->members[i];

        for (size_t j = 0; mb->on_page && j < mb->n_incs; j++) {
            if (m->opts.admit != NULL)
                TRY(fed_admit(m, &mb->incs[j]));
            if (!mb->incs[j].filtered)
                m->incl[m->n_incl++] = &mb->incs[j];
        }
    }
    return BASE_OK;
}

int
fed_select_page(struct gw_fed_merge *m)
{
    struct heap h = {BASE_NEW_N(m->a, struct m_member *, m->n_members + 1), 0, m};
    struct dedupe d = {NULL, 16};
    size_t total = 0;
    size_t n_keys = 0;
    size_t limit = m->opts.count != 0 ? m->opts.count : SIZE_MAX;

    for (size_t i = 0; i < m->n_members; i++) {
        const struct m_member *mb = &m->members[i];

        for (size_t j = mb->ok ? mb->skip : mb->n_ents; j < mb->n_ents; j++) {
            total++;
            n_keys += 1 + mb->ents[j].e->n_idents;
        }
    }
    while (d.cap < 2 * n_keys)
        d.cap *= 2; /* load factor at most 1/2: dd_put always finds a free slot */
    d.slots = BASE_NEW_N(m->a, struct dd_slot, d.cap);
    m->page = BASE_NEW_N(m->a, struct m_entry *, (total < limit ? total : limit) + 1);
    if (h.v == NULL || d.slots == NULL || m->page == NULL)
        return BASE_E_NOMEM;
    for (size_t i = 0; i < m->n_members; i++) {
        if (m->members[i].ok && m->members[i].pos < m->members[i].n_ents)
            h.v[h.n++] = &m->members[i];
    }
    heap_build(&h);
    while (h.n > 0 && m->n_page < limit) {
        struct m_member *mb = h.v[0];
        struct m_entry *ent = &mb->ents[mb->pos++];
        struct m_entry *dup = NULL;

        if (!ent->filtered) {
            TRY(dd_check(m, &d, ent, &dup));
            if (dup != NULL) {
                TRY(fold(m, dup, ent));
                m->info.n_duplicates++;
            } else {
                m->page[m->n_page++] = ent;
                mb->on_page = true;
            }
        }
        if (mb->pos < mb->n_ents) {
            heap_down(&h, 0);
            continue;
        }
        h.v[0] = h.v[--h.n];
        heap_down(&h, 0);
        /* its unseen next page may sort before what is left */
        if (mb->more && m->opts.count != 0)
            break;
    }
    TRY(page_includes(m));
    /* members that sort as we do (they get our _sort) leave it in order */
    for (size_t i = 1; i < m->n_page; i++) {
        if (ent_cmp(m->page[i - 1], m->page[i], m) > 0) {
            qsort_r(m->page, m->n_page, sizeof(*m->page), ent_cmp_qsort, m);
            break;
        }
    }
    return BASE_OK;
}

/* ---- next cursor ----------------------------------------------------------------- */

/* Where this member continues. */
static void
next_state(struct m_member *mb, struct gw_fed_member_state *st)
{
    st->member_id = mb->r->member_id;
    if (!mb->ok) { /* ask again from where it was */
        if (mb->in != NULL)
            *st = *mb->in;
        return;
    }
    size_t consumed = mb->pos - mb->skip;
    if (mb->pos < mb->n_ents) {
        if (mb->link_mode) {
            st->page_url = mb->in != NULL ? mb->in->page_url : NULL;
            if (st->page_url == NULL && fed_under_base(mb->r->url, mb->base))
                st->page_url = mb->r->url + strlen(mb->base);
            if (st->page_url != NULL) {
                st->offset = mb->pos;
                return;
            }
        }
        st->offset = (mb->in != NULL && mb->in->page_url == NULL ? mb->in->offset : 0) + consumed;
        return;
    }
    if (!mb->more) {
        st->done = true;
        return;
    }
    if (mb->link_mode) {
        st->page_url = mb->next_rel;
        st->offset = 0;
        return;
    }
    st->offset = (mb->in != NULL && mb->in->page_url == NULL ? mb->in->offset : 0) + consumed;
}

int
fed_next_cursor(struct gw_fed_merge *m)
{
    struct gw_fed_cursor c = {BASE_NEW_N(m->a, struct gw_fed_member_state, m->n_members + 1), 0, 0};
    bool more = false;
    int64_t now = m->opts.now != 0 ? m->opts.now : (int64_t)time(NULL);
    struct base_err err = {0};
    char *token = NULL;
    int rc;

    if (c.members == NULL)
        return BASE_E_NOMEM;
    for (size_t i = 0; i < m->n_members; i++) {
        struct m_member *mb = &m->members[i];

        if (mb->in != NULL && mb->in->done)
            continue;
        next_state(mb, &c.members[c.n_members]);
        more |= mb->ok && !c.members[c.n_members].done;
        c.n_members++;
    }
    if (!more || m->opts.keys == NULL)
        return BASE_OK;
    rc = gw_fed_cursor_encode(m->a, m->opts.keys, &c, m->opts.binding, m->opts.cursor_ttl_s, now,
                              &token, &err);
    if (rc == BASE_E_LIMIT) {
        m->cursor_dropped = true; /* reported as an outcome entry */
        return BASE_OK;
    }
    TRY(rc);
    m->info.next_cursor = token;
    return BASE_OK;
}
