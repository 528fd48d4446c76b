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

/* One date key (the default order, or a _sort on a date): each entry's key
 * as two integers compared as (rank_absent, rank), which orders exactly as
 * fhir_search_sortval_cmp() does — present before absent, then the time,
 * reversed for a descending key.  The k-way merge compares entries about
 * ten times each, and the general comparison was half of finish()'s CPU. */
static bool
set_ranks(struct gw_fed_merge *m)
{
    for (size_t i = 0; i < m->n_members; i++) {
        const struct m_member *mb = &m->members[i];

        for (size_t j = mb->ok ? mb->skip : mb->n_ents; j < mb->n_ents; j++) {
            const struct fhir_search_sortval *k = &mb->ents[j].keys[0];

            if (k->present && k->type != FHIR_SEARCH_DATE)
                return false;
        }
    }
    for (size_t i = 0; i < m->n_members; i++) {
        struct m_member *mb = &m->members[i];

        for (size_t j = mb->ok ? mb->skip : mb->n_ents; j < mb->n_ents; j++) {
            struct m_entry *ent = &mb->ents[j];
            /* int64 order as uint64 order: flip the sign bit */
            uint64_t u = (uint64_t)ent->keys[0].time ^ (1ULL << 63);

            ent->rank_absent = !ent->keys[0].present;
            ent->rank = ent->rank_absent ? 0 : m->desc[0] ? ~u : u;
        }
    }
    return true;
}

static int
ent_cmp(const struct m_entry *x, const struct m_entry *y, const struct gw_fed_merge *m)
{
    if (m->ranked) {
        if (x->rank_absent != y->rank_absent)
            return x->rank_absent ? 1 : -1;
        if (x->rank != y->rank)
            return x->rank < y->rank ? -1 : 1;
    } else {
        for (size_t k = 0; k < m->n_keys; k++) {
            int c = fhir_search_sortval_cmp(&x->keys[k], &y->keys[k], m->desc[k]);

            if (c != 0)
                return c;
        }
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

/* A binary heap of members ordered by their head entry.  With ranks, each
 * node carries its head's rank, so a comparison reads the node alone. */
struct hnode {
    uint64_t rank;
    bool absent;
    struct m_member *mb;
};

struct heap {
    struct hnode *v;
    size_t n;
    const struct gw_fed_merge *m;
};

/* The node's member has a new head (mb->pos < mb->n_ents). */
static void
hnode_set(struct hnode *x, struct m_member *mb)
{
    const struct m_entry *head = &mb->ents[mb->pos];

    x->mb = mb;
    x->rank = head->rank;
    x->absent = head->rank_absent;
}

static bool
heap_less(const struct heap *h, size_t i, size_t j)
{
    const struct hnode *x = &h->v[i];
    const struct hnode *y = &h->v[j];

    if (!h->m->ranked)
        return ent_cmp(&x->mb->ents[x->mb->pos], &y->mb->ents[y->mb->pos], h->m) < 0;
    /* ent_cmp's order: heads of two members never tie past the member */
    if (x->absent != y->absent)
        return y->absent;
    if (x->rank != y->rank)
        return x->rank < y->rank;
    return x->mb->idx < y->mb->idx;
}

static void
heap_swap(struct heap *h, size_t i, size_t j)
{
    struct hnode t = h->v[i];

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

/* A key an entry is known by, as parts pointing into the member's text
 * (decoded copies only for the rare escaped strings): (type, "", id,
 * member) for the resource itself (which < 0), (type, system, value) for
 * its business identifier `which` — the part counts keep the kinds apart. */
struct dd_key {
    const char *part[4];
    uint32_t len[4];
    uint32_t n;
};

/* A slot names its key by (entry, which) and rebuilds it only to compare
 * when the hashes agree: 16 bytes a key, where a copy of the parts took
 * 80 and the table's fresh pages were a quarter of finish()'s page
 * faults. */
struct dd_slot {
    struct m_entry *ent; /* NULL: empty */
    uint32_t hash;
    int32_t which;
};

struct dedupe {
    struct dd_slot *slots;
    size_t cap; /* power of two, at least twice the keys */
};

/* Eight bytes at a time; quality only costs time (keys are compared in
 * full when the hashes agree). */
static uint64_t
hash_part(uint64_t h, const char *p, size_t n)
{
    uint64_t w;

    h = (h ^ n) * 0x9E3779B97F4A7C15ULL;
    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
        h ^= h >> 29;
    }
    w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0x94D049BB133111EBULL;
    return h ^ (h >> 31);
}

/* A part from a span: the text itself, or its decoded copy when escaped. */
static bool
dd_part(struct gw_fed_merge *m, struct dd_key *k, const char *text, struct gw_fed_span sp,
        bool esc)
{
    const char *p = text + sp.off;
    size_t n = sp.len;

    if (esc) {
        p = gw_fed_span_str(m->a, text, sp, true);
        if (p == NULL)
            return false;
        n = strlen(p);
    }
    k->part[k->n] = p;
    k->len[k->n++] = (uint32_t)n;
    return true;
}

static void
dd_cstr(struct dd_key *k, const char *s)
{
    k->part[k->n] = s;
    k->len[k->n++] = (uint32_t)strlen(s);
}

/* Key `which` of ent (< 0: its own id; else that identifier, which must
 * have a system).  False when out of memory. */
static bool
dd_key_of(struct gw_fed_merge *m, const struct m_entry *ent, int32_t which, struct dd_key *k)
{
    const struct gw_fed_scan *sc = &ent->mb->scan;
    const struct gw_fed_entry *e = ent->e;
    bool esc = (e->escaped & GW_FED_ESC_OTHER) != 0;

    k->n = 0;
    if (!dd_part(m, k, sc->text, e->type, (e->escaped & GW_FED_ESC_TYPE) != 0))
        return false;
    if (which < 0) {
        dd_cstr(k, "");
        if (!dd_part(m, k, sc->text, e->id, (e->escaped & GW_FED_ESC_ID) != 0))
            return false;
        dd_cstr(k, ent->mb->r->member_id);
        return true;
    }
    const struct gw_fed_coding *c = &sc->idents[e->first_ident + (uint32_t)which];
    return dd_part(m, k, sc->text, c->system, esc) && dd_part(m, k, sc->text, c->code, esc);
}

static bool
dd_same(const struct dd_key *x, const struct dd_key *y)
{
    if (x->n != y->n)
        return false;
    for (uint32_t i = 0; i < x->n; i++) {
        if (x->len[i] != y->len[i] || memcmp(x->part[i], y->part[i], x->len[i]) != 0)
            return false;
    }
    return true;
}

/* Look up ent's key `which` (built in *k); keep it when new.  *prev gets
 * the entry that already held it, or NULL.  False when out of memory. */
static bool
dd_put(struct gw_fed_merge *m, struct dedupe *d, struct m_entry *ent, int32_t which,
       const struct dd_key *k, struct m_entry **prev)
{
    uint64_t h = 0;

    *prev = NULL;
    for (uint32_t i = 0; i < k->n; i++)
        h = hash_part(h, k->part[i], k->len[i]);
    for (size_t i = h & (d->cap - 1);; i = (i + 1) & (d->cap - 1)) {
        struct dd_slot *s = &d->slots[i];
        struct dd_key other;

        if (s->ent == NULL) {
            *s = (struct dd_slot){ent, (uint32_t)(h >> 32), which};
            return true;
        }
        if (s->hash != (uint32_t)(h >> 32))
            continue;
        if (!dd_key_of(m, s->ent, s->which, &other))
            return false;
        if (dd_same(&other, k)) {
            *prev = s->ent;
            return true;
        }
    }
}

/* The keys an entry is known by: its own (member, type, id) and each
 * business identifier with a system (a bare value is only local: two
 * hospitals' record number 123 are different people). */
static int
dd_check(struct gw_fed_merge *m, struct dedupe *d, struct m_entry *ent, struct m_entry **dup)
{
    const struct gw_fed_scan *sc = &ent->mb->scan;
    const struct gw_fed_entry *e = ent->e;
    struct dd_key k;
    struct m_entry *prev;

    *dup = NULL;
    if (e->id.len > 0) {
        if (!dd_key_of(m, ent, -1, &k) || !dd_put(m, d, ent, -1, &k, dup))
            return BASE_E_NOMEM;
    }
    for (uint32_t i = 0; i < e->n_idents; i++) {
        if (sc->idents[e->first_ident + i].system.len == 0)
            continue;
        if (!dd_key_of(m, ent, (int32_t)i, &k) || !dd_put(m, d, ent, (int32_t)i, &k, &prev))
            return BASE_E_NOMEM;
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
    struct heap h = {BASE_NEW_N(m->a, struct hnode, m->n_members + 1), 0, m};
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
    m->ranked = m->n_keys == 1 && set_ranks(m);
    for (size_t i = 0; i < m->n_members; i++) {
        if (m->members[i].ok && m->members[i].pos < m->members[i].n_ents)
            hnode_set(&h.v[h.n++], &m->members[i]);
    }
    heap_build(&h);
    while (h.n > 0 && m->n_page < limit) {
        struct m_member *mb = h.v[0].mb;
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
            hnode_set(&h.v[0], mb);
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
