# gateway/portal/portal.mk — the web portal's build (included by the Makefile).
#
# The portal is static files: gateway/portal/{index.html,css,js,img} copied
# as they are into build/portal/, plus the charting library (Chart.js) from
# the npm registry, installed with `npm ci` from the committed lock file in
# build/npm/portal/ (never in the source tree) and copied to
# build/portal/vendor/.  The gateway serves build/portal/ through its
# `[portal] root` setting.  No bundler: the browser loads the ES modules.

PORTAL_DIR   := build/portal
PORTAL_NPM   := build/npm/portal
PORTAL_FILES := $(patsubst gateway/portal/%,%,$(sort $(shell find gateway/portal \
                  \( -name node_modules -prune \) -o -type f \
                  \( -name '*.html' -o -name '*.css' -o -name '*.js' -o -name '*.svg' \) -print)))
PORTAL_CHART := $(PORTAL_NPM)/node_modules/chart.js/dist/chart.umd.min.js

.PHONY: portal
all: portal
portal: $(PORTAL_DIR)/.built

$(PORTAL_CHART): gateway/portal/package.json gateway/portal/package-lock.json
	@mkdir -p $(PORTAL_NPM)
	@$(if $(V),,echo "  NPM     chart.js (npm ci)")
	$(Q)cp gateway/portal/package.json gateway/portal/package-lock.json $(PORTAL_NPM)/
	$(Q)cd $(PORTAL_NPM) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
	$(Q)touch $@

# Built in a temporary folder and renamed, so a half-copied portal is never served.
$(PORTAL_DIR)/.built: $(addprefix gateway/portal/,$(PORTAL_FILES)) $(PORTAL_CHART) gateway/portal/portal.mk
	@$(if $(V),,echo "  PORTAL  $(PORTAL_DIR)/")
	$(Q)rm -rf $(PORTAL_DIR).tmp && mkdir -p $(PORTAL_DIR).tmp/vendor
	$(Q)cd gateway/portal && cp --parents $(PORTAL_FILES) $(abspath $(PORTAL_DIR).tmp)/
	$(Q)cp $(PORTAL_CHART) $(PORTAL_CHART).map $(PORTAL_DIR).tmp/vendor/
	$(Q)cp $(PORTAL_NPM)/node_modules/chart.js/LICENSE.md $(PORTAL_DIR).tmp/vendor/chart.js-LICENSE.md
	$(Q)rm -rf $(PORTAL_DIR) && mv $(PORTAL_DIR).tmp $(PORTAL_DIR)
	$(Q)touch $@

# ---------------------------------------------------------- browser tests --
# test/browser/run.sh (make check-browser) drives the portal in headless
# Chromium against a real gateway; its member hospitals are the fhirgate
# adapter when it is built, else test/browser/member.c (a real HTTPS FHIR
# server made of gateway/http, fhir/search and fhir/bundle serving fixed data).
PORTAL_MEMBER := $(BUILD)/test/portal_member
$(PORTAL_MEMBER): $(call obj,test/browser/member.c) $(ALL_LIBS)
	@mkdir -p $(@D)
	@$(if $(V),,echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LINK_LIBS) $(LDLIBS)

check-browser: portal $(PORTAL_MEMBER)
check-browser: export FHIRGATE_PORTAL_ROOT := $(abspath $(PORTAL_DIR))
check-browser: export FHIRGATE_PORTAL_MEMBER := $(abspath $(PORTAL_MEMBER))
