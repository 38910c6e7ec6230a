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

# Tools the script tests run (tests/lib/test.sh), built to build/tests/.
$(BUILD)/tests/trace-facts: $(OBJ)/tests/tools/trace-facts.o
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_COMMON) -o $@ $< \
	  $(shell $(PKG_CONFIG) --libs libcjson)

PROG_SRCS := $(wildcard tests/progs/*.c)
PROGS := $(PROG_SRCS:tests/progs/%.c=$(BUILD)/tests/progs/%)

$(OBJ)/progs/%.o: tests/progs/%.c
	$(call compile_c,$@,$<,$(TEST_CFLAGS))

$(BUILD)/tests/progs/%: $(OBJ)/progs/%.o $(RUNTIME_SO)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_COMMON) -o $@ $< -L$(BUILD) -l:liblooprt.so.0 \
	  -Wl,-rpath,'$$ORIGIN/../..' $(RUNTIME_LIBS)

# Plain libuv programs, no looprt, linked statically with Debian's
# libuv_a.a (libuv 1.44): what the libuv source traces besides node.
UVPROG_SRCS := $(wildcard tests/uvprogs/*.c)
UVPROGS := $(UVPROG_SRCS:tests/uvprogs/%.c=$(BUILD)/tests/uvprogs/%)
.SECONDARY: $(UVPROG_SRCS:tests/uvprogs/%.c=$(OBJ)/uvprogs/%.o)

$(OBJ)/uvprogs/%.o: tests/uvprogs/%.c
	$(call compile_c,$@,$<,$(CFLAGS_COMMON) \
	  $(shell $(PKG_CONFIG) --cflags libuv-static))

$(BUILD)/tests/uvprogs/%: $(OBJ)/uvprogs/%.o
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_COMMON) -o $@ $< \
	  $(shell $(PKG_CONFIG) --libs --static libuv-static)

# The same program on Debian's shared libuv.so.1, which is stripped: the
# libuv source refuses it, naming the missing symbols.
$(BUILD)/tests/uvprogs/%-shared: $(OBJ)/uvprogs/%.o
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS_COMMON) -o $@ $< $(shell $(PKG_CONFIG) --libs libuv)

ALL_TARGETS += $(BUILD)/tests/runner $(BUILD)/tests/trace-facts $(PROGS) \
  $(UVPROGS) \
  $(UVPROGS:%=%-shared)

# `make test` = dependencies, build, run. TEST_ARGS passes patterns or -j.
.PHONY: test test-run
test: deps-check
	@$(MAKE) --no-print-directory test-run

test-run: all
	@$(BUILD)/tests/runner $(TEST_ARGS)

# Benchmarks (make bench, make bench-quick): tests/bench/.
-include tests/bench/build.mk
