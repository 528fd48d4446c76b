/*
 * Optional TLS for the MLLP listener (OpenSSL, non-blocking).  TLS 1.2 is
 * the floor; with a CA file, clients must present a certificate it signed.
 */
#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "adapters/mllp/mllp_int.h"
#include "fhir/base/arena.h"

int
mllp_tls_ctx(const struct mllp_listener_cfg *cfg, SSL_CTX **out, struct base_err *err)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    const char *why = NULL;

    if (ctx == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "tls", "out of memory");
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
        why = "cannot require TLS 1.2";
    else if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert_file) != 1)
        why = "could not load the certificate file";
    else if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key_file, SSL_FILETYPE_PEM) != 1)
        why = "could not load the key file";
    else if (SSL_CTX_check_private_key(ctx) != 1)
        why = "key does not match the certificate";
    else if (cfg->tls_ca_file != NULL &&
             SSL_CTX_load_verify_locations(ctx, cfg->tls_ca_file, NULL) != 1)
        why = "could not load the CA file";
    if (why != NULL) {
        ERR_clear_error();
        SSL_CTX_free(ctx);
        return base_err_set(err, BASE_E_IO, "exception", "tls", "%s", why);
    }
    if (cfg->tls_ca_file != NULL)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    *out = ctx;
    return BASE_OK;
}

static void
remember_subject(struct conn *c)
{
    X509 *peer;
    char buf[256];

    if (c->subject != NULL || !SSL_is_init_finished(c->ssl))
        return;
    peer = SSL_get1_peer_certificate(c->ssl);
    if (peer == NULL)
        return;
    if (X509_NAME_oneline(X509_get_subject_name(peer), buf, sizeof(buf)) != NULL) {
        size_t n = strlen(buf);

        c->subject = base_malloc(n + 1);
        if (c->subject != NULL)
            memcpy(c->subject, buf, n + 1);
    }
    X509_free(peer);
}

static long
tls_result(struct mllp_listener *l, struct conn *c, int r)
{
    int e = SSL_get_error(c->ssl, r);

    c->tls_want_write = false;
    switch (e) {
    case SSL_ERROR_WANT_READ:
        return -1;
    case SSL_ERROR_WANT_WRITE:
        c->tls_want_write = true;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return -1;
        return 0; /* the peer went away without close_notify */
    default:
        ERR_clear_error();
        atomic_fetch_add(&l->st_errors, 1); /* handshake or record failure */
        return -2;
    }
}

long
mllp_tls_read(struct mllp_listener *l, struct conn *c, char *buf, size_t cap)
{
    int r = SSL_read(c->ssl, buf, cap > 0x7fffffff ? 0x7fffffff : (int)cap);

    remember_subject(c);
    if (r > 0)
        return r;
    return tls_result(l, c, r);
}

long
mllp_tls_write(struct mllp_listener *l, struct conn *c, const char *buf, size_t len)
{
    int r = SSL_write(c->ssl, buf, len > 0x7fffffff ? 0x7fffffff : (int)len);

    if (r > 0) {
        c->tls_want_write = false;
        return r;
    }
    return tls_result(l, c, r);
}
