/*
 * gateway/mpi/addr.c — Chinese addresses to province / city / district tokens.
 *
 * Chinese addresses are written from the largest unit down, each unit ending
 * in its level's suffix: 辽宁省 沈阳市 和平区 南京北街155号.  Members send
 * them either structured (FHIR Address.state / city / district / line) or
 * as one text; both become the same tokens, with the level suffixes removed
 * so that "辽宁省" and "辽宁" compare equal.  Province names come from the
 * fixed list of 34 province-level divisions (GB/T 2260); city and district
 * are cut at the first level suffix.
 */
#include <string.h>

#include "fhir/base/arena.h"
#include "fhir/base/limits.h"
#include "gateway/mpi/mpi_int.h"

static const char *const provinces[] = {
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海",
    "江苏", "浙江", "安徽", "福建", "江西",   "山东", "河南", "湖北",   "湖南",
    "广东", "广西", "海南", "重庆", "四川",   "贵州", "云南", "西藏",   "陕西",
    "甘肃", "青海", "宁夏", "新疆", "香港",   "澳门", "台湾",
};
static const char *const municipalities[] = {"北京", "天津", "上海", "重庆"};

/* Province-level suffixes, longest first so the whole suffix goes. */
static const char *const province_suffixes[] = {
    "维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市",
};
static const char *const city_suffixes[] = {"自治州", "地区", "市", "州", "盟"};
static const char *const district_suffixes[] = {"新区", "区", "县", "市", "旗"};

static size_t
skip_suffix(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(list[i]);

        if (strncmp(s, list[i], l) == 0)
            return l;
    }
    return 0;
}

/* Cut `s` at the first suffix of `list` within 12 characters (36 bytes):
 * *tok gets the text before it, the return value is the bytes consumed
 * (0 when no suffix was found). */
static size_t
cut_unit(struct base_arena *a, const char *s, const char *const *list, size_t n,
         bool stop_at_district, const char **tok)
{
    /* start at 1 character (3 bytes) so a suffix is never the whole unit */
    for (size_t off = 3; s[off] != '\0' && off <= 36; off++) {
        size_t l = skip_suffix(s + off, list, n);

        /* "和平区市府路": a district before any city suffix means the
         * address has no city part */
        if (stop_at_district && l == 0 && skip_suffix(s + off, district_suffixes, 3) > 0)
            return 0;

        if (l > 0) {
            *tok = base_arena_strndup(a, s, off);
            return *tok != NULL ? off + l : 0;
        }
    }
    return 0;
}

static const char *
match_province(const char *s, size_t *used)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(provinces); i++) {
        size_t l = strlen(provinces[i]);

        if (strncmp(s, provinces[i], l) == 0) {
            *used = l + skip_suffix(s + l, province_suffixes, BASE_ARRAY_LEN(province_suffixes));
            return provinces[i];
        }
    }
    *used = 0;
    return "";
}

static bool
is_municipality(const char *p)
{
    for (size_t i = 0; i < BASE_ARRAY_LEN(municipalities); i++) {
        if (strcmp(p, municipalities[i]) == 0)
            return true;
    }
    return false;
}

/* Strip one unit suffix from a structured part ("沈阳市" -> "沈阳"). */
static const char *
strip_unit(struct base_arena *a, const char *s, const char *const *list, size_t n)
{
    size_t len = strlen(s);

    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(list[i]);

        if (len > l + 2 && strcmp(s + len - l, list[i]) == 0)
            return base_arena_strndup(a, s, len - l);
    }
    return s;
}

struct addr_out {
    const char *province;
    const char *city;
    const char *district;
    const char *detail;
};

static void
parse_text(struct base_arena *a, const char *s, struct addr_out *o)
{
    size_t used = 0;
    const char *tok = "";

    const char *p = match_province(s, &used);

    if (used > 0) {
        if (o->province[0] == '\0')
            o->province = p;
        s += used;
    }
    if (is_municipality(o->province)) {
        o->city = o->province;
        s += strncmp(s, "市辖区", 9) == 0 ? 9 : 0;
    } else if (o->city[0] == '\0' && (used = cut_unit(a, s, city_suffixes, 5, true, &tok)) > 0) {
        o->city = tok;
        s += used;
    }
    if (o->district[0] == '\0' && (used = cut_unit(a, s, district_suffixes, 5, false, &tok)) > 0) {
        o->district = tok;
        s += used;
    }
    o->detail = s;
}

int
gw_mpi_norm_address(struct base_arena *a, const char *state, const char *city, const char *district,
                    const char *line, const char *text, const char **province_out,
                    const char **city_out, const char **district_out, const char **detail_out,
                    struct base_err *err)
{
    const char *in[5] = {state, city, district, line, text};
    const char *n[5];
    struct addr_out o = {"", "", "", ""};
    size_t used = 0;

    for (size_t i = 0; i < 5; i++) {
        n[i] = "";
        if (in[i] != NULL && in[i][0] != '\0')
            TRY(mpi_norm_text(a, in[i], strlen(in[i]), &n[i], err));
    }
    if (n[0][0] != '\0') {
        o.province = match_province(n[0], &used);
        if (used == 0)
            o.province = strip_unit(a, n[0], province_suffixes, 7);
    }
    if (n[1][0] != '\0')
        o.city = strip_unit(a, n[1], city_suffixes, 5);
    if (n[2][0] != '\0')
        o.district = strip_unit(a, n[2], district_suffixes, 5);
    if (o.province[0] != '\0' && o.city[0] != '\0' && o.district[0] != '\0') {
        o.detail = n[3][0] != '\0' ? n[3] : n[4];
    } else if (n[3][0] != '\0' || n[4][0] != '\0') {
        /* Whole address in line or text: parse what the parts lack. */
        parse_text(a, n[3][0] != '\0' ? n[3] : n[4], &o);
    }
    if (is_municipality(o.province) && o.city[0] == '\0')
        o.city = o.province;
    ENSURE(o.province != NULL && o.city != NULL && o.district != NULL && o.detail != NULL, err,
           BASE_E_NOMEM, "exception", "mpi", "out of memory");
    *province_out = o.province;
    *city_out = o.city;
    *district_out = o.district;
    *detail_out = o.detail;
    return BASE_OK;
}
