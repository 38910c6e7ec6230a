# tracer/ — build/looptrace: the CLI (record, list, stat, view), its BPF
# programs (tracer/*.bpf.c, skeletons generated into build/gen/) and the
# fuzz target of the trace loader (make fuzz).

TRACER_BPF_SRCS := $(wildcard tracer/*.bpf.c)
# export_bench.c is a program of its own (below), not part of looptrace.
TRACER_SRCS := $(filter-out $(TRACER_BPF_SRCS) tracer/export_bench.c,\
  $(wildcard tracer/*.c))
TRACER_OBJS := $(TRACER_SRCS:%.c=$(OBJ)/%.o)
# Everything but main(), for tests that call into the tracer directly.
TRACER_LIB_OBJS := $(filter-out $(OBJ)/tracer/main.o,$(TRACER_OBJS))
TRACER_SKELS := $(TRACER_BPF_SRCS:tracer/%.bpf.c=$(GEN)/%.skel.h)
TRACER_BPF_OBJS := $(TRACER_BPF_SRCS:%.bpf.c=$(OBJ)/%.bpf.o)
# Made by pattern rules only: keep them, or make deletes them as
# intermediate files and rebuilds them every time.
.SECONDARY: $(TRACER_BPF_OBJS) $(TRACER_SKELS)

TRACER_PKGS := libbpf libcjson libelf zlib ncursesw
TRACER_CFLAGS := $(CFLAGS_COMMON) -Itracer -Iruntime/include -I$(GEN) \
  $(shell $(PKG_CONFIG) --cflags $(TRACER_PKGS)) \
  $(shell $(PKG_CONFIG) --cflags libuv)
TRACER_LIBS := $(shell $(PKG_CONFIG) --libs $(TRACER_PKGS)) -lhttp_parser -lm

# libbpf's usdt.bpf.h includes <linux/errno.h>, which wants the
# architecture's <asm/errno.h> from the multiarch include directory.
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
  -I$(GEN) -Itracer -Iruntime/include \
  -idirafter /usr/include/$(shell $(CC) -dumpmachine)

# The kernel's types, for CO-RE.
$(GEN)/vmlinux.h:
	$(call msg,GEN,$@)
	@mkdir -p $(dir $@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp
	@mv $@.tmp $@

$(OBJ)/tracer/%.bpf.o: tracer/%.bpf.c $(GEN)/vmlinux.h runtime/include/looprt_trace.h \
  runtime/include/looprt_vocab.h
	$(call msg,BPF,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(GEN)/%.skel.h: $(OBJ)/tracer/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp
	@mv $@.tmp $@

$(OBJ)/tracer/%.o: tracer/%.c $(TRACER_SKELS) $(GEN)/looptrace_version.h
	$(call compile_c,$@,$<,$(TRACER_CFLAGS))

$(BUILD)/looptrace: $(TRACER_OBJS) $(RUNTIME_A)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS_COMMON) -o $@ $(TRACER_OBJS) $(RUNTIME_A) \
	  $(TRACER_LIBS) $(RUNTIME_LIBS)

ALL_TARGETS += $(BUILD)/looptrace

# The exporter's benchmark, for tests/bench/run.sh: build/bench/export_bench
# RECORDS [-o FILE] [--all-phases] (tracer/export_bench.c).
$(BUILD)/bench/export_bench: $(OBJ)/tracer/export_bench.o $(TRACER_LIB_OBJS) \
                             $(RUNTIME_A)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_COMMON) -o $@ $(OBJ)/tracer/export_bench.o \
	  $(TRACER_LIB_OBJS) $(RUNTIME_A) $(TRACER_LIBS) $(RUNTIME_LIBS)

ALL_TARGETS += $(BUILD)/bench/export_bench

# The trace loader's fuzz target and its corpus (make fuzz).
-include tracer/fuzz/build.mk
