#!/usr/bin/env python3
"""Step 2 of `make gen`: schemas/fhir/*.json -> C tables in fhir/model/gen/.

Writes
  fhir/model/gen/model_tables.c  types, elements, choice alternatives, JSON
                                 property hash tables, required value sets
  fhir/model/gen/model_ids.h     enum fhir_model_type_id (named types)
  fhir/model/gen/model_keys.c    fhir_model__key_fns: each type's JSON property
                                 lookup as code (a switch on the name's length,
                                 then its words against constants), and
                                 fhir_model__resource_type (the same by name)

The hash tables use fhir_model__hash (fhir/model/fhir_model.h; hash_name()
below is the same function) with linear probing; they are laid out here so
the C side needs no start-up work.  A type's property table also has a seed
(fhir_model__mix_seeded), chosen so that its keys do not collide.  The
property lookups in model_keys.c return the same slots as those tables
(test/unit/fhir/model/check_model.c compares them on every key).

Standard library only.  Usage: gen_tables.py SCHEMAS_FHIR_DIR OUT_DIR
"""
import json
import os
import sys

KIND = {"primitive-type": "FHIR_MODEL_PRIMITIVE", "complex-type": "FHIR_MODEL_COMPLEX",
        "resource": "FHIR_MODEL_RESOURCE", "backbone": "FHIR_MODEL_BACKBONE"}
BINDING = {None: "FHIR_BINDING_NONE", "required": "FHIR_BINDING_REQUIRED",
           "extensible": "FHIR_BINDING_EXTENSIBLE", "preferred": "FHIR_BINDING_PREFERRED",
           "example": "FHIR_BINDING_EXAMPLE"}
VSKIND = {"codes": "FHIR_VS_CODES", "mime-type": "FHIR_VS_MIME_TYPE",
          "currency": "FHIR_VS_CURRENCY", "none": "FHIR_VS_UNCHECKED"}
ABSTRACT = {"Element", "BackboneElement"}
HEADER = "/* GENERATED — do not edit (schemas/gen/gen_tables.py, `make gen`) */\n"


def fail(msg):
    sys.stderr.write("gen_tables: %s\n" % msg)
    sys.exit(1)


M64 = (1 << 64) - 1


def name_words(s):
    """fhir_model__words: fixed-size little-endian words of a name."""
    b = s.encode("utf-8")
    n = len(b)
    a = z = 0
    if n >= 8:
        a = int.from_bytes(b[:8], "little")
        z = int.from_bytes(b[n - 8:], "little")
    elif n >= 4:
        a = int.from_bytes(b[:4], "little") | int.from_bytes(b[n - 4:], "little") << 32
    elif n > 0:
        a = b[0] | b[n // 2] << 8 | b[n - 1] << 16
    return a, z


def hash_base(s):
    """fhir_model__mix before its final step: the words and the length."""
    a, z = name_words(s)
    n = len(s.encode("utf-8"))
    return (a * 0x9E3779B97F4A7C15 + z * 0xC2B2AE3D27D4EB4F + n) & M64


def hash_final(x, seed=0):
    """fhir_model__mix_seeded: the seed is added before the final mix."""
    x = (x + seed * 0xD6E8FEB86659FD93) & M64
    x ^= x >> 29
    x = (x * 0xBF58476D1CE4E5B9) & M64
    return x >> 32


def hash_name(s):
    """fhir_model__hash: the words mixed with the length."""
    return hash_final(hash_base(s))


def cstr(s):
    out = ['"']
    for ch in s.encode("utf-8"):
        c = chr(ch)
        if c in '"\\':
            out.append("\\" + c)
        elif 32 <= ch < 127:
            out.append(c)
        else:
            out.append("\\%03o" % ch)
    out.append('"')
    return "".join(out)


def hash_slots(names, min_size=4):
    """Open addressing table (linear probing) for `names`; slot = index + 1."""
    size = min_size
    while size < 2 * len(names):
        size *= 2
    slots = [0] * size
    for i, n in enumerate(names):
        h = hash_name(n) & (size - 1)
        while slots[h]:
            h = (h + 1) & (size - 1)
        slots[h] = i + 1
    return slots


KEY_SEEDS = 64          # seeds tried per table size
KEY_MAX_SLOTS = 16384   # largest table tried for one type's keys


def key_slots(names):
    """A type's JSON property table: the smallest size (from twice the key
    count) and seed at which every key sits in its home slot, so that a
    lookup is one probe and one comparison.  Linear probing stays the rule
    (a type without such a seed gets the one that displaces fewest keys)."""
    base = [hash_base(n) for n in names]
    size = 4
    while size < 2 * len(names):
        size *= 2
    best = None
    while size <= KEY_MAX_SLOTS:
        for seed in range(KEY_SEEDS):
            displaced = len(names) - len({hash_final(x, seed) & (size - 1) for x in base})
            if best is None or displaced < best[0]:
                best = (displaced, size, seed)
            if displaced == 0:
                break
        if best[0] == 0:
            break
        size *= 2
    _, size, seed = best
    slots = [0] * size
    for i, x in enumerate(base):
        h = hash_final(x, seed) & (size - 1)
        while slots[h]:
            h = (h + 1) & (size - 1)
        slots[h] = i + 1
    return slots, seed


def pack_key_slot(v, tkeys):
    """A key slot as fhir_model.h's FHIR_MODEL__SLOT_* read it: the key's
    index + 1 in bits 0-15, its element (bits 16-21), choice (22-27) and
    form (28-29), so that a lookup knows them without loading the key."""
    if v == 0:
        return 0
    _, ei, ci, ext = tkeys[v - 1]
    if v > 0xFFFF or ei > 63 or ci > 63 or ext > 3:
        fail("a key does not fit its slot (index %d, element %d, choice %d)" % (v, ei, ci))
    return v | ei << 16 | ci << 22 | ext << 28


def match_fn(fn, entries, arg="key"):
    """C source of `fn`(arg, len): the value of the entry named arg[0..len),
    0 for any other name.  entries: (name, value).  A switch on the length,
    then on the first word (a search tree) where the names of that length
    differ in it, else compares one by one; fhir_model__words() covers every
    byte up to 16, the middle of longer names is compared with memcmp."""
    by_len = {}
    for name, value in entries:
        by_len.setdefault(len(name.encode("utf-8")), []).append((name, value))
    out = ["static uint32_t\n%s(const char *%s, size_t len)\n{\n" % (fn, arg),
           "    struct fhir_model__words w;\n\n    switch (len) {\n"]
    for n in sorted(by_len):
        group = by_len[n]
        out.append("    case %d:\n        w = fhir_model__words(%s, %d);\n" % (n, arg, n))
        firsts = [name_words(name)[0] for name, _ in group]
        tree = len(group) >= 3 and len(set(firsts)) == len(firsts)
        if tree:
            out.append("        switch (w.a) {\n")
        for name, value in group:
            a, z = name_words(name)
            conds = [] if tree else ["w.a == UINT64_C(0x%x)" % a]
            if n >= 8:
                conds.append("w.b == UINT64_C(0x%x)" % z)
            if n > 16:
                mid = name.encode("utf-8")[8:n - 8].decode("utf-8")
                conds.append("memcmp(%s + 8, %s, %d) == 0" % (arg, cstr(mid), n - 16))
            if tree:
                out.append("        case UINT64_C(0x%x):\n" % a)
                if conds:
                    out.append("            return (%s) ? 0x%xu : 0;\n"
                               % (" &&\n                    ".join(conds), value))
                else:
                    out.append("            return 0x%xu;\n" % value)
            else:
                out.append("        if (%s)\n            return 0x%xu;\n"
                           % (" &&\n            ".join(conds), value))
        if tree:
            out.append("        default:\n            return 0;\n        }\n")
        else:
            out.append("        return 0;\n")
    out.append("    default:\n        return 0;\n    }\n}\n\n")
    return "".join(out)


def key_fn(index, tkeys):
    """C source of type `index`'s property lookup and its name ("k_none"
    for a type without properties); the slot returned is pack_key_slot()'s,
    as in the hash table."""
    if not tkeys:
        return "", "k_none"
    fn = "k%d" % index
    return match_fn(fn, [(name, pack_key_slot(i + 1, tkeys))
                         for i, (name, _, _, _) in enumerate(tkeys)]), fn


def cap(s):
    return s[0].upper() + s[1:]


def enum_name(name):
    return "FHIR_T_" + name.upper()


class Tables:
    def __init__(self, types, valuesets):
        self.src = types
        self.vs_list = valuesets
        self.types = []     # dicts: name, kind, elements, flags, prim
        self.by_name = {}
        for t in types:
            self.add_type(t["name"], t["kind"], t["elements"],
                          t.get("abstract", False) or t["name"] in ABSTRACT)
        # backbone types (depth first, after the named ones)
        for t in list(self.types):
            self.collect_backbones(t["name"], t["elements"])
        self.vs_index = {v["url"]: i for i, v in enumerate(valuesets)}

    def add_type(self, name, kind, elements, abstract):
        if name in self.by_name:
            fail("duplicate type %s" % name)
        t = {"name": name, "kind": kind, "elements": elements, "abstract": abstract,
             "index": len(self.types)}
        self.types.append(t)
        self.by_name[name] = t
        return t

    def collect_backbones(self, path, elements):
        for e in elements:
            if "elements" in e:
                p = path + "." + e["name"]
                self.add_type(p, "backbone", e["elements"], False)
                self.collect_backbones(p, e["elements"])

    def type_ref(self, name):
        if name not in self.by_name:
            fail("unknown type %s" % name)
        return "&T[%d]" % self.by_name[name]["index"]

    def emit(self, out_c, out_h, out_keys):
        prim_names = [t["name"] for t in self.types if t["kind"] == "primitive-type"]
        lines = [HEADER, '#include "fhir/model/fhir_model.h"\n',
                 '#include "fhir/model/model_int.h"\n\n',
                 "const size_t fhir_model__type_total = %d;\n" % len(self.types),
                 "const struct fhir_model_type fhir_model__types[%d];\n" % len(self.types),
                 "#define T fhir_model__types\n\n"]
        # value sets ------------------------------------------------------
        codes, vs_rows, vs_slot_rows = [], [], []
        for v in self.vs_list:
            first = len(codes)
            names = []
            for s in v.get("systems", []):
                for c in s["codes"]:
                    codes.append((s["system"], c))
                    names.append(c)
            if len(names) > 65535:
                fail("value set too large")
            slots = hash_slots(names) if names else [0]
            vs_slot_rows.append(slots)
            vs_rows.append((v, first, len(names), len(slots) - 1))
        lines.append("static const struct fhir_model_code VC[%d] = {\n" % max(1, len(codes)))
        for s, c in codes:
            lines.append("    {%s, %s, %d, %d},\n" % (cstr(s), cstr(c), len(s.encode()),
                                                      len(c.encode())))
        lines.append("};\n\n")
        slot_off = []
        flat = []
        for slots in vs_slot_rows:
            slot_off.append(len(flat))
            flat.extend(slots)
        lines.append("static const uint16_t VS_SLOTS[%d] = {\n" % len(flat))
        lines.append(self.wrap(flat))
        lines.append("};\n\n")
        lines.append("const size_t fhir_model__valueset_total = %d;\n" % len(vs_rows))
        lines.append("const struct fhir_model_valueset fhir_model__valuesets[%d] = {\n"
                     % max(1, len(vs_rows)))
        for i, (v, first, n, mask) in enumerate(vs_rows):
            lines.append("    {%s, &VC[%d], &VS_SLOTS[%d], %d, %d, %s},\n"
                         % (cstr(v["url"]), first, slot_off[i], n, mask, VSKIND[v["check"]]))
        lines.append("};\n\n")
        vs_names = [v["url"].split("|", 1)[0] for v in self.vs_list]
        vslots = hash_slots(vs_names)
        lines.append("const uint16_t fhir_model__valueset_mask = %d;\n" % (len(vslots) - 1))
        lines.append("const uint16_t fhir_model__valueset_slots[%d] = {\n" % len(vslots))
        lines.append(self.wrap(vslots))
        lines.append("};\n\n")
        # elements, choices, keys ----------------------------------------
        elems, choices, keys, kslots = [], [], [], []
        self.key_fns = []
        type_rows = []
        max_elems = 0
        for t in self.types:
            e_first, k_first, s_first = len(elems), len(keys), len(kslots)
            tkeys = []
            required = 0
            required_mask = 0
            for ei, e in enumerate(t["elements"]):
                row, ekeys = self.elem_row(t, e, ei, choices)
                elems.append(row)
                tkeys.extend(ekeys)
                if e["min"] >= 1:
                    required += 1
                    required_mask |= 1 << ei
            names = [k[0] for k in tkeys]
            if len(set(names)) != len(names):
                fail("%s: duplicate JSON property names" % t["name"])
            slots, seed = key_slots(names) if names else ([0], 0)
            slots = [pack_key_slot(v, tkeys) for v in slots]
            self.key_fns.append(key_fn(t["index"], tkeys))
            keys.extend(tkeys)
            kslots.extend(slots)
            max_elems = max(max_elems, len(t["elements"]))
            type_rows.append((t, e_first, k_first, s_first, len(slots) - 1, seed, required,
                              required_mask))
        lines.append("static const struct fhir_model_choice C[%d] = {\n" % len(choices))
        for ty, jn in choices:
            lines.append("    {%s, %s, %d},\n" % (self.type_ref(ty), cstr(jn), len(jn)))
        lines.append("};\n\n")
        lines.append("static const struct fhir_model_elem E[%d] = {\n" % len(elems))
        lines.extend(elems)
        lines.append("};\n\n")
        lines.append("static const struct fhir_model_key K[%d] = {\n" % len(keys))
        for name, ei, ci, ext in keys:
            a, z = name_words(name)
            lines.append("    {UINT64_C(0x%x), UINT64_C(0x%x), %s, %d, %d, %d, %d},\n"
                         % (a, z, cstr(name), len(name), ei, ci, ext))
        lines.append("};\n\n")
        lines.append("static const uint32_t KS[%d] = {\n" % len(kslots))
        lines.append(self.wrap(kslots))
        lines.append("};\n\n")
        lines.append("const struct fhir_model_type fhir_model__types[%d] = {\n" % len(self.types))
        for t, e_first, k_first, s_first, mask, seed, required, required_mask in type_rows:
            prim = ("FHIR_PRIM_" + t["name"].upper()) if t["kind"] == "primitive-type" \
                else "FHIR_PRIM_NONE"
            flags = "FHIR_MODEL_TYPE_ABSTRACT" if t["abstract"] else "0"
            lines.append("    {UINT64_C(0x%x), %s, &E[%d], &K[%d], &KS[%d], %d, %d, %d, %d, %d, "
                         "%s, %s, %s, %d},\n"
                         % (required_mask, cstr(t["name"]), e_first, k_first, s_first,
                            len(t["name"]),
                            len(t["elements"]), mask, seed, t["index"], KIND[t["kind"]], prim,
                            flags, required))
        lines.append("};\n\n")
        tslots = hash_slots([t["name"] for t in self.types])
        lines.append("const uint16_t fhir_model__type_mask = %d;\n" % (len(tslots) - 1))
        lines.append("const uint16_t fhir_model__type_slots[%d] = {\n" % len(tslots))
        lines.append(self.wrap(tslots))
        lines.append("};\n")
        if max_elems > 64:
            fail("a type has more than 64 elements (bit sets are one uint64_t)")
        if len(keys) > 65535 or len(self.types) > 65535:
            fail("tables exceed 16-bit indices")
        self.write(out_c, "".join(lines))
        # header with named type ids -----------------------------------
        h = [HEADER, "/*\n * fhir/model/gen/model_ids.h — positions of the named types in the\n"
             " * type table: fhir_model_type_at(FHIR_T_PATIENT).\n */\n",
             "#ifndef FHIR_MODEL_GEN_MODEL_IDS_H\n#define FHIR_MODEL_GEN_MODEL_IDS_H\n\n",
             "/* Most elements any one type has (sizes per-object scratch arrays). */\n",
             "#define FHIR_MODEL_MAX_ELEMS %d\n\n" % max_elems,
             "enum fhir_model_type_id {\n"]
        for t in self.types:
            if t["kind"] == "backbone":
                continue
            h.append("    %s = %d,\n" % (enum_name(t["name"]), t["index"]))
        h.append("    FHIR_T_NAMED_COUNT = %d\n};\n\n" % sum(1 for t in self.types
                                                            if t["kind"] != "backbone"))
        # element positions the validator's invariants look at directly
        h.append("/* Positions of elements that invariants test (ext-1, sqty-1, ele-1). */\n"
                 "enum fhir_model_elem_id {\n")
        for tname, ename in (("Extension", "extension"), ("Extension", "value[x]"),
                             ("SimpleQuantity", "comparator")):
            t = self.by_name[tname]
            idx = [e["name"] for e in t["elements"]].index(ename)
            h.append("    FHIR_E_%s_%s = %d,\n" % (tname.upper(), ename.replace("[x]", "").upper(),
                                                    idx))
        # every primitive type has the same two elements: id, extension
        for t in self.types:
            if t["kind"] == "primitive-type" and [e["name"] for e in t["elements"]] != \
                    ["id", "extension"]:
                fail("primitive %s: elements are not id, extension" % t["name"])
        h.append("    FHIR_E_PRIMITIVE_EXTENSION = 1 /* id, extension */\n};\n\n")
        h.append("#endif /* FHIR_MODEL_GEN_MODEL_IDS_H */\n")
        self.write(out_h, "".join(h))
        self.emit_keys(out_keys)
        return prim_names

    def emit_keys(self, out_keys):
        """model_keys.c: one lookup function per type, and their table."""
        k = [HEADER, "/*\n * fhir/model/gen/model_keys.c — each type's JSON property lookup as\n"
             " * code: fhir_model__key_fns[type index](name, len) is the slot\n"
             " * fhir_model__key_slot() finds in the type's hash table (0: no such\n"
             " * property), without hashing the name or loading a key.\n */\n",
             "#include <string.h>\n\n", '#include "fhir/model/fhir_model.h"\n\n']
        if any(name == "k_none" for _, name in self.key_fns):
            k.append("static uint32_t\nk_none(const char *key, size_t len)\n{\n"
                     "    (void)key;\n    (void)len;\n    return 0;\n}\n\n")
        names = []
        seen = {}  # types with the same properties share one function
        for src, name in self.key_fns:
            body = src.replace(name + "(", "@(", 1)
            if body in seen:
                name = seen[body]
            else:
                seen[body] = name
                k.append(src)
            names.append(name)
        k.append("uint32_t (*const fhir_model__key_fns[%d])(const char *, size_t) = {\n"
                 % len(names))
        for i in range(0, len(names), 8):
            k.append("    " + ", ".join(names[i:i + 8]) + ",\n")
        k.append("};\n\n")
        # concrete resource types by name: their index + 1
        res = [(t["name"], t["index"] + 1) for t in self.types
               if t["kind"] == "resource" and not t["abstract"]]
        k.append(match_fn("resource_type", res, "name"))
        k.append("uint32_t\nfhir_model__resource_type(const char *name, size_t len)\n{\n"
                 "    return resource_type(name, len);\n}\n")
        self.write(out_keys, "".join(k))

    def elem_row(self, t, e, ei, choices):
        flags = []
        keys = []
        name = e["name"]
        is_choice = name.endswith("[x]")
        base = name[:-3] if is_choice else name
        if e["max"] == "*":
            flags.append("FHIR_MODEL_ELEM_MULTIPLE")
        ty_ref = "NULL"
        ch_ref = "NULL"
        n_choice = 0
        if is_choice:
            flags.append("FHIR_MODEL_ELEM_CHOICE")
            ch_ref = "&C[%d]" % len(choices)
            for ci, ty in enumerate(e["types"]):
                jn = base + cap(ty)
                choices.append((ty, jn))
                keys.append((jn, ei, ci, 0))
                if self.by_name[ty]["kind"] == "primitive-type":
                    keys.append(("_" + jn, ei, ci, 1))
            n_choice = len(e["types"])
            keys.append((base, ei, 0, 2))  # base name, for fhir_model_elem_find
        else:
            if "contentReference" in e:
                flags.append("FHIR_MODEL_ELEM_CONTENT_REF")
                target = e["contentReference"][1:]
            elif "elements" in e:
                flags.append("FHIR_MODEL_ELEM_BACKBONE")
                target = t["name"] + "." + name
            else:
                if len(e["types"]) != 1:
                    fail("%s.%s: several types outside a choice" % (t["name"], name))
                target = e["types"][0]
            ty_ref = self.type_ref(target)
            keys.append((name, ei, 0, 0))
            tt = self.by_name[target]
            if e.get("xmlAttr"):
                flags.append("FHIR_MODEL_ELEM_XML_ATTR")
            elif tt["kind"] == "primitive-type" and target != "xhtml":
                # xhtml has no "_div" form (JSON schema: Narrative has no _div)
                keys.append(("_" + name, ei, 0, 1))
        b = e.get("binding", {})
        vs_url = b.get("valueSet")
        vs_ref = "NULL"
        if b.get("strength") == "required" and vs_url in self.vs_index:
            vs_ref = "&fhir_model__valuesets[%d]" % self.vs_index[vs_url]
        row = "    {%s, %s, %s, %s, %s, %s, %d, %d, %d, %s, %s},\n" % (
            cstr(base), ty_ref, ch_ref, vs_ref, cstr(vs_url) if vs_url else "NULL",
            "FHIR_MODEL_MAX_UNBOUNDED" if e["max"] == "*" else e["max"], len(base), e["min"],
            n_choice, BINDING[b.get("strength")], " | ".join(flags) if flags else "0")
        return row, keys

    @staticmethod
    def wrap(nums):
        out = []
        for i in range(0, len(nums), 16):
            out.append("    " + ", ".join(str(n) for n in nums[i:i + 16]) + ",\n")
        return "".join(out)

    @staticmethod
    def write(path, text):
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(path + ".tmp", path)


def main():
    if len(sys.argv) != 3:
        fail("usage: gen_tables.py SCHEMAS_FHIR_DIR OUT_DIR")
    src, out = sys.argv[1], sys.argv[2]
    with open(os.path.join(src, "r4-types.json"), encoding="utf-8") as f:
        types = json.load(f)["types"]
    with open(os.path.join(src, "r4-valuesets.json"), encoding="utf-8") as f:
        valuesets = json.load(f)["valueSets"]
    os.makedirs(out, exist_ok=True)
    Tables(types, valuesets).emit(os.path.join(out, "model_tables.c"),
                                  os.path.join(out, "model_ids.h"),
                                  os.path.join(out, "model_keys.c"))


if __name__ == "__main__":
    main()
