/*
 * gateway/demo/demo_int.h — what the demo generator's files share: the
 * clinical tables, the region model (persons, their records at each member,
 * visits) and the small helpers every writer uses.
 *
 * The model is built once from the seed (population.c, clinical.c); the
 * writers (hl7.c, cda*.c, csv.c, dicom.c, consent.c, manifest.c) only read
 * it, so the same model also drives the live feed (feed.c).
 */
#ifndef GATEWAY_DEMO_DEMO_INT_H
#define GATEWAY_DEMO_DEMO_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fhir/base/buf.h"
#include "fhir/base/err.h"
#include "gateway/demo/gw_demo.h"

struct base_arena;

/* ------------------------------------------------------------- members -- */

enum demo_member {
    DEMO_HOSP_A = 0, /* general hospital: HL7 v2 over MLLP */
    DEMO_HOSP_B = 1, /* hospital exporting CDA documents and CSV files */
    DEMO_IMG_C = 2,  /* imaging centre: Orthanc (DICOM) */
    DEMO_N_MEMBERS = 3
};

struct demo_member_info {
    const char *id;        /* "hosp-a" */
    const char *name;      /* fictional Chinese name */
    const char *namespace; /* HL7 HD namespace / DICOM issuer text ("HOSPA") */
    const char *city;
    const char *district;
    const char *phone;
};

extern const struct demo_member_info demo_members[DEMO_N_MEMBERS];

/* Identifier namespaces under a member's OID root (see demo_member_oid). */
enum demo_arc {
    DEMO_ARC_PATIENT = 1,  /* medical record numbers */
    DEMO_ARC_VISIT = 2,    /* visit / encounter numbers */
    DEMO_ARC_PLACER = 3,   /* placer order numbers (HIS) */
    DEMO_ARC_FILLER = 4,   /* filler order numbers (LIS, RIS) */
    DEMO_ARC_DOCUMENT = 5, /* CDA document ids */
    DEMO_ARC_ENTRY = 6,    /* CDA entry ids */
    DEMO_ARC_STAFF = 7     /* practitioner ids */
};

/* "2.25.<128-bit decimal>.<arc>" (arc 0: the root itself) into out[72]. */
void demo_member_oid(enum demo_member m, int arc, char out[72]);

/* A UID under 2.25 (PS3.5 B.2) from a name-based UUID of `name`. */
void demo_uid(const char *name, char out[72]);

#define DEMO_RESID_OID    "2.16.156.10011.1.3"
#define DEMO_RESID_SYSTEM "urn:oid:" DEMO_RESID_OID

/* ------------------------------------------------------------- tables -- */

enum demo_cond_kind { DEMO_CHRONIC = 0, DEMO_ACUTE = 1 };

struct demo_lab_effect {
    int lab;      /* index into demo_labs, -1 ends the list */
    double shift; /* added from onset */
    double slope; /* per year since onset */
};

struct demo_condition {
    const char *icd10;  /* ICD-10 (GB/T 14396 uses the WHO codes) */
    const char *zh;     /* Chinese name */
    const char *snomed; /* SNOMED CT (CSV export, reason codes) */
    const char *en;
    enum demo_cond_kind kind;
    int min_age;
    int permille;   /* chance per person (of eligible age) */
    char sex;       /* 'M', 'F' or 0 */
    int dept;       /* index into demo_depts */
    int drugs[3];   /* indices into demo_drugs, -1 ends */
    int panels[3];  /* indices into demo_panels, -1 ends */
    int imaging[2]; /* indices into demo_imaging, -1 ends */
    int procedure;  /* index into demo_procedures or -1 */
    struct demo_lab_effect fx[5];
};

struct demo_lab {
    const char *loinc;
    const char *zh;
    const char *en;
    const char *local; /* LIS code */
    const char *unit;  /* UCUM */
    double lo_m, hi_m; /* reference range, male (lo < 0: none) */
    double lo_f, hi_f; /* female */
    double mean_m, mean_f, sd;
    double min, max; /* physiological clamp */
    int decimals;
    double crit_lo, crit_hi; /* LL / HH below/above (0: none) */
};

struct demo_panel {
    const char *loinc; /* OBR-4 / organizer code */
    const char *zh;
    const char *en;
    const char *local;
    const char *specimen; /* v2 table 0487 */
    int labs[6];          /* -1 ends */
};

struct demo_drug {
    const char *rxnorm;
    const char *zh;        /* generic name as the HIS shows it */
    const char *en;        /* RxNorm display */
    const char *local;     /* HIS drug code */
    const char *dose;      /* NM text */
    const char *dose_unit; /* UCUM */
    const char *form;      /* v2 0292-like local form code */
    const char *form_zh;
    const char *route; /* v2 table 0162 */
    const char *route_zh;
    const char *freq; /* repeat pattern */
    const char *freq_zh;
    int days; /* supply per prescription */
};

struct demo_allergen {
    const char *snomed; /* substance */
    const char *zh;
    const char *en;
    char type; /* 'D' drug, 'F' food, 'E' environment */
    const char *reaction_snomed;
    const char *reaction_zh;
    const char *severity; /* mild moderate severe */
};

struct demo_procedure {
    const char *snomed;
    const char *icd9cm3; /* ICD-9-CM-3 (China's procedure coding) */
    const char *zh;
    const char *en;
};

struct demo_vaccine {
    const char *cvx;
    const char *zh;
    const char *en;
};

struct demo_series {
    const char *desc;
    int instances;
};

struct demo_imaging {
    const char *modality; /* CT MR CR US */
    const char *body;     /* BodyPartExamined (PS3.16 annex L) */
    const char *desc;     /* StudyDescription */
    const char *desc_en;
    struct demo_series series[3]; /* desc NULL ends */
};

struct demo_dept {
    const char *code;
    const char *zh;
};

struct demo_vital {
    const char *loinc;
    const char *zh;
    const char *en;
    const char *unit;
    int decimals;
};

extern const struct demo_condition demo_conditions[];
extern const size_t demo_n_conditions;
extern const struct demo_lab demo_labs[];
extern const size_t demo_n_labs;
extern const struct demo_panel demo_panels[];
extern const size_t demo_n_panels;
extern const struct demo_drug demo_drugs[];
extern const size_t demo_n_drugs;
extern const struct demo_allergen demo_allergens[];
extern const size_t demo_n_allergens;
extern const struct demo_procedure demo_procedures[];
extern const size_t demo_n_procedures;
extern const struct demo_vaccine demo_vaccines[];
extern const size_t demo_n_vaccines;
extern const struct demo_imaging demo_imaging[];
extern const size_t demo_n_imaging;
extern const struct demo_dept demo_depts[];
extern const size_t demo_n_depts;
extern const struct demo_vital demo_vitals[];
extern const size_t demo_n_vitals;

/* Indices the generator names directly. */
enum {
    DEMO_C_HYPERTENSION = 0,
    DEMO_C_DIABETES = 1,
    DEMO_C_CKD = 3,
    DEMO_C_DEPRESSION = 16,
    DEMO_C_ALCOHOL = 17,
    DEMO_C_HIV = 18
};
enum { DEMO_L_HBA1C = 0, DEMO_L_GLUCOSE = 1, DEMO_L_CREATININE = 2, DEMO_L_EGFR = 4 };
enum { DEMO_P_ROUTINE_CBC = 0, DEMO_P_RENAL = 1, DEMO_P_HBA1C = 5, DEMO_P_GLUCOSE = 6 };
enum { DEMO_I_CT_CHEST = 0, DEMO_I_US_KIDNEY = 9, DEMO_I_CR_CHEST = 5 };
enum {
    DEMO_DEPT_GENERAL = 0,
    DEMO_DEPT_ENDO = 1,
    DEMO_DEPT_EMERGENCY = 10,
    DEMO_DEPT_RADIOLOGY = 12
};

/* ---------------------------------------------------------------- rng -- */

struct demo_rng {
    uint64_t s;
};

/* A stream for (seed, tag, a, b): independent of how much other streams draw. */
struct demo_rng demo_rng_for(uint64_t seed, uint32_t tag, uint64_t a, uint64_t b);
uint64_t demo_rng_next(struct demo_rng *r);
unsigned demo_rng_below(struct demo_rng *r, unsigned n); /* [0, n) */
double demo_rng_unit(struct demo_rng *r);                /* [0, 1) */
double demo_rng_gauss(struct demo_rng *r);               /* about N(0,1), |x| < 3 */

/* --------------------------------------------------------------- dates -- */

/* Days since 1970-01-01 <-> YYYYMMDD. */
int demo_days(int ymd);
int demo_ymd(int days);

/* ------------------------------------------------------------- the model -- */

enum demo_resid_state {
    DEMO_RESID_NONE = 0, /* the record carries no resident identity number */
    DEMO_RESID_VALID = 1,
    DEMO_RESID_INVALID = 2 /* mistyped: fails GB 11643 */
};

struct demo_name {
    const char *text;      /* as registered ("张三", "张 三", "Zhang San") */
    const char *family;    /* "张" (romanized: first word) */
    const char *given;     /* "三" ("" when unknown) */
    const char *py_family; /* "ZHANG" (DICOM alphabetic group; "" when unknown) */
    const char *py_given;  /* "SAN" */
    bool latin;            /* registered in Latin letters only */
    bool split;            /* registered as family + given fields */
};

struct demo_addr {
    const char *text;     /* one string when registered so */
    const char *province; /* structured parts, else "" */
    const char *city;
    const char *district;
    const char *line;
};

enum demo_source {
    DEMO_SRC_HL7 = 1u << 0,
    DEMO_SRC_CDA = 1u << 1,
    DEMO_SRC_CSV = 1u << 2,
    DEMO_SRC_DICOM = 1u << 3
};

enum demo_visit_class { DEMO_OUTPATIENT = 'O', DEMO_INPATIENT = 'I', DEMO_EMERGENCY = 'E' };

struct demo_visit {
    int day;    /* days since 1970 */
    int minute; /* local minute of the day (UTC+8) */
    int los;    /* days in hospital (inpatient), else 0 */
    char cls;   /* enum demo_visit_class */
    int dept;
    int doctor; /* index into the member's staff */
    int dx[3];  /* indices into the person's conditions */
    int n_dx;
    unsigned panels; /* bit i: demo_panels[i] drawn */
    int drugs[4];
    int n_drugs;
    int procedure;   /* demo_procedures index or -1 */
    int vaccine;     /* demo_vaccines index or -1 */
    int imaging;     /* demo_imaging index or -1 (img-c) */
    int referrer;    /* img-c: member whose doctor referred (0 or 1), staff index in doctor */
    char number[24]; /* visit number / accession number */
};

struct demo_person;

struct demo_rec {
    enum demo_member member;
    struct demo_person *person;
    unsigned flags; /* enum gw_mpi_synth_flag */
    char mrn[24];
    struct demo_name name;
    char resid[24]; /* as written ("" when none) */
    enum demo_resid_state resid_state;
    int birth;         /* YYYYMMDD as registered, 0 unknown */
    char sex;          /* 'M' 'F' 'U' */
    const char *phone; /* as registered, "" none */
    struct demo_addr addr;
    unsigned sources; /* enum demo_source */
    struct demo_visit *visits;
    size_t n_visits;
};

struct demo_cond {
    int ix;    /* demo_conditions index */
    int onset; /* days since 1970 */
};

#define DEMO_MAX_CONDS 8

enum demo_consent_kind {
    DEMO_CONSENT_NONE = 0,
    DEMO_CONSENT_OPTOUT,
    DEMO_CONSENT_DENY_MEMBER, /* withholds what hosp-b holds */
    DEMO_CONSENT_DENY_PSY,    /* withholds PSY-labelled data */
    DEMO_CONSENT_STAR         /* the shared patient: withholds PSY */
};

struct demo_person {
    size_t index; /* 0-based, in the manifest as P0001... */
    size_t synth; /* the synthetic population's person */
    struct demo_rec *rec[DEMO_N_MEMBERS];
    int n_rec;
    int birth;      /* YYYYMMDD (best known) */
    char sex;       /* 'M' / 'F' */
    char resid[19]; /* a valid resident id held by some record, "" none */
    struct demo_cond cond[DEMO_MAX_CONDS];
    int n_cond;
    int allergy[3];
    int n_allergy;
    bool star; /* the well-known shared patient */
    enum demo_consent_kind consent;
};

struct demo_staff {
    const char *family;
    const char *given;
    const char *py_family;
    const char *py_given;
    char id[16]; /* "D0001" */
    char sex;
    int dept;
};

#define DEMO_STAFF_PER_MEMBER 12

struct demo_region {
    struct base_arena *a;
    struct gw_demo_config cfg;
    int start_day; /* first day of the data window */
    int end_day;   /* as_of */
    struct demo_person *persons;
    size_t n_persons;
    struct demo_person *star;
    struct demo_staff staff[DEMO_N_MEMBERS][DEMO_STAFF_PER_MEMBER];
};

/* Build the whole model from cfg (deterministic). */
BASE_MUST_CHECK int demo_region_build(struct base_arena *a, const struct gw_demo_config *cfg,
                                      struct demo_region *out, struct base_err *err);

/* Conditions, allergies and visits (clinical.c). */
BASE_MUST_CHECK int demo_clinical_build(struct demo_region *r, struct base_err *err);

/* Is condition k (person's index) active on `day`? */
bool demo_cond_active(const struct demo_person *p, int k, int day);

/* A lab value for person p on day d (same at every member), formatted with
 * the lab's decimals into out; *flag gets "" "H" "L" "HH" "LL". */
double demo_lab_value(const struct demo_region *r, const struct demo_person *p, int lab, int day,
                      char out[24], const char **flag);

/* Reference range of a lab for a sex as OBX-7 text ("3.5-5.3", "<5.2", ">90"). */
void demo_lab_range(const struct demo_lab *l, char sex, char out[32]);
/* lo/hi for a sex; false when the side is open. */
bool demo_lab_lo(const struct demo_lab *l, char sex, double *v);
bool demo_lab_hi(const struct demo_lab *l, char sex, double *v);

/* Vital sign i for person p on day d (formatted). */
void demo_vital_value(const struct demo_region *r, const struct demo_person *p, int vital, int day,
                      char out[24]);

/* Age in whole years on `day`. */
int demo_age(const struct demo_person *p, int day);

/* --------------------------------------------------------------- output -- */

struct demo_out {
    const char *dir; /* the output root */
    size_t files;
    size_t bytes;
};

/* Write out->dir/rel (directories created).  BASE_E_IO naming rel. */
BASE_MUST_CHECK int demo_write(struct demo_out *o, const char *rel, const void *data, size_t len,
                               struct base_err *err);

/* Local timestamp "YYYYMMDDHHMMSS" of day + minute (+ seconds). */
void demo_ts(int day, int minute, int second, char out[16]);

/* Writers. */
BASE_MUST_CHECK int demo_hl7_write_all(const struct demo_region *r, struct demo_out *o,
                                       size_t *n_messages, struct base_err *err);
BASE_MUST_CHECK int demo_cda_write_all(const struct demo_region *r, struct demo_out *o,
                                       size_t *n_docs, struct base_err *err);
BASE_MUST_CHECK int demo_csv_write_all(const struct demo_region *r, struct demo_out *o,
                                       size_t *n_rows, struct base_err *err);
BASE_MUST_CHECK int demo_dicom_write_all(const struct demo_region *r, struct demo_out *o,
                                         size_t *n_studies, size_t *n_files, struct base_err *err);
BASE_MUST_CHECK int demo_consent_write_all(const struct demo_region *r, struct demo_out *o,
                                           json_t *manifest_list, struct base_err *err);
BASE_MUST_CHECK int demo_manifest_write(const struct demo_region *r, struct demo_out *o,
                                        json_t *consents, const struct gw_demo_summary *sum,
                                        struct base_err *err);
BASE_MUST_CHECK int demo_users_write(const struct demo_region *r, struct demo_out *o, json_t *users,
                                     struct base_err *err);

/* HL7 v2: one ORU^R01 for record `rec` at local day/minute with the given
 * panels; ids from `seq` and `tag` (live messages).  Appends to out. */
BASE_MUST_CHECK int demo_hl7_live_oru(const struct demo_region *r, const struct demo_rec *rec,
                                      int day, int minute, unsigned panels, const char *tag,
                                      size_t seq, struct base_buf *out, struct base_err *err);

/* Panels that suit a person (routine + their conditions'). */
unsigned demo_panels_for(const struct demo_person *p, int day);

/* ---------------------------------------------------------------- text -- */

/* Append s with XML escapes (& < > " '). */
BASE_MUST_CHECK int demo_xml(struct base_buf *b, const char *s);
/* Append s as an RFC 4180 field (quoted when it holds , " CR or LF). */
BASE_MUST_CHECK int demo_csv_field(struct base_buf *b, const char *s);

#endif /* GATEWAY_DEMO_DEMO_INT_H */
