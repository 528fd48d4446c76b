/*
 * CSV: the RFC 4180 reader (chunking, quotes, line ends, BOM, delimiters,
 * malformed records and recovery, limits), mapping files, and loading the
 * Synthea samples and the golden cases.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/csv/csv.h"
#include "fhir/json/fhir_json.h"
#include "fhir/validate/fhir_validate.h"
#include "test/support/golden.h"
#include "test/support/jsonpath.h"
#include "test/support/runcli.h"
#include "test/support/testutil.h"

/* ---------------------------------------------------------- reader */

struct collect {
    char out[8192]; /* records as "line:f1|f2|...\n" */
    size_t len;
    char errs[2048]; /* "line:col:msg\n" */
    size_t elen;
    size_t records;
    int stop_after; /* return an error after this many records (0: never) */
};

static int
on_rec(void *ctx, const struct csv_record *r)
{
    struct collect *c = ctx;

    c->records++;
    c->len += (size_t)snprintf(c->out + c->len, sizeof(c->out) - c->len, "%zu:", r->line);
    for (size_t i = 0; i < r->nfields; i++)
        c->len += (size_t)snprintf(c->out + c->len, sizeof(c->out) - c->len, "%s%.*s",
                                   i > 0 ? "|" : "", (int)r->field[i].len, r->field[i].ptr);
    c->len += (size_t)snprintf(c->out + c->len, sizeof(c->out) - c->len, "\n");
    if (c->stop_after > 0 && (int)c->records >= c->stop_after)
        return BASE_E_INVALID;
    return BASE_OK;
}

static int
on_err(void *ctx, size_t line, size_t col, const struct base_err *e)
{
    struct collect *c = ctx;

    c->elen += (size_t)snprintf(c->errs + c->elen, sizeof(c->errs) - c->elen, "%zu:%zu:%s\n", line,
                                col, e->msg);
    return BASE_OK;
}

/* Parse `in` fed in chunks of `chunk` bytes (0: all at once). */
static void
parse(const char *in, size_t len, size_t chunk, char delim, const struct csv_limits *lim,
      struct collect *c)
{
    struct csv_reader *r = NULL;

    memset(c, 0, sizeof(*c));
    ck_assert_int_eq(csv_reader_new(delim, lim, on_rec, on_err, c, &r), BASE_OK);
    if (chunk == 0)
        chunk = len > 0 ? len : 1;
    for (size_t off = 0; off < len; off += chunk)
        ck_assert_int_eq(csv_reader_feed(r, in + off, off + chunk > len ? len - off : chunk),
                         BASE_OK);
    ck_assert_int_eq(csv_reader_finish(r), BASE_OK);
    csv_reader_free(r);
}

static void
expect(const char *in, char delim, const char *records, const char *errors)
{
    struct collect whole;
    struct collect bytes;

    parse(in, strlen(in), 0, delim, NULL, &whole);
    ck_assert_str_eq(whole.out, records);
    ck_assert_str_eq(whole.errs, errors);
    /* any chunking gives the same records and errors */
    parse(in, strlen(in), 1, delim, NULL, &bytes);
    ck_assert_str_eq(bytes.out, records);
    ck_assert_str_eq(bytes.errs, errors);
    parse(in, strlen(in), 3, delim, NULL, &bytes);
    ck_assert_str_eq(bytes.out, records);
}

START_TEST(rfc4180_basics)
{
    expect("a,b,c\n1,2,3\n", ',', "1:a|b|c\n2:1|2|3\n", "");
    expect("a,b\r\n1,2", ',', "1:a|b\n2:1|2\n", "");   /* CRLF, no final EOL */
    expect("a,b\r1,2\r", ',', "1:a|b\n2:1|2\n", "");   /* CR alone */
    expect("a,,\n,,\n", ',', "1:a||\n2:||\n", "");     /* empty fields */
    expect("\n\na\n\r\n\nb\n", ',', "3:a\n6:b\n", ""); /* blank lines */
    expect("\"a,b\",\"say \"\"hi\"\"\",\"\"\n", ',', "1:a,b|say \"hi\"|\n", "");
    expect("x,\"line1\r\nline2\nline3\"\ny,z\n", ',', "1:x|line1\r\nline2\nline3\n4:y|z\n", "");
    expect("\xEF\xBB\xBFid,name\n1,\xE5\xBC\xA0\xE4\xB8\x89\n", ',',
           "1:id|name\n2:1|\xE5\xBC\xA0\xE4\xB8\x89\n", "");
    expect("", ',', "", "");
    expect("\xEF\xBB\xBF", ',', "", "");
}
END_TEST

START_TEST(detects_delimiter)
{
    expect("a;b;c\n1;2,5;3\n", 0, "1:a|b|c\n2:1|2,5|3\n", "");
    expect("a\tb\n1\t2\n", 0, "1:a|b\n2:1|2\n", "");
    expect("\"a;b\",c,d\n", 0, "1:a;b|c|d\n", ""); /* ';' inside quotes does not count */
    expect("a|b\n", 0, "1:a|b\n", "");
    expect("single\n", 0, "1:single\n", "");
}
END_TEST

START_TEST(malformed_records_keep_good_rows)
{
    /* a quote inside an unquoted field */
    expect("a,b\n1,x\"y\n2,z\n", ',', "1:a|b\n3:2|z\n", "2:4:quote inside an unquoted field\n");
    /* text after a closing quote */
    expect("a,b\n1,\"x\"y,3\n2,z\n", ',', "1:a|b\n3:2|z\n",
           "2:6:unexpected character after a closing quote\n");
    /* an opening quote never closed on its line swallows the next lines; the
     * record is reported and the lines after it are read again */
    expect("a,b\n1,\"open\n2,z\n3,\"w\"\n", ',', "1:a|b\n3:2|z\n4:3|w\n",
           "2:3:quoted field is not closed properly\n");
    /* unterminated at the end of the input */
    expect("a,b\n1,\"open\n2,z\n3,w\n", ',', "1:a|b\n3:2|z\n4:3|w\n",
           "2:3:quoted field is not closed\n");
}
END_TEST

START_TEST(limits_columns_field_record)
{
    struct csv_limits lim = csv_limits_default();
    struct collect c;
    const char *in = "a,b,c\n1,2,3,4\n5,6,7\n";

    lim.max_columns = 3;
    parse(in, strlen(in), 0, ',', &lim, &c);
    ck_assert_str_eq(c.out, "1:a|b|c\n3:5|6|7\n");
    ck_assert_str_eq(c.errs, "2:7:record has too many columns\n");

    lim = csv_limits_default();
    lim.max_field = 4;
    in = "a,b\n12345,x\nok,y\n\"123456\",z\n";
    parse(in, strlen(in), 1, ',', &lim, &c);
    ck_assert_str_eq(c.out, "1:a|b\n3:ok|y\n");
    ck_assert_str_eq(c.errs, "2:1:field is too long\n4:1:field is too long\n");

    lim = csv_limits_default();
    lim.max_record = 10;
    in = "a,b\n1234,5678,9\nc,d\n";
    parse(in, strlen(in), 0, ',', &lim, &c);
    ck_assert_str_eq(c.out, "1:a|b\n3:c|d\n");
    ck_assert_str_eq(c.errs, "2:1:record is too long\n");
}
END_TEST

START_TEST(callback_can_stop)
{
    struct collect c;
    struct csv_reader *r = NULL;
    const char *in = "a\nb\nc\n";

    memset(&c, 0, sizeof(c));
    c.stop_after = 2;
    ck_assert_int_eq(csv_reader_new(',', NULL, on_rec, on_err, &c, &r), BASE_OK);
    ck_assert_int_eq(csv_reader_feed(r, in, strlen(in)), BASE_E_INVALID);
    ck_assert_uint_eq(c.records, 2);
    csv_reader_free(r);
}
END_TEST

/* Tens of megabytes through 64 KiB chunks: the reader keeps no more than
 * a record, so this costs time, not memory (bench_converters measures RSS
 * on a 1,000,000-row export). */
START_TEST(streams_large_input)
{
    struct collect c;
    struct csv_reader *r = NULL;
    char chunk[65536];
    size_t used = 0;
    size_t rows = 400000;

    memset(&c, 0, sizeof(c));
    ck_assert_int_eq(csv_reader_new(',', NULL, NULL, on_err, &c, &r), BASE_OK);
    for (size_t i = 0; i < rows; i++) {
        int n = snprintf(chunk + used, sizeof(chunk) - used,
                         "%zu,patient-%zu,\"note, with comma\",2024-01-01T00:00:00Z,%zu.5\n", i,
                         i % 977, i);

        if ((size_t)n >= sizeof(chunk) - used) {
            ck_assert_int_eq(csv_reader_feed(r, chunk, used), BASE_OK);
            used = 0;
            i--;
            continue;
        }
        used += (size_t)n;
    }
    ck_assert_int_eq(csv_reader_feed(r, chunk, used), BASE_OK);
    ck_assert_int_eq(csv_reader_finish(r), BASE_OK);
    ck_assert_str_eq(c.errs, "");
    csv_reader_free(r);
}
END_TEST

/* --------------------------------------------------------- mapping */

static void
mapping_fails(const char *text, int rc, const char *where)
{
    struct csv_mapping *m = NULL;
    struct base_err err = {0};

    ck_assert_int_eq(csv_mapping_parse(text, strlen(text), NULL, &m, &err), rc);
    ck_assert_ptr_null(m);
    ck_assert_str_eq(err.where, where);
}

START_TEST(mapping_errors_name_the_line)
{
    mapping_fails("resource Patient\nidentity s {A}\nname.given = {B} | frobnicate\n", BASE_E_PARSE,
                  "mapping line 3");
    mapping_fails("resource Patient\nidentity s {A}\n\n# c\nname..given = {B}\n", BASE_E_PARSE,
                  "mapping line 5");
    mapping_fails("resource Patient\nidentity s {A}\na = {B | decimal\n", BASE_E_PARSE,
                  "mapping line 3");
    mapping_fails("resource Patient\nidentity s {A}\na = {B} | decimal | upper\n", BASE_E_PARSE,
                  "mapping line 3");
    mapping_fails("resource Patient\nidentity s {A}\na[x] = {B}\n", BASE_E_PARSE, "mapping line 3");
    mapping_fails("resource Patient\nidentity s {A}\na = {B} | ref Patient\n", BASE_E_PARSE,
                  "mapping line 3");
    mapping_fails("resource Patient\nidentity s {A}\na = {B} | map M\n", BASE_E_PARSE,
                  "mapping line 3");
    mapping_fails("resource Patient\ndelimiter :\n", BASE_E_INVALID, "mapping line 2");
    mapping_fails("resource Patient\nname = x\n", BASE_E_INVALID, "mapping");
    mapping_fails("identity s {A}\n", BASE_E_INVALID, "mapping");
    mapping_fails("resource Patient\nidentity s {A}\njust words\n", BASE_E_PARSE, "mapping line 3");
}
END_TEST

START_TEST(mapping_limits)
{
    struct csv_limits lim = csv_limits_default();
    struct csv_mapping *m = NULL;
    struct base_err err = {0};
    const char *text = "resource Patient\nidentity s {A}\na = 1\nb = 2\nc = 3\n";

    lim.max_rules = 2;
    ck_assert_int_eq(csv_mapping_parse(text, strlen(text), &lim, &m, &err), BASE_E_LIMIT);
    ck_assert_str_eq(err.where, "mapping line 5");
    lim = csv_limits_default();
    lim.max_mapping = 10;
    ck_assert_int_eq(csv_mapping_parse(text, strlen(text), &lim, &m, &err), BASE_E_LIMIT);
}
END_TEST

/* ------------------------------------------------------------ load */

static struct csv_mapping *
load_mapping(const char *path)
{
    struct csv_mapping *m = NULL;
    struct base_err err = {0};
    size_t len = 0;
    char *text = tu_read_file(path, &len);

    ck_assert_msg(text != NULL, "cannot read %s", path);
    ck_assert_msg(csv_mapping_parse(text, len, NULL, &m, &err) == BASE_OK, "%s: %s: %s", path,
                  err.where, err.msg);
    free(text);
    return m;
}

struct errlog {
    char text[8192];
    size_t len;
};

static int
log_row(void *ctx, const struct csv_row_error *e)
{
    struct errlog *l = ctx;

    l->len += (size_t)snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s: %s\n",
                               e->err->where, e->err->msg);
    return BASE_OK;
}

static json_t *
convert_synthea(const char *table, struct csv_report *rep)
{
    char mpath[256];
    char rel[256];
    struct csv_mapping *m;
    struct base_err err = {0};
    struct errlog log = {0};
    json_t *out = NULL;
    size_t len = 0;
    char *data;

    snprintf(mpath, sizeof(mpath), "adapters/csv/mappings/synthea/%s.map", table);
    snprintf(rel, sizeof(rel), "csv/synthea-csv/%s.csv", table);
    m = load_mapping(mpath);
    data = tu_read_file(tu_corpus_path(rel), &len);
    ck_assert_ptr_nonnull(data);
    ck_assert_int_eq(csv_convert(m, data, len, NULL, NULL, log_row, &log, &out, rep, &err),
                     BASE_OK);
    ck_assert_msg(log.len == 0, "%s: rows rejected:\n%s", table, log.text);
    free(data);
    csv_mapping_free(m);
    return out;
}

static json_t *
res_at(const json_t *bundle, size_t i)
{
    return json_object_get(json_array_get(json_object_get(bundle, "entry"), i), "resource");
}

struct synthea_count {
    const char *table;
    const char *type;
    size_t rows;
    size_t resources;
};

static const struct synthea_count synthea_counts[] = {
    {"patients", "Patient", 40, 40},
    {"conditions", "Condition", 200, 200},
    {"allergies", "AllergyIntolerance", 80, 80},
    {"immunizations", "Immunization", 200, 200},
    {"organizations", "Organization", 100, 100},
    {"providers", "Practitioner", 100, 100},
};

START_TEST(synthea_samples_convert)
{
    const struct synthea_count *c = &synthea_counts[_i];
    struct csv_report rep = {0};
    json_t *b = convert_synthea(c->table, &rep);
    size_t i;
    json_t *e;

    ck_assert_uint_eq(rep.rows, c->rows);
    ck_assert_uint_eq(rep.rows_ok, c->rows);
    ck_assert_uint_eq(rep.rows_bad, 0);
    ck_assert_uint_eq(rep.resources, c->resources);
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), c->resources);
    json_array_foreach(json_object_get(b, "entry"), i, e)
    {
        ck_assert_str_eq(tu_json_str(e, "resource.resourceType"), c->type);
        ck_assert_str_eq(tu_json_str(e, "request.method"), "PUT");
        ck_assert_ptr_nonnull(strstr(tu_json_str(e, "fullUrl"), "urn:uuid:"));
        ck_assert_ptr_nonnull(tu_json_str(e, "resource.identifier.0.value"));
        ck_assert(tu_entry_keyed(e));
    }
    json_decref(b);
}
END_TEST

START_TEST(synthea_spot_values)
{
    struct csv_report rep;
    json_t *b = convert_synthea("patients", &rep);
    json_t *p = res_at(b, 0);

    /* 1d604da9...;5/25/1989;;999-76-6866;...;Mr.;José Eduardo181;Gómez206;;;M;...;M;... */
    ck_assert_str_eq(tu_json_str(p, "identifier.0.system"),
                     "https://github.com/synthetichealth/synthea");
    ck_assert_str_eq(tu_json_str(p, "identifier.0.value"), "1d604da9-9a81-4ba9-80c2-de3375d59b40");
    ck_assert_str_eq(tu_json_str(p, "identifier.1.value"), "999-76-6866");
    ck_assert_str_eq(tu_json_str(p, "name.0.family"), "Gómez206");
    ck_assert_str_eq(tu_json_str(p, "name.0.given.0"), "José Eduardo181");
    ck_assert_str_eq(tu_json_str(p, "birthDate"), "1989-05-25");
    ck_assert_str_eq(tu_json_str(p, "gender"), "male");
    ck_assert_str_eq(tu_json_str(p, "maritalStatus.coding.0.code"), "M");
    ck_assert_str_eq(tu_json_str(p, "address.0.city"), "Chicopee");
    json_decref(b);

    b = convert_synthea("conditions", &rep);
    /* 2011-08-09,2011-08-16,8d4c4326...,9d35ec9f...,444814009,Viral sinusitis (disorder) */
    json_t *c = res_at(b, 1);
    ck_assert_str_eq(tu_json_str(c, "code.coding.0.code"), "444814009");
    ck_assert_str_eq(tu_json_str(c, "clinicalStatus.coding.0.code"), "resolved");
    ck_assert_str_eq(tu_json_str(c, "abatementDateTime"), "2011-08-16");
    ck_assert_str_eq(tu_json_str(c, "subject.reference"),
                     "Patient?identifier=https://github.com/synthetichealth/synthea|"
                     "8d4c4326-e9de-4f45-9a4c-f8c36bff89ae");
    ck_assert_str_eq(tu_json_str(res_at(b, 0), "clinicalStatus.coding.0.code"), "active");
    json_decref(b);

    b = convert_synthea("allergies", &rep);
    ck_assert_str_eq(tu_json_str(res_at(b, 0), "onsetDateTime"), "1982-10-25");
    ck_assert_str_eq(tu_json_str(res_at(b, 0), "code.coding.0.code"), "300916003");
    json_decref(b);

    b = convert_synthea("immunizations", &rep);
    ck_assert_str_eq(tu_json_str(res_at(b, 0), "occurrenceDateTime"), "2010-07-27T12:58:08Z");
    ck_assert_str_eq(tu_json_str(res_at(b, 0), "vaccineCode.coding.0.system"),
                     "http://hl7.org/fhir/sid/cvx");
    json_decref(b);
}
END_TEST

/* A numeric observation whose VALUE is empty (Synthea writes such rows) has
 * no valueQuantity: a unit without a number is no quantity. */
START_TEST(synthea_observation_without_value)
{
    static const char csv[] =
        "DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE\n"
        "2019-02-16T20:24:07Z,p1,e1,laboratory,2339-0,Glucose,,mg/dL,numeric\n"
        "2019-02-16T20:24:07Z,p1,e1,vital-signs,8302-2,Body Height,178.3,cm,numeric\n";
    struct csv_mapping *m = load_mapping("adapters/csv/mappings/synthea/observations.map");
    struct csv_report rep = {0};
    struct base_err err = {0};
    struct errlog log = {0};
    json_t *out = NULL;

    ck_assert_int_eq(
        csv_convert(m, csv, sizeof(csv) - 1, NULL, NULL, log_row, &log, &out, &rep, &err), BASE_OK);
    ck_assert_uint_eq(rep.rows_ok, 2);
    ck_assert_ptr_null(tu_json_at(res_at(out, 0), "valueQuantity"));
    ck_assert_str_eq(tu_json_str(res_at(out, 1), "valueQuantity.code"), "cm");
    json_decref(out);
    csv_mapping_free(m);
}
END_TEST

static const char lab_map[] = "resource Observation\n"
                              "identity urn:oid:1.2.3 {ID}\n"
                              "status = final\n"
                              "code.text = {NAME} required\n"
                              "valueQuantity.value = {V} | decimal\n";
/* lab_map without its transform, for other decimal marks */
static const char lab_map_nodec[] = "resource Observation\n"
                                    "identity urn:oid:1.2.3 {ID}\n"
                                    "status = final\n"
                                    "code.text = {NAME} required\n"
                                    "valueQuantity.value = {V}";

/* The text of the number at `path` (decimals keep their text). */
static const char *
num_text(const json_t *res, const char *path)
{
    static char out[64];
    char buf[64];
    struct base_str t = fhir_json_number_text(tu_json_at(res, path), buf, sizeof(buf));

    snprintf(out, sizeof(out), "%.*s", (int)t.len, t.ptr);
    return out;
}

/* Converts `csv` with a Synthea mapping; every row must load. */
static json_t *
convert_text(const char *table, const char *csv, size_t len)
{
    char mpath[256];
    struct csv_mapping *m;
    struct csv_report rep = {0};
    struct base_err err = {0};
    struct errlog log = {0};
    json_t *out = NULL;

    snprintf(mpath, sizeof(mpath), "adapters/csv/mappings/synthea/%s.map", table);
    m = load_mapping(mpath);
    ck_assert_msg(csv_convert(m, csv, len, NULL, NULL, log_row, &log, &out, &rep, &err) == BASE_OK,
                  "%s: %s", err.where, err.msg);
    ck_assert_msg(log.len == 0, "%s: rows rejected:\n%s", table, log.text);
    for (size_t i = 0; i < json_array_size(json_object_get(out, "entry")); i++)
        ck_assert_int_eq(fhir_validate(res_at(out, i), NULL, NULL, NULL, NULL), BASE_OK);
    csv_mapping_free(m);
    return out;
}

/* Synthea 1.x wrote observations without TYPE: the value itself says
 * whether it is a quantity.  A text row with UNITS (2.x "{score}") never
 * gets half a Quantity next to its valueString (it did: two value[x]). */
START_TEST(synthea_observations_with_and_without_type)
{
    static const char v1[] = "DATE,PATIENT,ENCOUNTER,CODE,DESCRIPTION,VALUE,UNITS\n"
                             "2010-07-31,p1,e1,8302-2,Body Height,164.69,cm\n"
                             "2010-07-31,p1,e1,72166-2,Tobacco smoking status,Never smoker,\n";
    static const char v3[] =
        "DATE,PATIENT,ENCOUNTER,CATEGORY,CODE,DESCRIPTION,VALUE,UNITS,TYPE\n"
        "2019-02-16T01:44:59Z,p1,e1,survey,72166-2,Tobacco smoking status,Never smoked,{score},"
        "text\n";
    json_t *out = convert_text("observations", v1, sizeof(v1) - 1);

    ck_assert_str_eq(num_text(res_at(out, 0), "valueQuantity.value"), "164.69");
    ck_assert_str_eq(tu_json_str(res_at(out, 0), "valueQuantity.code"), "cm");
    ck_assert_ptr_null(tu_json_at(res_at(out, 0), "valueString"));
    ck_assert_str_eq(tu_json_str(res_at(out, 1), "valueString"), "Never smoker");
    ck_assert_ptr_null(tu_json_at(res_at(out, 1), "valueQuantity"));
    json_decref(out);
    out = convert_text("observations", v3, sizeof(v3) - 1);
    ck_assert_str_eq(tu_json_str(res_at(out, 0), "valueString"), "Never smoked");
    ck_assert_ptr_null(tu_json_at(res_at(out, 0), "valueQuantity"));
    json_decref(out);
}
END_TEST

/* Patients of Synthea 1.x ("ID", one ADDRESS, "false" for no passport),
 * 2.0 (no COUNTY) and synthea-international (POSTCODE) load. */
START_TEST(synthea_patient_layouts_of_other_versions)
{
    static const char v1[] =
        "ID,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,LAST,SUFFIX,MAIDEN,MARITAL,RACE,"
        "ETHNICITY,GENDER,BIRTHPLACE,ADDRESS\n"
        "a1,1946-12-14,2015-10-03,999-12-2377,S99962866,false,Mrs.,Ann,Lee,,,M,white,irish,F,"
        "Millbury MA,2502 Fisher Manor Boston MA 02132\n";
    static const char uk[] =
        "Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,MIDDLE,LAST,SUFFIX,MAIDEN,"
        "MARITAL,RACE,ETHNICITY,GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,FIPS,POSTCODE,LAT,LON,"
        "INCOME\n"
        "u1,1997-05-22,,999-14-4831,,,Ms.,Eve,,Port,,,,white,nonmixed,F,Taunton,602 Reed Way,"
        "Exeter,South West,Devon,,EX4,50.68,-3.48,914974\n";
    json_t *out = convert_text("patients", v1, sizeof(v1) - 1);
    json_t *p = res_at(out, 0);

    ck_assert_str_eq(tu_json_str(p, "identifier.0.value"), "a1");
    ck_assert_str_eq(tu_json_str(p, "address.0.line.0"), "2502 Fisher Manor Boston MA 02132");
    ck_assert_ptr_null(tu_json_at(p, "address.0.city"));
    /* SSN and driver's licence; the "false" passport is no identifier */
    ck_assert_uint_eq(json_array_size(json_object_get(p, "identifier")), 3);
    ck_assert_str_eq(tu_json_str(p, "identifier.2.type.coding.0.code"), "DL");
    json_decref(out);
    out = convert_text("patients", uk, sizeof(uk) - 1);
    ck_assert_str_eq(tu_json_str(res_at(out, 0), "address.0.postalCode"), "EX4");
    ck_assert_str_eq(tu_json_str(res_at(out, 0), "address.0.district"), "Devon");
    json_decref(out);
}
END_TEST

/* Spreadsheet exports: empty cells right of the table (in the header or
 * in rows) are no columns; a row with a non-empty extra field or a missing
 * one is still an error naming its line. */
START_TEST(trailing_empty_columns)
{
    struct csv_mapping *m = NULL;
    struct base_err err = {0};
    struct errlog log = {0};
    struct csv_report rep = {0};
    const char *csv = "ID,NAME,V,,\r\n1,Glucose,5.5,,\r\n2,Sodium,140\r\n3,Potassium,4.1,,x\r\n"
                      "4,Chloride\r\n";
    json_t *out = NULL;

    ck_assert_int_eq(csv_mapping_parse(lab_map, strlen(lab_map), NULL, &m, &err), BASE_OK);
    ck_assert_int_eq(csv_convert(m, csv, strlen(csv), NULL, NULL, log_row, &log, &out, &rep, &err),
                     BASE_OK);
    ck_assert_uint_eq(rep.rows_ok, 2);
    ck_assert_str_eq(log.text, "line 4, column 17: record has 5 fields; the header has 3\n"
                               "line 5: record has 2 fields; the header has 3\n");
    json_decref(out);
    csv_mapping_free(m);
}
END_TEST

/* Header names match ignoring case (Synthea "ID" then "Id"); `~number`. */
START_TEST(header_case_and_number_conditions)
{
    static const char map[] = "resource Observation\n"
                              "identity urn:oid:1.2.3 {Id}\n"
                              "status = final\n"
                              "code.text = {name} required\n"
                              "valueQuantity.value = {V} | decimal when V~number\n"
                              "valueString = {V} when V!~number\n";
    struct csv_mapping *m = NULL;
    struct base_err err = {0};
    const char *csv = "ID,NAME,v\n1,Glucose,5.5\n2,Smoker,never\n3,Blank,\n";
    json_t *out = NULL;

    ck_assert_int_eq(csv_mapping_parse(map, strlen(map), NULL, &m, &err), BASE_OK);
    ck_assert_int_eq(csv_convert(m, csv, strlen(csv), NULL, NULL, NULL, NULL, &out, NULL, &err),
                     BASE_OK);
    ck_assert_str_eq(num_text(res_at(out, 0), "valueQuantity.value"), "5.5");
    ck_assert_ptr_null(tu_json_at(res_at(out, 0), "valueString"));
    ck_assert_str_eq(tu_json_str(res_at(out, 1), "valueString"), "never");
    ck_assert_ptr_null(tu_json_at(res_at(out, 2), "valueString"));
    ck_assert_ptr_null(tu_json_at(res_at(out, 2), "valueQuantity"));
    json_decref(out);
    csv_mapping_free(m);
    static const char bad[] = "resource Patient\nidentity urn:oid:1 {A}\ngender = {G} when G~text\n";
    ck_assert_int_eq(csv_mapping_parse(bad, sizeof(bad) - 1, NULL, &m, &err), BASE_E_PARSE);
}
END_TEST

/* Two rows with one identity: an exact repeat is the same resource; other
 * values under the same identity are a row error, not a quiet loss. */
START_TEST(same_identity_other_values_is_reported)
{
    struct csv_mapping *m = NULL;
    struct base_err err = {0};
    struct errlog log = {0};
    struct csv_report rep = {0};
    const char *csv = "ID,NAME,V\n1,Glucose,5.5\n1,Glucose,5.5\n2,Sodium,140\n1,Glucose,6.1\n";
    json_t *out = NULL;

    ck_assert_int_eq(csv_mapping_parse(lab_map, strlen(lab_map), NULL, &m, &err), BASE_OK);
    ck_assert_int_eq(csv_convert(m, csv, strlen(csv), NULL, NULL, log_row, &log, &out, &rep, &err),
                     BASE_OK);
    ck_assert_str_eq(log.text, "line 5: an earlier row has the same identity and other values; "
                               "this row was not loaded\n");
    ck_assert_uint_eq(rep.rows, 4);
    ck_assert_uint_eq(rep.rows_ok, 3);
    ck_assert_uint_eq(rep.rows_bad, 1);
    ck_assert_uint_eq(json_array_size(json_object_get(out, "entry")), 2);
    ck_assert_str_eq(num_text(res_at(out, 0), "valueQuantity.value"), "5.5");
    json_decref(out);
    csv_mapping_free(m);
}
END_TEST

/* Collects the Bundles of a chunked load. */
static int
keep_bundles(void *ctx, json_t *bundle)
{
    json_t *all = ctx;
    json_t *entries = json_object_get(bundle, "entry");

    (void)json_array_extend(all, entries);
    json_decref(bundle);
    return BASE_OK;
}

/* `len` bytes fed `chunk` at a time; the entries, or NULL with *err. */
static json_t *
load_chunked(const struct csv_mapping *m, const char *data, size_t len, size_t chunk,
             struct base_err *err)
{
    struct csv_load *l = NULL;
    json_t *all = json_array();
    int rc = csv_load_new(m, NULL, NULL, keep_bundles, NULL, all, &l, err);

    for (size_t off = 0; rc == BASE_OK && off < len; off += chunk)
        rc = csv_load_feed(l, data + off, len - off < chunk ? len - off : chunk, err);
    if (rc == BASE_OK)
        rc = csv_load_finish(l, NULL, err);
    csv_load_free(l);
    if (rc != BASE_OK) {
        json_decref(all);
        return NULL;
    }
    return all;
}

/* Excel "Unicode text" and "UTF-16 CSV": UTF-16 with a BOM, tab-separated.
 * It was refused ("save it as UTF-8"); now it is decoded, in any chunking,
 * surrogate pairs (U+1F600) included. */
START_TEST(utf16_export_is_decoded)
{
    /* ID\tNAME\tV\r\n1\t<U+8840 U+1F600>\t5.5\r\n, little endian */
    static const char le[] = "\xff\xfe"
                             "I\0D\0\t\0N\0A\0M\0E\0\t\0V\0\r\0\n\0"
                             "1\0\t\0\x40\x88\x3d\xd8\x00\xde\t\0"
                             "5\0.\0"
                             "5\0\r\0\n\0";
    struct csv_mapping *m = NULL;
    struct base_err err = {0};
    char be[sizeof(le)];

    for (size_t i = 0; i + 1 < sizeof(le) - 1; i += 2) {
        be[i] = le[i + 1];
        be[i + 1] = le[i];
    }
    ck_assert_int_eq(csv_mapping_parse(lab_map, strlen(lab_map), NULL, &m, &err), BASE_OK);
    for (size_t chunk = 1; chunk <= 7; chunk++) {
        for (int big = 0; big < 2; big++) {
            json_t *all = load_chunked(m, big ? be : le, sizeof(le) - 1, chunk, &err);

            ck_assert_msg(all != NULL, "chunk %zu: %s %s", chunk, err.where, err.msg);
            ck_assert_uint_eq(json_array_size(all), 1);
            ck_assert_str_eq(tu_json_str(json_array_get(all, 0), "resource.code.text"),
                             "\xe8\xa1\x80\xf0\x9f\x98\x80");
            ck_assert_str_eq(num_text(json_object_get(json_array_get(all, 0), "resource"),
                                      "valueQuantity.value"),
                             "5.5");
            json_decref(all);
        }
    }
    /* a file cut inside a character, and a lone low surrogate on line 2 */
    ck_assert_ptr_null(load_chunked(m, le, sizeof(le) - 2, 4, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "UTF-16"));
    {
        char bad[sizeof(le)];

        memcpy(bad, le, sizeof(le));
        bad[30] = 'x'; /* the high surrogate gone: U+DE00 alone */
        bad[31] = '\0';
        ck_assert_ptr_null(load_chunked(m, bad, sizeof(le) - 1, 3, &err));
        ck_assert_str_eq(err.where, "line 2");
    }
    csv_mapping_free(m);
}
END_TEST

/* Excel "CSV" on a Chinese Windows and WPS save in GBK without a BOM; a
 * mapping without `encoding` read the header as UTF-8 and matched no column.
 * 项目,结果 in GBK: CF EE C4 BF / BD E1 B9 FB; 血糖 B5 AA CC C7. */
START_TEST(gbk_export_without_encoding_line)
{
    static const char map[] = "resource Observation\n"
                              "identity urn:oid:1.2.3 {ID}\n"
                              "status = final\n"
                              "code.text = {\xe9\xa1\xb9\xe7\x9b\xae} required\n"
                              "valueQuantity.value = {\xe7\xbb\x93\xe6\x9e\x9c} | decimal\n";
    static const char csv[] = "ID,\xcf\xee\xc4\xbf,\xbd\xe1\xb9\xfb\r\n1,\xd1\xaa\xcc\xc7,5.5\r\n";
    struct csv_mapping *m = NULL;
    struct base_err err = {0};
    struct csv_report rep = {0};
    json_t *out = NULL;

    ck_assert_int_eq(csv_mapping_parse(map, strlen(map), NULL, &m, &err), BASE_OK);
    ck_assert_int_eq(csv_convert(m, csv, strlen(csv), NULL, NULL, NULL, NULL, &out, &rep, &err),
                     BASE_OK);
    ck_assert_uint_eq(rep.rows_ok, 1);
    ck_assert_str_eq(tu_json_str(res_at(out, 0), "code.text"), "\xe8\xa1\x80\xe7\xb3\x96");
    ck_assert_str_eq(num_text(res_at(out, 0), "valueQuantity.value"), "5.5");
    json_decref(out);
    out = NULL;
    /* neither UTF-8 nor GB18030 (a lone 0x80): refused naming the byte */
    ck_assert_int_eq(csv_convert(m, "ID,N\x80\n1,2\n", 9, NULL, NULL, NULL, NULL, &out, NULL, &err),
                     BASE_E_INVALID);
    ck_assert_str_eq(err.where, "line 1, column 5");
    ck_assert_ptr_null(out);
    csv_mapping_free(m);
}
END_TEST

/* Numbers as spreadsheets write them: decimal commas (European ';' files),
 * thousands separators, exponents, full-width digits (Chinese IMEs).  Before,
 * all but the plain and exponent forms were row errors. */
START_TEST(spreadsheet_numbers)
{
    static const struct {
        const char *map_arg, *cell, *want; /* want NULL: row error */
    } cases[] = {
        {"", "5,5", "5.5"},
        {"", "1,234.5", "1234.5"},
        {"", "1.234,5", "1234.5"},
        {"", "1,234,567", "1234567"},
        {"", "5.0E-3", "5.0E-3"},
        {"", "\xef\xbc\x95\xef\xbc\x8e\xef\xbc\x95", "5.5"}, /* ５．５ */
        {"", "-\xef\xbc\x91\xef\xbc\x90", "-10"},            /* -１０ */
        {"", "1,234", NULL},                                 /* ambiguous */
        {"", "12,34.5", NULL},
        {"", "<0.5", NULL},
        {" ,", "1,234", "1.234"},
        {" ,", "1 234,5", "1234.5"},
        {" ,",
         "1\xc2\xa0"
         "234,5",
         "1234.5"},
        {" ,", "1.5", NULL},
        {" .", "1,234", "1234"},
        {" .", "1,23", NULL},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        char map[256];
        char csv[128];
        struct csv_mapping *m = NULL;
        struct base_err err = {0};
        struct errlog log = {0};
        struct csv_report rep = {0};
        json_t *out = NULL;

        (void)snprintf(map, sizeof(map), "%s | decimal%s\n", lab_map_nodec, cases[i].map_arg);
        (void)snprintf(csv, sizeof(csv), "ID;NAME;V\n1;Glucose;%s\n", cases[i].cell);
        ck_assert_int_eq(csv_mapping_parse(map, strlen(map), NULL, &m, &err), BASE_OK);
        ck_assert_int_eq(
            csv_convert(m, csv, strlen(csv), NULL, NULL, log_row, &log, &out, &rep, &err), BASE_OK);
        if (cases[i].want != NULL)
            ck_assert_msg(
                rep.rows_ok == 1 &&
                    strcmp(num_text(res_at(out, 0), "valueQuantity.value"), cases[i].want) == 0,
                "case %zu", i);
        else
            ck_assert_msg(rep.rows_bad == 1 && strstr(log.text, "line 2, column 11") != NULL,
                          "case %zu: %s", i, log.text);
        json_decref(out);
        csv_mapping_free(m);
    }
    {
        char map[256];
        struct csv_mapping *m = NULL;
        struct base_err err = {0};

        (void)snprintf(map, sizeof(map), "%s | decimal x\n", lab_map_nodec);
        ck_assert_int_eq(csv_mapping_parse(map, strlen(map), NULL, &m, &err), BASE_E_PARSE);
        ck_assert_ptr_null(m);
    }
}
END_TEST

/* Excel "CSV" on a Western Windows writes code page 1252 without a BOM.
 * Without an `encoding` line its header was read as GB18030, which takes
 * nearly any byte pair: "Pr\xe9nom" became "Pr" and a hanzi, matching no
 * column (and the rows' accents turned Chinese).  Lone high bytes now read
 * as Windows-1252; GBK pairs still read as GB18030. */
START_TEST(latin1_export_without_encoding_line)
{
    static const char map[] = "resource Patient\n"
                              "identity urn:oid:1.2.3 {ID}\n"
                              "name[0].given[0] = {Pr\xc3\xa9nom}\n"
                              "name[0].family = {Nom}\n";
    /* Prénom / Renée / Müller in Latin-1 */
    static const char csv[] = "ID;Pr\xe9nom;Nom\r\n7;Ren\xe9"
                              "e;M\xfcller\r\n";
    struct csv_mapping *m = NULL;
    struct base_err err = {0};
    struct csv_report rep = {0};
    json_t *out = NULL;

    ck_assert_int_eq(csv_mapping_parse(map, strlen(map), NULL, &m, &err), BASE_OK);
    ck_assert_int_eq(csv_convert(m, csv, strlen(csv), NULL, NULL, NULL, NULL, &out, &rep, &err),
                     BASE_OK);
    ck_assert_uint_eq(rep.rows_ok, 1);
    ck_assert_str_eq(tu_json_str(res_at(out, 0), "name.0.given.0"), "Ren\xc3\xa9"
                                                                    "e");
    ck_assert_str_eq(tu_json_str(res_at(out, 0), "name.0.family"), "M\xc3\xbcller");
    json_decref(out);
    csv_mapping_free(m);
}
END_TEST

/* A WPS / HIS report typed with a Chinese IME writes header names in
 * full-width letters ("ＩＤ", "Ｎａｍｅ", U+3000 spaces): they name the
 * mapping's ASCII columns, as a difference of case does. */
START_TEST(fullwidth_header_names_match)
{
    static const char map[] = "resource Observation\n"
                              "identity urn:oid:1.2.3 {ID}\n"
                              "status = final\n"
                              "code.text = {NAME} required\n"
                              "valueQuantity.value = {LAB V} | decimal\n";
    /* ＩＤ,Ｎａｍｅ,ＬＡＢ　Ｖ */
    static const char csv[] = "\xef\xbc\xa9\xef\xbc\xa4,\xef\xbc\xae\xef\xbd\x81\xef\xbd\x8d"
                              "\xef\xbd\x85,\xef\xbc\xac\xef\xbc\xa1\xef\xbc\xa2\xe3\x80\x80"
                              "\xef\xbc\xb6\n1,Glucose,5.5\n";
    struct csv_mapping *m = NULL;
    struct base_err err = {0};
    struct csv_report rep = {0};
    json_t *out = NULL;

    ck_assert_int_eq(csv_mapping_parse(map, strlen(map), NULL, &m, &err), BASE_OK);
    ck_assert_int_eq(csv_convert(m, csv, strlen(csv), NULL, NULL, NULL, NULL, &out, &rep, &err),
                     BASE_OK);
    ck_assert_uint_eq(rep.rows_ok, 1);
    ck_assert_str_eq(tu_json_str(res_at(out, 0), "code.text"), "Glucose");
    ck_assert_str_eq(num_text(res_at(out, 0), "valueQuantity.value"), "5.5");
    json_decref(out);
    /* a full-width letter is no wildcard: "ＩＸ" is not ID */
    ck_assert_int_eq(csv_convert(m, "\xef\xbc\xa9\xef\xbc\xb8,NAME,LAB V\n1,a,2\n", 24, NULL, NULL,
                                 NULL, NULL, &out, NULL, &err),
                     BASE_E_INVALID);
    ck_assert_ptr_null(out);
    csv_mapping_free(m);
}
END_TEST

/* LIS exports write results outside the analyser's range as "<0.5" or
 * ">=60".  `decimal comparator` reads the number after one, and the
 * `comparator` transform gives Quantity.comparator (FHIR R4 quantity-
 * comparator); plain `decimal` still refuses them -- 0.5 was not measured. */
START_TEST(lab_values_with_comparator)
{
    static const struct {
        const char *cell, *value, *comparator; /* comparator NULL: none */
    } cases[] = {
        {"<0.5", "0.5", "<"},
        {">=60", "60", ">="},
        {" > 100", "100", ">"},
        {"\xe2\x89\xa4"
         "5",
         "5", "<="}, /* ≤5 */
        {"\xef\xbc\x9c"
         "0,5",
         "0.5", "<"}, /* ＜0,5 */
        {"7.2", "7.2", NULL},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        char map[320];
        char csv[128];
        struct csv_mapping *m = NULL;
        struct base_err err = {0};
        struct csv_report rep = {0};
        json_t *out = NULL;
        const json_t *res;

        (void)snprintf(map, sizeof(map),
                       "%s | decimal comparator\nvalueQuantity.comparator = {V} | comparator\n",
                       lab_map_nodec);
        (void)snprintf(csv, sizeof(csv), "ID;NAME;V\n1;Glucose;%s\n", cases[i].cell);
        ck_assert_int_eq(csv_mapping_parse(map, strlen(map), NULL, &m, &err), BASE_OK);
        ck_assert_int_eq(csv_convert(m, csv, strlen(csv), NULL, NULL, NULL, NULL, &out, &rep, &err),
                         BASE_OK);
        ck_assert_msg(rep.rows_ok == 1, "case %zu", i);
        res = res_at(out, 0);
        ck_assert_msg(strcmp(num_text(res, "valueQuantity.value"), cases[i].value) == 0, "case %zu",
                      i);
        if (cases[i].comparator != NULL)
            ck_assert_str_eq(tu_json_str(res, "valueQuantity.comparator"), cases[i].comparator);
        else
            ck_assert_ptr_null(tu_json_at(res, "valueQuantity.comparator"));
        ck_assert_int_eq(fhir_validate(res, NULL, NULL, NULL, NULL), BASE_OK);
        json_decref(out);
        csv_mapping_free(m);
    }
    {
        static const char *const bad[] = {" | decimal comparator comparator\n", " | decimal , .\n",
                                          " | comparator x\n"};

        for (size_t i = 0; i < BASE_ARRAY_LEN(bad); i++) {
            char map[256];
            struct csv_mapping *m = NULL;
            struct base_err err = {0};

            (void)snprintf(map, sizeof(map), "%s%s", lab_map_nodec, bad[i]);
            ck_assert_int_eq(csv_mapping_parse(map, strlen(map), NULL, &m, &err), BASE_E_PARSE);
            ck_assert_ptr_null(m);
        }
    }
}
END_TEST

/* SQL Server / HIS report exports write a missing value as NULL, Excel
 * lookups leave #N/A: read as empty by default (a NULL date was a row
 * error, a NULL text became the text "NULL"); `null` lists an export's own. */
START_TEST(null_cells_read_as_empty)
{
    static const char csv[] = "ID,NAME,V\n1,Glucose,NULL\n2,NULL,5\n3,Sodium,#N/A\n4,Urea,-\n";
    struct csv_mapping *m = NULL;
    struct base_err err = {0};
    struct errlog log = {0};
    struct csv_report rep = {0};
    json_t *out = NULL;
    char map[512];

    ck_assert_int_eq(csv_mapping_parse(lab_map, strlen(lab_map), NULL, &m, &err), BASE_OK);
    ck_assert_int_eq(csv_convert(m, csv, strlen(csv), NULL, NULL, log_row, &log, &out, &rep, &err),
                     BASE_OK);
    /* row 2: NAME is required, so NULL there is "missing", not a name */
    ck_assert_uint_eq(rep.rows_ok, 2);
    ck_assert_uint_eq(rep.rows_bad, 2);
    ck_assert_ptr_nonnull(strstr(log.text, "line 3, column 3"));
    ck_assert_ptr_nonnull(strstr(log.text, "line 5, column 8"));
    ck_assert_ptr_null(tu_json_at(res_at(out, 0), "valueQuantity"));
    ck_assert_str_eq(tu_json_str(res_at(out, 1), "code.text"), "Sodium");
    ck_assert_ptr_null(tu_json_at(res_at(out, 1), "valueQuantity"));
    json_decref(out);
    out = NULL;
    csv_mapping_free(m);

    (void)snprintf(map, sizeof(map), "%snull NULL -\n", lab_map);
    ck_assert_int_eq(csv_mapping_parse(map, strlen(map), NULL, &m, &err), BASE_OK);
    memset(&log, 0, sizeof(log));
    ck_assert_int_eq(csv_convert(m, csv, strlen(csv), NULL, NULL, log_row, &log, &out, &rep, &err),
                     BASE_OK);
    /* now '-' is empty and #N/A is a value (not a number) */
    ck_assert_uint_eq(rep.rows_ok, 2);
    ck_assert_ptr_nonnull(strstr(log.text, "line 4, column 10"));
    ck_assert_str_eq(tu_json_str(res_at(out, 1), "code.text"), "Urea");
    json_decref(out);
    csv_mapping_free(m);
}
END_TEST

/* Dates as hospital exports write them.  Before: a date format could not
 * take a time after a space, full-width digits, month names, two-digit years
 * or Excel serial numbers - each a row error. */
START_TEST(spreadsheet_dates)
{
    static const char map[] = "resource Observation\n"
                              "identity urn:oid:1.2.3 {ID}\n"
                              "status = final\n"
                              "code.text = {NAME} required\n"
                              "effectiveDateTime = {T} | datetime iso YYYY/M/D "
                              "YYYY\xe5\xb9\xb4M\xe6\x9c\x88"
                              "D\xe6\x97\xa5 DD-MMM-YY excel\n";
    static const struct {
        const char *cell, *want; /* want NULL: row error */
    } cases[] = {
        {"2024/3/5", "2024-03-05"},
        {"2024/3/5 8:30", "2024-03-05T08:30:00+08:00"},
        {"2024/3/5 08:30:15", "2024-03-05T08:30:15+08:00"},
        {"2024-03-05 08:30", "2024-03-05T08:30:00+08:00"},
        {"2024\xe5\xb9\xb4"
         "3\xe6\x9c\x88"
         "5\xe6\x97\xa5",
         "2024-03-05"}, /* 2024年3月5日 */
        {"\xef\xbc\x92\xef\xbc\x90\xef\xbc\x92\xef\xbc\x94\xef\xbc\x8f\xef\xbc\x93\xef\xbc\x8f"
         "\xef\xbc\x95",
         "2024-03-05"}, /* ２０２４／３／５ */
        {"05-Mar-24", "2024-03-05"},
        {"05-MAR-99", "1999-03-05"},
        {"45356", "2024-03-05"},
        {"45356.5", "2024-03-05T12:00:00+08:00"},
        {"61", "1900-03-01"},
        {"60", NULL}, /* Excel's 1900-02-29, which never was */
        {"05-Mrz-24", NULL},
        {"2024/3/5 25:00", NULL},
        {"2024/2/30", NULL},
    };
    struct csv_mapping *m = NULL;
    struct base_err err = {0};
    struct csv_load_options opt = {.default_tz = "+08:00"};

    ck_assert_int_eq(csv_mapping_parse(map, strlen(map), NULL, &m, &err), BASE_OK);
    for (size_t i = 0; i < BASE_ARRAY_LEN(cases); i++) {
        char csv[128];
        struct errlog log = {0};
        struct csv_report rep = {0};
        json_t *out = NULL;

        (void)snprintf(csv, sizeof(csv), "ID,NAME,T\n1,Glucose,%s\n", cases[i].cell);
        ck_assert_int_eq(
            csv_convert(m, csv, strlen(csv), NULL, &opt, log_row, &log, &out, &rep, &err), BASE_OK);
        if (cases[i].want != NULL)
            ck_assert_msg(
                rep.rows_ok == 1 &&
                    strcmp(tu_json_str(res_at(out, 0), "effectiveDateTime"), cases[i].want) == 0,
                "case %zu: %s", i, log.text);
        else
            ck_assert_msg(rep.rows_bad == 1 && strstr(log.text, "line 2, column 11") != NULL,
                          "case %zu: %s", i, log.text);
        json_decref(out);
    }
    csv_mapping_free(m);
}
END_TEST

/* A header with one name twice (a join in the HIS report): the first was
 * taken silently, which may be the other person's value. */
START_TEST(duplicate_header_is_refused)
{
    static const char csv[] = "ID,NAME,V,NAME\n1,Glucose,5.5,x\n";
    static const char unused_twice[] = "ID,NAME,V,NOTE,NOTE\n1,Glucose,5.5,a,b\n";
    struct csv_mapping *m = NULL;
    struct base_err err = {0};
    json_t *out = NULL;

    ck_assert_int_eq(csv_mapping_parse(lab_map, strlen(lab_map), NULL, &m, &err), BASE_OK);
    ck_assert_int_eq(csv_convert(m, csv, strlen(csv), NULL, NULL, NULL, NULL, &out, NULL, &err),
                     BASE_E_INVALID);
    ck_assert_str_eq(err.where, "line 1");
    ck_assert_ptr_nonnull(strstr(err.msg, "NAME twice (fields 2 and 4)"));
    ck_assert_ptr_null(out);
    /* a repeated column the mapping does not use is no problem */
    ck_assert_int_eq(csv_convert(m, unused_twice, strlen(unused_twice), NULL, NULL, NULL, NULL,
                                 &out, NULL, &err),
                     BASE_OK);
    json_decref(out);
    csv_mapping_free(m);
}
END_TEST

START_TEST(same_export_same_bundle)
{
    struct csv_report rep;
    json_t *a = convert_synthea("conditions", &rep);
    json_t *b = convert_synthea("conditions", &rep);

    ck_assert(fhir_json_equal(a, b));
    json_decref(a);
    json_decref(b);
}
END_TEST

struct batches {
    size_t n;
    size_t entries;
    size_t max;
};

static int
count_batch(void *ctx, json_t *bundle)
{
    struct batches *b = ctx;
    size_t n = json_array_size(json_object_get(bundle, "entry"));

    b->n++;
    b->entries += n;
    b->max = n > b->max ? n : b->max;
    json_decref(bundle);
    return BASE_OK;
}

START_TEST(batches_and_chunks)
{
    struct csv_mapping *m = load_mapping("adapters/csv/mappings/synthea/conditions.map");
    struct csv_load_options opt = {.source_name = "conditions.csv", .batch_rows = 7};
    struct batches bt = {0};
    struct csv_load *l = NULL;
    struct csv_report rep = {0};
    struct base_err err = {0};
    size_t len = 0;
    char *data = tu_read_file(tu_corpus_path("csv/synthea-csv/conditions.csv"), &len);

    ck_assert_int_eq(csv_load_new(m, NULL, &opt, count_batch, NULL, &bt, &l, &err), BASE_OK);
    for (size_t off = 0; off < len; off += 13)
        ck_assert_int_eq(csv_load_feed(l, data + off, off + 13 > len ? len - off : 13, &err),
                         BASE_OK);
    ck_assert_int_eq(csv_load_finish(l, &rep, &err), BASE_OK);
    ck_assert_uint_eq(bt.entries, 200);
    ck_assert_uint_eq(bt.n, 29); /* 28 x 7 + 4 */
    ck_assert_uint_eq(bt.max, 7);
    ck_assert_uint_eq(rep.bundles, 29);
    csv_load_free(l);
    csv_mapping_free(m);
    free(data);
}
END_TEST

START_TEST(bad_rows_skip_or_fail)
{
    struct csv_mapping *m = NULL;
    struct base_err err = {0};
    struct errlog log = {0};
    struct csv_report rep = {0};
    struct csv_load_options opt = {.source_name = "lab.csv"};
    const char *csv = "ID,NAME,V\n1,Glucose,5.5\n2,Sodium,abc\n3,,4\n4,Potassium,4.1\n";
    json_t *out = NULL;

    ck_assert_int_eq(csv_mapping_parse(lab_map, strlen(lab_map), NULL, &m, &err), BASE_OK);
    ck_assert_int_eq(csv_convert(m, csv, strlen(csv), NULL, &opt, log_row, &log, &out, &rep, &err),
                     BASE_OK);
    ck_assert_str_eq(log.text, "line 3, column 10 (V): value is not a number\n"
                               "line 4, column 3 (NAME): required value is empty\n");
    ck_assert_uint_eq(rep.rows, 4);
    ck_assert_uint_eq(rep.rows_ok, 2);
    ck_assert_uint_eq(rep.rows_bad, 2);
    ck_assert_uint_eq(json_array_size(json_object_get(out, "entry")), 2);
    json_decref(out);

    opt.on_error = CSV_ON_ERROR_FAIL;
    memset(&log, 0, sizeof(log));
    ck_assert_int_eq(csv_convert(m, csv, strlen(csv), NULL, &opt, log_row, &log, &out, &rep, &err),
                     BASE_E_INVALID);
    ck_assert_ptr_null(out);
    ck_assert_str_eq(err.where, "line 3, column 10 (V)");
    csv_mapping_free(m);
}
END_TEST

START_TEST(header_must_have_mapped_columns)
{
    struct csv_mapping *m = NULL;
    struct base_err err = {0};
    json_t *out = NULL;
    const char *csv = "ID,V\n1,5\n";

    ck_assert_int_eq(csv_mapping_parse(lab_map, strlen(lab_map), NULL, &m, &err), BASE_OK);
    ck_assert_int_eq(csv_convert(m, csv, strlen(csv), NULL, NULL, NULL, NULL, &out, NULL, &err),
                     BASE_E_INVALID);
    ck_assert_str_eq(err.where, "line 1");
    ck_assert_ptr_nonnull(strstr(err.msg, "NAME"));
    ck_assert_int_eq(csv_convert(m, "", 0, NULL, NULL, NULL, NULL, &out, NULL, &err),
                     BASE_E_INVALID);
    csv_mapping_free(m);
}
END_TEST

START_TEST(columns_directive_without_header)
{
    static const char map[] = "resource Patient\ncolumns MRN,NAME\nidentity urn:oid:1.2 {MRN}\n"
                              "name[0].text = {NAME}\n";
    struct csv_mapping *m = NULL;
    struct base_err err = {0};
    struct csv_report rep;
    json_t *out = NULL;

    ck_assert_int_eq(csv_mapping_parse(map, strlen(map), NULL, &m, &err), BASE_OK);
    ck_assert_int_eq(
        csv_convert(m, "A1,Ann\nA2,Bob\n", 14, NULL, NULL, NULL, NULL, &out, &rep, &err), BASE_OK);
    ck_assert_uint_eq(rep.resources, 2);
    ck_assert_str_eq(tu_json_str(res_at(out, 1), "name.0.text"), "Bob");
    json_decref(out);
    csv_mapping_free(m);
}
END_TEST

/* ------------------------------------------------------------- CLI */

START_TEST(cli_reports_bad_rows_and_prints_good_ones)
{
    const char *argv[] = {tu_bin("fhirgate"),
                          "convert",
                          "--from",
                          "csv",
                          "--mapping",
                          "test/golden/csv/bad_rows/mapping.map",
                          "test/golden/csv/bad_rows/input.csv",
                          NULL};
    struct tu_run r;
    json_t *b = NULL;

    ck_assert_int_eq(tu_run(argv, &r), 0);
    ck_assert_int_eq(r.status, 0);
    ck_assert_int_eq(fhir_json_parse(r.out, r.out_len, NULL, &b, NULL), BASE_OK);
    ck_assert_uint_eq(json_array_size(json_object_get(b, "entry")), 3);
    ck_assert_ptr_nonnull(strstr(r.err, "input.csv: line 3, column 42: error: structure: "
                                        "quoted field is not closed properly"));
    ck_assert_ptr_nonnull(strstr(r.err, "line 6, column 43: error: structure: record has 8"));
    ck_assert_ptr_nonnull(strstr(r.err, "7 of 10 rows rejected, 3 resources converted"));
    json_decref(b);
    tu_run_free(&r);
    /* no mapping: a usage problem, said plainly */
    const char *nomap[] = {
        tu_bin("fhirgate"), "convert", "--from", "csv", "test/golden/csv/bad_rows/input.csv", NULL};
    ck_assert_int_eq(tu_run(nomap, &r), 0);
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "--mapping"));
    tu_run_free(&r);
}
END_TEST

/* ---------------------------------------------------------- golden */

static int
golden_csv(const char *dir, const char *data, size_t len, json_t **out, struct base_err *err)
{
    char path[512];
    char *mtext;
    size_t mlen = 0;
    struct csv_mapping *m = NULL;
    struct errlog log = {0};
    struct csv_report rep = {0};
    json_t *bundle = NULL;
    int rc;

    snprintf(path, sizeof(path), "%s/mapping.map", dir);
    mtext = tu_read_file(path, &mlen);
    if (mtext == NULL) { /* mapping.ref names a shipped mapping */
        snprintf(path, sizeof(path), "%s/mapping.ref", dir);
        char *ref = tu_read_file(path, &mlen);

        ck_assert_ptr_nonnull(ref);
        ref[strcspn(ref, "\n")] = '\0';
        mtext = tu_read_file(ref, &mlen);
        free(ref);
    }
    ck_assert_ptr_nonnull(mtext);
    rc = csv_mapping_parse(mtext, mlen, NULL, &m, err);
    free(mtext);
    if (rc != BASE_OK)
        return rc;
    struct csv_load_options opt = {.source_name = "input.csv"};
    rc = csv_convert(m, data, len, NULL, &opt, log_row, &log, &bundle, &rep, err);
    csv_mapping_free(m);
    if (rc != BASE_OK)
        return rc;
    /* the golden file shows the row reports next to the Bundle */
    json_t *errors = json_array();
    for (char *line = log.text; *line != '\0';) {
        char *nl = strchr(line, '\n');

        json_array_append_new(errors,
                              json_stringn(line, nl != NULL ? (size_t)(nl - line) : strlen(line)));
        line = nl != NULL ? nl + 1 : line + strlen(line);
    }
    *out = json_pack("{s:o,s:o,s:{s:I,s:I,s:I,s:I}}", "bundle", bundle, "rowErrors", errors,
                     "report", "rows", (json_int_t)rep.rows, "rowsOk", (json_int_t)rep.rows_ok,
                     "rowsBad", (json_int_t)rep.rows_bad, "resources", (json_int_t)rep.resources);
    return BASE_OK;
}

START_TEST(golden_cases)
{
    size_t cases = 0;

    ck_assert_int_eq(tu_golden_run("csv", golden_csv, &cases), 0);
    ck_assert_uint_ge(cases, 8);
}
END_TEST

/* clang-format off: the build finds suites by this one-line signature */
Suite *
csv_suite(void)
/* clang-format on */
{
    Suite *s = suite_create("csv");
    TCase *rd = tcase_create("reader");
    TCase *map = tcase_create("mapping");
    TCase *load = tcase_create("load");

    tcase_set_timeout(rd, 60);
    tcase_set_timeout(load, 60);
    tcase_add_test(rd, rfc4180_basics);
    tcase_add_test(rd, detects_delimiter);
    tcase_add_test(rd, malformed_records_keep_good_rows);
    tcase_add_test(rd, limits_columns_field_record);
    tcase_add_test(rd, callback_can_stop);
    tcase_add_test(rd, streams_large_input);
    tcase_add_test(map, mapping_errors_name_the_line);
    tcase_add_test(map, mapping_limits);
    tcase_add_loop_test(load, synthea_samples_convert, 0, (int)BASE_ARRAY_LEN(synthea_counts));
    tcase_add_test(load, synthea_spot_values);
    tcase_add_test(load, synthea_observation_without_value);
    tcase_add_test(load, synthea_observations_with_and_without_type);
    tcase_add_test(load, synthea_patient_layouts_of_other_versions);
    tcase_add_test(load, trailing_empty_columns);
    tcase_add_test(load, header_case_and_number_conditions);
    tcase_add_test(load, utf16_export_is_decoded);
    tcase_add_test(load, gbk_export_without_encoding_line);
    tcase_add_test(load, spreadsheet_numbers);
    tcase_add_test(load, latin1_export_without_encoding_line);
    tcase_add_test(load, fullwidth_header_names_match);
    tcase_add_test(load, lab_values_with_comparator);
    tcase_add_test(load, null_cells_read_as_empty);
    tcase_add_test(load, spreadsheet_dates);
    tcase_add_test(load, duplicate_header_is_refused);
    tcase_add_test(load, same_identity_other_values_is_reported);
    tcase_add_test(load, same_export_same_bundle);
    tcase_add_test(load, batches_and_chunks);
    tcase_add_test(load, bad_rows_skip_or_fail);
    tcase_add_test(load, header_must_have_mapped_columns);
    tcase_add_test(load, columns_directive_without_header);
    tcase_add_test(load, golden_cases);
    tcase_add_test(load, cli_reports_bad_rows_and_prints_good_ones);
    suite_add_tcase(s, rd);
    suite_add_tcase(s, map);
    suite_add_tcase(s, load);
    return s;
}
