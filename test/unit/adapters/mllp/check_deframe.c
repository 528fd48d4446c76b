/* MLLP de-framer: partial frames, several frames per read, garbage,
 * oversized frames, bad end markers. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/hl7v2/hl7v2.h"
#include "adapters/mllp/mllp.h"
#include "fhir/base/arena.h"
#include "test/support/testutil.h"

/* Feed everything, collecting frames ("|"-joined) and error codes. */
struct collect {
    char frames[4096];
    size_t nframes;
    int errors[16];
    size_t nerrors;
};

static void
feed_all(struct mllp_deframer *d, const char *p, size_t n, struct collect *out)
{
    while (n > 0) {
        struct base_str f;
        size_t used = 0;
        struct base_err err = {0};
        int rc = mllp_deframer_feed(d, p, n, &used, &f, &err);

        ck_assert_uint_le(used, n);
        if (rc == MLLP_FRAME) {
            strncat(out->frames, f.ptr, f.len);
            strcat(out->frames, "|");
            out->nframes++;
        } else if (rc < 0) {
            ck_assert_str_eq(err.where, "MLLP");
            out->errors[out->nerrors++] = rc;
        }
        ck_assert(used > 0 || rc == MLLP_NEED_MORE);
        p += used;
        n -= used;
    }
}

START_TEST(frames_in_one_read)
{
    struct mllp_deframer d;
    struct collect c = {0};
    const char in[] = "\x0b"
                      "A1\x1c\r"
                      "\x0b"
                      "B22\x1c\r"
                      "\x0b\x1c\r";

    mllp_deframer_init(&d, 0);
    feed_all(&d, in, sizeof(in) - 1, &c);
    ck_assert_str_eq(c.frames, "A1|B22||");
    ck_assert_uint_eq(d.frames, 3);
    ck_assert_uint_eq(d.garbage, 0);
    ck_assert(!d.in_frame);
    mllp_deframer_fini(&d);
}
END_TEST

START_TEST(every_split_point)
{
    const char in[] = "\x0bMSH|^~\\&|X\rPID|1\x1c\r\x0bMSH|2\x1c\r";

    for (size_t cut = 0; cut <= sizeof(in) - 1; cut++) {
        struct mllp_deframer d;
        struct collect c = {0};

        mllp_deframer_init(&d, 0);
        feed_all(&d, in, cut, &c);
        feed_all(&d, in + cut, sizeof(in) - 1 - cut, &c);
        ck_assert_str_eq(c.frames, "MSH|^~\\&|X\rPID|1|MSH|2|");
        mllp_deframer_fini(&d);
    }
    {
        /* one byte per read */
        struct mllp_deframer d;
        struct collect c = {0};

        mllp_deframer_init(&d, 0);
        for (size_t i = 0; i < sizeof(in) - 1; i++) {
            feed_all(&d, in + i, 1, &c);
            if (i == 3)
                ck_assert(d.in_frame); /* a frame is open: the listener times it */
        }
        ck_assert_uint_eq(c.nframes, 2);
        ck_assert(!d.in_frame);
        mllp_deframer_fini(&d);
    }
}
END_TEST

START_TEST(garbage_between_frames)
{
    struct mllp_deframer d;
    struct collect c = {0};
    const char in[] = "\r\njunk\x0b"
                      "A\x1c\r"
                      "\x1c\r zz"
                      "\x0b"
                      "B\x1c\r\n";

    mllp_deframer_init(&d, 0);
    feed_all(&d, in, sizeof(in) - 1, &c);
    ck_assert_str_eq(c.frames, "A|B|");
    ck_assert_uint_eq(d.garbage, 6 + 5 + 1);
    ck_assert_uint_eq(c.nerrors, 0);
    mllp_deframer_fini(&d);
}
END_TEST

START_TEST(oversized_frame_is_skipped)
{
    struct mllp_deframer d;
    struct collect c = {0};
    char in[64];
    size_t n = 0;

    in[n++] = 0x0b;
    memset(in + n, 'x', 20);
    n += 20;
    in[n++] = 0x1c;
    in[n++] = '\r';
    memcpy(in + n, "\x0bok\x1c\r", 6);
    n += 6;
    mllp_deframer_init(&d, 10);
    feed_all(&d, in, n, &c);
    ck_assert_uint_eq(c.nerrors, 1);
    ck_assert_int_eq(c.errors[0], BASE_E_LIMIT);
    ck_assert_str_eq(c.frames, "ok|");
    ck_assert_uint_eq(d.errors, 1);
    /* split across reads too */
    memset(&c, 0, sizeof(c));
    feed_all(&d, in, 5, &c);
    feed_all(&d, in + 5, 10, &c);
    feed_all(&d, in + 15, n - 15, &c);
    ck_assert_int_eq(c.errors[0], BASE_E_LIMIT);
    ck_assert_str_eq(c.frames, "ok|");
    mllp_deframer_fini(&d);
}
END_TEST

START_TEST(bad_markers)
{
    struct mllp_deframer d;
    struct collect c = {0};
    const char in[] = "\x0b"
                      "A\x1cX"
                      "\x0b"
                      "B\x0b"
                      "C\x1c\r";

    mllp_deframer_init(&d, 0);
    feed_all(&d, in, sizeof(in) - 1, &c);
    ck_assert_uint_eq(c.nerrors, 2);
    ck_assert_int_eq(c.errors[0], BASE_E_PARSE); /* 0x1C then 'X' */
    ck_assert_int_eq(c.errors[1], BASE_E_PARSE); /* 0x0B inside a frame */
    ck_assert_str_eq(c.frames, "C|");
    mllp_deframer_fini(&d);
}
END_TEST

START_TEST(frame_round_trip)
{
    struct base_buf b;
    struct mllp_deframer d;
    struct collect c = {0};

    base_buf_init(&b, 0);
    ck_assert_int_eq(mllp_frame(&b, "MSH|x", 5), BASE_OK);
    ck_assert_int_eq(mllp_frame(&b, "MSH|y", 5), BASE_OK);
    ck_assert_uint_eq(b.len, 16);
    mllp_deframer_init(&d, 0);
    feed_all(&d, b.data, b.len, &c);
    ck_assert_str_eq(c.frames, "MSH|x|MSH|y|");
    mllp_deframer_fini(&d);
    base_buf_fini(&b);
}
END_TEST

START_TEST(corpus_mllp_files_hold_no_hl7_frames)
{
    /* The two hl7v2/mllp files are Python pickles of hl7apy message
     * structures (they begin with the pickle opcode 0x80 0x02), not
     * captured MLLP streams: de-framing must survive them, and whatever
     * "frames" their stray 0x0B bytes delimit are rejected as HL7. */
    const char *files[] = {"hl7v2/mllp/hl7apy-iti21-pdq-request.mllp",
                           "hl7v2/mllp/hl7apy-iti21-pdq-response.mllp"};

    for (size_t i = 0; i < 2; i++) {
        size_t len = 0;
        char *data = tu_read_file(tu_corpus_path(files[i]), &len);
        struct mllp_deframer d;
        size_t off = 0;
        size_t hl7 = 0;

        ck_assert_ptr_nonnull(data);
        ck_assert_int_eq((unsigned char)data[0], 0x80);
        mllp_deframer_init(&d, 1u << 20);
        while (off < len) {
            struct base_str f;
            size_t used = 0;
            int rc = mllp_deframer_feed(&d, data + off, len - off, &used, &f, NULL);

            off += used;
            if (rc == MLLP_FRAME) {
                struct base_arena *a = base_arena_new(0);
                struct hl7v2_msg *m = NULL;

                hl7 += hl7v2_msg_parse(a, f.ptr, f.len, NULL, NULL, &m, NULL) == BASE_OK;
                base_arena_free(a);
            }
        }
        ck_assert_uint_eq(hl7, 0);
        ck_assert_uint_gt(d.garbage, 0);
        mllp_deframer_fini(&d);
        free(data);
    }
}
END_TEST

Suite *mllp_deframe_suite(void);

Suite *
mllp_deframe_suite(void)
{
    Suite *s = suite_create("mllp_deframe");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, frames_in_one_read);
    tcase_add_test(tc, every_split_point);
    tcase_add_test(tc, garbage_between_frames);
    tcase_add_test(tc, oversized_frame_is_skipped);
    tcase_add_test(tc, bad_markers);
    tcase_add_test(tc, frame_round_trip);
    tcase_add_test(tc, corpus_mllp_files_hold_no_hl7_frames);
    suite_add_tcase(s, tc);
    return s;
}
