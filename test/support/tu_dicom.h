/*
 * test/support/tu_dicom.h — a strict reader of DICOM Part 10 files in
 * Explicit VR Little Endian, for tests: it checks what a writer must get
 * right (preamble and DICM prefix, File Meta group first with a correct
 * group length, ascending tags in every data set, even value lengths,
 * defined-length sequences and items that add up, known VRs) and hands
 * every element to a callback.
 */
#ifndef TEST_SUPPORT_TU_DICOM_H
#define TEST_SUPPORT_TU_DICOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tu_dcm_elem {
    uint32_t tag;
    char vr[3];
    const uint8_t *val;
    uint32_t len;
    int depth; /* 0 top level, 1 inside a sequence item, ... */
};

typedef void (*tu_dcm_fn)(void *ctx, const struct tu_dcm_elem *e);

/* 0 when the file is well-formed (fn, which may be NULL, saw every
 * element); -1 with a reason in why[128] otherwise. */
int tu_dcm_walk(const uint8_t *data, size_t len, tu_dcm_fn fn, void *ctx, char why[128]);

/* The top-level value of `tag` as text, padding (space/NUL) trimmed;
 * false when absent or the file is not well-formed. */
bool tu_dcm_string(const uint8_t *data, size_t len, uint32_t tag, char *out, size_t cap);

#endif /* TEST_SUPPORT_TU_DICOM_H */
