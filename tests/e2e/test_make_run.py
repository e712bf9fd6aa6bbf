"""`make run`'s tool and `make install`, as a user runs them, without touching the system.

The tool (`python -m indi_seestar.tools.run`) runs on a free port with an isolated HOME (so the
built-in fake is used); `make install` is staged into a temporary DESTDIR."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import psutil
import pytest

from tests.support.indi_harness import IndiServer, free_port, until
from tests.support.rig import PREFIX, venv_bin

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ROLES = ("Mount", "Camera", "Focuser", "Filter Wheel", "Stack", "Power")  # issues 11, 12


def _getprop(port: int, spec: str) -> dict[str, str]:
    out = subprocess.run(["indi_getprop", "-h", "127.0.0.1", "-p", str(port), "-t", "2", spec],
                         capture_output=True, text=True, timeout=30, check=False).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def _isolated_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "INDI_SEESTAR_CONFIG"}
    env.update(HOME=str(home), INDI_SEESTAR_LOCK_DIR=str(tmp_path),
               INDI_SEESTAR_SYSTEM_LOCK_DIR=str(tmp_path / "system-locks"),
               PATH=os.pathsep.join([str(venv_bin()), env.get("PATH", "")]))
    return env


def test_make_run_tool_serves_the_four_devices_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    tool = subprocess.Popen([sys.executable, "-m", "indi_seestar.tools.run", "--port", str(port),
                             "--unix-socket", str(tmp_path / "indiserver.sock")],
                            env=_isolated_env(tmp_path), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(tool.stdout), daemon=True).start()
    try:
        expected = {f"{PREFIX} {role}.DRIVER_INFO.DRIVER_EXEC": "indi_seestar" for role in ROLES}
        seen: list[dict[str, str]] = []

        def four_devices() -> bool:
            seen[:] = [_getprop(port, "*.DRIVER_INFO.DRIVER_EXEC")]
            return seen[0] == expected

        try:
            until(four_devices, 30, interval_s=0.2, what="the four devices through indi_getprop")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last seen {seen}; tool output: {''.join(output)!r}; "
                                 f"tool exit {tool.poll()}") from None
        until(lambda: any("Ctrl-C stops everything" in line for line in output), 10,
              what="the connection instructions")
        text = "".join(output)
        assert "the built-in fake Seestar (S50, firmware 6.70; no configuration file)" in text
        for needle in ("KStars/Ekos", "PHD2", f"Port: {port}", f'"{PREFIX} Camera"'):
            assert needle in text
        # the fake really is behind it: the focuser connects
        subprocess.run(["indi_setprop", "-h", "127.0.0.1", "-p", str(port),
                        f"{PREFIX} Focuser.CONNECTION.CONNECT=On"], check=True, timeout=30)
        until(lambda: _getprop(port, f"{PREFIX} Focuser.CONNECTION._STATE").get(
            f"{PREFIX} Focuser.CONNECTION._STATE") == "Ok", 30, interval_s=0.2, what="CONNECT Ok")

        children = psutil.Process(tool.pid).children(recursive=True)
        names = sorted(p.name() for p in children)
        assert names == ["indi_seestar", "indiserver"]
        tool.send_signal(signal.SIGINT)
        assert tool.wait(timeout=15) == 0
        _gone, alive = psutil.wait_procs(children, timeout=10)
        assert not alive
    finally:
        if tool.poll() is None:
            # indiserver runs in a session of its own: killing the tool alone would leave it
            # and the driver running (seen when this test failed under load).
            family = psutil.Process(tool.pid).children(recursive=True)
            tool.kill()
            tool.wait()
            for process in family:
                with contextlib.suppress(psutil.Error):
                    process.kill()


def test_make_run_tool_refuses_a_busy_port(tmp_path):
    with IndiServer(free_port(), workdir=tmp_path / "other") as other:
        done = subprocess.run([sys.executable, "-m", "indi_seestar.tools.run", "--port",
                               str(other.port)], env=_isolated_env(tmp_path), cwd=REPO,
                              capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode != 0
    assert f"port {other.port} is already in use" in done.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_install_stages_a_wrapper_and_a_real_drivers_file(tmp_path):
    destdir = tmp_path / "root"
    done = subprocess.run(["make", "-o", "deps", "install", f"DESTDIR={destdir}"], cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    wrapper = destdir / "usr/local/bin/indi_seestar"
    xml = destdir / "usr/share/indi/indi_seestar.xml"
    assert os.access(wrapper, os.X_OK) and not wrapper.is_symlink()
    assert xml.is_file() and not xml.is_symlink()  # KStars ignores symbolic links
    assert f'exec "{REPO}/.venv/bin/indi_seestar"' in wrapper.read_text()

    groups = {g.get("group"): g.find("device") for g in ET.parse(xml).getroot()}
    assert set(groups) == {"Telescopes", "CCDs", "Focusers", "Filter Wheels"}
    for device in groups.values():
        assert device.get("mdpd") == "true"
        assert device.find("driver").text == "indi_seestar"
        assert device.get("label").startswith(device.find("driver").get("name"))
        float(device.find("version").text)

    if not (REPO / ".venv/bin/indi_seestar").exists():
        pytest.skip("no .venv in the checkout: the staged wrapper cannot be run")
    env = {"HOME": str(tmp_path / "home"), "INDI_SEESTAR_CONFIG": "",
           "INDI_SEESTAR_LOCK_DIR": str(tmp_path)}
    with IndiServer(free_port(), workdir=tmp_path / "srv", path_dirs=[wrapper.parent],
                    env=env) as server:
        server.start_driver("indi_seestar")  # found on PATH through the wrapper, as KStars does
        until(lambda: len(_getprop(server.port, "*.DRIVER_INFO.DRIVER_INTERFACE")) == len(ROLES), 30,
              interval_s=0.2, what="the devices of the installed driver")


def test_make_run_scopes_2_serves_two_named_instances(tmp_path):
    port = free_port()
    env = {**_isolated_env(tmp_path),
           "INDI_SEESTAR_SYSTEM_LOCK_DIR": str(tmp_path / "system-locks")}
    tool = subprocess.Popen([sys.executable, "-m", "indi_seestar.tools.run", "--port", str(port),
                             "--scopes", "2", "--unix-socket", str(tmp_path / "indiserver.sock")],
                            env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(tool.stdout), daemon=True).start()
    try:
        expected = {f"Seestar {n} {role}.DRIVER_INFO.DRIVER_EXEC": "indi_seestar"
                    for n in (1, 2) for role in ROLES}
        until(lambda: _getprop(port, "*.DRIVER_INFO.DRIVER_EXEC") == expected, 30, interval_s=0.2,
              what="the eight devices of two instances through indi_getprop")
        until(lambda: any("Ctrl-C stops everything" in line for line in output), 10,
              what="the connection instructions")
        assert '"Seestar 2": "Seestar 2 Mount"' in "".join(output)
        for n in (1, 2):  # each instance reaches its own built-in fake
            subprocess.run(["indi_setprop", "-h", "127.0.0.1", "-p", str(port),
                            f"Seestar {n} Focuser.CONNECTION.CONNECT=On"], check=True, timeout=30)
        until(lambda: all(_getprop(port, f"Seestar {n} Focuser.CONNECTION._STATE").get(
            f"Seestar {n} Focuser.CONNECTION._STATE") == "Ok" for n in (1, 2)), 30,
            interval_s=0.2, what="both CONNECT Ok")
        tool.send_signal(signal.SIGINT)
        assert tool.wait(timeout=20) == 0
    finally:
        if tool.poll() is None:
            tool.kill()
            tool.wait()
