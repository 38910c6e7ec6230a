# tests/bench/ — `make bench` runs every benchmark (minutes), `make
# bench-quick` a short version (< 60 s); both end with one `name: value`
# line per figure (tests/bench/run.sh; the figures: README.md, Performance).
# BENCH_SMOKE=1 makes every size tiny, for tests/bench-smoke.test.sh.
#
# Programs, in build/bench/:
#   workloads            looprt workloads, on lib/liblooprt.so.0 (a copy of
#                        build/liblooprt.so.0)
#   noprobes/workloads   the same on a runtime built with -DLOOPRT_NO_PROBES
#   lttng/workloads      the same on a runtime whose probes are LTTng-UST
#                        tracepoints (static; needs liblttng-ust-dev, so it
#                        is built by `make bench` only)
#   uv_workloads         the same work on raw libuv, and an echo server
#   echo_client          load for echo servers
#   maxrss               runs a command, reports its peak memory

BENCH_DIR := $(BUILD)/bench
BENCH_OBJ := $(OBJ)/bench
BENCH_CFLAGS := $(CFLAGS_COMMON) $(RUNTIME_CFLAGS) -Itests/bench

$(BENCH_OBJ)/%.o: tests/bench/%.c
	$(call compile_c,$@,$<,$(BENCH_CFLAGS))

# The workloads load a copy of build/liblooprt.so.0: bpftrace attaches to
# probes by library path, so the bench's bpftrace sees only the bench's
# programs, and other tools attached to build/liblooprt.so.0 (tests) do
# not see or slow them.
$(BENCH_DIR)/lib/liblooprt.so.0: $(RUNTIME_SO)
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

$(BENCH_DIR)/workloads: $(BENCH_OBJ)/workloads.o $(BENCH_DIR)/lib/liblooprt.so.0
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS_COMMON) -o $@ $< -L$(BENCH_DIR)/lib -l:liblooprt.so.0 \
	  -Wl,-rpath,'$$ORIGIN/lib' $(RUNTIME_LIBS)

# The runtime without probes: the detached cost is measured against it.
BENCH_NOPROBES_OBJS := $(RUNTIME_SRCS:runtime/src/%.c=$(BENCH_OBJ)/noprobes/%.o)

$(BENCH_OBJ)/noprobes/%.o: runtime/src/%.c $(GEN)/looptrace_version.h
	$(call compile_c,$@,$<,$(RUNTIME_LIB_CFLAGS) -fPIC -DLOOPRT_NO_PROBES)

$(BENCH_DIR)/noprobes/liblooprt.so.0: $(BENCH_NOPROBES_OBJS)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) -shared -Wl,-soname,liblooprt.so.0 $(LDFLAGS_COMMON) \
	  -o $@ $^ $(RUNTIME_LIBS)

# Same object as workloads, another library next to it.
$(BENCH_DIR)/noprobes/workloads: $(BENCH_OBJ)/workloads.o \
                                 $(BENCH_DIR)/noprobes/liblooprt.so.0
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS_COMMON) -o $@ $< -L$(BENCH_DIR)/noprobes \
	  -l:liblooprt.so.0 -Wl,-rpath,'$$ORIGIN' $(RUNTIME_LIBS)

# The runtime with LTTng-UST tracepoints for probes (lttng_probes.h).
BENCH_LTTNG_OBJS := $(RUNTIME_SRCS:runtime/src/%.c=$(BENCH_OBJ)/lttng/%.o) \
  $(BENCH_OBJ)/lttng/lttng_tp.o $(BENCH_OBJ)/lttng/workloads.o

$(BENCH_OBJ)/lttng/%.o: runtime/src/%.c tests/bench/lttng_probes.h \
                        tests/bench/lttng_tp.h $(GEN)/looptrace_version.h
	$(call compile_c,$@,$<,$(RUNTIME_LIB_CFLAGS) -Itests/bench \
	  -include tests/bench/lttng_probes.h)

$(BENCH_OBJ)/lttng/lttng_tp.o: tests/bench/lttng_tp.c tests/bench/lttng_tp.h
	$(call compile_c,$@,$<,$(BENCH_CFLAGS))

$(BENCH_OBJ)/lttng/workloads.o: tests/bench/workloads.c
	$(call compile_c,$@,$<,$(BENCH_CFLAGS) -DBENCH_LTTNG)

$(BENCH_DIR)/lttng/workloads: $(BENCH_LTTNG_OBJS)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_COMMON) -o $@ $^ -llttng-ust -ldl $(RUNTIME_LIBS)

# The runtime with its event sites on and no tracer (gate_on.c), linked
# statically: what the runtime does per record, for callgrind.
$(BENCH_DIR)/gated/workloads: $(BENCH_OBJ)/workloads.o $(BENCH_OBJ)/gate_on.o \
                              $(RUNTIME_A)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_COMMON) -o $@ $^ $(RUNTIME_LIBS)

# The echo example, the same way (its server's per-record instructions).
$(BENCH_DIR)/gated/echo: $(OBJ)/examples/echo.o $(BENCH_OBJ)/gate_on.o \
                         $(RUNTIME_A)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_COMMON) -o $@ $^ $(RUNTIME_LIBS)

$(BENCH_DIR)/uv_workloads: $(BENCH_OBJ)/uv_workloads.o
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_COMMON) -o $@ $< $(shell $(PKG_CONFIG) --libs libuv)

$(BENCH_DIR)/%: $(BENCH_OBJ)/%.o
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_COMMON) -o $@ $<

# `make` builds what needs no extra package, so that it cannot rot.
BENCH_PROGS := $(BENCH_DIR)/workloads $(BENCH_DIR)/noprobes/workloads \
  $(BENCH_DIR)/uv_workloads $(BENCH_DIR)/echo_client $(BENCH_DIR)/maxrss \
  $(BENCH_DIR)/gated/workloads $(BENCH_DIR)/gated/echo
ALL_TARGETS += $(BENCH_PROGS)

.PHONY: bench bench-quick bench-run
bench:
	@tests/deps.sh check $(DEB_PACKAGES) $(BENCH_PACKAGES)
	@$(MAKE) --no-print-directory bench-run

bench-quick:
	@tests/deps.sh check $(DEB_PACKAGES) $(BENCH_PACKAGES)
	@$(MAKE) --no-print-directory bench-run BENCH_ARGS=--quick

bench-run: all $(BENCH_DIR)/lttng/workloads $(BUILD)/tests/progs/flood
	@tests/bench/run.sh --build $(BUILD) $(BENCH_ARGS)
