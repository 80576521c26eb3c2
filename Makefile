# flowexport - XDP/eBPF flow meter and IPFIX / NetFlow v9 exporter.
#   make deps    install the Debian packages needed (idempotent)
#   make         build ./flowexport (BPF objects, skeletons, user space)
#   make test    deps + build + every test; ends with "N passed, N failed"
#   make test SANITIZE=1   the same, user space built with ASan+UBSan in build-san/
#   make fuzz    libFuzzer targets and the BPF frame fuzzer, FUZZ_SECONDS (60) each
#   make valgrind  a pcap run and a live run under valgrind
#   make bench   measure and print (not a test)
#   make clean

CLANG   ?= clang
BPFTOOL ?= bpftool
CC      ?= gcc
BUILD   := build
FX_BIN  := flowexport

# Everything the build, the tests and the demo need, as Debian packages.
DEB_PACKAGES := clang llvm gcc make pkg-config libbpf-dev libxdp-dev bpftool \
	libelf-dev zlib1g-dev libfixbuf-dev libfixbuf-tools libglib2.0-dev \
	libpcap-dev iproute2 nfdump pmacct tshark python3 python3-scapy iputils-ping tcpdump \
	faketime gdb libclang-rt-14-dev valgrind

PKGS    := libbpf libxdp glib-2.0 libfixbuf libpcap
# '=' (not ':='): pkg-config is asked only once the packages are there.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -lelf -lz

WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
CFLAGS   += $(WARN) -std=gnu11 -I$(BUILD) -Ibpf -Icollector-export

# SANITIZE=1: the same user space and test programs with ASan and UBSan, in
# their own folder; tests/sanitize.sh runs the suites against them.
ifeq ($(SANITIZE),1)
BUILD   := build-san
FX_BIN  := $(BUILD)/flowexport
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer
endif
BPF_ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine 2>/dev/null)
BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 $(WARN) -I. -Ibpf -I$(BPF_ARCH_INC)

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELETONS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
BPF_HDRS  := $(wildcard bpf/*.h)

USER_SRCS := $(wildcard collector-export/*.c)
USER_OBJS := $(patsubst collector-export/%.c,$(BUILD)/%.o,$(USER_SRCS))
USER_HDRS := $(wildcard collector-export/*.h) bpf/flow.h
LIB_OBJS  := $(filter-out $(BUILD)/main.o,$(USER_OBJS))

TEST_SRCS := $(wildcard tests/unit/*.c)
TEST_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
TEST_HDRS := $(wildcard tests/unit/*.h)

# libFuzzer targets (tests/fuzz/fuzz_*.c): clang, over the user-space
# objects rebuilt with the fuzzer's coverage and ASan+UBSan.
FUZZ_BUILD  := $(BUILD)/fuzz
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer $(WARN) -std=gnu11 \
	-I$(BUILD) -Ibpf -Icollector-export -Itests/unit
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS   := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(FUZZ_SRCS))
FUZZ_OBJS   := $(patsubst $(BUILD)/%.o,$(FUZZ_BUILD)/obj/%.o,$(LIB_OBJS))
FUZZ_SECONDS ?= 60

.PHONY: all deps test bench demo install clean check fuzz fuzz-build valgrind
.SECONDARY:
all: $(FX_BIN) $(TEST_BINS)

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD):
	mkdir -p $(BUILD)/tests

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $* > $@

$(BUILD)/%.o: collector-export/%.c $(USER_HDRS) $(SKELETONS) | $(BUILD)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(FX_BIN): $(USER_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(TEST_HDRS) $(LIB_OBJS) $(SKELETONS) | $(BUILD)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Itests/unit -o $@ $< $(LIB_OBJS) $(PKG_LIBS)

$(FUZZ_BUILD)/obj/%.o: collector-export/%.c $(USER_HDRS) $(SKELETONS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(TEST_HDRS) $(FUZZ_OBJS) collector-export/main.c
	$(CLANG) $(FUZZ_CFLAGS) -D_GNU_SOURCE -fsanitize=fuzzer $(PKG_CFLAGS) -o $@ $< \
		$(FUZZ_OBJS) $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

# deps first, then a fresh make so that pkg-config sees the new packages.
test: deps
	$(MAKE) all fuzz-build
ifeq ($(SANITIZE),1)
	tests/sanitize.sh $(BUILD)
else
	tests/run.sh
endif

fuzz: deps
	$(MAKE) all fuzz-build
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BUILD)
	$(BUILD)/tests/frame_fuzz --seed $$(date +%s) --frames 4000 --seconds $(FUZZ_SECONDS)

valgrind: deps
	$(MAKE) all
	tests/run.sh 41-valgrind

bench: deps
	$(MAKE) all
	tests/bench.sh

demo: deps
	$(MAKE) all
	contrib/demo.sh

check:
	@command -v duplicates >/dev/null && duplicates --change || true

PREFIX ?= /usr/local
install: flowexport
	install -D -m 0755 flowexport $(DESTDIR)$(PREFIX)/sbin/flowexport
	install -d $(DESTDIR)$(PREFIX)/share/flowexport/templates
	install -m 0644 templates/*.tmpl $(DESTDIR)$(PREFIX)/share/flowexport/templates/ 2>/dev/null || true

clean:
	rm -rf build build-san flowexport
