/*
 * gateway/demo/gw_demo_dicom.h — a small DICOM Part 10 writer.
 *
 * Enough DICOM to make real files for the demo's imaging centre: a data
 * set is built element by element (any order; it is sorted on output),
 * then written as a PS3.10 file — 128-byte preamble, "DICM", the File Meta
 * Information (group 0002, always Explicit VR Little Endian, PS3.10 7.1)
 * and the data set in Explicit VR Little Endian (1.2.840.10008.1.2.1).
 * Sequences are written with defined lengths.  Values are checked against
 * PS3.5 section 6.2 (VR character repertoires and maximum lengths; UIDs per
 * PS3.5 9.1), padded to even length (UI with NUL, other text with space,
 * OB with NUL) and never silently truncated.
 */
#ifndef GATEWAY_DEMO_GW_DEMO_DICOM_H
#define GATEWAY_DEMO_GW_DEMO_DICOM_H

#include <stddef.h>
#include <stdint.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"

struct base_arena;
struct base_buf;

#define GW_DEMO_DCM_TAG(g, e) (((uint32_t)(g) << 16) | (uint32_t)(e))

/* Explicit VR Little Endian: the transfer syntax every file uses. */
#define GW_DEMO_DCM_EXPLICIT_LE "1.2.840.10008.1.2.1"

/* A data set under construction (lives in its arena). */
struct gw_demo_dcm;

/* New empty data set in `a`; NULL when out of memory. */
struct gw_demo_dcm *gw_demo_dcm_new(struct base_arena *a);

/*
 * Add a text element (AE AS CS DA DS DT IS LO LT PN SH ST TM UC UI UR UT)
 * — `s` is the value as DICOM writes it, multiple values separated by '\'.
 * Checked: the VR is a text VR, the length per value, the characters the
 * VR allows (CS upper case, DA/TM/DS/IS digits, UI a valid UID).  An empty
 * string is a zero-length (type 2) element.  BASE_E_INVALID naming the tag.
 */
BASE_MUST_CHECK int gw_demo_dcm_str(struct gw_demo_dcm *ds, uint32_t tag, const char *vr,
                                    const char *s, struct base_err *err);

/* US value(s): `n` unsigned shorts. */
BASE_MUST_CHECK int gw_demo_dcm_us(struct gw_demo_dcm *ds, uint32_t tag, const uint16_t *v,
                                   size_t n, struct base_err *err);

/* UL value(s). */
BASE_MUST_CHECK int gw_demo_dcm_ul(struct gw_demo_dcm *ds, uint32_t tag, const uint32_t *v,
                                   size_t n, struct base_err *err);

/* OB or OW bytes (copied).  OW must have an even length. */
BASE_MUST_CHECK int gw_demo_dcm_bytes(struct gw_demo_dcm *ds, uint32_t tag, const char *vr,
                                      const void *data, size_t len, struct base_err *err);

/* SQ of `n` item data sets (referenced, not copied: they must live as long). */
BASE_MUST_CHECK int gw_demo_dcm_seq(struct gw_demo_dcm *ds, uint32_t tag,
                                    struct gw_demo_dcm *const *items, size_t n,
                                    struct base_err *err);

/*
 * Append the Part 10 file for `ds` to `out`.  The data set must hold SOP
 * Class UID (0008,0016) and SOP Instance UID (0008,0018), which become the
 * Media Storage UIDs of the meta header; it must not hold group 0002 or
 * the same tag twice.  `impl_uid` names the writing implementation
 * (0002,0012), `impl_name` its version (0002,0013, at most 16 characters).
 * BASE_E_INVALID, BASE_E_LIMIT (an element over 2^32-2 bytes, or `out`'s
 * maximum), BASE_E_NOMEM.
 */
BASE_MUST_CHECK int gw_demo_dcm_write(const struct gw_demo_dcm *ds, const char *impl_uid,
                                      const char *impl_name, struct base_buf *out,
                                      struct base_err *err);

/* Is `s` a valid DICOM UID (PS3.5 9.1: digits and dots, no empty or
 * leading-zero component, at most 64 characters)? */
bool gw_demo_dcm_uid_ok(const char *s);

#endif /* GATEWAY_DEMO_GW_DEMO_DICOM_H */
