/*
 * test/support/jsonpath.h — reach into a JSON tree by a dotted path in
 * tests: "entry.0.resource.name.1.given.0" (numbers index arrays).
 */
#ifndef TEST_SUPPORT_JSONPATH_H
#define TEST_SUPPORT_JSONPATH_H

#include <stdbool.h>

#include <jansson.h>

/* The value at `path`, or NULL. */
json_t *tu_json_at(const json_t *v, const char *path);
/* The string at `path` (a real string, not a decimal node), or NULL. */
const char *tu_json_str(const json_t *v, const char *path);

/* Whether a transaction entry's conditional URL (Type?identifier=s|v) names
 * an identifier (or masterIdentifier) the resource itself carries -- else
 * the conditional update would never find it again. */
bool tu_entry_keyed(const json_t *entry);

/* The resources of `type` among a Bundle's entries: how many, and the k-th
 * (0-based) or NULL. */
size_t tu_bundle_count(const json_t *bundle, const char *type);
json_t *tu_bundle_nth(const json_t *bundle, const char *type, size_t k);

#endif /* TEST_SUPPORT_JSONPATH_H */
