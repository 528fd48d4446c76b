#include "fhir/base/conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "fhir/base/rd.h"

/*
 * Parsing keeps, per section, the entries in file order.  Values are stored
 * decoded (quotes and escapes removed) and were checked against their
 * declared type, so the getters only convert and range-check.
 */

struct conf_entry {
    struct conf_entry *next;
    const struct base_conf_key *decl;
    const char *value;  /* decoded, NUL-terminated (LIST: the raw text) */
    const char **items; /* LIST only: this line's items */
    size_t item_count;
    const char **all;   /* LIST, first occurrence only: the items of every line */
    size_t all_count;
    size_t all_cap;
    unsigned line;
};

struct base_conf_section {
    struct base_conf_section *next;
    const struct base_conf *conf;
    const struct base_conf_section_schema *decl;
    const char *name; /* [type "name"]; NULL when unnamed */
    unsigned line;
    struct conf_entry *first;
    struct conf_entry *last;
};

struct base_conf {
    const char *file; /* as given, for messages */
    const char *dir;  /* directory for relative paths; NULL = current */
    struct base_conf_section *first;
    struct base_conf_section *last;
    size_t section_count;
    size_t entry_count;
    size_t max_secret;
};

struct parser {
    struct base_arena *a;
    const struct base_conf_schema *schema;
    const struct base_conf_limits *lim;
    struct base_conf *conf;
    struct base_conf_section *cur;
    unsigned line;
    struct base_err *err;
};

struct base_conf_limits
base_conf_limits_default(void)
{
    struct base_conf_limits l = {
        .max_file = BASE_LIMIT_CONF_MAX_FILE,
        .max_line = BASE_LIMIT_CONF_MAX_LINE,
        .max_sections = BASE_LIMIT_CONF_MAX_SECTIONS,
        .max_entries = BASE_LIMIT_CONF_MAX_ENTRIES,
        .max_list_items = BASE_LIMIT_CONF_MAX_LIST_ITEMS,
        .max_secret = BASE_LIMIT_CONF_MAX_SECRET,
    };

    return l;
}

static const char *
file_label(const struct base_conf *c)
{
    return (c != NULL && c->file != NULL) ? c->file : "config";
}

static int BASE_PRINTF(3, 4) fail(struct parser *p, int rc, const char *fmt, ...)
{
    char where[128];
    char msg[160];
    va_list ap;

    snprintf(where, sizeof(where), "%s:%u", file_label(p->conf), p->line);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return base_err_set(p->err, rc, rc == BASE_E_LIMIT ? "too-costly" : "invalid", where, "%s",
                        msg);
}

/* ------------------------------------------------------------ lexing -- */

static bool
is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
}

static void
skip_ws(struct base_rd *rd)
{
    char c;

    while (base_rd_peek(rd, &c) && (c == ' ' || c == '\t'))
        (void)base_rd_skip(rd, 1);
}

static struct base_str
take_name(struct base_rd *rd)
{
    size_t start = rd->off;
    char c;

    while (base_rd_peek(rd, &c) && is_name_char(c))
        (void)base_rd_skip(rd, 1);
    return base_str_make(rd->p + start, rd->off - start);
}

/* After a value: only blanks and an optional comment may follow. */
static bool
at_line_end(struct base_rd *rd)
{
    char c;

    skip_ws(rd);
    return !base_rd_peek(rd, &c) || c == '#';
}

/* A quoted string: the cursor is on the opening quote.  Escapes: \\ \" \n \t. */
static int
take_quoted(struct parser *p, struct base_rd *rd, char **out)
{
    size_t cap = base_rd_remaining(rd);
    char *buf = base_arena_alloc(p->a, cap + 1);
    size_t n = 0;
    char c;

    if (buf == NULL)
        return fail(p, BASE_E_NOMEM, "out of memory");
    (void)base_rd_skip(rd, 1);
    for (;;) {
        if (!base_rd_getc(rd, &c))
            return fail(p, BASE_E_PARSE, "unterminated quoted string");
        if (c == '"')
            break;
        if (c == '\\') {
            if (!base_rd_getc(rd, &c))
                return fail(p, BASE_E_PARSE, "unterminated quoted string");
            switch (c) {
            case '\\':
            case '"':
                break;
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            default:
                return fail(p, BASE_E_PARSE, "unknown escape sequence in quoted string");
            }
        }
        buf[n++] = c;
    }
    buf[n] = '\0';
    *out = buf;
    return BASE_OK;
}

/*
 * A bare value runs to the end of the line or to a '#' that follows a blank
 * (so "http://h/#x" keeps its '#'); `stop` (',' for list items, or NUL)
 * ends it too.  Trailing blanks are dropped.
 */
static struct base_str
take_bare(struct base_rd *rd, char stop)
{
    size_t start = rd->off;
    size_t end = start;
    char prev = ' ';
    char c;

    while (base_rd_peek(rd, &c)) {
        if (c == '#' && (prev == ' ' || prev == '\t'))
            break;
        if (stop != '\0' && c == stop)
            break;
        (void)base_rd_skip(rd, 1);
        if (c != ' ' && c != '\t')
            end = rd->off;
        prev = c;
    }
    return base_str_make(rd->p + start, end - start);
}

/* ---------------------------------------------------------- sections -- */

static const struct base_conf_section_schema *
find_section_decl(const struct base_conf_schema *schema, struct base_str type)
{
    for (size_t i = 0; i < schema->section_count; i++) {
        if (base_str_eq_cstr(type, schema->sections[i].name))
            return &schema->sections[i];
    }
    return NULL;
}

static const struct base_conf_key *
find_key_decl(const struct base_conf_section_schema *sd, const char *key, size_t key_len)
{
    for (size_t i = 0; i < sd->key_count; i++) {
        if (base_str_eq_cstr(base_str_make(key, key_len), sd->keys[i].name))
            return &sd->keys[i];
    }
    return NULL;
}

static const struct base_conf_section *
find_section(const struct base_conf *c, const struct base_conf_section_schema *decl,
             const char *name)
{
    for (const struct base_conf_section *s = c->first; s != NULL; s = s->next) {
        if (s->decl != decl)
            continue;
        if (name == NULL || (s->name != NULL && strcmp(s->name, name) == 0))
            return s;
    }
    return NULL;
}

static int
add_section(struct parser *p, const struct base_conf_section_schema *decl, const char *name)
{
    struct base_conf_section *s;

    if (p->conf->section_count >= p->lim->max_sections)
        return fail(p, BASE_E_LIMIT, "more than %zu sections", p->lim->max_sections);
    s = BASE_NEW(p->a, struct base_conf_section);
    if (s == NULL)
        return fail(p, BASE_E_NOMEM, "out of memory");
    s->conf = p->conf;
    s->decl = decl;
    s->name = name;
    s->line = p->line;
    if (p->conf->last != NULL)
        p->conf->last->next = s;
    else
        p->conf->first = s;
    p->conf->last = s;
    p->conf->section_count++;
    p->cur = s;
    return BASE_OK;
}

static int
parse_section_header(struct parser *p, struct base_rd *rd)
{
    const struct base_conf_section_schema *decl;
    const struct base_conf_section *dup;
    struct base_str type;
    char *name = NULL;
    char c;

    (void)base_rd_skip(rd, 1); /* '[' */
    skip_ws(rd);
    type = take_name(rd);
    if (type.len == 0)
        return fail(p, BASE_E_PARSE, "expected a section name after '['");
    skip_ws(rd);
    if (base_rd_peek(rd, &c) && c == '"') {
        TRY(take_quoted(p, rd, &name));
        if (name[0] == '\0')
            return fail(p, BASE_E_PARSE, "empty section name");
        skip_ws(rd);
    }
    if (!base_rd_getc(rd, &c) || c != ']')
        return fail(p, BASE_E_PARSE, "expected ']' to close the section header");
    if (!at_line_end(rd))
        return fail(p, BASE_E_PARSE, "unexpected text after the section header");
    decl = find_section_decl(p->schema, type);
    if (decl == NULL || decl->name[0] == '\0')
        return fail(p, BASE_E_INVALID, "unknown section [%.*s]", (int)(type.len > 64 ? 64 : type.len),
                    type.ptr);
    if ((decl->flags & BASE_CONF_NAMED) && name == NULL)
        return fail(p, BASE_E_INVALID, "section [%s] needs a name: [%s \"NAME\"]", decl->name,
                    decl->name);
    if (!(decl->flags & BASE_CONF_NAMED) && name != NULL)
        return fail(p, BASE_E_INVALID, "section [%s] takes no name", decl->name);
    dup = find_section(p->conf, decl, name);
    if (dup != NULL)
        return fail(p, BASE_E_INVALID, "section [%s] repeated (first at line %u)", decl->name,
                    dup->line);
    return add_section(p, decl, name);
}

/* ------------------------------------------------------------ values -- */

static bool
secret_syntax_ok(const char *v)
{
    struct base_str s = base_str_from_cstr(v);

    if (base_str_starts_with(s, "file:"))
        return s.len > 5;
    if (!base_str_starts_with(s, "env:") || s.len == 4)
        return false;
    for (size_t i = 4; i < s.len; i++) {
        char c = s.ptr[i];
        bool ok = c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  (i > 4 && c >= '0' && c <= '9');

        if (!ok)
            return false;
    }
    return true;
}

static const char *
type_name(enum base_conf_type t)
{
    switch (t) {
    case BASE_CONF_STRING:
        return "a string";
    case BASE_CONF_INT:
        return "an integer";
    case BASE_CONF_BOOL:
        return "a boolean (true or false)";
    case BASE_CONF_SIZE:
        return "a size (like 512, 64K, 16M)";
    case BASE_CONF_DURATION:
        return "a duration (like 500ms, 3s, 5m)";
    case BASE_CONF_PATH:
        return "a path";
    case BASE_CONF_LIST:
        return "a list";
    case BASE_CONF_SECRET:
        return "a secret reference (env:NAME or file:PATH)";
    default:
        return "a value";
    }
}

/* Does the decoded value parse as its declared type?  (Never logs it.) */
static bool
value_ok(enum base_conf_type t, const char *v)
{
    struct base_str s = base_str_from_cstr(v);
    int64_t i;
    uint64_t u;
    bool b;

    switch (t) {
    case BASE_CONF_STRING:
    case BASE_CONF_LIST:
        return true;
    case BASE_CONF_INT:
        return base_str_to_i64(s, &i);
    case BASE_CONF_BOOL:
        return base_conf_parse_bool(s, &b);
    case BASE_CONF_SIZE:
        return base_conf_parse_size(s, &u);
    case BASE_CONF_DURATION:
        return base_conf_parse_duration_ms(s, &u);
    case BASE_CONF_PATH:
        return s.len > 0;
    case BASE_CONF_SECRET:
        return secret_syntax_ok(v);
    default:
        return false;
    }
}

static int
parse_list(struct parser *p, struct base_rd *rd, struct conf_entry *e, const char *key)
{
    size_t cap = 4;
    char c;

    e->items = BASE_NEW_N(p->a, const char *, cap);
    if (e->items == NULL)
        return fail(p, BASE_E_NOMEM, "out of memory");
    if (at_line_end(rd))
        return BASE_OK; /* an empty list */
    for (;;) {
        char *item = NULL;

        skip_ws(rd);
        if (base_rd_peek(rd, &c) && c == '"') {
            TRY(take_quoted(p, rd, &item));
        } else {
            struct base_str bare = take_bare(rd, ',');

            if (bare.len == 0)
                return fail(p, BASE_E_PARSE, "empty item in list %s", key);
            item = base_str_dup0(p->a, bare);
            if (item == NULL)
                return fail(p, BASE_E_NOMEM, "out of memory");
        }
        if (e->item_count >= p->lim->max_list_items)
            return fail(p, BASE_E_LIMIT, "list %s has more than %zu items", key,
                        p->lim->max_list_items);
        if (e->item_count == cap) {
            e->items = base_arena_grow(p->a, e->items, cap, cap * 2, sizeof(*e->items));
            if (e->items == NULL)
                return fail(p, BASE_E_NOMEM, "out of memory");
            cap *= 2;
        }
        e->items[e->item_count++] = item;
        skip_ws(rd);
        if (base_rd_peek(rd, &c) && c == ',') {
            (void)base_rd_skip(rd, 1);
            continue;
        }
        if (!at_line_end(rd))
            return fail(p, BASE_E_PARSE, "expected ',' or end of line in list %s", key);
        return BASE_OK;
    }
}

static int
parse_scalar(struct parser *p, struct base_rd *rd, struct conf_entry *e, const char *key)
{
    char *v = NULL;
    char c;

    if (base_rd_peek(rd, &c) && c == '"') {
        TRY(take_quoted(p, rd, &v));
        if (!at_line_end(rd))
            return fail(p, BASE_E_PARSE, "unexpected text after the quoted value of %s", key);
    } else {
        v = base_str_dup0(p->a, take_bare(rd, '\0'));
        if (v == NULL)
            return fail(p, BASE_E_NOMEM, "out of memory");
    }
    e->value = v;
    return BASE_OK;
}

static const struct conf_entry *
find_entry(const struct base_conf_section *s, const struct base_conf_key *decl)
{
    for (const struct conf_entry *e = s->first; e != NULL; e = e->next) {
        if (e->decl == decl)
            return e;
    }
    return NULL;
}

/* A repeated list key adds its items to the first occurrence's `all`, so
 * that the getter (on an immutable, shared conf) needs no allocation. */
static int
join_list(struct parser *p, struct conf_entry *first, const struct conf_entry *e, const char *key)
{
    size_t need;

    if (!base_add_ok(first->all_count, e->item_count, &need) || need > p->lim->max_list_items)
        return fail(p, BASE_E_LIMIT, "list %s has more than %zu items", key,
                    p->lim->max_list_items);
    if (need > first->all_cap) {
        size_t cap = first->all_cap == 0 ? 4 : first->all_cap;

        while (cap < need)
            cap *= 2;
        first->all = base_arena_grow(p->a, first->all, first->all_count, cap, sizeof(*first->all));
        if (first->all == NULL)
            return fail(p, BASE_E_NOMEM, "out of memory");
        first->all_cap = cap;
    }
    for (size_t i = 0; i < e->item_count; i++)
        first->all[first->all_count++] = e->items[i];
    return BASE_OK;
}

/* Keys before any [section] belong to the schema's "" section, if any. */
static int
ensure_section(struct parser *p)
{
    struct base_str root = BASE_STR_LIT("");
    const struct base_conf_section_schema *decl;

    if (p->cur != NULL)
        return BASE_OK;
    decl = find_section_decl(p->schema, root);
    if (decl == NULL)
        return fail(p, BASE_E_INVALID, "key outside any [section]");
    return add_section(p, decl, NULL);
}

static int
parse_entry(struct parser *p, struct base_rd *rd)
{
    const struct base_conf_key *decl;
    const struct conf_entry *prev;
    struct conf_entry *e;
    struct base_str key;
    char c;
    char kbuf[72];

    key = take_name(rd);
    skip_ws(rd);
    if (key.len == 0 || !base_rd_getc(rd, &c) || c != '=')
        return fail(p, BASE_E_PARSE, "expected 'key = value', '[section]' or a comment");
    if (key.len > 64)
        return fail(p, BASE_E_INVALID, "key longer than 64 characters");
    snprintf(kbuf, sizeof(kbuf), "%.*s", (int)key.len, key.ptr);
    TRY(ensure_section(p));
    if (p->conf->entry_count >= p->lim->max_entries)
        return fail(p, BASE_E_LIMIT, "more than %zu entries", p->lim->max_entries);
    decl = find_key_decl(p->cur->decl, key.ptr, key.len);
    if (decl == NULL)
        return fail(p, BASE_E_INVALID, "unknown key %s in section [%s]", kbuf, p->cur->decl->name);
    prev = find_entry(p->cur, decl);
    if (prev != NULL && !(decl->flags & BASE_CONF_REPEAT))
        return fail(p, BASE_E_INVALID, "key %s repeated (first at line %u)", kbuf, prev->line);
    e = BASE_NEW(p->a, struct conf_entry);
    if (e == NULL)
        return fail(p, BASE_E_NOMEM, "out of memory");
    e->decl = decl;
    e->line = p->line;
    skip_ws(rd);
    if (decl->type == BASE_CONF_LIST) {
        size_t start = rd->off;

        TRY(parse_list(p, rd, e, kbuf));
        e->value = base_str_dup0(p->a, base_str_make(rd->p + start, rd->off - start));
        if (e->value == NULL)
            return fail(p, BASE_E_NOMEM, "out of memory");
        TRY(join_list(p, prev != NULL ? (struct conf_entry *)prev : e, e, kbuf));
    } else {
        TRY(parse_scalar(p, rd, e, kbuf));
        if (!value_ok(decl->type, e->value))
            return fail(p, BASE_E_INVALID, "%s: expected %s", kbuf, type_name(decl->type));
    }
    if (p->cur->last != NULL)
        p->cur->last->next = e;
    else
        p->cur->first = e;
    p->cur->last = e;
    p->conf->entry_count++;
    return BASE_OK;
}

/* ------------------------------------------------------------- lines -- */

static int
check_line_bytes(struct parser *p, struct base_str line)
{
    size_t bad;

    if (line.len > p->lim->max_line)
        return fail(p, BASE_E_LIMIT, "line longer than %zu bytes", p->lim->max_line);
    for (size_t i = 0; i < line.len; i++) {
        unsigned char c = (unsigned char)line.ptr[i];

        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(p, BASE_E_PARSE, "control character at column %zu", i + 1);
    }
    if (!base_utf8_valid(line.ptr, line.len, &bad))
        return fail(p, BASE_E_PARSE, "invalid UTF-8 at column %zu", bad + 1);
    return BASE_OK;
}

static int
parse_line(struct parser *p, struct base_str line)
{
    struct base_rd rd;
    char c;

    if (line.len > 0 && line.ptr[line.len - 1] == '\r')
        line.len--;
    TRY(check_line_bytes(p, line));
    base_rd_init(&rd, line.ptr, line.len);
    skip_ws(&rd);
    if (!base_rd_peek(&rd, &c) || c == '#')
        return BASE_OK;
    if (c == '[')
        return parse_section_header(p, &rd);
    return parse_entry(p, &rd);
}

/* Every required section and every required key of each present section. */
static int
check_required(struct parser *p)
{
    const struct base_conf_schema *sc = p->schema;

    for (size_t i = 0; i < sc->section_count; i++) {
        const struct base_conf_section_schema *sd = &sc->sections[i];

        if ((sd->flags & BASE_CONF_SECTION_REQUIRED) && find_section(p->conf, sd, NULL) == NULL)
            return fail(p, BASE_E_INVALID, "missing section [%s]", sd->name);
    }
    for (const struct base_conf_section *s = p->conf->first; s != NULL; s = s->next) {
        for (size_t k = 0; k < s->decl->key_count; k++) {
            const struct base_conf_key *kd = &s->decl->keys[k];

            if ((kd->flags & BASE_CONF_REQUIRED) && find_entry(s, kd) == NULL) {
                p->line = s->line;
                return fail(p, BASE_E_INVALID, "missing key %s in section [%s]", kd->name,
                            s->decl->name);
            }
        }
    }
    return BASE_OK;
}

static const char *
dir_of(struct base_arena *a, const char *file)
{
    const char *slash;

    if (file == NULL)
        return NULL;
    slash = strrchr(file, '/');
    if (slash == NULL)
        return NULL;
    if (slash == file)
        return "/";
    return base_arena_strndup(a, file, (size_t)(slash - file));
}

int
base_conf_parse(struct base_arena *a, const char *text, size_t len, const char *file_name,
                const struct base_conf_schema *schema, const struct base_conf_limits *lim,
                struct base_conf **out, struct base_err *err)
{
    struct base_conf_limits dl = base_conf_limits_default();
    struct parser p = {.a = a, .schema = schema, .lim = lim != NULL ? lim : &dl, .err = err};
    struct base_rd rd;

    *out = NULL;
    p.conf = BASE_NEW(a, struct base_conf);
    if (p.conf == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    p.conf->file = file_name != NULL ? base_arena_strdup(a, file_name) : NULL;
    p.conf->dir = dir_of(a, file_name);
    p.conf->max_secret = p.lim->max_secret;
    if (len > p.lim->max_file)
        return fail(&p, BASE_E_LIMIT, "file larger than %zu bytes", p.lim->max_file);
    base_rd_init(&rd, text, len);
    while (!base_rd_empty(&rd)) {
        p.line++;
        TRY(parse_line(&p, base_rd_take_until(&rd, '\n')));
    }
    p.line = p.line == 0 ? 1 : p.line;
    TRY(check_required(&p));
    *out = p.conf;
    return BASE_OK;
}

int
base_conf_read_file(struct base_arena *a, const char *path, size_t max, const char *where,
                    const char *what, char **out, size_t *out_len, struct base_err *err)
{
    struct stat st;
    char *buf;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc = BASE_OK;

    *out = NULL;
    if (fd < 0)
        return base_err_set(err, BASE_E_IO, "not-found", where, "could not open %s: %s", what,
                            strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = base_err_set(err, BASE_E_IO, "exception", where, "%s is not a regular file", what);
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        rc = base_err_set(err, BASE_E_LIMIT, "too-costly", where, "%s larger than %zu bytes",
                          what, max);
        goto out;
    }
    buf = base_arena_alloc(a, (size_t)st.st_size + 1);
    if (buf == NULL) {
        rc = base_err_set(err, BASE_E_NOMEM, "exception", where, "out of memory");
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = base_err_set(err, BASE_E_IO, "exception", where, "could not read %s", what);
            goto out;
        }
        got += (size_t)n;
    }
    buf[got] = '\0';
    *out = buf;
    if (out_len != NULL)
        *out_len = got;
out:
    close(fd);
    return rc;
}

int
base_conf_load(struct base_arena *a, const char *path, const struct base_conf_schema *schema,
               const struct base_conf_limits *lim, struct base_conf **out, struct base_err *err)
{
    struct base_conf_limits dl = base_conf_limits_default();
    char *text = NULL;
    size_t len = 0;

    *out = NULL;
    TRY(base_conf_read_file(a, path, (lim != NULL ? lim : &dl)->max_file, path,
                            "configuration file", &text, &len, err));
    return base_conf_parse(a, text, len, path, schema, lim, out, err);
}

const char *
base_conf_file(const struct base_conf *c)
{
    return file_label(c);
}

/* ---------------------------------------------------------- queries -- */

const struct base_conf_section *
base_conf_section(const struct base_conf *c, const char *type)
{
    return base_conf_section_at(c, type, 0);
}

size_t
base_conf_section_count(const struct base_conf *c, const char *type)
{
    size_t n = 0;

    for (const struct base_conf_section *s = c->first; s != NULL; s = s->next)
        n += strcmp(s->decl->name, type) == 0;
    return n;
}

const struct base_conf_section *
base_conf_section_at(const struct base_conf *c, const char *type, size_t i)
{
    for (const struct base_conf_section *s = c->first; s != NULL; s = s->next) {
        if (strcmp(s->decl->name, type) == 0 && i-- == 0)
            return s;
    }
    return NULL;
}

const char *
base_conf_section_name(const struct base_conf_section *s)
{
    return s != NULL ? s->name : NULL;
}

static int BASE_PRINTF(5, 0)
    vfail_at(const struct base_conf_section *s, unsigned line, struct base_err *err, int rc,
             const char *fmt, va_list ap)
{
    char where[128];
    char msg[160];

    if (s == NULL)
        snprintf(where, sizeof(where), "config");
    else
        snprintf(where, sizeof(where), "%s:%u", file_label(s->conf), line);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    return base_err_set(err, rc, rc == BASE_E_IO ? "exception" : "invalid", where, "%s", msg);
}

static int BASE_PRINTF(5, 6)
    fail_at(const struct base_conf_section *s, unsigned line, struct base_err *err, int rc,
            const char *fmt, ...)
{
    va_list ap;
    int r;

    va_start(ap, fmt);
    r = vfail_at(s, line, err, rc, fmt, ap);
    va_end(ap);
    return r;
}

/* The declaration of `key` in s's section type, checked against `types`
 * (a bit mask of 1u << enum base_conf_type). */
static int
lookup(const struct base_conf_section *s, const char *key, unsigned types,
       const struct base_conf_key **out, struct base_err *err)
{
    const struct base_conf_key *d = find_key_decl(s->decl, key, strlen(key));

    if (d == NULL)
        return fail_at(s, s->line, err, BASE_E_INTERNAL, "%s.%s: key not declared", s->decl->name,
                       key);
    if (!(types & (1u << d->type)))
        return fail_at(s, s->line, err, BASE_E_INTERNAL, "%s.%s: read as the wrong type",
                       s->decl->name, key);
    *out = d;
    return BASE_OK;
}

static const struct conf_entry *
last_entry(const struct base_conf_section *s, const struct base_conf_key *d)
{
    const struct conf_entry *found = NULL;

    for (const struct conf_entry *e = s->first; e != NULL; e = e->next) {
        if (e->decl == d)
            found = e;
    }
    return found;
}

/* The last occurrence of `key` (NULL when absent or s is NULL). */
static int
get_entry(const struct base_conf_section *s, const char *key, unsigned types,
          const struct conf_entry **out, struct base_err *err)
{
    const struct base_conf_key *d;

    *out = NULL;
    if (s == NULL)
        return BASE_OK;
    TRY(lookup(s, key, types, &d, err));
    *out = last_entry(s, d);
    return BASE_OK;
}

bool
base_conf_has(const struct base_conf_section *s, const char *key)
{
    return base_conf_count(s, key) > 0;
}

size_t
base_conf_count(const struct base_conf_section *s, const char *key)
{
    const struct base_conf_key *d;
    size_t n = 0;

    if (s == NULL)
        return 0;
    d = find_key_decl(s->decl, key, strlen(key));
    for (const struct conf_entry *e = s->first; d != NULL && e != NULL; e = e->next)
        n += e->decl == d;
    return n;
}

#define TYPE_BIT(t) (1u << (t))

int
base_conf_str(const struct base_conf_section *s, const char *key, const char *def,
              const char **out, struct base_err *err)
{
    const struct conf_entry *e;

    TRY(get_entry(s, key, TYPE_BIT(BASE_CONF_STRING) | TYPE_BIT(BASE_CONF_PATH), &e, err));
    *out = e != NULL ? e->value : def;
    return BASE_OK;
}

int
base_conf_str_at(const struct base_conf_section *s, const char *key, size_t i, const char **out,
                 struct base_err *err)
{
    const struct base_conf_key *d;

    *out = NULL;
    if (s == NULL)
        return base_err_set(err, BASE_E_NOTFOUND, "not-found", "config", "%s: no such entry",
                            key);
    TRY(lookup(s, key, TYPE_BIT(BASE_CONF_STRING) | TYPE_BIT(BASE_CONF_PATH), &d, err));
    for (const struct conf_entry *e = s->first; e != NULL; e = e->next) {
        if (e->decl == d && i-- == 0) {
            *out = e->value;
            return BASE_OK;
        }
    }
    return fail_at(s, s->line, err, BASE_E_NOTFOUND, "%s.%s: no such entry", s->decl->name, key);
}

static int
out_of_range(const struct base_conf_section *s, const struct conf_entry *e, struct base_err *err,
             const char *range)
{
    return fail_at(s, e->line, err, BASE_E_INVALID, "%s.%s: out of range (%s)", s->decl->name,
                   e->decl->name, range);
}

int
base_conf_int(const struct base_conf_section *s, const char *key, int64_t min, int64_t max,
              int64_t def, int64_t *out, struct base_err *err)
{
    const struct conf_entry *e;
    char range[64];
    int64_t v;

    TRY(get_entry(s, key, TYPE_BIT(BASE_CONF_INT), &e, err));
    *out = def;
    if (e == NULL)
        return BASE_OK;
    if (!base_str_to_i64(base_str_from_cstr(e->value), &v))
        return BASE_E_INTERNAL; /* checked while parsing */
    if (v < min || v > max) {
        snprintf(range, sizeof(range), "%lld..%lld", (long long)min, (long long)max);
        return out_of_range(s, e, err, range);
    }
    *out = v;
    return BASE_OK;
}

int
base_conf_bool(const struct base_conf_section *s, const char *key, bool def, bool *out,
               struct base_err *err)
{
    const struct conf_entry *e;

    TRY(get_entry(s, key, TYPE_BIT(BASE_CONF_BOOL), &e, err));
    *out = def;
    if (e != NULL && !base_conf_parse_bool(base_str_from_cstr(e->value), out))
        return BASE_E_INTERNAL;
    return BASE_OK;
}

static int
get_unsigned(const struct base_conf_section *s, const char *key, enum base_conf_type t,
             uint64_t min, uint64_t max, uint64_t def, uint64_t *out, struct base_err *err)
{
    const struct conf_entry *e;
    char range[64];
    uint64_t v;
    bool ok;

    TRY(get_entry(s, key, TYPE_BIT(t), &e, err));
    *out = def;
    if (e == NULL)
        return BASE_OK;
    ok = t == BASE_CONF_SIZE ? base_conf_parse_size(base_str_from_cstr(e->value), &v)
                             : base_conf_parse_duration_ms(base_str_from_cstr(e->value), &v);
    if (!ok)
        return BASE_E_INTERNAL;
    if (v < min || v > max) {
        if (t == BASE_CONF_SIZE)
            snprintf(range, sizeof(range), "%llu..%llu bytes", (unsigned long long)min,
                     (unsigned long long)max);
        else
            snprintf(range, sizeof(range), "%llums..%llums", (unsigned long long)min,
                     (unsigned long long)max);
        return out_of_range(s, e, err, range);
    }
    *out = v;
    return BASE_OK;
}

int
base_conf_size(const struct base_conf_section *s, const char *key, uint64_t min, uint64_t max,
               uint64_t def, uint64_t *out, struct base_err *err)
{
    return get_unsigned(s, key, BASE_CONF_SIZE, min, max, def, out, err);
}

int
base_conf_duration_ms(const struct base_conf_section *s, const char *key, uint64_t min_ms,
                      uint64_t max_ms, uint64_t def_ms, uint64_t *out_ms, struct base_err *err)
{
    return get_unsigned(s, key, BASE_CONF_DURATION, min_ms, max_ms, def_ms, out_ms, err);
}

static const char *
resolve_path(struct base_arena *a, const struct base_conf *c, const char *p)
{
    if (p == NULL || p[0] == '/' || c == NULL || c->dir == NULL)
        return p == NULL ? NULL : base_arena_strdup(a, p);
    return base_arena_sprintf(a, "%s/%s", c->dir, p);
}

int
base_conf_path(const struct base_conf_section *s, const char *key, const char *def,
               struct base_arena *a, const char **out, struct base_err *err)
{
    const struct conf_entry *e;
    const char *v;

    TRY(get_entry(s, key, TYPE_BIT(BASE_CONF_PATH), &e, err));
    v = e != NULL ? e->value : def;
    *out = NULL;
    if (v == NULL)
        return BASE_OK;
    *out = resolve_path(a, s != NULL ? s->conf : NULL, v);
    if (*out == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    return BASE_OK;
}

int
base_conf_list(const struct base_conf_section *s, const char *key, const char *const **out_items,
               size_t *out_count, struct base_err *err)
{
    const struct base_conf_key *d;
    const struct conf_entry *first;

    *out_items = NULL;
    *out_count = 0;
    if (s == NULL)
        return BASE_OK;
    TRY(lookup(s, key, TYPE_BIT(BASE_CONF_LIST), &d, err));
    first = find_entry(s, d);
    if (first != NULL && first->all_count > 0) {
        *out_items = first->all;
        *out_count = first->all_count;
    }
    return BASE_OK;
}

/* Wipe a secret's bytes when its arena is freed. */
struct secret_wipe {
    void *p;
    size_t len;
};

static void
wipe_secret(void *obj)
{
    struct secret_wipe *w = obj;

    explicit_bzero(w->p, w->len);
}

static int
secret_from_env(const struct base_conf_section *s, const struct conf_entry *e,
                struct base_arena *a, size_t max, struct base_str *out, struct base_err *err)
{
    const char *v = getenv(e->value + 4);
    size_t n = v != NULL ? strlen(v) : 0;
    char *copy;

    if (n == 0)
        return fail_at(s, e->line, err, BASE_E_INVALID,
                       "%s.%s: environment variable named there is unset or empty", s->decl->name,
                       e->decl->name);
    if (n > max)
        return fail_at(s, e->line, err, BASE_E_LIMIT, "%s.%s: secret longer than %zu bytes",
                       s->decl->name, e->decl->name, max);
    copy = base_arena_memdup(a, v, n + 1);
    if (copy == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    *out = base_str_make(copy, n);
    return BASE_OK;
}

static int
secret_from_file(const struct base_conf_section *s, const struct conf_entry *e,
                 struct base_arena *a, size_t max, struct base_str *out, struct base_err *err)
{
    const char *path = resolve_path(a, s->conf, e->value + 5);
    struct base_err ferr = {0};
    char *data = NULL;
    size_t n = 0;
    int rc;

    if (path == NULL)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    rc = base_conf_read_file(a, path, max, path, "secret file", &data, &n, &ferr);
    if (rc != BASE_OK)
        return fail_at(s, e->line, err, rc, "%s.%s: %s", s->decl->name, e->decl->name, ferr.msg);
    if (n > 0 && data[n - 1] == '\n')
        n--;
    if (n > 0 && data[n - 1] == '\r')
        n--;
    data[n] = '\0';
    if (n == 0)
        return fail_at(s, e->line, err, BASE_E_INVALID, "%s.%s: secret file is empty",
                       s->decl->name, e->decl->name);
    *out = base_str_make(data, n);
    return BASE_OK;
}

int
base_conf_secret(const struct base_conf_section *s, const char *key, struct base_arena *a,
                 struct base_str *out, struct base_err *err)
{
    const struct conf_entry *e;
    struct secret_wipe *w;

    *out = BASE_STR_NULL;
    TRY(get_entry(s, key, TYPE_BIT(BASE_CONF_SECRET), &e, err));
    if (e == NULL)
        return BASE_OK;
    if (strncmp(e->value, "env:", 4) == 0)
        TRY(secret_from_env(s, e, a, s->conf->max_secret, out, err));
    else
        TRY(secret_from_file(s, e, a, s->conf->max_secret, out, err));
    w = BASE_NEW(a, struct secret_wipe);
    if (w == NULL) {
        explicit_bzero((void *)(uintptr_t)out->ptr, out->len);
        *out = BASE_STR_NULL;
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    }
    w->p = (void *)(uintptr_t)out->ptr;
    w->len = out->len;
    return base_arena_on_free(a, wipe_secret, w);
}

int
base_conf_fail(const struct base_conf_section *s, const char *key, struct base_err *err, int rc,
               const char *fmt, ...)
{
    const struct conf_entry *e = NULL;
    char msg[160];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (s == NULL)
        return fail_at(NULL, 0, err, rc, "%s: %s", key != NULL ? key : "config", msg);
    if (key != NULL) {
        const struct base_conf_key *d = find_key_decl(s->decl, key, strlen(key));

        e = d != NULL ? last_entry(s, d) : NULL;
    }
    return fail_at(s, e != NULL ? e->line : s->line, err, rc, "%s.%s: %s", s->decl->name,
                   key != NULL ? key : "", msg);
}

/* ---------------------------------------------------- value notations -- */

static bool
digits_then(struct base_str s, uint64_t *num, struct base_str *unit)
{
    size_t i = 0;
    uint64_t v = 0;

    while (i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9') {
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(s.ptr[i] - '0');
        i++;
    }
    if (i == 0)
        return false;
    *num = v;
    *unit = base_str_sub(s, i, s.len - i);
    return true;
}

bool
base_conf_parse_size(struct base_str s, uint64_t *out)
{
    static const struct {
        const char *unit;
        unsigned shift;
    } units[] = {{"", 0},    {"b", 0},    {"k", 10},   {"kb", 10}, {"kib", 10},
                 {"m", 20},  {"mb", 20},  {"mib", 20}, {"g", 30},  {"gb", 30},
                 {"gib", 30}, {"t", 40},  {"tb", 40},  {"tib", 40}};
    struct base_str unit;
    uint64_t n;

    if (!digits_then(s, &n, &unit))
        return false;
    for (size_t i = 0; i < BASE_ARRAY_LEN(units); i++) {
        if (unit.len == strlen(units[i].unit) && base_str_case_eq_cstr(unit, units[i].unit)) {
            if (units[i].shift > 0 && n > (UINT64_MAX >> units[i].shift))
                return false;
            *out = n << units[i].shift;
            return true;
        }
    }
    return false;
}

bool
base_conf_parse_duration_ms(struct base_str s, uint64_t *out_ms)
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    struct base_str unit;
    uint64_t n;

    if (!digits_then(s, &n, &unit))
        return false;
    if (unit.len == 0) {
        /* a bare number is ambiguous except zero */
        *out_ms = 0;
        return n == 0;
    }
    for (size_t i = 0; i < BASE_ARRAY_LEN(units); i++) {
        if (base_str_eq_cstr(unit, units[i].unit))
            return base_mul_ok(n, units[i].ms, out_ms);
    }
    return false;
}

bool
base_conf_parse_bool(struct base_str s, bool *out)
{
    static const char *yes[] = {"true", "yes", "on", "1"};
    static const char *no[] = {"false", "no", "off", "0"};

    for (size_t i = 0; i < BASE_ARRAY_LEN(yes); i++) {
        if (s.len == strlen(yes[i]) && base_str_case_eq_cstr(s, yes[i])) {
            *out = true;
            return true;
        }
        if (s.len == strlen(no[i]) && base_str_case_eq_cstr(s, no[i])) {
            *out = false;
            return true;
        }
    }
    return false;
}
