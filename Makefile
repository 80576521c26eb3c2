# flowexport - XDP/eBPF flow meter and IPFIX / NetFlow v9 exporter.
#   make deps    install the Debian packages needed (idempotent)
#   make         build ./flowexport (BPF objects, skeletons, user space)
#   make test    deps + build + every test; ends with "N passed, N failed"
#   make test SANITIZE=1   the same, user space built with ASan+UBSan in build-san/
#   make test-all  make test, then make test SANITIZE=1 (what CI runs); ends with the sum of both
#   make fuzz    libFuzzer targets and the BPF frame fuzzer, FUZZ_SECONDS (60) each
#   make valgrind  a pcap run and a live run under valgrind
#   make bench   measure, print tables, write build/bench/results.{jsonl,csv} and bench.png (not a test)
#   make soak    ten minutes of churning flows with collector outages; memory and accounting (not a test)
#   make install [PREFIX=/usr/local] [DESTDIR=] [SANITIZE=1: the ASan+UBSan build]
#   make deb     a Debian package (packaging in contrib/debian) in build/deb/
#   make clean

# The release; a build from git adds what git describe says.
VERSION := 0.1.0
GIT_DESCRIBE := $(shell git describe --always --dirty 2>/dev/null)
FULL_VERSION := $(VERSION)$(if $(GIT_DESCRIBE), (git $(GIT_DESCRIBE)))

# Where make install puts things; the binary looks for its templates under
# the PREFIX it was built with.
PREFIX  ?= /usr/local
SYSCONFDIR ?= /etc
CONFIG_FILE := $(SYSCONFDIR)/flowexport.conf
TEMPLATE_DIR := $(PREFIX)/share/flowexport/templates
MAN_DIR := $(PREFIX)/share/man/man8
UNIT_DIR ?= $(PREFIX)/lib/systemd/system

CLANG   ?= clang
BPFTOOL ?= bpftool
CC      ?= gcc
BUILD   := build
FX_BIN  := flowexport

# Everything the build, the tests and the demo need, as Debian packages.
DEB_PACKAGES := clang llvm gcc make pkg-config libbpf-dev libxdp-dev bpftool \
	libelf-dev zlib1g-dev libfixbuf-dev libfixbuf-tools libglib2.0-dev \
	libpcap-dev iproute2 nfdump pmacct tshark python3 python3-scapy iputils-ping tcpdump \
	faketime gdb man-db debhelper python3-yaml libclang-rt-14-dev valgrind \
	softflowd python3-matplotlib libcap2-bin systemd curl \
	libssl-dev dnsutils openssl ngtcp2-client ngtcp2-server ethtool

PKGS    := libbpf libxdp glib-2.0 libfixbuf libpcap
# '=' (not ':='): pkg-config is asked only once the packages are there.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -lelf -lz -lcrypto

WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
# collector-export/ is grouped by concern (config/, meter/, cache/, export/,
# output/, dpi/, service/); objects stay flat in BUILD, headers are found by
# name in every group.
USER_DIRS := collector-export $(patsubst %/,%,$(wildcard collector-export/*/))
USER_INC  := $(addprefix -I,$(USER_DIRS))
vpath %.c $(USER_DIRS)
CFLAGS   += $(WARN) -std=gnu11 -I$(BUILD) -Ibpf $(USER_INC)

# SANITIZE=1: the same user space and test programs with ASan and UBSan, in
# their own folder; tests/sanitize.sh runs the suites against them. Built
# with clang: its one runtime writes UBSan's reports to UBSAN_OPTIONS's
# log_path, where gcc 12's libubsan, loaded beside libasan, writes them
# only to stderr (which many suites keep to themselves). The runtime is
# linked as a shared library: libfaketime (24-clock-step) preloaded before
# a static one deadlocks in its first clock_gettime().
ifeq ($(SANITIZE),1)
BUILD   := build-san
FX_BIN  := $(BUILD)/flowexport
CC      := $(CLANG)
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=all \
	   -fno-omit-frame-pointer -shared-libasan
PKG_LIBS += -Wl,-rpath,$(shell $(CLANG) -print-resource-dir)/lib/linux
endif
BPF_ARCH_INC := /usr/include/$(shell $(CLANG) -print-multiarch 2>/dev/null)
BPF_CFLAGS := -O2 -g -target bpf -mcpu=v3 $(WARN) -I. -Ibpf -I$(BPF_ARCH_INC)

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELETONS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
BPF_HDRS  := $(wildcard bpf/*.h)

USER_SRCS := $(wildcard $(addsuffix /*.c,$(USER_DIRS)))
USER_OBJS := $(addprefix $(BUILD)/,$(notdir $(USER_SRCS:.c=.o)))
USER_HDRS := $(wildcard $(addsuffix /*.h,$(USER_DIRS))) bpf/flow.h
LIB_OBJS  := $(filter-out $(BUILD)/main.o,$(USER_OBJS))

TEST_SRCS := $(wildcard tests/unit/*.c)
TEST_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
TEST_HDRS := $(wildcard tests/unit/*.h)
TOOLS     := $(BUILD)/flowgen $(BUILD)/flowsink

# libFuzzer targets (tests/fuzz/fuzz_*.c): clang, over the user-space
# objects rebuilt with the fuzzer's coverage and ASan+UBSan.
FUZZ_BUILD  := $(BUILD)/fuzz
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer $(WARN) -std=gnu11 \
	-I$(BUILD) -Ibpf $(USER_INC) -Itests/unit
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS   := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(FUZZ_SRCS))
FUZZ_OBJS   := $(patsubst $(BUILD)/%.o,$(FUZZ_BUILD)/obj/%.o,$(LIB_OBJS))
FUZZ_SECONDS ?= 60

.PHONY: all deps test test-all bench soak demo install deb clean check fuzz fuzz-build valgrind
.SECONDARY:
all: $(FX_BIN) $(TEST_BINS) $(BUILD)/flowexport.8 $(TOOLS)

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

$(BUILD)/%.o: %.c $(USER_HDRS) $(SKELETONS) | $(BUILD)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

# Values baked into one object each; the stamp changes (and the object is
# rebuilt) only when the value does.
define stamp
	@mkdir -p $(BUILD); echo '$(2)' | cmp -s - $(1) || echo '$(2)' > $(1)
endef
.PHONY: FORCE
$(BUILD)/version.stamp: FORCE
	$(call stamp,$@,$(FULL_VERSION))
$(BUILD)/prefix.stamp: FORCE
	$(call stamp,$@,$(TEMPLATE_DIR) $(CONFIG_FILE))
$(BUILD)/cli.o: CFLAGS += -DFLOWEXPORT_VERSION='"$(FULL_VERSION)"'
$(BUILD)/cli.o: $(BUILD)/version.stamp
$(BUILD)/export_template.o: CFLAGS += -DTEMPLATE_INSTALL_DIR='"$(TEMPLATE_DIR)"'
$(BUILD)/export_template.o: $(BUILD)/prefix.stamp
$(BUILD)/cli.o $(BUILD)/options.o $(BUILD)/help.o: CFLAGS += -DCONFIG_FILE_DEFAULT='"$(CONFIG_FILE)"'
$(BUILD)/cli.o $(BUILD)/options.o $(BUILD)/help.o: $(BUILD)/prefix.stamp

# The man page: prose from contrib/flowexport.8.in, the OPTIONS and
# COUNTERS sections from the option table (flowexport --help=roff).
$(BUILD)/flowexport.8: contrib/flowexport.8.in $(FX_BIN) $(BUILD)/version.stamp $(BUILD)/prefix.stamp
	./$(FX_BIN) --help=roff > $@.options
	sed -e 's/@VERSION@/$(VERSION)/' -e 's|@CONFIG_FILE@|$(CONFIG_FILE)|g' \
		-e '/^@OPTIONS@$$/{r $@.options' -e 'd}' $< > $@
	rm -f $@.options

$(FX_BIN): $(USER_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# contrib/flowgen: the live-frame traffic generator and the reference sink
# (bpf/maponly.bpf.c on an interface) of make bench and the tests.
$(BUILD)/flowgen.bpf.o: contrib/flowgen/flowgen.bpf.c | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(BUILD)/flowgen: contrib/flowgen/flowgen.c $(BUILD)/flowgen.skel.h
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)
$(BUILD)/flowsink: contrib/flowgen/flowsink.c $(BUILD)/maponly.skel.h bpf/flow.h
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(TEST_HDRS) $(LIB_OBJS) $(SKELETONS) | $(BUILD)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -Itests/unit -o $@ $< $(LIB_OBJS) $(PKG_LIBS)

$(FUZZ_BUILD)/obj/%.o: %.c $(USER_HDRS) $(SKELETONS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(TEST_HDRS) $(FUZZ_OBJS)
	$(CLANG) $(FUZZ_CFLAGS) -D_GNU_SOURCE -fsanitize=fuzzer $(PKG_CFLAGS) -o $@ $< \
		$(FUZZ_OBJS) $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

# deps first, then a fresh make so that pkg-config sees the new packages.
test: deps
ifeq ($(SANITIZE),1)
	$(MAKE) all
	tests/sanitize.sh $(BUILD)
else
	$(MAKE) all fuzz-build
	tests/run.sh
endif

# Both passes, whatever the first gives; the closing line sums them.
test-all: deps
	$(MAKE) all fuzz-build
	$(MAKE) all SANITIZE=1
	tests/test-all.sh build-san

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

# make soak: SOAK_SECONDS (600) of churning flows with collector outages;
# memory sampled, everything accounted (tests/soak.sh). Not part of test.
soak: deps
	$(MAKE) all
	tests/soak.sh

demo: deps
	$(MAKE) all
	contrib/demo.sh

check:
	@command -v duplicates >/dev/null && duplicates --change || true

# The example configuration goes to SYSCONFDIR only if there is none yet
# (every key in it is commented out), and beside the docs in any case.
install: $(FX_BIN) $(BUILD)/flowexport.8
	install -D -m 0755 $(FX_BIN) $(DESTDIR)$(PREFIX)/sbin/flowexport
	install -d $(DESTDIR)$(TEMPLATE_DIR) $(DESTDIR)$(MAN_DIR) $(DESTDIR)$(UNIT_DIR)
	install -m 0644 templates/*.tmpl $(DESTDIR)$(TEMPLATE_DIR)/
	install -m 0644 $(BUILD)/flowexport.8 $(DESTDIR)$(MAN_DIR)/flowexport.8
	sed 's|/usr/local/sbin/flowexport|$(PREFIX)/sbin/flowexport|' contrib/flowexport.service \
		> $(DESTDIR)$(UNIT_DIR)/flowexport.service
	chmod 0644 $(DESTDIR)$(UNIT_DIR)/flowexport.service
	install -D -m 0644 contrib/flowexport.conf $(DESTDIR)$(PREFIX)/share/doc/flowexport/flowexport.conf
	[ -e $(DESTDIR)$(CONFIG_FILE) ] || \
		install -D -m 0644 contrib/flowexport.conf $(DESTDIR)$(CONFIG_FILE)

# dpkg-buildpackage on a copy of the tree (the top level is not a Debian
# source tree), with the packaging of contrib/debian and a changelog entry
# for VERSION.
DEB_DIR := $(BUILD)/deb
DEB_SRC := $(DEB_DIR)/flowexport-$(VERSION)
deb:
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_SRC)
	tar --exclude=./build --exclude=./build-san --exclude=./.git --exclude=./flowexport -cf - . | tar -xf - -C $(DEB_SRC)
	cp -r contrib/debian $(DEB_SRC)/debian
	printf 'flowexport (%s) unstable; urgency=medium\n\n  * Built from %s.\n\n -- flowexport developers <flowexport@localhost>  %s\n' \
		'$(VERSION)' '$(FULL_VERSION)' "$$(date -R)" > $(DEB_SRC)/debian/changelog
	cd $(DEB_SRC) && dpkg-buildpackage -b -us -uc
	@ls $(DEB_DIR)/*.deb

clean:
	rm -rf build build-san flowexport
