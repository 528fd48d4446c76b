/*
 * test/integration/check_deploy_ops.c — the operators' procedures of docs/operations.md,
 * run as written, against real gateway nodes:
 *   - token-signing key rotation across two nodes, in the three steps of the guide
 *     (distribute the new key as a verification key; switch signing, node by node;
 *     retire the old key): a token signed by the old key is accepted by every node until
 *     the old key is retired, new tokens carry the new key's kid at once, and at no
 *     step does a token from one node fail on the other;
 *   - a member adapter's client certificate through issuance, renewal (re-pinned by the
 *     admin CLI) and revocation with deploy/ca.sh: a revoked certificate is refused by the
 *     gateway (its CRL) once the node restarts, the renewed one keeps working;
 *   - the other direction: the gateway's client certificate revoked, a real adapter
 *     (bin/fhirgate-adapter) with the region CRL refuses it once restarted, and the
 *     gateway's federated answer then names that member as failed.
 */
#include <check.h>

#include "test/integration/scaleout_it.h"

static struct so_region R;

/* ---------------------------------------------------------------- keys -- */

/* The `kid` of a JWS's protected header (base64url JSON); malloc'd or NULL. */
static char *
jwt_kid(const char *tok)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *dot = strchr(tok, '.');
    unsigned char buf[1024];
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    json_t *h;
    char *kid = NULL;

    for (const char *p = tok; dot != NULL && p < dot && n < sizeof(buf) - 1; p++) {
        const char *at = strchr(al, *p);

        if (at == NULL || *p == '\0')
            return NULL;
        acc = (acc << 6) | (unsigned)(at - al);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[n++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    buf[n] = '\0';
    h = json_loads((const char *)buf, 0, NULL);
    if (h != NULL && json_string_value(json_object_get(h, "kid")) != NULL)
        kid = strdup(json_string_value(json_object_get(h, "kid")));
    json_decref(h);
    return kid;
}

static long
me_status(size_t node, const char *tok)
{
    struct so_resp s = so_req(&R, R.node[node].base, "GET", "/me", tok, NULL);
    long st = s.status;

    so_resp_free(&s);
    return st;
}

/* Number of keys the node publishes and whether `kid` is among them. */
static size_t
jwks(size_t node, const char *kid, bool *has)
{
    struct so_resp s = so_req(&R, R.node[node].base, "GET", "/.well-known/jwks.json", NULL, NULL);
    json_t *keys = json_object_get(s.json, "keys");
    size_t n = json_array_size(keys);
    size_t i;
    json_t *k;

    *has = false;
    json_array_foreach(keys, i, k) {
        const char *id = json_string_value(json_object_get(k, "kid"));

        *has = *has || (id != NULL && kid != NULL && strcmp(id, kid) == 0);
    }
    ck_assert_int_eq(s.status, 200);
    so_resp_free(&s);
    return n;
}

/* Restart node i with this signing key and verification keys. */
static void
restart_with(size_t i, const char *signing, const char *verify)
{
    char lines[SO_PATH + 32] = "";
    struct so_node_opts o = {.signing_key = signing, .verify_keys = lines};

    if (verify != NULL)
        SO_FMT(lines, "verify_key = %s\n", verify);
    so_node_stop(&R, i, SIGTERM);
    so_node_conf(&R, i, &o);
    so_node_start(&R, i);
}

/* Both nodes accept `tok`: 200 from each. */
static void
both_accept(const char *tok, const char *step)
{
    for (size_t i = 0; i < 2; i++)
        ck_assert_msg(me_status(i, tok) == 200, "%s: node gw-%zu refused a token", step, i + 1);
}

START_TEST(token_signing_key_rotation_in_three_steps_across_two_nodes)
{
    char key_b[SO_PATH + 32];
    const char *key_a;
    char *tok_a;
    char *tok_b;
    char *tok;
    char *kid_a;
    char *kid_b;
    char *kid;
    bool has = false;

    so_region_make(&R, "ops-keys", 1);
    key_a = R.token_key;
    SO_FMT(key_b, "%s/token-2.pem", R.dir);
    so_must((const char *[]){"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                             "ec_paramgen_curve:P-256", "-out", key_b, NULL});
    for (size_t i = 0; i < 2; i++) {
        so_node_conf(&R, i, NULL);
        so_node_start(&R, i);
    }
    so_user(&R, "dr.zhao");
    tok_a = so_token(&R, R.node[0].base, "dr.zhao");
    ck_assert_ptr_nonnull(tok_a);
    kid_a = jwt_kid(tok_a);
    ck_assert_ptr_nonnull(kid_a);
    both_accept(tok_a, "before");
    ck_assert_uint_eq(jwks(0, kid_a, &has), 1);
    ck_assert(has);

    /* Step 1: the new key B is distributed as a verification key; A still signs. */
    restart_with(0, key_a, key_b);
    restart_with(1, key_a, key_b);
    both_accept(tok_a, "step 1");
    tok = so_token(&R, R.node[1].base, "dr.zhao");
    kid = jwt_kid(tok);
    ck_assert_str_eq(kid, kid_a);
    ck_assert_uint_eq(jwks(0, kid_a, &has), 2);
    free(tok);
    free(kid);

    /* Step 2, node by node: B signs, A verifies.  Between the two restarts the nodes
     * disagree on the signing key, yet each accepts the other's tokens. */
    restart_with(0, key_b, key_a);
    tok_b = so_token(&R, R.node[0].base, "dr.zhao");
    ck_assert_ptr_nonnull(tok_b);
    kid_b = jwt_kid(tok_b);
    ck_assert_ptr_nonnull(kid_b);
    ck_assert_str_ne(kid_b, kid_a);
    both_accept(tok_b, "step 2, half rolled");
    both_accept(tok_a, "step 2, half rolled");
    restart_with(1, key_b, key_a);
    tok = so_token(&R, R.node[1].base, "dr.zhao");
    kid = jwt_kid(tok);
    ck_assert_str_eq(kid, kid_b);
    both_accept(tok_a, "step 2");
    both_accept(tok, "step 2");
    free(tok);
    free(kid);

    /* Step 3 (after the longest token lifetime): A is retired. */
    restart_with(0, key_b, NULL);
    restart_with(1, key_b, NULL);
    both_accept(tok_b, "step 3");
    for (size_t i = 0; i < 2; i++)
        ck_assert_int_eq(me_status(i, tok_a), 401);
    ck_assert_uint_eq(jwks(1, kid_a, &has), 1);
    ck_assert(!has);

    free(tok_a);
    free(tok_b);
    free(kid_a);
    free(kid_b);
    so_region_free(&R);
}
END_TEST

/* -------------------------------------------------------- certificates -- */

/* POST /members/register to node 0 with a client certificate; the status. */
static long
register_with(const char *cert, const char *key, char *body_out, size_t cap)
{
    char url[128];
    char body[256];
    const char *h[] = {"Content-Type: application/json", NULL};
    struct tu_http_opts o = {0};
    struct tu_http_resp t = {0};
    long st;

    SO_FMT(url, "%s/members/register", R.node[0].base);
    SO_FMT(body, "{\"member\":\"hosp-x\",\"name\":\"Hospital X\","
                 "\"base\":\"https://127.0.0.1:9/fhir\"}");
    o.method = "POST";
    o.body = body;
    o.body_len = strlen(body);
    o.headers = h;
    o.ca_file = R.ca_crt;
    o.cert_file = cert;
    o.key_file = key;
    o.timeout_ms = 20000;
    (void)tu_http_request(url, &o, &t);
    st = t.status;
    if (body_out != NULL)
        snprintf(body_out, cap, "%s", t.body != NULL ? t.body : "");
    tu_http_resp_free(&t);
    return st;
}

/* Lower-case hex SHA-256 of the certificate's DER, as the registry pins it. */
static void
cert_sha256(const char *crt, char out[65])
{
    char *text = NULL;
    char *colon;
    size_t k = 0;

    ck_assert_int_eq(so_run((const char *[]){"openssl", "x509", "-in", crt, "-noout",
                                             "-fingerprint", "-sha256", NULL},
                            &text),
                     0);
    colon = strchr(text, '=');
    ck_assert_ptr_nonnull(colon);
    for (const char *p = colon + 1; *p != '\0' && k < 64; p++)
        if (*p != ':' && *p != '\n')
            out[k++] = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
    out[k] = '\0';
    ck_assert_uint_eq(k, 64);
    free(text);
}

/* The serial of a certificate, as openssl ca names it under newcerts/. */
static void
cert_serial(const char *crt, char *out, size_t cap)
{
    char *text = NULL;

    ck_assert_int_eq(so_run((const char *[]){"openssl", "x509", "-in", crt, "-noout",
                                             "-serial", NULL},
                            &text),
                     0);
    ck_assert_ptr_nonnull(strstr(text, "serial="));
    snprintf(out, cap, "%.*s", (int)strcspn(text + 7, "\n"), text + 7);
    free(text);
}

START_TEST(member_certificate_issue_renew_revoke)
{
    char cert[SO_PATH];
    char key[SO_PATH];
    char old_serial[128];
    char old_cert[SO_PATH + 64];
    char old_key[SO_PATH + 16];
    char fp[65];
    char body[1024];
    char *out = NULL;

    so_region_make(&R, "ops-certs", 1);
    so_node_conf(&R, 0, NULL);
    so_node_start(&R, 0);

    /* Issue: the adapter of hosp-x registers itself with its region certificate. */
    ck_assert_int_eq(tu_ca((const char *[]){"client", R.ca, "hosp-x", "O=Hospital X", NULL}, cert,
                           sizeof(cert), key, sizeof(key)),
                     0);
    ck_assert_int_eq(register_with(cert, key, body, sizeof(body)), 202);
    ck_assert_ptr_nonnull(strstr(body, "pending"));

    /* Renew: a new key and certificate; the registry pinned the old one, so the admin
     * re-pins the new fingerprint, and the old certificate no longer registers. */
    cert_serial(cert, old_serial, sizeof(old_serial));
    SO_FMT(old_cert, "%s/newcerts/%s.pem", R.ca, old_serial);
    SO_FMT(old_key, "%s/hosp-x.old.key", R.dir);
    ck_assert_int_eq(rename(key, old_key), 0);
    ck_assert_int_eq(tu_ca((const char *[]){"client", R.ca, "hosp-x", "O=Hospital X", "--force",
                                            NULL},
                           cert, sizeof(cert), key, sizeof(key)),
                     0);
    ck_assert_int_eq(register_with(cert, key, NULL, 0), 409);
    cert_sha256(cert, fp);
    so_must((const char *[]){tu_bin("fhirgate"), "member", "add", "hosp-x", "--name",
                             "Hospital X", "--base", "https://127.0.0.1:9/fhir", "--cert-sha256",
                             fp, "--status", "pending", "--database", R.db_url, NULL});
    ck_assert_int_eq(register_with(cert, key, NULL, 0), 202);
    ck_assert_int_eq(register_with(old_cert, old_key, NULL, 0), 409);

    /* Revoke the superseded certificate (by its serial), publish the CRL, restart: the
     * old certificate is now refused before the registry is asked. */
    setenv("FG_CA_SAN", "DNS:unused", 1);
    SO_FMT(body, "%s/openssl.cnf", R.ca);
    so_must((const char *[]){"openssl", "ca", "-batch", "-config", body, "-revoke", old_cert,
                             NULL});
    so_must((const char *[]){so_src("deploy/ca.sh"), "crl", R.ca, NULL});
    so_node_stop(&R, 0, SIGTERM);
    so_node_start(&R, 0);
    ck_assert_int_eq(register_with(old_cert, old_key, body, sizeof(body)), 403);
    ck_assert_msg(strstr(body, "revoked") != NULL, "%s", body);
    ck_assert_int_eq(register_with(cert, key, NULL, 0), 202);

    /* Compromise of the current certificate: ca.sh revoke, restart, refused. */
    so_must((const char *[]){so_src("deploy/ca.sh"), "revoke", R.ca, "hosp-x", NULL});
    so_node_stop(&R, 0, SIGTERM);
    so_node_start(&R, 0);
    ck_assert_int_eq(register_with(cert, key, body, sizeof(body)), 403);
    ck_assert_ptr_nonnull(strstr(body, "revoked"));

    ck_assert_msg(so_audit_verify(&R, &out) == 0, "%s", out);
    free(out);
    so_region_free(&R);
}
END_TEST

/* ------------------------------------------------------------ adapter -- */

struct adapter {
    char conf[SO_PATH + 32];
    char log[SO_PATH + 32];
    pid_t pid;
    unsigned port;
};

/* Start bin/fhirgate-adapter for member hosp-a and wait for "ready: https=N". */
static void
adapter_start(struct adapter *ad)
{
    char buf[128] = "";
    size_t got = 0;
    long long until = pt_now_ms() + 60000;
    int fd = -1;

    ad->pid = so_spawn((const char *[]){tu_bin("fhirgate-adapter"), "--config", ad->conf, NULL},
                       ad->log, &fd);
    ck_assert_int_gt(ad->pid, 0);
    while (pt_now_ms() < until && got + 1 < sizeof(buf) && strchr(buf, '\n') == NULL) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;

        if (poll(&p, 1, 200) <= 0)
            continue;
        n = read(fd, buf + got, sizeof(buf) - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        buf[got] = '\0';
    }
    close(fd);
    ck_assert_msg(sscanf(buf, "ready: https=%u", &ad->port) == 1, "the adapter did not start (see %s)",
                  ad->log);
}

static void
adapter_stop(struct adapter *ad)
{
    if (ad->pid > 0) {
        kill(ad->pid, SIGTERM);
        waitpid(ad->pid, NULL, 0);
    }
    ad->pid = 0;
}

/* GET {facade}/fhir/metadata with the gateway's client certificate. */
static long
facade_metadata(const struct adapter *ad, char *body, size_t cap)
{
    char url[128];
    struct tu_http_opts o = {0};
    struct tu_http_resp t = {0};
    long st;

    SO_FMT(url, "https://127.0.0.1:%u/fhir/metadata", ad->port);
    o.ca_file = R.ca_crt;
    o.cert_file = R.fed_cert;
    o.key_file = R.fed_key;
    o.timeout_ms = 20000;
    (void)tu_http_request(url, &o, &t);
    st = t.status;
    snprintf(body, cap, "%s", t.body != NULL ? t.body : "");
    tu_http_resp_free(&t);
    return st;
}

START_TEST(adapter_refuses_a_revoked_gateway_certificate)
{
    struct adapter ad = {0};
    char srv_cert[SO_PATH];
    char srv_key[SO_PATH];
    char body[2048];
    char *db;
    char *url;
    FILE *f;

    so_region_make(&R, "ops-adapter", 1);
    ck_assert_int_eq(tu_ca((const char *[]){"server", R.ca, "hosp-a", NULL}, srv_cert,
                           sizeof(srv_cert), srv_key, sizeof(srv_key)),
                     0);
    db = pt_create_db("adapter");
    ck_assert_ptr_nonnull(db);
    url = pt_url(db, "postgres");
    setenv("SO_ADAPTER_DB", url, 1);
    SO_FMT(ad.conf, "%s/adapter.conf", R.dir);
    SO_FMT(ad.log, "%s/adapter.log", R.dir);
    f = fopen(ad.conf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "[adapter]\nmember_id = hosp-a\nname = \"Hospital A\"\n"
            "public_url = https://127.0.0.1:9/fhir\nstate_dir = %s/adapter-state\n"
            "log_level = warn\n"
            "[http]\nlisten = 127.0.0.1:0\ncert = %s\nkey = %s\nclient_ca = %s\n"
            "client_crl = %s/crl.pem\ngateway_cn = gateway\n"
            "[database]\nurl = env:SO_ADAPTER_DB\n"
            "[mllp]\nenabled = false\n"
            "[hl7v2]\nsystem_base = https://hosp-a.example/sid\n",
            R.dir, srv_cert, srv_key, R.ca_crt, R.ca);
    fclose(f);

    adapter_start(&ad);
    ck_assert_int_eq(facade_metadata(&ad, body, sizeof(body)), 200);
    ck_assert_ptr_nonnull(strstr(body, "CapabilityStatement"));

    /* The gateway's client certificate is revoked; the adapter reads the new CRL when it
     * restarts (no hot reload) and refuses the gateway from then on. */
    so_must((const char *[]){so_src("deploy/ca.sh"), "revoke", R.ca, "gateway", NULL});
    adapter_stop(&ad);
    adapter_start(&ad);
    ck_assert_int_eq(facade_metadata(&ad, body, sizeof(body)), 403);
    ck_assert_msg(strstr(body, "revoked") != NULL, "%s", body);

    adapter_stop(&ad);
    free(url);
    free(db);
    so_region_free(&R);
}
END_TEST

Suite *
deploy_ops_suite(void)
{
    Suite *s = suite_create("deploy_ops");
    TCase *tc = tcase_create("ops");

    tcase_set_timeout(tc, 180);
    tcase_add_unchecked_fixture(tc, so_reap_setup, so_reap);
    tcase_add_test(tc, token_signing_key_rotation_in_three_steps_across_two_nodes);
    tcase_add_test(tc, member_certificate_issue_renew_revoke);
    tcase_add_test(tc, adapter_refuses_a_revoked_gateway_certificate);
    suite_add_tcase(s, tc);
    return s;
}
