"""Helpers for the Debian package's tests: names, dpkg queries, and a machine-wide apt lock.

Installing the package changes the machine that parallel test runs (xdist workers, other
checkouts, CI) share, so `exclusive_apt()` holds an flock on one fixed path for the whole
install-run-remove cycle, and `PackageSet` records what an install added so that exactly that
is removed again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import tomllib
import warnings
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "indi-seestar"
#: Machine-wide on purpose: every test run on this machine that installs the package takes it.
APT_LOCK = Path("/tmp/indi-seestar-apt-test.lock")
#: What the running install added (left behind only if a run was killed: the next one cleans up).
ADDED_RECORD = Path("/tmp/indi-seestar-apt-test.added.json")
APT_ENV = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
#: apt waits this long for dpkg's own lock (another apt-get on the machine) instead of failing.
DPKG_LOCK_WAIT_S = 300


def version() -> str:
    """The project's version, as in pyproject.toml (and packaging/debian/changelog)."""
    with open(REPO / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def deb_name() -> str:
    """The file `make deb` writes into dist/."""
    return f"{PACKAGE}_{version()}_all.deb"


def installed_packages() -> set[str]:
    """Names of the packages whose files are on the machine now (installed, even half-way)."""
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${db:Status-Abbrev}\n"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    # the second letter is the state: n not installed, c config-files only; others have files
    return {name for name, status in (line.split("\t") for line in out.splitlines())
            if len(status) > 1 and status[1] not in "nc"}


def apt_get(*args: str, timeout_s: float = 600) -> subprocess.CompletedProcess[str]:
    """apt-get -y with no questions, waiting for dpkg's lock; raises with its output on failure."""
    cmd = ["apt-get", "-y", "-q", "-o", f"DPkg::Lock::Timeout={DPKG_LOCK_WAIT_S}", *args]
    result = subprocess.run(cmd, env=APT_ENV, capture_output=True, text=True, timeout=timeout_s,
                            check=False)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n"
                             f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def purge(packages: list[str]) -> list[str]:
    """apt-get purge these packages if that removes nothing else; returns what it would not purge.

    Called with what an install added: nothing installed before depends on them, but something
    installed since (by another run on the machine) may, and apt would remove that too.
    """
    if not packages:
        return []
    plan = apt_get("-s", "purge", *packages).stdout
    going = {line.split()[1] for line in plan.splitlines() if line.startswith(("Purg ", "Remv "))}
    if going - set(packages):
        return sorted(packages)
    apt_get("purge", *packages)
    return []


@contextlib.contextmanager
def exclusive_apt() -> Iterator[None]:
    """Hold the machine-wide lock of the install tests; undo a killed run's install first."""
    with open(APT_LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            if ADDED_RECORD.exists():  # a run that was killed before its clean-up
                purge(json.loads(ADDED_RECORD.read_text()))
                ADDED_RECORD.unlink()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def installed(deb: Path) -> Iterator[set[str]]:
    """`apt-get install ./deb`, then purge it and exactly the packages it pulled in.

    Yields the set of packages the install added. Must run inside `exclusive_apt()`.
    """
    before = installed_packages()
    try:
        apt_get("install", "--no-install-recommends", str(deb.resolve()))
        added = installed_packages() - before
        # the package first, then what it pulled in, so dpkg finds no dependant left
        ADDED_RECORD.write_text(json.dumps([PACKAGE, *sorted(added - {PACKAGE})]))
        yield added
    finally:
        added = installed_packages() - before
        kept = purge([PACKAGE] if PACKAGE in added else [])
        kept += purge(sorted(installed_packages() - before))
        ADDED_RECORD.unlink(missing_ok=True)
        if kept:
            warnings.warn(f"left installed (something installed since depends on them): {kept}",
                          stacklevel=1)
