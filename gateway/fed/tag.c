/*
 * Source tagging of a spliced resource (docs/design/region.md, "Federated
 * queries"): meta.source = the member's FHIR base URL and one meta.tag
 * coding {system urn:fhirgate:member, code member id, display name} per
 * member the entry came from.  The resource text is copied verbatim except
 * its meta object, which is rewritten from the spans the scanner found; no
 * tree is built.  Tags the member itself put under urn:fhirgate:member are
 * dropped, so one member cannot label its data as another's.
 *
 * Member order follows what a tree edit would give (json_object_set keeps
 * an existing key in place and appends a new one): an existing source or
 * tag is rewritten where it stands, a missing one goes last in meta, and a
 * missing meta goes last in the resource.
 */
#include <string.h>

#include "gateway/fed/fed_int.h"

/* Room for the member names tagging looks for ("source", "tag", "system")
 * as written: every character may be a \uXXXX escape (six bytes), and an
 * escaped name is still that name (a raw length past the buffer used to
 * leave "\u0073ource" unrecognised: a second "source" member, or a
 * spoofed member tag kept). */
#define TAG_KEY_MAX (6 * 6 + 1)

static int
put_tags(struct base_buf *b, const struct gw_fed_tag *tags, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            TRY(base_buf_putc(b, ','));
        TRY(base_buf_append_cstr(b, "{\"system\":\"" GW_FED_TAG_SYSTEM "\",\"code\":"));
        TRY(fed_put_json_str(b, tags[i].member_id, strlen(tags[i].member_id)));
        if (tags[i].member_name != NULL) {
            TRY(base_buf_append_cstr(b, ",\"display\":"));
            TRY(fed_put_json_str(b, tags[i].member_name, strlen(tags[i].member_name)));
        }
        TRY(base_buf_putc(b, '}'));
    }
    return BASE_OK;
}

int
fed_tag_text_put(struct base_buf *b, const char *source, const struct gw_fed_tag *tags,
                 size_t n_tags, size_t *source_len)
{
    size_t at = b->len;

    TRY(base_buf_append_cstr(b, "\"source\":"));
    TRY(fed_put_json_str(b, source, strlen(source)));
    *source_len = b->len - at;
    return put_tags(b, tags, n_tags);
}

/* Is this tag element a coding of our system? */
static bool
is_member_tag(const char *elem, const char *end)
{
    struct fed_obj_iter it;
    char key[TAG_KEY_MAX];
    size_t klen;
    const char *ms;
    const char *v;
    const char *ve;
    static const char sys[] = GW_FED_TAG_SYSTEM;

    if (*elem != '{')
        return false;
    fed_obj_iter_init(&it, elem, end);
    while (fed_obj_iter_next(&it, key, sizeof(key), &klen, &ms, &v, &ve)) {
        if (klen != 6 || memcmp(key, "system", 6) != 0 || *v != '"')
            continue;
        size_t n = (size_t)(ve - v - 2);
        if (memchr(v + 1, '\\', n) == NULL)
            return n == sizeof(sys) - 1 && memcmp(v + 1, sys, n) == 0;
        char buf[sizeof(sys) + 8];
        if (n >= sizeof(buf))
            return false;
        return fed_json_unescape(v + 1, n, buf) == sizeof(sys) - 1 &&
               memcmp(buf, sys, sizeof(sys) - 1) == 0;
    }
    return false;
}

/* The tag array: the member's codings of other systems, then ours. */
static int
put_tag_array(struct base_buf *b, const char *v, const char *ve, const struct fed_tag_text *t)
{
    bool any = false;

    TRY(base_buf_putc(b, '['));
    if (*v == '[') {
        const char *p = fed_json_skip_ws(v + 1, ve);

        while (p < ve && *p != ']') {
            const char *e = fed_json_skip_value(p, ve);

            if (!is_member_tag(p, e)) {
                if (any)
                    TRY(base_buf_putc(b, ','));
                TRY(base_buf_append(b, p, (size_t)(e - p)));
                any = true;
            }
            p = fed_json_skip_ws(e, ve);
            if (p < ve && *p == ',')
                p = fed_json_skip_ws(p + 1, ve);
        }
    }
    if (t->codings_len > 0) {
        if (any)
            TRY(base_buf_putc(b, ','));
        TRY(base_buf_append(b, t->text + t->source_len, t->codings_len));
    }
    return base_buf_putc(b, ']');
}

/* meta rewritten: its members in order with source and tag replaced, the
 * missing ones appended. */
static int
put_meta(struct base_buf *b, const char *m, const char *mend, const struct fed_tag_text *t)
{
    struct fed_obj_iter it;
    char key[TAG_KEY_MAX];
    size_t klen;
    const char *ms;
    const char *v;
    const char *ve;
    bool first = true;
    bool source_done = false;
    bool tag_done = false;

    TRY(base_buf_putc(b, '{'));
    if (m != NULL) {
        fed_obj_iter_init(&it, m, mend);
        while (fed_obj_iter_next(&it, key, sizeof(key), &klen, &ms, &v, &ve)) {
            if (!first)
                TRY(base_buf_putc(b, ','));
            first = false;
            if (klen == 6 && memcmp(key, "source", 6) == 0) {
                TRY(base_buf_append(b, t->text, t->source_len));
                source_done = true;
            } else if (klen == 3 && memcmp(key, "tag", 3) == 0) {
                TRY(base_buf_append_cstr(b, "\"tag\":"));
                TRY(put_tag_array(b, v, ve, t));
                tag_done = true;
            } else {
                TRY(base_buf_append(b, ms, (size_t)(ve - ms)));
            }
        }
    }
    if (!source_done) {
        if (!first)
            TRY(base_buf_putc(b, ','));
        TRY(base_buf_append(b, t->text, t->source_len));
    }
    if (!tag_done) {
        TRY(base_buf_append_cstr(b, ",\"tag\":"));
        TRY(put_tag_array(b, "", "", t));
    }
    return base_buf_putc(b, '}');
}

int
fed_tag_resource_text(struct base_buf *out, const char *text, const struct gw_fed_entry *e,
                      const struct fed_tag_text *t)
{
    const char *res = text + e->resource.off;
    const char *rend = res + e->resource.len;

    if (e->resource.len < 2)
        return BASE_E_INVALID;
    if (e->meta.len == 0) {
        /* rend[-1] is the resource's '}'; a resource always has members
         * (resourceType at least), so a comma is always right. */
        TRY(base_buf_append(out, res, (size_t)(rend - 1 - res)));
        TRY(base_buf_append_cstr(out, ",\"meta\":"));
        TRY(put_meta(out, NULL, NULL, t));
        return base_buf_putc(out, '}');
    }
    const char *m = text + e->meta.off;
    const char *mend = m + e->meta.len;
    if ((e->meta_has & (GW_FED_META_SOURCE | GW_FED_META_TAG)) == 0) {
        /* Usual: nothing of ours to replace, so meta is copied whole up to
         * its '}' and source and tag follow, as put_meta() would append
         * them (only whitespace inside meta may differ). */
        TRY(base_buf_append(out, res, (size_t)(mend - 1 - res)));
        if ((e->meta_has & GW_FED_META_ANY) != 0)
            TRY(base_buf_putc(out, ','));
        TRY(base_buf_append(out, t->text, t->source_len));
        TRY(base_buf_append_cstr(out, ",\"tag\":"));
        TRY(put_tag_array(out, "", "", t));
        TRY(base_buf_putc(out, '}'));
        return base_buf_append(out, mend, (size_t)(rend - mend));
    }
    TRY(base_buf_append(out, res, (size_t)(m - res)));
    TRY(put_meta(out, m, mend, t));
    return base_buf_append(out, mend, (size_t)(rend - mend));
}

int
gw_fed_tag_resource(struct base_buf *out, const char *text, const struct gw_fed_entry *e,
                    const char *source, const struct gw_fed_tag *tags, size_t n_tags)
{
    struct base_buf b;
    struct fed_tag_text t = {NULL, 0, 0};
    int rc;

    base_buf_init(&b, 0);
    rc = fed_tag_text_put(&b, source, tags, n_tags, &t.source_len);
    if (rc == BASE_OK) {
        t.text = b.data;
        t.codings_len = b.len - t.source_len;
        rc = fed_tag_resource_text(out, text, e, &t);
    }
    base_buf_fini(&b);
    return rc;
}
