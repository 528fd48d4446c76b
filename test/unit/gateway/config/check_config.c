/*
 * test/unit/gateway/config/check_config.c — the gateway's config file:
 * defaults, every section read, and each refusal naming FILE:LINE and the
 * key without quoting the value.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fhir/base/arena.h"
#include "gateway/config/gw_config.h"

static char key_path[256];

static void
make_key(void)
{
    FILE *f;

    snprintf(key_path, sizeof(key_path), "/tmp/gwconf-key-%d.pem", (int)getpid());
    f = fopen(key_path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("not read by the config loader, only checked to be readable\n", f);
    fclose(f);
}

/* Parse `body` after a minimal valid head; returns rc, fills out/err. */
static int
parse(struct base_arena *a, const char *body, struct gw_config **out, struct base_err *err)
{
    char text[8192];

    make_key();
    snprintf(text, sizeof(text),
             "[node]\nid = gw-1\npublic_url = https://gw.example.org/\n"
             "[auth]\nsigning_key = %s\n%s",
             key_path, body);
    return gw_config_parse(a, text, strlen(text), "/etc/fhirgate/gw.conf", out, err);
}

START_TEST(minimal_config_gets_the_defaults)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_config *c = NULL;
    struct base_err err = {0};

    ck_assert_int_eq(parse(a, "", &c, &err), BASE_OK);
    ck_assert_str_eq(c->public_url, "https://gw.example.org");
    ck_assert_str_eq(c->fhir_base, "https://gw.example.org/fhir");
    ck_assert_str_eq(c->issuer, "https://gw.example.org");
    ck_assert_str_eq(c->audience, "https://gw.example.org/fhir");
    ck_assert_str_eq(c->audit_chain, "gw-1");
    ck_assert_str_eq(c->state_dir, "/etc/fhirgate/var");
    ck_assert_ptr_null(c->db_url);
    ck_assert_uint_eq(c->fed_deadline_ms, 3000);
    ck_assert_int_eq(c->migrate, GW_CONFIG_MIGRATE_AUTO);
    ck_assert(!c->password_grant);
    ck_assert(!c->auto_approve);
    ck_assert_uint_eq(c->night_start, 22);
    ck_assert_uint_eq(c->night_end, 6);
    ck_assert_uint_eq(c->page_default, 50);
    ck_assert_uint_eq(c->n_members, 0);
    base_arena_free(a);
    unlink(key_path);
}
END_TEST

START_TEST(every_section_is_read)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_config *c = NULL;
    struct base_err err = {0};

    setenv("GWCONF_TEST_CURSOR", "sixteen-bytes-at-least", 1);
    setenv("GWCONF_TEST_DB", "postgresql:///fhirgate?host=/run/pg", 1);
    ck_assert_int_eq(
        parse(a,
              "[database]\nurl = env:GWCONF_TEST_DB\npool_size = 4\nmigrate = check\n"
              "[federation]\ndeadline = 2500ms\nmember_timeout = 2s\nworkers = 3\n"
              "cursor_key = env:GWCONF_TEST_CURSOR\nallow_http = true\n"
              "[registry]\nauto_approve = yes\nprobe_interval = 0\n"
              "[mpi]\npull_interval = 2s\nupper = 10.5\nlower = 3\n"
              "[reports]\ntz = Asia/Shanghai\nunusual_hours = 23-5\nvolume_factor = 2.5\n"
              "[node]\n",
              &c, &err),
        BASE_E_INVALID); /* [node] twice */
    ck_assert_int_eq(
        parse(a,
              "[database]\nurl = env:GWCONF_TEST_DB\npool_size = 4\nmigrate = check\n"
              "[federation]\ndeadline = 2500ms\nmember_timeout = 2s\nworkers = 3\n"
              "cursor_key = env:GWCONF_TEST_CURSOR\nallow_http = true\n"
              "[registry]\nauto_approve = yes\nprobe_interval = 0\n"
              "[mpi]\npull_interval = 2s\nupper = 10.5\nlower = 3\n"
              "[reports]\ntz = Asia/Shanghai\nunusual_hours = 23-5\nvolume_factor = 2.5\n"
              "[member \"hosp-a\"]\nname = \"Hospital A\"\nbase = https://a.example/fhir\n"
              "[member \"hosp-b\"]\nname = B\nbase = https://b.example/fhir\nstatus = pending\n",
              &c, &err),
        BASE_OK);
    ck_assert_str_eq(c->db_url, "postgresql:///fhirgate?host=/run/pg");
    ck_assert_uint_eq(c->db_pool_size, 4);
    ck_assert_int_eq(c->migrate, GW_CONFIG_MIGRATE_CHECK);
    ck_assert_uint_eq(c->fed_deadline_ms, 2500);
    ck_assert_uint_eq(c->fed_member_timeout_ms, 2000);
    ck_assert_uint_eq(c->fed_workers, 3);
    ck_assert(c->auto_approve);
    ck_assert_uint_eq(c->probe_interval_ms, 0);
    ck_assert(c->mpi_upper > 10.4 && c->mpi_upper < 10.6);
    ck_assert_str_eq(c->report_tz, "Asia/Shanghai");
    ck_assert_uint_eq(c->night_start, 23);
    ck_assert_uint_eq(c->night_end, 5);
    ck_assert_uint_eq(c->n_members, 2);
    ck_assert_str_eq(c->members[0].id, "hosp-a");
    ck_assert(c->members[0].is_active);
    ck_assert(!c->members[1].is_active);
    base_arena_free(a);
    unlink(key_path);
}
END_TEST

struct bad_case {
    const char *body;
    const char *where; /* substring of err.where */
    const char *msg;   /* substring of err.msg */
};

static const struct bad_case bad[] = {
    {"[federation]\ndeadline = soon\n", ":7", "deadline"},
    {"[federation]\ndeadline = 1s\nmember_timeout = 2s\n", ":8", "must not exceed"},
    {"[federation]\ncursor_key = env:GWCONF_UNSET_VAR\n", ":7", "cursor_key"},
    {"[federation]\ncursor_key = env:GWCONF_SHORT\n", ":7", "at least 16"},
    {"[federation]\nclient_cert = /etc/hostname\n", "", "go together"},
    {"[federation]\npage_default = 600\npage_max = 500\n", "", "exceeds page_max"},
    {"[database]\nmigrate = sometimes\n", ":7", "auto or check"},
    {"[database]\nurl = postgresql://user:pw@db/x\n", ":7", "url"},
    {"[database]\npool_size = 0\n", ":7", "pool_size"},
    {"[audit]\nwriters = 99\n", ":7", "writers"},
    {"[audit]\nsigning_key = /nonexistent/key.pem\n", ":7", "cannot read"},
    {"[mpi]\nupper = 3\nlower = 5\n", ":8", "exceeds upper"},
    {"[mpi]\nupper = lots\n", ":7", "number"},
    {"[reports]\nunusual_hours = 25-6\n", ":7", "START-END"},
    {"[reports]\ntz = \"Asia/Shanghai; DROP\"\n", ":7", "time zone"},
    {"[member \"Bad Id\"]\nname = x\nbase = https://x.example/fhir\n", ":6", "member id"},
    {"[member \"a\"]\nname = x\nbase = ftp://x.example/fhir\n", ":8", "absolute http"},
    {"[member \"a\"]\nname = x\nbase = https://x.example/fhir\ncert_sha256 = abc\n", ":9", "hex"},
    {"[member \"a\"]\nname = x\nbase = https://x.example/fhir\n[federation]\nallow_http = false\n",
     "", "region CA"},
    {"[node]\n", ":6", ""},
    {"[http]\nmax_bdy = 1M\n", ":7", "max_bdy"},
    {"[wat]\n", ":6", "wat"},
};

START_TEST(bad_values_are_refused_with_their_location)
{
    const struct bad_case *bc = &bad[_i];
    struct base_arena *a = base_arena_new(0);
    struct gw_config *c = NULL;
    struct base_err err = {0};

    setenv("GWCONF_SHORT", "short", 1);
    unsetenv("GWCONF_UNSET_VAR");
    ck_assert_int_ne(parse(a, bc->body, &c, &err), BASE_OK);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err.where, bc->where) != NULL, "case %d: where %s", _i, err.where);
    ck_assert_msg(strstr(err.msg, bc->msg) != NULL, "case %d: msg %s", _i, err.msg);
    ck_assert_ptr_null(strstr(err.msg, "pw@"));
    base_arena_free(a);
    unlink(key_path);
}
END_TEST

START_TEST(required_parts_and_member_ids)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_config *c = NULL;
    struct base_err err = {0};
    static const char no_auth[] = "[node]\nid = gw\npublic_url = https://x.example\n";
    static const char bad_url[] = "[node]\nid = gw\npublic_url = x.example\n[auth]\n"
                                  "signing_key = /etc/hostname\n";
    static const char bad_node[] = "[node]\nid = \"g w\"\npublic_url = https://x.example\n[auth]\n"
                                   "signing_key = /etc/hostname\n";

    ck_assert_int_eq(gw_config_parse(a, no_auth, strlen(no_auth), "t.conf", &c, &err),
                     BASE_E_INVALID);
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(gw_config_parse(a, bad_url, strlen(bad_url), "t.conf", &c, &err),
                     BASE_E_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "public_url"));
    memset(&err, 0, sizeof(err));
    ck_assert_int_eq(gw_config_parse(a, bad_node, strlen(bad_node), "t.conf", &c, &err),
                     BASE_E_INVALID);
    ck_assert(gw_config_member_id_ok("hosp-a"));
    ck_assert(gw_config_member_id_ok("h.1_x"));
    ck_assert(!gw_config_member_id_ok(""));
    ck_assert(!gw_config_member_id_ok("-a"));
    ck_assert(!gw_config_member_id_ok("Hosp"));
    ck_assert(!gw_config_member_id_ok("a/b"));
    ck_assert(!gw_config_member_id_ok(NULL));
    base_arena_free(a);
}
END_TEST

START_TEST(load_reads_a_file_and_reports_a_missing_one)
{
    struct base_arena *a = base_arena_new(0);
    struct gw_config *c = NULL;
    struct base_err err = {0};

    ck_assert_int_eq(gw_config_load(a, "/nonexistent/gw.conf", &c, &err), BASE_E_IO);
    base_arena_free(a);
}
END_TEST

Suite *
gw_config_suite(void)
{
    Suite *s = suite_create("gw_config");
    TCase *tc = tcase_create("config");

    tcase_add_test(tc, minimal_config_gets_the_defaults);
    tcase_add_test(tc, every_section_is_read);
    tcase_add_loop_test(tc, bad_values_are_refused_with_their_location, 0,
                        (int)(sizeof(bad) / sizeof(bad[0])));
    tcase_add_test(tc, required_parts_and_member_ids);
    tcase_add_test(tc, load_reads_a_file_and_reports_a_missing_one);
    suite_add_tcase(s, tc);
    return s;
}
