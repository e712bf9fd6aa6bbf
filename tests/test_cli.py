"""indi_seestar.cli: the duplicate-start guard, INDIDEV, the executable on pipes (no indiserver)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from indi_seestar import instances
from tests.support.rig import venv_bin

DRIVER = str(venv_bin() / "indi_seestar")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {**os.environ, "HOME": str(home), "INDI_SEESTAR_CONFIG": "",
            "INDI_SEESTAR_LOCK_DIR": str(tmp_path), **extra}


def test_the_start_guard_is_per_indiserver_and_prefix_in_our_variable_then_the_runtime_dir():
    uid = os.getuid()
    assert instances.start_lock_path("Seestar", 42, {"INDI_SEESTAR_LOCK_DIR": "/l",
                                                     "XDG_RUNTIME_DIR": "/r"}) == \
        Path(f"/l/indi_seestar-{uid}-42-Seestar.lock")
    assert instances.start_lock_path("My Scope/2", 7, {"XDG_RUNTIME_DIR": "/r"}) == \
        Path(f"/r/indi_seestar-{uid}-7-My_Scope_2.lock")
    assert instances.start_lock_path("Seestar", 1, {}).parent == Path("/tmp")


def test_the_start_guard_is_held_once(tmp_path):
    first = instances.acquire_start_lock(tmp_path / "x.lock")
    assert first is not None
    assert instances.acquire_start_lock(tmp_path / "x.lock") is None
    first.close()
    again = instances.acquire_start_lock(tmp_path / "x.lock")
    assert again is not None
    again.close()


def test_an_unusable_lock_directory_does_not_stop_the_driver(tmp_path):
    assert instances.acquire_start_lock(tmp_path / "missing" / "x.lock") is not None


def test_a_duplicate_start_by_the_same_parent_defines_nothing_and_exits_at_eof(tmp_path):
    # The driver's parent is this test process, as indiserver is for the copies it starts.
    held = instances.acquire_start_lock(instances.start_lock_path(
        "Seestar", os.getpid(), {"INDI_SEESTAR_LOCK_DIR": str(tmp_path)}))
    assert held is not None
    try:
        done = subprocess.run([DRIVER], input=b'<getProperties version="1.7"/>\n',
                              capture_output=True, env=_env(tmp_path), timeout=30, check=False)
    finally:
        held.close()
    assert done.returncode == 0
    assert done.stdout == b""
    assert b"another indi_seestar already serves the 'Seestar' devices for this indiserver" \
        in done.stderr


def test_a_copy_under_another_parent_defines_its_devices(tmp_path):
    held = instances.acquire_start_lock(instances.start_lock_path(
        "Seestar", os.getpid() + 1, {"INDI_SEESTAR_LOCK_DIR": str(tmp_path)}))
    try:
        done = subprocess.run([DRIVER], input=b'<getProperties version="1.7"/>\n',
                              capture_output=True, env=_env(tmp_path), timeout=30, check=False)
    finally:
        held.close()
    assert done.stdout.count(b'name="DRIVER_INFO"') == 6  # four devices, the live stack, Seestar Power


def test_indidev_names_the_devices_and_a_role_suffix_is_dropped(tmp_path):
    for name, prefix in (("Seestar West", "Seestar West"), ("Seestar East Camera", "Seestar East")):
        done = subprocess.run([DRIVER], input=b'<getProperties version="1.7"/>\n',
                              capture_output=True, env=_env(tmp_path, INDIDEV=name), timeout=30,
                              check=False)
        for role in ("Mount", "Camera", "Focuser", "Filter Wheel", "Stack"):
            assert f'device="{prefix} {role}" name="DRIVER_INFO"'.encode() in done.stdout


def test_a_broken_configuration_is_reported_and_the_devices_still_come_up(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("seestar:\n  hots: 10.0.0.1\n")
    done = subprocess.run([DRIVER], input=b'<getProperties version="1.7"/>\n', capture_output=True,
                          env=_env(tmp_path, INDI_SEESTAR_CONFIG=str(bad)), timeout=30, check=False)
    assert done.returncode == 0
    assert f"configuration error: {bad}:seestar.hots: unknown key 'hots'".encode() in done.stderr
    assert done.stdout.count(b'name="DRIVER_INFO"') == 6  # four devices, the live stack, Seestar Power
    assert max(len(line) for line in done.stderr.splitlines()) < 1024
