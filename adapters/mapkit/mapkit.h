/*
 * adapters/mapkit/mapkit.h — what every converter needs to produce FHIR:
 * transaction Bundles with idempotent conditional updates, deterministic
 * ids, HL7/DICOM timestamps as FHIR dateTimes, code-system OIDs as FHIR
 * URIs, a local code-map hook, and small jansson builders.
 *
 * Shared by the CDA, CSV and DICOMweb converters (and meant for HL7 v2 too),
 * so that every adapter input yields the same Bundle shape:
 *
 *   Bundle.type = "transaction"
 *   entry.fullUrl = "urn:uuid:<v5 uuid of Type|system|value>"
 *   entry.request = {"method": "PUT", "url": "Type?identifier=system|value"}
 *
 * The uuid is derived from the business identifier, so converting the same
 * input twice yields byte-identical Bundles, and the conditional update
 * (FHIR R4 http.html#cond-update) makes re-ingesting it change nothing.
 */
#ifndef ADAPTERS_MAPKIT_MAPKIT_H
#define ADAPTERS_MAPKIT_MAPKIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"
#include "fhir/base/str.h"

/* ------------------------------------------------------------ identifiers */

#define ADAPTER_UUID_LEN 36 /* "xxxxxxxx-xxxx-5xxx-yxxx-xxxxxxxxxxxx" */

/* Name-based UUID (RFC 4122 section 4.3, version 5, SHA-1) of `name` in
 * fhirgate's own namespace.  `out` receives 36 characters and a NUL. */
void adapter_uuid5(const void *name, size_t len, char out[ADAPTER_UUID_LEN + 1]);

/* SHA-1 of `data` as base64 (FHIR R4 Attachment.hash); `out` >= 29 bytes. */
void adapter_sha1_b64(const void *data, size_t len, char out[29]);

/* Base64 (RFC 4648, no line breaks) of `data` into a new jansson string;
 * NULL when out of memory or when len exceeds `max_len`. */
json_t *adapter_base64_json(const void *data, size_t len, size_t max_len);

/* ------------------------------------------------------- transaction Bundle */

struct adapter_tx {
    json_t *bundle;  /* the Bundle being built (owned) */
    json_t *entries; /* borrowed: bundle.entry */
    json_t *index;   /* "Type|system|value" -> fullUrl string (owned) */
    size_t max_entries;
};

/* Start an empty transaction Bundle.  `max_entries` bounds its size (0 = no
 * bound besides memory).  BASE_E_NOMEM. */
BASE_MUST_CHECK int adapter_tx_init(struct adapter_tx *tx, size_t max_entries,
                                    struct base_err *err);
/* Release what the builder still owns (safe after adapter_tx_take). */
void adapter_tx_fini(struct adapter_tx *tx);

/*
 * Add `res` (the reference is always consumed) as a conditional update keyed
 * by the business identifier `system`|`value`, both required.  The first
 * resource added for a given Type|system|value wins; later ones are dropped
 * and get the same fullUrl, so converters may add shared resources
 * (Organization, Practitioner) as often as they meet them.
 * *full_url (may be NULL) points into the Bundle and lives as long as it.
 * BASE_E_NOMEM, BASE_E_LIMIT (max_entries), BASE_E_INVALID (no resourceType).
 */
BASE_MUST_CHECK int adapter_tx_put(struct adapter_tx *tx, json_t *res, const char *system,
                                   const char *value, const char **full_url, struct base_err *err);

/* fullUrl already given to Type|system|value, or NULL. */
const char *adapter_tx_find(const struct adapter_tx *tx, const char *type, const char *system,
                            const char *value);

/* Number of entries so far. */
size_t adapter_tx_count(const struct adapter_tx *tx);

/* Hand the Bundle to the caller (new reference); the builder is left empty. */
json_t *adapter_tx_take(struct adapter_tx *tx);

/*
 * Search-URL text for `Type?identifier=system|value` (also used for
 * conditional references, FHIR R4 http.html#trules): FHIR's own escapes
 * (backslash before `\ , $ |` inside system and value, search.html#escaping),
 * then percent-encoding of everything that is not unreserved or `:/|`.
 * Returns a new jansson string, or NULL when out of memory.
 */
json_t *adapter_identifier_query(const char *type, const char *system, const char *value);

/* Append `s` percent-encoded (RFC 3986 2.1): unreserved characters and
 * those in `keep` stay, every other byte becomes %XX.  BASE_E_LIMIT /
 * BASE_E_NOMEM from the buffer. */
struct base_buf;
BASE_MUST_CHECK int adapter_url_encode(struct base_buf *b, const char *s, const char *keep);

/* {"reference": "<ref>"} (new reference) or NULL. */
json_t *adapter_reference(const char *ref, const char *display);

/* ------------------------------------------------------------ date / time */

/*
 * HL7 v3 TS / HL7 v2 DTM / DICOM DT text
 *   YYYY[MM[DD[HH[MM[SS[.F+]]]]]][+|-ZZZZ]
 * (DICOM legacy "YYYY.MM.DD" and "HH:MM:SS" are accepted too) to a FHIR R4
 * date (want_date) or dateTime.  FHIR requires a time zone whenever a time
 * is given: without an offset in the input, `default_tz` ("+08:00", "Z") is
 * used; when that is NULL the value is cut to its date (never invented).
 * Minutes and seconds missing from a time become ":00".
 * Returns the length written (< cap), or 0 when the text is not a valid
 * timestamp (ranges are checked: month, day of month, leap years, hours...).
 */
size_t adapter_ts_to_fhir(struct base_str ts, const char *default_tz, bool want_date, char *out,
                          size_t cap);

/* DICOM DA + TM (+ optional TimezoneOffsetFromUTC "+0800") to a FHIR
 * dateTime; TM may be empty (date only).  Same rules and return value. */
size_t adapter_da_tm_to_fhir(struct base_str da, struct base_str tm, struct base_str tz,
                             const char *default_tz, char *out, size_t cap);

#define ADAPTER_TS_MAX 40 /* enough for any FHIR dateTime we write */

/* ------------------------------------------------------------ code systems */

/*
 * FHIR URI of a code system identified by `oid` (HL7 terminology.hl7.org
 * "Using Codes" / HL7 OID registry: LOINC, SNOMED CT, ICD-10, ICD-10-CM,
 * RxNorm, CVX, UCUM, NDC, CPT, the v3 vocabularies...), or NULL when the OID
 * is not a well-known one (callers then use "urn:oid:<oid>").  HL7 v2
 * table OIDs (2.16.840.1.113883.12.N) give ".../CodeSystem/v2-NNNN" from a
 * per-thread buffer that the next call on the same thread overwrites.
 */
const char *adapter_oid_uri(struct base_str oid);

/* Is `s` a syntactically valid OID (digits and dots, no leading zeros,
 * at most 64 characters as DICOM UIs)? */
bool adapter_oid_valid(struct base_str s);

/* Local code -> standard code hook.  adapters/codemap plugs in here: given a
 * coding as found in the source, return true and fill *out (strings owned by
 * the map) with the standard coding to add next to it; false when unmapped. */
struct adapter_coding {
    const char *system;
    const char *code;
    const char *display;
};
typedef bool (*adapter_codemap_fn)(void *ctx, const char *system, const char *code,
                                   struct adapter_coding *out);
struct adapter_codemap {
    adapter_codemap_fn fn; /* NULL: codes stay as they are */
    void *ctx;
};

/*
 * Append a Coding {system, code, display} to cc.coding (created on demand)
 * and, when `map` knows the code, the mapped standard Coding after it.
 * system/code/display may each be NULL or empty (omitted).  BASE_E_NOMEM.
 */
BASE_MUST_CHECK int adapter_cc_add_coding(json_t *cc, const char *system, const char *code,
                                          const char *display, const struct adapter_codemap *map);

/* ------------------------------------------------------------ jansson glue */

/* obj[key] = v, consuming v; v == NULL means out of memory.  BASE_E_NOMEM. */
BASE_MUST_CHECK int adapter_jset(json_t *obj, const char *key, json_t *v);
/* obj[key] = string s (skipped when s is NULL or empty).  Invalid UTF-8 is
 * BASE_E_INVALID.  BASE_E_NOMEM. */
BASE_MUST_CHECK int adapter_jset_str(json_t *obj, const char *key, const char *s);
BASE_MUST_CHECK int adapter_jset_strn(json_t *obj, const char *key, struct base_str s);
/* Append v (consumed) to obj[key], an array created on demand. */
BASE_MUST_CHECK int adapter_jpush(json_t *obj, const char *key, json_t *v);
/* Decimal node (fhir/json) from number text as sources write it: trims
 * spaces, drops a leading '+', adds the 0 of ".5" and removes leading zeros
 * ("007" -> "7"), keeping every significant digit ("1.50" stays "1.50").
 * NULL when the text is not a number (or out of memory). */
json_t *adapter_decimal(struct base_str text);

/* {"coding":[{"system":..,"code":..,"display":..}]} (display may be NULL). */
json_t *adapter_cc(const char *system, const char *code, const char *display);

#endif /* ADAPTERS_MAPKIT_MAPKIT_H */
