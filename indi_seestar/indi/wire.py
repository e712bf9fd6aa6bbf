"""Sans-I/O INDI XML, inbound: typed messages, incremental decoder, number parsing (layer indi/).

Bytes in, messages out: no threads, no asyncio, no clock. Must not import protocol/, seestar/,
devices/ or sim/. The outbound side (escaping, def/set/del/message, BLOB framing) is encode.py.

indiserver sends one complete element after another with no document root. The decoder feeds an
ElementTree XMLPullParser a synthetic `<stream>` root once and yields each depth-1 element on its
end event. Input is fed in pieces that each start at a `<`, so a parse error is pinned to one piece:
the decoder reports it as a `Malformed` item, skips to the next top-level start tag and carries on.
A single pending element is capped (`max_element_bytes`), so memory stays bounded.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from indi_seestar.indi.model import Kind

MAX_ELEMENT_BYTES = 16 * 1024 * 1024  # one pending top-level element; a 6 MB base64 BLOB fits
WHITESPACE = " \t\n\r\v\f"  # what lilxml trims around character data

_NEW_TAGS = {f"new{k.value}Vector": k for k in Kind}
_SNOOP_TAGS = frozenset(
    [f"def{k.value}Vector" for k in Kind]
    + [f"set{k.value}Vector" for k in Kind]
    + ["delProperty", "message"]
)
_TOP_LEVEL_TAGS = frozenset(
    [*_NEW_TAGS, *_SNOOP_TAGS, "getProperties", "enableBLOB", "pingRequest", "pingReply"]
)
_RESYNC = re.compile(
    rb"<(?:" + b"|".join(t.encode() for t in sorted(_TOP_LEVEL_TAGS)) + rb")[\s/>]"
)
_RESYNC_TAIL_BYTES = max(len(t) for t in _TOP_LEVEL_TAGS) + 2
_SEXA_PART = re.compile(r"\d+(?:\.\d*)?|\.\d+")
_SEXA_SEPARATOR = re.compile(r"\s*:\s*|\s+")


@dataclass(frozen=True, slots=True)
class GetProperties:
    """A client (or indiserver) asks for def* of all devices, one device, or one property."""

    device: str | None = None
    name: str | None = None
    version: str | None = None


@dataclass(frozen=True, slots=True)
class NewVector:
    """newXVector: raw member texts by name (character data trimmed as lilxml does)."""

    kind: Kind
    device: str
    name: str
    values: dict[str, str] = field(default_factory=dict)
    timestamp: str | None = None


@dataclass(frozen=True, slots=True)
class EnableBlob:
    """enableBLOB (only seen for snooped devices); mode is Never, Also or Only."""

    device: str | None
    name: str | None
    mode: str


@dataclass(frozen=True, slots=True)
class PingRequest:
    """pingRequest: the peer wants a pingReply with the same uid."""

    uid: str


@dataclass(frozen=True, slots=True)
class PingReply:
    """pingReply to a pingRequest we sent."""

    uid: str


@dataclass(frozen=True, slots=True)
class Snooped:
    """def*/set*/delProperty/message from another driver, kept generic: tag, attrs, children."""

    tag: str
    attrs: dict[str, str]
    children: tuple[tuple[str, dict[str, str], str], ...] = ()

    @property
    def device(self) -> str | None:
        """The device attribute, if any."""
        return self.attrs.get("device")

    @property
    def name(self) -> str | None:
        """The property name attribute, if any."""
        return self.attrs.get("name")

    @property
    def state(self) -> str | None:
        """The state attribute, if any."""
        return self.attrs.get("state")

    def values(self) -> dict[str, str]:
        """Child texts by child name, in order."""
        return {attrs.get("name", ""): text for _tag, attrs, text in self.children}


@dataclass(frozen=True, slots=True)
class Unrecognised:
    """A well-formed top-level element that INDI does not define."""

    tag: str


@dataclass(frozen=True, slots=True)
class Malformed:
    """Bytes that could not be decoded; the decoder skipped to the next top-level element."""

    reason: str


Message = (
    GetProperties
    | NewVector
    | EnableBlob
    | PingRequest
    | PingReply
    | Snooped
    | Unrecognised
    | Malformed
)


def parse_sexagesimal(text: str) -> float:
    """Parse `D:M:S`, `D M S`, `D:M` or a decimal (optionally signed) like libindi f_scansexa.

    Raises ValueError for anything else, and for infinities and NaN.
    """
    s = text.strip(WHITESPACE)
    negative = s.startswith("-")
    body = s[1:] if s[:1] in "+-" else s
    parts = _SEXA_SEPARATOR.split(body.strip(WHITESPACE)) if body else []
    if len(parts) > 1:
        if len(parts) > 3 or not all(_SEXA_PART.fullmatch(p) for p in parts):
            raise ValueError(f"not a number: {text!r}")
        value = sum(float(p) / 60.0**i for i, p in enumerate(parts))
        return -value if negative else value
    value = float(s)  # plain decimal, exponent allowed; raises ValueError
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {text!r}")
    return value


def _text(elem: ET.Element) -> str:
    return (elem.text or "").strip(WHITESPACE)


def message_from_element(elem: ET.Element) -> Message:
    """Turn one complete top-level element into a typed message (also used for config files)."""
    tag, attrs = elem.tag, dict(elem.attrib)
    if tag == "getProperties":
        return GetProperties(attrs.get("device"), attrs.get("name"), attrs.get("version"))
    if tag in _NEW_TAGS:
        kind = _NEW_TAGS[tag]
        device, name = attrs.get("device"), attrs.get("name")
        if not device or not name:
            return Malformed(f"<{tag}> without device or name")
        one = f"one{kind.value}"
        values = {c.attrib["name"]: _text(c) for c in elem if c.tag == one and "name" in c.attrib}
        return NewVector(kind, device, name, values, attrs.get("timestamp"))
    if tag in _SNOOP_TAGS:
        children = tuple((c.tag, dict(c.attrib), _text(c)) for c in elem)
        return Snooped(tag, attrs, children)
    if tag == "enableBLOB":
        return EnableBlob(attrs.get("device"), attrs.get("name"), _text(elem))
    if tag == "pingRequest":
        return PingRequest(attrs.get("uid", ""))
    if tag == "pingReply":
        return PingReply(attrs.get("uid", ""))
    return Unrecognised(str(tag))


class XmlStreamDecoder:
    """Incremental INDI stream decoder: feed(bytes) -> complete messages; never raises."""

    def __init__(self, *, max_element_bytes: int = MAX_ELEMENT_BYTES) -> None:
        self._max_element_bytes = max_element_bytes
        self._parser: ET.XMLPullParser | None = None
        self._root: ET.Element | None = None
        self._depth = 0  # open elements below the synthetic root
        self._pending = 0  # bytes of the top-level element being received
        self._resync_tail: bytes | None = None  # not None: skipping to the next top-level tag
        self._fresh = True
        self._start_parser()

    @property
    def pending_bytes(self) -> int:
        """Bytes held for an incomplete element (bounded by max_element_bytes + one read)."""
        return self._pending if self._resync_tail is None else len(self._resync_tail)

    def feed(self, data: bytes) -> list[Message]:
        """Decode `data`; return every message completed by it, in order."""
        data = bytes(data)
        out: list[Message] = []
        pos, n = 0, len(data)
        while pos < n:
            if self._resync_tail is not None:
                data, n = self._resync_tail + data[pos:], len(self._resync_tail) + n - pos
                pos = self._resync(data)
                if pos < 0:
                    return out
            end = data.find(b"<", pos + 1)
            end = n if end < 0 else end
            if self._depth == 0 and data[pos : pos + 1] == b"<":
                self._pending = 0
            self._pending += end - pos
            if self._pending > self._max_element_bytes:  # refuse before the parser holds it
                out.append(Malformed(f"element larger than {self._max_element_bytes} bytes"))
                self._enter_resync()
                pos = end
            else:
                fresh, before = self._fresh, len(out)
                if self._feed_piece(data[pos:end], out):
                    pos = end
                elif fresh or len(out) > before + 1:
                    pos += 1  # the fault is in this piece: skip it
                # else: an earlier piece left a tag open; resync at this piece's own start
        return out

    def _start_parser(self) -> None:
        self._parser = ET.XMLPullParser(events=("start", "end"))
        self._parser.feed(b"<stream>")
        self._root = next(iter(self._parser.read_events()))[1]
        self._depth = 0
        self._pending = 0
        self._resync_tail = None
        self._fresh = True  # nothing fed since the parser started

    def _enter_resync(self) -> None:
        self._parser = None
        self._root = None
        self._depth = 0
        self._pending = 0
        self._resync_tail = b""

    def _resync(self, data: bytes) -> int:
        """Find the next top-level start tag in `data`; keep a short tail if there is none."""
        match = _RESYNC.search(data)
        if match is None:
            lt = data.rfind(b"<")
            keep = lt >= 0 and len(data) - lt < _RESYNC_TAIL_BYTES
            self._resync_tail = data[lt:] if keep else b""
            return -1
        self._start_parser()
        return match.start()

    def _feed_piece(self, piece: bytes, out: list[Message]) -> bool:
        """Feed one piece; False (and a Malformed item) if the parser rejected it."""
        parser = self._parser
        assert parser is not None and self._root is not None
        self._fresh = False
        try:
            parser.feed(piece)
            flush = getattr(parser, "flush", None)  # expat >= 2.6 may defer small tokens
            if flush is not None:
                flush()
            for event, elem in parser.read_events():
                if elem is self._root:  # the peer closed our synthetic root
                    raise ET.ParseError("unexpected </stream>")
                if event == "start":
                    self._depth += 1
                    continue
                self._depth -= 1
                if self._depth == 0:
                    out.append(message_from_element(elem))
                    self._root.clear()
                    self._pending = 0
        except SyntaxError as exc:  # ET.ParseError and its kin
            out.append(Malformed(f"not well-formed XML: {exc}"))
            self._enter_resync()
            return False
        return True
