/*
 * The adapter's configuration (adapters/daemon/config*.c): defaults, every
 * section read, every rule that refuses a file naming the place, and the
 * client-certificate identity rules.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "adapters/daemon/adapter_daemon.h"
#include "adapters/daemon/daemon_int.h"
#include "fhir/base/arena.h"
#include "fhir/base/conf.h"
#include "test/support/testutil.h"
#include "test/support/tu_http.h"

static char dir[600];
static char name[700];

static void
touch(const char *file, const char *text)
{
    char p[800];
    FILE *f;

    snprintf(p, sizeof(p), "%s/%s", dir, file);
    f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void
setup(void)
{
    char p[800];

    snprintf(dir, sizeof(dir), "%s", tu_tmpdir("unit-adapter-config"));
    mkdir(dir, 0755);
    snprintf(name, sizeof(name), "%s/adapter.conf", dir);
    touch("s.crt", "x");
    touch("s.key", "x");
    touch("ca.crt", "x");
    touch("pw", "secret\n");
    touch("dburl", "postgresql://app@db.example/adapter\n");
    snprintf(p, sizeof(p), "%s/drop", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/maps", dir);
    mkdir(p, 0755);
    touch("maps/lab.csv", "local_system,local_code,target_system,target_code\nL,GLU,LN,2345-7\n");
    touch("p.map", "resource Patient\nidentity https://x.example/id {Id}\n"
                   "name[0].family = {LAST}\n");
}

#define BASE_CONF                                                                                  \
    "[adapter]\nmember_id = hosp-a\nname = \"Hospital A\"\n"                                       \
    "public_url = https://a.example:9443/fhir\n"                                                   \
    "[http]\nlisten = 127.0.0.1:9443\ncert = s.crt\nkey = s.key\nclient_ca = ca.crt\n"

static int
parse(const char *text, struct adapter_config **cfg, struct base_err *err, struct base_arena **a)
{
    *a = base_arena_new(0);
    ck_assert_ptr_nonnull(*a);
    return adapter_config_parse(*a, text, strlen(text), name, cfg, err);
}

START_TEST(defaults)
{
    struct adapter_config *c = NULL;
    struct base_err err = {0};
    struct base_arena *a;

    ck_assert_msg(parse(BASE_CONF, &c, &err, &a) == BASE_OK, "%s: %s", err.where, err.msg);
    ck_assert_str_eq(c->member_id, "hosp-a");
    ck_assert_str_eq(c->gateway.cn, "gateway");
    ck_assert_ptr_null(c->gateway.sha256);
    ck_assert_str_eq(c->tz, "+08:00");
    ck_assert(c->http.client_auth == GW_HTTP_CLIENT_AUTH_REQUIRED);
    ck_assert(!c->http.plain_http);
    ck_assert(!c->mllp_enabled);
    ck_assert(!c->pacs_enabled);
    ck_assert(!c->register_enabled);
    ck_assert(c->migrate_auto);
    ck_assert_ptr_null(c->db_url); /* the embedded default */
    ck_assert_uint_eq(c->batch_max, 500);
    ck_assert_uint_eq(c->n_ingest_clients, 0);
    ck_assert_str_eq(c->ack_app, "FHIRGATE");
    ck_assert_str_eq(c->ack_facility, "hosp-a");
    ck_assert_str_eq(c->map.default_tz, "+08:00");
    base_arena_free(a);
}
END_TEST

START_TEST(every_section)
{
    static const char text[] = BASE_CONF
        "gateway_sha256 = "
        "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:"
        "EF:01:23:45:67:89\nadmin_clients = ops, sha256:"
        "0000000000000000000000000000000000000000000000000000000000000000\n"
        "[database]\nurl = file:dburl\nmigrate = check\npool_size = 3\n"
        "[mllp]\nlisten = [::1]:2575\nmax_frame = 2M\nidle_timeout = 5s\nbatch_max = 200\n"
        "batch_latency = 5ms\n"
        "[ingest]\nclients = his-a\nclients = lis-a\n"
        "[hl7v2]\nsystem_base = https://a.example/sid\nauthority = HIS=urn:oid:1.2.3\n"
        "authority = LAB=https://a.example/sid/lab\ncodemaps = maps\n"
        "default_charset = GB18030\n"
        "[cda]\ndrop_dir = drop\n"
        "[csv \"patients\"]\nmapping = p.map\non_error = fail\nbatch_rows = 10\n"
        "[pacs]\nqido_url = http://127.0.0.1:8042/dicom-web\nallow_http = true\n"
        "auth = basic\nuser = u\npassword = file:pw\nmode = both\nlevel = studies\n"
        "discover = true\npatient_issuer = 1.2.156.112605.9\n"
        "[gateway]\nurl = https://gw.example\nca = ca.crt\nclient_cert = s.crt\n"
        "client_key = s.key\n";
    struct adapter_config *c = NULL;
    struct base_err err = {0};
    struct base_arena *a;

    ck_assert_msg(parse(text, &c, &err, &a) == BASE_OK, "%s: %s", err.where, err.msg);
    ck_assert_str_eq(c->gateway.sha256,
                     "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
    ck_assert_uint_eq(c->n_admin_clients, 2);
    ck_assert_str_eq(c->admin_clients[0].cn, "ops");
    ck_assert_ptr_nonnull(c->admin_clients[1].sha256);
    ck_assert_str_eq(c->db_url, "postgresql://app@db.example/adapter");
    ck_assert(!c->migrate_auto);
    ck_assert(c->mllp_enabled);
    ck_assert_str_eq(c->mllp_bind, "::1");
    ck_assert_uint_eq(c->mllp_port, 2575);
    ck_assert_uint_eq(c->mllp_max_frame, 2u << 20);
    ck_assert_uint_eq(c->n_ingest_clients, 2);
    ck_assert_uint_eq(c->batch_max, 200);
    ck_assert_uint_eq(c->batch_latency_ms, 5);
    ck_assert_uint_eq(c->map.nauthorities, 2);
    ck_assert_str_eq(c->map.authorities[1].namespace_id, "LAB");
    ck_assert_ptr_nonnull(c->codemap);
    ck_assert_str_eq(c->parse.default_charset, "GB18030");
    ck_assert_uint_eq(c->n_csv, 1);
    ck_assert_str_eq(c->csv[0].name, "patients");
    ck_assert(c->csv[0].on_error == CSV_ON_ERROR_FAIL);
    ck_assert_ptr_nonnull(c->csv[0].mapping);
    ck_assert(c->pacs_enabled);
    ck_assert(c->pacs_mode == ADAPTER_PACS_BOTH);
    ck_assert(c->pacs.auth == DICOMWEB_AUTH_BASIC);
    ck_assert_str_eq(c->pacs.password, "secret");
    ck_assert(c->pacs_discover);
    ck_assert_str_eq(c->pacs_patient_issuer, "1.2.156.112605.9");
    ck_assert(c->register_enabled);
    base_arena_free(a);
}
END_TEST

/* Each bad file is refused with a message naming the key. */
START_TEST(refusals)
{
    static const struct {
        const char *append;
        const char *key;
    } cases[] = {
        {"plain_http = true\n", "plain_http"},
        {"client_auth = none\n", "client_auth"},
        {"gateway_cn = \"\"\n", "gateway_cn"},
        {"gateway_sha256 = 12ab\n", "gateway_sha256"},
        {"admin_clients = sha256:zz\n", "admin_clients"},
        {"[database]\nurl = file:dburl\nmigrate = sometimes\n", "migrate"},
        {"[database]\nurl = file:pw\n", "url"},
        {"[database]\nurl = env:AIT_UNIT_UNSET_VARIABLE\n", "url"},
        {"[mllp]\nlisten = localhost\n", "listen"},
        {"[mllp]\ntls_cert = s.crt\n", "tls_cert"},
        {"[mllp]\ntls_client_ca = ca.crt\n", "tls_client_ca"},
        {"[mllp]\nmax_frame = 10\n", "max_frame"},
        {"[mllp]\nbatch_max = 100000\n", "batch_max"},
        {"[mllp]\nbatch_latency = 5s\n", "batch_latency"},
        {"[hl7v2]\nauthority = =https://x\n", "authority"},
        {"[hl7v2]\nauthority = HIS=not a uri\n", "authority"},
        {"[hl7v2]\nsystem_base = nope\n", "system_base"},
        {"[hl7v2]\ncodemaps = missing\n", "codemaps"},
        {"[cda]\ndrop_dir = s.crt\n", "drop_dir"},
        {"[csv \"p\"]\nmapping = missing.map\n", "mapping"},
        {"[csv \"p\"]\nmapping = s.crt\n", "mapping"},
        {"[csv \"p\"]\nmapping = p.map\non_error = ignore\n", "on_error"},
        {"[pacs]\nqido_url = ftp://pacs\n", "qido_url"},
        {"[pacs]\nqido_url = https://pacs\nauth = bearer\n", "auth"},
        {"[pacs]\nqido_url = https://pacs\nmode = sometimes\n", "mode"},
        {"[pacs]\nqido_url = https://pacs\nlevel = frames\n", "level"},
        {"[pacs]\nqido_url = https://pacs\npatient_id_system = x\n", "patient_id_system"},
        {"[pacs]\nqido_url = https://pacs\ndiscover = true\n", "discover"}, /* mode live */
        {"[pacs]\nqido_url = https://pacs\npatient_issuer = \"\"\n", "patient_issuer"},
        {"[pacs]\nqido_url = https://pacs\npatient_issuer = "
         "0123456789012345678901234567890123456789012345678901234567890123X\n",
         "patient_issuer"},
        {"[gateway]\nurl = https://gw\nca = ca.crt\nclient_cert = s.crt\n", "client_key"},
        {"[gateway]\nurl = http://gw\nca = ca.crt\nclient_cert = s.crt\nclient_key = s.key\n",
         "url"},
        {"[nosuch]\n", "nosuch"},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        char text[2048];
        struct adapter_config *c = NULL;
        struct base_err err = {0};
        struct base_arena *a;

        snprintf(text, sizeof(text), "%s%s", BASE_CONF, cases[i].append);
        ck_assert_msg(parse(text, &c, &err, &a) != BASE_OK, "case %zu accepted", i);
        ck_assert_msg(strstr(err.msg, cases[i].key) != NULL, "case %zu: %s: %s", i, err.where,
                      err.msg);
        ck_assert_msg(strstr(err.where, "adapter.conf:") != NULL, "case %zu: where %s", i,
                      err.where);
        base_arena_free(a);
    }
}
END_TEST

START_TEST(adapter_section_rules)
{
    static const char *const bad[] = {
        "[adapter]\nmember_id = a b\nname = x\npublic_url = https://a/fhir\n",
        "[adapter]\nmember_id = a\nname = x\npublic_url = https://a/fhir/\n",
        "[adapter]\nmember_id = a\nname = x\npublic_url = http://a/fhir\n",
        "[adapter]\nmember_id = a\nname = x\npublic_url = https://a/fhir\ntz_offset = 8\n",
        "[adapter]\nmember_id = a\nname = x\npublic_url = https://a/fhir\nlog_level = chatty\n",
        "[adapter]\nname = x\npublic_url = https://a/fhir\n",
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++) {
        char text[2048];
        struct adapter_config *c = NULL;
        struct base_err err = {0};
        struct base_arena *a;

        snprintf(text, sizeof(text), "%s[http]\ncert = s.crt\nkey = s.key\nclient_ca = ca.crt\n",
                 bad[i]);
        ck_assert_msg(parse(text, &c, &err, &a) != BASE_OK, "case %zu accepted", i);
        base_arena_free(a);
    }
}
END_TEST

START_TEST(identities)
{
    struct adapter_identity by_cn = {"gateway", NULL};
    struct adapter_identity pinned = {"gateway", "ab"};
    struct adapter_identity by_hash = {NULL, "ab"};
    struct adapter_identity none = {NULL, NULL};
    struct gw_http_client cl = {0};

    cl.present = true;
    cl.verified = true;
    cl.subject_cn = "gateway";
    snprintf(cl.sha256, sizeof(cl.sha256), "%s", "ab");
    ck_assert(adapter_identity_match(&by_cn, &cl));
    ck_assert(adapter_identity_match(&pinned, &cl));
    ck_assert(adapter_identity_match(&by_hash, &cl));
    ck_assert(!adapter_identity_match(&none, &cl)); /* an empty rule matches nobody */
    snprintf(cl.sha256, sizeof(cl.sha256), "%s", "cd");
    ck_assert(adapter_identity_match(&by_cn, &cl));
    ck_assert(!adapter_identity_match(&pinned, &cl)); /* right CN, wrong certificate */
    cl.verified = false;                              /* another CA, expired, revoked */
    ck_assert(!adapter_identity_match(&by_cn, &cl));
    cl.verified = true;
    cl.subject_cn = "hosp-b";
    ck_assert(!adapter_identity_match(&by_cn, &cl));
    cl.subject_cn = NULL;
    ck_assert(!adapter_identity_match(&by_cn, &cl));
    ck_assert(!adapter_identity_match(&by_cn, NULL));
    cl.subject_cn = "gateway";
    ck_assert(adapter_identity_any((struct adapter_identity[]){none, by_cn}, 2, &cl));
    ck_assert(!adapter_identity_any(NULL, 0, &cl));
}
END_TEST

/* The documented example uses only keys the program knows (its files are
 * placeholders, so only the schema is checked). */
START_TEST(example_file_matches_the_schema)
{
    struct base_arena *a = base_arena_new(0);
    struct base_conf *c = NULL;
    struct base_err err = {0};
    char path[1024];
    size_t len = 0;
    char *text;
    const char *src = getenv("FHIRGATE_SRC");

    snprintf(path, sizeof(path), "%s/deploy/adapter.conf.example", src != NULL ? src : ".");
    text = tu_read_file(path, &len);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(base_conf_parse(a, text, len, path, adapter__conf_schema(), NULL, &c, &err) ==
                      BASE_OK,
                  "%s: %s", err.where, err.msg);
    free(text);
    base_arena_free(a);
}
END_TEST

Suite *
adapter_config_suite(void)
{
    Suite *s = suite_create("adapter_config");
    TCase *tc = tcase_create("config");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, every_section);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, adapter_section_rules);
    tcase_add_test(tc, identities);
    tcase_add_test(tc, example_file_matches_the_schema);
    suite_add_tcase(s, tc);
    return s;
}
