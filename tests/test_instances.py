"""indi_seestar.instances: the per-Seestar session lock and its holder records."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from indi_seestar.errors import ScopeHeld
from indi_seestar.instances import ScopeLocks, describe_holder, indiserver_port, system_lock_dir


def _locks(tmp_path, user: str, prefix: str = "Seestar West") -> ScopeLocks:
    env = {"INDI_SEESTAR_LOCK_DIR": str(tmp_path / user),
           "INDI_SEESTAR_SYSTEM_LOCK_DIR": str(tmp_path / "system")}
    (tmp_path / user).mkdir(exist_ok=True)
    return ScopeLocks.from_env(prefix, env)


def test_a_scope_is_claimed_once_and_the_refusal_names_the_holder(tmp_path):
    release = _locks(tmp_path, "a").claim("127.0.0.1:4700")
    with pytest.raises(ScopeHeld) as refused:
        _locks(tmp_path, "a", "Seestar North").claim("127.0.0.1:4700")
    text = str(refused.value)
    assert f"indi_seestar pid {os.getpid()}" in text
    assert '"Seestar West Mount"' in text and "127.0.0.1:4700" in text
    assert "disconnect those devices or stop that driver" in text
    release()
    _locks(tmp_path, "a", "Seestar North").claim("127.0.0.1:4700")()


def test_different_user_lock_directories_still_meet_in_the_system_wide_one(tmp_path):
    release = _locks(tmp_path, "runtime-1").claim("10.0.0.5:4700")
    try:
        with pytest.raises(ScopeHeld):
            _locks(tmp_path, "runtime-2").claim("10.0.0.5:4700")
        _locks(tmp_path, "runtime-2").claim("10.0.0.6:4700")()  # another scope is free
    finally:
        release()


def test_a_refused_claim_keeps_no_lock(tmp_path):
    # runtime-2 locks its own directory first, then fails on the shared one: it must let go.
    release = _locks(tmp_path, "runtime-1").claim("10.0.0.5:4700")
    with pytest.raises(ScopeHeld):
        _locks(tmp_path, "runtime-2").claim("10.0.0.5:4700")
    release()
    _locks(tmp_path, "runtime-2").claim("10.0.0.5:4700")()


def test_a_lock_held_by_another_process_is_seen_and_freed_when_it_exits(tmp_path):
    code = ("import sys, time; from indi_seestar.instances import ScopeLocks;"
            f"ScopeLocks.from_env('Seestar', {{'INDI_SEESTAR_LOCK_DIR': {str(tmp_path / 'b')!r},"
            f"'INDI_SEESTAR_SYSTEM_LOCK_DIR': {str(tmp_path / 'system')!r}}}).claim('h:1');"
            "print('held', flush=True); sys.stdin.read()")
    (tmp_path / "b").mkdir()
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b"held\n"
        with pytest.raises(ScopeHeld) as refused:
            _locks(tmp_path, "a").claim("h:1")
        assert f"pid {holder.pid}" in str(refused.value)
    finally:
        holder.communicate(timeout=10)
    _locks(tmp_path, "a").claim("h:1")()


def test_holder_descriptions():
    assert "not written its details" in describe_holder(None)
    text = describe_holder({"pid": 5, "prefix": "S", "indiserver_pid": 4, "indiserver_port": 7625,
                            "user": "pi", "since": "2026-01-01 00:00:00 UTC"})
    assert text == ('indi_seestar pid 5 (devices "S Mount", "S Camera"...), run by indiserver '
                    'pid 4 on port 7625, user pi, since 2026-01-01 00:00:00 UTC')


def test_indiserver_port_from_its_command_line(tmp_path):
    proc = tmp_path / "proc"
    for pid, argv in ((1, [b"indiserver", b"-v", b"-p", b"7625"]), (2, [b"/usr/bin/indiserver"]),
                      (3, [b"bash"])):
        (proc / str(pid)).mkdir(parents=True)
        (proc / str(pid) / "cmdline").write_bytes(b"\0".join(argv) + b"\0")
    assert indiserver_port(1, proc) == 7625
    assert indiserver_port(2, proc) == 7624
    assert indiserver_port(3, proc) is None
    assert indiserver_port(4, proc) is None


def test_the_system_wide_directory_is_sticky_and_shared(tmp_path):
    path = system_lock_dir({"INDI_SEESTAR_SYSTEM_LOCK_DIR": str(tmp_path / "shared")})
    assert path == tmp_path / "shared"
    assert path.stat().st_mode & 0o1777 == 0o1777


def test_holder_names_another_process_but_not_this_one(tmp_path):
    (tmp_path / "b").mkdir()
    code = ("import sys; from indi_seestar.instances import ScopeLocks;"
            "ScopeLocks.from_env('Seestar East', "
            f"{{'INDI_SEESTAR_LOCK_DIR': {str(tmp_path / 'b')!r},"
            f"'INDI_SEESTAR_SYSTEM_LOCK_DIR': {str(tmp_path / 'system')!r}}}).claim('h:2');"
            "print('held', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == b"held\n"
        locks = _locks(tmp_path, "a")
        assert f"pid {holder.pid}" in locks.holder("h:2")
        assert locks.holder("h:3") is None  # never claimed
        release = locks.claim("h:3")
        assert locks.holder("h:3") is None  # ours
        release()
    finally:
        holder.communicate(timeout=10)
    assert _locks(tmp_path, "a").holder("h:2") is None  # gone with its process
