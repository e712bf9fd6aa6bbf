"""Who drives what: the duplicate-start guard and the one-session-per-Seestar lock.

Layer: a helper of the composition root (cli.py), importing only errors; the session gets the
scope claim as an injected callable. Both guards are `flock` locks, so they vanish with the
process (no stale files to clean after a crash). See docs/instances.md for the reasoning.

- Start guard, per (indiserver, device prefix): an INDI web manager starts `indi_seestar` once
  per selected drivers.xml entry under one indiserver; the later copies must define nothing
  (one set of devices). Keyed by the parent process (indiserver) and the prefix, in the user's
  lock directory: another indiserver's copy is not a duplicate and defines its devices.
- Scope lock, per Seestar (its resolved address and control port, then its serial number once
  logged in): taken when a session opens, released when it closes. Taken in the user's lock directory *and* in a system-wide one
  (`/run/lock/indi_seestar`, else `/tmp/indi_seestar-locks`, sticky and world-writable), so two
  copies with different XDG_RUNTIME_DIR or INDI_SEESTAR_LOCK_DIR (or different users) still
  see each other. A lock file holds a JSON record of its holder (pid, prefix, indiserver pid
  and port, user, since) that a refused copy quotes in its CONNECT Alert.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

from .errors import ScopeHeld

log = logging.getLogger(__name__)

LOCK_DIR_ENV = "INDI_SEESTAR_LOCK_DIR"
SYSTEM_LOCK_DIR_ENV = "INDI_SEESTAR_SYSTEM_LOCK_DIR"
#: System-wide places for scope locks, the first usable one wins: /run/lock (FHS, a tmpfs that
#: systemd's PrivateTmp does not hide), else /tmp.
SYSTEM_LOCK_DIRS = ("/run/lock/indi_seestar", "/tmp/indi_seestar-locks")
#: indiserver's port when its command line names none (`-p`).
INDISERVER_DEFAULT_PORT = 7624
#: A record is a few hundred bytes; read no more than this from a lock file.
MAX_RECORD_BYTES = 4096

Release = Callable[[], None]


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in ".-" else "_" for ch in text)[:120]


def user_lock_dir(env: Mapping[str, str] | None = None) -> Path:
    """The user's lock directory: $INDI_SEESTAR_LOCK_DIR, else $XDG_RUNTIME_DIR, else /tmp."""
    env = os.environ if env is None else env
    return Path(env.get(LOCK_DIR_ENV) or env.get("XDG_RUNTIME_DIR") or "/tmp")


def system_lock_dir(env: Mapping[str, str] | None = None) -> Path | None:
    """The system-wide scope-lock directory (created sticky, mode 1777), or None if unusable."""
    env = os.environ if env is None else env
    candidates = [env[SYSTEM_LOCK_DIR_ENV]] if env.get(SYSTEM_LOCK_DIR_ENV) else SYSTEM_LOCK_DIRS
    for candidate in candidates:
        path = Path(candidate)
        try:
            path.mkdir(mode=0o1777, exist_ok=True)
            if path.stat().st_uid == os.getuid():
                path.chmod(0o1777)  # mkdir's mode is cut by the umask
        except OSError:
            continue
        if os.access(path, os.W_OK | os.X_OK):
            return path
    return None


def start_lock_path(prefix: str, parent_pid: int, env: Mapping[str, str] | None = None) -> Path:
    """Where the start guard of (indiserver `parent_pid`, device `prefix`) lives."""
    return user_lock_dir(env) / f"indi_seestar-{os.getuid()}-{parent_pid}-{_safe(prefix)}.lock"


def acquire_start_lock(path: Path) -> IO[bytes] | None:
    """Hold `path` for the process's life; None if another copy holds it (a duplicate start)."""
    try:
        handle = open(path, "a+b")  # noqa: SIM115 - kept open for the process's life
    except OSError as exc:  # an unusable lock directory must not stop the driver
        log.warning("cannot open the start guard %s (%s); running without it", path,
                    exc.strerror or exc)
        return open(os.devnull, "rb")  # noqa: SIM115 - a harmless stand-in, same life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def indiserver_port(pid: int, proc: Path = Path("/proc")) -> int | None:
    """The TCP port of indiserver `pid` from its command line; None if `pid` is not indiserver."""
    try:
        argv = (proc / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    if not argv or not Path(argv[0].decode(errors="replace")).name.startswith("indiserver"):
        return None
    for i, arg in enumerate(argv[:-1]):
        if arg == b"-p" and argv[i + 1].isdigit():
            return int(argv[i + 1])
    return INDISERVER_DEFAULT_PORT


def holder_record(prefix: str, address: str) -> dict[str, object]:
    """What this process writes into a scope lock it holds."""
    parent = os.getppid()
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return {"pid": os.getpid(), "prefix": prefix, "address": address, "indiserver_pid": parent,
            "indiserver_port": indiserver_port(parent), "user": user,
            "since": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}


def describe_holder(record: Mapping[str, object] | None) -> str:
    """A sentence naming a lock's holder: pid, devices, indiserver pid and port, user, since."""
    if not record or "pid" not in record:
        return "another indi_seestar process (it has not written its details yet)"
    text = f"indi_seestar pid {record['pid']}"
    if record.get("prefix"):
        text += f" (devices \"{record['prefix']} Mount\", \"{record['prefix']} Camera\"...)"
    server = record.get("indiserver_pid")
    if record.get("indiserver_port"):
        text += f", run by indiserver pid {server} on port {record['indiserver_port']}"
    elif server:
        text += f", started by process {server}"
    if record.get("user"):
        text += f", user {record['user']}"
    if record.get("since"):
        text += f", since {record['since']}"
    return text


def _read_record(fd: int) -> dict[str, object] | None:
    try:
        data = os.pread(fd, MAX_RECORD_BYTES, 0)
        record = json.loads(data.decode()) if data.strip() else None
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


class ScopeLocks:
    """Claims Seestars for this process: `claim(address)` or ScopeHeld naming the holder."""

    def __init__(self, prefix: str, dirs: list[Path]) -> None:
        self.prefix = prefix
        self.dirs = dirs

    @classmethod
    def from_env(cls, prefix: str, env: Mapping[str, str] | None = None) -> ScopeLocks:
        """The user's lock directory and the system-wide one (when usable)."""
        dirs = [user_lock_dir(env)]
        shared = system_lock_dir(env)
        if shared is not None and shared.resolve() != dirs[0].resolve():
            dirs.append(shared)
        return cls(prefix, dirs)

    def path(self, directory: Path, address: str) -> Path:
        """The lock file of the Seestar at `address` in `directory`."""
        return directory / f"indi_seestar-scope-{_safe(address)}.lock"

    def claim(self, address: str) -> Release:
        """Lock the Seestar at `address` (host:port) in every directory; ScopeHeld if taken."""
        held: list[int] = []
        record = json.dumps(holder_record(self.prefix, address)).encode()
        try:
            for directory in self.dirs:
                fd = self._lock_one(self.path(directory, address), address)
                if fd is None:
                    continue
                held.append(fd)
                with contextlib.suppress(OSError):  # a foreign read-only file keeps no record
                    os.ftruncate(fd, 0)
                    os.pwrite(fd, record, 0)
        except BaseException:
            _release(held)
            raise
        log.info("holding the Seestar at %s (%d lock file(s))", address, len(held))
        return lambda: _release(held)

    def holder(self, address: str) -> str | None:
        """Who else holds the Seestar at `address` now (a sentence), or None when it is free."""
        for directory in self.dirs:
            try:
                fd = os.open(self.path(directory, address), os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                record = _read_record(fd)
                if not record or record.get("pid") != os.getpid():
                    return describe_holder(record)
            finally:
                os.close(fd)  # also drops the probe's shared lock
        return None

    @staticmethod
    def _lock_one(path: Path, address: str) -> int | None:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except PermissionError:  # another user's file in the shared directory: flock reads too
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError as exc:
                log.warning("cannot open the scope lock %s (%s)", path, exc.strerror or exc)
                return None
        except OSError as exc:  # an unusable directory must not stop the driver
            log.warning("cannot open the scope lock %s (%s)", path, exc.strerror or exc)
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = describe_holder(_read_record(fd))
            os.close(fd)
            raise ScopeHeld(address, holder) from None
        except OSError as exc:
            os.close(fd)
            log.warning("cannot lock %s (%s)", path, exc.strerror or exc)
            return None
        return fd


def _release(fds: list[int]) -> None:
    while fds:
        fd = fds.pop()
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)
