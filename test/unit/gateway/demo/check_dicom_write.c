/*
 * The demo's DICOM Part 10 writer: files read back by a strict reader (and
 * by dcmdump when dcmtk is installed), and every refusal.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fhir/base/arena.h"
#include "fhir/base/buf.h"
#include "gateway/demo/gw_demo_dicom.h"
#include "test/support/runcli.h"
#include "test/support/tu_dicom.h"

#define T    GW_DEMO_DCM_TAG
#define IMPL "2.25.1234"

static struct base_arena *a;
static struct gw_demo_dcm *ds;
static struct base_err err;

static void
setup(void)
{
    a = base_arena_new(0);
    ds = gw_demo_dcm_new(a);
    memset(&err, 0, sizeof(err));
    ck_assert_ptr_nonnull(ds);
}

static void
teardown(void)
{
    base_arena_free(a);
}

/* A small valid data set, added out of tag order on purpose. */
static void
fill(struct gw_demo_dcm *d)
{
    uint16_t one = 1;

    ck_assert_int_eq(gw_demo_dcm_str(d, T(0x0010, 0x0010), "PN", "ZHANG^SAN=张^三", &err), BASE_OK);
    ck_assert_int_eq(gw_demo_dcm_str(d, T(0x0008, 0x0016), "UI", "1.2.840.10008.5.1.4.1.1.7", &err),
                     BASE_OK);
    ck_assert_int_eq(gw_demo_dcm_str(d, T(0x0008, 0x0018), "UI", "2.25.42", &err), BASE_OK);
    ck_assert_int_eq(gw_demo_dcm_str(d, T(0x0008, 0x0005), "CS", "ISO_IR 192", &err), BASE_OK);
    ck_assert_int_eq(gw_demo_dcm_str(d, T(0x0008, 0x0060), "CS", "OT", &err), BASE_OK);
    ck_assert_int_eq(gw_demo_dcm_str(d, T(0x0010, 0x0020), "LO", "MRN1", &err), BASE_OK);
    ck_assert_int_eq(gw_demo_dcm_str(d, T(0x0010, 0x0030), "DA", "", &err), BASE_OK);
    ck_assert_int_eq(gw_demo_dcm_us(d, T(0x0028, 0x0002), &one, 1, &err), BASE_OK);
}

struct seen {
    int n;
    int in_item;
    uint32_t first;
};

static void
count(void *ctx, const struct tu_dcm_elem *e)
{
    struct seen *s = ctx;

    if (s->n++ == 0)
        s->first = e->tag;
    s->in_item += e->depth > 0;
}

START_TEST(round_trip)
{
    struct base_buf b;
    struct seen s = {0};
    char why[128];
    char v[128];

    base_buf_init(&b, 0);
    fill(ds);
    ck_assert_int_eq(gw_demo_dcm_write(ds, IMPL, "TEST", &b, &err), BASE_OK);
    ck_assert_int_eq(tu_dcm_walk((const uint8_t *)b.data, b.len, count, &s, why), 0);
    ck_assert_uint_eq(s.first, T(0x0002, 0x0000));
    ck_assert(tu_dcm_string((const uint8_t *)b.data, b.len, T(0x0010, 0x0010), v, sizeof(v)));
    ck_assert_str_eq(v, "ZHANG^SAN=张^三");
    ck_assert(tu_dcm_string((const uint8_t *)b.data, b.len, T(0x0002, 0x0003), v, sizeof(v)));
    ck_assert_str_eq(v, "2.25.42"); /* media storage UID = SOP instance; NUL pad trimmed */
    ck_assert(tu_dcm_string((const uint8_t *)b.data, b.len, T(0x0002, 0x0010), v, sizeof(v)));
    ck_assert_str_eq(v, GW_DEMO_DCM_EXPLICIT_LE);
    ck_assert(tu_dcm_string((const uint8_t *)b.data, b.len, T(0x0010, 0x0030), v, sizeof(v)));
    ck_assert_str_eq(v, ""); /* a type 2 element: present, empty */
    base_buf_fini(&b);
}
END_TEST

START_TEST(padding_and_layout)
{
    struct base_buf b;
    uint8_t px[3] = {1, 2, 3};
    char why[128];

    base_buf_init(&b, 0);
    fill(ds);
    /* odd text (LO "MRN1" is even; "ABC" is odd) and odd OB */
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0008, 0x0050), "SH", "ABC", &err), BASE_OK);
    ck_assert_int_eq(gw_demo_dcm_bytes(ds, T(0x7FE0, 0x0010), "OB", px, 3, &err), BASE_OK);
    ck_assert_int_eq(gw_demo_dcm_write(ds, IMPL, "TEST", &b, &err), BASE_OK);
    ck_assert_int_eq(tu_dcm_walk((const uint8_t *)b.data, b.len, NULL, NULL, why), 0);
    ck_assert_mem_eq(b.data + b.len - 4, "\x01\x02\x03\x00", 4); /* OB padded with NUL */
    ck_assert(memmem(b.data, b.len, "ABC ", 4) != NULL);         /* text with a space */
    ck_assert_int_eq(memcmp(b.data + 128, "DICM", 4), 0);
    for (int i = 0; i < 128; i++)
        ck_assert_int_eq(b.data[i], 0);
    base_buf_fini(&b);
}
END_TEST

START_TEST(sequences)
{
    struct base_buf b;
    struct gw_demo_dcm *item = gw_demo_dcm_new(a);
    struct gw_demo_dcm *items[2];
    struct seen s = {0};
    char why[128];

    base_buf_init(&b, 0);
    fill(ds);
    ck_assert_int_eq(gw_demo_dcm_str(item, T(0x0010, 0x0022), "CS", "TEXT", &err), BASE_OK);
    ck_assert_int_eq(gw_demo_dcm_str(item, T(0x0010, 0x0020), "LO", "110101199003074514", &err),
                     BASE_OK);
    items[0] = item;
    items[1] = gw_demo_dcm_new(a); /* an empty item is legal */
    ck_assert_int_eq(gw_demo_dcm_seq(ds, T(0x0010, 0x1002), items, 2, &err), BASE_OK);
    ck_assert_int_eq(gw_demo_dcm_write(ds, IMPL, "TEST", &b, &err), BASE_OK);
    ck_assert_int_eq(tu_dcm_walk((const uint8_t *)b.data, b.len, count, &s, why), 0);
    ck_assert_int_eq(s.in_item, 2);
    base_buf_fini(&b);
}
END_TEST

START_TEST(dcmdump_reads_it)
{
    struct base_buf b;
    char path[] = "/tmp/fhirgate-dcm-XXXXXX";
    int fd;
    struct tu_run r;

    if (access("/usr/bin/dcmdump", X_OK) != 0)
        return; /* dcmtk is in deploy/install-deps.sh; the strict reader covers the rest */
    base_buf_init(&b, 0);
    fill(ds);
    ck_assert_int_eq(gw_demo_dcm_write(ds, IMPL, "TEST", &b, &err), BASE_OK);
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, b.data, b.len), (ssize_t)b.len);
    close(fd);
    {
        const char *argv[] = {"/usr/bin/dcmdump", "-q", "+P", "0010,0010", path, NULL};

        ck_assert_int_eq(tu_run(argv, &r), 0);
        ck_assert_int_eq(r.status, 0);
        ck_assert_msg(strstr(r.out, "ZHANG^SAN=张^三") != NULL, "dcmdump: %s", r.out);
        ck_assert_uint_eq(r.err_len, 0);
        tu_run_free(&r);
    }
    unlink(path);
    base_buf_fini(&b);
}
END_TEST

/* ------------------------------------------------------------- refusals -- */

START_TEST(refuses_bad_values)
{
    char long_lo[80];
    char long_pn[200];

    memset(long_lo, 'x', 65);
    long_lo[65] = '\0';
    memset(long_pn, 'A', 65);
    long_pn[65] = '\0';
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0008, 0x0018), "UI", "1.02.3", &err), BASE_E_INVALID);
    ck_assert_str_eq(err.where, "(0008,0018)");
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0008, 0x0018), "UI", "1..2", NULL), BASE_E_INVALID);
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0008, 0x0018), "UI", "1.2.", NULL), BASE_E_INVALID);
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0008, 0x0018), "UI", "1.2a", NULL), BASE_E_INVALID);
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0010, 0x0020), "LO", long_lo, NULL), BASE_E_INVALID);
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0010, 0x0010), "PN", long_pn, NULL), BASE_E_INVALID);
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0008, 0x0060), "CS", "ct", NULL), BASE_E_INVALID);
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0008, 0x0020), "DA", "2024011", NULL), BASE_E_INVALID);
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0008, 0x0020), "DA", "2024-01-01", NULL),
                     BASE_E_INVALID);
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0008, 0x0030), "TM", "12:00", NULL), BASE_E_INVALID);
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0020, 0x0013), "IS", "1.5", NULL), BASE_E_INVALID);
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0010, 0x1010), "AS", "56Y", NULL), BASE_E_INVALID);
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0010, 0x0020), "LO", "a\001b", NULL), BASE_E_INVALID);
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0010, 0x0020), "XX", "a", NULL), BASE_E_INVALID);
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0010, 0x0020), "OB", "a", NULL), BASE_E_INVALID);
    ck_assert_int_eq(gw_demo_dcm_bytes(ds, T(0x7FE0, 0x0010), "OW", "abc", 3, NULL),
                     BASE_E_INVALID);
    ck_assert_int_eq(gw_demo_dcm_bytes(ds, T(0x7FE0, 0x0010), "LO", "ab", 2, NULL), BASE_E_INVALID);
    ck_assert_int_eq(gw_demo_dcm_us(ds, T(0x0028, 0x0010), NULL, 0, NULL), BASE_E_INVALID);
    ck_assert_int_eq(gw_demo_dcm_ul(ds, T(0x0028, 0x0010), NULL, 0, NULL), BASE_E_INVALID);
    ck_assert_uint_eq(base_arena_used(a) > 0, 1);
}
END_TEST

START_TEST(multi_values_checked_one_by_one)
{
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0008, 0x0008), "CS", "ORIGINAL\\PRIMARY\\AXIAL", &err),
                     BASE_OK);
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0020, 0x0037), "DS", "1\\0\\0\\0\\1\\0", &err),
                     BASE_OK);
    /* each CS value is at most 16 characters; the whole string may be longer */
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0008, 0x0008), "CS", "ORIGINALORIGINAL1\\A", NULL),
                     BASE_E_INVALID);
    /* LT is one value: a backslash is text */
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0020, 0x4000), "LT", "a\\b", &err), BASE_OK);
}
END_TEST

static int
write_rc(void)
{
    struct base_buf b;
    int rc;

    base_buf_init(&b, 0);
    rc = gw_demo_dcm_write(ds, IMPL, "TEST", &b, &err);
    base_buf_fini(&b);
    return rc;
}

START_TEST(refuses_bad_sets)
{
    struct gw_demo_dcm *cyc[1];

    /* no SOP UIDs */
    ck_assert_int_eq(write_rc(), BASE_E_INVALID);
    ck_assert_str_eq(err.where, "(0008,0016)");
    /* the same tag twice */
    memset(&err, 0, sizeof(err));
    fill(ds);
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0010, 0x0020), "LO", "MRN2", &err), BASE_OK);
    ck_assert_int_eq(write_rc(), BASE_E_INVALID);
    ck_assert_str_eq(err.where, "(0010,0020)");
    /* group 0002 in the data set */
    teardown();
    setup();
    fill(ds);
    ck_assert_int_eq(gw_demo_dcm_str(ds, T(0x0002, 0x0013), "SH", "X", &err), BASE_OK);
    ck_assert_int_eq(write_rc(), BASE_E_INVALID);
    /* a sequence that contains itself: bounded, not endless */
    teardown();
    setup();
    fill(ds);
    cyc[0] = ds;
    ck_assert_int_eq(gw_demo_dcm_seq(ds, T(0x0040, 0xA730), cyc, 1, &err), BASE_OK);
    ck_assert_int_eq(write_rc(), BASE_E_LIMIT);
    /* a bad implementation name */
    teardown();
    setup();
    fill(ds);
    {
        struct base_buf b;

        base_buf_init(&b, 0);
        ck_assert_int_eq(gw_demo_dcm_write(ds, "1.02", "TEST", &b, &err), BASE_E_INVALID);
        base_buf_fini(&b);
    }
}
END_TEST

START_TEST(output_cap)
{
    struct base_buf b;

    base_buf_init(&b, 100); /* less than preamble + DICM */
    fill(ds);
    ck_assert_int_eq(gw_demo_dcm_write(ds, IMPL, "TEST", &b, &err), BASE_E_LIMIT);
    base_buf_fini(&b);
    base_buf_init(&b, 300); /* room for the meta header, not the data set */
    memset(&err, 0, sizeof(err));
    ck_assert_int_lt(gw_demo_dcm_write(ds, IMPL, "TEST", &b, &err), 0);
    base_buf_fini(&b);
}
END_TEST

START_TEST(reader_rejects_broken_files)
{
    struct base_buf b;
    char why[128];
    char *copy;

    base_buf_init(&b, 0);
    fill(ds);
    ck_assert_int_eq(gw_demo_dcm_write(ds, IMPL, "TEST", &b, &err), BASE_OK);
    copy = malloc(b.len);
    /* truncated: the last element runs past the end */
    ck_assert_int_ne(tu_dcm_walk((const uint8_t *)b.data, b.len - 1, NULL, NULL, why), 0);
    /* wrong meta group length */
    memcpy(copy, b.data, b.len);
    copy[140] ^= 1;
    ck_assert_int_ne(tu_dcm_walk((const uint8_t *)copy, b.len, NULL, NULL, why), 0);
    /* no DICM */
    memcpy(copy, b.data, b.len);
    copy[128] = 'X';
    ck_assert_int_ne(tu_dcm_walk((const uint8_t *)copy, b.len, NULL, NULL, why), 0);
    free(copy);
    base_buf_fini(&b);
}
END_TEST

Suite *
demo_dicom_write_suite(void)
{
    Suite *s = suite_create("demo_dicom_write");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, padding_and_layout);
    tcase_add_test(tc, sequences);
    tcase_add_test(tc, dcmdump_reads_it);
    tcase_add_test(tc, refuses_bad_values);
    tcase_add_test(tc, multi_values_checked_one_by_one);
    tcase_add_test(tc, refuses_bad_sets);
    tcase_add_test(tc, output_cap);
    tcase_add_test(tc, reader_rejects_broken_files);
    suite_add_tcase(s, tc);
    return s;
}
