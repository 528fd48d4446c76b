/*
 * Mapper plumbing: errors, decoded values, systems, entries, references.
 */
#include <stdio.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "adapters/codemap/codemap.h"
#include "adapters/hl7v2/map_int.h"
#include "fhir/base/arena.h"

static void
loc_of(const struct at *at, uint32_t comp, struct hl7v2_loc *loc)
{
    memset(loc, 0, sizeof(*loc));
    if (at == NULL || at->seg == NULL)
        return;
    memcpy(loc->seg, at->seg->id, 3);
    loc->seg_index = at->seg->index;
    loc->field = at->field;
    loc->rep = at->rep;
    loc->comp = comp;
}

void
map_fail(struct mctx *c, int rc, const char *issue, const struct at *at, uint32_t comp,
         const char *msg)
{
    struct hl7v2_loc loc;

    if (c->rc != BASE_OK)
        return;
    loc_of(at, comp, &loc);
    c->rc = hl7v2_err_at(c->err, rc, issue, &loc, "%s", msg);
}

void
map_warn(struct mctx *c, const struct at *at, const char *msg)
{
    struct hl7v2_bundle *b = c->out;
    struct hl7v2_loc loc;

    if (b->nwarnings >= MAP_MAX_WARNINGS) {
        b->warnings_dropped++;
        return;
    }
    if (b->warnings == NULL) {
        /* made on the first warning (many messages have none) and not
         * zeroed: entries are written before nwarnings counts them */
        b->warnings = base_arena_alloc(c->a, MAP_MAX_WARNINGS * sizeof(*b->warnings));
        if (b->warnings == NULL) {
            c->jb.failed = true;
            b->warnings_dropped++;
            return;
        }
    }
    loc_of(at, 0, &loc);
    hl7v2_loc_format(&loc, b->warnings[b->nwarnings].where, sizeof(b->warnings[0].where));
    b->warnings[b->nwarnings++].msg = msg;
}

/* ------------------------------------------------------------------ values -- */

/* Bit masks, one bit per byte of a 16-byte block at p: which bytes are the
 * component separator (*comp) and which a subcomponent separator or escape
 * (*other).  SSE2 where there is one (as the tokenizer), bytes otherwise. */
static inline void
block_masks(const char *p, char cd, char sd, char ed, uint32_t *comp, uint32_t *other)
{
#ifdef __SSE2__
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);

    *comp = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(cd)));
    *other = (uint32_t)_mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(sd)), _mm_cmpeq_epi8(v, _mm_set1_epi8(ed))));
#else
    *comp = *other = 0;
    for (int i = 0; i < 16; i++) {
        *comp |= (uint32_t)(p[i] == cd) << i;
        *other |= (uint32_t)(p[i] == sd || p[i] == ed) << i;
    }
#endif
}

/* Record the component rep[start..end); false when there are too many. */
static inline bool
add_component(struct compcache *cc, const char *base, size_t start, size_t end, bool plain)
{
    if (cc->n == MAP_MAX_COMPS)
        return false;
    cc->comp[cc->n] = (struct base_str){base + start, end - start};
    cc->plain |= (uint32_t)plain << cc->n;
    cc->n++;
    return true;
}

/* Split a repetition into its components once (the mapper reads several
 * components of the same repetition in a row) and note which hold neither
 * a subcomponent separator nor an escape: those are read as they are. */
static bool
split_components(struct mctx *c, struct base_str rep)
{
    struct compcache *cc = &c->cc;
    const struct hl7v2_delims *d = &c->m->d;
    char cd = d->comp;
    /* an absent delimiter (0) never occurs in text: the tokenizer rejects
     * control bytes; compare against the component separator instead */
    char sd = d->sub != 0 ? d->sub : cd;
    char ed = d->esc != 0 ? d->esc : cd;
    size_t start = 0;
    size_t i = 0;
    bool plain = true;

    cc->ptr = NULL; /* valid once complete */
    cc->n = 0;
    cc->plain = 0;
    for (; i + 16 <= rep.len; i += 16) {
        uint32_t mc;
        uint32_t mo;

        block_masks(rep.ptr + i, cd, sd, ed, &mc, &mo);
        while (mc != 0) {
            unsigned k = (unsigned)__builtin_ctz(mc);
            /* other bytes of this block before the separator, in this component */
            uint32_t before = mo & ((1u << k) - 1u);

            if (!add_component(cc, rep.ptr, start, i + k, plain && before == 0))
                return false;
            start = i + k + 1;
            plain = true;
            mo &= ~((2u << k) - 1u); /* bytes up to the separator are done */
            mc &= mc - 1;
        }
        plain = plain && mo == 0;
    }
    for (; i < rep.len; i++) {
        char ch = rep.ptr[i];

        if (ch == cd) {
            if (!add_component(cc, rep.ptr, start, i, plain))
                return false;
            start = i + 1;
            plain = true;
        } else if (ch == sd || ch == ed) {
            plain = false;
        }
    }
    if (!add_component(cc, rep.ptr, start, rep.len, plain))
        return false;
    cc->ptr = rep.ptr;
    cc->len = rep.len;
    return true;
}

static struct base_str
component(struct mctx *c, struct base_str rep, uint32_t comp, bool *plain)
{
    struct compcache *cc = &c->cc;

    *plain = false;
    if ((cc->ptr != rep.ptr || cc->len != rep.len) && !split_components(c, rep))
        return hl7v2_comp(c->m, rep, comp);
    if (comp > cc->n)
        return BASE_STR_NULL;
    *plain = (cc->plain >> (comp - 1)) & 1u;
    return cc->comp[comp - 1];
}

static inline bool
blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* base_str_trim, called only when there is something to trim: it runs for
 * every value read, and few values have blanks around them. */
static inline struct base_str
trim(struct base_str s)
{
    return s.len > 0 && (blank(s.ptr[0]) || blank(s.ptr[s.len - 1])) ? base_str_trim(s) : s;
}

/* The escapes of a value, out of line: the error it may report needs a
 * large frame that the common path should not pay for. */
static __attribute__((noinline)) struct base_str
unescape(struct mctx *c, const struct at *at, struct base_str raw, uint32_t comp)
{
    struct base_str out;
    struct base_err e;

    e.rc = 0; /* filled only on failure */
    if (hl7v2_unescape(c->a, c->m, raw, &out, &e) != BASE_OK) {
        map_fail(c, e.rc == BASE_E_NOMEM ? BASE_E_NOMEM : BASE_E_INVALID, e.issue_code, at, comp,
                 e.msg);
        return BASE_STR_NULL;
    }
    return trim(out);
}

struct base_str
map_txt(struct mctx *c, const struct at *at, struct base_str rep, uint32_t comp, uint32_t sub)
{
    struct base_str raw = rep;

    /* An unescaped subcomponent separator always separates (HL7 v2.5.1
     * 2.5.5): a component asked for as a whole is its first subcomponent. */
    if (comp > 0 && rep.len > 0) {
        bool plain;

        raw = component(c, rep, comp, &plain);
        if (plain && sub <= 1) /* no subcomponents, nothing to unescape */
            return raw.len == 0 || (raw.len == 2 && hl7v2_is_null(raw)) ? BASE_STR_NULL : trim(raw);
        raw = hl7v2_sub(c->m, raw, sub > 0 ? sub : 1);
    }
    if (raw.len == 0 || hl7v2_is_null(raw))
        return BASE_STR_NULL;
    return unescape(c, at, raw, comp);
}

struct base_str
map_rep(struct mctx *c, const struct hl7v2_seg *seg, uint32_t field, uint32_t r, struct at *at)
{
    at->seg = seg;
    at->field = field;
    at->rep = r;
    return hl7v2_get(c->m, seg, field, r, 0, 0);
}

size_t
map_nreps(struct mctx *c, const struct hl7v2_seg *seg, uint32_t field)
{
    return hl7v2_rep_count(c->m, hl7v2_field(seg, field));
}

struct base_str
map_field(struct mctx *c, const struct hl7v2_seg *seg, uint32_t field)
{
    struct at at;
    struct base_str rep = map_rep(c, seg, field, 1, &at);

    return map_txt(c, &at, rep, 1, 0);
}

/* Bytes kept as they are in a URL value: RFC 3986 unreserved, and ':' and
 * '/' (identifier systems are URIs).  Everything else is percent-encoded. */
static const bool url_plain[256] = {
    ['-'] = true, ['.'] = true, ['_'] = true, ['~'] = true, [':'] = true, ['/'] = true,
    ['0'] = true, ['1'] = true, ['2'] = true, ['3'] = true, ['4'] = true, ['5'] = true,
    ['6'] = true, ['7'] = true, ['8'] = true, ['9'] = true,
    ['A'] = true, ['B'] = true, ['C'] = true, ['D'] = true, ['E'] = true, ['F'] = true,
    ['G'] = true, ['H'] = true, ['I'] = true, ['J'] = true, ['K'] = true, ['L'] = true,
    ['M'] = true, ['N'] = true, ['O'] = true, ['P'] = true, ['Q'] = true, ['R'] = true,
    ['S'] = true, ['T'] = true, ['U'] = true, ['V'] = true, ['W'] = true, ['X'] = true,
    ['Y'] = true, ['Z'] = true,
    ['a'] = true, ['b'] = true, ['c'] = true, ['d'] = true, ['e'] = true, ['f'] = true,
    ['g'] = true, ['h'] = true, ['i'] = true, ['j'] = true, ['k'] = true, ['l'] = true,
    ['m'] = true, ['n'] = true, ['o'] = true, ['p'] = true, ['q'] = true, ['r'] = true,
    ['s'] = true, ['t'] = true, ['u'] = true, ['v'] = true, ['w'] = true, ['x'] = true,
    ['y'] = true, ['z'] = true,
};

struct base_str
map_pct(struct mctx *c, struct base_str s)
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

        if (url_plain[ch]) {
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

struct base_str
map_join(struct mctx *c, const struct base_str *parts, size_t n, const char *sep)
{
    size_t seplen = strlen(sep);
    size_t total = 0;
    char *out;
    size_t o = 0;

    for (size_t i = 0; i < n; i++)
        total += parts[i].len + seplen;
    out = base_arena_alloc(c->a, total + 1);
    if (out == NULL) {
        c->jb.failed = true;
        return BASE_STR_NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (parts[i].len == 0)
            continue;
        if (o > 0) {
            memcpy(out + o, sep, seplen);
            o += seplen;
        }
        memcpy(out + o, parts[i].ptr, parts[i].len);
        o += parts[i].len;
    }
    out[o] = '\0';
    return base_str_make(out, o);
}

struct base_str
map_code(struct mctx *c, struct base_str code)
{
    bool clean = true;
    char *out;
    size_t o = 0;

    /* FHIR code: [^\s]+(\s[^\s]+)* -- single inner spaces only */
    for (size_t i = 0; i < code.len && clean; i++) {
        char ch = code.ptr[i];

        if (ch == '\t' || ch == '\r' || ch == '\n' ||
            (ch == ' ' && i + 1 < code.len && code.ptr[i + 1] == ' '))
            clean = false;
    }
    if (clean)
        return code;
    out = base_arena_alloc(c->a, code.len + 1);
    if (out == NULL) {
        c->jb.failed = true;
        return BASE_STR_NULL;
    }
    for (size_t i = 0; i < code.len; i++) {
        char ch = code.ptr[i];
        bool ws = ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';

        if (ws && (o == 0 || out[o - 1] == ' '))
            continue;
        out[o++] = ws ? ' ' : ch;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    return base_str_make(out, o);
}

struct base_str
map_concat(struct mctx *c, const struct base_str *parts, size_t n)
{
    size_t total = 0;
    char *out;
    size_t o = 0;

    for (size_t i = 0; i < n; i++)
        total += parts[i].len;
    out = base_arena_alloc(c->a, total + 1);
    if (out == NULL) {
        c->jb.failed = true;
        return BASE_STR_NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (parts[i].len > 0)
            memcpy(out + o, parts[i].ptr, parts[i].len);
        o += parts[i].len;
    }
    out[o] = '\0';
    return base_str_make(out, o);
}

bool
map_has_cjk(struct base_str s)
{
    /* CJK ideographs live in U+3400..U+9FFF (3-byte UTF-8 lead E3..E9) and
     * the supplementary planes (F0); a cheap, sufficient test for names. */
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.ptr[i];

        if ((ch >= 0xe3 && ch <= 0xe9) || ch == 0xf0)
            return true;
    }
    return false;
}

/* Does a `want` segment follow `seg` in its order group (before the next
 * ORC, OBR, RXE, RXO or PID)?  TQ1 after an RXE (RDE_O11), SPM after the
 * OBX of an OBR (ORU_R01 v2.5+). */
bool
map_group_has(struct mctx *c, const struct hl7v2_seg *seg, const char *want)
{
    static const char stops[][4] = {"ORC", "OBR", "RXE", "RXO", "PID"};

    for (size_t i = seg->index; i < c->m->nsegs; i++) {
        const char *id = c->m->segs[i].id;

        if (memcmp(id, want, 3) == 0)
            return true;
        for (size_t k = 0; k < BASE_ARRAY_LEN(stops); k++) {
            if (memcmp(id, stops[k], 3) == 0)
                return false;
        }
    }
    return false;
}

/* ----------------------------------------------------------------- systems -- */

static bool
is_oid(struct base_str s)
{
    /* FHIR oid: urn:oid:[0-2](\.(0|[1-9][0-9]*))+ */
    size_t i = 1;
    bool arc = false;

    if (s.len < 3 || s.ptr[0] < '0' || s.ptr[0] > '2' || s.ptr[1] != '.')
        return false;
    while (i < s.len) {
        if (s.ptr[i] != '.' || i + 1 >= s.len)
            return false;
        i++;
        if (s.ptr[i] == '0' && i + 1 < s.len && s.ptr[i + 1] != '.')
            return false;
        arc = false;
        while (i < s.len && s.ptr[i] >= '0' && s.ptr[i] <= '9') {
            i++;
            arc = true;
        }
        if (!arc)
            return false;
    }
    return true;
}

static struct base_str
base_path(struct mctx *c, const char *kind, struct base_str name)
{
    struct base_str parts[5] = {c->base, BASE_STR_LIT("/"), base_str_from_cstr(kind),
                                BASE_STR_LIT("/"), BASE_STR_NULL};
    struct syscache *slot;

    for (size_t i = 0; i < c->nsys && i < MAP_SYSCACHE; i++) {
        if (c->sys[i].kind == kind && base_str_eq(c->sys[i].name, name))
            return c->sys[i].uri;
    }
    slot = &c->sys[c->nsys++ % MAP_SYSCACHE];
    slot->kind = kind;
    slot->name = name;
    if (name.len == 0) {
        slot->uri = map_concat(c, parts, 3);
        return slot->uri;
    }
    parts[4] = map_pct(c, name);
    slot->uri = map_concat(c, parts, 5);
    return slot->uri;
}

static struct base_str
prefixed(struct mctx *c, const char *prefix, struct base_str s)
{
    struct base_str parts[2] = {base_str_from_cstr(prefix), s};

    return map_concat(c, parts, 2);
}

struct base_str
map_authority_system(struct mctx *c, struct base_str ns, struct base_str uid,
                     struct base_str uid_type, const char *kind)
{
    if (uid.len > 0) {
        if ((uid_type.len == 0 || base_str_case_eq_cstr(uid_type, "ISO")) && is_oid(uid))
            return prefixed(c, "urn:oid:", uid);
        if (codemap_is_uri(uid))
            return uid;
    }
    if (ns.len > 0) {
        size_t dots = 0;

        for (size_t i = 0; i < c->o->nauthorities; i++) {
            if (map_is(ns, c->o->authorities[i].namespace_id))
                return base_str_from_cstr(c->o->authorities[i].system);
        }
        /* the universal id written in the namespace component
         * ('…^^^2.16.840.1.113883.19.5^MR', '…^^^http://hospital.example/mrn'):
         * it names the authority for every receiver; as a local name under
         * the member's base the same MPI number got a different system at
         * each hospital.  An OID of at least four arcs (no short local
         * name such as '2.5' is taken for one) */
        if (ns.ptr[0] >= '0' && ns.ptr[0] <= '2') {
            for (size_t i = 0; i < ns.len; i++)
                dots += ns.ptr[i] == '.';
            if (dots >= 3 && is_oid(ns))
                return prefixed(c, "urn:oid:", ns);
        } else if (memchr(ns.ptr, ':', ns.len) != NULL && codemap_is_uri(ns)) {
            return ns;
        }
        return base_path(c, kind, ns);
    }
    return base_path(c, kind, uid);
}

struct codesys {
    const char *name;
    const char *uri;
};

/* HL7 table 0396 names (and common variants) with a FHIR system URI. */
static const struct codesys code_systems[] = {
    {"LN", "http://loinc.org"},
    {"LOINC", "http://loinc.org"},
    {"SCT", "http://snomed.info/sct"},
    {"SNOMEDCT", "http://snomed.info/sct"},
    {"SNOMED-CT", "http://snomed.info/sct"},
    {"I10", "http://hl7.org/fhir/sid/icd-10"},
    {"ICD10", "http://hl7.org/fhir/sid/icd-10"},
    {"ICD-10", "http://hl7.org/fhir/sid/icd-10"},
    {"I10C", "http://hl7.org/fhir/sid/icd-10-cm"},
    {"ICD10CM", "http://hl7.org/fhir/sid/icd-10-cm"},
    {"I9", "http://hl7.org/fhir/sid/icd-9-cm"},
    {"I9C", "http://hl7.org/fhir/sid/icd-9-cm"},
    {"I9CDX", "http://hl7.org/fhir/sid/icd-9-cm"},
    {"ICD9", "http://hl7.org/fhir/sid/icd-9-cm"},
    {"UCUM", "http://unitsofmeasure.org"},
    {"CVX", "http://hl7.org/fhir/sid/cvx"},
    {"MVX", "http://hl7.org/fhir/sid/mvx"},
    {"NDC", "http://hl7.org/fhir/sid/ndc"},
    {"RXNORM", "http://www.nlm.nih.gov/research/umls/rxnorm"},
    {"RXN", "http://www.nlm.nih.gov/research/umls/rxnorm"},
    {"C4", "http://www.ama-assn.org/go/cpt"},
    {"CPT", "http://www.ama-assn.org/go/cpt"},
    {"CPT4", "http://www.ama-assn.org/go/cpt"},
    {"ATC", "http://www.whocc.no/atc"},
    {"ISO3166", "urn:iso:std:iso:3166"},
    {"ISO3166_1", "urn:iso:std:iso:3166"},     /* table 0396 name for part 1 */
    {"ISO3166_2", "urn:iso:std:iso:3166:-2"}, /* subdivisions */
    /* ISO+ (ISO 2955 units with HL7 extensions) has no FHIR system: it
     * stays the sender's; MDC is ISO/IEEE 11073-10101 */
    {"MDC", "urn:iso:std:iso:11073:10101"},
    {"UNII", "http://fdasis.nlm.nih.gov"},
    {"CDCREC", "urn:oid:2.16.840.1.113883.6.238"},
    {"SNOMED", "http://snomed.info/sct"},
    {"ICD-10-CM", "http://hl7.org/fhir/sid/icd-10-cm"},
    {"ICD-9-CM", "http://hl7.org/fhir/sid/icd-9-cm"},
    /* senders that name the system by its OID (v2.7 CWE-14 style, CDA-fed
     * interfaces): FHIR wants the canonical URI where one is defined
     * (R4 terminologies-systems) */
    {"2.16.840.1.113883.6.1", "http://loinc.org"},
    {"2.16.840.1.113883.6.96", "http://snomed.info/sct"},
    {"2.16.840.1.113883.6.3", "http://hl7.org/fhir/sid/icd-10"},
    {"2.16.840.1.113883.6.90", "http://hl7.org/fhir/sid/icd-10-cm"},
    {"2.16.840.1.113883.6.103", "http://hl7.org/fhir/sid/icd-9-cm"},
    {"2.16.840.1.113883.6.88", "http://www.nlm.nih.gov/research/umls/rxnorm"},
    {"2.16.840.1.113883.6.12", "http://www.ama-assn.org/go/cpt"},
    {"2.16.840.1.113883.6.69", "http://hl7.org/fhir/sid/ndc"},
    {"2.16.840.1.113883.12.292", "http://hl7.org/fhir/sid/cvx"},
    {"2.16.840.1.113883.6.8", "http://unitsofmeasure.org"},
    {"2.16.840.1.113883.6.73", "http://www.whocc.no/atc"},
};

struct base_str
map_code_system(struct mctx *c, struct base_str name, const char *field_name, bool *standard)
{
    *standard = false;
    if (name.len == 0)
        return base_path(c, "code", base_str_from_cstr(field_name));
    for (size_t i = 0; i < BASE_ARRAY_LEN(code_systems); i++) {
        if (base_str_case_eq_cstr(name, code_systems[i].name)) {
            *standard = true;
            return base_str_from_cstr(code_systems[i].uri);
        }
    }
    if (name.len >= 7 && name.len <= 8 &&
        (base_str_starts_with(name, "HL7") || base_str_starts_with(name, "hl7"))) {
        /* "HL70078" -> the THO code system of v2 table 0078 */
        struct base_str num = base_str_sub(name, 3, name.len - 3);
        bool digits = true;

        for (size_t i = 0; i < num.len; i++)
            digits &= num.ptr[i] >= '0' && num.ptr[i] <= '9';
        if (digits) {
            *standard = true;
            return prefixed(c, "http://terminology.hl7.org/CodeSystem/v2-", num);
        }
    }
    if (codemap_is_uri(name)) {
        *standard = true;
        return name;
    }
    if (is_oid(name))
        return prefixed(c, "urn:oid:", name);
    return base_path(c, "code", name);
}

/* ----------------------------------------------------------------- entries -- */

static struct ent *
find_entry(struct mctx *c, const char *uuid)
{
    for (size_t i = 0; i < c->nents; i++) {
        if (memcmp(c->ents[i]->uuid, uuid, 36) == 0)
            return c->ents[i];
    }
    return NULL;
}

static struct ent *
grow(struct mctx *c)
{
    struct ent *e;

    if (c->nents == c->cap) {
        size_t cap = c->cap == 0 ? 16 : c->cap * 2;
        struct ent **n = base_arena_grow(c->a, c->ents, c->cap, cap, sizeof(*n));

        if (n == NULL) {
            c->jb.failed = true;
            return NULL;
        }
        c->ents = n;
        c->cap = cap;
    }
    e = BASE_NEW(c->a, struct ent);
    if (e == NULL) {
        c->jb.failed = true;
        return NULL;
    }
    c->ents[c->nents++] = e;
    return e;
}

struct ent *
map_entry(struct mctx *c, const char *type, const struct base_str *key, size_t nkey,
          struct base_str cond_sys, struct base_str cond_val)
{
    struct base_str parts[8];
    char uuid[37];
    struct ent *e;
    size_t n = 0;

    parts[n++] = c->base;
    parts[n++] = base_str_from_cstr(type);
    for (size_t i = 0; i < nkey && n < BASE_ARRAY_LEN(parts); i++)
        parts[n++] = key[i];
    hl7v2_uuid5(parts, n, uuid);
    e = find_entry(c, uuid);
    if (e != NULL)
        return e;
    e = grow(c);
    if (e == NULL)
        return NULL;
    e->type = type;
    memcpy(e->uuid, uuid, sizeof(uuid));
    memcpy(e->urn, "urn:uuid:", 9);
    memcpy(e->urn + 9, uuid, sizeof(uuid));
    e->res = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);
    hl7v2_j_cstr(&c->jb, e->res, "resourceType", type);
    if (strcmp(type, "Provenance") == 0)
        return e;
    if (cond_sys.len == 0 || cond_val.len == 0) {
        struct hl7v2_j *id = hl7v2_j_obj(&c->jb, hl7v2_j_arr(&c->jb, e->res, "identifier"), NULL);

        cond_sys = base_str_from_cstr("urn:ietf:rfc:3986");
        cond_val = base_str_from_cstr(e->urn);
        hl7v2_j_str(&c->jb, id, "system", cond_sys);
        hl7v2_j_str(&c->jb, id, "value", cond_val);
    }
    {
        struct base_str url[4] = {BASE_STR_LIT("identifier="), map_pct(c, cond_sys),
                                  BASE_STR_LIT("|"), map_pct(c, cond_val)};

        e->cond = map_concat(c, url, 4);
    }
    return e;
}

struct hl7v2_j *
map_ref(struct mctx *c, const struct ent *e)
{
    struct hl7v2_j *r = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);

    if (e != NULL)
        hl7v2_j_str(&c->jb, r, "reference", base_str_make(e->urn, 45));
    return r;
}

void
map_ref_to(struct mctx *c, struct hl7v2_j *parent, const char *key, const struct ent *e)
{
    if (e != NULL)
        hl7v2_j_add(parent, key, map_ref(c, e));
}

struct hl7v2_j *
map_coding(struct mctx *c, struct hl7v2_j *arr, const char *system, struct base_str code,
           const char *display)
{
    struct hl7v2_j *cd;

    if (code.len == 0)
        return NULL;
    cd = hl7v2_j_obj(&c->jb, arr, NULL);
    hl7v2_j_cstr(&c->jb, cd, "system", system);
    hl7v2_j_str(&c->jb, cd, "code", map_code(c, code));
    if (display != NULL)
        hl7v2_j_cstr(&c->jb, cd, "display", display);
    return cd;
}

struct hl7v2_j *
map_concept1(struct mctx *c, const char *system, const char *code, const char *display)
{
    struct hl7v2_j *cc = hl7v2_j_new(&c->jb, HL7V2_J_OBJ);

    map_coding(c, hl7v2_j_arr(&c->jb, cc, "coding"), system, base_str_from_cstr(code), display);
    return cc;
}
