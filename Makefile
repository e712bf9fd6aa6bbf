# indi_seestar: set-up, run, test and benchmark.
#   make run    install what is missing, start indiserver with the driver against the fake Seestar
#               (SCOPES=2: two instances, "Seestar 1" and "Seestar 2", each with its own fake)
#   make test   install what is missing, run every test (in parallel: TEST_WORKERS)
#   make check  lint and the fast unit tests (protocol, indi, fits): the inner loop, < 30 s
#   make bench  install what is missing, run the benchmarks (writes bench/results.json)
#   make deb    install the Debian build tools if missing, build dist/indi-seestar_<version>_all.deb
#   make sky    install the fake's real star catalogue (Tycho-2; run and test do it), see README

PYTHON     ?= python3
VENV       := .venv
VPY        := $(VENV)/bin/python
STAMP      := $(VENV)/.installed
INDI_PORT  ?= 7624
# indiserver's local socket: its own name per port (1.9.9 takes /tmp/indiserver otherwise and
# exits when another indiserver, e.g. the indi-seestar service, already holds that one).
INDI_SOCKET ?= /tmp/indi_seestar-$(shell id -u)-$(INDI_PORT).sock
SUDO       := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
APT_PKGS   := indi-bin
DESTDIR    ?=
BINDIR     ?= /usr/local/bin
INDI_DATA_DIR ?= /usr/share/indi
INSTALL_SUDO = $(if $(DESTDIR),,$(SUDO))

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: all deps apt venv run test check bench install clean deb deb-deps sky solver

all: test

# `make run SCOPES=2`: that many driver instances, each its own Seestar (tools/run.py).
SCOPES ?= 1
export INDI_SEESTAR_RUN_SCOPES := $(SCOPES)

deps: apt venv

# Debian packages: indiserver and the indi_* tools (indi-bin), and what a bare
# Debian needs to build a virtualenv.
apt:
	@missing=""; \
	command -v indiserver >/dev/null 2>&1 || missing="$$missing $(APT_PKGS)"; \
	$(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	command -v $(PYTHON) >/dev/null 2>&1 || missing="$$missing python3 python3-venv"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

venv: $(STAMP)

# pyindi-client is libindi's own client (the parser KStars and PHD2 use), installed as its
# manylinux wheel with --no-deps: its declared runtime deps (dbus-python, bottle, requests)
# serve indiweb, not the client, and dbus-python does not build on a bare Debian.
# A venv without pip (left by a run before python3-venv was installed) is made again.
# --no-compile: Python writes the .pyc of a module when it is first imported, so only those
# in use are compiled, not all of astropy and numpy (this step: 17.4 -> 10.3 s, 2 cores).
$(STAMP): pyproject.toml
	@$(VPY) -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q --no-compile -e '.[test]'
	$(VPY) -m pip install -q --no-deps --only-binary :all: pyindi-client==2.3.0
	@touch $(STAMP)

run: deps sky
	@$(VPY) -m indi_seestar.tools.run --port $(INDI_PORT) --unix-socket $(INDI_SOCKET)

# The suite mostly waits (exposures, pulses, timeouts: ~4.5 min of CPU in ~4 min on 2 cores), so
# it runs in more workers than cores; tests/conftest.py deals the longest first. 8 were no faster
# beside make bench (the drivers' own CPU, ~0.4 s each for ~220 drivers, is not in the tests'
# figures) and three timing claims failed then under that load: 6.
TEST_WORKERS ?= 6
CHECK_TESTS  := tests/protocol tests/indi tests/test_fits.py

# Tests marked realtime (guide pulses to ~5 ms) run beside the rest, one at a time (two at once
# skewed pulses), ten nice levels above it: as root -10 (and SCHED_RR) and 0, else 0 and +10;
# those marked realtime_busy (guiding on frames, frame timing) in a third lane five levels above
# the rest, those marked waiting (long, mostly asleep) in a fourth of 2 workers beside it
# (tests/phases.py, which takes --nice/--realtime-nice); any failing fails.
# Bytecode caches on: the suite starts hundreds of driver, fake and worker processes, and where
# the environment exports PYTHONDONTWRITEBYTECODE each one compiled the package again (an import
# 0.40 s of CPU instead of 0.26 s) and every worker rewrote every test module (~3 s of CPU).
test: deps sky solver
	@env -u PYTHONDONTWRITEBYTECODE $(VPY) -m tests.phases --workers $(TEST_WORKERS)

check: deps
	$(VPY) -m ruff check .
	env -u PYTHONDONTWRITEBYTECODE $(VPY) -m pytest -q -n 2 --dist load $(CHECK_TESTS)

bench: deps
	$(VPY) -m bench --out bench/results.json

# The fake's real sky (issue 16; README "The fake's sky"): Debian's astrometry.net Tycho-2 index
# (astrometry-data-tycho2-07: 88 MB download, 137 MB installed, BSD-2-Clause) turned into the
# compact star file the fake reads (30 MB, in the venv). `solver` adds astrometry.net's
# solve-field for the plate-solve test. Both best effort: without them the fake shows a seeded
# random star field (and logs it) and the solve test skips; the driver needs neither.
SKY_APT_PKGS := astrometry-data-tycho2-07
SKY_INDEX    := /usr/share/astrometry/index-tycho2-07.littleendian.fits
SKY_FILE     := $(VENV)/share/indi_seestar/tycho2-sky.npy

sky: $(SKY_FILE)

$(SKY_FILE): $(STAMP)
	@if [ ! -f $(SKY_INDEX) ]; then \
		echo "installing Debian packages: $(SKY_APT_PKGS)"; \
		{ $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(SKY_APT_PKGS); } || \
		echo "warning: $(SKY_APT_PKGS) not installed: the fake will show a random star field"; \
	fi
	@if [ -f $(SKY_INDEX) ]; then $(VPY) -m indi_seestar.sim.tycho_build $(SKY_INDEX) $@ || \
		echo "warning: $@ not built: the fake will show a random star field"; fi

solver:
	@command -v solve-field >/dev/null 2>&1 || { \
		echo "installing Debian packages: astrometry.net"; \
		{ $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends astrometry.net; } || \
		echo "warning: astrometry.net not installed: the plate-solve test will skip"; }

# Registers the driver system-wide: a wrapper on indiserver's PATH and the
# drivers XML as a real file (KStars ignores symbolic links). DESTDIR stages the
# files under another root (packaging, tests) and then needs no sudo.
install: deps
	$(INSTALL_SUDO) install -m 0755 -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(INDI_DATA_DIR)
	sed "s|@VENV@|$(CURDIR)/$(VENV)|" packaging/indi_seestar.wrapper > $(VENV)/indi_seestar.wrapper
	$(INSTALL_SUDO) install -m 0755 $(VENV)/indi_seestar.wrapper $(DESTDIR)$(BINDIR)/indi_seestar
	$(INSTALL_SUDO) install -m 0644 drivers.xml $(DESTDIR)$(INDI_DATA_DIR)/indi_seestar.xml
	@echo "installed $(DESTDIR)$(BINDIR)/indi_seestar and $(DESTDIR)$(INDI_DATA_DIR)/indi_seestar.xml"

# The Debian package (packaging/debian, packaging/build-deb.sh; README "Debian package").
DEB_BUILD_PKGS := dpkg-dev debhelper dh-python pybuild-plugin-pyproject python3-all \
	python3-setuptools python3-wheel lintian

deb-deps:
	@missing=""; \
	for p in $(DEB_BUILD_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

deb: deb-deps
	packaging/build-deb.sh

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
