/*
 * The federated merge over two or more member answers.
 * seeds: fhir-r4-examples/json */
/* Input: member answers separated by the line "\n=====\n" (one answer
 * without a separator is one member); the first byte picks the page size.
 * Invariants: the merge never fails on any answers (bad ones become
 * OperationOutcome entries); what it writes always parses with the strict
 * reader; whatever the scanner accepts the strict reader accepts too; the
 * pull reader gives the same text as the writer. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/json/fhir_json.h"
#include "gateway/fed/gw_fed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MEMBERS 6
static const char SEP[] = "\n=====\n";

static size_t
split(const char *p, size_t n, struct gw_fed_result *r)
{
    static const char *const ids[MAX_MEMBERS] = {"a", "b", "c", "d", "e", "f"};
    size_t k = 0;

    while (k < MAX_MEMBERS) {
        const char *s = k + 1 < MAX_MEMBERS ? memmem(p, n, SEP, sizeof(SEP) - 1) : NULL;
        size_t len = s != NULL ? (size_t)(s - p) : n;

        memset(&r[k], 0, sizeof(r[k]));
        r[k].member_id = ids[k];
        r[k].member_name = ids[k];
        r[k].base = "https://m.example/fhir";
        r[k].url = "https://m.example/fhir/Observation?patient=1";
        r[k].status = 200;
        r[k].body = p;
        r[k].body_len = len;
        r[k].offset_paging = (k & 1) != 0;
        k++;
        if (s == NULL)
            break;
        p = s + sizeof(SEP) - 1;
        n -= len + sizeof(SEP) - 1;
    }
    return k;
}

static void
check_scanner_is_stricter(struct base_arena *a, const struct gw_fed_result *r)
{
    struct gw_fed_scan sc;
    json_t *v = NULL;

    if (gw_fed_scan_bundle(a, r->body, r->body_len, NULL, &sc, NULL) != BASE_OK)
        return;
    if (fhir_json_parse(r->body, r->body_len, NULL, &v, NULL) != BASE_OK)
        __builtin_trap(); /* the scanner accepted what the reader refuses */
    json_decref(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_fed_result r[MAX_MEMBERS];
    struct gw_fed_cursor_keys keys = {1, {7}, false, 0, {0}};
    struct gw_fed_merge_opts o = {0};
    struct base_arena *a;
    struct gw_fed_merge *m1 = NULL;
    struct gw_fed_merge *m2 = NULL;
    struct base_buf whole;
    struct base_buf pieces;
    char chunk[61];
    ssize_t n;
    size_t k;
    json_t *v = NULL;

    if (size < 1 || (a = base_arena_new(256u << 20)) == NULL)
        return 0;
    k = split((const char *)data + 1, size - 1, r);
    o.base_url = "https://gw.example/fhir";
    o.path = "Observation";
    o.count = data[0] & 7;
    o.keys = &keys;
    o.binding = "fuzz";
    o.now = 1700000000;
    base_buf_init(&whole, 0);
    base_buf_init(&pieces, 0);
    for (size_t i = 0; i < k; i++)
        check_scanner_is_stricter(a, &r[i]);
    if (gw_fed_merge_new(a, r, k, &o, &m1, NULL) != BASE_OK ||
        gw_fed_merge_new(a, r, k, &o, &m2, NULL) != BASE_OK)
        __builtin_trap();
    if (gw_fed_merge_write(m1, &whole) != BASE_OK)
        __builtin_trap();
    while ((n = gw_fed_merge_read(m2, chunk, sizeof(chunk))) > 0)
        if (base_buf_append(&pieces, chunk, (size_t)n) != BASE_OK)
            __builtin_trap();
    if (n != 0 || whole.len != pieces.len || memcmp(whole.data, pieces.data, whole.len) != 0)
        __builtin_trap(); /* the reader and the writer disagree */
    if (fhir_json_parse(whole.data, whole.len, NULL, &v, NULL) != BASE_OK)
        __builtin_trap(); /* the merged Bundle is not JSON */
    json_decref(v);
    base_buf_fini(&whole);
    base_buf_fini(&pieces);
    base_arena_free(a);
    return 0;
}
