/*
 * gateway/mpi/gw_mpi.h — the master patient index (MPI).
 *
 * A *regional person* groups the *records* that member hospitals report for
 * the same human being.  A record is one member's Patient, keyed by
 * (member id, local identifier system, local identifier value).  Records are
 * linked to persons
 *   - deterministically, on a valid resident identity number (GB 11643),
 *   - probabilistically, on demographics scored with a Fellegi–Sunter model
 *     (name in characters and pinyin, birth date, gender, phone, address),
 *   - manually, by a reviewer deciding a possible match or merging persons.
 * Scores between the two thresholds go to a review queue; two records with
 * different valid resident identity numbers are never linked.
 *
 * Layers: resident identity numbers and normalization (pure), scoring
 * (pure), extraction of an identity from a FHIR Patient (pure, untrusted
 * input), and the PostgreSQL store (a caller-supplied PGconn; every query is
 * parameterized).  See docs/design/mpi.md for the model, its weights and the
 * measured match quality.
 */
#ifndef GATEWAY_MPI_GW_MPI_H
#define GATEWAY_MPI_GW_MPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"
#include "fhir/base/limits.h"

struct base_arena;

/* FHIR identifier system of the resident identity card number (公民身份号码):
 * OID 2.16.156.10011.1.3, "患者身份证号标识", from the OID allocation table of
 * maintainable objects in WS/T 500 (电子病历共享文档规范) and the CDA
 * templates of WS/T 482/483; see docs/design/mpi.md. */
#define GW_MPI_RESID_SYSTEM "urn:oid:2.16.156.10011.1.3"
/* Default system of the regional person identifier (configurable). */
#define GW_MPI_PERSON_SYSTEM_DEFAULT "urn:fhirgate:mpi:person"
/* System under which a member's id names it in Identifier.assigner. */
#define GW_MPI_MEMBER_SYSTEM "urn:fhirgate:member"

/* ------------------------------------------------------------------------ */
/* Resident identity numbers (GB 11643-1999)                                 */
/* ------------------------------------------------------------------------ */

enum gw_mpi_sex {
    GW_MPI_SEX_UNKNOWN = 0,
    GW_MPI_SEX_MALE = 1,
    GW_MPI_SEX_FEMALE = 2,
    GW_MPI_SEX_OTHER = 3
};

enum gw_mpi_resid_kind {
    GW_MPI_RESID_CITIZEN = 0,   /* 公民身份号码, province codes of GB/T 2260 */
    GW_MPI_RESID_PERMIT = 1,    /* residence permit of HK (81), Macao (82), Taiwan (83) residents */
    GW_MPI_RESID_FOREIGN_PR = 2 /* 2023 foreigner's permanent residence ID: 9 + province */
};

struct gw_mpi_resid {
    char number[19]; /* normalized: 18 characters, upper-case X, NUL */
    int birth_year;  /* from positions 7-14 */
    int birth_month;
    int birth_day;
    enum gw_mpi_sex sex; /* position 17: odd male, even female */
    enum gw_mpi_resid_kind kind;
    unsigned region; /* the 6-digit address code (positions 1-6) */
    bool from_15;    /* converted from the 15-digit first-generation form */
};

/*
 * Validate and normalize a resident identity number.  Accepts 18 characters
 * (the last may be x or X) or the 15-digit legacy form, which is converted to
 * 18 as GB 11643-1999 prescribes ("19" inserted before the year, check
 * character appended).  ASCII spaces and hyphens between characters and
 * full-width digits/X are tolerated.  `today` is YYYYMMDD (0 = the current
 * UTC date): the birth date must exist and not be after it.
 * Errors (BASE_E_INVALID, where "resident-id"): length, character,
 * region, birth date, check character.
 */
BASE_MUST_CHECK int gw_mpi_resid_parse(const char *s, size_t len, int today,
                                       struct gw_mpi_resid *out, struct base_err *err);

/* ISO 7064 MOD 11-2 check character of the first 17 digits ('0'-'9' or 'X');
 * 0 if `d17` is not 17 digits. */
char gw_mpi_resid_check_char(const char *d17);

/* ------------------------------------------------------------------------ */
/* Normalized identity                                                       */
/* ------------------------------------------------------------------------ */

enum gw_mpi_phone_kind {
    GW_MPI_PHONE_NONE = 0,
    GW_MPI_PHONE_MOBILE = 1,   /* 11 digits starting 1[3-9] */
    GW_MPI_PHONE_LANDLINE = 2, /* 0 + area code + subscriber number */
    GW_MPI_PHONE_OTHER = 3     /* foreign or unrecognized: digits only */
};

#define GW_MPI_MAX_PHONES    4
#define GW_MPI_MAX_LOCAL_IDS 8

struct gw_mpi_local_id {
    const char *system; /* never NULL */
    const char *value;  /* never NULL */
};

/* Everything the matcher uses about one record, normalized.  Strings live in
 * the arena that built the struct or, for identifiers, in the Patient JSON it
 * was read from (which must outlive it); "" means absent. */
struct gw_mpi_identity {
    const char *member;         /* the reporting member's id */
    struct gw_mpi_local_id key; /* the record key (first MR identifier, else first local) */
    struct gw_mpi_local_id local[GW_MPI_MAX_LOCAL_IDS]; /* every local identifier, key first */
    size_t n_local;
    bool has_resid; /* a valid resident identity number */
    struct gw_mpi_resid resid;
    bool resid_invalid;         /* one was given but failed validation */
    const char *name_han;       /* simplified Han characters, no spaces/dots */
    const char *name_py;        /* pinyin, family name first, no spaces: "zhangsan" */
    const char *name_py_family; /* "zhang" ("" when unknown) */
    const char *name_py_given;  /* "san" */
    bool name_latin_only;       /* pinyin came from a romanized name */
    int birth_year;             /* 0 = unknown */
    int birth_month;            /* 0 = unknown */
    int birth_day;              /* 0 = unknown */
    enum gw_mpi_sex sex;
    const char *phone[GW_MPI_MAX_PHONES]; /* normalized digits ("13800138000", "01065123456") */
    size_t n_phone;
    const char *addr_province; /* "辽宁" (suffixes such as 省/市/自治区 removed) */
    const char *addr_city;     /* "沈阳" */
    const char *addr_district; /* "和平" */
    const char *addr_detail;   /* the rest, normalized ("南京北街155号") */
};

/* ------------------------------------------------------------------------ */
/* Normalization (ICU: NFKC, Traditional-Simplified, Han-Latin/Names)         */
/* ------------------------------------------------------------------------ */

/*
 * Normalize a person name given as UTF-8 `s`: NFKC (full-width to
 * half-width), traditional to simplified characters, whitespace and middle
 * dots removed.  *han gets the Han characters ("" if the name has none),
 * *py its pinyin without tones or spaces (for a romanized name: lower-case
 * ASCII letters, diacritics removed), *syllables the same with one space
 * between syllables/words.  BASE_E_INVALID for bad UTF-8, BASE_E_LIMIT past
 * GW_MPI_LIMIT_NAME bytes.
 */
BASE_MUST_CHECK int gw_mpi_norm_name(struct base_arena *a, const char *s, size_t len,
                                     const char **han, const char **py, const char **syllables,
                                     struct base_err *err);

/* Phone number to digits: "+86 138-0013-8000" -> "13800138000" (mobile),
 * "(010)6512 3456" / "+86 10 65123456" -> "01065123456" (landline).
 * Extensions are dropped.  Returns the kind; *out is "" for NONE. */
enum gw_mpi_phone_kind gw_mpi_norm_phone(const char *s, size_t len, char out[24]);

/* Split a Chinese address into province / city / district / detail tokens.
 * Structured parts (may be NULL) take precedence over parsing `text`.
 * Output strings are allocated in `a`; "" when unknown. */
BASE_MUST_CHECK int gw_mpi_norm_address(struct base_arena *a, const char *state, const char *city,
                                        const char *district, const char *line, const char *text,
                                        const char **province_out, const char **city_out,
                                        const char **district_out, const char **detail_out,
                                        struct base_err *err);

/* FHIR date / dateTime prefix ("1980", "1980-05", "1980-05-17", "1980-05-17T…")
 * to parts (0 for missing parts).  false if it is not a valid date. */
bool gw_mpi_norm_birth_date(const char *s, size_t len, int *y, int *m, int *d);

/* FHIR administrative gender code to enum (anything else: UNKNOWN). */
enum gw_mpi_sex gw_mpi_norm_gender(const char *code);

/* Jaro–Winkler similarity of two byte strings, in [0, 1]. */
double gw_mpi_jaro_winkler(const char *a, const char *b);

/* Fuzzy pinyin key (zh/z, ch/c, sh/s, -ng/-n, l/n merged) of a syllable
 * string; written to `out` (cap bytes, truncated safely). */
void gw_mpi_pinyin_fuzzy(const char *syllables, char *out, size_t cap);

/* ------------------------------------------------------------------------ */
/* Fellegi–Sunter scoring                                                    */
/* ------------------------------------------------------------------------ */

enum gw_mpi_field {
    GW_MPI_F_NAME = 0,
    GW_MPI_F_BIRTH,
    GW_MPI_F_SEX,
    GW_MPI_F_PHONE,
    GW_MPI_F_ADDRESS,
    GW_MPI_F_COUNT
};

/* Agreement levels, strongest first; MISSING contributes 0. */
enum gw_mpi_level {
    GW_MPI_L_MISSING = 0,
    GW_MPI_L_EXACT,    /* name: same Han characters (or same pinyin when one is romanized) */
    GW_MPI_L_PHONETIC, /* name: same pinyin, other characters (homophone); birth: year only */
    GW_MPI_L_PARTIAL,  /* name: fuzzy pinyin / JW; birth: transposed; phone: one digit;
                          address: same district */
    GW_MPI_L_WEAK,     /* address: same city only */
    GW_MPI_L_DISAGREE,
    GW_MPI_L_COUNT
};

struct gw_mpi_score {
    double total; /* sum of field weights (log2 likelihood ratio) */
    enum gw_mpi_level level[GW_MPI_F_COUNT];
    double weight[GW_MPI_F_COUNT];
    bool resid_conflict; /* both valid and different: never link */
    bool twin_guard;     /* name differs but household matches: review at most */
};

/* Name frequencies used for the frequency-adjusted name weight (Winkler):
 * records carrying the same Han name / the same pinyin, and all records. */
struct gw_mpi_name_freq {
    double n_han;
    double n_py;
    double n_total;
};

/* Score record `a` against record `b`.  `freq` may be NULL (static u). */
void gw_mpi_score_pair(const struct gw_mpi_identity *a, const struct gw_mpi_identity *b,
                       const struct gw_mpi_name_freq *freq, struct gw_mpi_score *out);

/* Stable names for logs and review payloads. */
const char *gw_mpi_field_name(enum gw_mpi_field f);
const char *gw_mpi_level_name(enum gw_mpi_level l);

/* ------------------------------------------------------------------------ */
/* Identity from a member's FHIR Patient (untrusted input)                   */
/* ------------------------------------------------------------------------ */

/*
 * Extract and normalize the identity of a FHIR R4 Patient reported by
 * `member`.  Local identifiers: every Patient.identifier that is not a
 * resident identity number; the record key is the first with type MR
 * (v2-0203), else the first.  A resident identity number is recognized by
 * system GW_MPI_RESID_SYSTEM (or the bare OID) or type NNCHN; an invalid one
 * sets resid_invalid and is never used.  `today` as in gw_mpi_resid_parse.
 * Errors name the element ("Patient.identifier[2].value"), never its value.
 */
BASE_MUST_CHECK int gw_mpi_identity_from_patient(struct base_arena *a, const char *member,
                                                 const json_t *patient, int today,
                                                 struct gw_mpi_identity *out, struct base_err *err);

/* The same for a Patient a client describes ($match): identifiers optional. */
BASE_MUST_CHECK int gw_mpi_identity_for_match(struct base_arena *a, const json_t *patient,
                                              int today, struct gw_mpi_identity *out,
                                              struct base_err *err);

/* The same from JSON text (parsed with the FHIR JSON reader and MPI limits). */
BASE_MUST_CHECK int gw_mpi_identity_from_json(struct base_arena *a, const char *member,
                                              const char *text, size_t len, int today,
                                              struct gw_mpi_identity *out, struct base_err *err);

/* ------------------------------------------------------------------------ */
/* The index in PostgreSQL (schema "mpi", schemas/sql/gateway/02xx_*.sql)     */
/* ------------------------------------------------------------------------ */

struct gw_mpi_config {
    double upper;              /* total >= upper: link automatically */
    double lower;              /* lower <= total < upper: review queue */
    const char *person_system; /* system of the regional person identifier */
    size_t max_candidates;     /* candidate records scored per ingest */
    int today;                 /* YYYYMMDD for date checks (0 = now) */
};

/* Defaults (thresholds from docs/design/mpi.md). */
struct gw_mpi_config gw_mpi_config_default(void);

enum gw_mpi_outcome {
    GW_MPI_CREATED = 0, /* no match: a new regional person */
    GW_MPI_LINKED_DETERMINISTIC,
    GW_MPI_LINKED_PROBABILISTIC,
    GW_MPI_REVIEW, /* a new person, plus possible matches queued for review */
    GW_MPI_UPDATED /* a known record: demographics refreshed, link kept */
};

const char *gw_mpi_outcome_name(enum gw_mpi_outcome o);

struct gw_mpi_ingest_result {
    enum gw_mpi_outcome outcome;
    char person_id[40];  /* the regional person's public id (a UUID) */
    double score;        /* best probabilistic score seen (0 when none) */
    size_t n_review;     /* review items opened */
    bool resid_conflict; /* a candidate was rejected for a different resident id */
    size_t member_merges; /* persons merged because the member merged its records
                           * (Patient.link replaced-by / replaces, same member) */
};

/*
 * Ingest one member's Patient: upsert the record and link it (see the file
 * comment).  Runs in its own transaction, serialized against other ingests
 * with an advisory lock so that concurrent gateway nodes cannot create two
 * persons for one human.  Input errors as gw_mpi_identity_from_patient;
 * BASE_E_IO when the database fails (message without SQL).
 */
BASE_MUST_CHECK int gw_mpi_ingest_identity(PGconn *db, const struct gw_mpi_config *cfg,
                                           const char *member, const json_t *patient,
                                           struct gw_mpi_ingest_result *out, struct base_err *err);

/* The same with an identity already extracted (tests, bulk loads). */
BASE_MUST_CHECK int gw_mpi_ingest(PGconn *db, const struct gw_mpi_config *cfg,
                                  const struct gw_mpi_identity *id, const json_t *patient,
                                  struct gw_mpi_ingest_result *out, struct base_err *err);

enum gw_mpi_link_type {
    GW_MPI_LINK_DETERMINISTIC = 0,
    GW_MPI_LINK_PROBABILISTIC = 1,
    GW_MPI_LINK_MANUAL = 2,
    GW_MPI_LINK_SOLE = 3 /* the record founded its person */
};

const char *gw_mpi_link_type_name(enum gw_mpi_link_type t);

struct gw_mpi_link {
    const char *member;
    const char *system;
    const char *value;
    enum gw_mpi_link_type type;
    double score;
};

struct gw_mpi_person {
    const char *id;          /* public id */
    const char *resident_id; /* the valid resident identity number, "" if none */
    struct gw_mpi_link *links;
    size_t n_links;
};

/*
 * Resolve `system|value` to its regional person (following merges) and every
 * local identifier linked to it, per member.  `system` may be the resident
 * identity system (the number is validated first: BASE_E_INVALID), the
 * regional person system, or a member's local system.  BASE_E_NOTFOUND when
 * unknown; BASE_E_CONFLICT when the identifier is held by several persons.
 */
BASE_MUST_CHECK int gw_mpi_resolve(PGconn *db, struct base_arena *a,
                                   const struct gw_mpi_config *cfg, const char *system,
                                   const char *value, struct gw_mpi_person *out,
                                   struct base_err *err);

/* The regional person as a FHIR Patient: id = public id, every identifier
 * (regional, resident, each member's with Identifier.assigner), and the
 * demographics of its most complete, most recent record.  New reference. */
BASE_MUST_CHECK int gw_mpi_person_patient(PGconn *db, struct base_arena *a,
                                          const struct gw_mpi_config *cfg, const char *person_id,
                                          json_t **out, struct base_err *err);

/* Is `system` a patient identity domain this index knows: the regional
 * person system, the resident identity system, or the system of some local
 * identifier a member reported?  (ITI-83 answers an unknown source domain
 * with 400 and an unknown target domain with 403.) */
BASE_MUST_CHECK int gw_mpi_domain_known(PGconn *db, struct base_arena *a,
                                        const struct gw_mpi_config *cfg, const char *system,
                                        bool *known, struct base_err *err);

/*
 * PIXm ($ihe-pix, IHE ITI-83): a Parameters resource with one targetIdentifier
 * per other identifier of the person (restricted to `target_systems`, NULL-
 * terminated, when given) and one targetId (Reference to the Patient).
 * BASE_E_NOTFOUND when the source identifier is unknown (ITI-83: 404).
 */
BASE_MUST_CHECK int gw_mpi_pix(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
                               const char *system, const char *value,
                               const char *const *target_systems, json_t **out,
                               struct base_err *err);

/* One `birthdate=[prefix]date` of a PDQm query: `op` is an R4 date prefix
 * (eq ne gt lt ge le sa eb; search.html#prefix), [lo, hi] the days the date
 * stands for as yyyymmdd ("1980" is 19800101-19801231). */
struct gw_mpi_date_bound {
    char op[3];
    int lo, hi;
};

/* The IHE ITI-78 criteria the index searches. */
enum gw_mpi_pdq_field {
    GW_MPI_PDQ_ID,         /* _id: the regional person id */
    GW_MPI_PDQ_IDENTIFIER, /* token; `system|` alone names a domain (ITI-78 2:3.78.4.1.2.3) */
    GW_MPI_PDQ_NAME,       /* string: whole name, Han or pinyin */
    GW_MPI_PDQ_FAMILY,
    GW_MPI_PDQ_GIVEN,
    GW_MPI_PDQ_BIRTHDATE,
    GW_MPI_PDQ_GENDER,  /* token: male female other unknown */
    GW_MPI_PDQ_TELECOM, /* token: a phone number, `phone|` optional */
    GW_MPI_PDQ_ADDRESS, /* string: any part of any address the members reported */
    GW_MPI_PDQ_ADDRESS_CITY,
    GW_MPI_PDQ_ADDRESS_STATE,
    GW_MPI_PDQ_ADDRESS_POSTALCODE,
    GW_MPI_PDQ_ADDRESS_COUNTRY,
    GW_MPI_PDQ_MOTHERS_MAIDEN_NAME /* the patient-mothersMaidenName extension */
};

/* How a string parameter compares (R4 search.html#string): the value starts
 * the part (default; `address` itself: anywhere in a part), is all of it
 * (:exact), or is anywhere in it (:contains). */
enum gw_mpi_pdq_match { GW_MPI_PDQ_DEFAULT = 0, GW_MPI_PDQ_EXACT, GW_MPI_PDQ_CONTAINS };

/* One value of a criterion: `value` (a string, token code or id; an
 * identifier's value, "" for a domain alone), `system` (identifier: NULL
 * any system, "" none), `date` (birthdate). */
struct gw_mpi_pdq_term {
    const char *system;
    const char *value;
    struct gw_mpi_date_bound date;
};

/* One search parameter: its values are alternatives (a comma-separated OR
 * list, R4 search.html#combining), terms[first .. first + n). */
struct gw_mpi_pdq_criterion {
    enum gw_mpi_pdq_field field;
    enum gw_mpi_pdq_match match;
    size_t first, n;
};

/* PDQm (IHE ITI-78) query: every criterion holds (repeated parameters are
 * ANDed), each by one of its values.  Fill it with gw_mpi_pdq_param. */
struct gw_mpi_pdq_query {
    struct gw_mpi_pdq_criterion crit[GW_MPI_LIMIT_PDQ_PARAMS];
    size_t n_crit;
    struct gw_mpi_pdq_term terms[GW_MPI_LIMIT_PDQ_TERMS];
    size_t n_terms;
    /* identifier=SYSTEM| (ITI-78 "Populating Which Domains are Returned"):
     * the answer's identifiers are those of these domains only */
    const char *domains[GW_MPI_LIMIT_PDQ_TERMS];
    size_t n_domains;
    bool active_given;  /* an active parameter (a criterion, if one every person meets) */
    bool inactive_only; /* active=false: regional persons are all active, so none */
    size_t count;       /* at most this many persons (0 = GW_MPI_LIMIT_PDQ_COUNT) */
    bool count_only;    /* _summary=count / _count=0: Bundle.total, no entries */
    /* paging: the persons after this one (a regional person id, the last
     * entry of the previous page); NULL from the first */
    const char *after;
};

/*
 * Add one ITI-78 search parameter (`name` with its modifier, `value` as
 * decoded from the query) to `q`.  A bare comma separates alternatives
 * (OR) in every parameter but the address ones and mothersMaidenName,
 * whose values keep their commas (real addresses hold them); "\," is a
 * comma in a value.  Strings (allocated in `a`) are borrowed by `q`.
 * BASE_E_INVALID, issue "value" and the parameter named, for a bad value;
 * issue "not-supported" for a parameter or modifier the index does not
 * search (the caller decides whether lenient handling ignores it);
 * issue "too-costly" past GW_MPI_LIMIT_PDQ_PARAMS / _TERMS / _BIRTHDATES.
 * Never quotes the value.
 */
BASE_MUST_CHECK int gw_mpi_pdq_param(struct base_arena *a, struct gw_mpi_pdq_query *q,
                                     const char *name, const char *value, struct base_err *err);

/* `value` ("[prefix]YYYY[-MM[-DD]]") as a birthdate bound.  BASE_E_INVALID
 * naming the problem (unknown prefix, `ap`, a malformed date), location
 * "birthdate". */
BASE_MUST_CHECK int gw_mpi_pdq_date(const char *value, struct gw_mpi_date_bound *out,
                                    struct base_err *err);

/* Patient/$match (R4 patient-match, IHE ITI-119). */
struct gw_mpi_match_opts {
    bool only_certain; /* onlyCertainMatches */
    size_t count;      /* at most this many (0 = GW_MPI_LIMIT_PDQ_COUNT) */
};

/*
 * The regional persons `patient` (a Patient a client describes) might be: a
 * searchset Bundle, best first, each entry with search.score and the
 * match-grade extension (certain: a resident id or record number it holds;
 * probable / possible: the demographic score against the thresholds).
 * BASE_E_INVALID (location named) for a Patient that cannot be read or says
 * too little (no identifier, and no name with a birth date).
 */
BASE_MUST_CHECK int gw_mpi_match(PGconn *db, struct base_arena *a, const struct gw_mpi_config *cfg,
                                 const json_t *patient, const struct gw_mpi_match_opts *o,
                                 const char *base_url, json_t **out, struct base_err *err);

/* A searchset Bundle of regional Patients, one page (q->count, after
 * q->after, in a stable order).  `base_url` (may be NULL) builds each
 * entry's fullUrl ("<base_url>/Patient/<id>").  Bundle.total counts every
 * match, not only this page's; *more (may be NULL) says whether persons
 * follow the page's last entry.  Past GW_MPI_LIMIT_PDQ_MATCHES matches the
 * first page comes with a warning (an entry of search mode "outcome") and
 * no more pages: a later page is BASE_E_INVALID "too-costly".  A domain of
 * q->domains the index does not know is BASE_E_NOTFOUND "targetSystem not
 * found" (ITI-78 Case 4). */
BASE_MUST_CHECK int gw_mpi_pdq_search(PGconn *db, struct base_arena *a,
                                      const struct gw_mpi_config *cfg,
                                      const struct gw_mpi_pdq_query *q, const char *base_url,
                                      json_t **out, bool *more, struct base_err *err);

/* ---- review queue --------------------------------------------------------- */

enum gw_mpi_decision {
    GW_MPI_SAME_PERSON = 0, /* link the record to the candidate person */
    GW_MPI_NOT_SAME = 1     /* keep apart; never propose this pair again */
};

/* Open (or all, when `open_only` is false) review items, newest first, as a
 * JSON array of {id, status, score, reason, record:{member, system, value,
 * name, birthDate, gender}, person, candidate, candidateRecords:[{member,
 * value, name, birthDate, gender}], created, decidedBy, note,
 * fields:[{field, level, weight}]}: what a person needs to decide.  New
 * reference. */
BASE_MUST_CHECK int gw_mpi_review_list(PGconn *db, struct base_arena *a, bool open_only,
                                       size_t limit, size_t offset, json_t **out,
                                       struct base_err *err);

/* Decide review item `review_id`.  SAME_PERSON moves the record to the
 * candidate person (link type manual, history kept; a person left without
 * records is marked merged into the candidate).  BASE_E_CONFLICT if the
 * item is already decided or the two carry different valid resident ids. */
BASE_MUST_CHECK int gw_mpi_review_decide(PGconn *db, int64_t review_id,
                                         enum gw_mpi_decision decision, const char *actor,
                                         const char *note, struct base_err *err);

/* ---- merge / unmerge -------------------------------------------------------- */

/* Merge person `merged_id` into `survivor_id` (public ids): every record of
 * the merged person is relinked to the survivor and the merged person is
 * retired.  *merge_id receives the merge's id for gw_mpi_unmerge.
 * BASE_E_CONFLICT for different valid resident ids or an inactive person. */
BASE_MUST_CHECK int gw_mpi_merge(PGconn *db, const char *survivor_id, const char *merged_id,
                                 const char *actor, const char *reason, int64_t *merge_id,
                                 struct base_err *err);

/* Undo merge `merge_id`: the retired person comes back and every record the
 * merge moved (and still linked to the survivor) returns to it.
 * BASE_E_CONFLICT if already undone. */
BASE_MUST_CHECK int gw_mpi_unmerge(PGconn *db, int64_t merge_id, const char *actor,
                                   const char *reason, struct base_err *err);

/* Split one record (member + its key identifier) out of its person into a
 * new person of its own (link type manual): the fix for a wrong automatic
 * link.  *new_person_id (>= 40 bytes) receives the new public id.
 * BASE_E_NOTFOUND for an unknown record, BASE_E_CONFLICT when the record is
 * already alone. */
BASE_MUST_CHECK int gw_mpi_split(PGconn *db, const char *member, const char *system,
                                 const char *value, const char *actor, const char *reason,
                                 char *new_person_id, size_t cap, struct base_err *err);

/* The link history of a person (public id) as a JSON array, oldest first:
 * {at, action, member, system, value, from_person, to_person, link_type,
 * score, actor, reason}.  New reference. */
BASE_MUST_CHECK int gw_mpi_history(PGconn *db, struct base_arena *a, const char *person_id,
                                   json_t **out, struct base_err *err);

#endif /* GATEWAY_MPI_GW_MPI_H */
