"""Sans-I/O INDI XML, outbound side: the one place where XML text is built (layer indi/).

Escaping follows what lilxml (indiserver, every libindi client) understands: `&amp; &lt; &gt;
&apos; &quot;` only, never numeric character references; control characters are replaced by a
space in attributes (lilxml drops them) and removed from character data except tab, CR and LF.
Numbers are plain decimals (never sexagesimal), timestamps `YYYY-MM-DDTHH:MM:SS` UTC (with
`.ffffff` on saved config records), and every vector message carries a `state`. BLOB payloads
are base64 in one unbroken run (no newlines, no `enclen`) produced part by part without joining
the parts.
No threads, no asyncio, no clock. Must not import protocol/, seestar/, devices/ or sim/.
"""

from __future__ import annotations

import binascii
import math
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from indi_seestar.indi.model import (
    BlobVector,
    Kind,
    LightVector,
    NumberMember,
    State,
    SwitchVector,
    Vector,
)
from indi_seestar.text import shorten

BASE64_CHUNK_BYTES = 3 * 256 * 1024  # raw bytes per base64 write: 1 MiB of text, multiple of 3
#: Longest message attribute sent; a longer one is cut at a word boundary with "..." (a last
#: guard: values a client sent are echoed as short excerpts, text.excerpt, long before this).
MAX_MESSAGE_CHARS = 1000

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&apos;", '"': "&quot;"}
_ESCAPE = re.compile(r"[&<>'\"]")
_ATTR_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape_attr(value: str) -> str:
    """Escape an attribute value: control characters become spaces, then the five entities."""
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group()], _ATTR_CONTROL.sub(" ", value))


def escape_text(value: str) -> str:
    """Escape character data: drop control characters except TAB/LF/CR, then the five entities."""
    return _ESCAPE.sub(lambda m: _ESCAPES[m.group()], _TEXT_CONTROL.sub("", value))


def format_number(value: float) -> str:
    """Shortest decimal that reads back to the same double (strtod/atof), never sexagesimal."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def format_timestamp(epoch_s: float) -> str:
    """INDI timestamp: UTC `YYYY-MM-DDTHH:MM:SS`, whole seconds, no zone suffix."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_s))


def format_timestamp_us(epoch_s: float) -> str:
    """INDI timestamp with microseconds: UTC `YYYY-MM-DDTHH:MM:SS.ffffff`, no zone suffix."""
    whole_s = math.floor(epoch_s)
    micros = min(int(round((epoch_s - whole_s) * 1e6)), 999_999)
    return f"{format_timestamp(whole_s)}.{micros:06d}"


def _message(text: str | None) -> str | None:
    return None if text is None else shorten(text, MAX_MESSAGE_CHARS)


def _attrs(pairs: Iterable[tuple[str, Any]]) -> str:
    return "".join(f' {k}="{escape_attr(str(v))}"' for k, v in pairs if v is not None)


def _element(tag: str, attrs: Iterable[tuple[str, Any]], body: str | None = None) -> str:
    if body is None:
        return f"<{tag}{_attrs(attrs)}/>"
    return f"<{tag}{_attrs(attrs)}>{body}</{tag}>"


def _done(text: str) -> bytes:
    return (text + "\n").encode("utf-8", "replace")


def _member_text(vector: Vector, value: Any) -> str:
    kind = vector.kind
    if kind is Kind.NUMBER:
        return format_number(value)
    if kind is Kind.SWITCH:
        return "On" if value else "Off"
    if kind is Kind.LIGHT:
        return State(value).value
    return escape_text(str(value))


def _def_member_attrs(vector: Vector, member: Any) -> list[tuple[str, Any]]:
    attrs: list[tuple[str, Any]] = [("name", member.name), ("label", member.label)]
    if isinstance(member, NumberMember):
        attrs += [
            ("format", member.format),
            ("min", format_number(member.min)),
            ("max", format_number(member.max)),
            ("step", format_number(member.step)),
        ]
    return attrs


def def_vector(vector: Vector, *, timestamp: str, message: str | None = None) -> bytes:
    """defXVector with every member, its current values, state, perm, rule and limits."""
    kind = vector.kind.value
    attrs = [
        ("device", vector.device),
        ("name", vector.name),
        ("label", vector.label),
        ("group", vector.group),
        ("state", vector.state.value),
        ("perm", None if isinstance(vector, LightVector) else vector.perm.value),
        ("rule", vector.rule.value if isinstance(vector, SwitchVector) else None),
        ("timeout", f"{vector.timeout_s:g}"),
        ("timestamp", timestamp),
        ("message", _message(message)),
    ]
    if isinstance(vector, BlobVector):
        body = "".join(_element("defBLOB", _def_member_attrs(vector, m)) for m in vector.members)
    else:
        body = "".join(
            _element(f"def{kind}", _def_member_attrs(vector, m), _member_text(vector, m.value))
            for m in vector.members
        )
    return _done(_element(f"def{kind}Vector", attrs, body))


def _set_attrs(vector: Vector, timestamp: str, message: str | None) -> list[tuple[str, Any]]:
    return [
        ("device", vector.device),
        ("name", vector.name),
        ("state", vector.state.value),
        ("timeout", f"{vector.timeout_s:g}"),
        ("timestamp", timestamp),
        ("message", _message(message)),
    ]


def set_vector(vector: Vector, *, timestamp: str, message: str | None = None) -> bytes:
    """setXVector with the state and every member's value (not for BLOB payloads)."""
    if isinstance(vector, BlobVector):
        return _done(_element("setBLOBVector", _set_attrs(vector, timestamp, message), ""))
    kind = vector.kind.value
    body = "".join(
        _element(f"one{kind}", [("name", m.name)], _member_text(vector, m.value))
        for m in vector.members
    )
    return _done(_element(f"set{kind}Vector", _set_attrs(vector, timestamp, message), body))


def blob_envelope(
    vector: BlobVector,
    member: str,
    *,
    size: int,
    fmt: str,
    timestamp: str,
    message: str | None = None,
) -> tuple[bytes, bytes]:
    """(prefix, suffix) around the base64 of one BLOB; `size` is the exact decoded byte count."""
    vector.member(member)  # KeyError if the member does not exist
    head = _element("setBLOBVector", _set_attrs(vector, timestamp, message), "")
    head = head[: -len("</setBLOBVector>")]
    one = _element("oneBLOB", [("name", member), ("size", str(size)), ("format", fmt)], "")
    one = one[: -len("</oneBLOB>")]
    return (head + one).encode("utf-8", "replace"), b"</oneBLOB></setBLOBVector>\n"


def attached_blob_prefix(prefix: bytes, size: int) -> bytes:
    """The prefix of `blob_envelope` for a BLOB whose payload travels as a shared-memory fd.

    libindi's form over indiserver's socketpair (indidriverio.c, indiserver >= 1.9.7): the
    oneBLOB start tag carries `len` and `attached="true"` and the element stays empty; the
    descriptor goes with the message (SCM_RIGHTS) and indiserver base64-encodes it for clients
    that need text.
    """
    if not prefix.endswith(b">"):
        raise ValueError("not a blob_envelope prefix")
    return prefix[:-1] + f' len="{size}" attached="true">'.encode()


def del_property(
    device: str, name: str | None = None, *, timestamp: str, message: str | None = None
) -> bytes:
    """delProperty of one property, or of the whole device when `name` is None."""
    attrs = [
        ("device", device), ("name", name), ("timestamp", timestamp), ("message", _message(message))
    ]
    return _done(_element("delProperty", attrs))


def message(device: str | None, text: str, *, timestamp: str) -> bytes:
    """A log message for clients, attached to `device` (or to none)."""
    attrs = [("device", device), ("timestamp", timestamp), ("message", _message(text))]
    return _done(_element("message", attrs))


def get_properties(
    device: str | None = None, name: str | None = None, version: str = "1.7"
) -> bytes:
    """getProperties: from a driver, this is a snoop request."""
    return _done(
        _element("getProperties", [("version", version), ("device", device), ("name", name)])
    )


def enable_blob(device: str, name: str | None, mode: str) -> bytes:
    """enableBLOB for a snooped device (mode Never, Also or Only)."""
    return _done(_element("enableBLOB", [("device", device), ("name", name)], escape_text(mode)))


def ping_request(uid: str) -> bytes:
    """pingRequest: indiserver answers with pingReply once it has parsed what came before."""
    return _done(_element("pingRequest", [("uid", uid)]))


def ping_reply(uid: str) -> bytes:
    """pingReply to a pingRequest."""
    return _done(_element("pingReply", [("uid", uid)]))


def new_vector(
    kind: Kind, device: str, name: str, values: Mapping[str, str], *, timestamp: str | None = None
) -> bytes:
    """newXVector as a client sends it (also the record format of libindi config files)."""
    body = "".join(
        _element(f"one{kind.value}", [("name", k)], escape_text(v)) for k, v in values.items()
    )
    attrs = [("device", device), ("name", name), ("timestamp", timestamp)]
    return _done(_element(f"new{kind.value}Vector", attrs, body))


def payload_size(parts: Iterable[Any]) -> int:
    """Total bytes of C-contiguous bytes-like objects (TypeError for anything else)."""
    return sum(memoryview(p).cast("B").nbytes for p in parts)


def iter_base64(parts: Iterable[Any], *, chunk_bytes: int = BASE64_CHUNK_BYTES) -> Iterator[bytes]:
    """Base64 of the concatenated parts as one unbroken run, in chunks, never joining the parts.

    The 0-2 bytes left over at the end of a part are carried into the next one, so the output
    equals the base64 of the whole payload. Parts must be C-contiguous bytes-like objects.
    """
    if chunk_bytes <= 0 or chunk_bytes % 3:
        raise ValueError("chunk_bytes must be a positive multiple of 3")
    carry = b""
    for part in parts:
        view = memoryview(part).cast("B")
        if carry:
            head = carry + bytes(view[: 3 - len(carry)])
            view = view[3 - len(carry) :]
            if len(head) < 3:
                carry = head
                continue
            yield binascii.b2a_base64(head, newline=False)
        usable = len(view) - len(view) % 3
        for start in range(0, usable, chunk_bytes):
            yield binascii.b2a_base64(view[start : min(start + chunk_bytes, usable)], newline=False)
        carry = bytes(view[usable:])
    if carry:
        yield binascii.b2a_base64(carry, newline=False)
