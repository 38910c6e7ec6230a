# tests/ — build/tests/runner holds every C test (tests/test-*.c); it also
# finds and runs the script tests (tests/*.test.sh, tests/browser/*.test.mjs).
# Helper programs the tests start live in tests/progs/ and are built to
# build/tests/progs/.

TEST_SRCS := tests/runner.c $(wildcard tests/test-*.c) $(wildcard tests/lib/*.c)
TEST_OBJS := $(TEST_SRCS:%.c=$(OBJ)/%.o)
TEST_CFLAGS := $(CFLAGS_COMMON) -Itests -Itracer -Iruntime/include -I$(GEN) \
  $(RUNTIME_CFLAGS) $(shell $(PKG_CONFIG) --cflags libcjson) \
  -DTEST_SRC_DIR='"$(CURDIR)"'

$(OBJ)/tests/%.o: tests/%.c $(TRACER_SKELS) $(GEN)/looptrace_version.h
	$(call compile_c,$@,$<,$(TEST_CFLAGS))

$(BUILD)/tests/runner: $(TEST_OBJS) $(TRACER_LIB_OBJS) $(RUNTIME_A)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_COMMON) -o $@ $(TEST_OBJS) $(TRACER_LIB_OBJS) \
	  $(RUNTIME_A) $(TRACER_LIBS) $(RUNTIME_LIBS)

PROG_SRCS := $(wildcard tests/progs/*.c)
PROGS := $(PROG_SRCS:tests/progs/%.c=$(BUILD)/tests/progs/%)

$(OBJ)/progs/%.o: tests/progs/%.c
	$(call compile_c,$@,$<,$(TEST_CFLAGS))

$(BUILD)/tests/progs/%: $(OBJ)/progs/%.o $(RUNTIME_SO)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_COMMON) -o $@ $< -L$(BUILD) -l:liblooprt.so.0 \
	  -Wl,-rpath,'$$ORIGIN/../..' $(RUNTIME_LIBS)

ALL_TARGETS += $(BUILD)/tests/runner $(PROGS)

# `make test` = dependencies, build, run. TEST_ARGS passes patterns or -j.
.PHONY: test test-run
test: deps-check
	@$(MAKE) --no-print-directory test-run

test-run: all
	@$(BUILD)/tests/runner $(TEST_ARGS)

# Benchmarks (make bench, make bench-quick): tests/bench/.
-include tests/bench/build.mk
