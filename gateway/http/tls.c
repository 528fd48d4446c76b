/*
 * TLS material and client certificates.
 *
 * MHD_OPTION_HTTPS_MEM_TRUST only makes GnuTLS *request* a client
 * certificate (GNUTLS_CERT_REQUEST); the handshake succeeds without one or
 * with a foreign one.  So every connection is checked here, once, on its
 * first request: chain to the region CA, validity period, the clientAuth
 * key purpose (gnutls_certificate_verify_peers2 alone does not check it),
 * and the CRL when one is configured.
 */
#include <stdio.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/conf.h"
#include "gateway/http/gw_http_int.h"

static int
read_pem(struct gw_http_server *s, const char *path, const char *what, char **out, size_t *len,
         struct base_err *err)
{
    *out = NULL;
    if (path == NULL)
        return base_err_set(err, BASE_E_INVALID, "invalid", what, "%s is required for HTTPS",
                            what);
    return base_conf_read_file(s->arena, path, 1u << 20, what, what, out, len, err);
}

/* Import the CRLs and keep those signed by the configured CA. */
static int
load_crls(struct gw_http_server *s, struct base_err *err)
{
    gnutls_x509_crt_t *cas = NULL;
    unsigned ca_count = 0;
    gnutls_datum_t d;
    char *pem;
    size_t len;
    int rc = BASE_OK;

    TRY(read_pem(s, s->cfg->client_crl_file, "client_crl", &pem, &len, err));
    d.data = (unsigned char *)pem;
    d.size = (unsigned)len;
    if (gnutls_x509_crl_list_import2(&s->crls, &s->crl_count, &d, GNUTLS_X509_FMT_PEM, 0) < 0)
        return base_err_set(err, BASE_E_INVALID, "invalid", "client_crl", "could not parse CRL");
    d.data = (unsigned char *)s->ca_pem;
    d.size = (unsigned)strlen(s->ca_pem);
    if (gnutls_x509_crt_list_import2(&cas, &ca_count, &d, GNUTLS_X509_FMT_PEM, 0) < 0)
        return base_err_set(err, BASE_E_INVALID, "invalid", "client_ca",
                            "could not parse the client CA");
    for (unsigned i = 0; i < s->crl_count && rc == BASE_OK; i++) {
        unsigned status = 0;

        if (gnutls_x509_crl_verify(s->crls[i], cas, ca_count, 0, &status) < 0 || status != 0)
            rc = base_err_set(err, BASE_E_INVALID, "invalid", "client_crl",
                              "CRL is not signed by the client CA");
    }
    for (unsigned i = 0; i < ca_count; i++)
        gnutls_x509_crt_deinit(cas[i]);
    gnutls_free(cas);
    return rc;
}

int
gw_http__tls_load(struct gw_http_server *s, struct base_err *err)
{
    const struct gw_http_config *c = s->cfg;

    if (!s->tls)
        return BASE_OK;
    TRY(read_pem(s, c->cert_file, "cert", &s->cert_pem, NULL, err));
    TRY(read_pem(s, c->key_file, "key", &s->key_pem, &s->key_pem_len, err));
    if (c->client_auth == GW_HTTP_CLIENT_AUTH_NONE)
        return BASE_OK;
    TRY(read_pem(s, c->client_ca_file, "client_ca", &s->ca_pem, NULL, err));
    if (c->client_crl_file != NULL)
        TRY(load_crls(s, err));
    return BASE_OK;
}

void
gw_http__tls_free(struct gw_http_server *s)
{
    for (unsigned i = 0; i < s->crl_count; i++)
        gnutls_x509_crl_deinit(s->crls[i]);
    gnutls_free(s->crls);
    s->crls = NULL;
    s->crl_count = 0;
    if (s->key_pem != NULL)
        explicit_bzero(s->key_pem, s->key_pem_len);
}

static const char *
reason_for(unsigned st)
{
    if (st & GNUTLS_CERT_SIGNER_NOT_FOUND)
        return "unknown issuer";
    if (st & GNUTLS_CERT_REVOKED)
        return "revoked";
    if (st & GNUTLS_CERT_EXPIRED)
        return "expired";
    if (st & GNUTLS_CERT_NOT_ACTIVATED)
        return "not yet valid";
    if (st & GNUTLS_CERT_PURPOSE_MISMATCH)
        return "not issued for client authentication";
    if (st & GNUTLS_CERT_SIGNER_NOT_CA)
        return "issuer is not a CA";
    if (st & GNUTLS_CERT_INSECURE_ALGORITHM)
        return "insecure algorithm";
    if (st & GNUTLS_CERT_SIGNATURE_FAILURE)
        return "bad signature";
    return "not trusted";
}

/* A DN attribute (first value) into buf; empty when absent. */
static void
dn_attr(gnutls_x509_crt_t crt, const char *oid, char *buf, size_t cap)
{
    size_t n = cap;

    buf[0] = '\0';
    if (gnutls_x509_crt_get_dn_by_oid(crt, oid, 0, 0, buf, &n) < 0)
        buf[0] = '\0';
}

struct cert_text {
    char cn[256];
    char o[256];
    gnutls_datum_t dn;
    gnutls_datum_t issuer;
};

/* Lay the identity strings out in one heap block owned by the connection. */
static void
store_strings(struct gw_http_conn *cc, const struct cert_text *t)
{
    size_t n_cn = strlen(t->cn) + 1;
    size_t n_o = strlen(t->o) + 1;
    size_t n_dn = t->dn.size + 1u;
    size_t n_is = t->issuer.size + 1u;
    char *p = base_malloc(n_cn + n_o + n_dn + n_is);

    if (p == NULL)
        return; /* identity without names: handlers still see the verdict */
    cc->client_mem = p;
    memcpy(p, t->cn, n_cn);
    cc->client.subject_cn = t->cn[0] != '\0' ? p : NULL;
    p += n_cn;
    memcpy(p, t->o, n_o);
    cc->client.subject_o = t->o[0] != '\0' ? p : NULL;
    p += n_o;
    if (t->dn.data != NULL)
        memcpy(p, t->dn.data, t->dn.size);
    p[t->dn.size] = '\0';
    cc->client.subject_dn = t->dn.size > 0 ? p : NULL;
    p += n_dn;
    if (t->issuer.data != NULL)
        memcpy(p, t->issuer.data, t->issuer.size);
    p[t->issuer.size] = '\0';
    cc->client.issuer_dn = t->issuer.size > 0 ? p : NULL;
}

static void
describe(struct gw_http_conn *cc, const gnutls_datum_t *der)
{
    static const char hex[] = "0123456789abcdef";
    struct cert_text t = {0};
    unsigned char fp[32];
    size_t fp_len = sizeof(fp);
    gnutls_x509_crt_t crt;

    if (gnutls_x509_crt_init(&crt) < 0)
        return;
    if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) < 0) {
        gnutls_x509_crt_deinit(crt);
        return;
    }
    if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &fp_len) >= 0 &&
        fp_len == sizeof(fp)) {
        for (size_t i = 0; i < fp_len; i++) {
            cc->client.sha256[2 * i] = hex[fp[i] >> 4];
            cc->client.sha256[2 * i + 1] = hex[fp[i] & 15];
        }
        cc->client.sha256[64] = '\0';
    }
    dn_attr(crt, GNUTLS_OID_X520_COMMON_NAME, t.cn, sizeof(t.cn));
    dn_attr(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, t.o, sizeof(t.o));
    if (gnutls_x509_crt_get_dn3(crt, &t.dn, 0) < 0)
        t.dn = (gnutls_datum_t){NULL, 0};
    if (gnutls_x509_crt_get_issuer_dn3(crt, &t.issuer, 0) < 0)
        t.issuer = (gnutls_datum_t){NULL, 0};
    store_strings(cc, &t);
    gnutls_free(t.dn.data);
    gnutls_free(t.issuer.data);
    gnutls_x509_crt_deinit(crt);
}

static bool
revoked(struct gw_http_server *s, const gnutls_datum_t *der)
{
    gnutls_x509_crt_t crt;
    bool r = false;

    if (s->crl_count == 0 || gnutls_x509_crt_init(&crt) < 0)
        return false;
    if (gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) >= 0)
        r = gnutls_x509_crt_check_revocation(crt, s->crls, s->crl_count) == 1;
    gnutls_x509_crt_deinit(crt);
    return r;
}

void
gw_http__tls_identify(struct gw_http_server *s, struct MHD_Connection *conn,
                      struct gw_http_conn *cc)
{
    gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
                                     (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0};
    const union MHD_ConnectionInfo *ci;
    const gnutls_datum_t *peers;
    gnutls_session_t ss;
    unsigned n = 0;
    unsigned status = 0;

    cc->tls_checked = true;
    if (!s->tls || s->cfg->client_auth == GW_HTTP_CLIENT_AUTH_NONE)
        return;
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (ci == NULL || ci->tls_session == NULL) {
        cc->client.reason = "no TLS session";
        return;
    }
    ss = (gnutls_session_t)ci->tls_session;
    peers = gnutls_certificate_get_peers(ss, &n);
    if (peers == NULL || n == 0) {
        cc->client.reason = "no client certificate";
        return;
    }
    cc->client.present = true;
    describe(cc, &peers[0]);
    if (gnutls_certificate_verify_peers(ss, &purpose, 1, &status) < 0)
        status = GNUTLS_CERT_INVALID;
    if (status == 0 && revoked(s, &peers[0]))
        status = GNUTLS_CERT_INVALID | GNUTLS_CERT_REVOKED;
    cc->client.tls_status = status;
    cc->client.verified = status == 0;
    cc->client.reason = status == 0 ? NULL : reason_for(status);
}

static const char *
dup_or_null(struct base_arena *a, const char *s, bool *failed)
{
    const char *d;

    if (s == NULL)
        return NULL;
    d = base_arena_strdup(a, s);
    *failed |= d == NULL;
    return d;
}

int
gw_http__client_copy(struct gw_http_req *r, const struct gw_http_client *src)
{
    bool failed = false;

    r->client = *src;
    r->client.subject_cn = dup_or_null(r->arena, src->subject_cn, &failed);
    r->client.subject_o = dup_or_null(r->arena, src->subject_o, &failed);
    r->client.subject_dn = dup_or_null(r->arena, src->subject_dn, &failed);
    r->client.issuer_dn = dup_or_null(r->arena, src->issuer_dn, &failed);
    return failed ? BASE_E_NOMEM : BASE_OK;
}
