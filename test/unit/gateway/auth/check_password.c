/* Password hashing: round trips, wrong passwords, self-describing format,
 * parameter upgrade, refusal of unreadable stored hashes, policy. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "gateway/auth/gw_auth.h"

/* Small scrypt parameters keep the tests fast; one test uses the defaults. */
static const struct gw_auth_pw_params fast = {
    .alg = GW_AUTH_PW_SCRYPT, .log2_n = 10, .r = 8, .p = 1, .iterations = 0};

static bool
verify(const char *pw, const char *hash)
{
    bool match = true;

    ck_assert_int_eq(gw_auth_password_verify(pw, strlen(pw), hash, &match, NULL), BASE_OK);
    return match;
}

START_TEST(scrypt_round_trip)
{
    char h1[GW_AUTH_PW_HASH_MAX];
    char h2[GW_AUTH_PW_HASH_MAX];
    const char *pw = "correct horse battery staple";

    ck_assert_int_eq(gw_auth_password_hash(pw, strlen(pw), &fast, h1, sizeof(h1), NULL), BASE_OK);
    ck_assert_int_eq(gw_auth_password_hash(pw, strlen(pw), &fast, h2, sizeof(h2), NULL), BASE_OK);
    ck_assert_ptr_nonnull(strstr(h1, "$scrypt$ln=10,r=8,p=1$"));
    ck_assert_str_ne(h1, h2); /* random salt */
    ck_assert(verify(pw, h1));
    ck_assert(verify(pw, h2));
    ck_assert(!verify("correct horse battery stapl", h1));
    ck_assert(!verify("Correct horse battery staple", h1));
    ck_assert(!verify("", h1));
    ck_assert_ptr_null(strstr(h1, "horse"));
}
END_TEST

START_TEST(default_parameters_round_trip)
{
    struct gw_auth_pw_params p;
    char h[GW_AUTH_PW_HASH_MAX];

    gw_auth_pw_params_default(&p);
    ck_assert_int_eq(p.alg, GW_AUTH_PW_SCRYPT);
    ck_assert_int_eq(gw_auth_password_hash("hospital-pass-1", 15, &p, h, sizeof(h), NULL), BASE_OK);
    ck_assert_ptr_nonnull(strstr(h, "$scrypt$ln=15,r=8,p=3$"));
    ck_assert(verify("hospital-pass-1", h));
    ck_assert(!gw_auth_password_needs_rehash(h, &p));
}
END_TEST

START_TEST(pbkdf2_round_trip_and_minimum)
{
    struct gw_auth_pw_params p = {.alg = GW_AUTH_PW_PBKDF2, .iterations = 600000};
    struct gw_auth_pw_params weak = {.alg = GW_AUTH_PW_PBKDF2, .iterations = 100000};
    char h[GW_AUTH_PW_HASH_MAX];
    struct base_err err = {0};

    ck_assert_int_eq(gw_auth_password_hash("pbkdf2 password", 15, &p, h, sizeof(h), NULL), BASE_OK);
    ck_assert_ptr_nonnull(strstr(h, "$pbkdf2-sha256$i=600000$"));
    ck_assert(verify("pbkdf2 password", h));
    ck_assert(!verify("pbkdf2 passwore", h));
    ck_assert_int_eq(gw_auth_password_hash("x", 1, &weak, h, sizeof(h), &err), BASE_E_INVALID);
}
END_TEST

/* PHC B64: standard alphabet, no padding. */
static void
b64(const unsigned char *in, size_t n, char *out)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned acc = 0;
    int bits = 0;

    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8 | in[i]) & 0xffffu;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            *out++ = al[(acc >> bits) & 63];
        }
    }
    if (bits > 0)
        *out++ = al[(acc << (6 - bits)) & 63];
    *out = '\0';
}

START_TEST(verifies_hash_made_elsewhere_and_asks_for_upgrade)
{
    /* An old PBKDF2 hash with few iterations, computed independently. */
    const unsigned char salt[16] = "0123456789abcdef";
    unsigned char dk[32];
    char s64[32];
    char d64[64];
    char enc[GW_AUTH_PW_HASH_MAX];
    struct gw_auth_pw_params cur;

    ck_assert_int_eq(PKCS5_PBKDF2_HMAC("legacy-password", 15, salt, 16, 1000, EVP_sha256(), 32, dk),
                     1);
    b64(salt, 16, s64);
    b64(dk, 32, d64);
    snprintf(enc, sizeof(enc), "$pbkdf2-sha256$i=1000$%s$%s", s64, d64);
    ck_assert(verify("legacy-password", enc));
    ck_assert(!verify("legacy-passworD", enc));
    gw_auth_pw_params_default(&cur);
    ck_assert(gw_auth_password_needs_rehash(enc, &cur));
    cur.alg = GW_AUTH_PW_PBKDF2;
    ck_assert(gw_auth_password_needs_rehash(enc, &cur));
    cur.iterations = 1000;
    ck_assert(!gw_auth_password_needs_rehash(enc, &cur));
}
END_TEST

START_TEST(needs_rehash_when_parameters_rise)
{
    char h[GW_AUTH_PW_HASH_MAX];
    struct gw_auth_pw_params more = fast;

    ck_assert_int_eq(gw_auth_password_hash("some password", 13, &fast, h, sizeof(h), NULL),
                     BASE_OK);
    ck_assert(!gw_auth_password_needs_rehash(h, &fast));
    more.log2_n = 11;
    ck_assert(gw_auth_password_needs_rehash(h, &more));
    more = fast;
    more.p = 2;
    ck_assert(gw_auth_password_needs_rehash(h, &more));
    ck_assert(gw_auth_password_needs_rehash("garbage", &fast));
}
END_TEST

START_TEST(refuses_unreadable_stored_hashes)
{
    static const char *const bad[] = {
        "",
        "plaintext",
        "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ$",                        /* no hash */
        "$scrypt$ln=10,r=8,p=1$$aGFzaGhhc2hoYXNoaGFzaA",             /* no salt */
        "$scrypt$ln=30,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",  /* 2^30: too much memory */
        "$scrypt$ln=20,r=32,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", /* 128*r*N > 256 MiB */
        "$scrypt$ln=10,r=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=10,r=8,p=99$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$scrypt$ln=010,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",  /* leading zero */
        "$scrypt$r=8,ln=10,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",   /* order */
        "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA",  /* padding */
        "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA$x", /* trailing */
        "$pbkdf2-sha256$i=99$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",     /* too few */
        "$pbkdf2-sha256$i=99999999999$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$pbkdf2-sha512$i=1000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", /* unknown alg */
        "$scrypt$ln=10,r=8,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",      /* salt < 8 bytes */
        "$scrypt$ln=10,r=8,p=1$c2FsdHNhbHQ$aGFzaA",                 /* hash < 16 bytes */
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct base_err err = {0};
        bool match = true;

        ck_assert_msg(gw_auth_password_verify("pw", 2, bad[i], &match, &err) == BASE_E_INVALID,
                      "case %zu accepted", i);
        ck_assert(!match);
        ck_assert_str_eq(err.msg, "stored password hash is not readable");
    }
    {
        bool match = true;

        ck_assert_int_eq(gw_auth_password_verify("pw", 2, NULL, &match, NULL), BASE_E_INVALID);
    }
}
END_TEST

START_TEST(hash_refuses_bad_parameters)
{
    struct gw_auth_pw_params p = fast;
    char h[GW_AUTH_PW_HASH_MAX];

    p.log2_n = 25;
    ck_assert_int_eq(gw_auth_password_hash("x", 1, &p, h, sizeof(h), NULL), BASE_E_INVALID);
    p = fast;
    p.alg = 0;
    ck_assert_int_eq(gw_auth_password_hash("x", 1, &p, h, sizeof(h), NULL), BASE_E_INVALID);
    ck_assert_int_eq(gw_auth_password_hash("x", 1, &fast, h, 20, NULL), BASE_E_LIMIT);
}
END_TEST

START_TEST(policy)
{
    struct base_err err = {0};
    char longpw[BASE_LIMIT_AUTH_MAX_PASSWORD + 2];

    ck_assert_int_eq(gw_auth_password_check_policy("twelve chars", 12, "alice", NULL), BASE_OK);
    ck_assert_int_eq(gw_auth_password_check_policy("eleven char", 11, "alice", &err),
                     BASE_E_INVALID);
    ck_assert_str_eq(err.msg, "password must have at least 12 characters");
    base_err_clear(&err);
    /* 12 characters counted as code points: 6 Chinese characters are 18 bytes */
    ck_assert_int_eq(gw_auth_password_check_policy("医院医院医院", 18, NULL, &err), BASE_E_INVALID);
    base_err_clear(&err);
    ck_assert_int_eq(gw_auth_password_check_policy("医院医院医院医院医院医院", 36, NULL, &err),
                     BASE_OK);
    ck_assert_int_eq(gw_auth_password_check_policy("tab\there-long", 13, NULL, &err),
                     BASE_E_INVALID);
    ck_assert_str_eq(err.msg, "password contains control characters");
    base_err_clear(&err);
    ck_assert_int_eq(gw_auth_password_check_policy("\xff\xfe-not-utf8-x", 14, NULL, &err),
                     BASE_E_INVALID);
    base_err_clear(&err);
    ck_assert_int_eq(gw_auth_password_check_policy("Dr.Wang.Example", 15, "dr.wang.example", &err),
                     BASE_E_INVALID);
    ck_assert_str_eq(err.msg, "password must differ from the user name");
    base_err_clear(&err);
    memset(longpw, 'a', sizeof(longpw));
    ck_assert_int_eq(gw_auth_password_check_policy(longpw, sizeof(longpw), NULL, &err),
                     BASE_E_INVALID);
}
END_TEST

START_TEST(dummy_verify_runs)
{
    /* Only that it neither crashes nor accepts anything. */
    gw_auth_password_dummy_verify("whatever", 8, &fast);
}
END_TEST

Suite *gw_auth_password_suite(void)
{
    Suite *s = suite_create("gw_auth_password");
    TCase *tc = tcase_create("password");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, scrypt_round_trip);
    tcase_add_test(tc, default_parameters_round_trip);
    tcase_add_test(tc, pbkdf2_round_trip_and_minimum);
    tcase_add_test(tc, verifies_hash_made_elsewhere_and_asks_for_upgrade);
    tcase_add_test(tc, needs_rehash_when_parameters_rise);
    tcase_add_test(tc, refuses_unreadable_stored_hashes);
    tcase_add_test(tc, hash_refuses_bad_parameters);
    tcase_add_test(tc, policy);
    tcase_add_test(tc, dummy_verify_runs);
    suite_add_tcase(s, tc);
    return s;
}
