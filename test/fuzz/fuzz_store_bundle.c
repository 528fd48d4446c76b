/*
 * The adapter store's transaction planner and indexer (no database): a
 * Bundle is read into a plan, and every resource of an accepted plan is
 * hashed, given meta and turned into index rows, as the write path does.
 * seeds: fhir-r4-examples/json */
/* Own seeds in test/fuzz/corpus/store_bundle (conditional, ifNoneExist,
 * delete, unknown-type, urn:uuid transactions).  Invariants: an accepted
 * plan has one entry per Bundle entry, each with a type, and indexing its
 * resources never fails except for limits and memory. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "adapters/store/store_int.h"
#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
index_plan(struct base_arena *a, const struct st_plan *p)
{
    struct st_rows rows;

    st_rows_init(&rows);
    for (size_t i = 0; i < p->n; i++) {
        const struct st_entry *e = &p->e[i];
        char hash[65];
        const char *text = NULL;
        int rc;

        if (e->type == NULL)
            __builtin_trap();
        if (e->resource == NULL)
            continue;
        rc = st_content(a, e->resource, 1, 1767225600000000, hash, &text, NULL);
        if (rc == BASE_OK && (text == NULL || text[0] != '{'))
            __builtin_trap();
        rc = st_rows_add(&rows, a, e->resource, e->type, (int)i + 1, NULL);
        if (rc != BASE_OK && rc != BASE_E_LIMIT && rc != BASE_E_NOMEM)
            __builtin_trap();
        (void)st_arr_get(&rows.c[TK_CODE]);
    }
    st_rows_fini(&rows);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct base_arena *a = base_arena_new(64u << 20);
    struct adapter_store_opts o = {"https://h.example/fhir", 1767225600000000};
    json_t *b = NULL;
    struct st_plan p;
    int status = 0;

    if (a == NULL)
        return 0;
    if (fhir_json_parse((const char *)data, size, NULL, &b, NULL) == BASE_OK) {
        size_t n = json_array_size(json_object_get(b, "entry"));

        if (st_plan_bundle(a, &o, b, &p, &status, NULL) == BASE_OK) {
            if (p.n != n || status != 200)
                __builtin_trap();
            index_plan(a, &p);
        } else if (status < 400) {
            __builtin_trap();
        }
        json_decref(b);
    }
    base_arena_free(a);
    return 0;
}
