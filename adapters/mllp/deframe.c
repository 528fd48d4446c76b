/*
 * MLLP de-framer: a byte state machine over whatever the socket delivered,
 * so frames may arrive split across reads or several per read.
 */
#include <string.h>

#include "adapters/mllp/mllp.h"

void
mllp_deframer_init(struct mllp_deframer *d, size_t max_frame)
{
    memset(d, 0, sizeof(*d));
    d->max_frame = max_frame > 0 ? max_frame : BASE_LIMIT_MLLP_MAX_FRAME;
    base_buf_init(&d->frame, d->max_frame);
    d->state = MLLP_OUTSIDE;
}

void
mllp_deframer_fini(struct mllp_deframer *d)
{
    base_buf_fini(&d->frame);
}

static int
drop(struct mllp_deframer *d, enum mllp_state next, int rc, struct base_err *err, const char *msg)
{
    d->errors++;
    d->state = next;
    d->in_frame = next == MLLP_SKIP;
    base_buf_reset(&d->frame);
    return base_err_set(err, rc, rc == BASE_E_LIMIT ? "too-costly" : "structure", "MLLP", "%s",
                        msg);
}

/* Inside a frame: copy up to the end marker in one go. */
static int
inside(struct mllp_deframer *d, const char *p, size_t n, size_t *i, struct base_err *err)
{
    const char *eb = memchr(p + *i, MLLP_EB, n - *i);
    const char *sb;
    size_t take = (eb != NULL ? (size_t)(eb - p) : n) - *i;
    int rc;

    sb = memchr(p + *i, MLLP_SB, take);
    if (sb != NULL) {
        /* a new start block before the end: the sender gave up on a frame */
        *i = (size_t)(sb - p) + 1;
        (void)drop(d, MLLP_INSIDE, BASE_E_PARSE, err, "frame restarted before its end");
        d->in_frame = true;
        return BASE_E_PARSE;
    }
    rc = base_buf_append(&d->frame, p + *i, take);
    if (rc == BASE_E_LIMIT) {
        *i += take;
        return drop(d, MLLP_SKIP, BASE_E_LIMIT, err, "frame exceeds the size limit");
    }
    if (rc != BASE_OK)
        return base_err_set(err, rc, "exception", "MLLP", "out of memory");
    *i += take;
    if (eb != NULL) {
        d->state = MLLP_END;
        (*i)++;
    }
    return BASE_OK;
}

int
mllp_deframer_feed(struct mllp_deframer *d, const char *p, size_t n, size_t *used,
                   struct base_str *frame, struct base_err *err)
{
    size_t i = 0;
    int rc = BASE_OK;

    while (i < n && rc == BASE_OK) {
        switch (d->state) {
        case MLLP_OUTSIDE:
            if (p[i] == MLLP_SB) {
                d->state = MLLP_INSIDE;
                d->in_frame = true;
                base_buf_reset(&d->frame);
            } else {
                d->garbage++;
            }
            i++;
            break;
        case MLLP_INSIDE:
            rc = inside(d, p, n, &i, err);
            break;
        case MLLP_END:
            if (p[i++] != MLLP_CR) {
                rc = drop(d, MLLP_OUTSIDE, BASE_E_PARSE, err,
                          "end block not followed by a carriage return");
                break;
            }
            d->state = MLLP_OUTSIDE;
            d->in_frame = false;
            d->frames++;
            *frame = base_buf_str(&d->frame);
            *used = i;
            return MLLP_FRAME;
        case MLLP_SKIP: {
            const char *eb = memchr(p + i, MLLP_EB, n - i);

            i = eb != NULL ? (size_t)(eb - p) + 1 : n;
            if (eb != NULL) {
                d->state = MLLP_OUTSIDE; /* the 0x0D that follows is garbage */
                d->in_frame = false;
            }
            break;
        }
        default:
            BASE_ASSERT_UNREACHABLE();
        }
    }
    *used = i;
    return rc;
}

int
mllp_frame(struct base_buf *out, const char *msg, size_t len)
{
    TRY(base_buf_putc(out, MLLP_SB));
    TRY(base_buf_append(out, msg, len));
    TRY(base_buf_putc(out, MLLP_EB));
    return base_buf_putc(out, MLLP_CR);
}
