# viewer/ — the static timeline page. It is copied next to the tracer
# (build/viewer/), where `looptrace view` looks for it.

VIEWER_SRCS := $(shell find viewer/static -type f 2>/dev/null)
VIEWER_OUT := $(VIEWER_SRCS:viewer/static/%=$(BUILD)/viewer/%)

$(BUILD)/viewer/%: viewer/static/%
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

ALL_TARGETS += $(VIEWER_OUT)
