/*
 * The SQL script splitter that runs migrations statement by statement:
 * PostgreSQL's lexical rules for strings, identifiers, dollar quoting and
 * comments, line numbers, limits and errors.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir/base/limits.h"
#include "gateway/db/gw_db.h"

struct got {
    int n;
    char stmt[16][256];
    unsigned line[16];
    int fail_at; /* callback fails on this statement (1-based), 0 never */
};

static int
collect(void *ctx, const char *sql, size_t len, unsigned line)
{
    struct got *g = ctx;

    if (g->n + 1 == g->fail_at)
        return BASE_E_IO;
    ck_assert_int_lt(g->n, 16);
    snprintf(g->stmt[g->n], sizeof(g->stmt[g->n]), "%.*s", (int)len, sql);
    g->line[g->n] = line;
    g->n++;
    return BASE_OK;
}

static int
split(const char *s, struct got *g, struct base_err *err)
{
    memset(g, 0, sizeof(*g));
    return gw_db_sql_split(s, strlen(s), 100, collect, g, err);
}

START_TEST(plain_statements)
{
    struct got g;
    struct base_err err = {0};

    ck_assert_int_eq(split("SELECT 1;\n  SELECT 2 ;;\n\n-- only a comment\n;SELECT 3", &g, &err),
                     BASE_OK);
    ck_assert_int_eq(g.n, 3);
    ck_assert_str_eq(g.stmt[0], "SELECT 1");
    ck_assert_str_eq(g.stmt[1], "SELECT 2");
    ck_assert_str_eq(g.stmt[2], "SELECT 3");
    ck_assert_uint_eq(g.line[0], 1);
    ck_assert_uint_eq(g.line[1], 2);
    ck_assert_uint_eq(g.line[2], 5);
    ck_assert_int_eq(split("", &g, &err), BASE_OK);
    ck_assert_int_eq(g.n, 0);
    ck_assert_int_eq(split("  /* nothing */ -- here\n", &g, &err), BASE_OK);
    ck_assert_int_eq(g.n, 0);
}
END_TEST

START_TEST(semicolons_inside_tokens_do_not_split)
{
    struct got g;
    struct base_err err = {0};

    ck_assert_int_eq(split("SELECT 'a;b', 'it''s;', \"col;\"\"x\", E'x\\';y' FROM t;"
                           "SELECT $$ a; $x$ ; $$, $tag$ $$;$$ $tag$;"
                           "SELECT $1, a$b; /* c; /* nested; */ still; */ SELECT 2 -- d;\n;"
                           "select e'\\\\';",
                           &g, &err),
                     BASE_OK);
    ck_assert_int_eq(g.n, 5);
    ck_assert_str_eq(g.stmt[0], "SELECT 'a;b', 'it''s;', \"col;\"\"x\", E'x\\';y' FROM t");
    ck_assert_str_eq(g.stmt[1], "SELECT $$ a; $x$ ; $$, $tag$ $$;$$ $tag$");
    ck_assert_str_eq(g.stmt[2], "SELECT $1, a$b");
    ck_assert_str_eq(g.stmt[3], "SELECT 2"); /* a trailing comment is not part of it */
    ck_assert_str_eq(g.stmt[4], "select e'\\\\'");
}
END_TEST

START_TEST(standard_strings_have_no_backslash_escapes)
{
    struct got g;
    struct base_err err = {0};

    /* with standard_conforming_strings (the default) '\' ends at the quote */
    ck_assert_int_eq(split("SELECT '\\'; SELECT 2", &g, &err), BASE_OK);
    ck_assert_int_eq(g.n, 2);
    ck_assert_str_eq(g.stmt[0], "SELECT '\\'");
}
END_TEST

START_TEST(unterminated_tokens_are_errors)
{
    static const struct {
        const char *sql;
        const char *where;
        const char *msg;
    } cases[] = {
        {"SELECT 1;\nSELECT 'abc", "line 2", "unterminated string"},
        {"SELECT \"abc", "line 1", "unterminated quoted identifier"},
        {"\n\nDO $body$ BEGIN END $bod$", "line 3", "unterminated dollar-quoted body"},
        {"SELECT 1 /* /* */", "line 1", "unterminated block comment"},
        {"SELECT E'\\'", "line 1", "unterminated string"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct got g;
        struct base_err err = {0};

        ck_assert_int_eq(split(cases[i].sql, &g, &err), BASE_E_PARSE);
        ck_assert_str_eq(err.where, cases[i].where);
        ck_assert_str_eq(err.msg, cases[i].msg);
    }
}
END_TEST

START_TEST(limits_and_callback_errors)
{
    struct got g;
    struct base_err err = {0};

    memset(&g, 0, sizeof(g));
    ck_assert_int_eq(gw_db_sql_split("SELECT 1; SELECT 2; SELECT 3", 28, 2, collect, &g, &err),
                     BASE_E_LIMIT);
    ck_assert_int_eq(g.n, 2);
    memset(&g, 0, sizeof(g));
    g.fail_at = 2;
    ck_assert_int_eq(gw_db_sql_split("SELECT 1; SELECT 2; SELECT 3", 28, 10, collect, &g, &err),
                     BASE_E_IO);
    ck_assert_int_eq(g.n, 1);
    /* not NUL-terminated: only `len` bytes are read */
    memset(&g, 0, sizeof(g));
    ck_assert_int_eq(gw_db_sql_split("SELECT 1; SELECT 2", 8, 10, collect, &g, &err), BASE_OK);
    ck_assert_int_eq(g.n, 1);
    ck_assert_str_eq(g.stmt[0], "SELECT 1");
}
END_TEST

static int
count_only(void *ctx, const char *sql, size_t len, unsigned line)
{
    (void)sql;
    (void)len;
    (void)line;
    (*(int *)ctx)++;
    return BASE_OK;
}

START_TEST(embedded_migrations_split)
{
    static const char *const targets[] = {"gateway", "adapter"};

    for (size_t t = 0; t < 2; t++) {
        size_t n = 0;
        const struct gw_db_migration *m = gw_db_migrations(targets[t], &n);

        ck_assert_uint_ge(n, 1);
        for (size_t i = 0; i < n; i++) {
            struct base_err err = {0};
            int count = 0;

            ck_assert_str_eq(m[i].target, targets[t]);
            ck_assert_int_eq(gw_db_sql_split((const char *)m[i].sql, m[i].len,
                                             BASE_LIMIT_DB_MIGRATION_STMTS, count_only, &count,
                                             &err),
                             BASE_OK);
            ck_assert_int_gt(count, 0);
            ck_assert(i == 0 || strcmp(m[i - 1].name, m[i].name) < 0);
        }
    }
}
END_TEST

Suite *db_sql_split_suite(void)
{
    Suite *s = suite_create("db_sql_split");
    TCase *tc = tcase_create("split");

    tcase_add_test(tc, plain_statements);
    tcase_add_test(tc, semicolons_inside_tokens_do_not_split);
    tcase_add_test(tc, standard_strings_have_no_backslash_escapes);
    tcase_add_test(tc, unterminated_tokens_are_errors);
    tcase_add_test(tc, limits_and_callback_errors);
    tcase_add_test(tc, embedded_migrations_split);
    suite_add_tcase(s, tc);
    return s;
}
