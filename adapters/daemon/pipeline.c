/*
 * Steps every input shares between conversion and the store: sensitivity
 * labels on every resource (adapters/label: the gateway filters by label,
 * and only the source knows the codes), validation against the R4
 * definitions (fhir/validate): what does not validate is never stored, and
 * the message's own code-map counts, which the store adds to the report
 * when the message commits (a repeat is not counted again).
 */
#include <string.h>

#include "adapters/codemap/codemap.h"
#include "adapters/daemon/daemon_int.h"
#include "adapters/label/adapter_label.h"
#include "fhir/base/arena.h"
#include "fhir/validate/fhir_validate.h"

int
adapter__prepare_bundle(json_t *bundle, json_t *oo, struct base_err *err)
{
    struct fhir_validate_opts vo = {0};
    struct fhir_validate_result vr;

    if (adapter_label_bundle(bundle) < 0)
        return base_err_set(err, BASE_E_NOMEM, "exception", NULL, "out of memory");
    /* The transaction Bundle as a whole: conditional references
     * ("Practitioner?identifier=…") are valid only inside one, and every
     * entry's resource is checked by its own type (fhir_validate.h). */
    vo.expect_type = "Bundle";
    vo.no_warnings = true;
    return fhir_validate(bundle, &vo, oo, &vr, err);
}

/* ---- a message's code-map counts ------------------------------------------ */

struct uses_out {
    struct base_arena *a;
    struct adapter_store_code_use *v;
    size_t n;
    size_t cap;
    int rc;
};

static void
count_use(void *ctx, const char *system, const char *code, bool mapped, uint64_t uses)
{
    struct uses_out *o = ctx;

    (void)system;
    (void)code;
    (void)mapped;
    (void)uses;
    o->cap++;
}

static void
copy_use(void *ctx, const char *system, const char *code, bool mapped, uint64_t uses)
{
    struct uses_out *o = ctx;
    struct adapter_store_code_use *u;

    if (o->rc != BASE_OK || o->n >= o->cap)
        return;
    u = &o->v[o->n++];
    u->system = base_arena_strdup(o->a, system);
    u->code = code != NULL ? base_arena_strdup(o->a, code) : NULL;
    u->mapped = mapped;
    u->uses = uses;
    if (u->system == NULL || (code != NULL && u->code == NULL))
        o->rc = BASE_E_NOMEM;
}

struct codemap_report *
adapter__code_uses_begin(void)
{
    return codemap_report_new(BASE_LIMIT_CODEMAP_MAX_UNMAPPED);
}

int
adapter__code_uses_end(struct codemap_report *r, struct base_arena *a,
                       struct adapter_store_item *it)
{
    struct uses_out o = {a, NULL, 0, 0, BASE_OK};

    if (r == NULL)
        return BASE_OK;
    codemap_report_foreach(r, count_use, &o);
    if (o.cap > 0 && (o.v = BASE_NEW_N(a, struct adapter_store_code_use, o.cap)) == NULL)
        o.rc = BASE_E_NOMEM;
    if (o.rc == BASE_OK)
        codemap_report_foreach(r, copy_use, &o);
    if (o.rc != BASE_OK)
        return o.rc;
    it->code_uses = o.v;
    it->n_code_uses = o.n;
    return BASE_OK;
}
