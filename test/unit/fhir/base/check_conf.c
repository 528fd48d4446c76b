/* Unit tests for fhir/base/conf: the format, the schema checks, every error
 * path, the getters, paths and secrets. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fhir/base/arena.h"
#include "fhir/base/conf.h"

static const struct base_conf_key root_keys[] = {
    {"log_level", BASE_CONF_STRING, 0},
};
static const struct base_conf_key server_keys[] = {
    {"listen", BASE_CONF_STRING, BASE_CONF_REQUIRED},
    {"threads", BASE_CONF_INT, 0},
    {"tls", BASE_CONF_BOOL, 0},
    {"max_body", BASE_CONF_SIZE, 0},
    {"idle", BASE_CONF_DURATION, 0},
    {"cert", BASE_CONF_PATH, 0},
    {"allow", BASE_CONF_LIST, BASE_CONF_REPEAT},
    {"header", BASE_CONF_STRING, BASE_CONF_REPEAT},
    {"password", BASE_CONF_SECRET, 0},
    {"name", BASE_CONF_STRING, 0},
};
static const struct base_conf_key member_keys[] = {
    {"base", BASE_CONF_STRING, BASE_CONF_REQUIRED},
};
static const struct base_conf_section_schema sections[] = {
    {"", 0, root_keys, 1},
    {"server", BASE_CONF_SECTION_REQUIRED, server_keys, BASE_ARRAY_LEN(server_keys)},
    {"member", BASE_CONF_NAMED, member_keys, 1},
};
static const struct base_conf_schema schema = {sections, BASE_ARRAY_LEN(sections)};
/* the same without the root section */
static const struct base_conf_schema schema_noroot = {sections + 1, 2};

static struct base_arena *A;
static struct base_err E;

static void
setup(void)
{
    A = base_arena_new(0);
    memset(&E, 0, sizeof(E));
}

static void
teardown(void)
{
    base_arena_free(A);
}

static int
parse_with(const char *text, const struct base_conf_schema *sc,
           const struct base_conf_limits *lim, struct base_conf **out)
{
    return base_conf_parse(A, text, strlen(text), "/etc/fg/gw.conf", sc, lim, out, &E);
}

static int
parse(const char *text, struct base_conf **out)
{
    return parse_with(text, &schema, NULL, out);
}

/* Parse must fail with `rc` at `where` and a message containing `frag`. */
static void
expect_fail(const char *text, int rc, const char *where, const char *frag)
{
    struct base_conf *c = (struct base_conf *)1;

    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(parse(text, &c), rc);
    ck_assert_ptr_null(c);
    ck_assert_str_eq(E.where, where);
    ck_assert_msg(strstr(E.msg, frag) != NULL, "message '%s' lacks '%s'", E.msg, frag);
}

START_TEST(parses_every_type_and_comment_form)
{
    const char *text = "# top comment\n"
                       "log_level = debug\n"
                       "\n"
                       "[server]   # trailing comment\n"
                       "  listen = 127.0.0.1:8443\r\n"
                       "threads=-2\n"
                       "tls = Yes\n"
                       "max_body = 16M\n"
                       "idle = 1500ms # comment\n"
                       "cert = certs/server.crt\n"
                       "allow = a, \"b, c\" ,d\n"
                       "allow = e\n"
                       "name = \"quoted # not a comment \\\"x\\\" \\\\ \\n\\t\" # c\n"
                       "header = http://h/#frag\n"
                       "header = two words  \n"
                       "[member \"hospital a\"]\n"
                       "base = https://a.example/fhir\n"
                       "[member \"b\"]\n"
                       "base = https://b.example/fhir\n";
    struct base_conf *c = NULL;
    const struct base_conf_section *s;
    const char *v;
    const char *const *items;
    size_t n;
    int64_t i;
    uint64_t u;
    bool b;

    ck_assert_int_eq(parse(text, &c), BASE_OK);
    ck_assert_str_eq(base_conf_file(c), "/etc/fg/gw.conf");
    ck_assert_int_eq(base_conf_str(base_conf_section(c, ""), "log_level", NULL, &v, &E), 0);
    ck_assert_str_eq(v, "debug");
    s = base_conf_section(c, "server");
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_null(base_conf_section_name(s));
    ck_assert_int_eq(base_conf_str(s, "listen", NULL, &v, &E), 0);
    ck_assert_str_eq(v, "127.0.0.1:8443");
    ck_assert_int_eq(base_conf_int(s, "threads", -10, 10, 0, &i, &E), 0);
    ck_assert_int_eq(i, -2);
    ck_assert_int_eq(base_conf_bool(s, "tls", false, &b, &E), 0);
    ck_assert(b);
    ck_assert_int_eq(base_conf_size(s, "max_body", 0, UINT64_MAX, 0, &u, &E), 0);
    ck_assert_uint_eq(u, 16u << 20);
    ck_assert_int_eq(base_conf_duration_ms(s, "idle", 0, UINT64_MAX, 0, &u, &E), 0);
    ck_assert_uint_eq(u, 1500);
    ck_assert_int_eq(base_conf_path(s, "cert", NULL, A, &v, &E), 0);
    ck_assert_str_eq(v, "/etc/fg/certs/server.crt");
    ck_assert_int_eq(base_conf_list(s, "allow", &items, &n, &E), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(items[0], "a");
    ck_assert_str_eq(items[1], "b, c");
    ck_assert_str_eq(items[2], "d");
    ck_assert_str_eq(items[3], "e");
    ck_assert_int_eq(base_conf_str(s, "name", NULL, &v, &E), 0);
    ck_assert_str_eq(v, "quoted # not a comment \"x\" \\ \n\t");
    ck_assert_uint_eq(base_conf_count(s, "header"), 2);
    ck_assert_int_eq(base_conf_str_at(s, "header", 0, &v, &E), 0);
    ck_assert_str_eq(v, "http://h/#frag");
    ck_assert_int_eq(base_conf_str_at(s, "header", 1, &v, &E), 0);
    ck_assert_str_eq(v, "two words");
    ck_assert_int_eq(base_conf_str(s, "header", NULL, &v, &E), 0);
    ck_assert_str_eq(v, "two words"); /* last occurrence */
    ck_assert_int_eq(base_conf_str_at(s, "header", 2, &v, &E), BASE_E_NOTFOUND);
    ck_assert_uint_eq(base_conf_section_count(c, "member"), 2);
    ck_assert_str_eq(base_conf_section_name(base_conf_section_at(c, "member", 0)), "hospital a");
    ck_assert_str_eq(base_conf_section_name(base_conf_section_at(c, "member", 1)), "b");
    ck_assert_ptr_null(base_conf_section_at(c, "member", 2));
}
END_TEST

START_TEST(absent_keys_and_sections_give_defaults)
{
    struct base_conf *c = NULL;
    const struct base_conf_section *s;
    const struct base_conf_section *none;
    const char *v;
    const char *const *items;
    size_t n;
    int64_t i;
    uint64_t u;
    bool b;
    struct base_str sec;

    ck_assert_int_eq(parse("[server]\nlisten = x\nallow =\n", &c), 0);
    s = base_conf_section(c, "server");
    none = base_conf_section(c, "member");
    ck_assert_ptr_null(none);
    ck_assert_int_eq(base_conf_int(s, "threads", 0, 9, 7, &i, &E), 0);
    ck_assert_int_eq(i, 7);
    ck_assert_int_eq(base_conf_int(none, "threads", 0, 9, 5, &i, &E), 0);
    ck_assert_int_eq(i, 5);
    ck_assert_int_eq(base_conf_bool(s, "tls", true, &b, &E), 0);
    ck_assert(b);
    ck_assert_int_eq(base_conf_size(s, "max_body", 0, 10, 3, &u, &E), 0);
    ck_assert_uint_eq(u, 3);
    ck_assert_int_eq(base_conf_path(s, "cert", "rel/x.pem", A, &v, &E), 0);
    ck_assert_str_eq(v, "/etc/fg/rel/x.pem");
    ck_assert_int_eq(base_conf_path(s, "cert", NULL, A, &v, &E), 0);
    ck_assert_ptr_null(v);
    ck_assert_int_eq(base_conf_list(s, "allow", &items, &n, &E), 0); /* present but empty */
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(base_conf_secret(s, "password", A, &sec, &E), 0);
    ck_assert_uint_eq(sec.len, 0);
    ck_assert(!base_conf_has(s, "name"));
    ck_assert(base_conf_has(s, "listen"));
    ck_assert_int_eq(base_conf_str(none, "base", "d", &v, &E), 0);
    ck_assert_str_eq(v, "d");
}
END_TEST

START_TEST(syntax_errors_name_file_and_line)
{
    expect_fail("[server]\nlisten = x\n[nope]\n", BASE_E_INVALID, "/etc/fg/gw.conf:3",
                "unknown section [nope]");
    expect_fail("[server]\nlisten = x\n[member]\n", BASE_E_INVALID, "/etc/fg/gw.conf:3",
                "needs a name");
    expect_fail("[server \"x\"]\nlisten = x\n", BASE_E_INVALID, "/etc/fg/gw.conf:1",
                "takes no name");
    expect_fail("[server]\nlisten = x\n[server]\n", BASE_E_INVALID, "/etc/fg/gw.conf:3",
                "repeated (first at line 1)");
    expect_fail("[server]\nlisten=x\n[member \"a\"]\nbase=1\n[member \"a\"]\n", BASE_E_INVALID,
                "/etc/fg/gw.conf:5", "repeated");
    expect_fail("[ ]\n", BASE_E_PARSE, "/etc/fg/gw.conf:1", "expected a section name");
    expect_fail("[server\n", BASE_E_PARSE, "/etc/fg/gw.conf:1", "expected ']'");
    expect_fail("[server] x\n", BASE_E_PARSE, "/etc/fg/gw.conf:1", "unexpected text");
    expect_fail("[member \"\"]\n", BASE_E_PARSE, "/etc/fg/gw.conf:1", "empty section name");
    expect_fail("[member \"a]\n", BASE_E_PARSE, "/etc/fg/gw.conf:1", "unterminated");
    expect_fail("[server]\nlisten = x\nbogus = 1\n", BASE_E_INVALID, "/etc/fg/gw.conf:3",
                "unknown key bogus in section [server]");
    expect_fail("[server]\nlisten = x\nlisten = y\n", BASE_E_INVALID, "/etc/fg/gw.conf:3",
                "key listen repeated (first at line 2)");
    expect_fail("[server]\nlisten x\n", BASE_E_PARSE, "/etc/fg/gw.conf:2", "expected 'key = value'");
    expect_fail("[server]\n= x\n", BASE_E_PARSE, "/etc/fg/gw.conf:2", "expected 'key = value'");
    expect_fail("[server]\nlisten = \"abc\n", BASE_E_PARSE, "/etc/fg/gw.conf:2", "unterminated");
    expect_fail("[server]\nlisten = \"abc\\\n", BASE_E_PARSE, "/etc/fg/gw.conf:2", "unterminated");
    expect_fail("[server]\nlisten = \"a\\qb\"\n", BASE_E_PARSE, "/etc/fg/gw.conf:2",
                "unknown escape");
    expect_fail("[server]\nlisten = \"a\" b\n", BASE_E_PARSE, "/etc/fg/gw.conf:2",
                "unexpected text after the quoted value of listen");
    expect_fail("[server]\nlisten = a\x01z\n", BASE_E_PARSE, "/etc/fg/gw.conf:2",
                "control character at column 11");
    expect_fail("[server]\nlisten = a\xc3(\n", BASE_E_PARSE, "/etc/fg/gw.conf:2", "invalid UTF-8");
    expect_fail("[server]\nlisten = a\x7f\n", BASE_E_PARSE, "/etc/fg/gw.conf:2", "control");
}
END_TEST

START_TEST(key_outside_section_needs_a_root_section)
{
    struct base_conf *c = NULL;

    ck_assert_int_eq(parse_with("log_level = x\n[server]\nlisten = y\n", &schema_noroot, NULL, &c),
                     BASE_E_INVALID);
    ck_assert_str_eq(E.where, "/etc/fg/gw.conf:1");
    ck_assert_ptr_nonnull(strstr(E.msg, "outside any [section]"));
}
END_TEST

START_TEST(long_key_is_refused)
{
    char text[200];

    snprintf(text, sizeof(text), "[server]\n%s = 1\n",
             "k123456789k123456789k123456789k123456789k123456789k123456789k1234");
    expect_fail(text, BASE_E_INVALID, "/etc/fg/gw.conf:2", "longer than 64");
}
END_TEST

START_TEST(values_must_match_their_type)
{
    expect_fail("[server]\nlisten=x\nthreads = 1.5\n", BASE_E_INVALID, "/etc/fg/gw.conf:3",
                "threads: expected an integer");
    expect_fail("[server]\nlisten=x\nthreads = 99999999999999999999\n", BASE_E_INVALID,
                "/etc/fg/gw.conf:3", "threads");
    expect_fail("[server]\nlisten=x\ntls = maybe\n", BASE_E_INVALID, "/etc/fg/gw.conf:3",
                "tls: expected a boolean");
    expect_fail("[server]\nlisten=x\nmax_body = 16Q\n", BASE_E_INVALID, "/etc/fg/gw.conf:3",
                "max_body: expected a size");
    expect_fail("[server]\nlisten=x\nmax_body = 99999999999T\n", BASE_E_INVALID,
                "/etc/fg/gw.conf:3", "max_body");
    expect_fail("[server]\nlisten=x\nidle = 30\n", BASE_E_INVALID, "/etc/fg/gw.conf:3",
                "idle: expected a duration");
    expect_fail("[server]\nlisten=x\nidle = 3 s\n", BASE_E_INVALID, "/etc/fg/gw.conf:3", "idle");
    expect_fail("[server]\nlisten=x\ncert =\n", BASE_E_INVALID, "/etc/fg/gw.conf:3",
                "cert: expected a path");
    expect_fail("[server]\nlisten=x\npassword = hunter2\n", BASE_E_INVALID, "/etc/fg/gw.conf:3",
                "password: expected a secret reference");
    ck_assert_ptr_null(strstr(E.msg, "hunter2")); /* never quotes the value */
    expect_fail("[server]\nlisten=x\npassword = env:\n", BASE_E_INVALID, "/etc/fg/gw.conf:3",
                "password");
    expect_fail("[server]\nlisten=x\npassword = env:9X\n", BASE_E_INVALID, "/etc/fg/gw.conf:3",
                "password");
    expect_fail("[server]\nlisten=x\npassword = file:\n", BASE_E_INVALID, "/etc/fg/gw.conf:3",
                "password");
}
END_TEST

START_TEST(list_syntax_errors)
{
    expect_fail("[server]\nlisten=x\nallow = a,,b\n", BASE_E_PARSE, "/etc/fg/gw.conf:3",
                "empty item in list allow");
    expect_fail("[server]\nlisten=x\nallow = a,\n", BASE_E_PARSE, "/etc/fg/gw.conf:3",
                "empty item");
    expect_fail("[server]\nlisten=x\nallow = \"a\" b\n", BASE_E_PARSE, "/etc/fg/gw.conf:3",
                "expected ','");
    expect_fail("[server]\nlisten=x\nallow = \"a\n", BASE_E_PARSE, "/etc/fg/gw.conf:3",
                "unterminated");
}
END_TEST

START_TEST(required_keys_and_sections)
{
    expect_fail("log_level = x\n", BASE_E_INVALID, "/etc/fg/gw.conf:1", "missing section [server]");
    expect_fail("[server]\nthreads = 1\n", BASE_E_INVALID, "/etc/fg/gw.conf:1",
                "missing key listen in section [server]");
    expect_fail("[server]\nlisten=1\n\n[member \"a\"]\n", BASE_E_INVALID, "/etc/fg/gw.conf:4",
                "missing key base");
}
END_TEST

START_TEST(limits_are_enforced)
{
    struct base_conf_limits lim = base_conf_limits_default();
    struct base_conf *c = NULL;

    lim.max_line = 20;
    ck_assert_int_eq(parse_with("[server]\nlisten = 0123456789012345\n", &schema, &lim, &c),
                     BASE_E_LIMIT);
    ck_assert_str_eq(E.where, "/etc/fg/gw.conf:2");
    lim = base_conf_limits_default();
    lim.max_file = 10;
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(parse_with("[server]\nlisten = x\n", &schema, &lim, &c), BASE_E_LIMIT);
    lim = base_conf_limits_default();
    lim.max_sections = 2;
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(parse_with("[server]\nlisten=1\n[member \"a\"]\nbase=1\n[member \"b\"]\n",
                                &schema, &lim, &c),
                     BASE_E_LIMIT);
    ck_assert_str_eq(E.where, "/etc/fg/gw.conf:5");
    lim = base_conf_limits_default();
    lim.max_entries = 2;
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(parse_with("[server]\nlisten=1\nthreads=2\ntls=on\n", &schema, &lim, &c),
                     BASE_E_LIMIT);
    ck_assert_str_eq(E.where, "/etc/fg/gw.conf:4");
    lim = base_conf_limits_default();
    lim.max_list_items = 3;
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(parse_with("[server]\nlisten=1\nallow=a,b,c,d\n", &schema, &lim, &c),
                     BASE_E_LIMIT);
    memset(&E, 0, sizeof(E));
    /* the limit counts the items of every line of a repeated list */
    ck_assert_int_eq(parse_with("[server]\nlisten=1\nallow=a,b\nallow=c,d\n", &schema, &lim, &c),
                     BASE_E_LIMIT);
    ck_assert_str_eq(E.where, "/etc/fg/gw.conf:4");
}
END_TEST

START_TEST(getter_ranges_name_the_line)
{
    struct base_conf *c = NULL;
    const struct base_conf_section *s;
    int64_t i;
    uint64_t u;

    ck_assert_int_eq(parse("[server]\nlisten=1\n\nthreads = 100\nmax_body = 2G\nidle = 2h\n", &c),
                     0);
    s = base_conf_section(c, "server");
    ck_assert_int_eq(base_conf_int(s, "threads", 1, 64, 1, &i, &E), BASE_E_INVALID);
    ck_assert_str_eq(E.where, "/etc/fg/gw.conf:4");
    ck_assert_str_eq(E.msg, "server.threads: out of range (1..64)");
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(base_conf_size(s, "max_body", 0, 1u << 30, 0, &u, &E), BASE_E_INVALID);
    ck_assert_str_eq(E.where, "/etc/fg/gw.conf:5");
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(base_conf_duration_ms(s, "idle", 1000, 3600000, 0, &u, &E), BASE_E_INVALID);
    ck_assert_str_eq(E.where, "/etc/fg/gw.conf:6");
    ck_assert_ptr_nonnull(strstr(E.msg, "server.idle"));
}
END_TEST

START_TEST(getter_misuse_is_internal_error)
{
    struct base_conf *c = NULL;
    const struct base_conf_section *s;
    const char *v;
    int64_t i;

    ck_assert_int_eq(parse("[server]\nlisten=1\n", &c), 0);
    s = base_conf_section(c, "server");
    ck_assert_int_eq(base_conf_int(s, "listen", 0, 1, 0, &i, &E), BASE_E_INTERNAL);
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(base_conf_str(s, "undeclared", NULL, &v, &E), BASE_E_INTERNAL);
}
END_TEST

START_TEST(value_notations)
{
    uint64_t u;
    bool b;

    ck_assert(base_conf_parse_size(BASE_STR_LIT("0"), &u) && u == 0);
    ck_assert(base_conf_parse_size(BASE_STR_LIT("512b"), &u) && u == 512);
    ck_assert(base_conf_parse_size(BASE_STR_LIT("64KiB"), &u) && u == 65536);
    ck_assert(base_conf_parse_size(BASE_STR_LIT("64kb"), &u) && u == 65536);
    ck_assert(base_conf_parse_size(BASE_STR_LIT("3G"), &u) && u == 3ull << 30);
    ck_assert(base_conf_parse_size(BASE_STR_LIT("2T"), &u) && u == 2ull << 40);
    ck_assert(!base_conf_parse_size(BASE_STR_LIT("16777216T"), &u)); /* 2^64 */
    ck_assert(!base_conf_parse_size(BASE_STR_LIT("K"), &u));
    ck_assert(!base_conf_parse_size(BASE_STR_LIT("-1"), &u));
    ck_assert(!base_conf_parse_size(BASE_STR_LIT("1.5M"), &u));
    ck_assert(!base_conf_parse_size(BASE_STR_LIT("99999999999999999999"), &u));
    ck_assert(base_conf_parse_duration_ms(BASE_STR_LIT("0"), &u) && u == 0);
    ck_assert(base_conf_parse_duration_ms(BASE_STR_LIT("250ms"), &u) && u == 250);
    ck_assert(base_conf_parse_duration_ms(BASE_STR_LIT("3s"), &u) && u == 3000);
    ck_assert(base_conf_parse_duration_ms(BASE_STR_LIT("5m"), &u) && u == 300000);
    ck_assert(base_conf_parse_duration_ms(BASE_STR_LIT("2h"), &u) && u == 7200000);
    ck_assert(base_conf_parse_duration_ms(BASE_STR_LIT("1d"), &u) && u == 86400000);
    ck_assert(!base_conf_parse_duration_ms(BASE_STR_LIT("5"), &u));
    ck_assert(!base_conf_parse_duration_ms(BASE_STR_LIT("5S"), &u));
    ck_assert(!base_conf_parse_duration_ms(BASE_STR_LIT("5sec"), &u));
    ck_assert(!base_conf_parse_duration_ms(BASE_STR_LIT("9999999999999999999d"), &u));
    ck_assert(base_conf_parse_bool(BASE_STR_LIT("OFF"), &b) && !b);
    ck_assert(base_conf_parse_bool(BASE_STR_LIT("1"), &b) && b);
    ck_assert(!base_conf_parse_bool(BASE_STR_LIT("tru"), &b));
    ck_assert(!base_conf_parse_bool(BASE_STR_LIT(""), &b));
}
END_TEST

static char tmpdir[64];

static void
write_file(const char *name, const char *data, mode_t mode)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(data, f);
    fclose(f);
    chmod(path, mode);
}

static void
remove_tmpdir(const char **names)
{
    char path[256];

    for (; *names != NULL; names++) {
        snprintf(path, sizeof(path), "%s/%s", tmpdir, *names);
        unlink(path);
    }
    rmdir(tmpdir);
}

static const struct base_conf_section *
load_server(const char *body, struct base_conf **c)
{
    char path[256];

    write_file("t.conf", body, 0600);
    snprintf(path, sizeof(path), "%s/t.conf", tmpdir);
    ck_assert_int_eq(base_conf_load(A, path, &schema, NULL, c, &E), BASE_OK);
    return base_conf_section(*c, "server");
}

START_TEST(secrets_from_env_and_file)
{
    struct base_conf *c = NULL;
    const struct base_conf_section *s;
    struct base_str sec;

    snprintf(tmpdir, sizeof(tmpdir), "/tmp/fg-conf-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    setenv("FG_TEST_SECRET", "s3cr3t", 1);
    s = load_server("[server]\nlisten=1\npassword = env:FG_TEST_SECRET\n", &c);
    ck_assert_int_eq(base_conf_secret(s, "password", A, &sec, &E), 0);
    ck_assert(base_str_eq_cstr(sec, "s3cr3t"));
    unsetenv("FG_TEST_SECRET");
    ck_assert_int_eq(base_conf_secret(s, "password", A, &sec, &E), BASE_E_INVALID);
    ck_assert_str_eq(E.where + strlen(E.where) - 9, "/t.conf:3");
    ck_assert_ptr_nonnull(strstr(E.msg, "server.password"));

    write_file("pw", "hunter2\r\n", 0600);
    memset(&E, 0, sizeof(E));
    s = load_server("[server]\nlisten=1\npassword = file:pw\n", &c);
    ck_assert_int_eq(base_conf_secret(s, "password", A, &sec, &E), 0);
    ck_assert(base_str_eq_cstr(sec, "hunter2"));

    write_file("empty", "\n", 0600);
    s = load_server("[server]\nlisten=1\npassword = file:empty\n", &c);
    ck_assert_int_eq(base_conf_secret(s, "password", A, &sec, &E), BASE_E_INVALID);
    memset(&E, 0, sizeof(E));
    s = load_server("[server]\nlisten=1\npassword = file:missing\n", &c);
    ck_assert_int_eq(base_conf_secret(s, "password", A, &sec, &E), BASE_E_IO);
    ck_assert_ptr_nonnull(strstr(E.msg, "server.password"));
    memset(&E, 0, sizeof(E));
    {
        char big[20000];

        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        write_file("big", big, 0600);
    }
    s = load_server("[server]\nlisten=1\npassword = file:big\n", &c);
    ck_assert_int_eq(base_conf_secret(s, "password", A, &sec, &E), BASE_E_LIMIT);
    remove_tmpdir((const char *[]){"t.conf", "pw", "empty", "big", NULL});
}
END_TEST

START_TEST(load_errors)
{
    struct base_conf *c = NULL;
    struct base_conf_limits lim = base_conf_limits_default();
    char path[256];

    snprintf(tmpdir, sizeof(tmpdir), "/tmp/fg-conf-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(path, sizeof(path), "%s/absent.conf", tmpdir);
    ck_assert_int_eq(base_conf_load(A, path, &schema, NULL, &c, &E), BASE_E_IO);
    ck_assert_str_eq(E.where, path);
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(base_conf_load(A, tmpdir, &schema, NULL, &c, &E), BASE_E_IO);
    write_file("big.conf", "[server]\nlisten = 1\n", 0600);
    snprintf(path, sizeof(path), "%s/big.conf", tmpdir);
    lim.max_file = 5;
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(base_conf_load(A, path, &schema, &lim, &c, &E), BASE_E_LIMIT);
    remove_tmpdir((const char *[]){"big.conf", NULL});
}
END_TEST

START_TEST(fail_helper_names_key_line)
{
    struct base_conf *c = NULL;
    const struct base_conf_section *s;

    ck_assert_int_eq(parse("[server]\nlisten=1\ntls = off\n", &c), 0);
    s = base_conf_section(c, "server");
    ck_assert_int_eq(base_conf_fail(s, "tls", &E, BASE_E_INVALID, "required when %s", "x"),
                     BASE_E_INVALID);
    ck_assert_str_eq(E.where, "/etc/fg/gw.conf:3");
    ck_assert_str_eq(E.msg, "server.tls: required when x");
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(base_conf_fail(s, "cert", &E, BASE_E_INVALID, "missing"), BASE_E_INVALID);
    ck_assert_str_eq(E.where, "/etc/fg/gw.conf:1"); /* absent key: the section's line */
    memset(&E, 0, sizeof(E));
    ck_assert_int_eq(base_conf_fail(NULL, "tls", &E, BASE_E_INVALID, "missing"), BASE_E_INVALID);
    ck_assert_str_eq(E.where, "config");
}
END_TEST

START_TEST(empty_input_is_valid_without_required_parts)
{
    static const struct base_conf_section_schema opt[] = {{"x", 0, root_keys, 1}};
    static const struct base_conf_schema sc = {opt, 1};
    struct base_conf *c = NULL;

    ck_assert_int_eq(parse_with("", &sc, NULL, &c), 0);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(base_conf_section_count(c, "x"), 0);
    ck_assert_int_eq(parse_with("\n# only a comment\n   \n", &sc, NULL, &c), 0);
}
END_TEST

Suite *base_conf_suite(void)
{
    Suite *s = suite_create("base_conf");
    TCase *tc = tcase_create("conf");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, parses_every_type_and_comment_form);
    tcase_add_test(tc, absent_keys_and_sections_give_defaults);
    tcase_add_test(tc, syntax_errors_name_file_and_line);
    tcase_add_test(tc, key_outside_section_needs_a_root_section);
    tcase_add_test(tc, long_key_is_refused);
    tcase_add_test(tc, values_must_match_their_type);
    tcase_add_test(tc, list_syntax_errors);
    tcase_add_test(tc, required_keys_and_sections);
    tcase_add_test(tc, limits_are_enforced);
    tcase_add_test(tc, getter_ranges_name_the_line);
    tcase_add_test(tc, getter_misuse_is_internal_error);
    tcase_add_test(tc, value_notations);
    tcase_add_test(tc, secrets_from_env_and_file);
    tcase_add_test(tc, load_errors);
    tcase_add_test(tc, fail_helper_names_key_line);
    tcase_add_test(tc, empty_input_is_valid_without_required_parts);
    suite_add_tcase(s, tc);
    return s;
}
