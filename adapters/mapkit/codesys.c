/*
 * Code-system OIDs -> FHIR canonical URIs.
 *
 * Sources: FHIR R4 terminologies-systems.html ("Using Codes in Resources")
 * and the HL7 Terminology (THO) NamingSystem resources, which give each
 * system's preferred URI next to its OID.  OIDs not listed here stay
 * "urn:oid:<oid>" (FHIR R4 references.html: a valid way to name any code
 * system), which is also right for the Chinese national code sets under
 * 2.16.156 that have no FHIR URI.
 */
#include "adapters/mapkit/mapkit.h"

#include <stdio.h>
#include <string.h>

struct oid_uri {
    const char *oid;
    const char *uri;
};

#define V3 "http://terminology.hl7.org/CodeSystem/v3-"

static const struct oid_uri known[] = {
    /* external terminologies */
    {"2.16.840.1.113883.6.1", "http://loinc.org"},
    {"2.16.840.1.113883.6.96", "http://snomed.info/sct"},
    {"2.16.840.1.113883.6.3", "http://hl7.org/fhir/sid/icd-10"},
    {"2.16.840.1.113883.6.90", "http://hl7.org/fhir/sid/icd-10-cm"},
    {"2.16.840.1.113883.6.4", "http://www.cms.gov/Medicare/Coding/ICD10"},
    {"2.16.840.1.113883.6.2", "http://hl7.org/fhir/sid/icd-9-cm"},
    {"2.16.840.1.113883.6.103", "http://hl7.org/fhir/sid/icd-9-cm"},
    {"2.16.840.1.113883.6.104", "http://hl7.org/fhir/sid/icd-9-cm"},
    {"2.16.840.1.113883.6.42", "http://hl7.org/fhir/sid/icd-9"},
    {"2.16.840.1.113883.6.88", "http://www.nlm.nih.gov/research/umls/rxnorm"},
    {"2.16.840.1.113883.12.292", "http://hl7.org/fhir/sid/cvx"},
    {"2.16.840.1.113883.12.227", "http://hl7.org/fhir/sid/mvx"},
    {"2.16.840.1.113883.6.8", "http://unitsofmeasure.org"},
    {"2.16.840.1.113883.6.69", "http://hl7.org/fhir/sid/ndc"},
    {"2.16.840.1.113883.6.12", "http://www.ama-assn.org/go/cpt"},
    {"2.16.840.1.113883.6.285", "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"},
    {"2.16.840.1.113883.6.13", "http://www.ada.org/cdt"},
    {"2.16.840.1.113883.6.101", "http://nucc.org/provider-taxonomy"},
    {"2.16.840.1.113883.6.259",
     "https://www.cdc.gov/nhsn/cdaportal/terminology/codesystem/hsloc.html"},
    {"2.16.840.1.113883.6.24", "urn:iso:std:iso:11073:10101"},
    {"2.16.840.1.113883.4.9", "http://fdasis.nlm.nih.gov"},
    {"2.16.840.1.113883.3.26.1.1", "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"},
    {"2.16.840.1.113883.3.26.1.5", "http://hl7.org/fhir/ndfrt"},
    {"2.16.840.1.113883.6.73", "http://www.whocc.no/atc"},
    {"1.2.840.10008.2.16.4", "http://dicom.nema.org/resources/ontology/DCM"},
    /* identifier systems that C-CDA headers use */
    {"2.16.840.1.113883.4.1", "http://hl7.org/fhir/sid/us-ssn"},
    {"2.16.840.1.113883.4.6", "http://hl7.org/fhir/sid/us-npi"},
    /* HL7 v3 vocabularies (terminology.hl7.org) */
    {"2.16.840.1.113883.5.1", V3 "AdministrativeGender"},
    {"2.16.840.1.113883.5.2", V3 "MaritalStatus"},
    {"2.16.840.1.113883.5.4", V3 "ActCode"},
    {"2.16.840.1.113883.5.6", V3 "ActClass"},
    {"2.16.840.1.113883.5.7", V3 "ActPriority"},
    {"2.16.840.1.113883.5.8", V3 "ActReason"},
    {"2.16.840.1.113883.5.14", V3 "ActStatus"},
    {"2.16.840.1.113883.5.25", V3 "Confidentiality"},
    {"2.16.840.1.113883.5.43", V3 "EntityNamePartQualifier"},
    {"2.16.840.1.113883.5.45", V3 "EntityNameUse"},
    {"2.16.840.1.113883.5.60", V3 "LanguageAbilityMode"},
    {"2.16.840.1.113883.5.61", V3 "LanguageAbilityProficiency"},
    {"2.16.840.1.113883.5.83", V3 "ObservationInterpretation"},
    {"2.16.840.1.113883.5.88", V3 "ParticipationFunction"},
    {"2.16.840.1.113883.5.90", V3 "ParticipationType"},
    {"2.16.840.1.113883.5.104", V3 "Race"},
    {"2.16.840.1.113883.5.110", V3 "RoleClass"},
    {"2.16.840.1.113883.5.111", V3 "RoleCode"},
    {"2.16.840.1.113883.5.112", V3 "RouteOfAdministration"},
    {"2.16.840.1.113883.5.139", V3 "TimingEvent"},
    {"2.16.840.1.113883.5.1001", V3 "ActMood"},
    {"2.16.840.1.113883.5.1002", V3 "ActRelationshipType"},
    {"2.16.840.1.113883.5.1008", V3 "NullFlavor"},
    {"2.16.840.1.113883.5.1063", V3 "ObservationValue"},
    {"2.16.840.1.113883.5.1076", V3 "ReligiousAffiliation"},
    {"2.16.840.1.113883.5.1119", V3 "AddressUse"},
};

/* HL7 v2 tables: 2.16.840.1.113883.12.<n> is v2 table n (FHIR R4
 * terminologies-v2.html names them .../CodeSystem/v2-<nnnn>). */
static const char *
v2_table_uri(struct base_str oid)
{
    static const char prefix[] = "2.16.840.1.113883.12.";
    static _Thread_local char buf[64];
    uint64_t n = 0;

    if (!base_str_starts_with(oid, prefix))
        return NULL;
    if (!base_str_to_u64(base_str_sub(oid, sizeof(prefix) - 1, oid.len), &n) || n == 0 || n > 9999)
        return NULL;
    (void)snprintf(buf, sizeof(buf), "http://terminology.hl7.org/CodeSystem/v2-%04u", (unsigned)n);
    return buf;
}

const char *
adapter_oid_uri(struct base_str oid)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(known); i++) {
        if (base_str_eq_cstr(oid, known[i].oid))
            return known[i].uri;
    }
    return v2_table_uri(oid);
}

bool
adapter_oid_valid(struct base_str s)
{
    size_t arc_len = 0;
    size_t arcs = 0;

    if (s.len == 0 || s.len > 64)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];

        if (c == '.') {
            if (arc_len == 0)
                return false;
            arc_len = 0;
            continue;
        }
        if (c < '0' || c > '9')
            return false;
        /* ITU-T X.660: an arc has no leading zero (except "0" itself) */
        if (arc_len == 1 && s.ptr[i - 1] == '0')
            return false;
        if (arc_len++ == 0)
            arcs++;
    }
    return arc_len > 0 && arcs >= 2;
}
