"""The Debian package's tests: skipped, with the reason, where the Debian tools are not there.

The package is built once per test run, whatever the number of xdist workers: the first worker
that needs it runs `make deb` in a clean clone of this checkout's committed HEAD, under a lock
in the run's own temporary directory, and the others wait for it and take its result (the
.deb, or the same failure). `make deb` installs the build tools with apt when it can (root or
sudo). Installing it (test_deb_install.py) needs root and is serialised machine-wide;
tests/conftest.py sends all of that module's tests to one worker, so it happens once per run too.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.packaging.debian_host import REPO, deb_name


def _why_not_buildable() -> str | None:
    if not shutil.which("dpkg") or not shutil.which("apt-get"):
        return "not a Debian system (no dpkg / apt-get)"
    if not (REPO / ".git").exists():
        return "not a git checkout: the package is built from a clean clone"
    tools = ("dpkg-buildpackage", "dh", "lintian")
    can_install = os.geteuid() == 0 or shutil.which("sudo")
    if not all(shutil.which(t) for t in tools) and not can_install:
        return "Debian build tools missing and neither root nor sudo to install them (make deb-deps)"
    return None


def _run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This test run's own temporary directory: shared by its xdist workers, no other run's."""
    base = tmp_path_factory.getbasetemp()
    # an xdist worker's basetemp is <the run's>/popen-gwN; without xdist it is the run's own
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _make_deb(clone: Path) -> str | None:
    """`make deb` in a fresh clone of HEAD at `clone`; None, or why it failed."""
    shutil.rmtree(clone, ignore_errors=True)  # left half-made by a worker killed mid-build
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(clone)], check=True,
                   timeout=120)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    result = subprocess.run(["make", "deb"], cwd=clone, env=env, capture_output=True, text=True,
                            timeout=600, check=False)
    if result.returncode != 0 or not (clone / "dist" / deb_name()).exists():
        return (f"`make deb` in a clean clone failed ({result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return None


@pytest.fixture(scope="session")
def built_deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dist/indi-seestar_<version>_all.deb built by `make deb` in a fresh clone of HEAD."""
    reason = _why_not_buildable()
    if reason:
        pytest.skip(reason)
    shared = _run_dir(tmp_path_factory) / "deb"
    shared.mkdir(exist_ok=True)
    clone, failure = shared / "indi_seestar", shared / "make-deb-failed.txt"
    deb = clone / "dist" / deb_name()
    with open(shared / "build.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when closed, also if this worker dies
        if not failure.exists() and not deb.exists():
            why = _make_deb(clone)
            if why:
                failure.write_text(why)
    if failure.exists():
        pytest.fail(failure.read_text())
    return deb
