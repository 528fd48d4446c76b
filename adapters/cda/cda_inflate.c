/*
 * Compressed ED content (HL7 v3 Data Types R1, ED.compression): a
 * nonXMLBody whose bytes are compressed before base64.  The codes:
 *   DF  deflate, RFC 1951 (raw: no header)        -> zlib windowBits -15
 *   GZ  gzip, RFC 1952                            -> zlib windowBits 16+15
 *   ZL  zlib, RFC 1950                            -> zlib windowBits 15
 *   Z   Unix compress (LZW)                       -> not supported
 * Inflated output is capped (cda_limits.max_inflated): a few kilobytes of
 * deflate can claim gigabytes (a "zip bomb").  zlib is libxml2's own
 * dependency; it is linked through pkg-config (zlib).
 */
#include <stdbool.h>
#include <string.h>

#include <zlib.h>

#include "adapters/cda/cda_int.h"
#include "fhir/base/buf.h"

/* An RFC 1950 header: CM 8 (deflate), a window of at most 32K, and the
 * two bytes a multiple of 31. */
static bool
zlib_header(const unsigned char *p, size_t len)
{
    return len >= 2 && (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 && (p[0] * 256u + p[1]) % 31u == 0;
}

static int
window_bits(const char *alg, const unsigned char *in, size_t len)
{
    /* DF is raw deflate, but Java's Deflater and .NET's ZLibStream -- what
     * many CDA generators compress with -- wrap it in a zlib header unless
     * told not to; such a stream under DF is read as zlib. */
    if (strcmp(alg, "DF") == 0)
        return zlib_header(in, len) ? MAX_WBITS : -MAX_WBITS;
    if (strcmp(alg, "GZ") == 0)
        return 32 + MAX_WBITS; /* gzip, or zlib by its header */
    if (strcmp(alg, "ZL") == 0)
        return MAX_WBITS;
    return 0;
}

/* Run the stream to its end, appending to `out` (bounded by out->max). */
static int
run(z_stream *zs, struct base_buf *out)
{
    unsigned char chunk[16384];
    int zrc;

    do {
        zs->next_out = chunk;
        zs->avail_out = sizeof(chunk);
        zrc = inflate(zs, Z_NO_FLUSH);
        if (zrc == Z_MEM_ERROR)
            return BASE_E_NOMEM;
        if (zrc != Z_OK && zrc != Z_STREAM_END)
            return BASE_E_PARSE; /* Z_DATA_ERROR, Z_NEED_DICT, Z_BUF_ERROR */
        TRY(base_buf_append(out, chunk, sizeof(chunk) - zs->avail_out));
        /* no progress and no end: the input was cut short */
        if (zrc == Z_OK && zs->avail_in == 0 && zs->avail_out != 0)
            return BASE_E_PARSE;
    } while (zrc != Z_STREAM_END);
    return zs->avail_in == 0 ? BASE_OK : BASE_E_PARSE; /* bytes after the end */
}

static int
inflate_with(int bits, const void *in, size_t in_len, struct base_buf *out)
{
    z_stream zs;
    int rc;

    memset(&zs, 0, sizeof(zs));
    zs.next_in = (z_const Bytef *)in;
    zs.avail_in = (uInt)in_len;
    if (inflateInit2(&zs, bits) != Z_OK)
        return BASE_E_NOMEM;
    rc = run(&zs, out);
    (void)inflateEnd(&zs);
    return rc;
}

int
cda_inflate(const char *alg, const void *in, size_t in_len, struct base_buf *out)
{
    int bits = alg != NULL ? window_bits(alg, in, in_len) : 0;
    int rc;

    if (bits == 0)
        return BASE_E_INVALID;
    if (in_len > (size_t)UINT32_MAX) /* zlib counts input in uInt */
        return BASE_E_LIMIT;
    rc = inflate_with(bits, in, in_len, out);
    /* a raw stream whose first bytes merely look like a zlib header */
    if (rc == BASE_E_PARSE && strcmp(alg, "DF") == 0 && bits == MAX_WBITS) {
        out->len = 0;
        rc = inflate_with(-MAX_WBITS, in, in_len, out);
    }
    return rc;
}
