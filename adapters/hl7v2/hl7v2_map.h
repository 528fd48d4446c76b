/*
 * adapters/hl7v2/hl7v2_map.h — HL7 v2 message -> FHIR R4 transaction Bundle.
 *
 * Pure: the same message and options always give byte-identical output.
 * Follows the HL7 Version 2 to FHIR implementation guide (v1.0.0) where it
 * speaks; docs/design/hl7v2.md lists every segment and field mapped and the
 * decisions taken where the guide is silent.
 *
 * The Bundle has type "transaction"; every entry has
 *   - fullUrl "urn:uuid:<v5 uuid>" derived from the member's system base,
 *     the resource type and its business key, so that references between
 *     entries are stable across repeats of a message;
 *   - request PUT "<Type>?identifier=<system>|<value>" (a conditional
 *     update by business identifier: applying the Bundle twice changes
 *     nothing), or PUT "<Type>/<uuid>" for Provenance, which has no
 *     identifier element;
 * and a last Provenance entry names the message (MSH-10) and the sending
 * facility (MSH-4) and targets every other entry.  Resources that have no
 * business identifier in v2 (AL1, DG1 and PR1 before v2.6, OBX before
 * v2.6, …) get the identifier {system "urn:ietf:rfc:3986", value
 * "urn:uuid:<the same uuid>"}, which is what makes their upsert possible.
 */
#ifndef ADAPTERS_HL7V2_HL7V2_MAP_H
#define ADAPTERS_HL7V2_HL7V2_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "adapters/hl7v2/hl7v2.h"

struct codemap;
struct codemap_report;

/* An assigning authority namespace (CX-4.1, EI-2, HD-1) and the identifier
 * system URI the member uses for it. */
struct hl7v2_authority {
    const char *namespace_id; /* "HIS", "MR", "BCBS" */
    const char *system;       /* "https://hospital-a.example/sid/mrn" */
};

struct hl7v2_map_opts {
    /* Base URI of the member's own identifier and code systems.  Identifier
     * systems with no global name become "<base>/id/<authority>", visit
     * numbers "<base>/visit", orders "<base>/order/placer|filler", local
     * code systems "<base>/code/<name>".  NULL: "urn:fhirgate:member:" +
     * the percent-encoded sending facility (MSH-4.1, else MSH-3.1). */
    const char *system_base;
    const struct hl7v2_authority *authorities; /* checked before the base rule */
    size_t nauthorities;
    /* Offset for v2 times without one (FHIR requires an offset when a time
     * is given) when MSH-7 does not state the sender's: a message whose
     * MSH-7 has an offset uses that one.  NULL: "+08:00" (China Standard
     * Time, the region's zone). */
    const char *default_tz;
    /* observation-category code for results whose OBR-24 does not say
     * (e.g. "laboratory" for a LIS feed); NULL: none. */
    const char *obs_category;
    /* System of PID-19 when it is not a resident identity number.  NULL:
     * "http://hl7.org/fhir/sid/us-ssn" (the v2-to-FHIR guide's choice). */
    const char *ssn_system;
    const struct codemap *codemap;         /* local -> standard codes, may be NULL */
    struct codemap_report *codemap_report; /* counts mapped/unmapped, may be NULL */
};

#define HL7V2_MAP_OPTS_DEFAULT ((struct hl7v2_map_opts){0})

/* The identifier system of the Chinese resident identity number (居民身份证
 * 号码): the OID the national health information standards assign to it
 * (WS 363 data elements, WS/T 500 shared-document templates: patient id
 * root "2.16.156.10011.1.3"). */
#define HL7V2_SYSTEM_CN_RESIDENT_ID "urn:oid:2.16.156.10011.1.3"

struct hl7v2_entry {
    const char *type;         /* "Patient" */
    char full_url[46];        /* "urn:uuid:…" */
    const char *method;       /* "PUT" */
    struct base_str url;      /* "Patient?identifier=…" or "Provenance/<id>" */
    struct base_str resource; /* the resource's JSON text (a slice of json) */
};

struct hl7v2_map_warning {
    char where[64];  /* "OBX-5 (segment 12)" */
    const char *msg; /* static, PHI-free */
};

struct hl7v2_bundle {
    struct base_str json; /* the transaction Bundle, compact JSON */
    struct hl7v2_entry *entries;
    size_t nentries;
    struct hl7v2_map_warning *warnings; /* things not mapped, kept to 64 (NULL: none) */
    size_t nwarnings;
    size_t warnings_dropped;
};

/*
 * Map a parsed message.  Errors: BASE_E_INVALID with a location when
 * something the mapping cannot do without is missing (MSH-9, PID-3 of a
 * patient, …) or a field's escapes decode to bad text, BASE_E_NOMEM,
 * BASE_E_LIMIT (output over 64 MiB).  `o` may be NULL for the defaults.
 */
BASE_MUST_CHECK int hl7v2_map(struct base_arena *a, const struct hl7v2_msg *m,
                              const struct hl7v2_map_opts *o, struct hl7v2_bundle **out,
                              struct base_err *err);

/* Parse + map one message. */
BASE_MUST_CHECK int hl7v2_convert(struct base_arena *a, const char *data, size_t len,
                                  const struct hl7v2_limits *lim,
                                  const struct hl7v2_parse_opts *popts,
                                  const struct hl7v2_map_opts *mopts, struct hl7v2_bundle **out,
                                  struct base_err *err);

/* The Bundle as a jansson tree (decimals kept: see fhir/json/fhir_json.h).
 * *out is a new reference. */
BASE_MUST_CHECK int hl7v2_bundle_tree(const struct hl7v2_bundle *b, json_t **out,
                                      struct base_err *err);

/* Entries of a resource type. */
size_t hl7v2_bundle_count(const struct hl7v2_bundle *b, const char *type);

/* --- files ----------------------------------------------------------------- */

struct hl7v2_file_opts {
    const struct hl7v2_limits *lim;       /* NULL: defaults */
    const struct hl7v2_parse_opts *parse; /* NULL: defaults */
    const struct hl7v2_map_opts *map;     /* NULL: defaults */
    /* called for each mapping warning (index is 0-based, line of its MSH) */
    void (*on_warning)(void *ctx, size_t index, uint32_t line, const char *where, const char *msg);
    void *ctx;
};

/*
 * Convert a file of one or many messages (or an FHS/BHS batch).  One
 * message gives its transaction Bundle; several give a "collection" Bundle
 * whose entries are the messages' transaction Bundles in file order.  The
 * first message that fails fails the file: err->where is
 * "message N (line L): <location in the message>".
 */
BASE_MUST_CHECK int hl7v2_convert_file(const char *data, size_t len,
                                       const struct hl7v2_file_opts *o, json_t **out,
                                       struct base_err *err);

/* v5 UUID of the parts (joined by U+001F) in fhirgate's namespace. */
void hl7v2_uuid5(const struct base_str *parts, size_t nparts, char out[37]);
/* SHA-1 of data as 40 hex digits. */
void hl7v2_sha1_hex(const void *data, size_t len, char out[41]);

/* GB 11643-1999 resident identity number: 17 digits and an ISO 7064
 * MOD 11-2 check character (0-9 or X), with a plausible birth date.  A
 * 15-digit number of the 1989 edition is upgraded to 18 characters (19
 * inserted before the year, check character added) into out[19]. */
bool hl7v2_cn_resident_id(struct base_str s, char out[19]);

#endif /* ADAPTERS_HL7V2_HL7V2_MAP_H */
