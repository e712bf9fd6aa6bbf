"""Control channel (TCP 4700) codec: CRLF-delimited JSON requests, replies and events.

Layer: protocol (sans-I/O). Must not import asyncio, sockets, seestar/, indi/, devices/ or sim/.
Bytes go in through `RpcDecoder.feed()`, typed messages come out; `encode_*` do the reverse.
The `verify` marker policy (seestar-protocol.md §2.7) is applied by `encode_request()`.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import CommandFailed, LocalProtocolError
from ._params import NO_PARAMS, _NoParams  # noqa: F401  (NO_PARAMS is public here)
from .methods import LOGIN_METHODS

#: Largest control line we buffer; real replies reach ~50 kB (comet data), proxies cap at 1 MB.
MAX_LINE_BYTES = 1 << 20

#: Methods that never carry the verify marker (the login handshake itself).
_AUTH_METHODS = LOGIN_METHODS

VERIFY = "verify"


@dataclass(frozen=True, slots=True)
class Request:
    """A client request `{id, method, params}`; `params` is NO_PARAMS when absent."""

    id: int | str | None
    method: str
    params: Any = NO_PARAMS

    @property
    def has_params(self) -> bool:
        """True when the request carried a `params` key."""
        return self.params is not NO_PARAMS


@dataclass(frozen=True, slots=True)
class Reply:
    """A firmware reply; `code` 0 means success, otherwise `error` holds the firmware's text."""

    id: int | str | None
    method: str | None
    code: int
    result: Any = None
    error: str | None = None
    timestamp: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        """True when the firmware reported success (code 0)."""
        return self.code == 0

    def failure(self, method: str = "?") -> CommandFailed:
        """The CommandFailed a non-zero code means; `method` names it when the reply does not."""
        return CommandFailed(str(self.method or method), self.code, self.error or "")


@dataclass(frozen=True, slots=True)
class Event:
    """An unsolicited event `{Event, Timestamp, ...}`; unknown names are kept, never dropped."""

    name: str
    timestamp: str | None
    fields: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def state(self) -> str | None:
        """The event's `state` field (start/working/complete/fail/cancel/...), if any."""
        value = self.fields.get("state")
        return value if isinstance(value, str) else None

    def get(self, key: str, default: Any = None) -> Any:
        """One field of the event."""
        return self.fields.get(key, default)


@dataclass(frozen=True, slots=True)
class Malformed:
    """A line that is not a JSON object we can classify; kept for logging, never fatal."""

    raw: bytes
    reason: str


Message = Request | Reply | Event | Malformed


def classify(obj: Any, raw: bytes = b"") -> Message:
    """Turn one decoded JSON value into a typed message (event if it has `Event`)."""
    if not isinstance(obj, dict):
        return Malformed(raw, f"not a JSON object: {type(obj).__name__}")
    if "Event" in obj:
        name = obj["Event"]
        if not isinstance(name, str):
            return Malformed(raw, "event name is not a string")
        ts = obj.get("Timestamp")
        fields = {k: v for k, v in obj.items() if k not in ("Event", "Timestamp")}
        return Event(name, ts if isinstance(ts, str) else None, fields)
    if "method" in obj and _REPLY_KEYS.isdisjoint(obj):
        method = obj["method"]
        if not isinstance(method, str):
            return Malformed(raw, "method is not a string")
        return Request(_id_of(obj.get("id")), method, obj.get("params", NO_PARAMS))
    if "id" in obj or not _REPLY_KEYS.isdisjoint(obj):
        code = obj.get("code")
        if isinstance(code, bool) or not isinstance(code, int):
            # An error text without a usable code is still a failure, never a success.
            code = -1 if "error" in obj else 0
        error = obj.get("error")
        method = obj.get("method")
        ts = obj.get("Timestamp")
        return Reply(
            id=_id_of(obj.get("id")),
            method=method if isinstance(method, str) else None,
            code=code,
            result=obj.get("result"),
            error=str(error) if error is not None else None,
            timestamp=ts if isinstance(ts, str) else None,
            raw=obj,
        )
    return Malformed(raw, "neither an event, a reply nor a request")


#: Keys only a reply carries; a `method` object with any of them is a reply, not a request.
_REPLY_KEYS = frozenset({"jsonrpc", "code", "result", "error"})


def _id_of(value: Any) -> int | str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, str)):
        return value
    return None


class RpcDecoder:
    """Incremental decoder: `feed(bytes)` returns the complete messages, buffering the rest."""

    def __init__(self, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self._buf = bytearray()
        self._max = max_line_bytes
        self._discarding = False  # inside an over-long line: drop bytes up to its newline

    @property
    def buffered_bytes(self) -> int:
        """Bytes held while waiting for the end of a line."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Message]:
        """Decode every complete line in `data`; an over-long line becomes one Malformed item."""
        out: list[Message] = []
        start = 0
        while (nl := data.find(b"\n", start)) >= 0:
            if self._discarding:
                self._discarding = False
            elif len(self._buf) + (nl - start) > self._max:
                out.append(self._too_long(data[start:nl]))
            else:
                self._buf += data[start:nl]
                self._decode_line(bytes(self._buf), out)
            self._buf.clear()
            start = nl + 1
        if not self._discarding:
            if len(self._buf) + (len(data) - start) > self._max:
                out.append(self._too_long(data[start:]))
                self._buf.clear()
                self._discarding = True
            else:
                self._buf += data[start:]
        return out

    def _too_long(self, tail: bytes) -> Malformed:
        # The line's first 200 bytes, however it was split across reads.
        head = bytes(self._buf[:200]) + tail[: max(0, 200 - len(self._buf))]
        return Malformed(head, f"line longer than {self._max} bytes")

    @staticmethod
    def _decode_line(line: bytes, out: list[Message]) -> None:
        line = line.strip()
        if not line:
            return
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:
            out.append(Malformed(line[:200], f"bad JSON: {str(exc)[:80]}"))
            return
        out.append(classify(obj, line[:200]))


class VerifyPolicy(enum.Enum):
    """Where the `verify` marker goes, chosen by firmware_ver_int (§2.7)."""

    NONE = "none"  # firmware_ver_int <= 2582: no marker at all
    MARKER = "marker"  # > 2582: marker on no-param, array and scalar params; objects untouched

    @classmethod
    def for_firmware(cls, firmware_ver_int: int | None) -> VerifyPolicy:
        """The policy for a firmware; unknown firmware gets the marker (harmless on new fw)."""
        if firmware_ver_int is not None and firmware_ver_int <= 2582:
            return cls.NONE
        return cls.MARKER


def apply_verify(method: str, params: Any, policy: VerifyPolicy) -> Any:
    """Return `params` with the verify marker placed as `policy` wants (NO_PARAMS stays absent).

    fw 6.70 and 7.06 both answer 109 "unexpected param" to a `verify` key inside an object
    (recorded sessions), and 7.06 answers 107 to `[object, "verify"]`: objects go unmarked.
    """
    if policy is VerifyPolicy.NONE or method in _AUTH_METHODS:
        return params
    if params is NO_PARAMS or params is None:
        return [VERIFY]
    if isinstance(params, dict):
        return params
    if isinstance(params, (list, tuple)):  # a tuple goes out as a JSON array too
        return [*params, VERIFY]
    return [params, VERIFY]


def strip_verify(params: Any) -> tuple[Any, bool]:
    """Undo `apply_verify` for a server: return (params without the marker, whether one was there).

    `[x, "verify"]` comes back as the scalar `x` (a one-element array and a scalar are
    indistinguishable once marked), so servers accept both forms.
    """
    if isinstance(params, list) and params and params[-1] == VERIFY:
        rest = params[:-1]
        if not rest:
            return NO_PARAMS, True
        if len(rest) == 1 and not isinstance(rest[0], (list, dict)):
            return rest[0], True
        return rest, True
    if isinstance(params, dict) and VERIFY in params:
        return {k: v for k, v in params.items() if k != VERIFY}, True
    return params, False


def _dumps(obj: Any) -> bytes:
    try:
        return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode() + b"\r\n"
    except (TypeError, ValueError) as exc:
        raise LocalProtocolError(f"cannot encode as JSON: {exc}") from exc


def encode_request(request: Request, policy: VerifyPolicy = VerifyPolicy.NONE) -> bytes:
    """Serialise a request as one CRLF-terminated JSON line, with the verify marker per `policy`."""
    obj: dict[str, Any] = {"method": request.method}
    params = apply_verify(request.method, request.params, policy)
    if params is not NO_PARAMS:
        obj["params"] = params
    obj["id"] = request.id
    return _dumps(obj)


def encode_reply(reply: Reply) -> bytes:
    """Serialise a reply in the firmware's key order (jsonrpc, Timestamp, method, result|error, code, id)."""
    obj: dict[str, Any] = {"jsonrpc": "2.0", "Timestamp": reply.timestamp or "0.000000000"}
    if reply.method is not None:
        obj["method"] = reply.method
    if reply.code == 0:
        obj["result"] = reply.result
    else:
        obj["error"] = reply.error or "error"
    obj["code"] = reply.code
    obj["id"] = reply.id
    return _dumps(obj)


def encode_event(event: Event) -> bytes:
    """Serialise an event as the firmware does (Event, Timestamp, then its fields)."""
    obj: dict[str, Any] = {"Event": event.name, "Timestamp": event.timestamp or "0.000000000"}
    obj.update(event.fields)
    return _dumps(obj)
