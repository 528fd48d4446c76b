/*
 * test/support/jsonpath.h — reach into a JSON tree by a dotted path in
 * tests: "entry.0.resource.name.1.given.0" (numbers index arrays).
 */
#ifndef TEST_SUPPORT_JSONPATH_H
#define TEST_SUPPORT_JSONPATH_H

#include <jansson.h>

/* The value at `path`, or NULL. */
json_t *tu_json_at(const json_t *v, const char *path);
/* The string at `path` (a real string, not a decimal node), or NULL. */
const char *tu_json_str(const json_t *v, const char *path);

#endif /* TEST_SUPPORT_JSONPATH_H */
