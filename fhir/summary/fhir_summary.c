/*
 * _summary=true and _summary=text subsets (fhir_summary.h).  The summary
 * elements are a sorted table of "Type.path" (gen/summary_paths.c); a
 * resource's members are matched to their elements through fhir/model, so
 * that "valueQuantity" is the element "value" and "_status" goes with
 * "status".
 */
#include "fhir/summary/fhir_summary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/err.h"
#include "fhir/model/fhir_model.h"
#include "fhir/summary/summary_int.h"

#define PATH_MAX_LEN 256 /* "Type.a.b.c": the longest R4 path is well below */

static int
cmp_path(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

bool
fhir_summary_is_element(const char *type, const char *path, size_t path_len)
{
    char full[PATH_MAX_LEN];
    int n = snprintf(full, sizeof(full), "%s.%.*s", type, (int)path_len, path);

    if (n < 0 || (size_t)n >= sizeof(full))
        return false;
    return bsearch(full, fhir_summary__paths, fhir_summary__path_count,
                   sizeof(fhir_summary__paths[0]), cmp_path) != NULL;
}

int
fhir_summary_tag_subsetted(json_t *res)
{
    json_t *meta = json_object_get(res, "meta");
    json_t *tags;

    if (!json_is_object(meta)) {
        meta = json_object();
        if (meta == NULL || json_object_set_new(res, "meta", meta) != 0)
            return BASE_E_NOMEM;
    }
    tags = json_object_get(meta, "tag");
    if (!json_is_array(tags)) {
        tags = json_array();
        if (tags == NULL || json_object_set_new(meta, "tag", tags) != 0)
            return BASE_E_NOMEM;
    }
    return json_array_append_new(
               tags, json_pack("{s:s, s:s}", "system",
                               "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code",
                               "SUBSETTED")) == 0
               ? BASE_OK
               : BASE_E_NOMEM;
}

struct walk {
    const char *root; /* the resource type, first part of every path */
    enum fhir_summary_mode mode;
};

static int subset_object(const struct walk *w, const json_t *src, const struct fhir_model_type *t,
                         const char *prefix, size_t prefix_len, json_t **out);

/* One backbone object's subset; *out NULL when nothing of it is left (FHIR
 * has no empty objects: it goes). */
static int
backbone_subset(const struct walk *w, const json_t *v, const struct fhir_model_match *m,
                const char *path, size_t path_len, json_t **out)
{
    int rc;

    *out = NULL;
    if (!json_is_object(v)) {
        *out = json_incref((json_t *)v);
        return BASE_OK;
    }
    rc = subset_object(w, v, m->type, path, path_len, out);
    if (rc == BASE_OK && json_object_size(*out) == 0) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

/* A kept member's value: a backbone element is subset in turn (its own
 * summary elements), anything else is kept whole.  *out NULL: nothing of a
 * backbone element is left — unless it is mandatory, then it stays whole. */
static int
kept_value(const struct walk *w, const json_t *v, const struct fhir_model_match *m,
           const char *path, size_t path_len, json_t **out)
{
    size_t i;
    const json_t *item;
    int rc = BASE_OK;

    *out = NULL;
    if (m->is_ext || m->type == NULL || m->type->kind != FHIR_MODEL_BACKBONE ||
        w->mode != FHIR_SUMMARY_TRUE) {
        *out = json_incref((json_t *)v);
        return BASE_OK;
    }
    if (!json_is_array(v)) {
        rc = backbone_subset(w, v, m, path, path_len, out);
    } else if ((*out = json_array()) == NULL) {
        return BASE_E_NOMEM;
    } else {
        json_array_foreach(v, i, item)
        {
            json_t *sub = NULL;

            rc = backbone_subset(w, item, m, path, path_len, &sub);
            if (rc != BASE_OK || (sub != NULL && json_array_append_new(*out, sub) != 0)) {
                rc = rc != BASE_OK ? rc : BASE_E_NOMEM;
                break;
            }
        }
        if (rc == BASE_OK && json_array_size(*out) == 0) {
            json_decref(*out);
            *out = NULL;
        }
    }
    if (rc != BASE_OK) {
        json_decref(*out);
        *out = NULL;
        return rc;
    }
    if (*out == NULL && m->elem->min >= 1)
        *out = json_incref((json_t *)v);
    return BASE_OK;
}

static bool
keep(const struct walk *w, const char *key, const struct fhir_model_match *m, const char *path,
     size_t path_len, bool top)
{
    if (top && strcmp(key, "resourceType") == 0)
        return true;
    if (m->elem->min >= 1)
        return top || w->mode == FHIR_SUMMARY_TRUE;
    if (w->mode == FHIR_SUMMARY_TEXT)
        return top && (strcmp(m->elem->name, "text") == 0 || strcmp(m->elem->name, "id") == 0 ||
                       strcmp(m->elem->name, "meta") == 0);
    return fhir_summary_is_element(w->root, path, path_len);
}

static int
subset_object(const struct walk *w, const json_t *src, const struct fhir_model_type *t,
              const char *prefix, size_t prefix_len, json_t **out)
{
    json_t *kept = json_object();
    const char *key;
    json_t *v;
    bool top = prefix_len == 0;

    *out = NULL;
    if (kept == NULL)
        return BASE_E_NOMEM;
    json_object_foreach((json_t *)src, key, v)
    {
        struct fhir_model_match m;
        char path[PATH_MAX_LEN];
        int n;
        json_t *val = NULL;
        int rc;

        if (top && strcmp(key, "resourceType") == 0) {
            if (json_object_set(kept, key, v) != 0)
                goto nomem;
            continue;
        }
        /* not an element of the type: never part of a summary */
        if (!fhir_model_match_key(t, key, strlen(key), &m))
            continue;
        n = snprintf(path, sizeof(path), "%.*s%s%.*s", (int)prefix_len, prefix, top ? "" : ".",
                     (int)m.elem->name_len, m.elem->name);
        if (n < 0 || (size_t)n >= sizeof(path) || !keep(w, key, &m, path, (size_t)n, top))
            continue;
        rc = kept_value(w, v, &m, path, (size_t)n, &val);
        if (rc != BASE_OK) {
            json_decref(kept);
            return rc;
        }
        if (val != NULL && json_object_set_new(kept, key, val) != 0)
            goto nomem;
    }
    *out = kept;
    return BASE_OK;
nomem:
    json_decref(kept);
    return BASE_E_NOMEM;
}

/* Does the tree hold a local reference ("reference": "#…")? */
static bool
has_local_reference(const json_t *v, int depth)
{
    const char *key;
    const json_t *x;
    size_t i;

    if (depth > 64) /* deeper than any resource validates */
        return false;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x)
        {
            if (has_local_reference(x, depth + 1))
                return true;
        }
        return false;
    }
    json_object_foreach((json_t *)v, key, x)
    {
        const char *s = json_string_value(x);

        if ((strcmp(key, "reference") == 0 && s != NULL && s[0] == '#') ||
            ((json_is_object(x) || json_is_array(x)) && has_local_reference(x, depth + 1)))
            return true;
    }
    return false;
}

int
fhir_summary_subset(const json_t *res, enum fhir_summary_mode mode, json_t **out)
{
    const char *rt = json_string_value(json_object_get(res, "resourceType"));
    const struct fhir_model_type *t = rt != NULL ? fhir_model_type_find(rt, strlen(rt)) : NULL;
    struct walk w = {rt, mode};
    json_t *meta;
    int rc;

    *out = NULL;
    if (t == NULL || t->kind != FHIR_MODEL_RESOURCE)
        return BASE_E_INVALID;
    rc = subset_object(&w, res, t, "", 0, out);
    if (rc != BASE_OK)
        return rc;
    /* contained resources are not summary elements, but what is kept may
     * point into them ("#a2"): then they stay, or the subset would break
     * ref-1 (R4 references.html#contained) */
    if (json_object_get(res, "contained") != NULL && json_object_get(*out, "contained") == NULL &&
        has_local_reference(*out, 0) &&
        json_object_set(*out, "contained", json_object_get(res, "contained")) != 0)
        rc = BASE_E_NOMEM;
    /* the tag goes on a copy of meta: the caller's resource is not touched */
    meta = json_object_get(*out, "meta");
    if (meta != NULL && json_object_set_new(*out, "meta", json_deep_copy(meta)) != 0)
        rc = BASE_E_NOMEM;
    if (rc == BASE_OK)
        rc = fhir_summary_tag_subsetted(*out);
    if (rc != BASE_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}
