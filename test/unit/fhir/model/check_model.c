#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/model/fhir_model.h"
#include "fhir/model/gen/model_ids.h"

static const struct fhir_model_type *
type(const char *name)
{
    const struct fhir_model_type *t = fhir_model_type_find(name, strlen(name));

    ck_assert_msg(t != NULL, "type %s not found", name);
    return t;
}

static const struct fhir_model_elem *
elem(const struct fhir_model_type *t, const char *name)
{
    const struct fhir_model_elem *e = fhir_model_elem_find(t, name, strlen(name));

    ck_assert_msg(e != NULL, "%s.%s not found", t->name, name);
    return e;
}

static bool
match(const char *tname, const char *key, struct fhir_model_match *m)
{
    return fhir_model_match_key(type(tname), key, strlen(key), m);
}

START_TEST(every_type_is_found_by_name_and_index)
{
    size_t n = fhir_model_type_count();
    size_t resources = 0;

    ck_assert_uint_gt(n, 500); /* 211 named types plus backbone types */
    for (size_t i = 0; i < n; i++) {
        const struct fhir_model_type *t = fhir_model_type_at(i);

        ck_assert_ptr_eq(fhir_model_type_find(t->name, t->name_len), t);
        ck_assert_uint_eq(t->index, i);
        ck_assert_uint_eq(strlen(t->name), t->name_len);
        if (fhir_model_is_resource_type(t->name, t->name_len))
            resources++;
    }
    ck_assert_ptr_null(fhir_model_type_at(n));
    /* the concrete resource types of the R4 JSON schema's discriminator */
    ck_assert_uint_eq(resources, 146);
    ck_assert_ptr_eq(fhir_model_type_at(FHIR_T_PATIENT), type("Patient"));
    ck_assert_ptr_eq(fhir_model_type_at(FHIR_T_CODEABLECONCEPT), type("CodeableConcept"));
}
END_TEST

START_TEST(resource_types)
{
    ck_assert(fhir_model_is_resource_type("Patient", 7));
    ck_assert(fhir_model_is_resource_type("Bundle", 6));
    ck_assert(fhir_model_is_resource_type("Parameters", 10));
    ck_assert(fhir_model_is_resource_type("PatientX", 7)); /* length counts */
    ck_assert(!fhir_model_is_resource_type("PatientX", 8));
    ck_assert(!fhir_model_is_resource_type("patient", 7));
    ck_assert(!fhir_model_is_resource_type("Resource", 8));
    ck_assert(!fhir_model_is_resource_type("DomainResource", 14));
    ck_assert(!fhir_model_is_resource_type("HumanName", 9));
    ck_assert(!fhir_model_is_resource_type("Patient.contact", 15));
    ck_assert(!fhir_model_is_resource_type("", 0));
    ck_assert_ptr_null(fhir_model_type_find("Nope", 4));
}
END_TEST

START_TEST(patient_elements_in_definition_order)
{
    static const char *const want[] = {
        "id",
        "meta",
        "implicitRules",
        "language",
        "text",
        "contained",
        "extension",
        "modifierExtension",
        "identifier",
        "active",
        "name",
        "telecom",
        "gender",
        "birthDate",
        "deceased",
        "address",
        "maritalStatus",
        "multipleBirth",
        "photo",
        "contact",
        "communication",
        "generalPractitioner",
        "managingOrganization",
        "link",
    };
    const struct fhir_model_type *t = type("Patient");

    ck_assert_uint_eq(t->kind, FHIR_MODEL_RESOURCE);
    ck_assert_uint_eq(t->elem_count, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < t->elem_count; i++)
        ck_assert_str_eq(t->elems[i].name, want[i]);
    ck_assert(fhir_model_elem_is_multiple(elem(t, "name")));
    ck_assert(!fhir_model_elem_is_multiple(elem(t, "gender")));
    ck_assert(fhir_model_elem_is_primitive(elem(t, "birthDate")));
    ck_assert_uint_eq(elem(t, "birthDate")->type->prim, FHIR_PRIM_DATE);
    ck_assert_str_eq(elem(t, "name")->type->name, "HumanName");
    ck_assert_uint_eq(elem(t, "name")->max, FHIR_MODEL_MAX_UNBOUNDED);
    ck_assert_uint_eq(elem(t, "gender")->max, 1);
    ck_assert_uint_eq(elem(t, "gender")->min, 0);
}
END_TEST

START_TEST(choice_groups)
{
    const struct fhir_model_elem *v = elem(type("Observation"), "value");
    static const char *const names[] = {
        "valueQuantity", "valueCodeableConcept", "valueString", "valueBoolean",
        "valueInteger",  "valueRange",           "valueRatio",  "valueSampledData",
        "valueTime",     "valueDateTime",        "valuePeriod",
    };
    struct fhir_model_match m;

    ck_assert(fhir_model_elem_is_choice(v));
    ck_assert_ptr_null(v->type);
    ck_assert_uint_eq(fhir_model_elem_type_count(v), 11);
    for (size_t i = 0; i < 11; i++) {
        ck_assert_str_eq(v->choices[i].json_name, names[i]);
        ck_assert_uint_eq(v->choices[i].json_name_len, strlen(names[i]));
        ck_assert_ptr_eq(fhir_model_elem_type(v, i), v->choices[i].type);
    }
    ck_assert(match("Observation", "valueQuantity", &m));
    ck_assert_ptr_eq(m.elem, v);
    ck_assert_str_eq(m.type->name, "Quantity");
    ck_assert_uint_eq(m.choice_index, 0);
    ck_assert(!m.is_ext);
    ck_assert(match("Observation", "_valueString", &m));
    ck_assert(m.is_ext);
    ck_assert_uint_eq(m.choice_index, 2);
    ck_assert(!match("Observation", "_valueQuantity", &m)); /* complex: no "_" form */
    ck_assert(!match("Observation", "value", &m));          /* base name is not JSON */
    ck_assert(!match("Observation", "valueMoney", &m));     /* not an allowed type */
    ck_assert(!match("Observation", "valuequantity", &m));
    /* required choice: MedicationAdministration.effective[x] has min 1 */
    ck_assert_uint_eq(elem(type("MedicationAdministration"), "effective")->min, 1);
}
END_TEST

START_TEST(underscore_forms)
{
    struct fhir_model_match m;

    ck_assert(match("Patient", "_birthDate", &m));
    ck_assert(m.is_ext);
    ck_assert_str_eq(m.type->name, "date");
    ck_assert(match("Patient", "_id", &m));    /* Resource.id is the primitive id */
    ck_assert(!match("HumanName", "_id", &m)); /* Element.id is an XML attribute */
    ck_assert(match("HumanName", "_given", &m));
    ck_assert(!match("Extension", "_url", &m));
    ck_assert(!match("Narrative", "_div", &m)); /* xhtml has no extensions */
    ck_assert(!match("Patient", "_name", &m));
    ck_assert(!match("Patient", "resourceType", &m));
    ck_assert_uint_eq(elem(type("HumanName"), "id")->type->prim, FHIR_PRIM_STRING);
    ck_assert(elem(type("HumanName"), "id")->flags & FHIR_MODEL_ELEM_XML_ATTR);
    ck_assert(elem(type("Extension"), "url")->flags & FHIR_MODEL_ELEM_XML_ATTR);
    ck_assert_uint_eq(elem(type("Extension"), "url")->type->prim, FHIR_PRIM_URI);
    ck_assert_uint_eq(elem(type("Patient"), "id")->type->prim, FHIR_PRIM_ID);
}
END_TEST

START_TEST(backbones_and_content_references)
{
    const struct fhir_model_elem *contact = elem(type("Patient"), "contact");
    const struct fhir_model_elem *rr = elem(type("Observation.component"), "referenceRange");
    const struct fhir_model_elem *item = elem(type("Questionnaire.item"), "item");

    ck_assert(contact->flags & FHIR_MODEL_ELEM_BACKBONE);
    ck_assert_ptr_eq(contact->type, type("Patient.contact"));
    ck_assert_uint_eq(contact->type->kind, FHIR_MODEL_BACKBONE);
    ck_assert_str_eq(elem(contact->type, "relationship")->type->name, "CodeableConcept");
    ck_assert(rr->flags & FHIR_MODEL_ELEM_CONTENT_REF);
    ck_assert_ptr_eq(rr->type, type("Observation.referenceRange"));
    ck_assert(item->flags & FHIR_MODEL_ELEM_CONTENT_REF);
    ck_assert_ptr_eq(item->type, type("Questionnaire.item"));
    /* resources inline: contained, Bundle.entry.resource */
    ck_assert_str_eq(elem(type("Patient"), "contained")->type->name, "Resource");
    ck_assert_str_eq(elem(type("Bundle.entry"), "resource")->type->name, "Resource");
    ck_assert(type("Resource")->flags & FHIR_MODEL_TYPE_ABSTRACT);
}
END_TEST

START_TEST(required_bindings_and_value_sets)
{
    const struct fhir_model_elem *g = elem(type("Patient"), "gender");
    const struct fhir_model_elem *ms = elem(type("Patient"), "maritalStatus");
    const struct fhir_model_valueset *vs = g->valueset;
    const char *sys = "http://hl7.org/fhir/administrative-gender";

    ck_assert_uint_eq(g->binding, FHIR_BINDING_REQUIRED);
    ck_assert_ptr_nonnull(vs);
    ck_assert_str_eq(vs->url, "http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1");
    ck_assert_str_eq(g->binding_url, vs->url);
    ck_assert_int_eq(fhir_model_vs_check(vs, NULL, 0, "male", 4), FHIR_VS_MEMBER);
    ck_assert_int_eq(fhir_model_vs_check(vs, NULL, 0, "unknown", 7), FHIR_VS_MEMBER);
    ck_assert_int_eq(fhir_model_vs_check(vs, NULL, 0, "mal", 3), FHIR_VS_NOT_MEMBER);
    ck_assert_int_eq(fhir_model_vs_check(vs, NULL, 0, "Male", 4), FHIR_VS_NOT_MEMBER);
    ck_assert_int_eq(fhir_model_vs_check(vs, sys, strlen(sys), "female", 6), FHIR_VS_MEMBER);
    ck_assert_int_eq(fhir_model_vs_check(vs, "http://x", 8, "female", 6), FHIR_VS_NOT_MEMBER);
    /* non-required bindings keep their URL but have no table */
    ck_assert_uint_eq(ms->binding, FHIR_BINDING_EXTENSIBLE);
    ck_assert_ptr_null(ms->valueset);
    ck_assert_str_eq(ms->binding_url, "http://hl7.org/fhir/ValueSet/marital-status");
    ck_assert_ptr_eq(fhir_model_valueset_find(vs->url, strlen(vs->url)), vs);
    ck_assert_ptr_eq(
        fhir_model_valueset_find("http://hl7.org/fhir/ValueSet/administrative-gender", 50), vs);
    ck_assert_ptr_null(
        fhir_model_valueset_find("http://hl7.org/fhir/ValueSet/administrative-gender|3.0.1", 56));
    ck_assert_ptr_null(fhir_model_valueset_find("http://hl7.org/fhir/ValueSet/marital-status", 43));
}
END_TEST

START_TEST(same_code_in_two_systems)
{
    /* task-intent draws "order" from two code systems */
    const struct fhir_model_valueset *vs = elem(type("Task"), "intent")->valueset;
    const char *s1 = "http://hl7.org/fhir/request-intent";

    ck_assert_ptr_nonnull(vs);
    ck_assert_int_eq(fhir_model_vs_check(vs, NULL, 0, "order", 5), FHIR_VS_MEMBER);
    ck_assert_int_eq(fhir_model_vs_check(vs, s1, strlen(s1), "order", 5), FHIR_VS_MEMBER);
}
END_TEST

START_TEST(syntax_only_value_sets)
{
    const struct fhir_model_valueset *mime = elem(type("Attachment"), "contentType")->valueset;
    const struct fhir_model_valueset *cur = elem(type("Money"), "currency")->valueset;
    const struct fhir_model_valueset *ucum =
        elem(type("EffectEvidenceSynthesis.effectEstimate"), "unitOfMeasure")->valueset;
    const struct fhir_model_valueset *conf = elem(type("Composition"), "confidentiality")->valueset;
    static const char *const good_mime[] = {
        "text/plain",      "application/fhir+json", "text/plain; charset=UTF-8",
        "application/pdf", "image/svg+xml",         "multipart/form-data; boundary=\"a b\"",
    };
    static const char *const bad_mime[] = {
        "text",
        "text/",
        "/plain",
        "text/plain;",
        "text/plain; charset",
        "te xt/plain",
        "text/plain;charset=\"x",
        "+a/b",
        "a/b c",
    };

    ck_assert_uint_eq(mime->kind, FHIR_VS_MIME_TYPE);
    for (size_t i = 0; i < sizeof(good_mime) / sizeof(good_mime[0]); i++)
        ck_assert_msg(fhir_model_vs_check(mime, NULL, 0, good_mime[i], strlen(good_mime[i])) ==
                          FHIR_VS_MEMBER,
                      "%s", good_mime[i]);
    for (size_t i = 0; i < sizeof(bad_mime) / sizeof(bad_mime[0]); i++)
        ck_assert_msg(fhir_model_vs_check(mime, NULL, 0, bad_mime[i], strlen(bad_mime[i])) ==
                          FHIR_VS_NOT_MEMBER,
                      "%s", bad_mime[i]);
    ck_assert_uint_eq(cur->kind, FHIR_VS_CURRENCY);
    ck_assert_int_eq(fhir_model_vs_check(cur, NULL, 0, "EUR", 3), FHIR_VS_MEMBER);
    ck_assert_int_eq(fhir_model_vs_check(cur, NULL, 0, "eur", 3), FHIR_VS_NOT_MEMBER);
    ck_assert_int_eq(fhir_model_vs_check(cur, NULL, 0, "EURO", 4), FHIR_VS_NOT_MEMBER);
    ck_assert_uint_eq(ucum->kind, FHIR_VS_UNCHECKED);
    ck_assert_int_eq(fhir_model_vs_check(ucum, NULL, 0, "mg", 2), FHIR_VS_NOT_CHECKED);
    ck_assert_uint_eq(conf->kind, FHIR_VS_CODES);
    ck_assert_int_eq(fhir_model_vs_check(conf, NULL, 0, "N", 1), FHIR_VS_MEMBER);
    ck_assert_int_eq(fhir_model_vs_check(conf, NULL, 0, "X", 1), FHIR_VS_NOT_MEMBER);
}
END_TEST

/* Every element and choice alternative of every type resolves through the
 * generated hash tables to itself: a check of the generator's layout. */
START_TEST(key_tables_are_consistent)
{
    char buf[128];
    size_t keys = 0;

    for (size_t i = 0; i < fhir_model_type_count(); i++) {
        const struct fhir_model_type *t = fhir_model_type_at(i);
        unsigned req = 0;

        for (size_t j = 0; j < t->elem_count; j++) {
            const struct fhir_model_elem *e = &t->elems[j];
            struct fhir_model_match m;

            ck_assert_ptr_eq(fhir_model_elem_find(t, e->name, e->name_len), e);
            req += e->min > 0;
            for (size_t k = 0; k < fhir_model_elem_type_count(e); k++) {
                const struct fhir_model_type *et = fhir_model_elem_type(e, k);
                const char *jn = fhir_model_elem_is_choice(e) ? e->choices[k].json_name : e->name;
                size_t jl = strlen(jn);

                ck_assert_ptr_nonnull(et);
                ck_assert_msg(fhir_model_match_key(t, jn, jl, &m), "%s.%s", t->name, jn);
                ck_assert_ptr_eq(m.elem, e);
                ck_assert_ptr_eq(m.type, et);
                ck_assert_uint_eq(m.elem_index, j);
                keys++;
                buf[0] = '_';
                memcpy(buf + 1, jn, jl);
                ck_assert_int_eq(fhir_model_match_key(t, buf, jl + 1, &m),
                                 et->kind == FHIR_MODEL_PRIMITIVE && et->prim != FHIR_PRIM_XHTML &&
                                     !(e->flags & FHIR_MODEL_ELEM_XML_ATTR));
            }
            if (e->binding == FHIR_BINDING_REQUIRED)
                ck_assert_msg(e->valueset != NULL, "%s.%s", t->name, e->name);
        }
        ck_assert_uint_eq(req, t->required_count);
    }
    ck_assert_uint_gt(keys, 5000);
}
END_TEST

/* Lookups compare names by words (first and last 8 bytes, the middle of
 * longer names): a name one byte off anywhere — start, middle, end, the
 * bytes only the middle comparison sees — is not found. */
START_TEST(near_miss_names_are_not_found)
{
    char buf[128];
    size_t tried = 0;

    for (size_t i = 0; i < fhir_model_type_count(); i++) {
        const struct fhir_model_type *t = fhir_model_type_at(i);
        struct fhir_model_match m;

        ck_assert_uint_lt(t->name_len, sizeof(buf));
        for (size_t pos = 0; pos < t->name_len; pos++) {
            memcpy(buf, t->name, t->name_len);
            buf[pos] = buf[pos] == '#' ? '$' : '#';
            ck_assert_ptr_null(fhir_model_type_find(buf, t->name_len));
            tried++;
        }
        /* a prefix or an extension is another name */
        ck_assert_ptr_ne(fhir_model_type_find(t->name, t->name_len - 1), t);
        for (size_t j = 0; j < t->elem_count; j++) {
            const struct fhir_model_elem *e = &t->elems[j];
            const char *jn = fhir_model_elem_is_choice(e) ? e->choices[0].json_name : e->name;
            size_t jl = strlen(jn);

            for (size_t pos = 0; pos < jl; pos++) {
                memcpy(buf, jn, jl);
                buf[pos] = buf[pos] == '#' ? '$' : '#';
                ck_assert_msg(!fhir_model_match_key(t, buf, jl, &m), "%s.%s at %zu", t->name, jn,
                              pos);
            }
            memcpy(buf, jn, jl);
            buf[jl] = 'x';
            ck_assert_msg(!fhir_model_match_key(t, buf, jl + 1, &m), "%s.%sx", t->name, jn);
        }
    }
    ck_assert_ptr_null(fhir_model_type_find("MedicinalProductIngredienT", 26));
    ck_assert_ptr_nonnull(fhir_model_type_find("MedicinalProductIngredient", 26));
    ck_assert_ptr_null(fhir_model_type_find("MedicinalProductXngredient", 26));
    ck_assert_uint_gt(tried, 5000);
}
END_TEST

/* The generated lookups (fhir_model__key_fns, model_keys.c) return what the
 * hash tables do: for every property of every type, for names one byte
 * off, one byte shorter or longer, "_" in front, and for the properties of
 * the neighbouring types. */
static void
same_slot(const struct fhir_model_type *t, const char *name, size_t len, size_t *tried)
{
    ck_assert_msg(fhir_model__key_fns[t->index](name, len) == fhir_model__key_slot(t, name, len),
                  "%s: %.*s", t->name, (int)len, name);
    (*tried)++;
}

START_TEST(generated_key_lookups_match_the_tables)
{
    char buf[128];
    size_t tried = 0;
    size_t found = 0;
    size_t n = fhir_model_type_count();

    for (size_t i = 0; i < n; i++) {
        const struct fhir_model_type *t = fhir_model_type_at(i);

        for (size_t si = 0; si <= t->key_mask; si++) {
            uint32_t slot = t->key_slots[si];
            const struct fhir_model_key *k;

            if (slot == 0)
                continue;
            k = &t->keys[FHIR_MODEL__SLOT_KEY(slot) - 1];
            ck_assert_uint_lt(k->len + 2u, sizeof(buf));
            /* the one-pass validator ends a member name at the first '"'
             * (stream.c scan_key): property names need no escape */
            for (size_t c = 0; c < k->len; c++)
                ck_assert_msg(k->name[c] == '_' || (k->name[c] >= '0' && k->name[c] <= '9') ||
                                  ((k->name[c] | 0x20) >= 'a' && (k->name[c] | 0x20) <= 'z'),
                              "%s: %s", t->name, k->name);
            ck_assert_uint_eq(fhir_model__key_fns[t->index](k->name, k->len), slot);
            found++;
            for (size_t pos = 0; pos < k->len; pos++) {
                memcpy(buf, k->name, k->len);
                buf[pos] = buf[pos] == '#' ? '$' : '#';
                same_slot(t, buf, k->len, &tried);
            }
            same_slot(t, k->name, k->len - 1, &tried);
            memcpy(buf, k->name, k->len);
            buf[k->len] = 'x';
            same_slot(t, buf, k->len + 1, &tried);
            buf[0] = '_';
            memcpy(buf + 1, k->name, k->len);
            same_slot(t, buf, k->len + 1, &tried);
            /* the neighbours' properties */
            same_slot(fhir_model_type_at((i + 1) % n), k->name, k->len, &tried);
            same_slot(fhir_model_type_at((i + n - 1) % n), k->name, k->len, &tried);
        }
        same_slot(t, "", 0, &tried);
    }
    ck_assert_uint_gt(found, 10000);
    ck_assert_uint_gt(tried, 100000);
}
END_TEST

/* fhir_model__resource_type (generated): exactly the concrete resource
 * types, by name, and nothing one byte off. */
START_TEST(generated_resource_type_lookup)
{
    char buf[128];
    size_t resources = 0;

    for (size_t i = 0; i < fhir_model_type_count(); i++) {
        const struct fhir_model_type *t = fhir_model_type_at(i);
        bool concrete =
            t->kind == FHIR_MODEL_RESOURCE && !(t->flags & FHIR_MODEL_TYPE_ABSTRACT);

        ck_assert_uint_eq(fhir_model__resource_type(t->name, t->name_len), concrete ? i + 1 : 0);
        resources += concrete;
        ck_assert_uint_lt(t->name_len + 1u, sizeof(buf));
        for (size_t pos = 0; pos < t->name_len; pos++) {
            memcpy(buf, t->name, t->name_len);
            buf[pos] = buf[pos] == '#' ? '$' : '#';
            ck_assert_uint_eq(fhir_model__resource_type(buf, t->name_len), 0);
        }
        ck_assert_uint_eq(fhir_model__resource_type(t->name, t->name_len - 1u),
                          fhir_model_is_resource_type(t->name, t->name_len - 1u)
                              ? (uint32_t)(fhir_model_type_find(t->name, t->name_len - 1u)->index + 1u)
                              : 0u);
        memcpy(buf, t->name, t->name_len);
        buf[t->name_len] = 's';
        ck_assert_uint_eq(fhir_model__resource_type(buf, t->name_len + 1u),
                          fhir_model_is_resource_type(buf, t->name_len + 1u)
                              ? (uint32_t)(fhir_model_type_find(buf, t->name_len + 1u)->index + 1u)
                              : 0u);
    }
    ck_assert_uint_gt(resources, 140);
    ck_assert_uint_eq(fhir_model__resource_type("", 0), 0);
}
END_TEST

START_TEST(prim_names)
{
    ck_assert_str_eq(fhir_model_prim_name(FHIR_PRIM_DATETIME), "dateTime");
    ck_assert_str_eq(fhir_model_prim_name(FHIR_PRIM_XHTML), "xhtml");
    ck_assert_str_eq(fhir_model_prim_name((enum fhir_model_prim)99), "unknown");
    ck_assert_uint_eq(type("positiveInt")->prim, FHIR_PRIM_POSITIVEINT);
    ck_assert_uint_eq(type("Quantity")->prim, FHIR_PRIM_NONE);
}
END_TEST

Suite *fhir_model_suite(void)
{
    Suite *s = suite_create("fhir_model");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, every_type_is_found_by_name_and_index);
    tcase_add_test(tc, resource_types);
    tcase_add_test(tc, patient_elements_in_definition_order);
    tcase_add_test(tc, choice_groups);
    tcase_add_test(tc, underscore_forms);
    tcase_add_test(tc, backbones_and_content_references);
    tcase_add_test(tc, required_bindings_and_value_sets);
    tcase_add_test(tc, same_code_in_two_systems);
    tcase_add_test(tc, syntax_only_value_sets);
    tcase_add_test(tc, key_tables_are_consistent);
    tcase_add_test(tc, near_miss_names_are_not_found);
    tcase_add_test(tc, generated_key_lookups_match_the_tables);
    tcase_add_test(tc, generated_resource_type_lookup);
    tcase_add_test(tc, prim_names);
    suite_add_tcase(s, tc);
    return s;
}
