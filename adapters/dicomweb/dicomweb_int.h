/*
 * adapters/dicomweb/dicomweb_int.h — tags and dataset accessors shared by
 * the DICOM JSON reader, the mapping and the QIDO-RS client.
 */
#ifndef ADAPTERS_DICOMWEB_DICOMWEB_INT_H
#define ADAPTERS_DICOMWEB_DICOMWEB_INT_H

#include "adapters/dicomweb/dicomweb.h"
#include "fhir/base/str.h"

/* PS3.6 data dictionary: the attributes the mapping reads. */
#define DW_SPECIFIC_CHARSET   "00080005"
#define DW_SOP_CLASS          "00080016"
#define DW_SOP_INSTANCE       "00080018"
#define DW_STUDY_DATE         "00080020"
#define DW_SERIES_DATE        "00080021"
#define DW_STUDY_TIME         "00080030"
#define DW_SERIES_TIME        "00080031"
#define DW_ACCESSION          "00080050"
#define DW_ACC_ISSUER         "00080051"
#define DW_MODALITY           "00080060"
#define DW_MODALITIES         "00080061"
#define DW_REFERRER           "00080090"
#define DW_CODE_VALUE         "00080100"
#define DW_CODE_SCHEME        "00080102"
#define DW_CODE_MEANING       "00080104"
#define DW_TZ_OFFSET          "00080201"
#define DW_STUDY_DESC         "00081030"
#define DW_PROC_CODES         "00081032"
#define DW_SERIES_DESC        "0008103E"
#define DW_READER             "00081060"
#define DW_RETRIEVE_URL       "00081190"
#define DW_PATIENT_NAME       "00100010"
#define DW_PATIENT_ID         "00100020"
#define DW_ISSUER             "00100021"
#define DW_BIRTH_DATE         "00100030"
#define DW_ISSUER_QUAL        "00100024"
#define DW_SEX                "00100040"
#define DW_OTHER_IDS          "00101002"
#define DW_BODY_PART          "00180015"
#define DW_LOCAL_NS           "00400031"
#define DW_UEID               "00400032"
#define DW_UEID_TYPE          "00400033"
#define DW_STUDY_UID          "0020000D"
#define DW_SERIES_UID         "0020000E"
#define DW_STUDY_ID           "00200010"
#define DW_SERIES_NUMBER      "00200011"
#define DW_INSTANCE_NUMBER    "00200013"
#define DW_LATERALITY         "00200060"
#define DW_N_SERIES           "00201206"
#define DW_N_STUDY_INSTANCES  "00201208"
#define DW_N_SERIES_INSTANCES "00201209"

/* First value of a string attribute, trimmed; empty when absent. */
struct base_str dw_str(const json_t *ds, const char *tag, size_t idx);
/* Number of values of an attribute. */
size_t dw_count(const json_t *ds, const char *tag);
/* Integer value of an IS/US/... attribute (number or numeric string). */
bool dw_int(const json_t *ds, const char *tag, long long *out);
/* The PN value object, or NULL. */
const json_t *dw_pn(const json_t *ds, const char *tag);
/* The sequence items (array of datasets), or NULL. */
const json_t *dw_items(const json_t *ds, const char *tag);

#endif /* ADAPTERS_DICOMWEB_DICOMWEB_INT_H */
