"""What a benchmark section is doing and waiting for, for its deadline's error message.

`python -m bench` runs each section in a child process with a deadline (see __main__). The child
writes its last progress line and what it waits for now into the file named by
$BENCH_WAITING_FILE, so that the parent, when the deadline passes, can say what never came even
if the child is stuck in native code. Without the variable (a section run in-process) this
costs nothing.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator

ENV = "BENCH_WAITING_FILE"
#: How often the writer thread puts a changed state into the file (not at every wait: B1 waits
#: once per frame, and the harness must stay cheap).
WRITE_EVERY_S = 0.2
_lock = threading.Lock()
_state = {"step": "", "waiting": ""}
_writer: list[threading.Thread] = []


def _write_forever(path: str) -> None:
    written = ""
    while True:
        with _lock:
            text = f"step: {_state['step']}\nwaiting: {_state['waiting']}\n"
        if text != written:
            with contextlib.suppress(OSError), open(path, "w") as f:
                f.write(text)
            written = text
        time.sleep(WRITE_EVERY_S)


def _write() -> None:
    """Start the writer thread on first use when $BENCH_WAITING_FILE is set (caller holds _lock)."""
    path = os.environ.get(ENV)
    if path and not _writer:
        _writer.append(threading.Thread(target=_write_forever, args=(path,), daemon=True,
                                        name="bench-waiting"))
        _writer[0].start()


def step(text: str) -> None:
    """Note the section's last progress line."""
    with _lock:
        _state["step"] = text
        _write()


@contextlib.contextmanager
def waiting(what: str) -> Iterator[None]:
    """Note `what` as awaited for the duration of the block (nested: the innermost shows)."""
    with _lock:
        previous, _state["waiting"] = _state["waiting"], what
        _write()
    try:
        yield
    finally:
        with _lock:
            _state["waiting"] = previous
            _write()


def read(path: str) -> tuple[str, str]:
    """(last step, what was awaited) from a child's file; empty strings when absent."""
    try:
        lines = dict(line.split(": ", 1) for line in open(path).read().splitlines()
                     if ": " in line)
    except OSError:
        return "", ""
    return lines.get("step", ""), lines.get("waiting", "")
