/*
 * FHIR XML against real data:
 *   - every official R4 JSON example and every Synthea NDJSON line goes
 *     JSON -> XML -> JSON and comes back equal (fhir_json_equal: decimal
 *     text exact), compact and pretty-printed, and the XML validates with
 *     no issues, exactly as the JSON does;
 *   - every XML we write validates against the official R4 XSD
 *     (fhir-single.xsd, read in place) with libxml2's schema validator —
 *     an independent check of element order, names and value attributes;
 *   - the two official XML examples read into the matching JSON examples;
 *   - the same rules: mutations of the examples that XML can express
 *     (drop a required element, break a date, bad code in a required
 *     binding) give, through XML, exactly the issues the JSON gives.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "fhir/base/buf.h"
#include "fhir/base/str.h"
#include "fhir/json/fhir_json.h"
#include "fhir/model/fhir_model.h"
#include "fhir/outcome/fhir_outcome.h"
#include "fhir/validate/fhir_validate.h"
#include "fhir/xml/fhir_xml.h"
#include "test/support/testutil.h"

/* ------------------------------------------------------------ helpers -- */

struct doc {
    char *label;
    char *text;
    size_t len;
};

struct docs {
    struct doc *v;
    size_t n;
};

static void
add_doc(struct docs *d, const char *label, const char *text, size_t len)
{
    d->v = realloc(d->v, (d->n + 1) * sizeof(*d->v));
    ck_assert_ptr_nonnull(d->v);
    d->v[d->n].label = strdup(label);
    d->v[d->n].text = strndup(text, len);
    d->v[d->n].len = len;
    d->n++;
}

static struct docs
load_examples(void)
{
    struct docs d = {0};
    size_t n = 0;
    char **files = tu_list_dir(tu_corpus_path("fhir-r4-examples/json"), ".json", &n);

    ck_assert_msg(files != NULL && n >= 100, "official examples not found");
    for (size_t i = 0; i < n; i++) {
        size_t len;
        char *text = tu_read_file(files[i], &len);

        ck_assert_ptr_nonnull(text);
        add_doc(&d, strrchr(files[i], '/') + 1, text, len);
        free(text);
    }
    tu_free_list(files);
    return d;
}

static struct docs
load_synthea(void)
{
    struct docs d = {0};
    size_t n = 0;
    char **files = tu_list_dir(tu_corpus_path("synthea/bulk-ndjson-10-patients"), ".ndjson", &n);

    ck_assert_msg(files != NULL && n > 0, "Synthea NDJSON not found");
    for (size_t i = 0; i < n; i++) {
        size_t len;
        char *text = tu_read_file(files[i], &len);
        char *p = text;
        size_t line = 0;

        ck_assert_ptr_nonnull(text);
        while (p < text + len) {
            char *nl = memchr(p, '\n', (size_t)(text + len - p));
            char *eol = nl != NULL ? nl : text + len;
            char label[512];

            line++;
            if (eol > p) {
                snprintf(label, sizeof(label), "%s:%zu", strrchr(files[i], '/') + 1, line);
                add_doc(&d, label, p, (size_t)(eol - p));
            }
            p = eol + 1;
        }
        free(text);
    }
    tu_free_list(files);
    return d;
}

static void
free_docs(struct docs *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].label);
        free(d->v[i].text);
    }
    free(d->v);
}

static json_t *
parse_json(const struct doc *d)
{
    json_t *j = NULL;
    struct base_err err = {0};

    ck_assert_msg(fhir_json_parse(d->text, d->len, NULL, &j, &err) == BASE_OK, "%s: %s", d->label,
                  err.msg);
    return j;
}

/* JSON tree -> XML text in b (reset first). */
static void
write_xml(const char *label, const json_t *j, unsigned flags, struct base_buf *b)
{
    struct base_err err = {0};

    base_buf_reset(b);
    ck_assert_msg(fhir_xml_write(j, flags, b, &err) == BASE_OK, "%s: write: %s: %s", label,
                  err.where, err.msg);
}

/* Every issue of an OperationOutcome as text, for comparisons. */
static char *
issues_text(const json_t *oo)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    fhir_outcome_print(f, "", oo);
    fclose(f);
    return text;
}

/* ----------------------------------------------------- XSD (libxml2) -- */

struct xsd_errors {
    int count;
    char first[300];
};

static void
on_xsd_error(void *ctx, xmlErrorPtr e)
{
    struct xsd_errors *x = ctx;

    if (x->count++ == 0)
        snprintf(x->first, sizeof(x->first), "line %d: %s", e->line,
                 e->message != NULL ? e->message : "?");
}

static void
quiet(void *ctx, xmlErrorPtr e)
{
    (void)ctx;
    (void)e;
}

static xmlSchemaPtr
load_schema(void)
{
    xmlSchemaParserCtxtPtr pc =
        xmlSchemaNewParserCtxt(tu_corpus_path("fhir-r4-schema/fhir-single.xsd"));
    xmlSchemaPtr s;

    ck_assert_ptr_nonnull(pc);
    xmlSchemaSetParserStructuredErrors(pc, quiet, NULL);
    s = xmlSchemaParse(pc);
    xmlSchemaFreeParserCtxt(pc);
    ck_assert_msg(s != NULL, "could not load fhir-single.xsd");
    return s;
}

/* Problems the official XSD finds in `text` (0: valid). */
static struct xsd_errors
xsd_check(xmlSchemaPtr s, const char *text, size_t len)
{
    struct xsd_errors x = {0};
    xmlDocPtr d = xmlReadMemory(text, (int)len, "out.xml", NULL, XML_PARSE_NONET);
    xmlSchemaValidCtxtPtr v;

    ck_assert_ptr_nonnull(d);
    v = xmlSchemaNewValidCtxt(s);
    ck_assert_ptr_nonnull(v);
    xmlSchemaSetValidStructuredErrors(v, on_xsd_error, &x);
    if (xmlSchemaValidateDoc(v, d) != 0 && x.count == 0)
        x.count = 1;
    xmlSchemaFreeValidCtxt(v);
    xmlFreeDoc(d);
    return x;
}

/* ---------------------------------------------------------- round trip -- */

/* JSON -> XML -> JSON equal, XML valid (no issues, like the JSON), XSD
 * valid; returns the number of documents checked. */
static size_t
round_trip_all(const struct docs *d, xmlSchemaPtr schema)
{
    static const unsigned flag_sets[] = {FHIR_XML_COMPACT, FHIR_XML_PRETTY};
    struct base_buf b;

    base_buf_init(&b, 0);
    for (size_t i = 0; i < d->n; i++) {
        json_t *j = parse_json(&d->v[i]);
        json_t *json_oo = fhir_outcome_new();
        struct fhir_validate_result jr = {0};

        ck_assert_int_ne(fhir_validate(j, NULL, json_oo, &jr, NULL), BASE_E_NOMEM);
        for (size_t k = 0; k < BASE_ARRAY_LEN(flag_sets); k++) {
            json_t *back = NULL;
            json_t *oo = fhir_outcome_new();
            struct fhir_validate_result xr = {0};
            struct base_err err = {0};
            char *a;
            char *c;

            write_xml(d->v[i].label, j, flag_sets[k], &b);
            ck_assert_msg(fhir_xml_read(b.data, b.len, NULL, oo, &back, &err) == BASE_OK,
                          "%s: read back: %s: %s", d->v[i].label, err.where, err.msg);
            ck_assert_msg(fhir_json_equal(j, back), "%s: JSON -> XML -> JSON differs",
                          d->v[i].label);
            json_decref(back);
            json_decref(oo);
            /* the XML gets exactly the JSON's issues (none for the examples;
             * conditional-reference warnings for some Synthea lines) */
            oo = fhir_outcome_new();
            ck_assert_int_ne(fhir_xml_validate(b.data, b.len, NULL, oo, &xr, NULL), BASE_E_NOMEM);
            a = issues_text(json_oo);
            c = issues_text(oo);
            ck_assert_msg(strcmp(a, c) == 0 && xr.errors == jr.errors,
                          "%s: XML issues\n%s\nJSON\n%s", d->v[i].label, c, a);
            free(a);
            free(c);
            json_decref(oo);
            if (schema != NULL) {
                struct xsd_errors x = xsd_check(schema, b.data, b.len);

                ck_assert_msg(x.count == 0, "%s: XSD: %s", d->v[i].label, x.first);
            }
        }
        ck_assert_uint_eq(jr.errors, 0);
        json_decref(json_oo);
        json_decref(j);
    }
    base_buf_fini(&b);
    return d->n;
}

START_TEST(examples_round_trip_and_validate)
{
    struct docs d = load_examples();
    xmlSchemaPtr schema = load_schema();

    ck_assert_uint_eq(round_trip_all(&d, schema), 102);
    xmlSchemaFree(schema);
    free_docs(&d);
}
END_TEST

START_TEST(synthea_round_trip_and_validate)
{
    struct docs d = load_synthea();
    xmlSchemaPtr schema = load_schema();

    ck_assert_uint_ge(round_trip_all(&d, schema), 700);
    xmlSchemaFree(schema);
    free_docs(&d);
}
END_TEST

/* Decimals keep their text through XML, in every form JSON allows. */
START_TEST(example_decimals_exact)
{
    static const char *const lits[] = {
        "1.50",     "0.000",   "-0",  "1e3",
        "6.02E+23", "-1.0e-7", "100", "12345678901234567890.123456789"};
    struct base_buf b;

    base_buf_init(&b, 0);
    for (size_t i = 0; i < BASE_ARRAY_LEN(lits); i++) {
        char text[256];
        json_t *j = NULL;
        json_t *back = NULL;
        char nb[64];

        snprintf(text, sizeof(text),
                 "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                 "\"valueQuantity\":{\"value\":%s}}",
                 lits[i]);
        ck_assert_int_eq(fhir_json_parse(text, strlen(text), NULL, &j, NULL), BASE_OK);
        write_xml(lits[i], j, 0, &b);
        ck_assert_msg(strstr(b.data, lits[i]) != NULL, "%s not verbatim in %s", lits[i], b.data);
        ck_assert_int_eq(fhir_xml_read(b.data, b.len, NULL, NULL, &back, NULL), BASE_OK);
        ck_assert(fhir_json_equal(j, back));
        ck_assert(base_str_eq(
            fhir_json_number_text(json_object_get(json_object_get(back, "valueQuantity"), "value"),
                                  nb, sizeof(nb)),
            base_str_make(lits[i], strlen(lits[i]))));
        json_decref(j);
        json_decref(back);
    }
    base_buf_fini(&b);
}
END_TEST

/* ------------------------------------------------ official XML examples -- */

/* The corpus XML copies differ from the npm JSON examples in ways that are
 * not conversion errors, checked and set aside here:
 *   - they carry meta.security (HTEST), which the JSON examples lack;
 *   - patient-example.xml lost the trailing space of one narrative line
 *     ("Peter James \n" in the JSON);
 *   - patient-example.xml has a stray "s" after <gender .../> inside
 *     contact (line 155): the official XSD rejects it too, and so do we. */
static void
set_aside_known_differences(json_t *from_xml, json_t *json)
{
    json_t *sec = json_object_get(json_object_get(from_xml, "meta"), "security");
    const char *code = json_string_value(json_object_get(json_array_get(sec, 0), "code"));

    ck_assert_ptr_nonnull(code);
    ck_assert_str_eq(code, "HTEST");
    ck_assert_ptr_null(json_object_get(json, "meta"));
    ck_assert_int_eq(json_object_del(from_xml, "meta"), 0);
    for (json_t *t = json; t != NULL; t = (t == json ? from_xml : NULL)) {
        json_t *text = json_object_get(t, "text");
        const char *div = json_string_value(json_object_get(text, "div"));
        char *norm = strdup(div);
        char *w = norm;

        /* drop spaces and tabs before a newline */
        for (const char *r = div; *r != '\0'; r++) {
            size_t sp = strspn(r, " \t");

            if (sp > 0 && r[sp] == '\n')
                r += sp;
            *w++ = *r;
        }
        *w = '\0';
        ck_assert_int_eq(json_object_set_new(text, "div", json_string(norm)), 0);
        free(norm);
    }
}

static void
check_official_xml(const char *xml_name, const char *json_name, size_t expect_issues,
                   const char *expect_where)
{
    char path[256];
    size_t xlen;
    size_t jlen;
    char *xml;
    char *jtext;
    json_t *from_xml = NULL;
    json_t *json = NULL;
    json_t *oo = fhir_outcome_new();
    int rc;

    snprintf(path, sizeof(path), "fhir-r4-examples/xml/%s", xml_name);
    xml = tu_read_file(tu_corpus_path(path), &xlen);
    snprintf(path, sizeof(path), "fhir-r4-examples/json/%s", json_name);
    jtext = tu_read_file(tu_corpus_path(path), &jlen);
    ck_assert(xml != NULL && jtext != NULL);
    rc = fhir_xml_read(xml, xlen, NULL, oo, &from_xml, NULL);
    ck_assert_int_eq(rc, expect_issues == 0 ? BASE_OK : BASE_E_INVALID);
    ck_assert_uint_eq(json_array_size(json_object_get(oo, "issue")), expect_issues);
    if (expect_where != NULL) {
        json_t *is = json_array_get(json_object_get(oo, "issue"), 0);

        ck_assert_str_eq(json_string_value(json_array_get(json_object_get(is, "expression"), 0)),
                         expect_where);
        ck_assert_ptr_nonnull(
            strstr(json_string_value(json_object_get(is, "diagnostics")), "(line 155)"));
    }
    ck_assert_ptr_nonnull(from_xml);
    /* the tree is complete and valid FHIR */
    ck_assert_int_eq(fhir_validate(from_xml, NULL, NULL, NULL, NULL), BASE_OK);
    ck_assert_int_eq(fhir_json_parse(jtext, jlen, NULL, &json, NULL), BASE_OK);
    set_aside_known_differences(from_xml, json);
    ck_assert_msg(fhir_json_equal(from_xml, json), "%s differs from %s", xml_name, json_name);
    json_decref(from_xml);
    json_decref(json);
    json_decref(oo);
    free(xml);
    free(jtext);
}

START_TEST(official_xml_observation)
{
    check_official_xml("observation-example-f001-glucose.xml", "Observation-f001.json", 0, NULL);
}
END_TEST

START_TEST(official_xml_patient)
{
    check_official_xml("patient-example.xml", "Patient-example.json", 1, "Patient.contact[0]");
}
END_TEST

/* The XSD agrees with us about the official XML examples. */
START_TEST(official_xml_against_xsd)
{
    xmlSchemaPtr schema = load_schema();
    size_t len;
    char *xml = tu_read_file(
        tu_corpus_path("fhir-r4-examples/xml/observation-example-f001-glucose.xml"), &len);

    ck_assert_int_eq(xsd_check(schema, xml, len).count, 0);
    free(xml);
    xml = tu_read_file(tu_corpus_path("fhir-r4-examples/xml/patient-example.xml"), &len);
    ck_assert_int_gt(xsd_check(schema, xml, len).count, 0);
    free(xml);
    xmlSchemaFree(schema);
}
END_TEST

/* ------------------------------------------------------ same issues -- */

struct site {
    json_t *obj;
    char key[80];
    json_t *orig; /* the member's value (a reference) */
};

struct sites {
    struct site v[64];
    size_t n;
};

enum mutation { DROP_REQUIRED, BREAK_DATE, BAD_CODE };

static void collect(json_t *obj, const struct fhir_model_type *t, enum mutation kind,
                    struct sites *out);

static void
collect_value(json_t *v, const struct fhir_model_type *t, enum mutation kind, struct sites *out)
{
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            collect_value(json_array_get(v, i), t, kind, out);
        return;
    }
    if (!json_is_object(v) || t->kind == FHIR_MODEL_PRIMITIVE)
        return;
    if (t->kind == FHIR_MODEL_RESOURCE) {
        const char *rt = json_string_value(json_object_get(v, "resourceType"));

        t = fhir_model_type_find(rt, strlen(rt));
    }
    collect(v, t, kind, out);
}

static bool
is_site(const struct fhir_model_match *m, const json_t *v, enum mutation kind)
{
    switch (kind) {
    case DROP_REQUIRED:
        return m->elem->min >= 1;
    case BREAK_DATE:
        return (m->type->prim == FHIR_PRIM_DATE || m->type->prim == FHIR_PRIM_DATETIME) &&
               fhir_json_is_string(v);
    default:
        return m->type->prim == FHIR_PRIM_CODE && m->elem->valueset != NULL &&
               m->elem->valueset->kind == FHIR_VS_CODES && fhir_json_is_string(v);
    }
}

static void
collect(json_t *obj, const struct fhir_model_type *t, enum mutation kind, struct sites *out)
{
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v)
    {
        struct fhir_model_match m;

        if (strcmp(key, "resourceType") == 0 || !fhir_model_match_key(t, key, strlen(key), &m) ||
            m.is_ext)
            continue;
        if (is_site(&m, v, kind) && out->n < BASE_ARRAY_LEN(out->v)) {
            struct site *s = &out->v[out->n++];

            s->obj = obj;
            snprintf(s->key, sizeof(s->key), "%s", key);
            s->orig = json_incref(v);
        }
        collect_value(v, m.type, kind, out);
    }
}

/* Apply one mutation to the site; undo() puts the original back. */
static void
mutate(struct site *s, enum mutation kind)
{
    switch (kind) {
    case DROP_REQUIRED:
        ck_assert_int_eq(json_object_del(s->obj, s->key), 0);
        break;
    case BREAK_DATE:
        ck_assert_int_eq(json_object_set_new(s->obj, s->key, json_string("2019-13-45")), 0);
        break;
    default:
        ck_assert_int_eq(json_object_set_new(s->obj, s->key, json_string("no-such-code")), 0);
        break;
    }
}

static void
undo(struct site *s)
{
    ck_assert_int_eq(json_object_set(s->obj, s->key, s->orig), 0);
}

/* Validate the mutated tree as JSON and through XML: same issues. */
static size_t
compare_mutations(json_t *res, const char *label, enum mutation kind, struct base_buf *b)
{
    struct sites sites = {0};
    const char *rt = json_string_value(json_object_get(res, "resourceType"));
    size_t checked = 0;

    collect(res, fhir_model_type_find(rt, strlen(rt)), kind, &sites);
    for (size_t i = 0; i < sites.n; i += 1 + sites.n / 6) {
        json_t *joo = fhir_outcome_new();
        json_t *xoo = fhir_outcome_new();
        struct fhir_validate_result jr = {0};
        struct fhir_validate_result xr = {0};
        struct base_err err = {0};
        char *a;
        char *c;

        mutate(&sites.v[i], kind);
        ck_assert_int_eq(fhir_validate(res, NULL, joo, &jr, NULL), BASE_E_INVALID);
        base_buf_reset(b);
        ck_assert_msg(fhir_xml_write(res, 0, b, &err) == BASE_OK, "%s: %s", label, err.msg);
        ck_assert_int_eq(fhir_xml_validate(b->data, b->len, NULL, xoo, &xr, NULL), BASE_E_INVALID);
        a = issues_text(joo);
        c = issues_text(xoo);
        ck_assert_msg(strcmp(a, c) == 0, "%s %s: XML\n%s\nJSON\n%s", label, sites.v[i].key, c, a);
        ck_assert_uint_eq(jr.errors, xr.errors);
        free(a);
        free(c);
        json_decref(joo);
        json_decref(xoo);
        undo(&sites.v[i]);
        checked++;
    }
    for (size_t i = 0; i < sites.n; i++)
        json_decref(sites.v[i].orig);
    return checked;
}

START_TEST(mutations_give_the_same_issues)
{
    struct docs d = load_examples();
    struct base_buf b;
    size_t checked[3] = {0};

    base_buf_init(&b, 0);
    for (size_t i = 0; i < d.n; i++) {
        json_t *j = parse_json(&d.v[i]);

        for (int k = DROP_REQUIRED; k <= BAD_CODE; k++)
            checked[k] += compare_mutations(j, d.v[i].label, (enum mutation)k, &b);
        json_decref(j);
    }
    /* every category found work in the corpus */
    ck_assert_uint_gt(checked[DROP_REQUIRED], 100);
    ck_assert_uint_gt(checked[BREAK_DATE], 100);
    ck_assert_uint_gt(checked[BAD_CODE], 100);
    base_buf_fini(&b);
    free_docs(&d);
}
END_TEST

Suite *
fhir_xml_corpus_suite(void)
{
    Suite *s = suite_create("fhir_xml_corpus");
    TCase *tc = tcase_create("corpus");

    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, examples_round_trip_and_validate);
    tcase_add_test(tc, synthea_round_trip_and_validate);
    tcase_add_test(tc, example_decimals_exact);
    tcase_add_test(tc, official_xml_observation);
    tcase_add_test(tc, official_xml_patient);
    tcase_add_test(tc, official_xml_against_xsd);
    tcase_add_test(tc, mutations_give_the_same_issues);
    suite_add_tcase(s, tc);
    return s;
}
