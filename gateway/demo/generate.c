/*
 * gw_demo_generate(): the model, then every writer, into one folder.
 *
 * The folder is created when absent.  When it exists it may only hold an
 * earlier generation (the names below), which is removed first, so no
 * stale file survives and a regeneration is byte-identical; anything else
 * in it is refused rather than deleted.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fhir/base/arena.h"
#include "gateway/demo/demo_int.h"

static const char *const generated[] = {"manifest.json", "secrets.json", "hosp-a",
                                        "hosp-b",        "img-c",        "consents"};

struct gw_demo_config
gw_demo_config_default(void)
{
    struct gw_demo_config c = {GW_DEMO_DEFAULT_SEED, GW_DEMO_DEFAULT_AS_OF, GW_DEMO_DEFAULT_PEOPLE};

    return c;
}

static bool
is_generated(const char *name)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(generated); i++) {
        if (strcmp(name, generated[i]) == 0)
            return true;
    }
    return false;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int
mkdir_p(const char *dir)
{
    char path[4096];

    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
        return -1;
    for (char *p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(path, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* Make `dir` an empty place for a generation (see the file comment). */
static int
prepare(const char *dir, struct base_err *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = BASE_OK;

    if (d == NULL) {
        if (errno == ENOENT && mkdir_p(dir) == 0)
            return BASE_OK;
        return base_err_set(err, BASE_E_IO, "exception", "--out", "cannot use the folder: %s",
                            strerror(errno));
    }
    while ((e = readdir(d)) != NULL && rc == BASE_OK) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && !is_generated(e->d_name))
            rc = base_err_set(err, BASE_E_INVALID, "invalid", "--out",
                              "the folder holds files that are not a demo generation");
    }
    closedir(d);
    for (size_t i = 0; i < BASE_ARRAY_LEN(generated) && rc == BASE_OK; i++) {
        char path[4096];

        snprintf(path, sizeof(path), "%s/%s", dir, generated[i]);
        if (access(path, F_OK) == 0 && nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
            rc = base_err_set(err, BASE_E_IO, "exception", generated[i],
                              "could not remove the earlier generation");
    }
    return rc;
}

static void
summarize(const struct demo_region *r, struct gw_demo_summary *s)
{
    const struct demo_person *star = r->star;

    s->patients = r->n_persons;
    for (size_t i = 0; i < r->n_persons; i++) {
        const struct demo_person *p = &r->persons[i];

        s->shared += p->n_rec > 1;
        s->at_three += p->n_rec == 3;
        for (int m = 0; m < DEMO_N_MEMBERS; m++)
            s->records[m] += p->rec[m] != NULL;
    }
    memcpy(s->shared_resident_id, star->resid, sizeof(s->shared_resident_id));
    snprintf(s->shared_name, sizeof(s->shared_name), "%s", star->rec[DEMO_HOSP_A]->name.text);
}

static int
write_all(const struct demo_region *r, struct demo_out *o, struct gw_demo_summary *s,
          struct base_err *err)
{
    json_t *consents = json_array();
    int rc;

    if (consents == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "demo", "out of memory");
    rc = demo_hl7_write_all(r, o, &s->hl7_messages, err);
    if (rc == BASE_OK)
        rc = demo_cda_write_all(r, o, &s->cda_documents, err);
    if (rc == BASE_OK)
        rc = demo_csv_write_all(r, o, &s->csv_rows, err);
    if (rc == BASE_OK)
        rc = demo_dicom_write_all(r, o, &s->dicom_studies, &s->dicom_files, err);
    if (rc == BASE_OK)
        rc = demo_consent_write_all(r, o, consents, err);
    s->consents = json_array_size(consents);
    if (rc == BASE_OK)
        rc = demo_manifest_write(r, o, consents, s, err);
    json_decref(consents);
    return rc;
}

int
gw_demo_generate(const struct gw_demo_config *cfg, const char *out_dir, struct gw_demo_summary *sum,
                 struct base_err *err)
{
    struct base_arena *a = base_arena_new(0);
    struct demo_region r;
    struct demo_out o = {out_dir, 0, 0};
    int rc;

    memset(sum, 0, sizeof(*sum));
    if (a == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", "demo", "out of memory");
    rc = demo_region_build(a, cfg, &r, err);
    if (rc == BASE_OK)
        rc = prepare(out_dir, err);
    if (rc == BASE_OK) {
        summarize(&r, sum);
        rc = write_all(&r, &o, sum, err);
    }
    base_arena_free(a);
    return rc;
}
