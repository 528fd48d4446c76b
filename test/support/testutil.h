/*
 * test/support/testutil.h — helpers shared by unit and integration tests.
 */
#ifndef TEST_SUPPORT_TESTUTIL_H
#define TEST_SUPPORT_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Root of the shared corpus ($FHIRGATE_CORPUS, else ../shared/corpus). */
const char *tu_corpus_dir(void);
/* "<corpus>/<rel>" in a static per-thread buffer. */
const char *tu_corpus_path(const char *rel);
/* Whole file into a malloc'd buffer (NUL-terminated, len in *out_len);
 * NULL if it cannot be read. */
char *tu_read_file(const char *path, size_t *out_len);
/* Sorted list of regular files in dir whose name ends with `suffix` (NULL
 * for all); NULL-terminated malloc'd array of malloc'd full paths. */
char **tu_list_dir(const char *dir, const char *suffix, size_t *out_count);
void tu_free_list(char **list);
/* Absolute path of a built program ($FHIRGATE_BIN/<name>, else bin/<name>). */
const char *tu_bin(const char *name);

#endif /* TEST_SUPPORT_TESTUTIL_H */
