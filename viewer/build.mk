# viewer/ — the static timeline page. It is copied next to the tracer
# (build/viewer/), where `looptrace view` looks for it. Its js/vocab.js is
# not in viewer/static: vocab_gen writes it there from the trace
# vocabulary (runtime/include/looprt_vocab.h).

VIEWER_SRCS := $(shell find viewer/static -type f 2>/dev/null)
VIEWER_OUT := $(VIEWER_SRCS:viewer/static/%=$(BUILD)/viewer/%)
VIEWER_VOCAB := $(BUILD)/viewer/js/vocab.js
VOCAB_GEN := $(BUILD)/tools/vocab_gen

$(BUILD)/viewer/%: viewer/static/%
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

$(OBJ)/viewer/vocab_gen.o: viewer/vocab_gen.c
	$(call compile_c,$@,$<,$(CFLAGS_COMMON) -Iruntime/include)

$(VOCAB_GEN): $(OBJ)/viewer/vocab_gen.o
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(LDFLAGS_COMMON) -o $@ $<

$(VIEWER_VOCAB): $(VOCAB_GEN)
	$(call msg,GEN,$@)
	@mkdir -p $(dir $@)
	$(Q)$(VOCAB_GEN) > $@.tmp
	@mv $@.tmp $@

ALL_TARGETS += $(VIEWER_OUT) $(VIEWER_VOCAB)
