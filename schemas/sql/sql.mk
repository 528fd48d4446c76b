# schemas/sql/sql.mk — embed the SQL migrations into libgwrt.a (included by
# the Makefile).  Every schemas/sql/{gateway,adapter}/*.sql becomes bytes in
# $(BUILD)/gen/sql_migrations.c; the file is rewritten only when its content
# changes, so adding, editing or removing a migration rebuilds just that.
SQL_MIGRATIONS := $(sort $(shell find schemas/sql -name '*.sql' 2>/dev/null))
SQL_GEN_C      := $(BUILD)/gen/sql_migrations.c
SQL_GEN_O      := $(BUILD)/obj/gen/sql_migrations.o

$(SQL_GEN_C): schemas/sql/embed.sh FORCE
	@mkdir -p $(@D)
	@# a temporary of its own: `make fuzz -j2` runs one sub-make per target,
	@# and two of them may regenerate this at once
	@schemas/sql/embed.sh $(SQL_MIGRATIONS) > $@.tmp.$$$$ && \
	if cmp -s $@.tmp.$$$$ $@; then rm -f $@.tmp.$$$$; else mv -f $@.tmp.$$$$ $@; fi

$(SQL_GEN_O): $(SQL_GEN_C) $(CONFIG_MK)
	@mkdir -p $(@D)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-overlength-strings -MMD -MP -c $< -o $@

$(LIB_GWHTTP): $(SQL_GEN_O)
