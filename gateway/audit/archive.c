/*
 * Retention: archive whole months and drop their partitions.
 *
 * Order of work, so that a failure at any point loses nothing:
 *   1. verify the chains up to the boundary (refuse to launder tampering);
 *   2. export the month with COPY to DIR/audit-event_YYYYMM.csv (new file,
 *      0600, fsync'd) while hashing it;
 *   3. one transaction: sign an "archive" checkpoint at each chain's last
 *      row of that month, record the month (row count, file SHA-256) in
 *      audit.archive, detach and drop the partition.
 * Verification of what remains then starts at the archive checkpoints.
 *
 * Partition names come from the catalog and are checked to be event_ plus
 * six digits before they are put into the DDL (DDL takes no parameters).
 */
#include "gateway/audit/gw_audit.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fhir/base/arena.h"
#include "gateway/audit/audit_int.h"
#include "gateway/db/gw_db.h"

static bool
digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

/* "YYYY-MM" -> "YYYYMM"; false when malformed. */
static bool
parse_month(const char *in, char out[7])
{
    int month;

    if (in == NULL || strlen(in) != 7 || in[4] != '-' || !digits(in, 4) || !digits(in + 5, 2))
        return false;
    month = (in[5] - '0') * 10 + (in[6] - '0');
    if (month < 1 || month > 12)
        return false;
    memcpy(out, in, 4);
    memcpy(out + 4, in + 5, 2);
    out[6] = '\0';
    return true;
}

static bool
partition_name_ok(const char *name)
{
    return strlen(name) == 12 && strncmp(name, "event_", 6) == 0 && digits(name + 6, 6);
}

struct sink {
    int fd;
    EVP_MD_CTX *md;
};

static int
write_all(void *vctx, const char *data, size_t len)
{
    struct sink *s = vctx;

    if (EVP_DigestUpdate(s->md, data, len) != 1)
        return BASE_E_INTERNAL;
    while (len > 0) {
        ssize_t n = write(s->fd, data, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return BASE_E_IO;
        data += n;
        len -= (size_t)n;
    }
    return BASE_OK;
}

static int
fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static int
export_month(struct gw_db_conn *c, const char *dir, const char *part, char *file, size_t file_cap,
             char sha[65], struct base_err *err)
{
    struct sink s = {-1, NULL};
    unsigned char md[32];
    unsigned int mdlen = 0;
    char sql[1024];
    int rc;

    snprintf(file, file_cap, "%s/audit-%s.csv", dir, part);
    s.fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    ENSURE(s.fd >= 0, err, BASE_E_IO, "exception", part,
           errno == EEXIST ? "archive file already exists" : "could not create the archive file");
    s.md = EVP_MD_CTX_new();
    if (s.md == NULL || EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) != 1) {
        rc = base_err_set(err, BASE_E_NOMEM, "exception", part, "out of memory");
        goto out;
    }
    snprintf(sql, sizeof(sql),
             "COPY (SELECT chain_id, seq, " GW_AUDIT__TIME_SQL(
                 "recorded_at") " AS recorded_at, "
                                "prev_hash, hash, action, subtype, outcome, http_status, "
                                "agent_user, agent_role, "
                                "agent_org, patient_ref, entities, purpose, break_glass, reason, "
                                "request_id, node, "
                                "client_addr, event_text FROM audit.%s ORDER BY chain_id, seq) "
                                "TO STDOUT WITH (FORMAT csv, HEADER)",
             part);
    rc = gw_db_copy_out(c, "audit.archive_copy", sql, write_all, &s, err);
    if (rc == BASE_OK && (fsync(s.fd) != 0 || EVP_DigestFinal_ex(s.md, md, &mdlen) != 1))
        rc = base_err_set(err, BASE_E_IO, "exception", part, "could not write the archive file");
    if (rc == BASE_OK)
        gw_audit__hex(md, 32, sha);
out:
    EVP_MD_CTX_free(s.md);
    if (close(s.fd) != 0 && rc == BASE_OK)
        rc = base_err_set(err, BASE_E_IO, "exception", part, "could not write the archive file");
    if (rc == BASE_OK && fsync_dir(dir) != 0)
        rc = base_err_set(err, BASE_E_IO, "exception", part, "could not sync the archive folder");
    if (rc != BASE_OK)
        unlink(file);
    return rc;
}

static int
checkpoint_chains(struct gw_db_conn *c, const struct gw_audit_key *k, const char *part,
                  int64_t *rows, struct base_err *err)
{
    PGresult *res = NULL;
    char sql[512];
    int rc = BASE_OK;

    snprintf(sql, sizeof(sql),
             "SELECT DISTINCT ON (chain_id) chain_id, seq, hash, " GW_AUDIT__TIME_SQL(
                 "recorded_at") ", count(*) OVER (PARTITION BY chain_id) "
                                "FROM audit.%s ORDER BY chain_id, seq DESC",
             part);
    TRY(gw_db_exec(c, "audit.archive_heads", sql, 0, NULL, &res, err));
    *rows = 0;
    for (int r = 0; r < PQntuples(res) && rc == BASE_OK; r++) {
        struct gw_audit__cp cp = {PQgetvalue(res, r, 0),
                                  0,
                                  PQgetvalue(res, r, 2),
                                  PQgetvalue(res, r, 3),
                                  NULL,
                                  "archive",
                                  NULL};
        int64_t n = 0;

        if (!gw_db_val_i64(res, r, 1, &cp.seq) || !gw_db_val_i64(res, r, 4, &n)) {
            rc = base_err_set(err, BASE_E_INTERNAL, "exception", part, "unreadable audit row");
            break;
        }
        *rows += n;
        rc = gw_audit__insert_checkpoint(c, k, &cp, err);
    }
    PQclear(res);
    return rc;
}

static int
drop_month(struct gw_db_conn *c, const struct gw_audit_key *k, const char *part, const char *file,
           const char *sha, struct base_err *err)
{
    char month[11];
    char count[24];
    char sql[256];
    int64_t rows = 0;
    const char *vals[5] = {month, part, count, file, sha};
    int rc;

    snprintf(month, sizeof(month), "%.4s-%.2s-01", part + 6, part + 10);
    TRY(gw_db_begin(c, NULL, err));
    rc = checkpoint_chains(c, k, part, &rows, err);
    snprintf(count, sizeof(count), "%" PRId64, rows);
    if (rc == BASE_OK)
        rc = gw_db_exec(c, "audit.archive_record",
                        "INSERT INTO audit.archive (month, partition, row_count, file_name, "
                        "file_sha256) VALUES ($1::date, $2, $3::bigint, $4, $5)",
                        5, vals, NULL, err);
    snprintf(sql, sizeof(sql), "ALTER TABLE audit.event DETACH PARTITION audit.%s", part);
    if (rc == BASE_OK)
        rc = gw_db_exec(c, "audit.archive_detach", sql, 0, NULL, NULL, err);
    snprintf(sql, sizeof(sql), "DROP TABLE audit.%s", part);
    if (rc == BASE_OK)
        rc = gw_db_exec(c, "audit.archive_drop", sql, 0, NULL, NULL, err);
    if (rc == BASE_OK)
        rc = gw_db_commit(c, err);
    if (rc != BASE_OK)
        gw_db_rollback(c);
    return rc;
}

static int
list_partitions(struct gw_db_conn *c, const char *yyyymm, PGresult **out, struct base_err *err)
{
    char bound[16];
    const char *vals[1] = {bound};

    snprintf(bound, sizeof(bound), "event_%s", yyyymm);
    return gw_db_exec(c, "audit.archive_list",
                      "SELECT c.relname FROM pg_catalog.pg_inherits i "
                      "JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid "
                      "WHERE i.inhparent = 'audit.event'::regclass "
                      "AND c.relname ~ '^event_[0-9]{6}$' AND c.relname < $1 ORDER BY c.relname",
                      1, vals, out, err);
}

static int
check_month_over(struct gw_db_conn *c, const char *boundary, struct base_err *err)
{
    const char *vals[1] = {boundary};
    PGresult *res = NULL;
    bool over;

    TRY(gw_db_exec(c, "audit.archive_check",
                   "SELECT $1::timestamptz <= "
                   "(date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')",
                   1, vals, &res, err));
    over = gw_db_val_bool(res, 0, 0);
    PQclear(res);
    ENSURE(over, err, BASE_E_INVALID, "value", "before",
           "cannot archive the current month or later");
    return BASE_OK;
}

static int
verify_before(struct gw_db_conn *c, const struct gw_audit_archive_opts *o, const char *boundary,
              struct base_err *err)
{
    struct gw_audit_verify_opts vo = {0};
    struct gw_audit_verify_result vr;

    vo.to = boundary;
    vo.key = o->key;
    vo.out = o->out;
    TRY(gw_audit_verify(c, &vo, &vr, err));
    if (vr.intact || o->force)
        return BASE_OK;
    return base_err_set(err, BASE_E_CONFLICT, "conflict", vr.first.chain_id,
                        "audit chain is not intact before the boundary (row seq %" PRId64
                        " was %s); not archived",
                        vr.first.seq,
                        vr.first.kind == GW_AUDIT_REMOVED    ? "removed"
                        : vr.first.kind == GW_AUDIT_INSERTED ? "inserted"
                                                             : "changed");
}

int
gw_audit_archive(struct gw_db_conn *c, const struct gw_audit_archive_opts *o, unsigned *out_months,
                 struct base_err *err)
{
    char yyyymm[7];
    char boundary[40];
    PGresult *parts = NULL;
    int rc;

    *out_months = 0;
    ENSURE(parse_month(o->before, yyyymm), err, BASE_E_INVALID, "value", "before",
           "month must be YYYY-MM");
    ENSURE(o->dir != NULL, err, BASE_E_INVALID, "required", "to", "no archive folder given");
    ENSURE(o->key != NULL && gw_audit__key_has_private(o->key), err, BASE_E_INVALID, "required",
           "signing_key", "archiving needs the audit signing key (private)");
    snprintf(boundary, sizeof(boundary), "%.4s-%.2s-01T00:00:00Z", yyyymm, yyyymm + 4);
    TRY(check_month_over(c, boundary, err));
    TRY(list_partitions(c, yyyymm, &parts, err));
    if (PQntuples(parts) == 0) {
        PQclear(parts);
        if (o->out != NULL)
            fprintf(o->out, "archive: no month before %s left to archive\n", o->before);
        return BASE_OK;
    }
    rc = verify_before(c, o, boundary, err);
    if (rc == BASE_OK)
        rc = gw_audit__register_key(c, o->key, err);
    for (int r = 0; r < PQntuples(parts) && rc == BASE_OK; r++) {
        const char *part = PQgetvalue(parts, r, 0);
        char file[4096];
        char sha[65];

        if (!partition_name_ok(part))
            continue;
        rc = gw_db_conn_set_timeout(c, 0, err);
        if (rc == BASE_OK)
            rc = export_month(c, o->dir, part, file, sizeof(file), sha, err);
        if (rc == BASE_OK)
            rc = drop_month(c, o->key, part, file, sha, err);
        if (rc == BASE_OK) {
            (*out_months)++;
            if (o->out != NULL)
                fprintf(o->out, "archive: %s -> %s (sha256 %s), partition dropped\n", part, file,
                        sha);
        }
    }
    PQclear(parts);
    return rc;
}
