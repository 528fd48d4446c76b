/*
 * The whole document -> DocumentReference (C-CDA on FHIR; IHE MHD's
 * DocumentReference for CDA): the original bytes as an attachment of type
 * application/hl7-cda+xml, so nothing that was not mapped is lost, and a
 * nonXMLBody (CDA R2 section 4.3.3: PDF, text, or a reference) as a
 * second attachment.
 */
#include <string.h>

#include <openssl/evp.h>

#include "adapters/cda/cda_int.h"
#include "fhir/base/buf.h"

/* The Attachment for `data` (already raw bytes, at most `max`). */
static json_t *
attachment(const char *type, const void *data, size_t len, size_t max)
{
    char hash[29];
    json_t *a = json_object();

    adapter_sha1_b64(data, len, hash);
    if (a == NULL || adapter_jset_str(a, "contentType", type) != BASE_OK ||
        adapter_jset(a, "data", adapter_base64_json(data, len, max)) != BASE_OK ||
        adapter_jset(a, "size", json_integer((json_int_t)len)) != BASE_OK ||
        adapter_jset_str(a, "hash", hash) != BASE_OK) {
        json_decref(a);
        return NULL;
    }
    return a;
}

/* Base64 text of a B64 nonXMLBody, white space removed, decoded into `raw`
 * (so size and hash describe the real content).  false when not base64. */
static bool
decode_b64(const char *text, struct base_buf *clean, struct base_buf *raw)
{
    size_t pad = 0;
    int n;

    for (const char *p = text; *p != '\0'; p++) {
        if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
            continue;
        if (base_buf_putc(clean, *p) != BASE_OK)
            return false;
    }
    if (clean->len == 0 || clean->len % 4 != 0 || clean->len > INT32_MAX ||
        base_buf_reserve(raw, clean->len / 4 * 3 + 1) != BASE_OK)
        return false;
    n = EVP_DecodeBlock((unsigned char *)raw->data, (const unsigned char *)clean->data,
                        (int)clean->len);
    if (n < 0)
        return false;
    /* EVP_DecodeBlock counts the bytes that padding stands for */
    pad = (clean->data[clean->len - 1] == '=') + (clean->data[clean->len - 2] == '=');
    raw->len = (size_t)n - pad;
    return true;
}

/* A compressed body (ED compression, B64 by necessity): inflated into an
 * attachment of its media type.  What cannot be inflated -- an algorithm
 * zlib does not speak (Z), a broken or truncated stream, more than
 * max_inflated bytes -- is a warning naming the body; the whole document,
 * which holds the bytes, is attached anyway. */
static json_t *
inflated_attachment(struct cda_ctx *c, const xmlNode *text, const char *type, const char *alg,
                    const struct base_buf *raw)
{
    struct base_buf out;
    json_t *a = NULL;
    int rc;

    base_buf_init(&out, c->lim->max_inflated);
    rc = cda_inflate(alg, raw->data, raw->len, &out);
    switch (rc) {
    case BASE_OK:
        a = attachment(type, out.len > 0 ? out.data : "", out.len, c->lim->max_inflated);
        if (a == NULL)
            (void)cda_nomem(c);
        break;
    case BASE_E_INVALID:
        (void)cda_warn(c, text, "not-supported",
                       "nonXMLBody compression is not DF, GZ or ZL; not attached on its own (it "
                       "stays in the attached document)");
        break;
    case BASE_E_LIMIT:
        (void)cda_warn(c, text, "too-costly",
                       "compressed nonXMLBody inflates beyond the configured limit; not "
                       "attached on its own (it stays in the attached document)");
        break;
    case BASE_E_NOMEM:
        (void)cda_nomem(c);
        break;
    default:
        (void)cda_warn(c, text, "invalid",
                       "compressed nonXMLBody is not a valid stream of its compression; not "
                       "attached on its own (it stays in the attached document)");
        break;
    }
    base_buf_fini(&out);
    return a;
}

static json_t *
body_attachment(struct cda_ctx *c, const xmlNode *text)
{
    const char *type = cda_attr(c, text, "mediaType");
    const char *repr = cda_attr(c, text, "representation");
    const char *alg = cda_attr(c, text, "compression");
    const char *url = cda_attr(c, cda_child(text, "reference"), "value");
    struct base_buf clean;
    struct base_buf raw;
    json_t *a = NULL;

    if (type == NULL)
        type = "text/plain"; /* CDA R2: the ED default media type */
    if (url != NULL && url[0] != '\0')
        return json_pack("{s:s,s:s}", "contentType", type, "url", url);
    xmlChar *content = xmlNodeGetContent(text);
    if (content == NULL)
        return NULL;
    if (cda_blank((const char *)content)) { /* an empty body: nothing to attach */
        xmlFree(content);
        return NULL;
    }
    base_buf_init(&clean, c->lim->max_doc);
    base_buf_init(&raw, c->lim->max_doc);
    if (alg != NULL && (repr == NULL || strcmp(repr, "B64") != 0)) {
        /* compressed bytes cannot be XML text: ED requires B64 with them */
        (void)cda_warn(c, text, "invalid",
                       "compressed nonXMLBody is not base64 (representation B64); not attached "
                       "on its own (it stays in the attached document)");
    } else if (repr != NULL && strcmp(repr, "B64") == 0) {
        if (!decode_b64((const char *)content, &clean, &raw))
            (void)cda_warn(c, text, "value", "nonXMLBody is not valid base64; not attached");
        else if (alg != NULL)
            a = inflated_attachment(c, text, type, alg, &raw);
        else
            a = attachment(type, raw.data, raw.len, c->lim->max_doc);
    } else {
        a = attachment(type, content, strlen((const char *)content), c->lim->max_doc);
    }
    base_buf_fini(&clean);
    base_buf_fini(&raw);
    xmlFree(content);
    return a;
}

static int
add_content(struct cda_ctx *c, json_t *res, xmlNodePtr root)
{
    json_t *a = attachment("application/hl7-cda+xml", c->xml, c->xml_len, c->lim->max_doc);
    xmlNodePtr nxb = cda_child(cda_child(root, "component"), "nonXMLBody");

    if (a == NULL)
        return BASE_E_NOMEM;
    TRY(adapter_jpush(res, "content", json_pack("{s:o}", "attachment", a)));
    TRY(adapter_jset_str(a, "language", cda_attr(c, cda_child(root, "languageCode"), "code")));
    TRY(adapter_jset_str(a, "title", cda_text(c, cda_child(root, "title"))));
    if (nxb == NULL)
        return BASE_OK;
    json_t *body = body_attachment(c, cda_child(nxb, "text"));
    if (body == NULL)
        return c->err->rc != 0 ? c->err->rc : BASE_OK;
    return adapter_jpush(res, "content", json_pack("{s:o}", "attachment", body));
}

static int
add_context(struct cda_ctx *c, json_t *res, xmlNodePtr root)
{
    xmlNodePtr se = cda_child(cda_child(root, "documentationOf"), "serviceEvent");
    json_t *ctx = json_object();
    json_t *period;

    if (ctx == NULL)
        return BASE_E_NOMEM;
    TRY(adapter_jset(res, "context", ctx));
    if (c->encounter != NULL)
        TRY(adapter_jpush(ctx, "encounter", adapter_reference(c->encounter, NULL)));
    period = cda_period(c, cda_child(se, "effectiveTime"));
    if (period != NULL)
        TRY(adapter_jset(ctx, "period", period));
    if (json_object_size(ctx) == 0)
        (void)json_object_del(res, "context");
    return BASE_OK;
}

/* relatedDocument (CDA R2 section 4.2.3.1): the document this one
 * replaces (RPLC), appends to (APND) or transforms (XFRM), named by its id
 * -> relatesTo with a logical reference, since the parent need not be here.
 * WS/T 500 headers carry an empty relatedDocument; it is skipped. */
static const struct cda_pair relation[] = {
    {"RPLC", "replaces"}, {"APND", "appends"}, {"XFRM", "transforms"}};

static int
add_relations(struct cda_ctx *c, json_t *res, xmlNodePtr root)
{
    CDA_EACH(rd, root, "relatedDocument")
    {
        const char *code = CDA_LOOKUP(relation, cda_attr(c, rd, "typeCode"));
        json_t *id = cda_identifier(c, cda_child(cda_child(rd, "parentDocument"), "id"), NULL);

        if (code == NULL || id == NULL) {
            json_decref(id);
            continue;
        }
        TRY(adapter_jpush(res, "relatesTo",
                          json_pack("{s:s,s:{s:s,s:o}}", "code", code, "target", "type",
                                    "DocumentReference", "identifier", id)));
    }
    return BASE_OK;
}

static int
document_body(struct cda_ctx *c, json_t *res, xmlNodePtr root)
{
    const char *date = cda_ts(c, cda_child(root, "effectiveTime"), false);
    json_t *cc;

    TRY(adapter_jset_str(res, "status", "current"));
    cc = cda_concept(c, cda_child(root, "code"));
    if (cc != NULL)
        TRY(adapter_jset(res, "type", cc));
    if (c->patient != NULL)
        TRY(adapter_jset(res, "subject", adapter_reference(c->patient, NULL)));
    /* DocumentReference.date is an instant: only a full time qualifies */
    if (date != NULL && strchr(date, 'T') != NULL)
        TRY(adapter_jset_str(res, "date", date));
    if (json_array_size(c->doc_authors) > 0)
        TRY(adapter_jset(res, "author", json_incref(c->doc_authors)));
    if (c->authenticator != NULL)
        TRY(adapter_jset(res, "authenticator", adapter_reference(c->authenticator, NULL)));
    if (c->custodian != NULL)
        TRY(adapter_jset(res, "custodian", adapter_reference(c->custodian, NULL)));
    TRY(adapter_jset_str(res, "description", cda_text(c, cda_child(root, "title"))));
    cc = cda_concept(c, cda_child(root, "confidentialityCode"));
    if (cc != NULL)
        TRY(adapter_jpush(res, "securityLabel", cc));
    /* the gateway's consent and access checks read meta.security: a
     * restricted (R) or very restricted (V) document must say so there */
    TRY(cda_add_security_label(c, res, cda_child(root, "confidentialityCode")));
    TRY(add_relations(c, res, root));
    TRY(add_content(c, res, root));
    return add_context(c, res, root);
}

int
cda_map_document(struct cda_ctx *c, xmlNodePtr root)
{
    json_t *res = cda_resource(c, "DocumentReference");
    struct cda_key key = {0};
    json_t *master;

    /* Keyed by the document id; a fragment by its content hash.  The R4
     * DocumentReference "identifier" search parameter covers
     * masterIdentifier, so the conditional update finds it there. */
    master = cda_identifier(c, cda_child(root, "id"), &key);
    if (master == NULL) {
        key.system = "urn:ietf:rfc:3986";
        key.value = c->doc_key;
        master = json_pack("{s:s,s:s}", "system", key.system, "value", key.value);
    }
    if (res == NULL || adapter_jset(res, "masterIdentifier", master) != BASE_OK ||
        document_body(c, res, root) != BASE_OK) {
        json_decref(res);
        return c->err->rc != 0 ? c->err->rc : cda_nomem(c);
    }
    return adapter_tx_put(&c->tx, res, key.system, key.value, NULL, c->err);
}
