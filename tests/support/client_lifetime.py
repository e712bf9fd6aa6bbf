"""A pyindi-client client whose Python object outlives libindi's thread (a mixin).

libindi 2.x (pyindi-client 2.3.0 bundles libindiclient 2.1.2) calls a client back on its own
socket thread. `disconnectServer()` asks that thread to stop and waits at most 2 s for it
(TcpSocket::waitForDisconnected's default), then returns False with the thread still calling
back: a client busy in its callbacks (hashing BLOBs, a loaded machine) outlives that easily.
A Python wrapper freed then is torn down under the thread's feet: Python drops the instance
`__dict__` before SWIG deletes the C++ object, so a callback in that window finds no attribute at
all (`AttributeError: 'BenchClient' object has no attribute '_cond'`, issue 10), and when the last
reference goes on libindi's thread itself the C++ destructor joins that thread from inside it
(std::terminate, "Resource deadlock avoided").

`close()` therefore stops the callbacks (each returns at once), disconnects, and waits until the
kernel no longer lists libindi's thread (its id noted by the first callback) before the object
may go; `__del__` closes a client nobody closed (from a helper thread when the last reference
went on libindi's own thread), and an object whose thread cannot be seen to end within the
deadline is kept alive until the process ends instead of being freed under it.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

#: Clients whose libindi thread could not be seen to end: never freed (a few KiB each).
_KEPT_ALIVE: list[Any] = []
#: How long close() waits for libindi's thread after disconnectServer (which waits 2 s itself).
CLOSE_TIMEOUT_S = 30.0
#: Before disconnectServer, close() waits (at most QUIET_WAIT_S) for a gap of QUIET_S in the
#: callbacks: pyindi-client holds the GIL through disconnectServer, so a callback under way
#: then waits for the GIL and libindi's 2 s wait always runs out (6 closes of 6 right after
#: CONNECT, measured; 0.0 s with the gap).
QUIET_S = 0.05
QUIET_WAIT_S = 0.5


def _thread_alive(native_id: int) -> bool:
    return os.path.exists(f"/proc/self/task/{native_id}")


class ClientLifetime:
    """Mixin for PyIndi.BaseClient subclasses; call `_lifetime_start()` in __init__ and
    `_callback()` first in every callback that libindi's thread makes."""

    def _lifetime_start(self) -> None:
        """Set up before connectServer (no callback can come earlier)."""
        self._libindi_threads: set[int] = set()
        self._closing = False
        self._last_callback_s = 0.0

    def _callback(self) -> bool:
        """Note the calling (libindi) thread; False once closing: the callback returns at once.

        Not for serverConnected/serverDisconnected: libindi also calls those on the caller's
        thread (from connectServer/disconnectServer)."""
        self._libindi_threads.add(threading.get_native_id())
        self._last_callback_s = time.monotonic()
        return not self._closing

    def close(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Disconnect and wait until libindi's thread has ended; RuntimeError past `timeout_s`."""
        if self.__dict__.get("_closed"):
            return
        self._closing = True
        if threading.get_native_id() in self._libindi_threads:
            # Called (or freed) on libindi's thread, inside a callback, which cannot wait for
            # itself: a helper thread holds the object, disconnects and waits instead (not a
            # daemon, as it would be by inheritance: the interpreter waits for it at exit).
            threading.Thread(target=self.close, args=(timeout_s,),
                             name="libindi-client-close", daemon=False).start()
            return
        quiet_by = time.monotonic() + QUIET_WAIT_S  # the callbacks return at once now
        while time.monotonic() < quiet_by and time.monotonic() - self._last_callback_s < QUIET_S:
            time.sleep(QUIET_S / 5)
        disconnected = self.disconnectServer()  # type: ignore[attr-defined]
        deadline = time.monotonic() + timeout_s
        while alive := [t for t in list(self._libindi_threads) if _thread_alive(t)]:
            if time.monotonic() > deadline:
                _KEPT_ALIVE.append(self)
                raise RuntimeError(f"libindi's client thread {alive} still calling back "
                                   f"{timeout_s:g} s after disconnectServer")
            time.sleep(0.005)
        if not disconnected and not self._libindi_threads:
            # disconnectServer gave up (or was not connected) and no callback ever named the
            # thread: it cannot be awaited, so the object stays.
            _KEPT_ALIVE.append(self)
        self._closed = True

    def __del__(self) -> None:
        if "_closing" not in self.__dict__ or self.__dict__.get("_closed"):
            return  # never set up, or closed already
        try:
            self.close()
        except RuntimeError:
            pass  # kept alive by close(); nothing else to do in a finalizer
