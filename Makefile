# kx: Kubernetes taken apart into small Unix programs.
# Hand-written; programs are found by folder: cmd/NAME/*.c builds bin/kx-NAME
# (cmd/kx builds bin/kx), lib/*.c builds libkx.a, tests/unit/*.c are unit tests.

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man
BASHDIR  = $(PREFIX)/share/bash-completion/completions
ZSHDIR   = $(PREFIX)/share/zsh/vendor-completions

CC      ?= cc
B       ?= build/release
OPT     ?= -O2
SAN     ?=
VERSION  = 0.1.0

# Debian packages the build, the tests and `make run` need.
DEB_PKGS = build-essential pkg-config libjq-dev libonig-dev libcurl4-openssl-dev \
	libmicrohttpd-dev libyaml-dev libsqlite3-dev libarchive-dev libnftnl-dev \
	libmnl-dev libcap-dev libldns-dev libssl-dev curl jq nftables iproute2 \
	etcd-server etcd-client docker-registry skopeo umoci busybox-static \
	containernetworking-plugins python3-kubernetes python3-grpcio wrk hyperfine dnsutils \
	procps psmisc util-linux kmod clang libclang-rt-14-dev \
	dnsmasq-base dnsperf

PKGS     = libcurl libmicrohttpd yaml-0.1 sqlite3 libarchive libnftnl libmnl libcap ldns openssl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= $(OPT) -g
ALL_CFLAGS = -std=c17 -D_GNU_SOURCE -DKX_VERSION='"$(VERSION)"' -Wall -Wextra -Werror \
	-Wno-unused-parameter -Wno-format-truncation -Ilib $(PKG_CFLAGS) $(CFLAGS) $(SAN)
LDLIBS  = $(PKG_LIBS) -ljq -lonig -lpthread -lm
LDFLAGS ?=

PROGS   := $(patsubst cmd/%/,%,$(sort $(dir $(wildcard cmd/*/*.c))))
binname  = $(if $(filter kx,$(1)),kx,kx-$(1))
BINS    := $(foreach p,$(PROGS),bin/$(call binname,$(p)))
LIB_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard lib/*.c))
UNIT    := $(patsubst tests/unit/%.c,$(B)/unit/%,$(wildcard tests/unit/*.c))
MANS    := $(wildcard man/*.[1-8])

.PHONY: all deps run check test unit cli install uninstall clean fmt bench fuzz
all: $(BINS)

# --- dependencies: install only what is missing (as root, on Debian) ---------
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make: missing packages:" $$missing "(run as root to install them)" >&2; exit 1; fi; \
	  echo "installing:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

# --- the two commands the README starts with ---------------------------------
run: deps
	@$(MAKE) --no-print-directory all
	exec examples/cluster.sh

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory B=build/asan OPT=-O1 SAN='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' unit-build
	@$(MAKE) --no-print-directory test B=build/asan

unit-build: $(UNIT)

test:
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	KX_TOP=$(CURDIR) PATH=$(CURDIR)/bin:$$PATH \
	prove -j2 --timer -e '' $(UNIT) $(sort $(wildcard tests/cli/*.t))

# --- build rules --------------------------------------------------------------
$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libkx.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

define prog_rule
bin/$(call binname,$(1)): $(patsubst %.c,$(B)/%.o,$(wildcard cmd/$(1)/*.c)) $(B)/libkx.a
	@mkdir -p bin
	$$(CC) $$(ALL_CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(PROGS),$(eval $(call prog_rule,$(p))))

# kx-node-run's log copier, one process per container: a program of its own
# (not in bin/: no one runs it by hand) so that starting it does not load
# kx-node-run's libraries, which cost 15 ms of CPU; kx-node-run finds it at
# ../libexec/kx/copy-log from its own directory
COPIER = libexec/kx/copy-log
all: $(COPIER)
$(COPIER): $(B)/cmd/node-run/copier/main.o $(B)/cmd/node-run/copier.o $(B)/libkx.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/unit/%: $(B)/tests/unit/%.o $(B)/libkx.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# kx-store embeds OpenAPI schemas made at build time from python3-kubernetes'
# models (tools/gen-openapi.py); nothing generated is kept in the repository.
OPENAPI = $(B)/gen/openapi.json
$(OPENAPI): tools/gen-openapi.py
	@mkdir -p $(@D)
	/usr/bin/python3 tools/gen-openapi.py >$@.tmp && mv $@.tmp $@
$(B)/gen/openapi.o: tools/openapi.S $(OPENAPI)
	$(CC) -c -DOPENAPI_JSON='"$(OPENAPI)"' -o $@ tools/openapi.S
bin/kx-store: $(B)/gen/openapi.o

-include $(shell find build -name '*.d' 2>/dev/null)

# --- install ------------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(BASHDIR) $(DESTDIR)$(ZSHDIR)
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	install -d $(DESTDIR)$(PREFIX)/libexec/kx
	install -m 755 $(COPIER) $(DESTDIR)$(PREFIX)/libexec/kx
	for m in $(MANS); do s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s; \
	  install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s; done
	install -m 644 completions/kx.bash $(DESTDIR)$(BASHDIR)/kx
	for b in $(filter-out bin/kx,$(BINS)); do ln -sf kx $(DESTDIR)$(BASHDIR)/$${b#bin/}; done
	install -m 644 completions/_kx $(DESTDIR)$(ZSHDIR)/_kx

uninstall:
	for b in $(BINS); do rm -f $(DESTDIR)$(BINDIR)/$${b#bin/} $(DESTDIR)$(BASHDIR)/$${b#bin/}; done
	for m in $(MANS); do s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${m#man/}; done
	rm -f $(DESTDIR)$(BASHDIR)/kx $(DESTDIR)$(ZSHDIR)/_kx
	rm -f $(DESTDIR)$(PREFIX)/$(COPIER)

# libFuzzer harnesses (tests/fuzz/fuzz_NAME.c -> build/fuzz/fuzz_NAME), with clang;
# run one with e.g. build/fuzz/fuzz_yaml -max_total_time=60
FUZZ := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/*.c))
fuzz: $(FUZZ)
build/fuzz/%: tests/fuzz/%.c $(wildcard lib/*.c lib/*.h)
	@mkdir -p $(@D)
	clang -std=c17 -D_GNU_SOURCE -DKX_VERSION='"$(VERSION)"' -Ilib $(PKG_CFLAGS) -g -O1 \
	  -fsanitize=fuzzer,address,undefined -o $@ $< $(wildcard lib/*.c) $(LDLIBS)

bench: all
	@for b in bench/*.sh; do echo "== $$b"; $$b || exit 1; done

fmt:
	clang-format -i lib/*.[ch] cmd/*/*.[ch] tests/unit/*.[ch]

clean:
	rm -rf build bin libexec
