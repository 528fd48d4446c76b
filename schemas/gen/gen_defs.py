#!/usr/bin/env python3
"""Step 1 of `make gen`: the official R4 definitions -> schemas/fhir/*.json.

Reads (in place, never copied):
  fhir-r4-definitions/types.json      every R4 type, flattened StructureDefinitions
  fhir-r4-definitions/valuesets.json  expanded R4 value sets
  fhir-r4-schema/fhir.schema.json     the official JSON schema (primitive regexes,
                                      the list of concrete resource types)

Writes the compact definitions the validator and the model need, committed:
  schemas/fhir/r4-types.json      one type per line, elements in definition order
  schemas/fhir/r4-valuesets.json  codes of every value set bound `required`

Corrections applied to types.json (each is a documented difference between
the flattened package and the R4 specification / JSON schema):
  - Element.id (the id of every datatype and backbone element) is
    System.String, not `id`: type `string`, and it is an XML attribute, so it
    has no `_id` form (JSON schema: Element.id -> string, no _id).
  - Extension.url is `uri` (JSON schema) and an XML attribute (no `_url`).
  - The `_name` shadow entries are dropped; a `_name` form is derived for every
    element whose type is primitive.
  - Four resource-level elements that reuse a backbone element defined deeper
    in the same resource (contentReference) are missing from the package and
    are put back (MISSING_CONTENT_REFS); every property the JSON schema gives a
    resource must then exist in the model, or generation fails.

Standard library only.  Usage: gen_defs.py CORPUS_DIR OUT_DIR
"""
import json
import os
import sys

PRIMITIVES_ORDER = None  # filled from types.json

# Value sets bound `required` in R4 that the expanded package does not carry.
# Each gets a check the validator can still do (see fhir/model/fhir_model.h).
NOT_EXPANDED = {
    # BCP 13 media types: not enumerable; syntax check type "/" subtype [params].
    "http://hl7.org/fhir/ValueSet/mimetypes": {"check": "mime-type"},
    # ISO 4217 currency codes: syntax check (three upper-case letters).
    "http://hl7.org/fhir/ValueSet/currencies": {"check": "currency"},
    # UCUM units: an open grammar, not enumerable; not checked.
    "http://hl7.org/fhir/ValueSet/ucum-units": {"check": "none"},
    # A LOINC answer list not shipped with the package; not checked.
    "http://loinc.org/vs/LL379-9": {"check": "none"},
    # HL7 v3 Confidentiality (2014-03-26): the six codes of the
    # ConfidentialityClassification value set (U, L, M, N, R, V), code system
    # http://terminology.hl7.org/CodeSystem/v3-Confidentiality.
    "http://terminology.hl7.org/ValueSet/v3-ConfidentialityClassification": {
        "check": "codes",
        "systems": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
            "codes": ["U", "L", "M", "N", "R", "V"],
        }],
    },
}


# Resource-level contentReference elements the flattened package drops
# (R4 definitions, e.g. ClaimResponse.adjudication: 0..*, "#ClaimResponse.
# item.adjudication"; present in fhir.schema.json and fhir-single.xsd).
# resource -> (element it follows in definition order, name, contentReference)
MISSING_CONTENT_REFS = {
    "ClaimResponse": ("addItem", "adjudication", "#ClaimResponse.item.adjudication"),
    "ExplanationOfBenefit": ("addItem", "adjudication", "#ExplanationOfBenefit.item.adjudication"),
    "Invoice": ("lineItem", "totalPriceComponent", "#Invoice.lineItem.priceComponent"),
    "SubstanceSpecification": ("name", "molecularWeight",
                               "#SubstanceSpecification.structure.isotope.molecularWeight"),
}


def fail(msg):
    sys.stderr.write("gen_defs: %s\n" % msg)
    sys.exit(1)


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def cap(s):
    return s[0].upper() + s[1:]


class Gen:
    def __init__(self, types, schema):
        self.types = types
        self.schema = schema
        self.required_vs = {}  # versioned URL -> list of element paths
        self.kinds = {n: d["_kind"] for n, d in types.items()}

    def is_primitive(self, tname):
        return self.kinds.get(tname) == "primitive-type"

    def elements(self, owner, path, props, in_datatype_or_backbone):
        out = []
        groups = {}
        for p in props:
            name = p["_name"]
            if name.startswith("_"):
                continue
            ty = p["_type"]
            sub = p.get("_properties") or []
            elem = None
            if "_choice" in p:
                # nested backbone elements spell the group "value[x]"
                base = p["_choice"][:-3] if p["_choice"].endswith("[x]") else p["_choice"]
                if name != base + cap(ty):
                    fail("%s.%s: choice name does not follow base+Type" % (path, name))
                if base in groups:
                    g = groups[base]
                    g["types"].append(ty)
                    if p.get("_required") and g["min"] == 0:
                        g["min"] = 1
                    continue
                elem = {"name": base + "[x]", "types": [ty],
                        "min": 1 if p.get("_required") else 0,
                        "max": "*" if p["_multiple"] else "1"}
                groups[base] = elem
            else:
                elem = {"name": name, "min": 1 if p.get("_required") else 0,
                        "max": "*" if p["_multiple"] else "1"}
                if ty.startswith("#"):
                    elem["contentReference"] = ty
                elif sub:
                    if ty not in ("BackboneElement", "Element"):
                        fail("%s.%s: nested properties on type %s" % (path, name, ty))
                    elem["types"] = [ty]
                    elem["elements"] = self.elements(owner, path + "." + name, sub, True)
                else:
                    elem["types"] = [ty]
                # Element.id is System.String and an XML attribute (see header).
                if name == "id" and in_datatype_or_backbone:
                    elem["types"] = ["string"]
                    elem["xmlAttr"] = True
                if owner == "Extension" and path == "Extension" and name == "url":
                    elem["types"] = ["uri"]
                    elem["xmlAttr"] = True
            strength = p.get("_valueSetStrength")
            if strength:
                b = {"strength": strength}
                if p.get("_valueSet"):
                    b["valueSet"] = p["_valueSet"]
                    if strength == "required":
                        self.required_vs.setdefault(p["_valueSet"], []).append(path + "." + name)
                elem.setdefault("binding", b)
            if p.get("_targetProfiles"):
                tg = [u.rsplit("/", 1)[1] for u in p["_targetProfiles"]]
                if "targets" in elem:
                    elem["targets"] = sorted(set(elem["targets"]) | set(tg))
                else:
                    elem["targets"] = tg
            out.append(elem)
        return out

    def add_content_ref(self, owner, elems, after, name, ref):
        sp = self.schema["definitions"].get(owner, {}).get("properties", {}).get(name)
        if sp is None or sp.get("type") != "array":
            fail("%s.%s: not a repeating element of the JSON schema" % (owner, name))
        names = [e["name"] for e in elems]
        if name in names:
            fail("%s.%s: already present, drop it from MISSING_CONTENT_REFS" % (owner, name))
        if after not in names:
            fail("%s.%s: no element %s to follow" % (owner, name, after))
        elems.insert(names.index(after) + 1,
                     {"name": name, "min": 0, "max": "*", "contentReference": ref})

    def check_against_schema(self, owner, elems):
        names = set()
        for e in elems:
            if e["name"].endswith("[x]"):
                names.update(e["name"][:-3] + cap(t) for t in e["types"])
            else:
                names.add(e["name"])
        for prop in self.schema["definitions"].get(owner, {}).get("properties", {}):
            if not prop.startswith("_") and prop != "resourceType" and prop not in names:
                fail("%s.%s: in the JSON schema but not in the model" % (owner, prop))

    def run(self):
        disc = self.schema["discriminator"]["mapping"]
        prim_regex = {}
        out = []
        for name, d in self.types.items():
            kind = d["_kind"]
            t = {"name": name, "kind": kind}
            if kind == "resource":
                t["abstract"] = name not in disc
            if kind == "primitive-type":
                sd = self.schema["definitions"].get(name, {})
                if "pattern" in sd:
                    t["regex"] = sd["pattern"]
                t["json"] = sd.get("type", "string")
                # A primitive's value is the JSON value (XML: @value); its
                # `_name` object holds only id and extension.
                props = [p for p in d["_properties"] if p["_name"] in ("id", "extension")]
            else:
                props = d["_properties"]
            in_dt = kind != "resource"
            t["elements"] = self.elements(name, name, props, in_dt)
            if name in MISSING_CONTENT_REFS:
                self.add_content_ref(name, t["elements"], *MISSING_CONTENT_REFS[name])
            if kind == "resource":
                self.check_against_schema(name, t["elements"])
            out.append(t)
        for r in disc:
            if r not in self.types:
                fail("resource %s of the JSON schema is missing from types.json" % r)
        return out


def expand_valuesets(required_vs, valuesets):
    out = {}
    for vurl in sorted(required_vs):
        url = vurl.split("|", 1)[0]
        entry = {"url": vurl, "boundFrom": sorted(required_vs[vurl])[:3]}
        if url in valuesets:
            entry["check"] = "codes"
            entry["systems"] = [{"system": s["uri"], "codes": [c["code"] for c in s["codes"]]}
                                for s in valuesets[url]["systems"]]
        elif url in NOT_EXPANDED:
            entry.update(NOT_EXPANDED[url])
        else:
            fail("required value set %s has no expansion and no rule" % vurl)
        out[vurl] = entry
    return out


def write_types(path, types):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write('{"fhirVersion":"4.0.1","generatedBy":"schemas/gen/gen_defs.py","types":[\n')
        for i, t in enumerate(types):
            f.write(json.dumps(t, separators=(",", ":"), ensure_ascii=False))
            f.write(",\n" if i + 1 < len(types) else "\n")
        f.write("]}\n")
    os.replace(path + ".tmp", path)


def write_valuesets(path, vs):
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write('{"fhirVersion":"4.0.1","generatedBy":"schemas/gen/gen_defs.py","valueSets":[\n')
        items = list(vs.values())
        for i, v in enumerate(items):
            f.write(json.dumps(v, separators=(",", ":"), ensure_ascii=False))
            f.write(",\n" if i + 1 < len(items) else "\n")
        f.write("]}\n")
    os.replace(path + ".tmp", path)


def main():
    if len(sys.argv) != 3:
        fail("usage: gen_defs.py CORPUS_DIR OUT_DIR")
    corpus, outdir = sys.argv[1], sys.argv[2]
    types = load(os.path.join(corpus, "fhir-r4-definitions", "types.json"))
    valuesets = load(os.path.join(corpus, "fhir-r4-definitions", "valuesets.json"))
    schema = load(os.path.join(corpus, "fhir-r4-schema", "fhir.schema.json"))
    g = Gen(types, schema)
    out = g.run()
    vs = expand_valuesets(g.required_vs, valuesets)
    os.makedirs(outdir, exist_ok=True)
    write_types(os.path.join(outdir, "r4-types.json"), out)
    write_valuesets(os.path.join(outdir, "r4-valuesets.json"), vs)


if __name__ == "__main__":
    main()
