/*
 * Drop folders: the EMR or HIS writes a CDA document (*.xml) or a CSV
 * export (*.csv) into a folder; the adapter takes it, ingests it, and moves
 * it to done/ or failed/ with a report next to it (NAME.report: bad rows
 * with line and column, refused resources, counts).
 *
 * A half-written file is never taken: names starting with '.' or not
 * ending in .xml / .csv (in any case) are ignored (write "x.tmp" or
 * ".x.xml", then rename — the atomic way), and a file is taken only when its size and
 * modification time have not changed between two scans and it is at least
 * settle_time old (for writers that write in place).  One thread polls
 * every folder each poll_interval (inotify would only save the wait; the
 * settle rule needs the scan anyway).  A file that fails because the store
 * is unavailable stays where it is and is tried again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "adapters/daemon/daemon_int.h"
#include "fhir/base/arena.h"
#include "fhir/base/log.h"
#include "fhir/outcome/fhir_outcome.h"

#define MAX_SEEN  1024u       /* files remembered per scan (the rest wait) */
#define READ_SIZE (64u << 10) /* CSV streamed in chunks of this */
#define MAX_NAME  255u

struct seen {
    char name[MAX_NAME + 1];
    off_t size;
    struct timespec mtime;
};

struct folder {
    const char *dir;
    const struct adapter_csv_source *csv; /* NULL: CDA */
    const char *suffix;
    struct seen *seen;
    size_t n_seen;
};

struct adapter_dropdir {
    struct adapter_daemon *d;
    struct folder *f;
    size_t n;
    struct adapter_worker w;
};

/* ------------------------------------------------------------- moving -- */

static int
ensure_sub(const char *dir, const char *sub, char *out, size_t cap)
{
    if ((size_t)snprintf(out, cap, "%s/%s", dir, sub) >= cap)
        return -1;
    return mkdir(out, 0750) == 0 || errno == EEXIST ? 0 : -1;
}

/* Move dir/name to dir/sub/name (name.1, name.2… when taken) and write the
 * report beside it. */
static void
move_with_report(const struct folder *f, const char *name, const char *sub,
                 const struct base_buf *report)
{
    char to_dir[1024];
    char from[1024];
    char to[1300];
    char rep[1400];
    int fd;

    if (ensure_sub(f->dir, sub, to_dir, sizeof(to_dir)) != 0 ||
        (size_t)snprintf(from, sizeof(from), "%s/%s", f->dir, name) >= sizeof(from)) {
        BASE_LOG(BASE_LOG_ERROR, "adapter.drop_move", "folder=%s could not create %s", f->dir, sub);
        return;
    }
    snprintf(to, sizeof(to), "%s/%s", to_dir, name);
    for (unsigned k = 1; access(to, F_OK) == 0 && k < 10000; k++)
        snprintf(to, sizeof(to), "%s/%s.%u", to_dir, name, k);
    if (rename(from, to) != 0) {
        BASE_LOG(BASE_LOG_ERROR, "adapter.drop_move", "folder=%s errno=%d", f->dir, errno);
        return;
    }
    snprintf(rep, sizeof(rep), "%s.report", to);
    fd = open(rep, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd >= 0) {
        if (report->len > 0 && write(fd, report->data, report->len) < 0)
            BASE_LOG(BASE_LOG_WARN, "adapter.drop_report", "errno=%d", errno);
        close(fd);
    }
}

/* ----------------------------------------------------------- ingesting -- */

/* Report text is best effort: a report cut at its limit still says most. */
static void say(struct base_buf *b, const char *fmt, ...) BASE_PRINTF(2, 3);
static void
say(struct base_buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (base_buf_vappendf(b, fmt, ap) != BASE_OK)
        BASE_LOG(BASE_LOG_DEBUG, "adapter.drop_report_full", "len=%zu", b->len);
    va_end(ap);
}

static void
report_outcome(struct base_buf *report, const json_t *oo)
{
    json_t *issue;
    size_t i;

    json_array_foreach(json_object_get(oo, "issue"), i, issue)
    {
        const char *loc =
            json_string_value(json_array_get(json_object_get(issue, "expression"), 0));
        const char *diag = json_string_value(json_object_get(issue, "diagnostics"));

        say(report, "%s: %s%s%s\n", json_string_value(json_object_get(issue, "severity")),
            loc != NULL ? loc : "", loc != NULL ? ": " : "", diag != NULL ? diag : "");
    }
}

static void
report_err(struct base_buf *report, const struct base_err *err)
{
    say(report, "error: %s%s%s\n", err->where, err->where[0] ? ": " : "", err->msg);
}

static int
take_cda(struct adapter_daemon *d, int fd, const char *name, struct base_buf *report)
{
    struct base_arena *a = base_arena_new(0);
    struct base_err err = {0};
    json_t *resp = NULL;
    unsigned status = 0;
    struct stat st;
    char *buf;
    ssize_t got = 0;
    int rc;

    (void)name;
    if (a == NULL || fstat(fd, &st) != 0) {
        base_arena_free(a);
        return BASE_E_IO;
    }
    if ((size_t)st.st_size > d->cfg->max_document) {
        base_arena_free(a);
        say(report, "error: the document is larger than max_document\n");
        return BASE_E_LIMIT;
    }
    buf = base_arena_alloc(a, (size_t)st.st_size + 1);
    for (size_t off = 0; buf != NULL && off < (size_t)st.st_size; off += (size_t)got) {
        got = read(fd, buf + off, (size_t)st.st_size - off);
        if (got <= 0)
            break;
    }
    if (buf == NULL || got < 0) {
        base_arena_free(a);
        return BASE_E_IO;
    }
    rc = adapter_ingest_cda(d, a, buf, (size_t)st.st_size, &resp, &status, &err);
    if (rc == BASE_OK)
        say(report, "stored: %zu resources\n", json_array_size(json_object_get(resp, "entry")));
    else if (json_array_size(json_object_get(resp, "issue")) > 0)
        report_outcome(report, resp);
    else
        report_err(report, &err);
    json_decref(resp);
    base_arena_free(a);
    return rc;
}

static int
take_csv(struct adapter_daemon *d, const struct adapter_csv_source *csv, int fd, const char *name,
         struct base_buf *report)
{
    struct adapter_csv_job *j = NULL;
    struct base_err err = {0};
    struct csv_report counts;
    json_t *oo = NULL;
    char *buf = base_malloc(READ_SIZE);
    ssize_t got = 0;
    int rc = buf != NULL ? adapter_csv_begin(d, csv->name, name, &j, &err) : BASE_E_NOMEM;

    while (rc == BASE_OK && (got = read(fd, buf, READ_SIZE)) > 0)
        rc = adapter_csv_feed(j, buf, (size_t)got, &err);
    if (rc == BASE_OK && got < 0)
        rc = base_err_set(&err, BASE_E_IO, "exception", NULL, "could not read the file");
    if (j != NULL && rc == BASE_OK) {
        rc = adapter_csv_end(j, &oo, &counts, &err);
        j = NULL;
    }
    adapter_csv_abort(j);
    if (oo != NULL)
        report_outcome(report, oo);
    json_decref(oo);
    if (rc != BASE_OK)
        report_err(report, &err);
    base_free(buf);
    return rc;
}

static void
take(struct adapter_dropdir *dd, const struct folder *f, const char *name)
{
    struct adapter_daemon *d = dd->d;
    const char *kind = f->csv != NULL ? "csv" : "cda";
    struct base_buf report;
    char path[1300];
    int fd;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return;
    base_buf_init(&report, 1u << 20);
    rc = f->csv != NULL ? take_csv(d, f->csv, fd, name, &report) : take_cda(d, fd, name, &report);
    close(fd);
    if (rc == BASE_E_IO && atomic_load(&d->quiescing) == false) {
        /* The store is away: try again on a later scan. */
        BASE_LOG(BASE_LOG_WARN, "adapter.drop_retry", "kind=%s", kind);
    } else if (rc != BASE_E_IO) {
        move_with_report(f, name, rc == BASE_OK ? "done" : "failed", &report);
        gw_http_metric_add(d->m.files, (const char *[]){kind, rc == BASE_OK ? "done" : "failed"},
                           1);
        BASE_LOG(BASE_LOG_INFO, "adapter.drop_file", "kind=%s outcome=%s", kind,
                 rc == BASE_OK ? "done" : "failed");
    }
    base_buf_fini(&report);
}

/* ------------------------------------------------------------ scanning -- */

static bool
candidate(const struct folder *f, const char *name)
{
    size_t n = strlen(name);
    size_t s = strlen(f->suffix);

    /* the extension in any case: Windows-based exporters write "EXPORT.CSV" */
    return name[0] != '.' && n > s && n <= MAX_NAME && strcasecmp(name + n - s, f->suffix) == 0 &&
           strstr(name, ".report") == NULL;
}

static const struct seen *
find_seen(const struct folder *f, const char *name)
{
    for (size_t i = 0; i < f->n_seen; i++) {
        if (strcmp(f->seen[i].name, name) == 0)
            return &f->seen[i];
    }
    return NULL;
}

/* Stable: same size and mtime as at the previous scan, and old enough. */
static bool
settled(const struct adapter_dropdir *dd, const struct seen *prev, const struct stat *st)
{
    struct timespec now;
    int64_t age_ms;

    if (prev == NULL || prev->size != st->st_size || prev->mtime.tv_sec != st->st_mtim.tv_sec ||
        prev->mtime.tv_nsec != st->st_mtim.tv_nsec)
        return false;
    clock_gettime(CLOCK_REALTIME, &now);
    age_ms = (int64_t)(now.tv_sec - st->st_mtim.tv_sec) * 1000 +
             (now.tv_nsec - st->st_mtim.tv_nsec) / 1000000;
    return age_ms >= (int64_t)dd->d->cfg->drop_settle_ms;
}

static void
scan(struct adapter_dropdir *dd, struct folder *f)
{
    struct seen *next = base_calloc(MAX_SEEN, sizeof(*next));
    size_t n_next = 0;
    DIR *dir = opendir(f->dir);
    struct dirent *de;

    if (dir == NULL || next == NULL) {
        if (dir != NULL)
            closedir(dir);
        base_free(next);
        return;
    }
    while ((de = readdir(dir)) != NULL && n_next < MAX_SEEN && !atomic_load(&dd->d->quiescing)) {
        struct stat st;

        if (!candidate(f, de->d_name) ||
            fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (settled(dd, find_seen(f, de->d_name), &st)) {
            take(dd, f, de->d_name);
            continue;
        }
        snprintf(next[n_next].name, sizeof(next[n_next].name), "%s", de->d_name);
        next[n_next].size = st.st_size;
        next[n_next].mtime = st.st_mtim;
        n_next++;
    }
    closedir(dir);
    base_free(f->seen);
    f->seen = next;
    f->n_seen = n_next;
}

static void
dropdir_main(struct adapter_worker *w, void *arg)
{
    struct adapter_dropdir *dd = arg;

    do {
        for (size_t i = 0; i < dd->n; i++)
            scan(dd, &dd->f[i]);
    } while (!adapter__worker_sleep(w, dd->d->cfg->drop_poll_ms));
}

int
adapter__dropdir_start(struct adapter_daemon *d, struct base_err *err)
{
    const struct adapter_config *cfg = d->cfg;
    struct adapter_dropdir *dd;
    size_t n = cfg->cda_drop_dir != NULL;

    for (size_t i = 0; i < cfg->n_csv; i++)
        n += cfg->csv[i].drop_dir != NULL;
    if (n == 0)
        return BASE_OK;
    dd = BASE_NEW(d->arena, struct adapter_dropdir);
    if (dd == NULL || (dd->f = BASE_NEW_N(d->arena, struct folder, n)) == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    dd->d = d;
    if (cfg->cda_drop_dir != NULL)
        dd->f[dd->n++] = (struct folder){cfg->cda_drop_dir, NULL, ".xml", NULL, 0};
    for (size_t i = 0; i < cfg->n_csv; i++) {
        if (cfg->csv[i].drop_dir != NULL)
            dd->f[dd->n++] = (struct folder){cfg->csv[i].drop_dir, &cfg->csv[i], ".csv", NULL, 0};
    }
    TRY(adapter__worker_start(&dd->w, dropdir_main, dd, "drop_dir", err));
    d->dropdir = dd;
    BASE_LOG(BASE_LOG_INFO, "adapter.drop_watching", "folders=%zu poll_ms=%u", n,
             cfg->drop_poll_ms);
    return BASE_OK;
}

void
adapter__dropdir_stop(struct adapter_daemon *d)
{
    struct adapter_dropdir *dd = d->dropdir;

    if (dd == NULL)
        return;
    adapter__worker_stop(&dd->w);
    for (size_t i = 0; i < dd->n; i++)
        base_free(dd->f[i].seen);
    d->dropdir = NULL;
}
