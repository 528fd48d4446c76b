/*
 * test/support/tu_member.h — test member hospitals for the federation
 * tests: a throwaway PKI (region CA, a foreign CA, server, expired and
 * client certificates) and an in-process HTTPS server (OpenSSL, one thread,
 * poll) that plays any number of members, each on its own port, each able
 * to misbehave on command.  Real TLS with real certificates; members
 * require the gateway's client certificate (mTLS) as adapters do.
 */
#ifndef TEST_SUPPORT_TU_MEMBER_H
#define TEST_SUPPORT_TU_MEMBER_H

#include <stdbool.h>
#include <stddef.h>

struct tu_member_pki {
    char dir[512];
    char ca[600]; /* region CA certificate */
    char ca_key[600];
    char server_cert[600]; /* region-issued, CN=127.0.0.1, SAN IP:127.0.0.1 DNS:localhost */
    char server_key[600];
    char other_cert[600]; /* the same, issued by another CA */
    char other_key[600];
    char expired_cert[600]; /* region-issued, expired yesterday */
    char expired_key[600];
    char client_cert[600]; /* CN=gateway, clientAuth: the gateway's */
    char client_key[600];
};

/* Make the PKI in a new scratch directory (under $FHIRGATE_TEST_TMP, else
 * /tmp); 0 on success.  tu_member_pki_remove() deletes it. */
int tu_member_pki_make(struct tu_member_pki *out);
void tu_member_pki_remove(const struct tu_member_pki *pki);

/* An Observation as JSON text (malloc): id, effectiveDateTime, and an
 * identifier system|value when `ident_system` is not NULL. */
char *tu_member_obs(const char *id, const char *date, const char *ident_system,
                    const char *ident_value);

enum tu_member_mode {
    TU_MEMBER_SERVE,       /* answer `status` with the body (after delay_ms) */
    TU_MEMBER_SILENT,      /* complete TLS, read the request, never answer */
    TU_MEMBER_SLOW,        /* answer one byte every delay_ms */
    TU_MEMBER_CLOSE_MID,   /* announce the full length, send half, close */
    TU_MEMBER_RESET_FIRST, /* reset (RST) the first connection, then serve */
    TU_MEMBER_RESET_ALWAYS /* reset every connection after reading the request */
};

struct tu_member_spec {
    const char *id;
    enum tu_member_mode mode;
    int status;                 /* 0: 200 */
    const char *body;           /* fixed answer (NUL-terminated); NULL: from entries */
    const char *const *entries; /* resources (JSON text) served as a searchset that
                                   honours _count and _offset */
    size_t n_entries;
    bool links_only;  /* ignore _offset: page with its own next links */
    bool no_total;    /* leave Bundle.total out */
    const char *cert; /* server certificate; NULL: pki->server_cert */
    const char *key;
    unsigned delay_ms;
};

struct tu_members;

/* Start one server thread playing `n` members.  NULL on failure. */
struct tu_members *tu_members_start(const struct tu_member_pki *pki,
                                    const struct tu_member_spec *specs, size_t n);
void tu_members_stop(struct tu_members *m);
unsigned tu_members_port(const struct tu_members *m, size_t i);
/* "https://127.0.0.1:PORT/fhir" of member i (static per-thread buffer). */
const char *tu_members_base(const struct tu_members *m, size_t i);
unsigned long tu_members_requests(const struct tu_members *m, size_t i);
unsigned long tu_members_connections(const struct tu_members *m, size_t i);
/* The last request line and Accept header member i saw ("" when none). */
void tu_members_last(const struct tu_members *m, size_t i, char *line, size_t line_cap,
                     char *accept, size_t accept_cap);

/* Change member i's behaviour (from the test thread, while serving). */
void tu_members_set_mode(struct tu_members *m, size_t i, enum tu_member_mode mode, int status);

/* A loopback port that refuses connections (bound, then closed). */
unsigned tu_member_closed_port(void);
/* A host that is up but never speaks: a listening socket nobody accepts
 * from (the kernel completes TCP, no TLS ever answers).  *fd is closed by
 * the caller. */
unsigned tu_member_blackhole_port(int *fd);

#endif /* TEST_SUPPORT_TU_MEMBER_H */
