/*
 * gateway/fed/merge_int.h — the merge's state, shared by merge.c (selecting
 * the page) and emit.c (writing it).
 */
#ifndef GATEWAY_FED_MERGE_INT_H
#define GATEWAY_FED_MERGE_INT_H

#include "fhir/bundle/fhir_bundle.h"
#include "fhir/search/fhir_search.h"
#include "gateway/fed/fed_int.h"

struct m_member;

/* One match/include entry of a member answer. */
struct m_entry {
    struct m_member *mb;
    const struct gw_fed_entry *e;
    size_t pos;                       /* index among the member's entries */
    struct fhir_search_sortval *keys; /* one per sort key */
    uint64_t rank;                    /* one date key as an integer (select.c) */
    bool rank_absent;
    bool filtered;                    /* the admit filter refused it */
    const char **also;                /* members whose duplicates were folded in */
    size_t n_also, cap_also;
};

struct m_member {
    size_t idx;
    const struct gw_fed_result *r;
    const char *base;                     /* without a trailing '/' */
    const struct gw_fed_member_state *in; /* the cursor's state, or NULL */
    bool ok;                              /* answer usable */
    enum gw_fed_error error;              /* when !ok */
    const char *detail;
    struct gw_fed_scan scan;
    struct m_entry *ents; /* match entries, in the member's order */
    size_t n_ents;
    struct m_entry *incs; /* include entries (_include/_revinclude) */
    size_t n_incs;
    bool on_page;                         /* one of its matches made the page */
    const struct gw_fed_entry **outcomes; /* its own outcome entries */
    size_t n_outcomes;
    size_t skip;          /* entries of a re-fetched page consumed earlier */
    size_t pos;           /* next entry not yet consumed */
    bool more;            /* the member has a next page */
    bool link_mode;       /* paging by the member's next links */
    const char *next_rel; /* next link relative to base */
    struct fed_tag_text tag; /* its own tagging as text (emit.c; text NULL: not yet) */
};

enum m_stage { ST_HEADER, ST_LEAD, ST_FAILURES, ST_OUTCOMES, ST_ENTRIES, ST_END, ST_DONE };

struct gw_fed_merge {
    struct base_arena *a;
    struct gw_fed_merge_opts opts;
    struct m_member *members;
    size_t n_members;
    size_t n_added;        /* members given to gw_fed_merge_add so far */
    bool finished;         /* gw_fed_merge_finish was called */
    bool ready;            /* … and succeeded: the text may be read */
    size_t n_keys;         /* sort keys per entry */
    bool *desc;            /* per key */
    bool ranked;           /* entries compare by rank (select.c) */
    struct m_entry **page; /* the page, in output order */
    size_t n_page;
    struct m_entry **incl; /* includes of the members on the page, after it */
    size_t n_incl;
    struct gw_fed_entity *entities;
    const char *lead;      /* gw_fed_merge_lead_outcome(): resource JSON, or NULL */
    struct gw_fed_failure *failures;
    size_t n_failures;
    struct gw_fed_merge_info info;
    bool cursor_dropped; /* a next page exists but its cursor was too large */
    struct fhir_bundle_link links[2];
    size_t n_links;
    /* streaming */
    enum m_stage stage;
    size_t cursor_i; /* position inside the stage */
    size_t cursor_j;
    struct fhir_bundle_writer w;
    struct base_buf *target; /* where the writer writes: &out, or the caller's */
    struct base_buf out;     /* text produced, not yet read */
    size_t out_pos;
    struct base_buf url;    /* scratch: one fullUrl */
    struct base_buf tagbuf; /* scratch: the tagging of an entry from several members */
    int rc;                 /* sticky stream error */
};

/* merge.c: run opts.admit on an entry (sets ent->filtered, counts it). */
BASE_MUST_CHECK int fed_admit(struct gw_fed_merge *m, struct m_entry *ent);
/* merge.c: does `url` lie under the member's `base` (same origin and path)? */
bool fed_under_base(const char *url, const char *base);
/* select.c: choose the page (k-way merge, duplicates folded, sorted)… */
BASE_MUST_CHECK int fed_select_page(struct gw_fed_merge *m);
/* … and sign where each member continues (info.next_cursor). */
BASE_MUST_CHECK int fed_next_cursor(struct gw_fed_merge *m);

/* emit.c: produce the next piece of text into m->out; false when done. */
bool fed_emit_next(struct gw_fed_merge *m);

#endif /* GATEWAY_FED_MERGE_INT_H */
