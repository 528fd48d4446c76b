/*
 * Documents and attachments: ED/RP values -> Attachment; MDM (TXA + OBX)
 * -> DocumentReference; ED/RP OBX in results -> DiagnosticReport.
 * presentedForm (R4 Observation.value[x] has no Attachment).
 * v2-to-FHIR guide: Segment TXA to DocumentReference, datatype ED.
 */
#include <string.h>

#include "adapters/hl7v2/map_int.h"
#include "fhir/base/arena.h"
#include "fhir/model/fhir_model.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static struct base_str
base64_encode(struct mctx *c, const unsigned char *p, size_t n)
{
    size_t cap = (n + 2) / 3 * 4 + 1;
    char *out = base_arena_alloc(c->a, cap);
    size_t o = 0;

    if (out == NULL) {
        c->jb.failed = true;
        return BASE_STR_NULL;
    }
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;

        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = b64[(v >> 18) & 63];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = '\0';
    return base_str_make(out, o);
}

/* Base64 text as sent (wrapped, unpadded) -> canonical base64, and the
 * decoded size; empty when it is not base64. */
static struct base_str
base64_clean(struct mctx *c, struct base_str s, size_t *size)
{
    char *out = base_arena_alloc(c->a, s.len + 3);
    size_t o = 0;
    size_t pad = 0;

    if (out == NULL) {
        c->jb.failed = true;
        return BASE_STR_NULL;
    }
    for (size_t i = 0; i < s.len; i++) {
        char ch = s.ptr[i];

        if (ch == ' ' || ch == '\r' || ch == '\n' || ch == '\t')
            continue;
        if (ch == '=') {
            pad++;
        } else if (pad > 0 || strchr(b64, ch) == NULL || ch == '\0') {
            return BASE_STR_NULL;
        }
        out[o++] = ch;
    }
    /* RFC 4648 4: the data characters fix the padding; senders that pad
     * partly (or not at all) are completed, over-padding is not base64 */
    if ((o - pad) % 4 == 1 || pad > (4 - (o - pad) % 4) % 4)
        return BASE_STR_NULL;
    while (o % 4 != 0) {
        out[o++] = '=';
        pad++;
    }
    out[o] = '\0';
    *size = o / 4 * 3 - pad;
    return base_str_make(out, o);
}

static int
hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static bool
hex_decode(struct mctx *c, struct base_str s, unsigned char **out, size_t *n)
{
    unsigned char *buf = base_arena_alloc(c->a, s.len / 2 + 1);
    size_t o = 0;
    int hi = -1;

    if (buf == NULL) {
        c->jb.failed = true;
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        int v = hexval(s.ptr[i]);

        if (s.ptr[i] == ' ' || s.ptr[i] == '\r' || s.ptr[i] == '\n')
            continue;
        if (v < 0)
            return false;
        if (hi < 0) {
            hi = v;
        } else {
            buf[o++] = (unsigned char)(hi << 4 | v);
            hi = -1;
        }
    }
    *out = buf;
    *n = o;
    return hi < 0;
}

static const char *
content_type(struct mctx *c, struct base_str type, struct base_str sub)
{
    static const char *const map[][2] = {
        {"PDF", "application/pdf"},
        {"JPEG", "image/jpeg"},
        {"JPG", "image/jpeg"},
        {"PNG", "image/png"},
        {"GIF", "image/gif"},
        {"TIFF", "image/tiff"},
        {"RTF", "text/rtf"},
        {"HTML", "text/html"},
        {"XML", "application/xml"},
        {"DICOM", "application/dicom"},
        {"MSWORD", "application/msword"},
        {"WAV", "audio/wav"},
        {"BASIC", "audio/basic"},
        {"OCTET-STREAM", "application/octet-stream"},
    };

    if (base_str_find_chr(sub, '/', 0) > 0) {
        static const char mimetypes[] = "http://hl7.org/fhir/ValueSet/mimetypes";
        const struct fhir_model_valueset *vs =
            fhir_model_valueset_find(mimetypes, sizeof(mimetypes) - 1);
        char *lower = base_str_dup0(c->a, sub);

        for (size_t i = 0; lower != NULL && lower[i] != '\0'; i++) {
            if (lower[i] >= 'A' && lower[i] <= 'Z')
                lower[i] = (char)(lower[i] - 'A' + 'a');
        }
        /* a sender's own "type/subtype" is kept only when it is a media
         * type (BCP 13, the binding of Attachment.contentType) */
        if (lower != NULL && (vs == NULL || fhir_model_vs_check(vs, NULL, 0, lower,
                                                                strlen(lower)) == FHIR_VS_MEMBER))
            return lower;
        return "application/octet-stream";
    }
    for (size_t i = 0; i < BASE_ARRAY_LEN(map); i++) {
        if (base_str_case_eq_cstr(sub, map[i][0]))
            return map[i][1];
    }
    if (base_str_case_eq_cstr(type, "TEXT") || base_str_case_eq_cstr(sub, "PLAIN"))
        return "text/plain";
    return "application/octet-stream";
}

/* A reference pointer as sent -> an RFC 3986 URI: spaces, controls and
 * non-ASCII bytes percent-encoded (the IRI-to-URI step of RFC 3987 3.1);
 * FHIR `url` admits no whitespace.  Reserved characters stay as they are. */
static struct base_str
url_clean(struct mctx *c, struct base_str s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = base_arena_alloc(c->a, s.len * 3 + 1);
    size_t o = 0;

    if (out == NULL) {
        c->jb.failed = true;
        return BASE_STR_NULL;
    }
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.ptr[i];

        if (ch > 0x20 && ch < 0x7F) {
            out[o++] = (char)ch;
        } else {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    out[o] = '\0';
    return base_str_make(out, o);
}

/* An ED or RP repetition as an Attachment; empty object when unusable. */
static struct hl7v2_j *
attachment(struct mctx *c, const struct at *at, struct base_str rep, bool rp)
{
    struct hl7v2_j *att = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
    struct base_str type = map_txt(c, at, rep, rp ? 3 : 2, 0);
    struct base_str sub = map_txt(c, at, rep, rp ? 4 : 3, 0);
    struct base_str enc = map_txt(c, at, rep, 4, 0);
    struct base_str data = map_txt(c, at, rep, 5, 0);
    struct base_str b = BASE_STR_NULL;
    size_t size = 0;

    if (rp) {
        struct base_str url = map_txt(c, at, rep, 1, 0);

        if (!base_str_starts_with(url, "http://") && !base_str_starts_with(url, "https://")) {
            map_warn(c, at, "reference pointer is not a URL; not mapped");
            return att;
        }
        hl7v2_j_cstr(&c->jb, att, "contentType", content_type(c, type, sub));
        hl7v2_j_str(&c->jb, att, "url", url_clean(c, url));
        return att;
    }
    if (base_str_case_eq_cstr(enc, "Base64")) {
        b = base64_clean(c, data, &size);
    } else if (base_str_case_eq_cstr(enc, "Hex")) {
        unsigned char *bytes;

        if (hex_decode(c, data, &bytes, &size))
            b = base64_encode(c, bytes, size);
    } else if (enc.len == 0 || base_str_case_eq_cstr(enc, "A")) {
        size = data.len;
        b = base64_encode(c, (const unsigned char *)data.ptr, data.len);
    }
    if (b.len == 0) {
        map_warn(c, at, "encapsulated data is empty or not in its declared encoding; not mapped");
        return att;
    }
    hl7v2_j_cstr(&c->jb, att, "contentType", content_type(c, type, sub));
    hl7v2_j_str(&c->jb, att, "data", b);
    hl7v2_j_num(&c->jb, att, "size", hl7v2_j_fmt(&c->jb, "%zu", size));
    return att;
}

/* An ED/RP OBX with no report to carry it (VXU immunization certificates,
 * ADT and order attachments): R4 Observation has no Attachment value, so it
 * becomes a DocumentReference about the patient, typed by OBX-3 and keyed
 * by the patient, OBX-3, OBX-4 and the observation time. */
static struct ent *
standalone_document(struct mctx *c, const struct hl7v2_seg *obx)
{
    struct at at;
    struct hl7v2_j *att = attachment(c, &at, map_rep(c, obx, 5, 1, &at),
                                     map_is(map_field(c, obx, 2), "RP"));
    struct hl7v2_j *code;
    struct base_str key[4];
    struct base_str date;
    struct ent *e;

    if (!hl7v2_j_present(att))
        return NULL;
    code = map_cwe(c, &at, map_rep(c, obx, 3, 1, &at), "OBX-3");
    at = (struct at){obx, 14, 1};
    date = map_ts(c, &at, map_field(c, obx, 14), TS_INSTANT);
    if (date.len == 0) {
        at = (struct at){&c->m->segs[0], 7, 1};
        date = map_ts(c, &at, map_field(c, &c->m->segs[0], 7), TS_INSTANT);
    }
    key[0] = c->patient_key;
    key[1] = map_field(c, obx, 3);
    key[2] = map_field(c, obx, 4);
    key[3] = date;
    e = map_entry(c, "DocumentReference", key, 4, BASE_STR_NULL, BASE_STR_NULL);
    if (e == NULL || hl7v2_j_get(e->res, "status") != NULL)
        return NULL;
    hl7v2_j_cstr(&c->jb, e->res, "status", "current");
    hl7v2_j_add(e->res, "type", code);
    map_ref_to(c, e->res, "subject", c->patient);
    hl7v2_j_str(&c->jb, e->res, "date", date);
    hl7v2_j_add(hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, e->res, "content"), NULL), "attachment",
                att);
    if (c->encounter != NULL)
        hl7v2_j_add(hl7v2_j_arr(&c->jb, hl7v2_j_obj(&c->jb, e->res, "context"), "encounter"), NULL,
                    map_ref(c, c->encounter));
    return e;
}

struct ent *
map_report_attachment(struct mctx *c, const struct hl7v2_seg *obx)
{
    struct at at;
    struct base_str rep = map_rep(c, obx, 5, 1, &at);
    struct hl7v2_j *att;
    struct hl7v2_j *list;

    if (c->report == NULL)
        return standalone_document(c, obx);
    att = attachment(c, &at, rep, map_is(map_field(c, obx, 2), "RP"));
    if (!hl7v2_j_present(att))
        return NULL;
    {
        /* what it is (OBX-3): analysers send several ED in one report
         * (WBC, RBC, PLT histograms), told apart only by it */
        struct at cat;
        struct base_str code = map_rep(c, obx, 3, 1, &cat);
        struct base_str title = map_txt(c, &cat, code, 2, 0);

        hl7v2_j_str(&c->jb, att, "title", title.len > 0 ? title : map_txt(c, &cat, code, 1, 0));
    }
    list = hl7v2_j_get(c->report->res, "presentedForm");
    if (list == NULL)
        list = hl7v2_j_arr(&c->jb, c->report->res, "presentedForm");
    hl7v2_j_add(list, NULL, att);
    return NULL;
}

/* ------------------------------------------------------------------ MDM -- */

static const char *
doc_status(struct base_str s)
{
    if (map_is(s, "AU") || map_is(s, "LA"))
        return "final";
    if (s.len > 0)
        return "preliminary";
    return NULL;
}

void
map_txa(struct mctx *c, const struct hl7v2_seg *txa)
{
    struct at at;
    struct base_str sys = BASE_STR_NULL;
    struct base_str val = BASE_STR_NULL;
    struct hl7v2_j *id = map_ei(c, &at, map_rep(c, txa, 12, 1, &at), "document", NULL, &sys, &val);
    struct base_str avail = map_field(c, txa, 19);
    struct base_str key[3];
    struct base_str date;
    struct ent *e;

    map_doc_finish(c);
    if (c->patient == NULL)
        return;
    key[0] = id != NULL ? sys : c->patient_key;
    key[1] = id != NULL ? val : map_field(c, txa, 16);
    key[2] = id != NULL ? BASE_STR_NULL : map_field(c, txa, 6);
    e = map_entry(c, "DocumentReference", key, 3, sys, val);
    if (e == NULL || hl7v2_j_get(e->res, "status") != NULL)
        return;
    c->document = e;
    c->doc_attachments = hl7v2_j_arr(&c->jb, e->res, "content");
    hl7v2_j_add(e->res, "masterIdentifier", id);
    hl7v2_j_cstr(&c->jb, e->res, "status",
                 map_is(avail, "CA")   ? "entered-in-error"
                 : map_is(avail, "OB") ? "superseded"
                                       : "current");
    hl7v2_j_cstr(&c->jb, e->res, "docStatus", doc_status(map_field(c, txa, 17)));
    hl7v2_j_add(e->res, "type", map_cwe(c, &at, map_rep(c, txa, 2, 1, &at), "TXA-2"));
    map_ref_to(c, e->res, "subject", c->patient);
    at = (struct at){txa, 6, 1};
    date = map_ts(c, &at, map_field(c, txa, 6), TS_INSTANT);
    if (date.len == 0) {
        at.field = 4;
        date = map_ts(c, &at, map_field(c, txa, 4), TS_INSTANT);
    }
    hl7v2_j_str(&c->jb, e->res, "date", date);
    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, txa, 9); r <= nr_; r++)
        hl7v2_j_add(hl7v2_j_arr(&c->jb, e->res, "author"), NULL,
                    map_xcn_ref(c, &at, map_rep(c, txa, 9, r, &at)));
    if (c->encounter != NULL)
        hl7v2_j_add(hl7v2_j_arr(&c->jb, hl7v2_j_obj(&c->jb, e->res, "context"), "encounter"), NULL,
                    map_ref(c, c->encounter));
}

void
map_doc_obx(struct mctx *c, const struct hl7v2_seg *obx)
{
    struct base_str type = map_field(c, obx, 2);

    if (c->document == NULL)
        return;
    if (map_is(type, "ED") || map_is(type, "RP")) {
        struct at at;
        struct base_str rep = map_rep(c, obx, 5, 1, &at);
        struct hl7v2_j *att = attachment(c, &at, rep, type.ptr[0] == 'R');

        if (hl7v2_j_present(att))
            hl7v2_j_add(hl7v2_j_obj(&c->jb, c->doc_attachments, NULL), "attachment", att);
        return;
    }
    if (type.len > 0 && !map_is(type, "TX") && !map_is(type, "FT") && !map_is(type, "ST"))
        return; /* e.g. HD study identifiers: metadata, not document text */
    /* TX/FT/ST lines: one text/plain attachment for the whole document */
    for (uint32_t r = 1, nr_ = (uint32_t)map_nreps(c, obx, 5); r <= nr_; r++) {
        struct at at;
        struct base_str line = map_txt(c, &at, map_rep(c, obx, 5, r, &at), 0, 0);

        if ((c->doc_text->len > 0 && base_buf_putc(c->doc_text, '\n') != BASE_OK) ||
            base_buf_append_str(c->doc_text, line) != BASE_OK) {
            map_fail(c, BASE_E_LIMIT, "too-costly", &at, 0, "document text too large");
            return;
        }
    }
}

void
map_doc_finish(struct mctx *c)
{
    struct hl7v2_j *att;

    if (c->document != NULL && c->doc_text->len > 0) {
        att = hl7v2_j_obj(&c->jb, hl7v2_j_obj(&c->jb, c->doc_attachments, NULL), "attachment");
        hl7v2_j_cstr(&c->jb, att, "contentType", "text/plain; charset=utf-8");
        hl7v2_j_str(&c->jb, att, "data",
                    base64_encode(c, (const unsigned char *)c->doc_text->data, c->doc_text->len));
        hl7v2_j_num(&c->jb, att, "size", hl7v2_j_fmt(&c->jb, "%zu", c->doc_text->len));
    }
    if (c->document != NULL && !hl7v2_j_present(c->doc_attachments)) {
        /* content is 1..*: a document announced without its body */
        att = hl7v2_j_obj(&c->jb, hl7v2_j_obj(&c->jb, c->doc_attachments, NULL), "attachment");
        hl7v2_j_cstr(&c->jb, att, "contentType", "text/plain");
        hl7v2_j_cstr(&c->jb, att, "title", "document body not included in the message");
    }
    base_buf_reset(c->doc_text);
    c->document = NULL;
}
