/*
 * fhir/model/model_int.h — the generated tables (fhir/model/gen/), for the
 * model module only.
 */
#ifndef FHIR_MODEL_MODEL_INT_H
#define FHIR_MODEL_MODEL_INT_H

#include <stddef.h>
#include <stdint.h>

#include "fhir/model/fhir_model.h"

extern const size_t fhir_model__type_total;
extern const struct fhir_model_type fhir_model__types[];
extern const uint16_t fhir_model__type_mask;
extern const uint16_t fhir_model__type_slots[];

extern const size_t fhir_model__valueset_total;
extern const struct fhir_model_valueset fhir_model__valuesets[];
extern const uint16_t fhir_model__valueset_mask;
extern const uint16_t fhir_model__valueset_slots[];

#endif /* FHIR_MODEL_MODEL_INT_H */
