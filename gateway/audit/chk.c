/*
 * The verification state machine: fed the rows of one chain in sequence
 * order, decides whether each continues the chain, and names the first row
 * that was changed, removed or inserted.  Pure (no I/O), so every case is
 * unit-tested.
 *
 * A row is accepted when its sequence number is the next one, its stored
 * hash equals the hash recomputed from its content, and its prev_hash
 * equals the hash of the row
 * accepted before it.  Otherwise:
 *   - a sequence number already accepted           -> that row was inserted
 *     (when it is as sound as the one accepted, the row after them decides:
 *     the genuine one is the one it links to);
 *   - a sequence number beyond the next one        -> the next one was removed;
 *   - the right number but a bad content or link   -> held one row as a
 *     suspect: when the following row carries the same number and is
 *     sound, the suspect was inserted; else the suspect was changed — or,
 *     when only its link is wrong while its own hash is consistent, its
 *     predecessor was changed and re-hashed (the suspect still holds the
 *     predecessor's original hash).
 */
#include "gateway/audit/audit_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
gw_audit__chk_init(struct gw_audit__chk *k, const char *chain_id, int64_t anchor_seq,
                   const char *anchor_hash, const char *anchor_time)
{
    memset(k, 0, sizeof(*k));
    k->chain_id = chain_id;
    k->next_seq = anchor_seq + 1;
    snprintf(k->hash, sizeof(k->hash), "%s", anchor_hash);
    k->last_seq = anchor_seq;
    snprintf(k->last_time, sizeof(k->last_time), "%s", anchor_time != NULL ? anchor_time : "");
    k->last_is_anchor = true;
    snprintf(k->problem.chain_id, sizeof(k->problem.chain_id), "%s", chain_id);
}

void
gw_audit__chk_fail(struct gw_audit__chk *k, enum gw_audit_problem_kind kind, int64_t seq,
                   const char *time, const char *fmt, ...)
{
    va_list ap;

    if (k->done)
        return;
    k->done = true;
    k->problem.kind = kind;
    k->problem.seq = seq;
    snprintf(k->problem.time, sizeof(k->problem.time), "%s", time != NULL ? time : "");
    va_start(ap, fmt);
    vsnprintf(k->problem.detail, sizeof(k->problem.detail), fmt, ap);
    va_end(ap);
}

static void
report_suspect(struct gw_audit__chk *k)
{
    if (!k->suspect.content_ok) {
        gw_audit__chk_fail(k, GW_AUDIT_CHANGED, k->suspect.seq, k->suspect.time,
                           "its content does not match its hash");
        return;
    }
    if (!k->last_is_anchor) {
        gw_audit__chk_fail(k, GW_AUDIT_CHANGED, k->last_seq, k->last_time,
                           "its hash was recomputed; row seq %" PRId64
                           " still links to the original",
                           k->suspect.seq);
        return;
    }
    gw_audit__chk_fail(k, GW_AUDIT_CHANGED, k->suspect.seq, k->suspect.time,
                       "it does not link to the signed checkpoint before it");
}

bool
gw_audit__chk_feed(struct gw_audit__chk *k, const struct gw_audit__vrow *r)
{
    bool content_ok;
    bool link_ok;

    if (k->done)
        return false;
    content_ok = strcmp(r->computed, r->hash) == 0;
    link_ok = strcmp(r->prev_hash, k->hash) == 0;
    if (k->has_suspect) {
        if (r->seq == k->suspect.seq && content_ok && link_ok)
            gw_audit__chk_fail(k, GW_AUDIT_INSERTED, k->suspect.seq, k->suspect.time,
                               "a second row carries this sequence number");
        else
            report_suspect(k);
        return false;
    }
    if (k->has_dup) {
        /* Two sound rows with one number: the genuine one is the one the
         * next row links to. */
        if (r->seq == k->dup.seq + 1 && strcmp(r->prev_hash, k->dup.hash) == 0)
            gw_audit__chk_fail(k, GW_AUDIT_INSERTED, k->last_seq, k->last_time,
                               "a second row carries this sequence number");
        else
            gw_audit__chk_fail(k, GW_AUDIT_INSERTED, k->dup.seq, k->dup.time,
                               "a second row carries this sequence number");
        return false;
    }
    if (r->seq < k->next_seq) {
        if (r->seq == k->last_seq && !k->last_is_anchor && content_ok &&
            strcmp(r->prev_hash, k->prev_of_last) == 0) {
            k->has_dup = true;
            k->dup.seq = r->seq;
            snprintf(k->dup.time, sizeof(k->dup.time), "%s", r->time);
            snprintf(k->dup.hash, sizeof(k->dup.hash), "%s", r->hash);
            return false;
        }
        gw_audit__chk_fail(k, GW_AUDIT_INSERTED, r->seq, r->time,
                           "a second row carries this sequence number");
        return false;
    }
    if (r->seq > k->next_seq) {
        if (r->seq == k->next_seq + 1)
            gw_audit__chk_fail(k, GW_AUDIT_REMOVED, k->next_seq, k->last_time,
                               "missing between the rows at %s and %s",
                               k->last_time[0] != '\0' ? k->last_time : "the start", r->time);
        else
            gw_audit__chk_fail(k, GW_AUDIT_REMOVED, k->next_seq, k->last_time,
                               "rows %" PRId64 "..%" PRId64 " are missing (before %s)", k->next_seq,
                               r->seq - 1, r->time);
        return false;
    }
    if (!content_ok || !link_ok) {
        k->has_suspect = true;
        k->suspect.seq = r->seq;
        k->suspect.content_ok = content_ok;
        snprintf(k->suspect.time, sizeof(k->suspect.time), "%s", r->time);
        return false;
    }
    k->next_seq = r->seq + 1;
    k->last_seq = r->seq;
    k->last_is_anchor = false;
    snprintf(k->prev_of_last, sizeof(k->prev_of_last), "%s", r->prev_hash);
    snprintf(k->hash, sizeof(k->hash), "%s", r->hash);
    snprintf(k->last_time, sizeof(k->last_time), "%s", r->time);
    return true;
}

void
gw_audit__chk_end(struct gw_audit__chk *k)
{
    if (!k->done && k->has_suspect)
        report_suspect(k);
    if (!k->done && k->has_dup)
        gw_audit__chk_fail(k, GW_AUDIT_INSERTED, k->dup.seq, k->dup.time,
                           "a second row carries this sequence number");
}
