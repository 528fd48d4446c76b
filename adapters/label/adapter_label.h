/*
 * adapters/label/adapter_label.h — sensitivity labels added at ingest.
 *
 * A patient's consent can withhold sensitive categories of data (issue #6:
 * mental health, HIV, reproductive health, substance use).  The gateway
 * only sees security labels, so the adapter, which knows the codes, labels
 * each resource as it is stored: meta.security gets the HL7 v3 ActCode
 * InformationSensitivityPolicy code (PSY, ETH, HIV, STD, SEX, SDV) and the
 * confidentiality code R (restricted).  Labels already present are kept.
 *
 * The rules are code ranges of ICD-10 (incl. ICD-10-CM and China's
 * national ICD-10, GB/T 14396), a list of LOINC HIV tests and a few
 * SNOMED CT concepts; see labels.c for the table and its sources.
 */
#ifndef ADAPTERS_LABEL_ADAPTER_LABEL_H
#define ADAPTERS_LABEL_ADAPTER_LABEL_H

#include <stddef.h>

#include <jansson.h>

#include "fhir/base/compat.h"

#define ADAPTER_LABEL_SYSTEM_ACTCODE "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#define ADAPTER_LABEL_SYSTEM_CONF    "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"

/*
 * Add the sensitivity labels the resource's codes call for.  Looks at the
 * top-level coded elements every clinical type uses: `code` (Condition,
 * Observation, DiagnosticReport, Procedure, ServiceRequest, …),
 * `valueCodeableConcept`, `reasonCode` (Encounter, MedicationRequest, …) and
 * `category`.  Returns the number of labels
 * added (0 when none apply), or a negative BASE_E_NOMEM.
 */
BASE_MUST_CHECK int adapter_label_resource(json_t *resource);

/*
 * Label every resource of a Bundle converted from one source (a CDA
 * document, an HL7 v2 message, a CSV group), then give the resources that
 * carry the source's whole text — DocumentReference (the original
 * document), Binary, Composition, DiagnosticReport (presentedForm,
 * conclusion) — every sensitivity label found in the Bundle: a progress
 * note whose coded entries are mental-health diagnoses is itself
 * mental-health data, even if its own type code says only "progress note".
 * Returns the number of labels added, or a negative BASE_E_NOMEM.
 */
BASE_MUST_CHECK int adapter_label_bundle(json_t *bundle);

/* The sensitivity code ("PSY", …) for one coding, or NULL. */
const char *adapter_label_for_code(const char *system, size_t system_len, const char *code,
                                   size_t code_len);

#endif /* ADAPTERS_LABEL_ADAPTER_LABEL_H */
