"""The Debian package's tests: skipped, with the reason, where the Debian tools are not there.

The package is built once per session (per xdist worker) from a clean clone of this checkout's
committed HEAD with `make deb`, which installs the build tools with apt when it can (root or
sudo). Installing it (test_deb_install.py) needs root and is serialised machine-wide.
"""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def built_deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dist/indi-seestar_<version>_all.deb built by `make deb` in a fresh clone of HEAD."""
    reason = _why_not_buildable()
    if reason:
        pytest.skip(reason)
    clone = tmp_path_factory.mktemp("deb") / "indi_seestar"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(clone)], check=True,
                   timeout=120)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    result = subprocess.run(["make", "deb"], cwd=clone, env=env, capture_output=True, text=True,
                            timeout=600, check=False)
    deb = clone / "dist" / deb_name()
    if result.returncode != 0 or not deb.exists():
        pytest.fail(f"`make deb` in a clean clone failed ({result.returncode}):\n"
                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return deb
