/*
 * fhir/summary/summary_int.h — the generated table of summary elements
 * (fhir/summary/gen/summary_paths.c, from schemas/gen/gen_summary.py).
 */
#ifndef FHIR_SUMMARY_SUMMARY_INT_H
#define FHIR_SUMMARY_SUMMARY_INT_H

#include <stddef.h>

/* "Type.path" of every summary element below a resource ("Observation.code",
 * "Observation.component.code"; a choice by its base name), sorted (strcmp). */
extern const char *const fhir_summary__paths[];
extern const size_t fhir_summary__path_count;

#endif /* FHIR_SUMMARY_SUMMARY_INT_H */
