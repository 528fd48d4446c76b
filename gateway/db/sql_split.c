/*
 * Split an SQL script into statements, following PostgreSQL's lexical rules
 * (docs "SQL Syntax / Lexical Structure", 4.1): standard strings '…' with ''
 * for a quote, escape strings E'…' with backslash escapes, quoted
 * identifiers "…" with "", dollar-quoted bodies $tag$…$tag$ (a tag is an
 * identifier without $; $1 is a parameter, and $ inside an identifier is
 * part of it), -- comments to the end of the line and nestable block
 * comments.  Each statement then runs through the extended query protocol,
 * which takes one statement at a time.
 */
#include "gateway/db/gw_db.h"

#include <stdio.h>
#include <string.h>

struct lex {
    const char *s;
    size_t len;
    size_t i;
    unsigned line;
    struct base_err *err;
};

static bool
ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool
ident_char(unsigned char c)
{
    return ident_start(c) || (c >= '0' && c <= '9') || c == '$';
}

static void
advance(struct lex *lx)
{
    if (lx->s[lx->i] == '\n')
        lx->line++;
    lx->i++;
}

static int
unterminated(struct lex *lx, unsigned line, const char *what)
{
    char where[32];

    snprintf(where, sizeof(where), "line %u", line);
    return base_err_set(lx->err, BASE_E_PARSE, "structure", where, "unterminated %s", what);
}

/* At the opening quote `q`; backslash escapes when `escapes`. */
static int
skip_quoted(struct lex *lx, char q, bool escapes, const char *what)
{
    unsigned line = lx->line;

    advance(lx);
    while (lx->i < lx->len) {
        char c = lx->s[lx->i];

        if (escapes && c == '\\' && lx->i + 1 < lx->len) {
            advance(lx);
            advance(lx);
            continue;
        }
        advance(lx);
        if (c != q)
            continue;
        if (lx->i < lx->len && lx->s[lx->i] == q) {
            advance(lx); /* doubled quote */
            continue;
        }
        return BASE_OK;
    }
    return unterminated(lx, line, what);
}

static int
skip_block_comment(struct lex *lx)
{
    unsigned line = lx->line;
    unsigned depth = 0;

    while (lx->i + 1 < lx->len) {
        if (lx->s[lx->i] == '/' && lx->s[lx->i + 1] == '*') {
            depth++;
            advance(lx);
            advance(lx);
        } else if (lx->s[lx->i] == '*' && lx->s[lx->i + 1] == '/') {
            depth--;
            advance(lx);
            advance(lx);
            if (depth == 0)
                return BASE_OK;
        } else {
            advance(lx);
        }
    }
    return unterminated(lx, line, "block comment");
}

static void
skip_line_comment(struct lex *lx)
{
    while (lx->i < lx->len && lx->s[lx->i] != '\n')
        advance(lx);
}

/* Length of the dollar-quote delimiter starting at lx->i ("$tag$"), or 0. */
static size_t
dollar_tag(const struct lex *lx)
{
    size_t j = lx->i + 1;

    if (j < lx->len && lx->s[j] == '$')
        return 2;
    if (j >= lx->len || !ident_start((unsigned char)lx->s[j]))
        return 0;
    while (j < lx->len && ident_char((unsigned char)lx->s[j]) && lx->s[j] != '$')
        j++;
    if (j < lx->len && lx->s[j] == '$')
        return j - lx->i + 1;
    return 0;
}

static int
skip_dollar(struct lex *lx, size_t tag_len)
{
    unsigned line = lx->line;
    const char *tag = lx->s + lx->i;

    for (size_t k = 0; k < tag_len; k++)
        advance(lx);
    while (lx->i < lx->len) {
        if (lx->s[lx->i] == '$' && lx->len - lx->i >= tag_len &&
            memcmp(lx->s + lx->i, tag, tag_len) == 0) {
            for (size_t k = 0; k < tag_len; k++)
                advance(lx);
            return BASE_OK;
        }
        advance(lx);
    }
    return unterminated(lx, line, "dollar-quoted body");
}

/* Is the quote at lx->i the start of an E'…' escape string? */
static bool
escape_string_prefix(const struct lex *lx)
{
    size_t i = lx->i;

    if (i == 0 || (lx->s[i - 1] != 'E' && lx->s[i - 1] != 'e'))
        return false;
    return i == 1 || !ident_char((unsigned char)lx->s[i - 2]);
}

static int
skip_token(struct lex *lx)
{
    char c = lx->s[lx->i];
    size_t tag;

    if (c == '\'')
        return skip_quoted(lx, '\'', escape_string_prefix(lx), "string");
    if (c == '"')
        return skip_quoted(lx, '"', false, "quoted identifier");
    if (c == '$' && (lx->i == 0 || !ident_char((unsigned char)lx->s[lx->i - 1])) &&
        (tag = dollar_tag(lx)) > 0)
        return skip_dollar(lx, tag);
    if (ident_char((unsigned char)c)) {
        /* a whole identifier or keyword, so that $ inside it stays in it */
        while (lx->i < lx->len && ident_char((unsigned char)lx->s[lx->i]))
            advance(lx);
        return BASE_OK;
    }
    advance(lx);
    return BASE_OK;
}

int
gw_db_sql_split(const char *script, size_t len, size_t max_statements, gw_db_stmt_fn fn, void *ctx,
                struct base_err *err)
{
    struct lex lx = {script, len, 0, 1, err};
    size_t start = 0;
    size_t end = 0; /* end of the last content token */
    unsigned start_line = 0;
    bool has_content = false;
    size_t count = 0;

    while (lx.i <= lx.len) {
        char c = lx.i < lx.len ? lx.s[lx.i] : ';';
        char n = lx.i + 1 < lx.len ? lx.s[lx.i + 1] : '\0';

        if (c == ';') {
            if (has_content) {
                char where[32];

                snprintf(where, sizeof(where), "line %u", start_line);
                ENSURE(count < max_statements, err, BASE_E_LIMIT, "too-costly", where,
                       "script exceeds %zu statements", max_statements);
                count++;
                TRY(fn(ctx, lx.s + start, end - start, start_line));
            }
            has_content = false;
            lx.i++;
            continue;
        }
        if (c == '-' && n == '-') {
            skip_line_comment(&lx);
            continue;
        }
        if (c == '/' && n == '*') {
            TRY(skip_block_comment(&lx));
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            advance(&lx);
            continue;
        }
        if (!has_content) {
            has_content = true;
            start = lx.i;
            start_line = lx.line;
        }
        TRY(skip_token(&lx));
        end = lx.i;
    }
    return BASE_OK;
}
