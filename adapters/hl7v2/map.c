/*
 * The mapper's driver: classify the message, walk its segments in order
 * (each segment kind updates the current patient/visit/order/report
 * context), add the Provenance, and write the transaction Bundle.
 *
 * Walking segments instead of matching message structures makes every
 * message type degrade gracefully: an SIU or DFT still yields its Patient,
 * Encounter, Conditions and Procedures; unknown segments (Z-segments too)
 * are kept by the parser and simply not mapped.
 */
#include <string.h>

#include "adapters/hl7v2/map_int.h"
#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"

#define SYS_PROV_PARTICIPANT "http://terminology.hl7.org/CodeSystem/provenance-participant-type"

static enum msg_class
classify(struct base_str code)
{
    static const struct {
        const char *code;
        enum msg_class cls;
    } map[] = {
        {"ADT", MC_ADT},      {"BAR", MC_ADT},      {"ORU", MC_RESULT},  {"OUL", MC_RESULT},
        {"ORM", MC_ORDER},    {"OMG", MC_ORDER},    {"OML", MC_ORDER},   {"OMD", MC_ORDER},
        {"OMI", MC_ORDER},    {"OMB", MC_ORDER},    {"OMS", MC_ORDER},   {"RDE", MC_PHARMACY},
        {"RDS", MC_PHARMACY}, {"OMP", MC_PHARMACY}, {"VXU", MC_VACCINE}, {"MDM", MC_DOCUMENT},
        {"PPR", MC_PROBLEM},  {"PPP", MC_PROBLEM},  {"PGL", MC_PROBLEM},
        /* immunization histories: VXR_V03 (v2.3-2.4) and RSP_K11 (v2.5.1
         * CDC IIS Z32/Z42) carry the vaccinations as RXA, like VXU */
        {"VXR", MC_VACCINE},  {"RSP", MC_VACCINE},
    };

    for (size_t i = 0; i < BASE_ARRAY_LEN(map); i++) {
        if (map_is(code, map[i].code))
            return map[i].cls;
    }
    return MC_OTHER;
}

static void
reset_group(struct mctx *c)
{
    c->order = NULL;
    c->report = NULL;
    c->obs = NULL;
    if (!c->spm_first)
        c->specimen = NULL;
    c->immunization = NULL;
    c->dosage = NULL;
    c->tq1 = NULL;
    c->report_key = BASE_STR_NULL;
    c->report_section = BASE_STR_NULL;
}

static void
on_pid(struct mctx *c, const struct hl7v2_seg *s)
{
    map_doc_finish(c);
    reset_group(c);
    c->specimen = NULL;
    c->orc = NULL;
    map_pid(c, s);
}

static void
on_orc(struct mctx *c, const struct hl7v2_seg *s)
{
    /* OUL_R22-R24 put the ORC after the OBR of its order, possibly after
     * the OBR's participations (v2.8 PRT) and timing/container details
     * (TCD): it belongs to the group that OBR opened */
    size_t i = s->index;

    while (i >= 2 && (memcmp(c->m->segs[i - 2].id, "PRT", 3) == 0 ||
                      memcmp(c->m->segs[i - 2].id, "TCD", 3) == 0))
        i--;
    if (i < 2 || memcmp(c->m->segs[i - 2].id, "OBR", 3) != 0)
        reset_group(c);
    c->orc = s;
}

/* Message structures whose specimen group holds its orders (SPM before
 * ORC/OBR) instead of following them (v2.5.1 ch. 7.3.2, 4.4.6). */
static bool
specimen_first(const struct hl7v2_msg *m)
{
    if (base_str_eq_cstr(m->msg_code, "OUL"))
        return !base_str_eq_cstr(m->trigger, "R21");
    return base_str_eq_cstr(m->msg_code, "OML") &&
           (base_str_eq_cstr(m->trigger, "O33") || base_str_eq_cstr(m->trigger, "O35"));
}

static void
on_txa(struct mctx *c, const struct hl7v2_seg *s)
{
    if (c->cls == MC_DOCUMENT)
        map_txa(c, s);
}

/* `data`: the segment carries patient data of its own (PV2, NTE, TQ1, RXR
 * and ORC only add to another's) */
static const struct {
    const char *id;
    void (*fn)(struct mctx *c, const struct hl7v2_seg *s);
    bool data;
} segment_map[] = {
    {"PID", on_pid, false},  {"NK1", map_nk1, false}, {"MRG", map_mrg, false},
    {"PV1", map_pv1, true},  {"PV2", map_pv2, false}, {"AL1", map_al1, true},
    {"DG1", map_dg1, true},  {"PR1", map_pr1, true},  {"PRB", map_prb, true},
    {"ORC", on_orc, false},  {"OBR", map_obr, true},  {"OBX", map_obx, true},
    {"NTE", map_nte, false}, {"SPM", map_spm, true},  {"RXE", map_rxe, true},
    {"RXR", map_rxr, false}, {"RXA", map_rxa, true},  {"TXA", on_txa, true},
    {"IAM", map_iam, true},  {"RXO", map_rxo, true},  {"TQ1", map_tq1, false},
    {"PD1", map_pd1, false},
};

static void
walk(struct mctx *c)
{
    bool orphans_warned = false;

    for (size_t i = 1; i < c->m->nsegs && c->rc == BASE_OK; i++) {
        const struct hl7v2_seg *s = &c->m->segs[i];

        for (size_t k = 0; k < BASE_ARRAY_LEN(segment_map); k++) {
            if (memcmp(s->id, segment_map[k].id, 3) != 0)
                continue;
            /* PID is optional in some structures (ORU_R01 v2.5), but every
             * resource here is about a patient: say what is not filed */
            if (c->patient == NULL && segment_map[k].data && !orphans_warned) {
                struct at at = {s, 0, 0};

                map_warn(c, &at, "no patient (PID) before this segment; its data is not mapped");
                orphans_warned = true;
            }
            segment_map[k].fn(c, s);
            break;
        }
    }
    map_doc_finish(c);
}

/* -------------------------------------------------------------- provenance -- */

static void
provenance(struct mctx *c)
{
    const struct hl7v2_seg *msh = &c->m->segs[0];
    struct at at = {msh, 7, 1};
    struct base_str recorded = map_ts(c, &at, map_field(c, msh, 7), TS_INSTANT);
    struct base_str control = map_field(c, msh, 10);
    struct base_str key[2] = {base_str_from_cstr("message"), control};
    size_t ntargets = c->nents;
    struct hl7v2_j *res;
    struct hl7v2_j *targets;
    struct hl7v2_j *agent;
    struct hl7v2_j *who;
    struct hl7v2_j *what;
    struct ent *e;

    if (ntargets == 0) {
        /* an empty Bundle is not silent: a master-file or query message,
         * or a patient message whose segments arrived joined into the MSH
         * (terminators turned into blanks by an export) */
        at.field = 9;
        if (c->out->nwarnings == 0)
            map_warn(c, &at, "nothing mapped: no patient (PID) or no segment this converter maps");
        return;
    }
    if (recorded.len == 0) {
        map_warn(c, &at, "no valid message date/time (MSH-7); no Provenance");
        return;
    }
    e = map_entry(c, "Provenance", key, 2, BASE_STR_NULL, BASE_STR_NULL);
    if (e == NULL)
        return;
    res = e->res;
    hl7v2_j_str(&c->jb, res, "id", base_str_from_cstr(e->uuid));
    targets = hl7v2_j_arr(&c->jb, res, "target");
    for (size_t i = 0; i < ntargets; i++)
        hl7v2_j_add(targets, NULL, map_ref(c, c->ents[i]));
    hl7v2_j_str(&c->jb, res, "recorded", recorded);
    agent = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, res, "agent"), NULL);
    hl7v2_j_add(agent, "type", map_concept1(c, SYS_PROV_PARTICIPANT, "author", "Author"));
    at = (struct at){msh, 4, 1};
    who = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
    {
        struct base_str rep = hl7v2_get(c->m, msh, 4, 1, 0, 0);
        struct base_str ns = map_txt(c, &at, rep, 1, 0);
        struct hl7v2_j *ident = hl7v2_j_obj(&c->jb, who, "identifier");

        if (ns.len == 0) {
            at.field = 3;
            rep = hl7v2_get(c->m, msh, 3, 1, 0, 0);
            ns = map_txt(c, &at, rep, 1, 0);
        }
        hl7v2_j_str(&c->jb, ident, "system",
                    map_authority_system(c, BASE_STR_NULL, map_txt(c, &at, rep, 2, 0),
                                         map_txt(c, &at, rep, 3, 0), "facility"));
        hl7v2_j_str(&c->jb, ident, "value", ns);
        hl7v2_j_str(&c->jb, who, "display", ns);
    }
    if (!hl7v2_j_present(who))
        hl7v2_j_cstr(&c->jb, who, "display", "unknown sender");
    hl7v2_j_add(agent, "who", who);
    what =
        hl7v2_j_obj(&c->jb, hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, res, "entity"), NULL), "what");
    hl7v2_j_cstr(&c->jb, hl7v2_j_get(res, "entity")->first, "role", "source");
    if (control.len > 0) {
        struct hl7v2_j *ident = hl7v2_j_obj(&c->jb, what, "identifier");

        struct base_str sys[2] = {c->base, BASE_STR_LIT("/message")};

        hl7v2_j_str(&c->jb, ident, "system", map_concat(c, sys, 2));
        hl7v2_j_str(&c->jb, ident, "value", control);
    }
    {
        struct base_str disp[4] = {BASE_STR_LIT("HL7 v2 message "), c->m->msg_code,
                                   BASE_STR_LIT("^"), c->event};

        hl7v2_j_str(&c->jb, what, "display", map_concat(c, disp, 4));
    }
}

/* ------------------------------------------------------------------ output -- */

static int
write_entry(struct mctx *c, const struct ent *e, struct base_buf *b, struct hl7v2_entry *out,
            size_t *start)
{
    bool prov = strcmp(e->type, "Provenance") == 0;
    struct hl7v2_j url = {.kind = HL7V2_J_STR};

    out->type = e->type;
    memcpy(out->full_url, e->urn, sizeof(out->full_url)); /* "urn:uuid:" + 36 + NUL */
    out->method = "PUT";
    {
        struct base_str parts[3] = {base_str_from_cstr(e->type),
                                    prov ? BASE_STR_LIT("/") : BASE_STR_LIT("?"),
                                    prov ? base_str_make(e->uuid, 36) : e->cond};

        out->url = map_concat(c, parts, 3);
    }
    url.s = out->url;
    TRY(base_buf_append(b, "{\"fullUrl\":\"", 12));
    TRY(base_buf_append(b, e->urn, 45));
    TRY(base_buf_append(b, "\",\"resource\":", 13));
    *start = b->len;
    TRY(hl7v2_j_write(e->res, b));
    out->resource.len = b->len - *start;
    TRY(base_buf_append_cstr(b, ",\"request\":{\"method\":\"PUT\",\"url\":"));
    TRY(hl7v2_j_write(&url, b));
    return base_buf_append_cstr(b, "}}");
}

static int
write_bundle(struct mctx *c)
{
    size_t *starts = BASE_NEW_N(c->a, size_t, c->nents + 1);
    struct base_buf *b = BASE_NEW(c->a, struct base_buf);
    int rc;

    c->out->entries = BASE_NEW_N(c->a, struct hl7v2_entry, c->nents + 1);
    if (c->out->entries == NULL || starts == NULL || b == NULL)
        return base_err_set(c->err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    /* the text stays in this buffer, freed with the arena: no final copy;
     * FHIR JSON runs 6-9 times the ER7 size, so reserve that up front */
    base_buf_init(b, MAP_MAX_OUTPUT);
    TRY(base_buf_tie(b, c->a));
    rc = base_buf_reserve(b, c->m->text.len < MAP_MAX_OUTPUT / 16 ? c->m->text.len * 8 + 1024
                                                                  : MAP_MAX_OUTPUT / 2);
    if (rc == BASE_OK)
        rc = base_buf_append_cstr(b, "{\"resourceType\":\"Bundle\",\"type\":\"transaction\"");
    for (size_t i = 0; i < c->nents && rc == BASE_OK; i++) {
        rc = base_buf_append_cstr(b, i == 0 ? ",\"entry\":[" : ",");
        if (rc == BASE_OK)
            rc = write_entry(c, c->ents[i], b, &c->out->entries[i], &starts[i]);
    }
    if (rc == BASE_OK)
        rc = base_buf_append_cstr(b, c->nents > 0 ? "]}" : "}");
    if (rc == BASE_E_LIMIT)
        return base_err_set(c->err, rc, "too-costly", NULL, "mapped Bundle exceeds %u bytes",
                            MAP_MAX_OUTPUT);
    if (rc != BASE_OK || hl7v2_jb_failed(&c->jb))
        return base_err_set(c->err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    c->out->json = base_buf_str(b);
    c->out->nentries = c->nents;
    for (size_t i = 0; i < c->nents; i++)
        c->out->entries[i].resource.ptr = b->data + starts[i];
    return BASE_OK;
}

/* ------------------------------------------------------------------- entry -- */

static struct base_str
default_base(struct mctx *c)
{
    const struct hl7v2_seg *msh = &c->m->segs[0];
    struct at at = {msh, 4, 1};
    struct base_str who = map_txt(c, &at, hl7v2_get(c->m, msh, 4, 1, 0, 0), 1, 0);

    if (who.len == 0) {
        at.field = 3;
        who = map_txt(c, &at, hl7v2_get(c->m, msh, 3, 1, 0, 0), 1, 0);
    }
    if (who.len == 0)
        who = base_str_from_cstr("unknown");
    who = map_pct(c, who);
    return hl7v2_j_fmt(&c->jb, "urn:fhirgate:member:%.*s", (int)who.len, who.ptr);
}

static int
setup(struct mctx *c)
{
    const struct hl7v2_seg *msh = &c->m->segs[0];
    struct at at = {msh, 9, 1};

    c->out = BASE_NEW(c->a, struct hl7v2_bundle);
    if (c->out == NULL)
        return base_err_set(c->err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    c->doc_text = BASE_NEW(c->a, struct base_buf);
    if (c->doc_text == NULL)
        return base_err_set(c->err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    base_buf_init(c->doc_text, MAP_MAX_OUTPUT / 2);
    TRY(base_buf_tie(c->doc_text, c->a));
    c->base = c->o->system_base != NULL ? base_str_from_cstr(c->o->system_base) : default_base(c);
    c->tz = map_sender_tz(c, map_field(c, msh, 7));
    if (c->tz.len == 0)
        c->tz = base_str_from_cstr(c->o->default_tz != NULL ? c->o->default_tz : "+08:00");
    if (map_txt(c, &at, hl7v2_get(c->m, msh, 9, 1, 0, 0), 1, 0).len == 0) {
        map_fail(c, BASE_E_INVALID, "required", &at, 0, "message type is required");
        return c->rc;
    }
    if (c->m->warn & HL7V2_W_CHARSET_GB18030) {
        struct at cs = {msh, 18, 1};

        map_warn(c, &cs,
                 "bytes are not in the declared (or default) character set; read as GB 18030");
    }
    if (c->m->warn & HL7V2_W_CHARSET_UTF8) {
        struct at cs = {msh, 18, 1};

        map_warn(c, &cs,
                 "declared ISO 8859 or windows-1252 but the bytes are UTF-8; read as UTF-8");
    }
    c->spm_first = specimen_first(c->m);
    c->cls = classify(map_txt(c, &at, hl7v2_get(c->m, msh, 9, 1, 0, 0), 1, 0));
    c->event = map_txt(c, &at, hl7v2_get(c->m, msh, 9, 1, 0, 0), 2, 0);
    if (c->event.len == 0)
        c->event = map_field(c, hl7v2_seg_find(c->m, "EVN", 1, NULL), 1);
    return c->rc;
}

int
hl7v2_map(struct base_arena *a, const struct hl7v2_msg *m, const struct hl7v2_map_opts *o,
          struct hl7v2_bundle **out, struct base_err *err)
{
    static const struct hl7v2_map_opts defopts = HL7V2_MAP_OPTS_DEFAULT;
    struct mctx c = {.a = a, .m = m, .o = o != NULL ? o : &defopts, .err = err};

    hl7v2_jb_init(&c.jb, a);
    TRY(setup(&c));
    walk(&c);
    provenance(&c);
    if (c.rc != BASE_OK)
        return c.rc;
    if (hl7v2_jb_failed(&c.jb))
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    TRY(write_bundle(&c));
    *out = c.out;
    return BASE_OK;
}

int
hl7v2_convert(struct base_arena *a, const char *data, size_t len, const struct hl7v2_limits *lim,
              const struct hl7v2_parse_opts *popts, const struct hl7v2_map_opts *mopts,
              struct hl7v2_bundle **out, struct base_err *err)
{
    struct hl7v2_msg *m = NULL;

    TRY(hl7v2_msg_parse(a, data, len, lim, popts, &m, err));
    return hl7v2_map(a, m, mopts, out, err);
}

int
hl7v2_bundle_tree(const struct hl7v2_bundle *b, json_t **out, struct base_err *err)
{
    struct fhir_json_limits lim = fhir_json_limits_default();

    return fhir_json_parse(b->json.ptr, b->json.len, &lim, out, err);
}

size_t
hl7v2_bundle_count(const struct hl7v2_bundle *b, const char *type)
{
    size_t n = 0;

    for (size_t i = 0; i < b->nentries; i++)
        n += strcmp(b->entries[i].type, type) == 0;
    return n;
}
