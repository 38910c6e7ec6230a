# tracer/fuzz/ — libFuzzer targets on the trace loader and the summary of
# `looptrace stat` (tracer/fuzz/fuzz_stat.c) and on the exporter, records
# in, JSON out (tracer/fuzz/fuzz_export.c).
#
#   make fuzz                 build both, fuzz each for FUZZ_SECONDS (60)
#   make fuzz-stat            the stat target only; fuzz-export: the exporter
#   make fuzz FUZZ_SECONDS=600 FUZZ_ARGS=-jobs=2
#   make fuzz-merge           add what the last runs found to the corpora
#
# New inputs go to build/fuzz/corpus/ (stat) and build/fuzz/export-corpus/;
# fuzz-merge keeps those that reach new edges (hit counts ignored, which
# keeps the set small) in tests/fixtures/stat/corpus/ and
# tests/fixtures/export/corpus/, which the test suite replays
# (tests/test-stat-corpus.c, tests/test-export-corpus.c). Crashes land in
# build/fuzz/ as crash-* (stat) and build/fuzz/export-crash-*.

FUZZ_SECONDS ?= 60
FUZZ_ARGS ?=
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_BIN := $(FUZZ_DIR)/fuzz_stat
FUZZ_CORPUS := tests/fixtures/stat/corpus
FUZZ_SRCS := tracer/fuzz/fuzz_stat.c tracer/trace_reader.c \
  tracer/stat_event.c tracer/stat_summary.c tracer/stat_values.c \
  tracer/stat_report.c tracer/containers.c
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

.PHONY: fuzz fuzz-stat fuzz-export fuzz-merge
fuzz: fuzz-stat fuzz-export

fuzz-stat: $(FUZZ_BIN)
	@mkdir -p $(FUZZ_DIR)/corpus
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	  -rss_limit_mb=2048 -dict=tracer/fuzz/trace.dict \
	  -artifact_prefix=$(FUZZ_DIR)/ $(FUZZ_ARGS) \
	  $(FUZZ_DIR)/corpus $(FUZZ_CORPUS)

fuzz-merge: $(FUZZ_BIN) $(FUZZ_EXPORT_BIN)
	@mkdir -p $(FUZZ_DIR)/corpus $(FUZZ_DIR)/export-corpus
	$(FUZZ_BIN) -merge=1 -use_counters=0 $(FUZZ_CORPUS) $(FUZZ_DIR)/corpus
	$(FUZZ_EXPORT_BIN) -merge=1 -use_counters=0 $(FUZZ_EXPORT_CORPUS) \
	  $(FUZZ_DIR)/export-corpus

# The exporter: 2 bytes of batching choices, then 32-byte records
# (tracer/fuzz/export_fuzz.h); -max_len allows a few hundred records.
FUZZ_EXPORT_BIN := $(FUZZ_DIR)/fuzz_export
FUZZ_EXPORT_CORPUS := tests/fixtures/export/corpus
FUZZ_EXPORT_SRCS := tracer/fuzz/fuzz_export.c tracer/export.c \
  tracer/labels.c tracer/ordering.c tracer/span_model.c tracer/trace_json.c \
  tracer/json_writer.c tracer/containers.c tracer/stat_event.c \
  tracer/trace_reader.c

$(FUZZ_EXPORT_BIN): $(FUZZ_EXPORT_SRCS) tracer/fuzz/export_fuzz.h \
  $(wildcard tracer/*.h) $(GEN)/looptrace_version.h
	$(call msg,FUZZ,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -I$(GEN) -o $@ $(FUZZ_EXPORT_SRCS) \
	  $(FUZZ_LIBS)

fuzz-export: $(FUZZ_EXPORT_BIN)
	@mkdir -p $(FUZZ_DIR)/export-corpus
	$(FUZZ_EXPORT_BIN) -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	  -rss_limit_mb=2048 -max_len=16386 \
	  -artifact_prefix=$(FUZZ_DIR)/export- $(FUZZ_ARGS) \
	  $(FUZZ_DIR)/export-corpus $(FUZZ_EXPORT_CORPUS)
