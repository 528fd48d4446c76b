/*
 * gateway/fed/scan_int.h — the scanner's lexical layer (jscan.c), shared
 * with the Bundle structure (scan.c).
 */
#ifndef GATEWAY_FED_SCAN_INT_H
#define GATEWAY_FED_SCAN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/fed/fed_int.h"

/* A member name seen in an open object (duplicate detection). */
struct sc_key {
    uint64_t hash; /* name_hash() of the decoded name */
    uint32_t off;  /* contents in the text */
    uint32_t len;
    bool esc;
};

struct sc {
    const unsigned char *base;
    const unsigned char *p;
    const unsigned char *end;
    size_t depth;
    size_t max_depth;
    struct base_arena *a;
    struct base_err *err;
    const struct gw_fed_scan_opts *opts;
    struct gw_fed_scan *out;
    size_t cap_entries, cap_codings, cap_idents;
    struct sc_key *keys; /* stack of the names of the open objects */
    size_t n_keys, cap_keys;
    long entry; /* index of the entry being scanned, -1 outside */
    const unsigned char *u8_from; /* the text from here on is valid UTF-8 … */
    bool u8_tried;                /* … as one check at the first non-ASCII byte found */
};

/* Consume one member's value (s->p at it); `key` is the decoded name. */
typedef int (*sc_member_fn)(struct sc *s, const char *key, size_t key_len, void *ctx);
/* Consume one array element. */
typedef int (*sc_elem_fn)(struct sc *s, size_t index, void *ctx);

static inline void
sc_ws(struct sc *s)
{
    /* members' answers are mostly compact: one compare for the usual case */
    if (s->p < s->end && *s->p > ' ')
        return;
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
        s->p++;
}

static inline bool
sc_at(const struct sc *s, unsigned char c)
{
    return s->p < s->end && *s->p == c;
}

/* Record an error at the current byte (and entry) and return rc. */
int sc_fail(struct sc *s, int rc, const char *issue, const char *what);
int sc_syntax(struct sc *s);
/* A string at s->p; *span = contents, *esc = holds escapes. */
int sc_string(struct sc *s, struct gw_fed_span *span, bool *esc);
/* Any JSON value (validated, skipped). */
int sc_value(struct sc *s);
/* An object at s->p: fn consumes each member's value; names checked for
 * duplicates, depth and member count capped. */
int sc_object(struct sc *s, sc_member_fn fn, void *ctx);
int sc_array(struct sc *s, sc_elem_fn fn, void *ctx);

#endif /* GATEWAY_FED_SCAN_INT_H */
