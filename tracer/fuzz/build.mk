# tracer/fuzz/ — a libFuzzer target on the trace loader and the summary of
# `looptrace stat` (tracer/fuzz/fuzz_stat.c).
#
#   make fuzz                 build it and fuzz for FUZZ_SECONDS (60)
#   make fuzz FUZZ_SECONDS=600 FUZZ_ARGS=-jobs=2
#   make fuzz-merge           add what the last runs found to the corpus
#
# New inputs go to build/fuzz/corpus/; fuzz-merge keeps those that reach
# new edges (hit counts ignored, which keeps the set small) in
# tests/fixtures/stat/corpus/, which the test suite replays
# (tests/test-stat-corpus.c). Crashes land in build/fuzz/ as crash-*.

FUZZ_SECONDS ?= 60
FUZZ_ARGS ?=
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_BIN := $(FUZZ_DIR)/fuzz_stat
FUZZ_CORPUS := tests/fixtures/stat/corpus
FUZZ_SRCS := tracer/fuzz/fuzz_stat.c tracer/trace_reader.c \
  tracer/stat_event.c tracer/stat_summary.c tracer/stat_values.c \
  tracer/stat_report.c
FUZZ_CFLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Wall -Wextra -Werror \
  -Wno-unused-parameter -Wno-unused-function \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -fno-omit-frame-pointer -Itracer -Itracer/fuzz -Iruntime/include \
  $(shell $(PKG_CONFIG) --cflags libcjson)
FUZZ_LIBS := $(shell $(PKG_CONFIG) --libs libcjson zlib) -lm

$(FUZZ_BIN): $(FUZZ_SRCS) tracer/fuzz/stat_fuzz.h $(wildcard tracer/*.h)
	$(call msg,FUZZ,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -o $@ $(FUZZ_SRCS) $(FUZZ_LIBS)

.PHONY: fuzz fuzz-merge
fuzz: $(FUZZ_BIN)
	@mkdir -p $(FUZZ_DIR)/corpus
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	  -rss_limit_mb=2048 -dict=tracer/fuzz/trace.dict \
	  -artifact_prefix=$(FUZZ_DIR)/ $(FUZZ_ARGS) \
	  $(FUZZ_DIR)/corpus $(FUZZ_CORPUS)

fuzz-merge: $(FUZZ_BIN)
	@mkdir -p $(FUZZ_DIR)/corpus
	$(FUZZ_BIN) -merge=1 -use_counters=0 $(FUZZ_CORPUS) $(FUZZ_DIR)/corpus
