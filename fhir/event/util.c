/*
 * JSON pieces of AuditEvent and Provenance, and instant formatting.
 */
#include "fhir/event/event_int.h"
#include "fhir/event/fhir_event.h"

#include <stdio.h>
#include <string.h>

#include "fhir/base/civil.h"
#include "fhir/base/str.h"

json_t *
ev_coding(const char *system, const char *code, const char *display)
{
    json_t *c;

    if (system == NULL || code == NULL)
        return NULL;
    c = json_pack("{s:s, s:s}", "system", system, "code", code);
    if (c != NULL && display != NULL && json_object_set_new(c, "display", json_string(display))) {
        json_decref(c);
        return NULL;
    }
    return c;
}

json_t *
ev_cc(const char *system, const char *code, const char *display)
{
    return json_pack("{s:[o]}", "coding", ev_coding(system, code, display));
}

json_t *
ev_identifier(const char *system, const char *value)
{
    json_t *id = json_pack("{s:s}", "value", value);

    if (id != NULL && system != NULL && json_object_set_new(id, "system", json_string(system))) {
        json_decref(id);
        return NULL;
    }
    return id;
}

static bool
looks_ip(const char *a)
{
    size_t n = strlen(a);
    size_t digits = 0;
    size_t dots = 0;
    size_t colons = 0;

    for (size_t i = 0; i < n; i++) {
        char c = a[i];

        if (c >= '0' && c <= '9')
            digits++;
        else if (c == '.')
            dots++;
        else if (c == ':')
            colons++;
        else if (!((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return digits > 0 && ((dots == 3 && colons == 0) || colons >= 2);
}

json_t *
ev_network(const char *address)
{
    /* R4 network-type: 1 machine name, 2 IP address, 5 URI */
    const char *type = strstr(address, "://") != NULL ? "5" : looks_ip(address) ? "2" : "1";

    return json_pack("{s:s, s:s}", "address", address, "type", type);
}

int
ev_set_str(json_t *o, const char *key, const char *value)
{
    json_t *s;

    if (value == NULL || !base_utf8_valid(value, strlen(value), NULL))
        return BASE_E_INVALID;
    s = json_string(value);
    return s != NULL && json_object_set_new(o, key, s) == 0 ? BASE_OK : BASE_E_NOMEM;
}

char *
ev_base64(const char *data, size_t len)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = (const unsigned char *)data;
    size_t out_len = (len + 2) / 3 * 4;
    char *out = base_malloc(out_len + 1);
    size_t o = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16;

        v |= i + 1 < len ? (unsigned)p[i + 1] << 8 : 0;
        v |= i + 2 < len ? p[i + 2] : 0;
        out[o++] = tbl[(v >> 18) & 63];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? tbl[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static bool
type_ok(const char *s, size_t n)
{
    if (n == 0 || n > 64 || s[0] < 'A' || s[0] > 'Z')
        return false;
    for (size_t i = 1; i < n; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
            return false;
    }
    return true;
}

/* FHIR id: [A-Za-z0-9\-\.]{1,64} */
static bool
id_ok(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.'))
            return false;
    }
    return true;
}

bool
ev_reference_ok(const char *ref, const char *want)
{
    const char *slash = ref != NULL ? strchr(ref, '/') : NULL;

    if (slash == NULL || !type_ok(ref, (size_t)(slash - ref)))
        return false;
    if (want != NULL &&
        (strlen(want) != (size_t)(slash - ref) || strncmp(ref, want, strlen(want)) != 0))
        return false;
    return id_ok(slash + 1, strlen(slash + 1));
}

bool
ev_entity_ok(const char *type, const char *id, const char *version)
{
    return type != NULL && id != NULL && type_ok(type, strlen(type)) && id_ok(id, strlen(id)) &&
           (version == NULL || id_ok(version, strlen(version)));
}

size_t
fhir_event_format_instant(int64_t utc_us, int tz_offset_min, char *buf, size_t cap)
{
    const int64_t day_us = 86400LL * 1000000;
    int64_t local;
    int64_t days;
    int64_t rem;
    int64_t y;
    int64_t m;
    int64_t d;
    int off = tz_offset_min < 0 ? -tz_offset_min : tz_offset_min;
    int n;

    if (cap < 40 || tz_offset_min < -14 * 60 || tz_offset_min > 14 * 60 ||
        utc_us < -62135596800000000LL || utc_us > 253402300799000000LL)
        return 0;
    local = utc_us + (int64_t)tz_offset_min * 60000000;
    days = local >= 0 ? local / day_us : -((-local + day_us - 1) / day_us);
    rem = local - days * day_us;
    base_civil_from_days(days, &y, &m, &d);
    if (y < 1 || y > 9999)
        return 0;
    n = snprintf(buf, cap, "%04lld-%02d-%02dT%02d:%02d:%02d.%03d%c%02d:%02d", (long long)y, (int)m,
                 (int)d, (int)(rem / 3600000000LL), (int)(rem / 60000000 % 60),
                 (int)(rem / 1000000 % 60), (int)(rem / 1000 % 1000), tz_offset_min < 0 ? '-' : '+',
                 off / 60, off % 60);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
