/*
 * gateway/http/gw_http_static.h — the web portal's static files.
 *
 * Serves one directory tree: MIME types by extension, strong ETag and
 * Last-Modified with 304 answers to If-None-Match / If-Modified-Since,
 * Cache-Control ("no-cache" for HTML so a new release is seen at once,
 * "public, max-age=N" for assets), index.html for a directory.  The
 * security headers come with every response of the server.
 *
 * Path traversal is refused: "." and ".." segments, an encoded '/' or '\'
 * inside a segment and hidden files (".git", ".env") are answered 403 or
 * 404; files are opened with openat2(RESOLVE_BENEATH), so a symlink that
 * leads out of the root is refused by the kernel (403).  A decoded NUL
 * never gets this far (400 from the request-target parser).
 */
#ifndef GATEWAY_HTTP_GW_HTTP_STATIC_H
#define GATEWAY_HTTP_GW_HTTP_STATIC_H

#include "fhir/base/compat.h"
#include "fhir/base/err.h"
#include "gateway/http/gw_http.h"

struct gw_http_static;

/* Open `root` (must be a directory).  `max_age_s` is the Cache-Control
 * max-age of non-HTML files.  BASE_E_IO when root cannot be opened. */
BASE_MUST_CHECK int gw_http_static_new(const char *root, unsigned max_age_s,
                                       struct gw_http_static **out, struct base_err *err);
void gw_http_static_free(struct gw_http_static *st);

/* The handler, for a GET route whose pattern ends in the '*' segment
 * (the file is named by the segments that '*' matched); cls = the
 * struct gw_http_static. */
void gw_http_static_handler(struct gw_http_req *r, void *cls);

/* MIME type for a file name by its extension ("application/octet-stream"
 * when unknown); text types carry "; charset=utf-8". */
const char *gw_http_static_mime(const char *name);

#endif /* GATEWAY_HTTP_GW_HTTP_STATIC_H */
