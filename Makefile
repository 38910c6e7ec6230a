# looptrace — top-level build.
#
#   make            build everything into build/
#   make demo       record the threadpool example and show how to view it
#   make test       build and run the test suite
#   make check      the test suite under ASan+UBSan (build/asan/)
#   make bench      the cost table (slow); make bench-quick (< 60 s)
#   make deps       install the Debian and npm packages the project needs
#   make format     format the C as .clang-format says (format-check: CI)
#   make install    PREFIX=/usr/local DESTDIR=
#
# Each part has its own fragment (runtime/build.mk, tracer/build.mk, ...);
# this file holds what they share. V=1 shows the commands.

VERSION := 0.1.0

BUILD ?= build
PREFIX ?= /usr/local
DESTDIR ?=

OBJ := $(BUILD)/obj
GEN := $(BUILD)/gen
CCJSON := $(BUILD)/cc

CC := gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-7s %s\n' $(1) $(2)
endif

# SANITIZE=1 builds everything with ASan+UBSan (make check sets it).
SANITIZE ?= 0
ifeq ($(SANITIZE),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer
OPT := -O1
else
SAN_FLAGS :=
OPT := -O2
endif

# Callbacks often ignore parameters; snprintf() cutting a string short is
# what we ask of it.
WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-format-truncation
CFLAGS_COMMON := -std=gnu11 -g $(OPT) $(WARN) $(SAN_FLAGS) -MMD -MP \
                 -D_GNU_SOURCE -I$(GEN)
LDFLAGS_COMMON := $(SAN_FLAGS)

# compile_c(obj, src, flags): compile one C file and record the command for
# compile_commands.json. Used by every part's fragment.
comma := ,
json_escape = $(subst ",\",$(subst \,\\,$(1)))
sh_quote = '$(subst ','\'',$(1))'
cc_entry = {"directory":"$(CURDIR)"$(comma)"file":"$(2)"$(comma)"output":"$(1)"$(comma)"command":"$(call json_escape,$(3))"}

define compile_c
	$(call msg,CC,$(2))
	@mkdir -p $(dir $(1)) $(dir $(CCJSON)/$(1))
	$(Q)$(CC) $(3) -c $(2) -o $(1)
	@printf '%s\n' $(call sh_quote,$(call cc_entry,$(1),$(2),$(CC) $(3) -c $(2) -o $(1))) > $(CCJSON)/$(1).json
endef

.PHONY: all
all: build-all $(BUILD)/compile_commands.json

# Keep intermediate objects (examples', programs'), so that a second make
# rebuilds nothing.
.SECONDARY:

# The version lives here only; C code gets it from this generated header.
$(GEN)/looptrace_version.h: Makefile
	@mkdir -p $(dir $@)
	@echo '#define LOOPTRACE_VERSION "$(VERSION)"' > $@

include runtime/build.mk
include tracer/build.mk
include viewer/build.mk
include tests/build.mk

.PHONY: build-all
build-all: $(ALL_TARGETS)

# One JSON array from the per-object fragments written by compile_c.
$(BUILD)/compile_commands.json: $(ALL_TARGETS)
	$(call msg,GEN,$@)
	@find $(CCJSON) -name '*.json' -print0 2>/dev/null | sort -z \
	  | xargs -0 cat | sed '$$!s/$$/,/' | { echo '['; cat; echo ']'; } > $@

# ---------------------------------------------------------------------------
# Dependencies. One list; `make deps` installs what is missing and is a
# no-op otherwise. demo/test/check/bench run deps-check first, which
# installs when root and prints the exact command otherwise.

DEB_PACKAGES := build-essential pkg-config clang clang-format llvm libuv1-dev libbpf-dev \
  bpftool libelf-dev zlib1g-dev systemtap-sdt-dev libcjson-dev libssl-dev \
  libhttp-parser-dev bpftrace chromium nodejs npm time python3 libcap2-bin \
  libncurses-dev tmux prometheus curl
BENCH_PACKAGES := lttng-tools liblttng-ust-dev
NPM_DIR := tests/browser

.PHONY: deps deps-check bench-deps
deps:
	@tests/deps.sh install $(DEB_PACKAGES)

deps-check:
	@tests/deps.sh check $(DEB_PACKAGES)

bench-deps:
	@tests/deps.sh install $(BENCH_PACKAGES)

# ---------------------------------------------------------------------------

.PHONY: demo
demo: deps-check
	@$(MAKE) --no-print-directory all
	@tests/demo.sh $(BUILD)

.PHONY: check
check: deps-check
	@$(MAKE) --no-print-directory BUILD=build/asan SANITIZE=1 test-run

.PHONY: format format-check
# The C of every part, as .clang-format says (Debian 12's clang-format 14).
FORMAT_FILES = $(shell git ls-files '*.c' '*.h')

format:
	@clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run --Werror $(FORMAT_FILES) 2>&1 | head -20; \
	  n=$$(clang-format --dry-run $(FORMAT_FILES) 2>&1 | grep -c 'warning:'); \
	  if [ "$$n" -gt 0 ]; then \
	    echo "format-check: $$n places differ from .clang-format (make format)"; \
	    exit 1; fi

.PHONY: install
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/share/looptrace/viewer
	install -m 755 $(BUILD)/looptrace $(DESTDIR)$(PREFIX)/bin/
	install -m 755 $(BUILD)/liblooprt.so.0 $(DESTDIR)$(PREFIX)/lib/
	ln -sf liblooprt.so.0 $(DESTDIR)$(PREFIX)/lib/liblooprt.so
	install -m 644 $(BUILD)/liblooprt.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 runtime/include/looprt.h runtime/include/looprt_trace.h \
	  runtime/include/looprt_vocab.h \
	  $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@LIBDIR@|$(PREFIX)/lib|' -e 's|@INCLUDEDIR@|$(PREFIX)/include|' \
	  -e 's|@VERSION@|$(VERSION)|' runtime/looprt.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/looprt.pc
	cp -r $(BUILD)/viewer/. $(DESTDIR)$(PREFIX)/share/looptrace/viewer/

.PHONY: clean
clean:
	rm -rf build

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
