/*
 * test/support/tu_http.h — HTTP(S) clients for tests (libcurl), raw TCP
 * sockets for misbehaving clients, and a throwaway certificate authority
 * made with deploy/ca.sh.
 */
#ifndef TEST_SUPPORT_TU_HTTP_H
#define TEST_SUPPORT_TU_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct tu_http_opts {
    const char *method;           /* NULL: GET, or POST when body != NULL */
    const char *body;             /* request body (NULL: none) */
    size_t body_len;
    bool chunked;                 /* send the body chunked (no Content-Length) */
    const char *const *headers;   /* NULL-terminated "Name: value" lines */
    const char *ca_file;          /* trust this CA (HTTPS); NULL: no verification possible */
    const char *cert_file;        /* client certificate (mTLS) */
    const char *key_file;
    long tls_min;                 /* CURL_SSLVERSION_TLSv1_x, 0 = default */
    long tls_max;                 /* CURL_SSLVERSION_MAX_TLSv1_x, 0 = default */
    const char *ciphers;          /* OpenSSL cipher list ("DEFAULT@SECLEVEL=0" for old TLS) */
    long timeout_ms;              /* 0 = 10 s */
    bool path_as_is;              /* send "/../x" without curl normalising it */
};

struct tu_http_resp {
    long status;           /* 0 when the transfer failed */
    int curl_code;         /* CURLcode */
    char error[256];       /* curl's message when it failed */
    char *headers;         /* raw response header block (malloc) */
    char *body;            /* malloc, NUL-terminated */
    size_t body_len;
    char tls_version[16];  /* "TLSv1.3", or "" */
    long connects;         /* new connections this transfer opened */
};

/* One request; resp must be freed with tu_http_resp_free().  Returns the
 * CURLcode (0 on a completed exchange, whatever the status). */
int tu_http_request(const char *url, const struct tu_http_opts *o, struct tu_http_resp *resp);
void tu_http_resp_free(struct tu_http_resp *r);
/* First value of a response header (case-insensitive), copied into buf;
 * NULL when absent. */
const char *tu_http_header(const struct tu_http_resp *r, const char *name, char *buf, size_t cap);

/* A reusable client: requests share one connection when the server keeps
 * it alive. */
struct tu_http_client;
struct tu_http_client *tu_http_client_new(void);
int tu_http_client_request(struct tu_http_client *c, const char *url, const struct tu_http_opts *o,
                           struct tu_http_resp *resp);
void tu_http_client_free(struct tu_http_client *c);

/* Raw TCP to 127.0.0.1:port (blocking); -1 on failure. */
int tu_tcp_connect(unsigned port);
/* Wait up to timeout_ms for the peer to close: true when read() gives EOF
 * or a reset (data read meanwhile is discarded). */
bool tu_tcp_wait_closed(int fd, long timeout_ms);

/* A scratch directory for this test: $FHIRGATE_TEST_TMP/<name>, else under
 * /tmp.  Returns a static per-thread path. */
const char *tu_tmpdir(const char *name);

/* A throwaway PKI made by deploy/ca.sh in tu_tmpdir(name). */
struct tu_pki {
    char dir[512];
    char ca[600];
    char crl[600];
    char server_cert[600]; /* CN=localhost, SAN IP:127.0.0.1 */
    char server_key[600];
    char client_cert[600]; /* CN=hospital-a.example, O=Hospital A, clientAuth */
    char client_key[600];
};

/* Init the CA and issue the server and client certificates; 0 on success. */
int tu_pki_make(const char *name, struct tu_pki *out);

/* Run deploy/ca.sh with argv (NULL-terminated, without the script name);
 * the "cert: " and "key: " paths it prints are copied out (may be NULL).
 * Returns the exit status. */
int tu_ca(const char *const *argv, char *cert, size_t cert_cap, char *key, size_t key_cap);

#endif /* TEST_SUPPORT_TU_HTTP_H */
