/*
 * adapters/hl7v2/map_int.h — the mapper's shared context and helpers.
 */
#ifndef ADAPTERS_HL7V2_MAP_INT_H
#define ADAPTERS_HL7V2_MAP_INT_H

#include "adapters/hl7v2/hl7v2_int.h"
#include "adapters/hl7v2/hl7v2_map.h"
#include "adapters/hl7v2/jtree.h"

#define MAP_MAX_WARNINGS 64u
#define MAP_MAX_OUTPUT   (64u << 20)

/* One resource of the Bundle being built. */
struct ent {
    const char *type;
    char uuid[37];
    char urn[46];         /* "urn:uuid:" + uuid, for references */
    struct hl7v2_j *res;  /* the resource object */
    struct base_str cond; /* "identifier=system|value" (escaped) or empty */
    const char *group;    /* report/order key of an Observation's group */
    struct base_str test; /* OBR-4 of a report or order (to tell OBR apart) */
};

enum msg_class {
    MC_OTHER,
    MC_ADT,      /* ADT, BAR: patient administration */
    MC_RESULT,   /* ORU, OUL, ERP: results */
    MC_ORDER,    /* ORM, OMG, OML, OMD, OMI: orders */
    MC_PHARMACY, /* RDE, RDS, OMP, RXO */
    MC_VACCINE,  /* VXU */
    MC_DOCUMENT, /* MDM */
    MC_PROBLEM,  /* PPR, PPP */
};

/* Where a value comes from (for error locations). */
struct at {
    const struct hl7v2_seg *seg;
    uint32_t field;
    uint32_t rep;
};

/* Recently derived system URIs (the same authority recurs in a message). */
struct syscache {
    const char *kind;
    struct base_str name;
    struct base_str uri;
};

#define MAP_SYSCACHE  16
#define MAP_MAX_COMPS 32

/* The components of the repetition read last (CWE, XPN, … are read one
 * component after another: split once, not once per component). */
struct compcache {
    const char *ptr;
    size_t len;
    size_t n;
    uint32_t plain; /* bit k-1: component k holds no subcomponent or escape */
    struct base_str comp[MAP_MAX_COMPS];
};

struct mctx {
    struct base_arena *a;
    const struct hl7v2_msg *m;
    const struct hl7v2_map_opts *o;
    struct hl7v2_jb jb;
    struct base_err *err;
    int rc;                /* first error (also in *err) */
    struct base_str base;  /* identifier/code system base */
    struct base_str tz;    /* "+08:00" */
    struct base_str event; /* MSH-9.2 or EVN-1, decoded */
    enum msg_class cls;
    struct ent **ents; /* pointers: entries never move once made */
    size_t nents;
    size_t cap;
    struct hl7v2_bundle *out;
    /* context while walking segments */
    struct ent *patient;
    struct base_str patient_key; /* "system|value" of the patient */
    struct ent *encounter;
    const struct hl7v2_seg *orc; /* last ORC */
    struct ent *order;           /* ServiceRequest or MedicationRequest of the group */
    struct ent *report;          /* DiagnosticReport of the OBR group */
    struct base_str report_key;
    struct base_str report_section; /* OBR-24 of the group */
    struct hl7v2_j *dosage;         /* dosageInstruction of the last RXE/RXO (for RXR, TQ1) */
    const struct hl7v2_seg *tq1;    /* last TQ1 of the order group */
    struct ent *obs;                /* last Observation (for NTE) */
    struct ent *specimen;
    bool spm_first; /* OUL_R22-R24, OML_O33/O35: SPM heads its orders */
    struct ent *immunization;
    struct ent *document;
    struct base_buf *doc_text; /* MDM: text OBX lines (in the arena) */
    struct hl7v2_j *doc_attachments;
    size_t obx_in_group;
    struct syscache sys[MAP_SYSCACHE];
    size_t nsys;
    struct compcache cc;
};

/* s equals the C string lit?  The first-byte test spares a strlen in the
 * table scans this runs in. */
static inline bool
map_is(struct base_str s, const char *lit)
{
    return s.len > 0 && s.ptr[0] == lit[0] && base_str_eq_cstr(s, lit);
}

/* ---- errors and warnings ------------------------------------------------ */

/* Record the first error; mapping goes on, hl7v2_map() returns it. */
void map_fail(struct mctx *c, int rc, const char *issue, const struct at *at, uint32_t comp,
              const char *msg);
void map_warn(struct mctx *c, const struct at *at, const char *msg);

/* ---- values --------------------------------------------------------------- */

/* Decoded text of component `comp` (0 = the whole repetition) and
 * subcomponent `sub` (0 = the first) of repetition `rep` of `at`; "" when absent or the HL7 null
 * "". */
struct base_str map_txt(struct mctx *c, const struct at *at, struct base_str rep, uint32_t comp,
                        uint32_t sub);
/* Decoded whole field (first repetition). */
struct base_str map_field(struct mctx *c, const struct hl7v2_seg *seg, uint32_t field);
/* Raw repetition r (1-based) of a field and its location. */
struct base_str map_rep(struct mctx *c, const struct hl7v2_seg *seg, uint32_t field, uint32_t r,
                        struct at *at);
size_t map_nreps(struct mctx *c, const struct hl7v2_seg *seg, uint32_t field);

/* Percent-encode for URIs (RFC 3986 unreserved kept). */
struct base_str map_pct(struct mctx *c, struct base_str s);
/* A code value as FHIR's code type allows it (whitespace runs collapsed). */
struct base_str map_code(struct mctx *c, struct base_str code);
/* Concatenate slices into the arena (no formatting). */
struct base_str map_concat(struct mctx *c, const struct base_str *parts, size_t n);
/* Join with a separator (skipping empty parts); in the arena. */
struct base_str map_join(struct mctx *c, const struct base_str *parts, size_t n, const char *sep);
bool map_has_cjk(struct base_str s);

/* Does a `want` segment ("TQ1", "SPM") follow seg in its order group? */
bool map_group_has(struct mctx *c, const struct hl7v2_seg *seg, const char *want);

/* ---- systems and codes -------------------------------------------------- */

/* Identifier system for an assigning authority (HD: namespace, universal
 * id, universal id type); `kind` names the fallback path ("id", "visit"). */
struct base_str map_authority_system(struct mctx *c, struct base_str ns, struct base_str uid,
                                     struct base_str uid_type, const char *kind);
/* Code system URI for a v2 coding system name (table 0396); local names
 * become "<base>/code/<name>"; an empty name becomes "<base>/code/<field>". */
struct base_str map_code_system(struct mctx *c, struct base_str name, const char *field_name,
                                bool *standard);

/* ---- data types -> FHIR (all return a node to attach, or NULL) -------- */

struct hl7v2_j *map_cwe(struct mctx *c, const struct at *at, struct base_str rep,
                        const char *field_name);
/* A coded value from an HL7 table: CodeableConcept with system v2-<table>. */
struct hl7v2_j *map_table_code(struct mctx *c, const struct at *at, struct base_str rep,
                               const char *table);
/* map_cwe, but a bare code of HL7 table `table` (listed in `codes`, NULL
 * ended) gets the system v2-<table>. */
struct hl7v2_j *map_cwe_table(struct mctx *c, const struct at *at, struct base_str rep,
                              const char *field_name, const char *table, const char *const *codes);
struct hl7v2_j *map_cx(struct mctx *c, const struct at *at, struct base_str rep, const char *kind,
                       struct base_str *sys_out, struct base_str *val_out);
struct hl7v2_j *map_ei(struct mctx *c, const struct at *at, struct base_str rep, const char *kind,
                       const char *type_code, struct base_str *sys_out, struct base_str *val_out);
struct hl7v2_j *map_xpn(struct mctx *c, const struct at *at, struct base_str rep);
/* "pinyin^汉字" (Chinese HIS): two names added to arr; false when rep is
 * not of that shape (then map_xpn applies). */
bool map_xpn_pinyin(struct mctx *c, const struct at *at, struct base_str rep, struct hl7v2_j *arr);
struct hl7v2_j *map_xad(struct mctx *c, const struct at *at, struct base_str rep);
struct hl7v2_j *map_xtn(struct mctx *c, const struct at *at, struct base_str rep,
                        const char *default_use);
/* Reference(display + identifier) for an XCN person. */
struct hl7v2_j *map_xcn_ref(struct mctx *c, const struct at *at, struct base_str rep);
/* Reference(display) for an XON organization. */
struct hl7v2_j *map_xon_ref(struct mctx *c, const struct at *at, struct base_str rep);

enum ts_kind { TS_DATE, TS_DATETIME, TS_INSTANT };
/* v2 TS/DTM/DT text -> FHIR date/dateTime/instant; empty when absent or
 * invalid (invalid is warned about). */
struct base_str map_ts(struct mctx *c, const struct at *at, struct base_str text,
                       enum ts_kind kind);
/* parent.key = {start, end} from FHIR dateTimes (either may be empty); an
 * end before the start (Period per-1) is a sender error: the end is left
 * out and `at` warned about.  NULL when both are empty. */
struct hl7v2_j *map_period(struct mctx *c, const struct at *at, struct hl7v2_j *parent,
                           const char *key, struct base_str start, struct base_str end);
/* The sender's zone from MSH-7's offset ("+HH:MM"); empty when none. */
struct base_str map_sender_tz(struct mctx *c, struct base_str msh7);
/* A v2 NM as a FHIR decimal literal; empty when not a number. */
struct base_str map_decimal(struct mctx *c, struct base_str text);
/* Quantity from a value and a unit CWE (UCUM code when it maps). */
struct hl7v2_j *map_quantity(struct mctx *c, struct base_str value, const struct at *unit_at,
                             struct base_str unit_rep);
/* The UCUM code for a unit as v2 senders write it; empty when unknown. */
struct base_str map_ucum(struct base_str unit);

/* ---- entries ------------------------------------------------------------ */

/* New resource entry.  `key` parts (joined) name it: the uuid is
 * v5(base, type, key); `cond_sys`/`cond_val` the conditional-update
 * identifier (when empty: the uuid identifier is added and used). */
struct ent *map_entry(struct mctx *c, const char *type, const struct base_str *key, size_t nkey,
                      struct base_str cond_sys, struct base_str cond_val);
/* {"reference": "urn:uuid:…"} to an entry. */
struct hl7v2_j *map_ref(struct mctx *c, const struct ent *e);
void map_ref_to(struct mctx *c, struct hl7v2_j *parent, const char *key, const struct ent *e);
/* Coding/CodeableConcept helpers. */
struct hl7v2_j *map_coding(struct mctx *c, struct hl7v2_j *arr, const char *system,
                           struct base_str code, const char *display);
struct hl7v2_j *map_concept1(struct mctx *c, const char *system, const char *code,
                             const char *display);

/* ---- orders -------------------------------------------------------------- */

struct order_ids {
    struct hl7v2_j *placer; /* Identifier, type PLAC */
    struct hl7v2_j *filler; /* Identifier, type FILL */
    struct base_str psys, pval, fsys, fval;
};

/* Placer/filler numbers from fields pf/ff of seg, else from ORC-2/ORC-3. */
void map_order_ids(struct mctx *c, const struct hl7v2_seg *seg, uint32_t pf, uint32_t ff,
                   struct order_ids *o);
/* Entry keyed by the filler (or placer) number, else by patient + extra. */
struct ent *map_order_entry(struct mctx *c, const char *type, const struct order_ids *o,
                            struct base_str extra, bool filler_first);
const char *map_order_status(struct base_str control, struct base_str status);
/* ED/RP OBX: the report's presentedForm, or without a report its own
 * DocumentReference (returned, for the caller to link to an order). */
struct ent *map_report_attachment(struct mctx *c, const struct hl7v2_seg *obx);

/* ---- segments ----------------------------------------------------------- */

void map_pid(struct mctx *c, const struct hl7v2_seg *pid);
void map_nk1(struct mctx *c, const struct hl7v2_seg *nk1);
void map_pd1(struct mctx *c, const struct hl7v2_seg *pd1);
void map_mrg(struct mctx *c, const struct hl7v2_seg *mrg);
void map_pv1(struct mctx *c, const struct hl7v2_seg *pv1);
void map_pv2(struct mctx *c, const struct hl7v2_seg *pv2);
void map_al1(struct mctx *c, const struct hl7v2_seg *al1);
void map_iam(struct mctx *c, const struct hl7v2_seg *iam);
void map_dg1(struct mctx *c, const struct hl7v2_seg *dg1);
void map_pr1(struct mctx *c, const struct hl7v2_seg *pr1);
void map_prb(struct mctx *c, const struct hl7v2_seg *prb);
void map_obr(struct mctx *c, const struct hl7v2_seg *obr);
void map_obx(struct mctx *c, const struct hl7v2_seg *obx);
void map_nte(struct mctx *c, const struct hl7v2_seg *nte);
void map_spm(struct mctx *c, const struct hl7v2_seg *spm);
void map_rxe(struct mctx *c, const struct hl7v2_seg *rxe);
void map_rxr(struct mctx *c, const struct hl7v2_seg *rxr);
void map_rxo(struct mctx *c, const struct hl7v2_seg *rxo);
void map_tq1(struct mctx *c, const struct hl7v2_seg *tq1);
void map_rxa(struct mctx *c, const struct hl7v2_seg *rxa);
void map_txa(struct mctx *c, const struct hl7v2_seg *txa);
void map_doc_obx(struct mctx *c, const struct hl7v2_seg *obx);
void map_doc_finish(struct mctx *c);

#endif /* ADAPTERS_HL7V2_MAP_INT_H */
