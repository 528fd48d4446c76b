/*
 * gateway/app/report_fmt.c — the regulators' report as CSV (RFC 4180) and
 * as a printable HTML page, from the JSON gw_audit_report() builds.
 *
 * CSV: one block per section, each "section,<columns…>" then its rows;
 * totals as "totals,<name>,<value>".  Cells that a spreadsheet would run
 * as a formula (=, +, -, @, tab, CR) get a leading apostrophe (OWASP CSV
 * injection).  HTML: every value escaped; no script, no inline style (the
 * server's Content-Security-Policy forbids both).
 */
#include "gateway/app/report_fmt.h"

#include <stdio.h>
#include <string.h>

static const char *const sections[] = {"per_member", "per_clinician", "per_day", "denials",
                                       "break_glass"};

/* Text of a scalar cell ("" for null / objects). */
static const char *
cell(const json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        snprintf(buf, cap, "%.3f", json_real_value(v));
        return buf;
    }
    if (json_is_boolean(v))
        return json_is_true(v) ? "true" : "false";
    return "";
}

static int
csv_cell(struct base_buf *b, const char *s, bool first)
{
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    bool formula = strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0';

    if (!first)
        TRY(base_buf_append(b, ",", 1));
    if (quote || formula)
        TRY(base_buf_append(b, "\"", 1));
    if (formula)
        TRY(base_buf_append(b, "'", 1));
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '"')
            TRY(base_buf_append(b, "\"\"", 2));
        else
            TRY(base_buf_append(b, p, 1));
    }
    if (quote || formula)
        TRY(base_buf_append(b, "\"", 1));
    return BASE_OK;
}

static int
csv_table(struct base_buf *b, const char *name, const json_t *rows)
{
    const json_t *first = json_array_get(rows, 0);
    const char *key;
    const json_t *v;
    size_t i;
    const json_t *row;
    char num[48];

    if (!json_is_object(first))
        return BASE_OK;
    TRY(csv_cell(b, "section", true));
    json_object_foreach((json_t *)first, key, v)
        TRY(csv_cell(b, key, false));
    TRY(base_buf_append(b, "\r\n", 2));
    json_array_foreach(rows, i, row) {
        TRY(csv_cell(b, name, true));
        json_object_foreach((json_t *)first, key, v)
            TRY(csv_cell(b, cell(json_object_get(row, key), num, sizeof(num)), false));
        TRY(base_buf_append(b, "\r\n", 2));
    }
    return BASE_OK;
}

int
gw_app_report_csv(const json_t *report, struct base_buf *b)
{
    const json_t *totals = json_object_get(report, "totals");
    const char *key;
    const json_t *v;
    char num[48];

    TRY(base_buf_append(b, "section,name,value\r\n", 20));
    json_object_foreach((json_t *)totals, key, v) {
        TRY(csv_cell(b, "totals", true));
        TRY(csv_cell(b, key, false));
        TRY(csv_cell(b, cell(v, num, sizeof(num)), false));
        TRY(base_buf_append(b, "\r\n", 2));
    }
    for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
        TRY(csv_table(b, sections[i], json_object_get(report, sections[i])));
    TRY(csv_table(b, "unusual_hours",
                  json_object_get(json_object_get(report, "unusual_hours"), "users")));
    return csv_table(b, "unusual_volume",
                     json_object_get(json_object_get(report, "unusual_volume"), "users"));
}

static int
html_text(struct base_buf *b, const char *s)
{
    for (const char *p = s; *p != '\0'; p++) {
        switch (*p) {
        case '&':
            TRY(base_buf_append(b, "&amp;", 5));
            break;
        case '<':
            TRY(base_buf_append(b, "&lt;", 4));
            break;
        case '>':
            TRY(base_buf_append(b, "&gt;", 4));
            break;
        case '"':
            TRY(base_buf_append(b, "&quot;", 6));
            break;
        case '\'':
            TRY(base_buf_append(b, "&#39;", 5));
            break;
        default:
            TRY(base_buf_append(b, p, 1));
        }
    }
    return BASE_OK;
}

static int
html_table(struct base_buf *b, const char *title, const json_t *rows)
{
    const json_t *first = json_array_get(rows, 0);
    const char *key;
    const json_t *v;
    size_t i;
    const json_t *row;
    char num[48];

    TRY(base_buf_appendf(b, "<h2>"));
    TRY(html_text(b, title));
    TRY(base_buf_appendf(b, "</h2>\n"));
    if (!json_is_object(first))
        return base_buf_appendf(b, "<p>none</p>\n");
    TRY(base_buf_appendf(b, "<table border=\"1\"><thead><tr>"));
    json_object_foreach((json_t *)first, key, v) {
        TRY(base_buf_appendf(b, "<th>"));
        TRY(html_text(b, key));
        TRY(base_buf_appendf(b, "</th>"));
    }
    TRY(base_buf_appendf(b, "</tr></thead><tbody>\n"));
    json_array_foreach(rows, i, row) {
        TRY(base_buf_appendf(b, "<tr>"));
        json_object_foreach((json_t *)first, key, v) {
            TRY(base_buf_appendf(b, "<td>"));
            TRY(html_text(b, cell(json_object_get(row, key), num, sizeof(num))));
            TRY(base_buf_appendf(b, "</td>"));
        }
        TRY(base_buf_appendf(b, "</tr>\n"));
    }
    return base_buf_appendf(b, "</tbody></table>\n");
}

int
gw_app_report_html(const json_t *report, struct base_buf *b)
{
    const json_t *period = json_object_get(report, "period");
    const json_t *totals = json_object_get(report, "totals");
    json_t *one;
    int rc;

    TRY(base_buf_appendf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                            "<title>fhirgate access report</title></head><body>\n"
                            "<h1>Access report</h1>\n<p>Period: "));
    TRY(html_text(b, cell(json_object_get(period, "from"), (char[48]){0}, 48)));
    TRY(base_buf_appendf(b, " to "));
    TRY(html_text(b, cell(json_object_get(period, "to"), (char[48]){0}, 48)));
    TRY(base_buf_appendf(b, " ("));
    TRY(html_text(b, cell(json_object_get(period, "tz"), (char[48]){0}, 48)));
    TRY(base_buf_appendf(b, ")</p>\n"));
    if ((one = json_array()) == NULL)
        return BASE_E_NOMEM;
    json_array_append(one, (json_t *)totals);
    rc = html_table(b, "Totals", one);
    json_decref(one);
    TRY(rc);
    TRY(html_table(b, "Accesses per member", json_object_get(report, "per_member")));
    TRY(html_table(b, "Accesses per clinician", json_object_get(report, "per_clinician")));
    TRY(html_table(b, "Accesses per day", json_object_get(report, "per_day")));
    TRY(html_table(b, "Denials", json_object_get(report, "denials")));
    TRY(html_table(b, "Break-the-glass accesses", json_object_get(report, "break_glass")));
    TRY(html_table(b, "Access at unusual hours",
                   json_object_get(json_object_get(report, "unusual_hours"), "users")));
    TRY(html_table(b, "Clinicians with unusual volume",
                   json_object_get(json_object_get(report, "unusual_volume"), "users")));
    return base_buf_appendf(b, "</body></html>\n");
}
