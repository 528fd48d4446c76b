/* Configuration file parser and its getters; own seeds in test/fuzz/corpus/conf.  seeds: */
#include <stddef.h>
#include <stdint.h>

#include "fhir/base/arena.h"
#include "fhir/base/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct base_conf_key keys[] = {
    {"s", BASE_CONF_STRING, BASE_CONF_REPEAT}, {"i", BASE_CONF_INT, 0},
    {"b", BASE_CONF_BOOL, 0},                  {"z", BASE_CONF_SIZE, 0},
    {"d", BASE_CONF_DURATION, 0},              {"p", BASE_CONF_PATH, 0},
    {"l", BASE_CONF_LIST, BASE_CONF_REPEAT},   {"k", BASE_CONF_SECRET, 0},
};
static const struct base_conf_section_schema sections[] = {
    {"", 0, keys, BASE_ARRAY_LEN(keys)},
    {"a", 0, keys, BASE_ARRAY_LEN(keys)},
    {"n", BASE_CONF_NAMED, keys, BASE_ARRAY_LEN(keys)},
};
static const struct base_conf_schema schema = {sections, BASE_ARRAY_LEN(sections)};

/* Getters used as declared must never report a programming error. */
static void
read_all(const struct base_conf_section *s, struct base_arena *a)
{
    const char *const *items;
    const char *v;
    size_t n;
    int64_t i;
    uint64_t u;
    bool b;
    int rc[8];

    rc[0] = base_conf_str(s, "s", NULL, &v, NULL);
    for (size_t k = 0; k < base_conf_count(s, "s"); k++) {
        if (base_conf_str_at(s, "s", k, &v, NULL) != BASE_OK)
            __builtin_trap();
    }
    rc[1] = base_conf_int(s, "i", -100, 100, 0, &i, NULL);
    rc[2] = base_conf_bool(s, "b", false, &b, NULL);
    rc[3] = base_conf_size(s, "z", 0, 1u << 30, 0, &u, NULL);
    rc[4] = base_conf_duration_ms(s, "d", 0, 60000, 0, &u, NULL);
    rc[5] = base_conf_path(s, "p", "x", a, &v, NULL);
    rc[6] = base_conf_list(s, "l", &items, &n, NULL);
    rc[7] = BASE_OK;
    (void)base_conf_section_name(s);
    for (size_t k = 0; k < BASE_ARRAY_LEN(rc); k++) {
        if (rc[k] == BASE_E_INTERNAL)
            __builtin_trap();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct base_conf_limits lim = base_conf_limits_default();
    struct base_arena *a = base_arena_new(16u << 20);
    struct base_conf *c = NULL;

    if (a == NULL)
        return 0;
    lim.max_file = 1u << 20;
    if (base_conf_parse(a, (const char *)data, size, "fuzz/f.conf", &schema, &lim, &c, NULL) ==
        BASE_OK) {
        read_all(base_conf_section(c, ""), a);
        read_all(base_conf_section(c, "a"), a);
        for (size_t i = 0; i < base_conf_section_count(c, "n"); i++)
            read_all(base_conf_section_at(c, "n", i), a);
    }
    base_arena_free(a);
    return 0;
}
