/*
 * test/integration/store_corpus.h — a realistic data set for the store's
 * search tests: the Synthea bulk export (10 patients), the official R4
 * examples, and generated Observations and Conditions that exercise every
 * value shape the index handles (partial dates, Periods open at either
 * end, decimals of several precisions, comparators, Ranges, units with and
 * without systems, accented and CJK strings, references relative, absolute
 * on and off this server, and by identifier only).
 */
#ifndef TEST_INTEGRATION_STORE_CORPUS_H
#define TEST_INTEGRATION_STORE_CORPUS_H

#include "test/integration/store_it.h"

#define SC_BASE "https://hosp-a.example/fhir"

/* The Synthea patients' ids (Patient.000.ndjson). */
static const char *const sc_patients[] = {
    "129c6ac7-8d06-89de-ad63-0204a93e76c3", "3af3708d-41f1-cd80-f3dd-ec5ac76072bf",
    "63ee2253-bdd5-da55-2ad2-b4984d0ad700", "6a4160eb-a793-2f86-2302-378626f46cce",
    "79a66c97-6131-3213-f3c9-4606946ab056", "7bc002fa-dc52-17d6-1563-fd8901826f7d",
    "8e1a0a7c-e308-444b-075a-3c2b1f60f881", "a4a401d1-a46a-eb4a-8a38-760d5d79d6ec",
    "a5cb8ce9-cec6-6b23-0990-cbaf753578a4", "bb6a9034-2f23-2508-d29d-35efee156dc9",
};

/* A PUT Type/id transaction of the resources in `lines` (JSON texts). */
static SIT_UNUSED json_t *
sc_put_bundle(json_t *const *res, size_t n)
{
    json_t *b =
        json_pack("{s:s, s:s, s:[]}", "resourceType", "Bundle", "type", "transaction", "entry");

    for (size_t i = 0; i < n; i++) {
        const char *type = json_string_value(json_object_get(res[i], "resourceType"));
        const char *id = json_string_value(json_object_get(res[i], "id"));
        char url[256];

        snprintf(url, sizeof(url), "%s/%s", type, id);
        json_array_append_new(json_object_get(b, "entry"),
                              json_pack("{s:O, s:{s:s, s:s}}", "resource", res[i], "request",
                                        "method", "PUT", "url", url));
    }
    return b;
}

static SIT_UNUSED void
sc_apply(PGconn *c, struct base_arena *a, json_t *b)
{
    struct adapter_store_opts o = {SC_BASE, 0};
    struct adapter_store_result r;

    ck_assert_msg(adapter_store_apply(c, a, &o, b, &r) == BASE_OK, "load failed: %s at %s (%s)",
                  r.err.msg, r.err.where, r.err.log_detail);
    json_decref(b);
}

static SIT_UNUSED void
sc_load_ndjson(PGconn *c, struct base_arena *a, const char *file)
{
    char path[512];
    size_t len = 0;
    char *text;
    json_t *res[256];
    size_t n = 0;

    snprintf(path, sizeof(path), "synthea/bulk-ndjson-10-patients/%s", file);
    text = tu_read_file(tu_corpus_path(path), &len);
    ck_assert_ptr_nonnull(text);
    for (char *line = text; line != NULL && *line != '\0';) {
        char *nl = strchr(line, '\n');

        if (nl != NULL)
            *nl = '\0';
        if (*line != '\0') {
            ck_assert_uint_lt(n, 256);
            res[n++] = sit_json(line);
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    sc_apply(c, a, sc_put_bundle(res, n));
    for (size_t i = 0; i < n; i++)
        json_decref(res[i]);
    free(text);
}

static SIT_UNUSED void
sc_load_examples(PGconn *c, struct base_arena *a)
{
    size_t n = 0;
    char **files = tu_list_dir(tu_corpus_path("fhir-r4-examples/json"), ".json", &n);
    json_t *res[256];
    size_t k = 0;

    ck_assert_ptr_nonnull(files);
    for (size_t i = 0; files[i] != NULL; i++) {
        size_t len = 0;
        char *text;

        if (strstr(files[i], "/Bundle-") != NULL)
            continue; /* Bundles hold other resources; they are not stored whole */
        text = tu_read_file(files[i], &len);
        ck_assert_ptr_nonnull(text);
        ck_assert_uint_lt(k, 256);
        res[k++] = sit_json(text);
        free(text);
    }
    sc_apply(c, a, sc_put_bundle(res, k));
    for (size_t i = 0; i < k; i++)
        json_decref(res[i]);
    tu_free_list(files);
}

/* ---- generated resources ----------------------------------------------------- */

static const char *const sc_codes[][2] = {
    {"2339-0", "Glucose [Mass/volume] in Blood"},
    {"15074-8", "Glucose [Moles/volume] in Blood"},
    {"8867-4", "Heart rate"},
    {"29463-7", "Body weight"},
    {"718-7", "Hemoglobin [Mass/volume] in Blood"},
    {"2160-0", "Créatinine sérique"},
};

static const char *const sc_values[] = {
    "5.4", "5.40", "100", "0.001", "-3.5", "1.5e3", "185", "72", "6.3", "99.5", "12",
};

static const char *const sc_units[][3] = {
    {"http://unitsofmeasure.org", "mmol/L", "mmol/l"},
    {"http://unitsofmeasure.org", "mg/dL", "mg/dL"},
    {NULL, NULL, "lbs"},
    {"http://unitsofmeasure.org", "/min", "beats/minute"},
    {"http://snomed.info/sct", "258814008", "umol/L"},
};

static const char *const sc_strings[] = {
    "Ünïcode ÉLEVÉ", "élevé", "血糖偏高", "Normal range", "Pinyin xuètáng gāo",
};

static void
sc_subject(int i, char *out, size_t cap)
{
    const char *p = sc_patients[i % 10];

    if (i % 11 == 0)
        snprintf(out, cap, "{\"reference\":\"" SC_BASE "/Patient/%s\"}", p);
    else if (i % 13 == 0)
        snprintf(out, cap, "{\"reference\":\"https://other.example/fhir/Patient/%s\"}", p);
    else if (i % 19 == 0)
        snprintf(out, cap, "{\"identifier\":{\"system\":\"urn:mrn\",\"value\":\"X%d\"}}", i);
    else
        snprintf(out, cap, "{\"reference\":\"Patient/%s\"}", p);
}

static void
sc_effective(int i, char *out, size_t cap)
{
    int m = 1 + i % 12;
    int d = 1 + i % 28;

    if (i % 23 == 0)
        snprintf(out, cap, "%s", "");
    else if (i % 5 == 0)
        snprintf(out, cap, ",\"effectiveDateTime\":\"%d\"", 2018 + i % 4);
    else if (i % 5 == 1)
        snprintf(out, cap, ",\"effectiveDateTime\":\"2020-%02d\"", m);
    else if (i % 5 == 2)
        snprintf(out, cap, ",\"effectiveDateTime\":\"2020-%02d-%02dT%02d:30:00+08:00\"", m, d,
                 i % 24);
    else if (i % 5 == 3)
        snprintf(out, cap, ",\"effectivePeriod\":{\"start\":\"2020-%02d-%02d\"}", m, d);
    else
        snprintf(out, cap,
                 ",\"effectivePeriod\":{\"start\":\"2019-%02d-%02dT00:00:00Z\","
                 "\"end\":\"2020-%02d-%02dT12:00:00Z\"}",
                 m, d, m, d);
}

static void
sc_value(int i, char *out, size_t cap)
{
    const char *const *u = sc_units[i % 5];
    const char *v = sc_values[i % BASE_ARRAY_LEN(sc_values)];
    const char *cmp = i % 29 == 0   ? "\"comparator\":\"<\","
                      : i % 31 == 0 ? "\"comparator\":\">\","
                                    : "";

    if (i % 6 == 4) {
        snprintf(out, cap, ",\"valueString\":\"%s %d\"", sc_strings[i % 5], i % 3);
    } else if (i % 6 == 5) {
        snprintf(out, cap,
                 ",\"valueCodeableConcept\":{\"coding\":[{\"system\":\"http://snomed.info/sct\","
                 "\"code\":\"%d\",\"display\":\"Finding %d\"}],\"text\":\"Finding text %d\"}",
                 260385009 + i % 3, i % 3, i % 3);
    } else if (u[0] != NULL) {
        snprintf(out, cap,
                 ",\"valueQuantity\":{%s\"value\":%s,\"unit\":\"%s\",\"system\":\"%s\","
                 "\"code\":\"%s\"}",
                 cmp, v, u[2], u[0], u[1]);
    } else {
        snprintf(out, cap, ",\"valueQuantity\":{%s\"value\":%s,\"unit\":\"%s\"}", cmp, v, u[2]);
    }
}

static const char *
sc_status(int i)
{
    static const char *const st[] = {"final", "amended", "preliminary", "cancelled"};

    return st[i % 4];
}

static const char *
sc_category(int i)
{
    if (i % 3 == 0)
        return "";
    return i % 3 == 1 ? "\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
                        "CodeSystem/observation-category\",\"code\":\"laboratory\"}]}],"
                      : "\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
                        "CodeSystem/observation-category\",\"code\":\"vital-signs\"}]}],";
}

static SIT_UNUSED json_t *
sc_observation(int i)
{
    char subject[256];
    char eff[256];
    char value[512];
    char code[512];
    char text[4096];

    sc_subject(i, subject, sizeof(subject));
    sc_effective(i, eff, sizeof(eff));
    sc_value(i, value, sizeof(value));
    if (i % 17 == 0)
        snprintf(code, sizeof(code), "{\"text\":\"Free text glucose\"}");
    else
        snprintf(code, sizeof(code),
                 "{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"%s\","
                 "\"display\":\"%s\"}],\"text\":\"%s\"}",
                 sc_codes[i % 6][0], sc_codes[i % 6][1], sc_codes[i % 6][1]);
    snprintf(text, sizeof(text),
             "{\"resourceType\":\"Observation\",\"id\":\"syn-%d\",%s"
             "\"identifier\":[{%s\"system\":\"urn:obs\",\"value\":\"O%d\"}],"
             "\"status\":\"%s\",%s\"code\":%s,\"subject\":%s%s%s%s%s}",
             i,
             i % 9 == 0 ? "\"meta\":{\"tag\":[{\"system\":\"urn:tag\",\"code\":\"t3\"}],"
                          "\"profile\":[\"http://example.org/StructureDefinition/lab-obs\"]},"
                        : "",
             i % 7 == 0 ? "\"type\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
                          "CodeSystem/v2-0203\",\"code\":\"FILL\"}],\"text\":\"Filler number\"},"
                        : "",
             i, sc_status(i), sc_category(i), code, subject, eff, value,
             i % 8 == 0 ? ",\"performer\":[{\"reference\":\"Practitioner/example\"}]" : "",
             i % 10 == 0 ? ",\"component\":[{\"code\":{\"coding\":[{\"system\":\"http://loinc."
                           "org\",\"code\":\"8480-6\"}]},\"valueQuantity\":{\"value\":120,"
                           "\"system\":\"http://unitsofmeasure.org\",\"code\":\"mm[Hg]\"}}]"
                         : "");
    return sit_json(text);
}

static SIT_UNUSED json_t *
sc_condition(int i)
{
    char text[2048];
    char onset[256];

    if (i % 4 == 0)
        snprintf(onset, sizeof(onset),
                 ",\"onsetAge\":{\"value\":%d,\"unit\":\"a\",\"system\":"
                 "\"http://unitsofmeasure.org\",\"code\":\"a\"}",
                 20 + i);
    else if (i % 4 == 1)
        snprintf(onset, sizeof(onset),
                 ",\"onsetRange\":{\"low\":{\"value\":%d,\"system\":\"http://unitsofmeasure.org\","
                 "\"code\":\"a\"}}",
                 30 + i);
    else if (i % 4 == 2)
        snprintf(onset, sizeof(onset),
                 ",\"onsetRange\":{\"low\":{\"value\":%d,\"system\":\"http://unitsofmeasure.org\","
                 "\"code\":\"a\"},\"high\":{\"value\":%d,\"system\":\"http://unitsofmeasure.org\","
                 "\"code\":\"a\"}}",
                 40, 40 + i);
    else
        snprintf(onset, sizeof(onset), ",\"onsetDateTime\":\"20%02d-06-01\"", i % 25);
    snprintf(text, sizeof(text),
             "{\"resourceType\":\"Condition\",\"id\":\"syn-c-%d\",\"clinicalStatus\":{\"coding\":"
             "[{\"system\":\"http://terminology.hl7.org/CodeSystem/condition-clinical\",\"code\":"
             "\"%s\"}]},\"code\":{\"coding\":[{\"system\":\"http://snomed.info/sct\",\"code\":"
             "\"%d\"}]},\"subject\":{\"reference\":\"Patient/%s\"}%s}",
             i, i % 3 == 0 ? "resolved" : "active", 44054006 + i % 4, sc_patients[i % 10], onset);
    return sit_json(text);
}

/* Goals, family history and care teams, as the CDA converter writes them
 * (C-CDA Goals, Family History and Care Team sections): three per index,
 * with the forms their search parameters meet — a Goal started by date or
 * by a concept, a relative with a sex or none, a team with an open or a
 * closed period and a patient among its members. */
static SIT_UNUSED void
sc_care_record(int i, json_t **out)
{
    char text[2048];
    const char *p = sc_patients[i % 10];
    static const char *const rel[] = {"FTH", "MTH", "BRO", "SIS"};

    snprintf(text, sizeof(text),
             "{\"resourceType\":\"Goal\",\"id\":\"care-g-%d\",\"lifecycleStatus\":\"%s\","
             "\"achievementStatus\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/"
             "CodeSystem/goal-achievement\",\"code\":\"%s\"}]},\"description\":{\"text\":"
             "\"体重 goal %d\"},\"subject\":{\"reference\":\"Patient/%s\"}%s,\"target\":[{"
             "\"measure\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"29463-7\"}]},"
             "\"dueDate\":\"2024-%02d-15\"}]}",
             i, i % 3 == 0 ? "completed" : "active", i % 2 == 0 ? "achieved" : "in-progress", i, p,
             i % 4 == 3   ? ",\"startCodeableConcept\":{\"text\":\"after discharge\"}"
             : i % 4 == 2 ? ",\"startDate\":\"2023\""
                          : ",\"startDate\":\"2023-03-01\"",
             1 + i % 12);
    out[0] = sit_json(text);
    snprintf(text, sizeof(text),
             "{\"resourceType\":\"FamilyMemberHistory\",\"id\":\"care-f-%d\",\"status\":\"%s\","
             "\"patient\":{\"reference\":\"Patient/%s\"},\"date\":\"2023-%02d-02\","
             "\"relationship\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/"
             "v3-RoleCode\",\"code\":\"%s\"}]}%s,\"condition\":[{\"code\":{\"coding\":[{"
             "\"system\":\"http://snomed.info/sct\",\"code\":\"%s\"}]}}]}",
             i, i % 5 == 4 ? "partial" : "completed", p, 1 + i % 12, rel[i % 4],
             i % 2 == 0 ? ",\"sex\":{\"coding\":[{\"system\":\"http://hl7.org/fhir/"
                          "administrative-gender\",\"code\":\"male\"}]}"
                        : "",
             i % 3 == 0 ? "22298006" : "44054006");
    out[1] = sit_json(text);
    snprintf(text, sizeof(text),
             "{\"resourceType\":\"CareTeam\",\"id\":\"care-t-%d\",\"status\":\"%s\","
             "\"subject\":{\"reference\":\"Patient/%s\"},\"period\":{\"start\":\"2022-%02d-01\"%s},"
             "\"participant\":[{\"member\":{\"reference\":\"Patient/%s\"}}]}",
             i, i % 2 == 0 ? "active" : "inactive", p, 1 + i % 12,
             i % 2 == 0 ? "" : ",\"end\":\"2023-01-31\"", sc_patients[(i + 1) % 10]);
    out[2] = sit_json(text);
}

/* Load everything: reference targets first, so Synthea's conditional
 * references (Practitioner?identifier=…) resolve. */
static SIT_UNUSED void
sc_load_all(PGconn *c, struct base_arena *a, int n_obs, int n_cond)
{
    static const char *const files[] = {
        "Organization.000.ndjson",
        "Location.000.ndjson",
        "Practitioner.000.ndjson",
        "Patient.000.ndjson",
        "Device.000.ndjson",
        "Encounter.000.ndjson",
        "Condition.000.ndjson",
        "Procedure.000.ndjson",
        "Immunization.000.ndjson",
        "MedicationRequest.000.ndjson",
        "AllergyIntolerance.000.ndjson",
        "DocumentReference.000.ndjson",
    };
    json_t *res[100];

    for (size_t i = 0; i < BASE_ARRAY_LEN(files); i++)
        sc_load_ndjson(c, a, files[i]);
    sc_load_examples(c, a);
    for (int i = 0; i < n_obs; i += 100) {
        size_t k = 0;

        for (int j = i; j < n_obs && j < i + 100; j++)
            res[k++] = sc_observation(j);
        sc_apply(c, a, sc_put_bundle(res, k));
        for (size_t j = 0; j < k; j++)
            json_decref(res[j]);
    }
    for (int i = 0; i < 20; i++)
        sc_care_record(i, res + 3 * i);
    sc_apply(c, a, sc_put_bundle(res, 60));
    for (int i = 0; i < 60; i++)
        json_decref(res[i]);
    for (int i = 0; i < n_cond; i++)
        res[i % 100] = sc_condition(i);
    sc_apply(c, a, sc_put_bundle(res, (size_t)(n_cond < 100 ? n_cond : 100)));
    for (int i = 0; i < n_cond && i < 100; i++)
        json_decref(res[i]);
}

/* The suites' unchecked fixture: once per process, a database named
 * PREFIX_<pid> with the corpus (n_obs generated Observations, n_cond
 * Conditions) and then whatever `more` adds. */
static SIT_UNUSED void
sc_setup(bool *done, const char *prefix, int n_obs, int n_cond,
         void (*more)(PGconn *c, struct base_arena *a))
{
    char db[64];
    PGconn *c;
    struct base_arena *a;

    if (*done)
        return;
    *done = true;
    snprintf(db, sizeof(db), "%s_%d", prefix, (int)getpid());
    sit_make_database(db);
    c = sit_connect();
    a = base_arena_new(0);
    sc_load_all(c, a, n_obs, n_cond);
    if (more != NULL)
        more(c, a);
    base_arena_free(a);
    PQfinish(c);
}

#endif /* TEST_INTEGRATION_STORE_CORPUS_H */
