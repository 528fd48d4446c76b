/*
 * fhir/base/conf.h — the configuration file format of the daemons.
 *
 * An INI-like text format (documented in docs/design/http.md, "Configuration
 * files"):
 *
 *   # comment
 *   [server]
 *   listen   = 127.0.0.1:8443
 *   max_body = 16M                      # size: 512, 64K, 16M, 1G
 *   idle     = 30s                      # duration: 500ms, 3s, 5m, 2h, 1d
 *   name     = "quoted, with \"escapes\" and # inside"
 *   allow    = a, "b, c", d             # list
 *   db_pass  = env:FHIRGATE_DB_PASSWORD # secret: env:NAME or file:PATH
 *
 *   [member "hospital-a"]               # a named section, once per name
 *   base = https://a.example/fhir
 *
 * The program declares what may appear (a schema of sections and typed
 * keys); parsing checks every line against it, so an unknown section or key,
 * a key repeated where that is not declared, a missing required key and a
 * value that does not parse as its type are all errors that name the file,
 * the line and the key — never the value (it may be a secret).
 *
 * base_conf_parse() is pure: bytes in, a queryable struct out, everything in
 * the caller's arena.  The getters add range checks and, for paths and
 * secrets, resolve them (relative paths against the file's directory;
 * secrets from the environment or a file).  A parsed conf is immutable and
 * may be read from several threads.
 */
#ifndef FHIR_BASE_CONF_H
#define FHIR_BASE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fhir/base/compat.h"
#include "fhir/base/err.h"
#include "fhir/base/str.h"

struct base_arena;
struct base_conf;
struct base_conf_section;

enum base_conf_type {
    BASE_CONF_STRING,   /* any text, bare or quoted */
    BASE_CONF_INT,      /* decimal integer (int64), optional sign */
    BASE_CONF_BOOL,     /* true|false|yes|no|on|off|1|0 (any case) */
    BASE_CONF_SIZE,     /* bytes: digits + optional B, K, KB, KiB, M, MB, MiB, G, GB, GiB (x1024) */
    BASE_CONF_DURATION, /* digits + ms|s|m|h|d ("0" alone is allowed) */
    BASE_CONF_PATH,     /* a file system path; relative to the config file's directory */
    BASE_CONF_LIST,     /* comma-separated items, each bare or quoted; may be empty */
    BASE_CONF_SECRET    /* env:NAME or file:PATH; the secret itself is never in the file */
};

enum base_conf_key_flags {
    BASE_CONF_REPEAT = 1u << 0,  /* the key may appear several times in one section */
    BASE_CONF_REQUIRED = 1u << 1 /* the key must appear in every such section */
};

struct base_conf_key {
    const char *name;         /* [A-Za-z0-9_.-]+ */
    enum base_conf_type type;
    unsigned flags;           /* enum base_conf_key_flags */
};

enum base_conf_section_flags {
    BASE_CONF_NAMED = 1u << 0,      /* written [type "name"]; may appear once per name */
    BASE_CONF_SECTION_REQUIRED = 1u << 1
};

struct base_conf_section_schema {
    const char *name; /* section type; "" declares keys allowed before any [section] */
    unsigned flags;   /* enum base_conf_section_flags */
    const struct base_conf_key *keys;
    size_t key_count;
};

struct base_conf_schema {
    const struct base_conf_section_schema *sections;
    size_t section_count;
};

struct base_conf_limits {
    size_t max_file;       /* bytes of the whole file */
    size_t max_line;       /* bytes of one line */
    size_t max_sections;   /* sections in the file */
    size_t max_entries;    /* key = value lines in the file */
    size_t max_list_items; /* items of one list value */
    size_t max_secret;     /* bytes of one secret */
};

/* Defaults from fhir/base/limits.h. */
struct base_conf_limits base_conf_limits_default(void);

/*
 * Parse configuration text against `schema`.  `text`/`len` need not be
 * NUL-terminated; `file_name` (may be NULL: "config") is used in error
 * locations and as the base for relative paths.  Everything lives in `a`.
 * Errors (err->where is "FILE:LINE"): BASE_E_PARSE for syntax (bad line,
 * unterminated quote, bad escape, control character, invalid UTF-8),
 * BASE_E_INVALID for schema violations (unknown section or key, repeated
 * key, duplicate section, missing required key or section, value not of
 * its type), BASE_E_LIMIT when a limit of `lim` (NULL = defaults) is
 * exceeded, BASE_E_NOMEM.
 */
BASE_MUST_CHECK int base_conf_parse(struct base_arena *a, const char *text, size_t len,
                                    const char *file_name, const struct base_conf_schema *schema,
                                    const struct base_conf_limits *lim, struct base_conf **out,
                                    struct base_err *err);

/* Read `path` (at most lim->max_file bytes) and parse it.  BASE_E_IO when
 * the file cannot be read; otherwise as base_conf_parse(). */
BASE_MUST_CHECK int base_conf_load(struct base_arena *a, const char *path,
                                   const struct base_conf_schema *schema,
                                   const struct base_conf_limits *lim, struct base_conf **out,
                                   struct base_err *err);

/*
 * Read a whole regular file of at most `max` bytes into `a` (NUL-terminated;
 * *out_len excludes the NUL): configuration files and the files they name
 * (certificates, keys, secrets).  Errors carry where = `where` and name the
 * file by `what`: BASE_E_IO (cannot open or read, not a regular file),
 * BASE_E_LIMIT (larger than max), BASE_E_NOMEM.
 */
BASE_MUST_CHECK int base_conf_read_file(struct base_arena *a, const char *path, size_t max,
                                        const char *where, const char *what, char **out,
                                        size_t *out_len, struct base_err *err);

/* The file name given to parse/load. */
const char *base_conf_file(const struct base_conf *c);

/* --- sections -------------------------------------------------------------
 * A section absent from the file is NULL; every getter accepts a NULL
 * section and then returns the default, so optional sections need no
 * special casing. */

/* The first section of type `type` (for unnamed sections: the one), or NULL. */
const struct base_conf_section *base_conf_section(const struct base_conf *c, const char *type);
/* How many sections of type `type` there are (named sections: one per name). */
size_t base_conf_section_count(const struct base_conf *c, const char *type);
/* The i-th section of type `type` in file order, or NULL. */
const struct base_conf_section *base_conf_section_at(const struct base_conf *c, const char *type,
                                                     size_t i);
/* The section's name ([member "a"] -> "a"), or NULL for an unnamed section. */
const char *base_conf_section_name(const struct base_conf_section *s);

/* --- getters --------------------------------------------------------------
 * Each returns BASE_OK with *out set to the value, or to `def` when the key
 * is absent.  For a key declared BASE_CONF_REPEAT the single-value getters
 * read the last occurrence.  A value outside [min, max] is BASE_E_INVALID
 * with err->where "FILE:LINE" and a message naming section and key.
 * Using a getter of another type than the key's declaration, or a key the
 * schema does not declare, is BASE_E_INTERNAL (a programming error). */

/* Whether the key appears, and how often. */
bool base_conf_has(const struct base_conf_section *s, const char *key);
size_t base_conf_count(const struct base_conf_section *s, const char *key);

/* STRING (also works for PATH and LIST keys: the text as written, unquoted).
 * The string lives as long as the conf's arena. */
BASE_MUST_CHECK int base_conf_str(const struct base_conf_section *s, const char *key,
                                  const char *def, const char **out, struct base_err *err);
/* The i-th occurrence of a repeatable STRING/PATH key (BASE_E_NOTFOUND past the end). */
BASE_MUST_CHECK int base_conf_str_at(const struct base_conf_section *s, const char *key, size_t i,
                                     const char **out, struct base_err *err);
BASE_MUST_CHECK int base_conf_int(const struct base_conf_section *s, const char *key, int64_t min,
                                  int64_t max, int64_t def, int64_t *out, struct base_err *err);
BASE_MUST_CHECK int base_conf_bool(const struct base_conf_section *s, const char *key, bool def,
                                   bool *out, struct base_err *err);
BASE_MUST_CHECK int base_conf_size(const struct base_conf_section *s, const char *key,
                                   uint64_t min, uint64_t max, uint64_t def, uint64_t *out,
                                   struct base_err *err);
/* DURATION in milliseconds. */
BASE_MUST_CHECK int base_conf_duration_ms(const struct base_conf_section *s, const char *key,
                                          uint64_t min_ms, uint64_t max_ms, uint64_t def_ms,
                                          uint64_t *out_ms, struct base_err *err);
/* PATH: absolute, or joined to the config file's directory; `def` (may be
 * NULL) is resolved the same way.  Allocated in `a`. */
BASE_MUST_CHECK int base_conf_path(const struct base_conf_section *s, const char *key,
                                   const char *def, struct base_arena *a, const char **out,
                                   struct base_err *err);
/* LIST: the items of every occurrence, in order (absent: 0 items, NULL). */
BASE_MUST_CHECK int base_conf_list(const struct base_conf_section *s, const char *key,
                                   const char *const **out_items, size_t *out_count,
                                   struct base_err *err);
/*
 * SECRET: read the value from the environment (env:NAME) or from a file
 * (file:PATH, relative to the config file; one trailing newline removed).
 * The bytes are copied into `a` and wiped when `a` is freed.  Absent key:
 * empty slice.  BASE_E_INVALID when the variable is unset or empty, BASE_E_IO
 * when the file cannot be read, BASE_E_LIMIT beyond lim->max_secret.  The
 * secret never appears in any message.
 */
BASE_MUST_CHECK int base_conf_secret(const struct base_conf_section *s, const char *key,
                                     struct base_arena *a, struct base_str *out,
                                     struct base_err *err);

/*
 * Report a problem with a value the program found after reading it (for
 * example two keys that contradict each other): sets err to `rc` with
 * where = the key's "FILE:LINE" (the section's when the key is absent, the
 * file's when `s` is NULL) and a message "SECTION.KEY: <fmt>".  Returns rc.
 */
int base_conf_fail(const struct base_conf_section *s, const char *key, struct base_err *err,
                   int rc, const char *fmt, ...) BASE_PRINTF(5, 6);

/* Value parsers used by the getters, exposed for tests and for programs that
 * read the same notations elsewhere (environment overrides).  They return
 * false on syntax error or overflow. */
bool base_conf_parse_size(struct base_str s, uint64_t *out);
bool base_conf_parse_duration_ms(struct base_str s, uint64_t *out_ms);
bool base_conf_parse_bool(struct base_str s, bool *out);

#endif /* FHIR_BASE_CONF_H */
