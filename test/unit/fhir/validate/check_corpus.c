/*
 * The validator against real data:
 *   - every official R4 example validates with no errors and no warnings;
 *   - every Synthea NDJSON line validates with no errors;
 *   - negative tests generated from the examples: for each example, every
 *     mutation site found by walking it with the model (drop a required
 *     element, change a JSON type, break a date, add an unknown element, put
 *     a bad code in a required binding, add a second value[x]) must give
 *     exactly one error, with the expected code at the expected location.
 * The walk here builds locations independently of the validator, so the
 * two implementations check each other.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/buf.h"
#include "fhir/json/fhir_json.h"
#include "fhir/model/gen/model_ids.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/validate/fhir_validate.h"
#include "test/support/testutil.h"

#define MAX_SITES 4096
/* Mutations tried per category and example (spread over the sites). */
#define PER_CATEGORY 12

struct site {
    json_t *obj;                         /* the object holding the member */
    const struct fhir_model_type *owner; /* its type */
    const char *key;                     /* member name (NULL: object site) */
    char keybuf[80];                     /* key points here: mutations free jansson's */
    struct fhir_model_match match;
    char path[400]; /* location of the member (or object) */
};

struct sites {
    struct site *v;
    size_t n;
};

static void collect(json_t *obj, const struct fhir_model_type *t, const char *path,
                    struct sites *out);

static struct site *
add_site(struct sites *s)
{
    ck_assert_uint_lt(s->n, MAX_SITES);
    memset(&s->v[s->n], 0, sizeof(s->v[0]));
    return &s->v[s->n++];
}

static void
descend(json_t *v, const struct fhir_model_type *t, const char *path, struct sites *out)
{
    if (!json_is_object(v))
        return;
    if (t->kind == FHIR_MODEL_RESOURCE) {
        const char *rt = json_string_value(json_object_get(v, "resourceType"));

        t = fhir_model_type_find(rt, strlen(rt));
        ck_assert_ptr_nonnull(t);
    } else if (t->kind == FHIR_MODEL_PRIMITIVE) {
        return;
    }
    collect(v, t, path, out);
}

static void
collect(json_t *obj, const struct fhir_model_type *t, const char *path, struct sites *out)
{
    const char *key;
    json_t *v;
    struct site *os = add_site(out);

    os->obj = obj;
    os->owner = t;
    snprintf(os->path, sizeof(os->path), "%s", path);
    json_object_foreach(obj, key, v)
    {
        struct site *s;
        char child[400];

        if (strcmp(key, "resourceType") == 0)
            continue;
        s = add_site(out);
        ck_assert_msg(fhir_model_match_key(t, key, strlen(key), &s->match), "%s.%s", path, key);
        ck_assert_uint_lt(strlen(key), sizeof(s->keybuf));
        s->obj = obj;
        s->owner = t;
        snprintf(s->keybuf, sizeof(s->keybuf), "%s", key);
        s->key = s->keybuf;
        snprintf(child, sizeof(child), "%s.%s", path, key[0] == '_' ? key + 1 : key);
        snprintf(s->path, sizeof(s->path), "%s", child);
        if (s->match.is_ext)
            continue;
        if (json_is_array(v)) {
            for (size_t i = 0; i < json_array_size(v); i++) {
                char ip[512];

                snprintf(ip, sizeof(ip), "%s[%zu]", child, i);
                descend(json_array_get(v, i), s->match.type, ip, out);
            }
        } else {
            descend(v, s->match.type, child, out);
        }
    }
}

/* ------------------------------------------------------------ running -- */

struct outcome {
    size_t errors;
    char code[32];
    char where[420];
    char *all;
};

static void
run(json_t *res, struct outcome *o)
{
    json_t *oo = fhir_outcome_new();
    struct fhir_validate_result r;
    const json_t *first;
    size_t len = 0;
    FILE *f;

    ck_assert_int_ne(fhir_validate(res, NULL, oo, &r, NULL), BASE_E_NOMEM);
    o->errors = r.errors;
    /* the first error (CapabilityStatement-example keeps its warning) */
    first = NULL;
    for (size_t i = 0; first == NULL && i < json_array_size(json_object_get(oo, "issue")); i++) {
        const json_t *is = json_array_get(json_object_get(oo, "issue"), i);

        if (strcmp(json_string_value(json_object_get(is, "severity")), "error") == 0)
            first = is;
    }
    snprintf(o->code, sizeof(o->code), "%s",
             first ? json_string_value(json_object_get(first, "code")) : "");
    snprintf(o->where, sizeof(o->where), "%s",
             first ? json_string_value(json_array_get(json_object_get(first, "expression"), 0))
                   : "");
    o->all = NULL;
    f = open_memstream(&o->all, &len);
    fhir_outcome_print(f, "", oo);
    fclose(f);
    json_decref(oo);
}

/*
 * fhir_validate_json() (one-pass fast path, tree fallback) must report
 * exactly what parse + fhir_validate() reports.  Returns whether the fast
 * path settled the document.
 */
static bool
same_as_tree(const char *text, size_t len, const char *label)
{
    json_t *oo_fast = fhir_outcome_new();
    json_t *oo_tree = fhir_outcome_new();
    struct fhir_validate_result rf;
    struct fhir_validate_result rt = {0};
    json_t *v = NULL;
    int rc_fast = fhir_validate_json(text, len, NULL, oo_fast, &rf, NULL);
    int rc_tree = BASE_E_INVALID;

    if (fhir_json_parse(text, len, NULL, &v, NULL) == BASE_OK) {
        rc_tree = fhir_validate(v, NULL, oo_tree, &rt, NULL);
        json_decref(v);
    } else {
        rt.errors = 1;
    }
    ck_assert_msg(rc_fast == rc_tree && rf.errors == rt.errors && rf.warnings == rt.warnings,
                  "%s: fast path %d/%zu/%zu, tree %d/%zu/%zu", label, rc_fast, rf.errors,
                  rf.warnings, rc_tree, rt.errors, rt.warnings);
    if (v != NULL || rt.issues > 0) {
        char *a = NULL;
        char *b = NULL;
        size_t la = 0;
        size_t lb = 0;
        FILE *fa = open_memstream(&a, &la);
        FILE *fb = open_memstream(&b, &lb);

        fhir_outcome_print(fa, "", oo_fast);
        fhir_outcome_print(fb, "", oo_tree);
        fclose(fa);
        fclose(fb);
        if (rc_tree != BASE_E_INVALID || rt.issues > 0)
            ck_assert_msg(strcmp(a, b) == 0, "%s: fast path:\n%s\ntree:\n%s", label, a, b);
        free(a);
        free(b);
    }
    json_decref(oo_fast);
    json_decref(oo_tree);
    return rf.fast;
}

struct tally {
    size_t tried[6];    /* mutations per category */
    size_t examples[6]; /* examples with at least one mutation of a category */
};

enum cat { CAT_DROP, CAT_JSON_TYPE, CAT_DATE, CAT_UNKNOWN, CAT_CODE, CAT_CHOICE };

static const char *const cat_names[] = {"drop-required",   "json-type", "break-date",
                                        "unknown-element", "bad-code",  "second-choice"};

static void
expect_one(json_t *res, const char *code, const char *where, const char *file, enum cat c)
{
    struct outcome o;
    struct base_buf text;

    /* the text form of the mutated document takes the same verdict */
    base_buf_init(&text, 0);
    ck_assert_int_eq(fhir_json_dump(res, FHIR_JSON_COMPACT, &text, NULL), BASE_OK);
    ck_assert(!same_as_tree(text.data, text.len, file));
    base_buf_fini(&text);
    run(res, &o);
    ck_assert_msg(o.errors == 1 && strcmp(o.code, code) == 0 && strcmp(o.where, where) == 0,
                  "%s: mutation %s: want one %s at %s, got %zu errors:\n%s", file, cat_names[c],
                  code, where, o.errors, o.all);
    free(o.all);
}

static bool
is_prim(const struct site *s, enum fhir_model_prim p)
{
    return s->key != NULL && !s->match.is_ext && s->match.type->prim == p;
}

/* A sample value of a type, for adding a choice alternative. */
static json_t *
sample(const struct fhir_model_type *t)
{
    switch (t->prim) {
    case FHIR_PRIM_BOOLEAN:
        return json_true();
    case FHIR_PRIM_STRING:
    case FHIR_PRIM_MARKDOWN:
        return json_string("sample");
    case FHIR_PRIM_INTEGER:
    case FHIR_PRIM_POSITIVEINT:
    case FHIR_PRIM_UNSIGNEDINT:
    case FHIR_PRIM_DECIMAL:
        return json_integer(1);
    case FHIR_PRIM_DATE:
    case FHIR_PRIM_DATETIME:
        return json_string("2015");
    case FHIR_PRIM_URI:
    case FHIR_PRIM_URL:
    case FHIR_PRIM_CANONICAL:
        return json_string("http://example.org/x");
    case FHIR_PRIM_NONE:
        break;
    default:
        return NULL;
    }
    switch (t->index) {
    case FHIR_T_QUANTITY:
    case FHIR_T_AGE:
    case FHIR_T_DURATION:
        return json_pack("{s:i}", "value", 1);
    case FHIR_T_CODEABLECONCEPT:
        return json_pack("{s:s}", "text", "sample");
    case FHIR_T_PERIOD:
        return json_pack("{s:s}", "start", "2015");
    case FHIR_T_REFERENCE:
        return json_pack("{s:s}", "display", "sample");
    case FHIR_T_IDENTIFIER:
        return json_pack("{s:s}", "value", "sample");
    default:
        return NULL;
    }
}

/* A value of the wrong JSON type for a primitive: numbers and booleans as
 * strings, everything else as a number. */
static json_t *
wrong_json(const struct fhir_model_type *t)
{
    switch (t->prim) {
    case FHIR_PRIM_BOOLEAN:
        return json_string("true");
    case FHIR_PRIM_DECIMAL:
    case FHIR_PRIM_INTEGER:
    case FHIR_PRIM_POSITIVEINT:
    case FHIR_PRIM_UNSIGNEDINT:
        return json_string("12345");
    default:
        return json_integer(12345);
    }
}

/* Does the value hold a local reference ("#id")?  Dropping it or changing
 * its JSON type would also leave a contained resource that nothing refers
 * to (dom-3): a second error. */
static bool
holds_local_ref(const json_t *v)
{
    const char *key;
    const json_t *x;
    size_t i;

    if (fhir_json_is_string(v))
        return json_string_value(v)[0] == '#';
    json_array_foreach((json_t *)v, i, x)
    {
        if (holds_local_ref(x))
            return true;
    }
    json_object_foreach((json_t *)v, key, x)
    {
        if (holds_local_ref(x))
            return true;
    }
    return false;
}

/* Sites of one category, in order. */
static size_t
pick(const struct sites *all, enum cat c, const struct site **out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < all->n && n < max; i++) {
        const struct site *s = &all->v[i];
        const json_t *v = s->key ? json_object_get(s->obj, s->key) : NULL;
        bool ok = false;

        switch (c) {
        case CAT_DROP:
            /* a required element in value form, not alone in its object */
            ok = s->key && !s->match.is_ext && s->match.elem->min > 0 &&
                 json_object_size(s->obj) > 1 && !holds_local_ref(v);
            if (ok) {
                char u[128];

                snprintf(u, sizeof(u), "_%s", s->key);
                ok = json_object_get(s->obj, u) == NULL;
            }
            break;
        case CAT_JSON_TYPE:
            /* not ids: a contained id also anchors local references */
            ok = s->key && !s->match.is_ext && !json_is_array(v) && strcmp(s->key, "id") != 0 &&
                 s->match.type->kind == FHIR_MODEL_PRIMITIVE && !holds_local_ref(v);
            break;
        case CAT_DATE:
            ok = (is_prim(s, FHIR_PRIM_DATE) || is_prim(s, FHIR_PRIM_DATETIME) ||
                  is_prim(s, FHIR_PRIM_INSTANT)) &&
                 !json_is_array(v);
            break;
        case CAT_UNKNOWN:
            ok = s->key == NULL;
            break;
        case CAT_CODE:
            ok = is_prim(s, FHIR_PRIM_CODE) && !json_is_array(v) &&
                 s->match.elem->valueset != NULL &&
                 (s->match.elem->valueset->kind == FHIR_VS_CODES ||
                  s->match.elem->valueset->kind == FHIR_VS_MIME_TYPE);
            break;
        case CAT_CHOICE:
            ok = s->key && !s->match.is_ext && fhir_model_elem_is_choice(s->match.elem);
            break;
        default:
            break;
        }
        if (ok)
            out[n++] = s;
    }
    return n;
}

/* Spread `want` picks over n candidates. */
static size_t
spread(size_t n, size_t k, size_t want)
{
    return n <= want ? k : k * n / want;
}

static void
mutate_drop(json_t *res, const struct site *s, const char *file)
{
    json_t *old = json_incref(json_object_get(s->obj, s->key));
    char where[420];
    size_t cut = strlen(s->path) - strlen(s->key);

    /* the location names the element; a choice group by its "[x]" name */
    snprintf(where, sizeof(where), "%.*s%s%s", (int)cut, s->path, s->match.elem->name,
             fhir_model_elem_is_choice(s->match.elem) ? "[x]" : "");
    json_object_del(s->obj, s->key);
    expect_one(res, "required", where, file, CAT_DROP);
    json_object_set_new(s->obj, s->key, old);
}

static void
mutate_replace(json_t *res, const struct site *s, json_t *bad, const char *code, enum cat c,
               const char *file)
{
    json_t *old = json_incref(json_object_get(s->obj, s->key));

    json_object_set_new(s->obj, s->key, bad);
    expect_one(res, code, s->path, file, c);
    json_object_set_new(s->obj, s->key, old);
}

static void
mutate_add(json_t *res, json_t *obj, const char *key, json_t *val, const char *where,
           const char *code, enum cat c, const char *file)
{
    json_object_set_new(obj, key, val);
    expect_one(res, code, where, file, c);
    json_object_del(obj, key);
}

static void
mutate_choice(json_t *res, const struct site *s, const char *file)
{
    const struct fhir_model_elem *e = s->match.elem;
    size_t cut = strlen(s->path) - strlen(s->key);

    for (size_t i = 0; i < e->choice_count; i++) {
        json_t *val;
        char where[420];

        if (i == s->match.choice_index)
            continue;
        val = sample(e->choices[i].type);
        if (val == NULL)
            continue;
        snprintf(where, sizeof(where), "%.*s%s", (int)cut, s->path, e->choices[i].json_name);
        mutate_add(res, s->obj, e->choices[i].json_name, val, where, "structure", CAT_CHOICE, file);
        return;
    }
}

/* Last resort: a new extension with two values on the first object that
 * may carry extensions. */
static bool
extension_fallback(json_t *res, const struct sites *all, const char *file)
{
    for (size_t i = 0; i < all->n; i++) {
        const struct site *s = &all->v[i];
        json_t *exts;
        json_t *ext;
        char where[600];
        size_t n;

        if (s->key != NULL || fhir_model_elem_find(s->owner, "extension", 9) == NULL ||
            s->owner->index == FHIR_T_EXTENSION)
            continue;
        exts = json_object_get(s->obj, "extension");
        n = json_array_size(exts);
        ext = json_pack("{s:s,s:s}", "url", "http://example.org/x", "valueString", "a");
        snprintf(where, sizeof(where), "%s.extension[%zu].valueBoolean", s->path, n);
        if (exts == NULL) {
            exts = json_array();
            json_object_set_new(s->obj, "extension", exts);
        }
        json_array_append_new(exts, ext);
        mutate_add(res, ext, "valueBoolean", json_true(), where, "structure", CAT_CHOICE, file);
        json_array_remove(exts, n);
        if (n == 0)
            json_object_del(s->obj, "extension");
        return true;
    }
    /* Binary has neither choice groups nor extensions, but its meta may */
    if (json_object_get(res, "meta") == NULL) {
        const char *rt = json_string_value(json_object_get(res, "resourceType"));
        char where[128];

        snprintf(where, sizeof(where), "%s.meta.extension[0].valueBoolean", rt);
        mutate_add(res, res, "meta",
                   json_pack("{s:[{s:s,s:s,s:b}]}", "extension", "url", "http://example.org/x",
                             "valueString", "a", "valueBoolean", 1),
                   where, "structure", CAT_CHOICE, file);
        return true;
    }
    return false;
}

/* Examples without a choice value: add two alternatives of an absent
 * choice group to some object (not an Extension, where ext-1 would also
 * object); the second is the error. */
static bool
choice_fallback(json_t *res, const struct sites *all, const char *file)
{
    for (size_t i = 0; i < all->n; i++) {
        const struct site *s = &all->v[i];
        const struct fhir_model_type *t = s->owner;

        if (s->key != NULL || t->index == FHIR_T_EXTENSION)
            continue;
        for (size_t j = 0; j < t->elem_count; j++) {
            const struct fhir_model_elem *e = &t->elems[j];
            size_t got = 0;
            size_t alt[2];
            bool present = false;

            if (!fhir_model_elem_is_choice(e))
                continue;
            for (size_t k = 0; k < e->choice_count; k++) {
                json_t *probe = sample(e->choices[k].type);

                present |= json_object_get(s->obj, e->choices[k].json_name) != NULL;
                if (probe != NULL && got < 2)
                    alt[got++] = k;
                json_decref(probe);
            }
            if (present || got < 2)
                continue;
            {
                char where[440];

                snprintf(where, sizeof(where), "%s.%s", s->path, e->choices[alt[1]].json_name);
                json_object_set_new(s->obj, e->choices[alt[0]].json_name,
                                    sample(e->choices[alt[0]].type));
                mutate_add(res, s->obj, e->choices[alt[1]].json_name,
                           sample(e->choices[alt[1]].type), where, "structure", CAT_CHOICE, file);
                json_object_del(s->obj, e->choices[alt[0]].json_name);
            }
            return true;
        }
    }
    return extension_fallback(res, all, file);
}

/* Examples without a date: break Resource.meta.lastUpdated (an instant). */
static void
date_fallback(json_t *res, const char *file)
{
    const char *rt = json_string_value(json_object_get(res, "resourceType"));
    json_t *meta = json_object_get(res, "meta");
    char where[128];

    snprintf(where, sizeof(where), "%s.meta.lastUpdated", rt);
    if (meta == NULL) {
        mutate_add(res, res, "meta", json_pack("{s:s}", "lastUpdated", "2015-13-45T00:00:00Z"),
                   where, "value", CAT_DATE, file);
        return;
    }
    ck_assert_ptr_null(json_object_get(meta, "lastUpdated"));
    mutate_add(res, meta, "lastUpdated", json_string("2015-13-45T00:00:00Z"), where, "value",
               CAT_DATE, file);
}

static void
mutate_example(const char *file, json_t *res, struct tally *t)
{
    struct sites all = {calloc(MAX_SITES, sizeof(struct site)), 0};
    const struct site **picked = calloc(MAX_SITES, sizeof(*picked));
    const char *rt = json_string_value(json_object_get(res, "resourceType"));

    collect(res, fhir_model_type_find(rt, strlen(rt)), rt, &all);
    for (int c = CAT_DROP; c <= CAT_CHOICE; c++) {
        size_t n = pick(&all, (enum cat)c, picked, MAX_SITES);

        if (n == 0 && c == CAT_DATE) {
            date_fallback(res, file);
            t->tried[c]++;
            t->examples[c]++;
            continue;
        }
        if (n == 0 && c == CAT_CHOICE) {
            if (choice_fallback(res, &all, file)) {
                t->tried[c]++;
                t->examples[c]++;
            }
            continue;
        }
        t->examples[c] += n > 0;
        for (size_t k = 0; k < n && k < PER_CATEGORY; k++) {
            const struct site *s = picked[spread(n, k, PER_CATEGORY)];
            char where[440];

            t->tried[c]++;
            switch (c) {
            case CAT_DROP:
                mutate_drop(res, s, file);
                break;
            case CAT_JSON_TYPE:
                mutate_replace(res, s, wrong_json(s->match.type), "structure", CAT_JSON_TYPE, file);
                break;
            case CAT_DATE:
                mutate_replace(res, s, json_string("2015-13-45"), "value", CAT_DATE, file);
                break;
            case CAT_UNKNOWN:
                snprintf(where, sizeof(where), "%s.fhirgateUnknown", s->path);
                mutate_add(res, s->obj, "fhirgateUnknown", json_true(), where, "structure",
                           CAT_UNKNOWN, file);
                break;
            case CAT_CODE:
                mutate_replace(res, s, json_string("not-a-real-code-zz"), "code-invalid", CAT_CODE,
                               file);
                break;
            case CAT_CHOICE:
                mutate_choice(res, s, file);
                break;
            default:
                break;
            }
        }
    }
    free(picked);
    free(all.v);
}

/* ------------------------------------------------------------- tests -- */

static json_t *
load(const char *path)
{
    size_t len;
    char *text = tu_read_file(path, &len);
    json_t *v = NULL;
    struct base_err err = {0};

    ck_assert_msg(text != NULL, "cannot read %s", path);
    ck_assert_msg(fhir_json_parse(text, len, NULL, &v, &err) == BASE_OK, "%s: %s", path, err.msg);
    free(text);
    return v;
}

START_TEST(official_examples_are_valid)
{
    size_t n;
    char **files = tu_list_dir(tu_corpus_path("fhir-r4-examples/json"), ".json", &n);

    ck_assert_uint_ge(n, 100);
    for (size_t i = 0; i < n; i++) {
        json_t *v = load(files[i]);
        struct outcome o;

        size_t len;
        char *text = tu_read_file(files[i], &len);

        run(v, &o);
        /* no warnings either: nothing in the examples is questionable, but
         * CapabilityStatement-example's url, urn:uuid:68D043B5-..., spells
         * its hex digits in upper case (datatypes.html: "use all
         * lowercase"), which is a warning */
        if (strstr(files[i], "/CapabilityStatement-example.json") != NULL)
            ck_assert_msg(o.errors == 0 &&
                              strcmp(o.all, ": CapabilityStatement.url: warning: value: urn:uuid "
                                            "with upper-case hex digits (datatypes.html: use all "
                                            "lowercase)\n") == 0,
                          "%s:\n%s", files[i], o.all);
        else
            ck_assert_msg(o.all[0] == '\0', "%s:\n%s", files[i], o.all);
        free(o.all);
        json_decref(v);
        /* and the one-pass path settles each of them by itself */
        ck_assert_msg(same_as_tree(text, len, files[i]), "%s: not settled by the fast path",
                      files[i]);
        free(text);
    }
    tu_free_list(files);
}
END_TEST

/*
 * Synthea's bulk export keeps the conditional references of the
 * transaction Bundles it was generated from ("Practitioner?identifier=
 * http://hl7.org/fhir/sid/us-npi|…" in Encounter.participant.individual,
 * DocumentReference.author, …).  Outside a transaction nothing resolves such
 * a reference (http.html#trules), so the validator warns; that is the only
 * issue any line raises.
 */
START_TEST(synthea_lines_are_valid)
{
    size_t n;
    char **files = tu_list_dir(tu_corpus_path("synthea/bulk-ndjson-10-patients"), ".ndjson", &n);
    size_t lines = 0;
    size_t warned = 0;

    ck_assert_uint_ge(n, 12);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        char *text = tu_read_file(files[i], &len);
        const char *p = text;
        const char *end = text + len;

        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t ll = (size_t)((nl != NULL ? nl : end) - p);
            json_t *oo = fhir_outcome_new();
            struct fhir_validate_result r;
            int rc = fhir_validate_json(p, ll, NULL, oo, &r, NULL);
            json_t *issues = json_object_get(oo, "issue");

            ck_assert_msg(rc == BASE_OK && r.errors == 0, "%s line %zu", files[i], lines + 1);
            for (size_t k = 0; k < json_array_size(issues); k++) {
                const char *d =
                    json_string_value(json_object_get(json_array_get(issues, k), "diagnostics"));

                ck_assert_msg(strstr(d, "conditional reference") != NULL, "%s: %s", files[i], d);
                warned++;
            }
            json_decref(oo);
            lines++;
            ck_assert_msg(r.fast, "%s line %zu: not settled by the fast path", files[i], lines);
            (void)same_as_tree(p, ll, files[i]);
            p += ll + 1;
        }
        free(text);
    }
    ck_assert_uint_ge(lines, 700);
    ck_assert_uint_gt(warned, 0);
    tu_free_list(files);
}
END_TEST

START_TEST(mutations_of_examples_are_rejected)
{
    size_t n;
    char **files = tu_list_dir(tu_corpus_path("fhir-r4-examples/json"), ".json", &n);
    struct tally t = {{0}, {0}};

    for (size_t i = 0; i < n; i++) {
        json_t *v = load(files[i]);
        const char *base = strrchr(files[i], '/') + 1;
        struct outcome o;

        mutate_example(base, v, &t);
        /* every mutation was undone */
        run(v, &o);
        ck_assert_msg(o.errors == 0, "%s: not restored:\n%s", base, o.all);
        free(o.all);
        json_decref(v);
    }
    /* every category reached every example, most of them several times */
    for (int c = CAT_DROP; c <= CAT_CHOICE; c++) {
        ck_assert_msg(t.examples[c] == n, "%s: %zu of %zu examples", cat_names[c], t.examples[c],
                      n);
        ck_assert_msg(t.tried[c] >= n, "%s: only %zu mutations", cat_names[c], t.tried[c]);
    }
    tu_free_list(files);
}
END_TEST

Suite *fhir_validate_corpus_suite(void)
{
    Suite *s = suite_create("fhir_validate_corpus");
    TCase *tc = tcase_create("corpus");

    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, official_examples_are_valid);
    tcase_add_test(tc, synthea_lines_are_valid);
    tcase_add_test(tc, mutations_of_examples_are_rejected);
    suite_add_tcase(s, tc);
    return s;
}
