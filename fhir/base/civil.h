/*
 * fhir/base/civil.h — days since 1970-01-01 of a proleptic Gregorian date,
 * and back (H. Hinnant's days_from_civil / civil_from_days: exact for any
 * int64 year, no time zone, no table).
 */
#ifndef FHIR_BASE_CIVIL_H
#define FHIR_BASE_CIVIL_H

#include <stdint.h>

/* m 1..12, d 1..31 (not checked against the month: callers validate). */
int64_t base_days_from_civil(int64_t y, int64_t m, int64_t d);

/* The date of day z (0 = 1970-01-01). */
void base_civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d);

#endif /* FHIR_BASE_CIVIL_H */
