/*
 * The gateway's paging cursor: where each member's next page starts,
 * carried by the client, so that any gateway node behind the load balancer
 * can continue a search (DESIGN.md §5: nodes keep no state).
 *
 * Token = base64url(payload || HMAC-SHA256(key, payload)[0..16]) with
 *   payload = u8 version | u8 key id | be64 expiry (Unix s) |
 *             SHA-256(binding)[0..16] | varint n |
 *             n × (varint id length, id, u8 flags, varint offset
 *                  [, varint url length, url when flags & LINK]).
 * The MAC is checked (in constant time) before anything else is believed;
 * a truncated 128-bit HMAC tag is the usual strength (RFC 2104 §5).  The
 * binding hash ties a cursor to the request it came from (user, patient,
 * query), so a cursor replayed against another search is refused.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "gateway/fed/fed_int.h"

#define CURSOR_VERSION 1
#define MAC_LEN        16
#define BIND_LEN       16
#define HEAD_LEN       (1 + 1 + 8 + BIND_LEN)
#define FLAG_LINK      1u

/* ---- base64url (RFC 4648 §5), no padding ---------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
b64_val(char c)
{
    const char *p = c != '\0' ? strchr(b64, c) : NULL;

    return p != NULL ? (int)(p - b64) : -1;
}

static int
b64_encode(struct base_buf *out, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        size_t k = n - i;

        if (k > 1)
            v |= (uint32_t)p[i + 1] << 8;
        if (k > 2)
            v |= p[i + 2];
        char q[4] = {b64[v >> 18], b64[(v >> 12) & 63], b64[(v >> 6) & 63], b64[v & 63]};
        TRY(base_buf_append(out, q, k >= 3 ? 4 : k + 1));
    }
    return BASE_OK;
}

/* Decode into out (cap bytes); returns the length or -1. */
static long
b64_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;

    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = b64_val(s[i]);

        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return acc != 0 ? -1 : (long)o; /* non-canonical trailing bits */
}

/* ---- payload ----------------------------------------------------------------------- */

static int
put_varint(struct base_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        TRY(base_buf_putc(b, (char)(0x80 | (v & 0x7f))));
        v >>= 7;
    }
    return base_buf_putc(b, (char)v);
}

static void
binding_hash(const char *binding, unsigned char out[BIND_LEN])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    const char *b = binding != NULL ? binding : "";

    SHA256((const unsigned char *)b, strlen(b), md);
    memcpy(out, md, BIND_LEN);
}

static int
mac(const unsigned char *key, const unsigned char *p, size_t n, unsigned char out[MAC_LEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (HMAC(EVP_sha256(), key, GW_FED_CURSOR_KEY_LEN, p, n, md, &len) == NULL || len < MAC_LEN)
        return BASE_E_INTERNAL;
    memcpy(out, md, MAC_LEN);
    return BASE_OK;
}

static int
put_payload(struct base_buf *b, const struct gw_fed_cursor_keys *k, const struct gw_fed_cursor *c,
            const char *binding, int64_t expires)
{
    unsigned char head[HEAD_LEN];
    size_t n_live = 0;

    head[0] = CURSOR_VERSION;
    head[1] = k->current_id;
    for (int i = 0; i < 8; i++)
        head[2 + i] = (unsigned char)((uint64_t)expires >> (56 - 8 * i));
    binding_hash(binding, head + 10);
    TRY(base_buf_append(b, head, sizeof(head)));
    for (size_t i = 0; i < c->n_members; i++)
        n_live += !c->members[i].done;
    TRY(put_varint(b, n_live));
    for (size_t i = 0; i < c->n_members; i++) {
        const struct gw_fed_member_state *m = &c->members[i];

        if (m->done) /* members not named are not asked again */
            continue;
        TRY(put_varint(b, strlen(m->member_id)));
        TRY(base_buf_append_cstr(b, m->member_id));
        TRY(base_buf_putc(b, m->page_url != NULL ? FLAG_LINK : 0));
        TRY(put_varint(b, m->offset));
        if (m->page_url != NULL) {
            TRY(put_varint(b, strlen(m->page_url)));
            TRY(base_buf_append_cstr(b, m->page_url));
        }
    }
    return BASE_OK;
}

int
gw_fed_cursor_encode(struct base_arena *a, const struct gw_fed_cursor_keys *k,
                     const struct gw_fed_cursor *c, const char *binding, unsigned ttl_s,
                     int64_t now, char **token, struct base_err *err)
{
    struct base_buf raw;
    struct base_buf out;
    unsigned char tag[MAC_LEN];
    int rc;

    *token = NULL;
    base_buf_init(&raw, BASE_LIMIT_FED_MAX_CURSOR);
    base_buf_init(&out, BASE_LIMIT_FED_MAX_CURSOR);
    rc = put_payload(&raw, k, c, binding,
                     now + (int64_t)(ttl_s != 0 ? ttl_s : BASE_LIMIT_FED_CURSOR_TTL_S));
    if (rc == BASE_OK)
        rc = mac(k->current, (const unsigned char *)raw.data, raw.len, tag);
    if (rc == BASE_OK)
        rc = base_buf_append(&raw, tag, sizeof(tag));
    if (rc == BASE_OK)
        rc = b64_encode(&out, (const unsigned char *)raw.data, raw.len);
    if (rc == BASE_OK && (*token = base_buf_dup0(&out, a)) == NULL)
        rc = BASE_E_NOMEM;
    base_buf_fini(&raw);
    base_buf_fini(&out);
    if (rc == BASE_E_LIMIT)
        return base_err_set(err, rc, "too-costly", "_cursor", "paging state too large");
    if (rc != BASE_OK)
        return base_err_set(err, rc, "exception", "_cursor", "cannot make a paging cursor");
    return BASE_OK;
}

/* ---- decoding --------------------------------------------------------------------- */

struct rd {
    const unsigned char *p;
    const unsigned char *end;
};

static bool
get_varint(struct rd *r, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64 && r->p < r->end; shift += 7) {
        unsigned char c = *r->p++;

        *v |= (uint64_t)(c & 0x7f) << shift;
        if ((c & 0x80) == 0)
            return true;
    }
    return false;
}

static const char *
get_str(struct base_arena *a, struct rd *r, size_t max)
{
    uint64_t n;

    if (!get_varint(r, &n) || n > max || n > (uint64_t)(r->end - r->p))
        return NULL;
    const char *s = base_arena_strndup(a, (const char *)r->p, (size_t)n);
    r->p += n;
    return s;
}

static int
parse_members(struct base_arena *a, struct rd *r, struct gw_fed_cursor *out)
{
    uint64_t n;

    if (!get_varint(r, &n) || n > BASE_LIMIT_FED_MAX_REQUESTS)
        return BASE_E_INVALID;
    out->members = BASE_NEW_N(a, struct gw_fed_member_state, n == 0 ? 1 : (size_t)n);
    if (out->members == NULL)
        return BASE_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        struct gw_fed_member_state *m = &out->members[i];

        m->member_id = get_str(a, r, 256);
        if (m->member_id == NULL || r->p >= r->end)
            return BASE_E_INVALID;
        unsigned flags = *r->p++;
        if ((flags & ~FLAG_LINK) != 0 || !get_varint(r, &m->offset))
            return BASE_E_INVALID;
        if ((flags & FLAG_LINK) != 0 &&
            (m->page_url = get_str(a, r, BASE_LIMIT_FED_MAX_CURSOR)) == NULL)
            return BASE_E_INVALID;
    }
    out->n_members = (size_t)n;
    return r->p == r->end ? BASE_OK : BASE_E_INVALID;
}

static int
bad(struct base_err *err, const char *why)
{
    return base_err_set(err, BASE_E_INVALID, "invalid", "_cursor", "%s", why);
}

int
gw_fed_cursor_decode(struct base_arena *a, const struct gw_fed_cursor_keys *k, const char *token,
                     const char *binding, int64_t now, struct gw_fed_cursor *out,
                     struct base_err *err)
{
    unsigned char raw[BASE_LIMIT_FED_MAX_CURSOR];
    unsigned char tag[MAC_LEN];
    unsigned char bind[BIND_LEN];
    size_t tlen = token != NULL ? strlen(token) : 0;
    long n;
    const unsigned char *key;

    memset(out, 0, sizeof(*out));
    if (tlen == 0 || tlen > BASE_LIMIT_FED_MAX_CURSOR ||
        (n = b64_decode(token, tlen, raw, sizeof(raw))) < HEAD_LEN + 1 + MAC_LEN)
        return bad(err, "malformed paging cursor");
    n -= MAC_LEN;
    if (raw[1] == k->current_id)
        key = k->current;
    else if (k->has_previous && raw[1] == k->previous_id)
        key = k->previous;
    else
        return bad(err, "paging cursor signed with an unknown key");
    if (mac(key, raw, (size_t)n, tag) != BASE_OK || CRYPTO_memcmp(tag, raw + n, MAC_LEN) != 0)
        return bad(err, "paging cursor signature does not match");
    if (raw[0] != CURSOR_VERSION)
        return bad(err, "unknown paging cursor version");
    uint64_t exp = 0;
    for (int i = 0; i < 8; i++)
        exp = exp << 8 | raw[2 + i];
    out->expires = (int64_t)exp;
    if (out->expires <= now)
        return bad(err, "paging cursor expired");
    binding_hash(binding, bind);
    if (CRYPTO_memcmp(bind, raw + 10, BIND_LEN) != 0)
        return bad(err, "paging cursor belongs to another search");
    struct rd r = {raw + HEAD_LEN, raw + n};
    int rc = parse_members(a, &r, out);
    if (rc == BASE_E_NOMEM)
        return base_err_set(err, rc, "exception", "_cursor", "out of memory");
    if (rc != BASE_OK)
        return bad(err, "malformed paging cursor");
    return BASE_OK;
}

const struct gw_fed_member_state *
gw_fed_cursor_find(const struct gw_fed_cursor *c, const char *member_id)
{
    for (size_t i = 0; c != NULL && i < c->n_members; i++) {
        if (strcmp(c->members[i].member_id, member_id) == 0)
            return &c->members[i];
    }
    return NULL;
}

char *
gw_fed_page_url(struct base_arena *a, const char *base, const char *first_url,
                const struct gw_fed_member_state *st)
{
    if (st == NULL)
        return base_arena_strdup(a, first_url);
    if (st->done)
        return NULL;
    if (st->page_url != NULL) {
        size_t n = strlen(base);

        while (n > 0 && base[n - 1] == '/')
            n--;
        return base_arena_sprintf(a, "%.*s%s", (int)n, base, st->page_url);
    }
    if (st->offset == 0)
        return base_arena_strdup(a, first_url);
    return base_arena_sprintf(a, "%s%c_offset=%llu", first_url,
                              strchr(first_url, '?') != NULL ? '&' : '?',
                              (unsigned long long)st->offset);
}
