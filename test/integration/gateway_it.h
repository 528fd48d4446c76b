/*
 * test/integration/gateway_it.h — everything the gateway suites share
 * (static helpers, header only): a region PKI, test member hospitals
 * (real HTTPS servers on gateway/http that require the gateway's client
 * certificate and serve FHIR from fixed data), the real
 * bin/fhirgate-gateway started on a private database, users, tokens and
 * HTTPS requests.
 *
 * Members misbehave by fixed mode, only on clinical searches (their
 * /metadata and /Patient stay correct so the MPI pull still links them):
 * slow past the deadline, 500, invalid JSON.  A member with a certificate
 * of another CA, and one that is down, get their identities seeded into
 * the MPI directly.
 */
#ifndef TEST_INTEGRATION_GATEWAY_IT_H
#define TEST_INTEGRATION_GATEWAY_IT_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "fhir/json/fhir_json.h"
#include "fhir/summary/fhir_summary.h"
#include "gateway/audit/gw_audit.h"
#include "gateway/auth/gw_auth.h"
#include "gateway/auth/gw_auth_store.h"
#include "gateway/http/gw_http.h"
#include "gateway/mpi/gw_mpi.h"
#include "test/support/pgtest.h"
#include "test/support/testutil.h"
#include "test/support/tu_fhircheck.h"
#include "test/support/tu_http.h"

/* ------------------------------------------------------------ members -- */

enum git_mode {
    GIT_OK,
    GIT_SLOW,    /* clinical searches answer after 2.5 s (deadline 1.5 s) */
    GIT_500,     /* clinical searches answer 500 */
    GIT_BADJSON, /* clinical searches answer broken JSON */
    GIT_FOREIGN, /* server certificate from another CA */
    GIT_DOWN     /* nothing listens */
};

#define GIT_MAX_PATIENTS 4

struct git_member {
    const char *id;
    const char *name;
    enum git_mode mode;
    const char *patients[GIT_MAX_PATIENTS]; /* persons held: "p1", "p2", … */
    const char *serves; /* types its CapabilityStatement lists (space separated); NULL: none */
    struct gw_http_server *srv;
    struct gw_http_route routes[4];
    struct gw_http_config cfg;
    unsigned port;
    char base[80];
};

/* Resident identity number of person "pN": 1980-01-01, sequence N. */
static inline void
git_resid(const char *person, char out[19])
{
    char d17[18];

    snprintf(d17, sizeof(d17), "11010519800101%03d", (int)strtol(person + 1, NULL, 10));
    snprintf(out, 19, "%s%c", d17, gw_mpi_resid_check_char(d17));
}

static inline json_t *
git_patient(const struct git_member *m, const char *person)
{
    char resid[19];
    char sys[96];
    char id[64];
    char mrn[96];

    git_resid(person, resid);
    snprintf(sys, sizeof(sys), "urn:fhirgate:test:%s:mrn", m->id);
    snprintf(id, sizeof(id), "%s-%s", person, m->id);
    snprintf(mrn, sizeof(mrn), "MRN-%s", id);
    return json_pack("{s:s, s:s, s:{s:s, s:s}, s:[{s:{s:[{s:s, s:s}]}, s:s, s:s}, {s:s, s:s}], "
                     "s:[{s:s, s:[s]}], s:s, s:s}",
                     "resourceType", "Patient", "id", id, "meta", "versionId", "1", "lastUpdated",
                     "2026-01-01T00:00:00Z", "identifier", "type", "coding", "system",
                     "http://terminology.hl7.org/CodeSystem/v2-0203", "code", "MR", "system", sys,
                     "value", mrn, "system", GW_MPI_RESID_SYSTEM, "value", resid, "name", "family",
                     "Zhang", "given", "San", "gender", "male", "birthDate", "1980-01-01");
}

/* git_patient with an address, for p1 only (the PDQm address tests). */
static inline json_t *
git_patient_addr(const struct git_member *m, const char *person)
{
    json_t *pt = git_patient(m, person);

    if (pt != NULL && strcmp(person, "p1") == 0)
        json_object_set_new(pt, "address",
                            json_pack("[{s:[s], s:s, s:s, s:s, s:s}]", "line", "历下区泉城路 1 号",
                                      "city", "济南市", "state", "山东省", "postalCode", "250000",
                                      "country", "CN"));
    if (pt != NULL && strcmp(person, "p1") == 0)
        json_object_set_new(
            pt, "extension",
            json_pack("[{s:s, s:s}]", "url",
                      "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName",
                      "valueString", "Li"));
    return pt;
}

static inline json_t *
git_observation(const struct git_member *m, const char *local, int n)
{
    char id[96];
    char ref[96];
    char when[32];
    json_t *o;

    snprintf(id, sizeof(id), "obs-%s-%d", local, n);
    snprintf(ref, sizeof(ref), "Patient/%s", local);
    snprintf(when, sizeof(when), "2026-0%d-1%dT08:00:00Z", n, (int)(m->id[5] - 'a'));
    o = json_pack("{s:s, s:s, s:{s:s}, s:s, s:{s:[{s:s, s:s}]}, s:{s:s}, s:s, s:{s:f, s:s, "
                  "s:s, s:s}}",
                  "resourceType", "Observation", "id", id, "meta", "versionId", "3", "status",
                  "final", "code", "coding", "system", "http://loinc.org", "code", "2345-7",
                  "subject", "reference", ref, "effectiveDateTime", when, "valueQuantity",
                  "value", 5.5 + n, "unit", "mmol/L", "system", "http://unitsofmeasure.org",
                  "code", "mmol/L");
    /* The second Observation of hosp-b is mental-health data (v3 PSY). */
    if (o != NULL && n == 2 && strcmp(m->id, "hosp-b") == 0)
        json_object_set_new(json_object_get(o, "meta"), "security",
                            json_pack("[{s:s, s:s}]", "system",
                                      "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code",
                                      "PSY"));
    return o;
}

static inline void
git_send(struct gw_http_req *r, json_t *v)
{
    struct base_arena *a = gw_http_req_arena(r);
    char *text = fhir_json_dump_arena(v, FHIR_JSON_COMPACT, a, NULL);

    json_decref(v);
    if (text == NULL || gw_http_respond_nocopy(r, 200, "application/fhir+json", text,
                                               strlen(text)) != BASE_OK)
        return;
}

static inline json_t *
git_bundle(void)
{
    return json_pack("{s:s, s:s, s:[]}", "resourceType", "Bundle", "type", "searchset", "entry");
}

static inline void
git_add(json_t *b, const char *base, json_t *res)
{
    char url[256];

    snprintf(url, sizeof(url), "%s/%s/%s", base, json_string_value(json_object_get(res,
                                                                                   "resourceType")),
             json_string_value(json_object_get(res, "id")));
    json_array_append_new(json_object_get(b, "entry"),
                          json_pack("{s:s, s:o, s:{s:s}}", "fullUrl", url, "resource", res,
                                    "search", "mode", "match"));
}

static inline bool
git_holds(const struct git_member *m, const char *local, const char **person)
{
    for (size_t i = 0; i < GIT_MAX_PATIENTS && m->patients[i] != NULL; i++) {
        char id[64];

        snprintf(id, sizeof(id), "%s-%s", m->patients[i], m->id);
        if (strcmp(id, local) == 0) {
            *person = m->patients[i];
            return true;
        }
    }
    return false;
}

static inline void
git_h_metadata(struct gw_http_req *r, void *cls)
{
    const struct git_member *m = cls;
    json_t *cs = json_pack("{s:s, s:s, s:s, s:s}", "resourceType", "CapabilityStatement", "status",
                           "active", "kind", "instance", "fhirVersion", "4.0.1");

    if (m != NULL && m->serves != NULL) {
        json_t *list = json_array();
        char types[256];

        snprintf(types, sizeof(types), "%s", m->serves);
        for (char *save = NULL, *t = strtok_r(types, " ", &save); t != NULL;
             t = strtok_r(NULL, " ", &save))
            json_array_append_new(list, json_pack("{s:s, s:[{s:s}]}", "type", t, "interaction",
                                                  "code", "search-type"));
        json_object_set_new(cs, "rest",
                            json_pack("[{s:s, s:o}]", "mode", "server", "resource", list));
    }
    git_send(r, cs);
}

static inline void
git_h_patients(struct gw_http_req *r, void *cls)
{
    struct git_member *m = cls;
    json_t *b = git_bundle();

    for (size_t i = 0; i < GIT_MAX_PATIENTS && m->patients[i] != NULL; i++)
        git_add(b, m->base, git_patient_addr(m, m->patients[i]));
    json_object_set_new(b, "total", json_integer((json_int_t)json_array_size(
                                        json_object_get(b, "entry"))));
    git_send(r, b);
}

/* The fault modes apply to clinical data only. */
static inline bool
git_fault(struct gw_http_req *r, const struct git_member *m)
{
    static const char broken[] = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"entry\":[";

    switch (m->mode) {
    case GIT_SLOW:
        usleep(2500 * 1000);
        return false;
    case GIT_500:
        if (gw_http_respond_outcome(r, 500, "exception", NULL, "member failure") != BASE_OK)
            return true;
        return true;
    case GIT_BADJSON:
        if (gw_http_respond_nocopy(r, 200, "application/fhir+json", broken,
                                   sizeof(broken) - 1) != BASE_OK)
            return true;
        return true;
    case GIT_OK:
    case GIT_FOREIGN:
    case GIT_DOWN:
    default:
        return false;
    }
}

/* Each _revinclude=Provenance:PARAM the gateway passed on comes back as an
 * include entry Provenance/<member>-PARAM: proof of what was passed on. */
static inline void
git_echo_revincludes(struct gw_http_req *r, const struct git_member *m, json_t *b)
{
    for (size_t i = 0; i < gw_http_req_query_count(r); i++) {
        const struct gw_http_param *p = gw_http_req_query_at(r, i);
        char id[64];

        if (!base_str_eq_cstr(p->name, "_revinclude") || p->value.len <= 11 ||
            strncmp(p->value.ptr, "Provenance:", 11) != 0)
            continue;
        snprintf(id, sizeof(id), "%s-%.*s", m->id, (int)(p->value.len - 11), p->value.ptr + 11);
        json_array_append_new(json_object_get(b, "entry"),
                              json_pack("{s:{s:s, s:s, s:s, s:[{s:s}], s:[{s:{s:s}}]}, s:{s:s}}",
                                        "resource", "resourceType", "Provenance", "id", id,
                                        "recorded", "2024-01-01T00:00:00Z", "target", "reference",
                                        "Observation/x", "agent", "who", "reference",
                                        "Organization/x", "search", "mode", "include"));
    }
}

/* _summary=true|text, as a member does it (fhir/summary): proof that the
 * gateway passed it on. */
static inline void
git_summary(struct gw_http_req *r, json_t *b)
{
    struct base_str v;
    size_t i;
    json_t *e;

    if (!gw_http_req_query(r, "_summary", &v) ||
        (!base_str_eq_cstr(v, "true") && !base_str_eq_cstr(v, "text")))
        return;
    json_array_foreach(json_object_get(b, "entry"), i, e)
    {
        json_t *sub = NULL;

        ck_assert_int_eq(
            fhir_summary_subset(json_object_get(e, "resource"),
                                base_str_eq_cstr(v, "true") ? FHIR_SUMMARY_TRUE : FHIR_SUMMARY_TEXT,
                                &sub),
            BASE_OK);
        json_object_set_new(e, "resource", sub);
    }
}

/* GET /fhir/Observation?patient=Patient/<local>[,…]: the member's own ids
 * only — proof that the gateway substituted them. */
static inline void
git_h_search(struct gw_http_req *r, void *cls)
{
    struct git_member *m = cls;
    struct base_str type = gw_http_req_param(r, "type");
    struct base_str pat;
    json_t *b;

    if (git_fault(r, m))
        return;
    b = git_bundle();
    if (base_str_eq_cstr(type, "Observation") && gw_http_req_query(r, "patient", &pat)) {
        struct base_str sort;
        bool newest_first = gw_http_req_query(r, "_sort", &sort) && base_str_eq_cstr(sort, "-date");
        char *list = base_str_dup0(gw_http_req_arena(r), pat);

        for (char *tok = list; tok != NULL && *tok != '\0';) {
            char *comma = strchr(tok, ',');
            const char *person;

            if (comma != NULL)
                *comma = '\0';
            /* In the order of the store: insertion (oldest first), or
             * most recent first when asked (_sort=-date). */
            if (strncmp(tok, "Patient/", 8) == 0 && git_holds(m, tok + 8, &person)) {
                git_add(b, m->base, git_observation(m, tok + 8, newest_first ? 2 : 1));
                git_add(b, m->base, git_observation(m, tok + 8, newest_first ? 1 : 2));
            }
            tok = comma != NULL ? comma + 1 : NULL;
        }
    }
    json_object_set_new(b, "total",
                        json_integer((json_int_t)json_array_size(json_object_get(b, "entry"))));
    /* _offset (the gateway's next page of a member without next links):
     * the matches from there on */
    struct base_str off;
    if (gw_http_req_query(r, "_offset", &off)) {
        char *v = base_str_dup0(gw_http_req_arena(r), off);
        json_t *entries = json_object_get(b, "entry");

        for (long n = v != NULL ? strtol(v, NULL, 10) : 0; n > 0 && json_array_size(entries) > 0;
             n--)
            json_array_remove(entries, 0);
    }
    git_echo_revincludes(r, m, b);
    git_summary(r, b);
    git_send(r, b);
}

static inline void
git_h_everything(struct gw_http_req *r, void *cls)
{
    struct git_member *m = cls;
    char *local = base_str_dup0(gw_http_req_arena(r), gw_http_req_param(r, "id"));
    const char *person = NULL;
    json_t *b;

    if (git_fault(r, m))
        return;
    b = git_bundle();
    if (local != NULL && git_holds(m, local, &person)) {
        /* _type, as passed on by the gateway, limits what comes back; so
         * does a start in the year 3000 or later (the Observations' care
         * dates are all before it) */
        struct base_str types = {0};
        struct base_str start = {0};
        bool obs = !gw_http_req_query(r, "_type", &types) ||
                   memmem(types.ptr, types.len, "Observation", 11) != NULL;

        if (gw_http_req_query(r, "start", &start) && start.len >= 4 &&
            memcmp(start.ptr, "3000", 4) >= 0)
            obs = false;

        git_add(b, m->base, git_patient(m, person));
        if (obs) {
            git_add(b, m->base, git_observation(m, local, 1));
            git_add(b, m->base, git_observation(m, local, 2));
        }
    }
    git_send(r, b);
}

/* A loopback port nothing listens on (bound, then closed). */
static inline unsigned
git_closed_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    unsigned port = 1;

    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static inline void
git_member_start(struct git_member *m, const struct tu_pki *pki, const char *foreign_cert,
                 const char *foreign_key)
{
    struct base_err err = {0};

    if (m->mode == GIT_DOWN) {
        m->port = git_closed_port();
        snprintf(m->base, sizeof(m->base), "https://127.0.0.1:%u/fhir", m->port);
        return;
    }
    m->routes[0] = (struct gw_http_route){"GET", "/fhir/metadata", git_h_metadata, m};
    m->routes[1] = (struct gw_http_route){"GET", "/fhir/Patient/{id}/$everything",
                                          git_h_everything, m};
    m->routes[2] = (struct gw_http_route){"GET", "/fhir/Patient", git_h_patients, m};
    m->routes[3] = (struct gw_http_route){"GET", "/fhir/{type}", git_h_search, m};
    gw_http_config_init(&m->cfg);
    m->cfg.name = m->id;
    m->cfg.threads = 4;
    m->cfg.cert_file = m->mode == GIT_FOREIGN ? foreign_cert : pki->server_cert;
    m->cfg.key_file = m->mode == GIT_FOREIGN ? foreign_key : pki->server_key;
    m->cfg.client_ca_file = pki->ca;
    m->cfg.client_auth = GW_HTTP_CLIENT_AUTH_REQUIRED;
    m->cfg.routes = m->routes;
    m->cfg.route_count = 4;
    ck_assert_msg(gw_http_server_start(&m->cfg, &m->srv, &err) == BASE_OK, "member %s: %s: %s",
                  m->id, err.where, err.msg);
    m->port = gw_http_server_port(m->srv);
    snprintf(m->base, sizeof(m->base), "https://127.0.0.1:%u/fhir", m->port);
}

/*
 * Start the members in a process of their own (so that the test process,
 * whose children run the tests, holds no server threads: LeakSanitizer
 * in a forked child would report their memory).  Their bases are filled
 * in; returns the process id, stopped by git_members_kill().
 */
static inline pid_t
git_members_spawn(struct git_member *ms, size_t n, const struct tu_pki *pki,
                  const char *foreign_cert, const char *foreign_key)
{
    int fds[2];
    pid_t pid;
    unsigned ports[16] = {0};
    size_t got = 0;

    ck_assert(n <= 16 && pipe(fds) == 0);
    pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        sigset_t set;
        int sig = 0;

        close(fds[0]);
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        for (size_t i = 0; i < n; i++) {
            git_member_start(&ms[i], pki, foreign_cert, foreign_key);
            ports[i] = ms[i].port;
        }
        if (write(fds[1], ports, sizeof(ports)) != (ssize_t)sizeof(ports))
            _exit(1);
        close(fds[1]);
        sigwait(&set, &sig);
        _exit(0);
    }
    close(fds[1]);
    while (got < sizeof(ports)) {
        ssize_t r = read(fds[0], (char *)ports + got, sizeof(ports) - got);

        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fds[0]);
    ck_assert_msg(got == sizeof(ports), "the member servers did not start");
    for (size_t i = 0; i < n; i++) {
        ms[i].port = ports[i];
        snprintf(ms[i].base, sizeof(ms[i].base), "https://127.0.0.1:%u/fhir", ports[i]);
    }
    return pid;
}

static inline void
git_members_kill(pid_t pid)
{
    int st;

    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, &st, 0);
    }
}

static inline void
git_member_stop(struct git_member *m)
{
    if (m->srv != NULL)
        (void)gw_http_server_stop(m->srv, 1000);
    m->srv = NULL;
}

/* ------------------------------------------------------------ gateway -- */

struct git_gw {
    char dir[512];
    struct tu_pki pki;
    char gw_cert[600]; /* the gateway's client certificate (CN=gateway) */
    char gw_key[600];
    char reg_cert[600]; /* an adapter's client certificate (CN=hosp-new) */
    char reg_key[600];
    char foreign_dir[600];
    char foreign_cert[600];
    char foreign_key[600];
    char auth_key[600];
    char audit_key[600];
    char portal[600];
    char conf[600];
    char db[128];
    char *db_url;
    pid_t pid;
    unsigned port;
    char base[64];
};

static inline void
git_keys(struct git_gw *g)
{
    char pub[700];
    struct base_err err = {0};

    snprintf(g->auth_key, sizeof(g->auth_key), "%s/auth.pem", g->dir);
    snprintf(g->audit_key, sizeof(g->audit_key), "%s/audit.pem", g->dir);
    snprintf(pub, sizeof(pub), "%s/auth.pub", g->dir);
    ck_assert(gw_audit_key_generate(g->auth_key, pub, &err) == BASE_OK);
    snprintf(pub, sizeof(pub), "%s/audit.pub", g->dir);
    ck_assert(gw_audit_key_generate(g->audit_key, pub, &err) == BASE_OK);
}

/* PKI, keys, a portal folder and a database; `name` names the folder. */
static inline void
git_prepare(struct git_gw *g, const char *name)
{
    char path[700];
    FILE *f;
    char *db;

    memset(g, 0, sizeof(*g));
    ck_assert(tu_pki_make(name, &g->pki) == 0);
    snprintf(g->dir, sizeof(g->dir), "%s", tu_tmpdir(name));
    ck_assert(tu_ca((const char *[]){"client", g->pki.dir, "gateway", NULL}, g->gw_cert,
                    sizeof(g->gw_cert), g->gw_key, sizeof(g->gw_key)) == 0);
    ck_assert(tu_ca((const char *[]){"client", g->pki.dir, "hosp-new", "O=New Hospital", NULL},
                    g->reg_cert, sizeof(g->reg_cert), g->reg_key, sizeof(g->reg_key)) == 0);
    snprintf(g->foreign_dir, sizeof(g->foreign_dir), "%s/foreign", g->dir);
    ck_assert(tu_ca((const char *[]){"init", g->foreign_dir, NULL}, NULL, 0, NULL, 0) == 0);
    ck_assert(tu_ca((const char *[]){"server", g->foreign_dir, "localhost", NULL}, g->foreign_cert,
                    sizeof(g->foreign_cert), g->foreign_key, sizeof(g->foreign_key)) == 0);
    git_keys(g);
    snprintf(g->portal, sizeof(g->portal), "%s/portal", g->dir);
    mkdir(g->portal, 0755);
    snprintf(path, sizeof(path), "%s/index.html", g->portal);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("<!DOCTYPE html><title>portal</title><p>fhirgate portal</p>\n", f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/secret.txt", g->dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("outside the portal\n", f);
    fclose(f);
    db = pt_create_db("gwit");
    ck_assert_ptr_nonnull(db);
    snprintf(g->db, sizeof(g->db), "%s", db);
    free(db);
    g->db_url = pt_url(g->db, "postgres");
    ck_assert_ptr_nonnull(g->db_url);
}

/* Write the config: the members given, plus `extra` lines appended to
 * [federation] (e.g. "deadline = 1500ms"). */
static inline void
git_write_conf(struct git_gw *g, const struct git_member *ms, size_t n, const char *extra)
{
    FILE *f;

    snprintf(g->conf, sizeof(g->conf), "%s/gateway.conf", g->dir);
    f = fopen(g->conf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "[node]\nid = gw-test\npublic_url = https://127.0.0.1:1\nstate_dir = %s/state\n"
            "log_level = warn\nshutdown_grace = 5s\n"
            "[http]\nlisten = 127.0.0.1:0\ncert = %s\nkey = %s\nclient_ca = %s\n"
            "client_auth = optional\nmax_body = 64K\nthreads = 2\n"
            "[database]\nurl = env:GIT_DB_URL\npool_size = 8\nmigrate = auto\n"
            "[audit]\nsigning_key = %s\nwriters = 2\nappend_timeout = 3s\n"
            "[auth]\nsigning_key = %s\npassword_grant = true\npurge_interval = 1s\n"
            "[registry]\nprobe_interval = 300ms\nprobe_timeout = 1s\nauto_approve = false\n"
            "[mpi]\npull_interval = 300ms\n"
            "[portal]\nroot = %s\n"
            "[federation]\nca = %s\nclient_cert = %s\nclient_key = %s\ndeadline = 1500ms\n"
            "breaker_failures = 3\nbreaker_open = 1s\n%s\n",
            g->dir, g->pki.server_cert, g->pki.server_key, g->pki.ca, g->audit_key, g->auth_key,
            g->portal, g->pki.ca, g->gw_cert, g->gw_key, extra != NULL ? extra : "");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "[member \"%s\"]\nname = \"%s\"\nbase = %s\nstatus = active\n", ms[i].id,
                ms[i].name, ms[i].base);
    fclose(f);
}

/* Start bin/fhirgate-gateway and wait for "ready: port=N" (60 s). */
static inline void
git_start(struct git_gw *g)
{
    char bin[600];
    char errlog[700];
    int out[2];
    char buf[256];
    size_t got = 0;
    long long until = pt_now_ms() + 60000;

    snprintf(bin, sizeof(bin), "%s", tu_bin("fhirgate-gateway"));
    snprintf(errlog, sizeof(errlog), "%s/gateway.err", g->dir);
    ck_assert(pipe(out) == 0);
    setenv("GIT_DB_URL", g->db_url, 1);
    g->pid = fork();
    ck_assert(g->pid >= 0);
    if (g->pid == 0) {
        int fd = open(errlog, O_WRONLY | O_CREAT | O_APPEND, 0600);

        dup2(out[1], 1);
        if (fd >= 0)
            dup2(fd, 2);
        close(out[0]);
        close(out[1]);
        execl(bin, bin, "--config", g->conf, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    while (pt_now_ms() < until && got + 1 < sizeof(buf)) {
        struct pollfd p = {.fd = out[0], .events = POLLIN};
        ssize_t r;

        if (poll(&p, 1, 200) <= 0)
            continue;
        r = read(out[0], buf + got, sizeof(buf) - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
        buf[got] = '\0';
        if (strchr(buf, '\n') != NULL)
            break;
    }
    close(out[0]);
    buf[got] = '\0';
    ck_assert_msg(sscanf(buf, "ready: port=%u", &g->port) == 1,
                  "the gateway did not start (see %s)", errlog);
    snprintf(g->base, sizeof(g->base), "https://127.0.0.1:%u", g->port);
}

/* Copy the gateway's log to stderr (when a setup step failed). */
static inline void
git_dump_log(const struct git_gw *g)
{
    char p[700];
    char *text;
    size_t len = 0;

    snprintf(p, sizeof(p), "%s/gateway.err", g->dir);
    text = tu_read_file(p, &len);
    if (text != NULL)
        fprintf(stderr, "--- gateway log ---\n%.*s\n---\n", (int)(len > 20000 ? 20000 : len),
                text);
    free(text);
}

/* Send `sig`, wait for the exit; returns the exit status (-1: killed). */
static inline int
git_stop(struct git_gw *g, int sig)
{
    int st = 0;

    if (g->pid <= 0)
        return -1;
    kill(g->pid, sig);
    waitpid(g->pid, &st, 0);
    g->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ----------------------------------------------------------- requests -- */

struct git_resp {
    long status;
    char *body;
    char *headers;
    json_t *json;
};

static inline void
git_resp_free(struct git_resp *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

/* A request to the gateway: `token` may be NULL; `hdrs` NULL-terminated
 * extra headers or NULL. */
static inline struct git_resp
git_req(const struct git_gw *g, const char *method, const char *path, const char *token,
        const char *const *hdrs, const char *body, const char *ctype)
{
    struct tu_http_opts o = {0};
    struct tu_http_resp resp = {0};
    struct git_resp out = {0};
    const char *h[16];
    char auth[4096];
    char ct[128];
    size_t n = 0;
    char url[4096];

    if (token != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        h[n++] = auth;
    }
    if (ctype != NULL) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
        h[n++] = ct;
    }
    for (size_t i = 0; hdrs != NULL && hdrs[i] != NULL && n < 15; i++)
        h[n++] = hdrs[i];
    h[n] = NULL;
    o.method = method;
    o.body = body;
    o.body_len = body != NULL ? strlen(body) : 0;
    o.headers = h;
    o.ca_file = g->pki.ca;
    o.timeout_ms = 20000;
    o.path_as_is = true;
    snprintf(url, sizeof(url), "%s%s", g->base, path);
    (void)tu_http_request(url, &o, &resp);
    out.status = resp.status;
    out.body = resp.body;
    out.headers = resp.headers;
    resp.body = NULL;
    resp.headers = NULL;
    tu_http_resp_free(&resp);
    if (out.body != NULL)
        out.json = json_loads(out.body, 0, NULL);
    {
        char what[4200];

        snprintf(what, sizeof(what), "%s %s", method, path);
        tu_assert_fhir_body(what, out.status, out.headers, out.body,
                            out.body != NULL ? strlen(out.body) : 0);
    }
    return out;
}

static inline struct git_resp
git_get(const struct git_gw *g, const char *path, const char *token)
{
    return git_req(g, "GET", path, token, NULL, NULL, NULL);
}

/* -------------------------------------------------------------- users -- */

static inline void
git_user(const struct git_gw *g, const char *name, const char *password, enum gw_auth_role role,
         const char *org, const char *patient)
{
    PGconn *c = PQconnectdb(g->db_url);
    struct gw_auth_pw_params p;
    struct gw_auth_user u = {0};
    struct base_err err = {0};
    char hash[GW_AUTH_PW_HASH_MAX];

    ck_assert(PQstatus(c) == CONNECTION_OK);
    gw_auth_pw_params_default(&p);
    ck_assert(gw_auth_password_hash(password, strlen(password), &p, hash, sizeof(hash), &err) ==
              BASE_OK);
    u.username = name;
    u.display_name = name;
    u.role = role;
    u.organization = org;
    u.patient = patient;
    u.is_enabled = true;
    u.password_hash = hash;
    ck_assert_msg(gw_auth_user_create(c, &u, &err) == BASE_OK, "user %s: %s", name, err.msg);
    PQfinish(c);
}

/* Sign in with the password grant; the access token (malloc) or NULL. */
static inline char *
git_token(const struct git_gw *g, const char *name, const char *password)
{
    char body[512];
    struct git_resp r;
    char *tok = NULL;

    snprintf(body, sizeof(body), "grant_type=password&username=%s&password=%s&client_id=portal",
             name, password);
    r = git_req(g, "POST", "/auth/token", NULL, NULL, body, "application/x-www-form-urlencoded");
    if (r.status == 200 && r.json != NULL)
        tok = strdup(json_string_value(json_object_get(r.json, "access_token")));
    git_resp_free(&r);
    return tok;
}

/* ----------------------------------------------------------- database -- */

static inline long
git_count(const struct git_gw *g, const char *sql)
{
    return pt_count(g->db, sql);
}

/* Seed one member's Patient straight into the MPI (members the pull
 * cannot reach). */
static inline void
git_seed(const struct git_gw *g, const struct git_member *m, const char *person)
{
    PGconn *c = PQconnectdb(g->db_url);
    struct gw_mpi_config cfg = gw_mpi_config_default();
    struct gw_mpi_ingest_result res;
    struct base_err err = {0};
    json_t *p = git_patient(m, person);

    ck_assert(PQstatus(c) == CONNECTION_OK);
    ck_assert_msg(gw_mpi_ingest_identity(c, &cfg, m->id, p, &res, &err) == BASE_OK,
                  "seed: %s: %s", err.where, err.msg);
    json_decref(p);
    PQfinish(c);
}

/* The regional id of person "pN" once `links` member records are linked
 * to it (waits for the pull, 30 s); malloc'd. */
static inline char *
git_person(const struct git_gw *g, const char *person, int links)
{
    char sql[512];
    char resid[19];
    long long until = pt_now_ms() + 30000;
    char *out = NULL;

    git_resid(person, resid);
    snprintf(sql, sizeof(sql),
             "SELECT p.public_id FROM mpi.person p JOIN mpi.record r ON r.person_id = p.id "
             "WHERE r.resident_id = '%s' GROUP BY p.public_id HAVING count(*) >= %d",
             resid, links);
    while (pt_now_ms() < until) {
        if (pt_sql(g->db, sql, &out) > 0 && out != NULL && out[0] != '\0')
            return out;
        free(out);
        out = NULL;
        usleep(200 * 1000);
    }
    return NULL;
}

/* Entries of a Bundle with search.mode `mode` ("match" / "outcome"). */
static inline size_t
git_entries(const json_t *bundle, const char *mode)
{
    size_t n = 0;
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(bundle, "entry"), i, e) {
        const char *m = json_string_value(json_object_get(json_object_get(e, "search"), "mode"));

        if (m != NULL && strcmp(m, mode) == 0)
            n++;
    }
    return n;
}

/* Does an outcome entry's diagnostics mention `text`? */
static inline bool
git_outcome_mentions(const json_t *bundle, const char *text)
{
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(bundle, "entry"), i, e) {
        json_t *res = json_object_get(e, "resource");
        const char *d = json_string_value(
            json_object_get(json_array_get(json_object_get(res, "issue"), 0), "diagnostics"));

        if (d != NULL && strstr(d, text) != NULL)
            return true;
    }
    return false;
}

/* How many match entries carry the member tag `member`. */
static inline size_t
git_tagged(const json_t *bundle, const char *member)
{
    size_t n = 0;
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(bundle, "entry"), i, e) {
        json_t *tags = json_object_get(json_object_get(json_object_get(e, "resource"), "meta"),
                                       "tag");
        size_t k;
        json_t *t;

        json_array_foreach(tags, k, t) {
            const char *sys = json_string_value(json_object_get(t, "system"));
            const char *code = json_string_value(json_object_get(t, "code"));

            if (sys != NULL && code != NULL && strcmp(sys, "urn:fhirgate:member") == 0 &&
                strcmp(code, member) == 0)
                n++;
        }
    }
    return n;
}

#endif /* TEST_INTEGRATION_GATEWAY_IT_H */
