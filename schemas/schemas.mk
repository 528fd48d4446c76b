# schemas/schemas.mk — `make gen` (included by the Makefile).
#
# Regenerates the FHIR R4 definitions and the model tables from the shared
# corpus.  Needs python3 (standard library) and the corpus; the outputs are
# committed, so a normal build needs neither.
#   schemas/fhir/r4-types.json, schemas/fhir/r4-valuesets.json  (step 1)
#   fhir/model/gen/model_tables.c, fhir/model/gen/model_ids.h   (step 2)
# `make gen-check` regenerates into a temporary folder and fails when the
# committed files differ.

GEN_PYTHON ?= python3

gen:
	$(GEN_PYTHON) schemas/gen/gen_defs.py $(CORPUS) schemas/fhir
	$(GEN_PYTHON) schemas/gen/gen_tables.py schemas/fhir fhir/model/gen

gen-check:
	@t=$$(mktemp -d) && mkdir -p $$t/fhir $$t/gen && \
	$(GEN_PYTHON) schemas/gen/gen_defs.py $(CORPUS) $$t/fhir && \
	$(GEN_PYTHON) schemas/gen/gen_tables.py $$t/fhir $$t/gen && \
	if diff -q $$t/fhir schemas/fhir >/dev/null && diff -q $$t/gen fhir/model/gen >/dev/null; \
	then echo "gen-check: generated files are up to date"; rm -rf $$t; \
	else echo "gen-check: generated files differ; run make gen"; rm -rf $$t; exit 1; fi

.PHONY: gen gen-check
