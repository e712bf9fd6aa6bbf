"""The Debian package, built by `make deb` from a clean clone: its files, lintian, its unit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.packaging.debian_host import PACKAGE, REPO, version

#: The first test waits for the build, and on a new machine for apt to install its tools.
pytestmark = pytest.mark.timeout(900)

#: What a native INDI driver package must install (dpkg-deb -c paths).
REQUIRED_FILES = (
    "./usr/bin/indi_seestar",
    "./usr/bin/indi_seestar_sim",
    "./usr/share/indi/indi_seestar.xml",
    "./usr/lib/python3/dist-packages/indi_seestar/cli.py",
    "./usr/lib/python3/dist-packages/indi_seestar/sim/__main__.py",
    "./lib/systemd/system/indi-seestar.service",
    "./etc/indi-seestar/config.yaml",
)
#: Debian's packages at bookworm's versions (apt-cache policy on Debian 12.11).
BOOKWORM_DEPENDS = {
    "python3-numpy": "1:1.24", "python3-erfa": "2.0", "python3-yaml": "6.0",
    "python3-cryptography": "38", "indi-bin": "1.9.9",
}


def _field(deb: Path, name: str) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True,
                          check=True, timeout=60).stdout.strip()


def _extract(deb: Path, into: Path) -> Path:
    subprocess.run(["dpkg-deb", "-x", str(deb), str(into)], check=True, timeout=60)
    return into


def test_the_package_holds_the_driver_its_scripts_and_the_drivers_xml(built_deb):
    assert built_deb.name == f"{PACKAGE}_{version()}_all.deb"
    listing = subprocess.run(["dpkg-deb", "-c", str(built_deb)], capture_output=True, text=True,
                             check=True, timeout=60).stdout
    paths = {line.split()[-1] for line in listing.splitlines()}
    assert [p for p in REQUIRED_FILES if p not in paths] == []
    # nothing of the build tree or the tests ships
    assert not [p for p in paths if "/tests/" in p or "egg-info" in p or "__pycache__" in p]
    assert _field(built_deb, "Architecture") == "all"
    assert _field(built_deb, "Package") == PACKAGE


def test_the_package_depends_on_debian_python_packages_at_bookworm_versions(built_deb):
    depends = dict(re.findall(r"([a-z0-9.+-]+)(?: \(>= ([^)]+)\))?", _field(built_deb, "Depends")))
    for name, minimum in BOOKWORM_DEPENDS.items():
        assert depends.get(name) == minimum, (name, depends)
    # the driver computes with erfa: astropy only writes the optional compressed FITS
    assert "python3-astropy" not in depends
    assert "python3-astropy" in _field(built_deb, "Recommends")


def test_the_installed_xml_is_the_checkouts_drivers_xml(built_deb, tmp_path):
    root = _extract(built_deb, tmp_path)
    xml = root / "usr/share/indi/indi_seestar.xml"
    assert not xml.is_symlink()  # KStars ignores symbolic links
    assert xml.read_bytes() == (REPO / "drivers.xml").read_bytes()


def test_lintian_reports_no_error_and_no_warning(built_deb):
    root_flag = ["--allow-root"] if os.geteuid() == 0 else []
    result = subprocess.run(["lintian", *root_flag, str(built_deb)], capture_output=True,
                            text=True, timeout=300, check=False)
    tags = [line for line in result.stdout.splitlines() if re.match(r"^[EW]: ", line)]
    assert tags == [], result.stdout
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_service_unit_passes_systemd_analyze_verify(built_deb, tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    unit = _extract(built_deb, tmp_path) / "lib/systemd/system/indi-seestar.service"
    # --man=no: the man page it names is in this package, not yet installed (test_deb_install
    # verifies the installed unit with it)
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
    text = unit.read_text()
    exec_start = re.search(r"^ExecStart=(.*)$", text, re.M).group(1).split()
    # its own local socket and FIFO, in its runtime directory, and an unprivileged user
    assert exec_start[exec_start.index("-u") + 1] == "%t/indi-seestar/indiserver.sock"
    assert exec_start[exec_start.index("-f") + 1] == "%t/indi-seestar/indiserver.fifo"
    assert exec_start[-1] == "indi_seestar"
    for line in ("User=indi-seestar", "Restart=on-failure", "RuntimeDirectory=indi-seestar",
                 "StateDirectory=indi-seestar", "NoNewPrivileges=yes"):
        assert re.search(rf"^{re.escape(line)}$", text, re.M), line


def test_make_run_gives_indiserver_its_own_local_socket():
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    dry = {port: subprocess.run(["make", "-n", "-s", "run", f"INDI_PORT={port}"], cwd=REPO, env=env,
                                capture_output=True, text=True, timeout=60, check=True).stdout
           for port in (7624, 7625)}
    sockets = {port: re.search(r"--unix-socket (\S+)", out).group(1) for port, out in dry.items()}
    assert "/tmp/indiserver" not in sockets.values()
    assert sockets[7624] != sockets[7625]
