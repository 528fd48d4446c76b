/* Static files for the portal (see gw_http_static.h). */
#include "gateway/http/gw_http_static.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "gateway/http/gw_http_parse.h"

struct gw_http_static {
    int root_fd; /* O_PATH directory */
    unsigned max_age_s;
};

static const struct {
    const char *ext;
    const char *type;
} mime_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json; charset=utf-8"},
    {"map", "application/json; charset=utf-8"},
    {"webmanifest", "application/manifest+json; charset=utf-8"},
    {"txt", "text/plain; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/vnd.microsoft.icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
};

const char *
gw_http_static_mime(const char *name)
{
    const char *dot = strrchr(name, '.');

    if (dot == NULL || strchr(dot, '/') != NULL)
        return "application/octet-stream";
    for (size_t i = 0; i < BASE_ARRAY_LEN(mime_types); i++) {
        if (strcasecmp(dot + 1, mime_types[i].ext) == 0)
            return mime_types[i].type;
    }
    return "application/octet-stream";
}

int
gw_http_static_new(const char *root, unsigned max_age_s, struct gw_http_static **out,
                   struct base_err *err)
{
    struct gw_http_static *st;
    int fd;

    *out = NULL;
    fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return base_err_set(err, BASE_E_IO, "exception", "static_root",
                            "could not open the static root: %s", strerror(errno));
    st = base_calloc(1, sizeof(*st));
    if (st == NULL) {
        close(fd);
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    }
    st->root_fd = fd;
    st->max_age_s = max_age_s;
    *out = st;
    return BASE_OK;
}

void
gw_http_static_free(struct gw_http_static *st)
{
    if (st == NULL)
        return;
    close(st->root_fd);
    base_free(st);
}

/* ---------------------------------------------------------- helpers -- */

static void
answer(struct gw_http_req *r, unsigned status, const char *code, const char *msg)
{
    if (gw_http_respond_outcome(r, status, code, NULL, msg) != BASE_OK)
        return; /* the dispatcher answers 500 */
}

enum seg_verdict {
    SEG_OK,
    SEG_TRAVERSAL, /* 403 */
    SEG_HIDDEN     /* 404: not published */
};

static enum seg_verdict
check_segment(struct base_str s)
{
    if (base_str_eq_cstr(s, ".") || base_str_eq_cstr(s, ".."))
        return SEG_TRAVERSAL;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] == '/' || s.ptr[i] == '\\' || s.ptr[i] == '\0')
            return SEG_TRAVERSAL;
    }
    if (s.len == 0 || s.ptr[0] == '.')
        return SEG_HIDDEN;
    return SEG_OK;
}

/* The relative path of the '*' segments ("index.html" for none). */
static int
relative_path(struct gw_http_req *r, char **out, enum seg_verdict *verdict)
{
    struct base_buf b;
    size_t first;
    size_t n = gw_http_req_star(r, &first);
    int rc = BASE_OK;

    *verdict = SEG_OK;
    base_buf_init(&b, 4096);
    for (size_t i = 0; i < n && rc == BASE_OK; i++) {
        struct base_str seg = gw_http_req_segment(r, first + i);
        enum seg_verdict v = check_segment(seg);

        if (v != SEG_OK) {
            *verdict = v;
            break;
        }
        if (i > 0)
            rc = base_buf_putc(&b, '/');
        if (rc == BASE_OK)
            rc = base_buf_append_str(&b, seg);
    }
    if (rc == BASE_OK && *verdict == SEG_OK)
        rc = base_buf_append_cstr(&b, n == 0 ? "index.html" : "");
    if (rc == BASE_OK && *verdict == SEG_OK) {
        *out = base_buf_dup0(&b, gw_http_req_arena(r));
        rc = *out != NULL ? BASE_OK : BASE_E_NOMEM;
    }
    base_buf_fini(&b);
    return rc;
}

/* openat2(RESOLVE_BENEATH): no "..", no absolute or escaping symlink, no
 * magic /proc links — the kernel keeps the walk inside the root. */
static int
open_beneath(int dirfd, const char *rel)
{
    struct open_how how;

    memset(&how, 0, sizeof(how));
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
}

static bool
set_cache_headers(struct gw_http_req *r, const struct gw_http_static *s, const char *mime,
                  const char *etag, const char *lastmod)
{
    char cc[64];

    if (strncmp(mime, "text/html", 9) == 0)
        snprintf(cc, sizeof(cc), "no-cache");
    else
        snprintf(cc, sizeof(cc), "public, max-age=%u", s->max_age_s);
    return gw_http_set_header(r, "ETag", etag) == BASE_OK &&
           gw_http_set_header(r, "Last-Modified", lastmod) == BASE_OK &&
           gw_http_set_header(r, "Cache-Control", cc) == BASE_OK;
}

/* A directory: serve its index.html. */
static int
open_index(const struct gw_http_static *s, struct gw_http_req *r, const char *rel, int *fd,
           struct stat *st)
{
    char *idx = base_arena_sprintf(gw_http_req_arena(r), "%s/index.html", rel);

    close(*fd);
    *fd = idx != NULL ? open_beneath(s->root_fd, idx) : -1;
    if (*fd < 0 || fstat(*fd, st) != 0 || !S_ISREG(st->st_mode))
        return -1;
    return 0;
}

static void
serve(const struct gw_http_static *s, struct gw_http_req *r, const char *name, int fd,
      struct stat *st)
{
    char etag[64];
    char lastmod[40];
    const char *mime;

    snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st->st_size,
             (unsigned long long)st->st_mtim.tv_sec * 1000000000ull +
                 (unsigned long long)st->st_mtim.tv_nsec);
    gw_http_date_format(st->st_mtime, lastmod, sizeof(lastmod));
    mime = gw_http_static_mime(name);
    if (!set_cache_headers(r, s, mime, etag, lastmod)) {
        close(fd);
        return;
    }
    if (gw_http_not_modified(r, etag, st->st_mtime)) {
        close(fd);
        if (gw_http_respond_empty(r, 304) != BASE_OK)
            return;
        return;
    }
    if (gw_http_respond_fd(r, 200, mime, fd, 0, (uint64_t)st->st_size) != BASE_OK)
        return; /* fd closed by respond_fd */
}

void
gw_http_static_handler(struct gw_http_req *r, void *cls)
{
    const struct gw_http_static *s = cls;
    enum seg_verdict v;
    struct stat st;
    char *rel = NULL;
    bool is_dir = false;
    int fd;

    if (relative_path(r, &rel, &v) != BASE_OK) {
        answer(r, 414, "too-long", "path too long");
        return;
    }
    if (v == SEG_TRAVERSAL) {
        answer(r, 403, "forbidden", "path is not allowed");
        return;
    }
    if (v == SEG_HIDDEN) {
        answer(r, 404, "not-found", "no such file");
        return;
    }
    fd = open_beneath(s->root_fd, rel);
    if (fd < 0) {
        /* EXDEV/ELOOP: the walk would leave the root (symlink, ..) */
        bool escape = errno == EXDEV || errno == ELOOP;

        answer(r, escape ? 403 : 404, escape ? "forbidden" : "not-found",
               escape ? "path is not allowed" : "no such file");
        return;
    }
    if (fstat(fd, &st) != 0) {
        st.st_mode = 0;
    } else if (S_ISDIR(st.st_mode)) {
        is_dir = true;
        if (open_index(s, r, rel, &fd, &st) != 0)
            st.st_mode = 0;
    }
    if (fd < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        answer(r, 404, "not-found", "no such file");
        return;
    }
    serve(s, r, is_dir ? "index.html" : rel, fd, &st);
}
