/*
 * A private Orthanc for integration tests (tu_orthanc.h).
 */
#include "test/support/tu_orthanc.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define PLUGIN "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"

bool
tu_orthanc_available(void)
{
    return access("/usr/sbin/Orthanc", X_OK) == 0 && access(PLUGIN, R_OK) == 0;
}

/* A port nobody uses right now (bound to 0, read back, released). */
static int
any_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = -1;

    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static size_t
discard(char *p, size_t s, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return s * n;
}

long
tu_orthanc_rest(const struct tu_orthanc *o, const char *method, const char *path, const void *body,
                size_t len)
{
    char url[512];
    long status = 0;
    CURL *c = curl_easy_init();

    if (c == NULL)
        return 0;
    snprintf(url, sizeof(url), "%s%s", o->base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_USERPWD, TU_ORTHANC_USER ":" TU_ORTHANC_PASS);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

struct sink {
    char *data;
    size_t len;
};

static size_t
keep(char *p, size_t s, size_t n, void *ctx)
{
    struct sink *k = ctx;
    char *grown = realloc(k->data, k->len + s * n + 1);

    if (grown == NULL)
        return 0;
    memcpy(grown + k->len, p, s * n);
    k->data = grown;
    k->len += s * n;
    k->data[k->len] = '\0';
    return s * n;
}

long
tu_orthanc_get(const struct tu_orthanc *o, const char *path, const char *accept, char **body,
               size_t *len)
{
    char url[512];
    char hdr[160];
    long status = 0;
    struct sink k = {NULL, 0};
    struct curl_slist *h = NULL;
    CURL *c = curl_easy_init();

    *body = NULL;
    *len = 0;
    if (c == NULL)
        return 0;
    snprintf(url, sizeof(url), "%s%s", o->base, path);
    snprintf(hdr, sizeof(hdr), "Accept: %s", accept);
    h = curl_slist_append(h, hdr);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_USERPWD, TU_ORTHANC_USER ":" TU_ORTHANC_PASS);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &k);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    *body = k.data;
    *len = k.len;
    return status;
}

static bool
write_config(const struct tu_orthanc *o, const char *path, int dicom_port)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return false;
    fprintf(f,
            "{\n  \"Name\": \"fhirgate-test\",\n  \"DefaultEncoding\": \"Utf8\",\n"
            "  \"StorageDirectory\": \"%s/storage\",\n  \"IndexDirectory\": \"%s/storage\",\n"
            "  \"HttpPort\": %d,\n  \"DicomPort\": %d,\n  \"DicomAet\": \"FGTEST\",\n"
            "  \"RemoteAccessAllowed\": false,\n  \"AuthenticationEnabled\": true,\n"
            "  \"RegisteredUsers\": { \"" TU_ORTHANC_USER "\": \"" TU_ORTHANC_PASS "\" },\n"
            "  \"Plugins\": [ \"" PLUGIN "\" ],\n"
            "  \"DicomWeb\": { \"Enable\": true, \"Root\": \"/dicom-web/\", \"EnableWado\": true,\n"
            "                 \"WadoRoot\": \"/wado\", \"Host\": \"127.0.0.1:%d\", \"Ssl\": false "
            "}\n}\n",
            o->dir, o->dir, o->http_port, dicom_port, o->http_port);
    return fclose(f) == 0;
}

static void
child(const struct tu_orthanc *o, const char *config)
{
    char logdir[600];
    char out[600];
    int fd;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    snprintf(logdir, sizeof(logdir), "--logdir=%s", o->dir);
    snprintf(out, sizeof(out), "%s/console.log", o->dir);
    fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
    }
    execl("/usr/sbin/Orthanc", "Orthanc", logdir, config, (char *)NULL);
    _exit(127);
}

bool
tu_orthanc_start(struct tu_orthanc *o, const char *tmp)
{
    char config[600];
    int dicom_port = any_port();

    memset(o, 0, sizeof(*o));
    snprintf(o->dir, sizeof(o->dir), "%s/orthanc.XXXXXX", tmp);
    o->http_port = any_port();
    if (mkdtemp(o->dir) == NULL || o->http_port <= 0 || dicom_port <= 0)
        return false;
    snprintf(o->base, sizeof(o->base), "http://127.0.0.1:%d", o->http_port);
    snprintf(o->dicomweb, sizeof(o->dicomweb), "%s/dicom-web", o->base);
    snprintf(config, sizeof(config), "%s/orthanc.json", o->dir);
    if (!write_config(o, config, dicom_port))
        return false;
    o->pid = fork();
    if (o->pid < 0)
        return false;
    if (o->pid == 0)
        child(o, config);
    for (int i = 0; i < 300; i++) { /* ready in ~0.3 s; allow 30 s on a loaded machine */
        if (waitpid(o->pid, NULL, WNOHANG) == o->pid) {
            o->pid = 0;
            return false;
        }
        if (tu_orthanc_rest(o, "GET", "/system", NULL, 0) == 200)
            return true;
        usleep(100 * 1000);
    }
    return false;
}

void
tu_orthanc_stop(struct tu_orthanc *o)
{
    if (o->pid <= 0)
        return;
    kill(o->pid, SIGTERM);
    for (int i = 0; i < 150; i++) {
        if (waitpid(o->pid, NULL, WNOHANG) == o->pid) {
            o->pid = 0;
            return;
        }
        usleep(100 * 1000);
    }
    kill(o->pid, SIGKILL);
    waitpid(o->pid, NULL, 0);
    o->pid = 0;
}
