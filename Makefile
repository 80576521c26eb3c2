# flowexport - XDP/eBPF flow meter and IPFIX / NetFlow v9 exporter.
#   make deps    install the Debian packages needed (idempotent)
#   make         build ./flowexport (BPF objects, skeletons, user space)
#   make test    deps + build + every test; ends with "N passed, N failed"
#   make bench   measure and print (not a test)
#   make clean

CLANG   ?= clang
BPFTOOL ?= bpftool
CC      ?= gcc
BUILD   := build

# Everything the build, the tests and the demo need, as Debian packages.
DEB_PACKAGES := clang llvm gcc make pkg-config libbpf-dev libxdp-dev bpftool \
	libelf-dev zlib1g-dev libfixbuf-dev libfixbuf-tools libglib2.0-dev \
	libpcap-dev iproute2 nfdump pmacct tshark python3 python3-scapy iputils-ping tcpdump \
	faketime gdb

PKGS    := libbpf libxdp glib-2.0 libfixbuf libpcap
# '=' (not ':='): pkg-config is asked only once the packages are there.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -lelf -lz

WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
CFLAGS   += $(WARN) -std=gnu11 -I$(BUILD) -Ibpf -Icollector-export
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

.PHONY: all deps test bench demo install clean check
.SECONDARY:
all: flowexport $(TEST_BINS)

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

flowexport: $(USER_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(TEST_HDRS) $(LIB_OBJS) $(SKELETONS) | $(BUILD)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Itests/unit -o $@ $< $(LIB_OBJS) $(PKG_LIBS)

# deps first, then a fresh make so that pkg-config sees the new packages.
test: deps
	$(MAKE) all
	tests/run.sh

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
	rm -rf $(BUILD) flowexport
