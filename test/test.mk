# test/test.mk — test programs and the check targets (included by Makefile).
#
# Unit suites: any test/unit/**/check_*.c defining `Suite *NAME_suite(void)`
# at the start of a line joins test/unit/run_unit.c automatically.
# Integration suites: the same under test/integration/ (run with a private
# PostgreSQL cluster started by test/integration/run.sh).
# Fuzz targets: test/fuzz/fuzz_NAME.c; `make check` replays their corpora.

TEST_CFLAGS   = $(CHECK_CFLAGS) -Wno-missing-prototypes
UNIT_SRCS    := $(sort $(shell find test/unit -name 'check_*.c' 2>/dev/null))
INTEG_SRCS   := $(sort $(shell find test/integration -name 'check_*.c' 2>/dev/null))
SUPPORT_SRCS := $(sort $(wildcard test/support/*.c))
FUZZ_TARGETS := $(sort $(patsubst test/fuzz/fuzz_%.c,%,$(wildcard test/fuzz/fuzz_*.c)))

RUN_UNIT  := $(BUILD)/test/run_unit
RUN_INTEG := $(BUILD)/test/run_integration
REPLAYS   := $(patsubst %,$(BUILD)/test/replay_%,$(FUZZ_TARGETS))

TEST_OBJS := $(call obj,$(UNIT_SRCS) $(INTEG_SRCS) $(SUPPORT_SRCS) test/unit/run_unit.c \
               test/integration/run_integration.c test/fuzz/replay_main.c \
               $(patsubst %,test/fuzz/fuzz_%.c,$(FUZZ_TARGETS)))
$(TEST_OBJS): CFLAGS += $(TEST_CFLAGS)

# Suite registries, rewritten only when the set of suites changes.
define suite_registry
	@mkdir -p $(@D)
	@grep -hoE '^(Suite \*)?[a-z0-9_]+_suite\(void\)$$' $(1) /dev/null \
	  | sed -E 's/^(Suite \*)?(.*)\(void\)$$/SUITE(\2)/' | sort -u > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
endef
$(BUILD)/gen/unit_suites.inc: $(UNIT_SRCS) FORCE
	$(call suite_registry,$(UNIT_SRCS))
$(BUILD)/gen/integ_suites.inc: $(INTEG_SRCS) FORCE
	$(call suite_registry,$(INTEG_SRCS))
$(BUILD)/obj/test/unit/run_unit.o: $(BUILD)/gen/unit_suites.inc
$(BUILD)/obj/test/integration/run_integration.o: $(BUILD)/gen/integ_suites.inc
.PHONY: FORCE
FORCE:

$(RUN_UNIT): $(call obj,test/unit/run_unit.c $(UNIT_SRCS) $(SUPPORT_SRCS)) $(ALL_LIBS)
	@mkdir -p $(@D)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LINK_LIBS) $(LDLIBS) $(CHECK_LIBS)

$(RUN_INTEG): $(call obj,test/integration/run_integration.c $(INTEG_SRCS) $(SUPPORT_SRCS)) $(ALL_LIBS)
	@mkdir -p $(@D)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LINK_LIBS) $(LDLIBS) $(CHECK_LIBS)

$(BUILD)/test/replay_%: $(BUILD)/obj/test/fuzz/fuzz_%.o $(BUILD)/obj/test/fuzz/replay_main.o $(ALL_LIBS)
	@mkdir -p $(@D)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LINK_LIBS) $(LDLIBS)

# ------------------------------------------------------------------ checks --
# Each runner prints Check's summary ("100%: Checks: N, Failures: 0, Errors: 0").
check-unit: $(RUN_UNIT) $(REPLAYS) $(PROGRAMS)
	@echo "== unit and golden tests ($(VARIANT))"
	@FHIRGATE_BIN=$(abspath $(BIN)) $(RUN_UNIT)
	@$(MAKE) --no-print-directory check-fuzz-replay

check-fuzz-replay: $(REPLAYS)
	@echo "== fuzz corpus replay ($(VARIANT)): $(FUZZ_TARGETS)"
	@for t in $(FUZZ_TARGETS); do \
	  test/fuzz/replay.sh $(BUILD)/test/replay_$$t $$t || exit 1; done

check-integration: $(RUN_INTEG) $(PROGRAMS) portal
	@echo "== integration tests ($(VARIANT)): private PostgreSQL, real TLS"
	@FHIRGATE_BIN=$(abspath $(BIN)) test/integration/run.sh $(RUN_INTEG)

check-browser: $(PROGRAMS)
	@if [ -x test/browser/run.sh ]; then \
	  echo "== browser tests ($(VARIANT)): headless Chromium"; \
	  FHIRGATE_BIN=$(abspath $(BIN)) test/browser/run.sh; \
	else echo "== browser tests: none yet"; fi

# Everything, in order; every part runs, and the result fails if any part did.
check: deps
	@rc=0; \
	$(MAKE) --no-print-directory all || exit 1; \
	$(MAKE) --no-print-directory check-unit || rc=1; \
	$(MAKE) --no-print-directory check-integration || rc=1; \
	$(MAKE) --no-print-directory check-browser || rc=1; \
	if [ $$rc -ne 0 ]; then echo "make check: FAILED"; else echo "make check: all tests passed"; fi; \
	exit $$rc

asan:
	$(MAKE) VARIANT=asan check

# ------------------------------------------------------------------- fuzz --
FUZZ_SECONDS ?= 60
FUZZ_BINS := $(patsubst %,build/fuzz/test/fuzz_%,$(FUZZ_TARGETS))
build/fuzz/test/fuzz_%: FORCE
	$(MAKE) --no-print-directory VARIANT=fuzz build/fuzz/obj/test/fuzz/fuzz_$*.o \
	  build/fuzz/lib/libfhir.a build/fuzz/lib/libadapters.a build/fuzz/lib/libgwrt.a \
	  build/fuzz/lib/libgateway.a
	@mkdir -p $(@D)
	clang -fsanitize=fuzzer,address,undefined -pthread -o $@ build/fuzz/obj/test/fuzz/fuzz_$*.o \
	  -Wl,--start-group build/fuzz/lib/*.a -Wl,--end-group $(PKG_LIBS) -lm

# Every target runs even when one finds something; the run fails at the end.
fuzz: $(FUZZ_BINS)
	@failed=""; for t in $(FUZZ_TARGETS); do \
	  test/fuzz/run.sh build/fuzz/test/fuzz_$$t $$t $(FUZZ_SECONDS) || failed="$$failed $$t"; done; \
	if [ -n "$$failed" ]; then echo "make fuzz: findings or errors in:$$failed"; exit 1; fi; \
	echo "make fuzz: $(words $(FUZZ_TARGETS)) targets, $(FUZZ_SECONDS)s each, nothing found"

# ------------------------------------------------------------------ bench --
# test/bench/bench_NAME.c becomes $(BUILD)/test/bench_NAME; test/bench/bench_NAME.sh
# runs it against its peer (see test/bench/run.sh for the output protocol).
BENCH_SRCS := $(sort $(wildcard test/bench/bench_*.c))
BENCH_BINS := $(patsubst test/bench/%.c,$(BUILD)/test/%,$(BENCH_SRCS))
$(call obj,$(BENCH_SRCS)): CFLAGS += -Wno-missing-prototypes
$(BUILD)/test/bench_%: $(BUILD)/obj/test/bench/bench_%.o $(call obj,$(SUPPORT_SRCS)) $(ALL_LIBS)
	@mkdir -p $(@D)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LINK_LIBS) $(LDLIBS)
.PHONY: bench-programs
bench-programs: $(BENCH_BINS)

bench: deps
	@test/bench/run.sh
