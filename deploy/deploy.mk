# deploy/deploy.mk — `make demo` (included by Makefile).
demo: deps all
	@if [ -x deploy/demo/run.sh ]; then exec deploy/demo/run.sh; else \
	  echo "make demo: the demo region is not assembled yet; built programs:"; \
	  ls bin/; fi
