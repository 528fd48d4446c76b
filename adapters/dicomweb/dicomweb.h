/*
 * adapters/dicomweb/dicomweb.h — PACS imaging metadata through DICOMweb.
 *
 *  - dicomweb_parse(): the DICOM JSON model (PS3.18 annex F,
 *    application/dicom+json) read with fhir_json_parse under limits, every
 *    attribute checked: tag syntax, VR known, the VR a small dictionary
 *    expects for the tags we map, value types per VR, and the maximum
 *    length of each VR (PS3.5 table 6.2-1); sequences to a bounded depth.
 *  - dicomweb_studies() / dicomweb_to_bundle(): datasets at any level
 *    (QIDO-RS study, series or instance answers, WADO-RS metadata) grouped
 *    by Study / Series / SOP Instance UID into FHIR R4 ImagingStudy, with a
 *    WADO-RS Endpoint and, for the Bundle, the Patient.
 *  - dicomweb_qido_patient(): a QIDO-RS client (libcurl) that asks a PACS
 *    for one patient's studies (optionally series and instances), pages
 *    with limit/offset, and returns ImagingStudy resources.  A PACS that is
 *    down, refuses, times out or answers badly is an error naming the PACS,
 *    never an empty success.
 *
 * Person names keep their Alphabetic, Ideographic and Phonetic groups
 * (PS3.5 6.2.1) as separate HumanNames marked with the ISO 21090
 * representation extension, so Chinese names survive.  DICOM JSON is
 * always UTF-8 (PS3.18 F.2.1): the PACS decodes the Specific Character Set
 * (ISO_IR 192, GB18030, ...) when it writes JSON.
 */
#ifndef ADAPTERS_DICOMWEB_DICOMWEB_H
#define ADAPTERS_DICOMWEB_DICOMWEB_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"

struct dicomweb_limits {
    size_t max_doc;      /* bytes of one DICOM JSON document / QIDO answer */
    size_t max_depth;    /* nested sequence levels */
    size_t max_datasets; /* datasets in one document */
    size_t max_values;   /* values of one attribute */
    size_t max_text;     /* characters of UC, UR, UT (their VR allows 2^32-2) */
};

/* Defaults from fhir/base/limits.h (BASE_LIMIT_DICOMWEB_*). */
struct dicomweb_limits dicomweb_limits_default(void);

/*
 * Parse and check one DICOM JSON document: a dataset object or an array of
 * them.  *datasets is a new array of datasets whose tag keys are upper
 * case.  Errors: BASE_E_PARSE (not JSON), BASE_E_INVALID (not DICOM JSON:
 * bad tag, unknown or unexpected VR, wrong value type, value too long;
 * err->where e.g. "dataset[2].00100010"), BASE_E_LIMIT, BASE_E_NOMEM.
 */
BASE_MUST_CHECK int dicomweb_parse(const char *text, size_t len, const struct dicomweb_limits *lim,
                                   json_t **datasets, struct base_err *err);

struct dicomweb_options {
    /* Reference for ImagingStudy.subject ("Patient/123").  NULL: the
     * Bundle gets a Patient from PatientID (0010,0020), and the studies of
     * dicomweb_studies() a display-only reference. */
    const char *patient_ref;
    /* Identifier system for PatientID when the dataset has no
     * IssuerOfPatientID OID (the hospital's record-number system). */
    const char *patient_id_system;
    /* WADO-RS root for the Endpoint ("https://pacs/dicom-web").  NULL: taken
     * from Retrieve URL (0008,1190) when present. */
    const char *wado_base;
    const char *pacs_name;  /* Endpoint.name */
    const char *default_tz; /* zone for DA/TM without (0008,0201); NULL: date only */
    /* The Issuer of Patient ID (0010,0021) value, or the OID of its
     * Universal Entity ID (0010,0024), that this member's PatientIDs carry.
     * NULL: the OID of a patient_id_system "urn:oid:..", compared with
     * issuer OIDs only (a local issuer name cannot be matched to it).
     * When known, a dataset naming another issuer belongs to another
     * assigner's patient who happens to share the PatientID (a regional
     * PACS holding several hospitals' studies): it is never given
     * patient_ref nor patient_id_system (see dicomweb_studies()). */
    const char *patient_issuer;
};

/*
 * Checked datasets (from dicomweb_parse) -> a new array of ImagingStudy,
 * one per Study Instance UID, in order of appearance.  The WADO-RS
 * Endpoint is contained in each study (#wado).  Datasets without a Study
 * Instance UID are an error (BASE_E_INVALID).  With a patient_ref, the
 * studies of another issuer's patient (see patient_issuer) are left out.
 */
BASE_MUST_CHECK int dicomweb_studies(const json_t *datasets, const struct dicomweb_options *opt,
                                     json_t **studies, struct base_err *err);

/* DICOM JSON text -> a transaction Bundle (ImagingStudy, Patient when the
 * data names one, Endpoint), conditional updates keyed by Study Instance
 * UID, PatientID and Endpoint address (adapters/mapkit).  Datasets without
 * a Study Instance UID are skipped and listed in *warnings (an
 * OperationOutcome; `warnings` may be NULL); so are the studies of another
 * issuer's patient (see patient_issuer) unless that issuer is an OID, which
 * then is their Patient's identifier system. */
BASE_MUST_CHECK int dicomweb_to_bundle(const char *text, size_t len,
                                       const struct dicomweb_limits *lim,
                                       const struct dicomweb_options *opt, json_t **out,
                                       json_t **warnings, struct base_err *err);

/* The same from checked datasets (dicomweb_parse, or a QIDO-RS answer). */
BASE_MUST_CHECK int dicomweb_datasets_to_bundle(const json_t *datasets,
                                                const struct dicomweb_options *opt, json_t **out,
                                                json_t **warnings, struct base_err *err);

/* ------------------------------------------------------------ QIDO-RS */

enum dicomweb_auth {
    DICOMWEB_AUTH_NONE,
    DICOMWEB_AUTH_BASIC, /* user + password */
    DICOMWEB_AUTH_BEARER /* token */
};

enum dicomweb_level {
    DICOMWEB_STUDIES,  /* study-level attributes and counts */
    DICOMWEB_SERIES,   /* + series (modality, body site, number...) */
    DICOMWEB_INSTANCES /* + instances (SOP class, number) */
};

struct dicomweb_pacs {
    const char *name;     /* used in errors and as Endpoint.name: never the URL */
    const char *base_url; /* QIDO-RS / WADO-RS root, e.g. https://pacs/dicom-web */
    enum dicomweb_auth auth;
    const char *user;
    const char *password;
    const char *token;
    const char *ca_file;     /* trust anchors; NULL: the system store */
    bool allow_http;         /* plain http (a loopback PACS); https otherwise */
    long connect_timeout_ms; /* 0: default */
    long timeout_ms;         /* whole request; 0: default */
    size_t max_response;     /* bytes of one answer; 0: default */
    size_t page_size;        /* QIDO limit= per request; 0: default */
    size_t max_studies;      /* studies for one patient; 0: default */
};

/*
 * Ask `pacs` for the studies of PatientID `patient_id` (exact match; the
 * QIDO wildcard and multi-value characters * ? \ are refused) at `level`.
 * On success *studies is a new array of ImagingStudy (empty when the PACS
 * has none).  `opt` may be NULL; its wado_base defaults to base_url.
 * Errors: BASE_E_INVALID (patient id), BASE_E_AUTH (PACS refused the
 * credentials), BASE_E_UPSTREAM (unreachable, timeout, HTTP error, bad
 * answer -- err->msg names the PACS), BASE_E_LIMIT, BASE_E_NOMEM.
 * Call curl_global_init() once at program start before using this.
 */
BASE_MUST_CHECK int dicomweb_qido_patient(const struct dicomweb_pacs *pacs, const char *patient_id,
                                          enum dicomweb_level level,
                                          const struct dicomweb_limits *lim,
                                          const struct dicomweb_options *opt, json_t **studies,
                                          struct base_err *err);

/*
 * As dicomweb_qido_patient(), but the answer is a transaction Bundle
 * (Patient with PatientID and the Other Patient IDs — e.g. the resident
 * identity number — ImagingStudy, Endpoint), ready for the adapter's store:
 * what a periodic PACS sync writes.  `warnings` as in dicomweb_to_bundle().
 */
BASE_MUST_CHECK int dicomweb_qido_patient_bundle(const struct dicomweb_pacs *pacs,
                                                 const char *patient_id, enum dicomweb_level level,
                                                 const struct dicomweb_limits *lim,
                                                 const struct dicomweb_options *opt,
                                                 json_t **bundle, json_t **warnings,
                                                 struct base_err *err);

/*
 * Every PatientID `pacs` holds studies for (a study-level QIDO-RS query with
 * no matching key, paged), for a PACS that is a member's only source of
 * patients (an imaging centre): the adapter then asks for each patient's
 * studies with dicomweb_qido_patient_bundle().  On success *ids is a new
 * array of distinct strings in the PACS's order.  At most `max` studies are
 * read (0: BASE_LIMIT_DICOMWEB_MAX_LISTED); more is BASE_E_LIMIT.  Other
 * errors as dicomweb_qido_patient().  PatientIDs that a later exact match
 * could not use (empty, QIDO wildcard characters) are left out.
 */
BASE_MUST_CHECK int dicomweb_qido_patient_ids(const struct dicomweb_pacs *pacs,
                                              const struct dicomweb_limits *lim, size_t max,
                                              json_t **ids, struct base_err *err);

#endif /* ADAPTERS_DICOMWEB_DICOMWEB_H */
