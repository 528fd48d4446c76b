/*
 * test/support/tu_orthanc.h — a private Orthanc (with its DICOMweb plugin)
 * for integration tests: free loopback ports, a scratch storage folder,
 * Basic authentication, "DefaultEncoding": "Utf8" (without it Orthanc's
 * QIDO answers lose the ideographic group of Chinese names).  The child
 * dies with the test runner (PR_SET_PDEATHSIG).
 */
#ifndef TEST_SUPPORT_TU_ORTHANC_H
#define TEST_SUPPORT_TU_ORTHANC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TU_ORTHANC_USER "gateway"
#define TU_ORTHANC_PASS "s3cret"

struct tu_orthanc {
    pid_t pid;
    int http_port;
    char dir[512];      /* storage, config and logs */
    char base[128];     /* http://127.0.0.1:PORT */
    char dicomweb[160]; /* base + /dicom-web */
};

/* Orthanc and its DICOMweb plugin are installed (deploy/install-deps.sh). */
bool tu_orthanc_available(void);

/* Start under `tmp` (a scratch folder); true when /system answers. */
bool tu_orthanc_start(struct tu_orthanc *o, const char *tmp);

/* One authenticated REST call; the HTTP status (0 when none). */
long tu_orthanc_rest(const struct tu_orthanc *o, const char *method, const char *path,
                     const void *body, size_t len);

/* GET `path` with an Accept header; the body (malloc'd, NUL-terminated)
 * in *body, its length in *len; the HTTP status (0 when none). */
long tu_orthanc_get(const struct tu_orthanc *o, const char *path, const char *accept, char **body,
                    size_t *len);

/* Stop and wait (a clean stop takes seconds; SIGKILL after 15 s). */
void tu_orthanc_stop(struct tu_orthanc *o);

#endif /* TEST_SUPPORT_TU_ORTHANC_H */
