"""Shared helpers of the protocol tests: the recorded sessions, hypothesis profiles, JSON strategies."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import indi_seestar.protocol as protocol_pkg
from indi_seestar.protocol import rpc

#: ../shared/seestar-sessions beside the checkout (real S50/S30 traffic on TCP 4700).
SESSIONS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "seestar-sessions"


def session_names() -> list[str]:
    """Names of the recorded sessions, [] when the shared folder is absent."""
    if not SESSIONS_DIR.is_dir():
        return []
    return sorted(p.name for p in SESSIONS_DIR.iterdir() if (p / "control.jsonl").is_file())


@dataclass(frozen=True)
class Line:
    """One recorded control-port message."""

    direction: str  # "client" | "telescope"
    raw: bytes  # the JSON text on the wire, without its CRLF


@dataclass(frozen=True)
class Session:
    name: str
    manifest: dict[str, Any]
    lines: tuple[Line, ...]

    def stream(self, direction: str | None = None) -> bytes:
        """The lines as the wire carried them (CRLF-terminated), optionally one direction only."""
        return b"".join(ln.raw + b"\r\n" for ln in self.lines if direction in (None, ln.direction))


def load_session(name: str) -> Session:
    folder = SESSIONS_DIR / name
    manifest = json.loads((folder / "manifest.json").read_text())
    lines = []
    with (folder / "control.jsonl").open(encoding="utf-8") as fh:
        for text in fh:
            if text.strip():
                record = json.loads(text)
                lines.append(Line(record["direction"], record["raw"].encode("utf-8")))
    return Session(name, manifest, tuple(lines))


#: Hypothesis settings for CI: derandomized, bounded, no deadline (CI machines are noisy).
FAST = settings(derandomize=True, max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FUZZ = settings(FAST, max_examples=400)

json_scalars = (st.none() | st.booleans() | st.integers(-(2**40), 2**40)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def norm(message: rpc.Message) -> tuple[Any, ...]:
    """Every field of a decoded message (Event.fields and Reply.raw are excluded from ==)."""
    match message:
        case rpc.Event():
            return ("event", message.name, message.timestamp, message.fields)
        case rpc.Reply():
            return ("reply", message.id, message.method, message.code, message.result,
                    message.error, message.timestamp, message.raw)
        case rpc.Request():
            return ("request", message.id, message.method, message.params)
        case rpc.Malformed():
            return ("malformed", message.raw, message.reason)
    raise AssertionError(f"not a message: {message!r}")


def chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    """`data` split at the given offsets (any order, duplicates allowed: empty chunks)."""
    points = [0, *sorted(min(max(c, 0), len(data)) for c in cuts), len(data)]
    return [data[a:b] for a, b in pairwise(points)]


def public_builders() -> list[tuple[str, Callable[..., Any]]]:
    """(name, function) of every public request builder, in every protocol/builders_*.py module."""
    found = []
    for info in pkgutil.iter_modules(protocol_pkg.__path__):
        if info.name.startswith("builders_"):
            module = importlib.import_module(f"{protocol_pkg.__name__}.{info.name}")
            found += [(name, fn) for name, fn in inspect.getmembers(module, inspect.isfunction)
                      if fn.__module__ == module.__name__ and not name.startswith("_")]
    assert found, "no protocol/builders_*.py module found"
    return sorted(found)
