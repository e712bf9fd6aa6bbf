# indi_seestar: set-up, run, test and benchmark.
#   make run    install what is missing, start indiserver with the driver against the fake Seestar
#   make test   install what is missing, run every test
#   make bench  install what is missing, run the benchmarks (writes bench/results.json)

PYTHON     ?= python3
VENV       := .venv
VPY        := $(VENV)/bin/python
STAMP      := $(VENV)/.installed
INDI_PORT  ?= 7624
SUDO       := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
APT_PKGS   := indi-bin

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: all deps apt venv run test bench install clean

all: test

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
$(STAMP): pyproject.toml
	@[ -x $(VPY) ] || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[test]'
	$(VPY) -m pip install -q --no-deps --only-binary :all: pyindi-client==2.3.0
	@touch $(STAMP)

run: deps
	@$(VPY) -m indi_seestar.tools.run --port $(INDI_PORT)

test: deps
	$(VPY) -m pytest -q

bench: deps
	$(VPY) -m bench --out bench/results.json

# Registers the driver system-wide: a wrapper on indiserver's PATH and the
# drivers XML as a real file (KStars ignores symbolic links).
install: deps
	$(SUDO) install -m 0755 -D packaging/indi_seestar.wrapper /usr/local/bin/indi_seestar
	$(SUDO) sed -i "s|@VENV@|$(CURDIR)/$(VENV)|" /usr/local/bin/indi_seestar
	$(SUDO) install -m 0644 -D drivers.xml /usr/share/indi/indi_seestar.xml

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
