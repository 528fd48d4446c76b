# fhirgate — one non-recursive GNU Makefile.
#
#   make              build bin/ (release: -O2, hardening, -Werror)
#   make check        build and run every test (unit, golden, fuzz replay,
#                     integration against a private PostgreSQL, browser)
#   make check-unit   fast subset: unit + golden + fuzz replay (no servers)
#   make asan         the whole test suite under ASan + UBSan
#   make fuzz         every libFuzzer target for FUZZ_SECONDS each (clang)
#   make bench        benchmarks against peers measured in the same run
#   make demo         start the demo region (see README)
#   make clean
#
# Modules are discovered by directory: a new .c file under fhir/, adapters/
# or gateway/ joins its library without editing this file.  Programs are the
# main.c files listed below.

VARIANT ?= release
BUILD   := build/$(VARIANT)
BIN     := $(if $(filter release,$(VARIANT)),bin,$(BUILD)/bin)
CC      ?= cc
ifeq ($(VARIANT),fuzz)
CC      := clang
endif

PKGS       := libmicrohttpd gnutls libcurl openssl jansson libxml-2.0 libpq icu-uc icu-i18n zlib
CONFIG_MK  := build/config.mk

# Where the shared test corpus lives (tests only; the product never needs it).
CORPUS ?= $(firstword $(wildcard $(abspath ../shared/corpus) /work/shared/corpus) $(abspath ../shared/corpus))
export FHIRGATE_CORPUS := $(CORPUS)

NO_CONFIG_GOALS := clean distclean help
ifeq ($(filter-out $(NO_CONFIG_GOALS),$(or $(MAKECMDGOALS),all)),)
else
-include $(CONFIG_MK)
endif

# pkg-config flags are cached in build/config.mk; when pkg-config cannot find
# a library, deploy/install-deps.sh installs the missing packages first.
$(CONFIG_MK): deploy/install-deps.sh Makefile
	@mkdir -p $(@D)
	@pkg-config --exists $(PKGS) check || ./deploy/install-deps.sh
	@{ echo "PKG_CFLAGS := $$(pkg-config --cflags $(PKGS))"; \
	   echo "PKG_LIBS := $$(pkg-config --libs $(PKGS))"; \
	   echo "CHECK_CFLAGS := $$(pkg-config --cflags check)"; \
	   echo "CHECK_LIBS := $$(pkg-config --libs check)"; } > $@.tmp && mv $@.tmp $@

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wpointer-arith -Wformat=2 -Wformat-security -Wimplicit-fallthrough -Wundef \
        -Wvla -Wnull-dereference -Wwrite-strings -fno-common
HARDEN := -fstack-protector-strong -fstack-clash-protection -fcf-protection -fPIE
LDHARDEN := -pie -Wl,-z,relro,-z,now,-z,noexecstack

CFLAGS.release := -O2 -g -D_FORTIFY_SOURCE=2
CFLAGS.debug   := -O0 -g3 -fno-omit-frame-pointer
CFLAGS.asan    := -O1 -g3 -fno-omit-frame-pointer -fsanitize=address,undefined \
                  -fno-sanitize-recover=all
CFLAGS.fuzz    := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
                  -fno-sanitize-recover=all -DFHIRGATE_FUZZING
CFLAGS.bench   := $(CFLAGS.release) -DFHIRGATE_BENCH_NOOP_AUDIT
LDFLAGS.asan   := -fsanitize=address,undefined
LDFLAGS.fuzz   := -fsanitize=address,undefined

CPPFLAGS := -I. -I$(BUILD)/gen -D_GNU_SOURCE $(PKG_CFLAGS)
CFLAGS   := -std=c17 -pthread $(CFLAGS.$(VARIANT)) $(WARN) $(HARDEN)
LDFLAGS  := -pthread $(LDHARDEN) $(LDFLAGS.$(VARIANT))
LDLIBS   := $(PKG_LIBS) -lm

# ---------------------------------------------------------------- sources --
MAINS        := gateway/main.c adapters/facade/main.c gateway/cli/main.c
FHIR_SRCS    := $(sort $(shell find fhir -name '*.c' 2>/dev/null))
ADAPTER_SRCS := $(filter-out $(MAINS),$(sort $(shell find adapters -name '*.c' 2>/dev/null)))
# gateway/http and gateway/db are the runtime plumbing both daemons use
# (the one layering exception: adapters may link them).
GWHTTP_SRCS  := $(sort $(wildcard gateway/http/*.c gateway/db/*.c))
CLI_SRCS     := $(filter-out gateway/cli/main.c,$(sort $(wildcard gateway/cli/*.c)))
GW_SRCS      := $(filter-out $(MAINS) $(GWHTTP_SRCS) gateway/cli/%,\
                  $(sort $(shell find gateway -name '*.c' 2>/dev/null)))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_FHIR    := $(BUILD)/lib/libfhir.a
LIB_ADAPT   := $(BUILD)/lib/libadapters.a
LIB_GWHTTP  := $(BUILD)/lib/libgwrt.a
LIB_GW      := $(BUILD)/lib/libgateway.a
ALL_LIBS    := $(LIB_GW) $(LIB_ADAPT) $(LIB_GWHTTP) $(LIB_FHIR)
LINK_LIBS    = -Wl,--start-group $(ALL_LIBS) -Wl,--end-group

$(LIB_FHIR):   $(call obj,$(FHIR_SRCS))
$(LIB_ADAPT):  $(call obj,$(ADAPTER_SRCS))
$(LIB_GWHTTP): $(call obj,$(GWHTTP_SRCS))
$(LIB_GW):     $(call obj,$(GW_SRCS))
$(ALL_LIBS):
	@mkdir -p $(@D)
	@rm -f $@
	@$(if $(V),,echo "  AR      $@")
	$(Q)ar rcs $@ $^

PROGRAMS :=
ifneq ($(wildcard gateway/cli/main.c),)
PROGRAMS += $(BIN)/fhirgate
$(BIN)/fhirgate: $(call obj,gateway/cli/main.c $(CLI_SRCS)) $(ALL_LIBS)
endif
ifneq ($(wildcard gateway/main.c),)
PROGRAMS += $(BIN)/fhirgate-gateway
$(BIN)/fhirgate-gateway: $(call obj,gateway/main.c) $(ALL_LIBS)
endif
ifneq ($(wildcard adapters/facade/main.c),)
PROGRAMS += $(BIN)/fhirgate-adapter
$(BIN)/fhirgate-adapter: $(call obj,adapters/facade/main.c) $(ALL_LIBS)
endif
$(PROGRAMS):
	@mkdir -p $(@D)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LINK_LIBS) $(LDLIBS)

# ---------------------------------------------------------------- compile --
# Quiet by default ("CC file"); V=1 shows the commands.
Q := $(if $(V),,@)
$(BUILD)/obj/%.o: %.c $(CONFIG_MK)
	@mkdir -p $(@D)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

.DEFAULT_GOAL := all
.PHONY: all check check-unit check-integration check-browser check-fuzz-replay asan fuzz bench \
        demo clean distclean lint depcheck hdrcheck deps gen help
all: $(PROGRAMS) $(ALL_LIBS)

deps:
	./deploy/install-deps.sh

include test/test.mk
include schemas/schemas.mk

include schemas/sql/sql.mk
-include deploy/deploy.mk
include gateway/portal/portal.mk

clean:
	rm -rf build bin

distclean: clean
	rm -rf var node_modules

help:
	@sed -n '3,13p' Makefile
