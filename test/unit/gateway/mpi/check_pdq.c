/* PDQm (IHE ITI-78) parameters into a query: modifiers, OR lists, tokens,
 * domains, and each refusal (with where, never the value). */
#include <check.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "gateway/mpi/gw_mpi.h"

#define RESID "11010519491231002X" /* GB 11643's own example */

static struct base_arena *A;
static struct gw_mpi_pdq_query Q;

static void
setup(void)
{
    A = base_arena_new(0);
    memset(&Q, 0, sizeof(Q));
}

static void
teardown(void)
{
    base_arena_free(A);
}

static int
param(const char *name, const char *value, struct base_err *err)
{
    return gw_mpi_pdq_param(A, &Q, name, value, err);
}

static void
ok(const char *name, const char *value)
{
    struct base_err err = {0};

    ck_assert_msg(param(name, value, &err) == BASE_OK, "%s: %s", name, err.msg);
}

/* The refusal's issue code and where; the value never appears. */
static void
refused(const char *name, const char *value, const char *issue, const char *where)
{
    struct base_err err = {0};

    ck_assert_msg(param(name, value, &err) == BASE_E_INVALID, "%s accepted", name);
    ck_assert_str_eq(err.issue_code, issue);
    ck_assert_str_eq(err.where, where);
    if (strlen(value) > 3)
        ck_assert_ptr_null(strstr(err.msg, value));
}

START_TEST(modifiers_on_string_parameters)
{
    ok("family", "Zhang");
    ok("family:exact", "Zhang");
    ok("given:contains", "an");
    ok("address-city:exact", "Jinan");
    ok("mothersMaidenName:contains", "Li");
    ck_assert_uint_eq(Q.n_crit, 5);
    ck_assert_int_eq(Q.crit[0].match, GW_MPI_PDQ_DEFAULT);
    ck_assert_int_eq(Q.crit[1].match, GW_MPI_PDQ_EXACT);
    ck_assert_int_eq(Q.crit[2].match, GW_MPI_PDQ_CONTAINS);
    ck_assert_int_eq(Q.crit[3].field, GW_MPI_PDQ_ADDRESS_CITY);
    ck_assert_int_eq(Q.crit[4].field, GW_MPI_PDQ_MOTHERS_MAIDEN_NAME);
    /* modifiers the index does not search, or on a non-string parameter */
    refused("family:missing", "true", "not-supported", "query");
    refused("gender:exact", "male", "not-supported", "query");
    refused("birthdate:contains", "1980", "not-supported", "query");
    refused("active:exact", "true", "not-supported", "query");
    refused("_sort", "family", "not-supported", "query");
    refused("familyx", "Zhang", "not-supported", "query");
    ck_assert_uint_eq(Q.n_crit, 5);
}
END_TEST

START_TEST(or_lists_and_escaped_commas)
{
    ok("family", "Wang,Li,Zhang");
    ck_assert_uint_eq(Q.crit[0].n, 3);
    ck_assert_str_eq(Q.terms[2].value, "Zhang");
    ok("family", "Zhang\\,Wang");
    ck_assert_uint_eq(Q.crit[1].n, 1);
    ck_assert_str_eq(Q.terms[3].value, "Zhang,Wang");
    ok("gender", "male,female");
    ck_assert_uint_eq(Q.crit[2].n, 2);
    ok("birthdate", "1980,ge1990-01-01");
    ck_assert_int_eq(Q.terms[7].date.lo, 19900101);
    ck_assert_str_eq(Q.terms[7].date.op, "ge");
    /* an address keeps its commas */
    ok("address", "Room 3, Building 5");
    ck_assert_uint_eq(Q.crit[4].n, 1);
    /* one bad value in a list refuses the parameter */
    refused("gender", "male,yes", "value", "gender");
    refused("family", "Wang,", "value", "name");
    refused("active", "true,maybe", "value", "active");
}
END_TEST

START_TEST(identifier_tokens_and_domains)
{
    ok("identifier", "urn:oid:1.2.3|A-1,urn:oid:4.5.6|B-2");
    ck_assert_str_eq(Q.terms[1].system, "urn:oid:4.5.6");
    ck_assert_str_eq(Q.terms[1].value, "B-2");
    ok("identifier", "A-1");
    ck_assert_ptr_null(Q.terms[2].system);
    ok("identifier", "|A-1");
    ck_assert_str_eq(Q.terms[3].system, "");
    /* SYSTEM| names a domain (ITI-78 2:3.78.4.1.2.3) */
    ok("identifier", "urn:oid:1.2.3|,urn:oid:4.5.6|");
    ck_assert_uint_eq(Q.n_domains, 2);
    ck_assert_str_eq(Q.domains[1], "urn:oid:4.5.6");
    ck_assert_str_eq(Q.terms[5].value, "");
    /* a resident id is checked and normalized (lower-case x) */
    ok("identifier", "urn:oid:2.16.156.10011.1.3|11010519491231002x");
    ck_assert_str_eq(Q.terms[6].value, RESID);
    refused("identifier", "urn:oid:2.16.156.10011.1.3|110105194912310021", "value", "identifier");
    refused("identifier", "|", "value", "identifier");
    refused("identifier", "", "value", "identifier");
}
END_TEST

START_TEST(other_values)
{
    struct base_err err = {0};
    char big[300];

    ok("_id", "0b4f3c5e-1d2a-4e5f-8a9b-0c1d2e3f4a5b");
    refused("_id", "a b", "value", "_id");
    ok("telecom", "phone|13800138000");
    ck_assert_str_eq(Q.terms[1].value, "13800138000");
    refused("telecom", "phone|", "value", "telecom");
    refused("birthdate", "ap1980", "value", "birthdate");
    refused("birthdate", "1980-02-30", "value", "birthdate");
    refused("address-city", "", "value", "address");
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    refused("name", big, "value", "name");
    refused("mothersMaidenName", big, "value", "mothersMaidenName");
    /* active: a list without true matches nobody */
    ok("active", "true,false");
    ck_assert(Q.active_given && !Q.inactive_only);
    ok("active", "false");
    ck_assert(Q.inactive_only);
    ck_assert_int_eq(gw_mpi_pdq_date("le1980-06", &Q.terms[0].date, &err), BASE_OK);
    ck_assert_int_eq(Q.terms[0].date.hi, 19800631);
}
END_TEST

START_TEST(limits)
{
    char list[4 * GW_MPI_LIMIT_PDQ_TERMS + 8] = "";

    for (int i = 0; i < GW_MPI_LIMIT_PDQ_BIRTHDATES; i++)
        ok("birthdate", "1980");
    refused("birthdate", "1980", "too-costly", "birthdate");
    for (unsigned i = 0; i <= GW_MPI_LIMIT_PDQ_TERMS; i++)
        strcat(list, i > 0 ? ",ab" : "ab");
    refused("family", list, "too-costly", "query");
    memset(&Q, 0, sizeof(Q));
    for (unsigned i = 0; i < GW_MPI_LIMIT_PDQ_PARAMS; i++)
        ok("given", "San");
    refused("given", "San", "too-costly", "query");
}
END_TEST

Suite *
gw_mpi_pdq_suite(void)
{
    Suite *s = suite_create("gw_mpi_pdq");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, modifiers_on_string_parameters);
    tcase_add_test(tc, or_lists_and_escaped_commas);
    tcase_add_test(tc, identifier_tokens_and_domains);
    tcase_add_test(tc, other_values);
    tcase_add_test(tc, limits);
    suite_add_tcase(s, tc);
    return s;
}
