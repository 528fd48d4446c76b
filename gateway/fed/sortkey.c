/*
 * Sort keys from the scanner's spans.  The default order of a federated
 * search is "most recent first" by the clinical date of each resource type
 * (docs/design/federation.md has the table); an explicit _sort on a date
 * element the scanner captured is computed here with the semantics of
 * fhir_search_sort_value() (R4 §3.1.1.5.3: ascending takes the low end of a
 * date's range, descending the high end; a Period is [start, end] with open
 * ends).  Anything else is left to the caller, which builds a tree of just
 * that entry.
 */
#include <string.h>

#include "fhir/search/fhir_search.h"
#include "gateway/fed/fed_int.h"

bool
fed_date_span(const char *text, struct gw_fed_span s, bool escaped, int64_t *low, int64_t *high)
{
    char buf[64];

    if (s.len == 0 || s.len >= sizeof(buf))
        return false;
    if (escaped) {
        size_t n = fed_json_unescape(text + s.off, s.len, buf);

        return fhir_search_date_range(buf, n, low, high);
    }
    return fhir_search_date_range(text + s.off, s.len, low, high);
}

/* start / end of a captured Period object.  Returns false when the object
 * is really a Timing (event / repeat): the scanner does not read those. */
struct period {
    bool has_start, has_end;
    bool start_ok, end_ok;
    int64_t start_low, start_high, end_low, end_high;
};

static bool
read_period(const char *text, struct gw_fed_span obj, struct period *p)
{
    struct fed_obj_iter it;
    char key[16];
    size_t klen;
    const char *ms;
    const char *v;
    const char *ve;

    memset(p, 0, sizeof(*p));
    fed_obj_iter_init(&it, text + obj.off, text + obj.off + obj.len);
    while (fed_obj_iter_next(&it, key, sizeof(key), &klen, &ms, &v, &ve)) {
        bool is_start = klen == 5 && memcmp(key, "start", 5) == 0;
        bool is_end = klen == 3 && memcmp(key, "end", 3) == 0;

        if ((klen == 5 && memcmp(key, "event", 5) == 0) ||
            (klen == 6 && memcmp(key, "repeat", 6) == 0))
            return false;
        if (!is_start && !is_end)
            continue;
        bool ok = false;
        int64_t lo = 0;
        int64_t hi = 0;
        if (*v == '"' && ve - v >= 2) {
            struct gw_fed_span s = {(uint32_t)(v + 1 - text), (uint32_t)(ve - v - 2)};

            ok = fed_date_span(text, s, memchr(v + 1, '\\', s.len) != NULL, &lo, &hi);
        }
        if (is_start) {
            p->has_start = true;
            p->start_ok = ok;
            p->start_low = lo;
            p->start_high = hi;
        } else {
            p->has_end = true;
            p->end_ok = ok;
            p->end_low = lo;
            p->end_high = hi;
        }
    }
    return true;
}

static const struct gw_fed_date_field *
find_date(const struct gw_fed_entry *e, int elem)
{
    for (size_t i = 0; i < e->n_dates; i++) {
        if (e->dates[i].elem == elem)
            return &e->dates[i];
    }
    return NULL;
}

static void
set_time(struct fhir_search_sortval *out, int64_t t)
{
    memset(out, 0, sizeof(*out));
    out->present = true;
    out->type = FHIR_SEARCH_DATE;
    out->time = t;
}

/* ---- the default order ----------------------------------------------------------- */

/* Per type, the elements that date it, in order of preference, and the R4
 * search parameter on the first of them, descending: what the members are
 * asked to sort by so that each member's answer comes in the gateway's order
 * — the k-way merge takes a prefix of every member's list, so a member
 * answering in its own order (insertion, say) would put its oldest entries
 * on the first page.  NULL: no parameter is that element (CarePlan.created);
 * the member's order is kept.  Any other type: meta.lastUpdated, "-_lastUpdated". */
static const struct {
    const char *type;
    int8_t elems[2];
    const char *param;
} default_dates[] = {
    {"AllergyIntolerance", {GW_FED_DE_RECORDED_DATE, GW_FED_DE_ONSET}, "-date"},
    {"AuditEvent", {GW_FED_DE_RECORDED, -1}, "-date"},
    {"CarePlan", {GW_FED_DE_CREATED, GW_FED_DE_PERIOD}, NULL},
    {"CareTeam", {GW_FED_DE_PERIOD, -1}, "-date"},
    {"Composition", {GW_FED_DE_DATE, -1}, "-date"},
    {"Condition", {GW_FED_DE_RECORDED_DATE, GW_FED_DE_ONSET}, "-recorded-date"},
    {"Consent", {GW_FED_DE_DATE_TIME, -1}, "-date"},
    {"DiagnosticReport", {GW_FED_DE_EFFECTIVE, GW_FED_DE_ISSUED}, "-date"},
    {"DocumentReference", {GW_FED_DE_DATE, -1}, "-date"},
    {"Encounter", {GW_FED_DE_PERIOD, -1}, "-date"},
    {"FamilyMemberHistory", {GW_FED_DE_DATE, -1}, "-date"},
    {"Goal", {GW_FED_DE_START, -1}, "-start-date"},
    {"ImagingStudy", {GW_FED_DE_STARTED, -1}, "-started"},
    {"Immunization", {GW_FED_DE_OCCURRENCE, GW_FED_DE_RECORDED}, "-date"},
    {"MedicationRequest", {GW_FED_DE_AUTHORED_ON, -1}, "-authoredon"},
    {"MedicationStatement", {GW_FED_DE_EFFECTIVE, GW_FED_DE_DATE_ASSERTED}, "-effective"},
    {"Observation", {GW_FED_DE_EFFECTIVE, GW_FED_DE_ISSUED}, "-date"},
    {"Procedure", {GW_FED_DE_PERFORMED, -1}, "-date"},
    {"Provenance", {GW_FED_DE_RECORDED, -1}, "-recorded"},
    {"ServiceRequest", {GW_FED_DE_AUTHORED_ON, -1}, "-authored"},
};

const char *
gw_fed_default_sort(const char *type)
{
    for (size_t i = 0; i < sizeof(default_dates) / sizeof(default_dates[0]); i++) {
        if (strcmp(type, default_dates[i].type) == 0)
            return default_dates[i].param;
    }
    return "-_lastUpdated";
}

/* The instant a date element stands for in the default order: the latest
 * moment of a dateTime's precision, a Period's start (else its end). */
static bool
default_time(const char *text, const struct gw_fed_entry *e, const struct gw_fed_date_field *f,
             int64_t *t)
{
    int64_t lo;
    struct period p;

    if (f->form == GW_FED_DF_DATETIME)
        return fed_date_span(text, f->value, (e->escaped & GW_FED_ESC_OTHER) != 0, &lo, t);
    if (f->form != GW_FED_DF_PERIOD || !read_period(text, f->value, &p))
        return false;
    if (p.has_start && p.start_ok) {
        *t = p.start_high;
        return true;
    }
    if (!p.has_start && p.has_end && p.end_ok) {
        *t = p.end_high;
        return true;
    }
    return false;
}

void
fed_sort_default(const struct gw_fed_scan *sc, const struct gw_fed_entry *e,
                 struct fhir_search_sortval *out)
{
    const char *type = sc->text + e->type.off;
    int64_t lo;
    int64_t t;

    memset(out, 0, sizeof(*out));
    out->type = FHIR_SEARCH_DATE;
    for (size_t i = 0; i < sizeof(default_dates) / sizeof(default_dates[0]); i++) {
        size_t n = strlen(default_dates[i].type);

        if (e->type.len != n || memcmp(type, default_dates[i].type, n) != 0)
            continue;
        for (size_t j = 0; j < 2 && default_dates[i].elems[j] >= 0; j++) {
            const struct gw_fed_date_field *f = find_date(e, default_dates[i].elems[j]);

            if (f != NULL && default_time(sc->text, e, f, &t)) {
                set_time(out, t);
                return;
            }
        }
        break;
    }
    if (e->last_updated.len > 0 &&
        fed_date_span(sc->text, e->last_updated, (e->escaped & GW_FED_ESC_UPDATED) != 0, &lo, &t))
        set_time(out, t);
}

/* ---- explicit _sort keys --------------------------------------------------------- */

/* "Type.elem" with elem a captured date element → its index, else -1. */
static int
simple_date_path(const char *expr, const char *type)
{
    size_t tn = strlen(type);

    if (strncmp(expr, type, tn) != 0 || expr[tn] != '.')
        return -1;
    const char *elem = expr + tn + 1;
    static const char *const names[GW_FED_DE_COUNT] = {
        [GW_FED_DE_EFFECTIVE] = "effective",
        [GW_FED_DE_PERIOD] = "period",
        [GW_FED_DE_RECORDED_DATE] = "recordedDate",
        [GW_FED_DE_ONSET] = "onset",
        [GW_FED_DE_STARTED] = "started",
        [GW_FED_DE_AUTHORED_ON] = "authoredOn",
        [GW_FED_DE_PERFORMED] = "performed",
        [GW_FED_DE_OCCURRENCE] = "occurrence",
        [GW_FED_DE_DATE] = "date",
        [GW_FED_DE_ISSUED] = "issued",
        [GW_FED_DE_RECORDED] = "recorded",
        [GW_FED_DE_DATE_ASSERTED] = "dateAsserted",
        [GW_FED_DE_DATE_TIME] = "dateTime",
        [GW_FED_DE_CREATED] = "created",
        [GW_FED_DE_BIRTH_DATE] = "birthDate",
        [GW_FED_DE_ABATEMENT] = "abatement",
        [GW_FED_DE_LAST_OCCURRENCE] = "lastOccurrence",
        [GW_FED_DE_START] = "start",
    };
    for (int i = 0; i < GW_FED_DE_COUNT; i++) {
        if (strcmp(elem, names[i]) == 0)
            return i;
    }
    return -1;
}

static bool
fast_date(const struct gw_fed_scan *sc, const struct gw_fed_entry *e, int elem, bool desc,
          struct fhir_search_sortval *out)
{
    const struct gw_fed_date_field *f;
    int64_t lo;
    int64_t hi;
    struct period p;

    memset(out, 0, sizeof(*out));
    out->type = FHIR_SEARCH_DATE;
    if ((e->date_seen & (1u << elem)) == 0)
        return true; /* absent */
    f = find_date(e, elem);
    if (f == NULL)
        return false; /* seen but not kept (dates_overflow) */
    if (f->form == GW_FED_DF_DATETIME) {
        if (fed_date_span(sc->text, f->value, (e->escaped & GW_FED_ESC_OTHER) != 0, &lo, &hi))
            set_time(out, desc ? hi : lo);
        return true;
    }
    if (f->form != GW_FED_DF_PERIOD || !read_period(sc->text, f->value, &p))
        return false;
    if ((!p.has_start && !p.has_end) || (p.has_start && !p.start_ok) || (p.has_end && !p.end_ok))
        return true; /* no value, as the extraction skips it */
    lo = p.has_start ? p.start_low : FHIR_SEARCH_TIME_MIN;
    hi = p.has_end ? p.end_high : FHIR_SEARCH_TIME_MAX;
    set_time(out, desc ? hi : lo);
    return true;
}

bool
fed_sort_fast(const struct gw_fed_scan *sc, const struct gw_fed_entry *e,
              const struct fhir_search_sort_key *key, struct fhir_search_sortval *out)
{
    const struct fhir_search_param_def *def = key->def;
    char type[72];
    int64_t lo;
    int64_t hi;

    if (e->type.len >= sizeof(type) || (e->escaped & GW_FED_ESC_TYPE) != 0)
        return false;
    memcpy(type, sc->text + e->type.off, e->type.len);
    type[e->type.len] = '\0';
    memset(out, 0, sizeof(*out));
    out->type = def->type;
    if (strcmp(def->resource, "Resource") == 0) {
        if (strcmp(def->name, "_lastUpdated") == 0) {
            if (e->last_updated.len > 0 &&
                fed_date_span(sc->text, e->last_updated, (e->escaped & GW_FED_ESC_UPDATED) != 0,
                              &lo, &hi))
                set_time(out, key->desc ? hi : lo);
            return true;
        }
        return false; /* _id, _tag, …: the tree path */
    }
    if (strcmp(def->resource, type) != 0)
        return true; /* another type's parameter: no value, as the extraction refuses it */
    if (def->type != FHIR_SEARCH_DATE)
        return false;
    int elem = simple_date_path(def->expression, type);
    return elem >= 0 && fast_date(sc, e, elem, key->desc, out);
}
