# runtime/ — looprt: build/liblooprt.so.0, build/liblooprt.a, build/looprt.pc
# and the examples in build/examples/ (plus statically linked copies in
# build/examples/static/, which the tracer's tests attach to).

RUNTIME_SRCS := $(wildcard runtime/src/*.c)
RUNTIME_PIC_OBJS := $(RUNTIME_SRCS:%.c=$(OBJ)/pic/%.o)
RUNTIME_OBJS := $(RUNTIME_SRCS:%.c=$(OBJ)/%.o)

RUNTIME_PKGS := libuv libcrypto
RUNTIME_CFLAGS := -Iruntime/include $(shell $(PKG_CONFIG) --cflags $(RUNTIME_PKGS))
RUNTIME_LIBS := $(shell $(PKG_CONFIG) --libs $(RUNTIME_PKGS)) -lpthread

RUNTIME_SO := $(BUILD)/liblooprt.so.0
RUNTIME_A := $(BUILD)/liblooprt.a

# The library exports only what looprt.h marks LRT_EXTERN.
RUNTIME_LIB_CFLAGS := $(CFLAGS_COMMON) $(RUNTIME_CFLAGS) -fvisibility=hidden

$(OBJ)/pic/runtime/%.o: runtime/%.c $(GEN)/looptrace_version.h
	$(call compile_c,$@,$<,$(RUNTIME_LIB_CFLAGS) -fPIC)

$(OBJ)/runtime/%.o: runtime/%.c $(GEN)/looptrace_version.h
	$(call compile_c,$@,$<,$(RUNTIME_LIB_CFLAGS))

$(RUNTIME_SO): $(RUNTIME_PIC_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,liblooprt.so.0 $(LDFLAGS_COMMON) \
	  -o $@ $^ $(RUNTIME_LIBS)
	@ln -sf liblooprt.so.0 $(BUILD)/liblooprt.so

$(RUNTIME_A): $(RUNTIME_OBJS)
	$(call msg,AR,$@)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/looprt.pc: runtime/looprt.pc.in Makefile
	$(call msg,GEN,$@)
	@mkdir -p $(dir $@)
	@sed -e 's|@LIBDIR@|$(abspath $(BUILD))|' \
	  -e 's|@INCLUDEDIR@|$(abspath runtime/include)|' \
	  -e 's|@VERSION@|$(VERSION)|' $< > $@

EXAMPLE_SRCS := $(wildcard runtime/examples/*.c)
EXAMPLES := $(EXAMPLE_SRCS:runtime/examples/%.c=$(BUILD)/examples/%)
EXAMPLES_STATIC := $(EXAMPLE_SRCS:runtime/examples/%.c=$(BUILD)/examples/static/%)
EXAMPLE_CFLAGS := $(CFLAGS_COMMON) $(RUNTIME_CFLAGS)

$(OBJ)/examples/%.o: runtime/examples/%.c
	$(call compile_c,$@,$<,$(EXAMPLE_CFLAGS))

# Examples find liblooprt next to them in the build tree.
$(BUILD)/examples/%: $(OBJ)/examples/%.o $(RUNTIME_SO)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_COMMON) -o $@ $< -L$(BUILD) -l:liblooprt.so.0 \
	  -Wl,-rpath,'$$ORIGIN/..' $(RUNTIME_LIBS)

$(BUILD)/examples/static/%: $(OBJ)/examples/%.o $(RUNTIME_A)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_COMMON) -o $@ $< $(RUNTIME_A) $(RUNTIME_LIBS)

ALL_TARGETS += $(RUNTIME_SO) $(RUNTIME_A) $(BUILD)/looprt.pc $(EXAMPLES) \
  $(EXAMPLES_STATIC)
