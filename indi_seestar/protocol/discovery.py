"""UDP discovery (port 4720) codec: the `scan_iscope` probe and the scope's reply (§5).

Layer: protocol (sans-I/O). Must not import asyncio, sockets, seestar/, indi/, devices/ or sim/.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import RemoteProtocolError
from .methods import Method

DISCOVERY_PORT = 4720
PROBE_ID = 201
_MAX_DATAGRAM = 65507


@dataclass(frozen=True, slots=True)
class Probe:
    """A discovery probe as the scope receives it."""

    id: int | None
    client_name: str
    client_ip: str


@dataclass(frozen=True, slots=True)
class DiscoveryReply:
    """What a scope says about itself in answer to a probe."""

    product_model: str
    serial: str
    ip: str
    ssid: str = ""
    is_verified: bool = False
    tcp_client_num: int = 0
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def encode_probe(client_name: str, client_ip: str = "", probe_id: int = PROBE_ID) -> bytes:
    """One probe datagram; the name keeps only letters and digits (the firmware echoes it unescaped)."""
    name = "".join(ch for ch in client_name if ch.isascii() and ch.isalnum()) or "indiseestar"
    obj: dict[str, Any] = {"id": probe_id, "method": str(Method.SCAN_ISCOPE), "name": name}
    if client_ip:
        obj["ip"] = client_ip
    return json.dumps(obj, separators=(",", ":")).encode() + b"\r\n"


def _load(data: bytes) -> dict[str, Any]:
    if len(data) > _MAX_DATAGRAM:
        raise RemoteProtocolError("discovery datagram too large")
    try:
        obj = json.loads(data.strip() or b"null")
    except (ValueError, RecursionError) as exc:
        raise RemoteProtocolError(f"discovery datagram is not JSON: {str(exc)[:80]}") from exc
    if not isinstance(obj, dict):
        raise RemoteProtocolError("discovery datagram is not a JSON object")
    return obj


def parse_probe(data: bytes) -> Probe:
    """Decode a probe (also ALP's `{"id":1,"method":"scan_iscope","params":""}` form)."""
    obj = _load(data)
    if obj.get("method") != Method.SCAN_ISCOPE:
        raise RemoteProtocolError("not a scan_iscope probe")
    probe_id = obj.get("id")
    return Probe(
        id=probe_id if isinstance(probe_id, int) and not isinstance(probe_id, bool) else None,
        client_name=str(obj.get("name", "")),
        client_ip=str(obj.get("ip", "")),
    )


#: Result keys that DiscoveryReply carries as typed fields; these win over `raw`.
_TYPED_KEYS = frozenset({"product_model", "sn", "ssid", "ip", "is_verified", "tcp_client_num"})


def encode_reply(reply: DiscoveryReply, probe_id: int | None, timestamp: str = "0.000000000") -> bytes:
    """The scope's answer in the firmware's envelope."""
    result = {
        "product_model": reply.product_model,
        "sn": reply.serial,
        "ssid": reply.ssid,
        "ip": reply.ip,
        "is_verified": reply.is_verified,
        "tcp_client_num": reply.tcp_client_num,
        **{k: v for k, v in reply.raw.items() if k not in _TYPED_KEYS},
    }
    obj = {"jsonrpc": "2.0", "Timestamp": timestamp, "method": str(Method.SCAN_ISCOPE),
           "result": result, "code": 0, "id": probe_id}
    return json.dumps(obj, separators=(",", ":")).encode() + b"\r\n"


def parse_reply(data: bytes) -> DiscoveryReply:
    """Decode a scope's answer; RemoteProtocolError for anything else (error replies included)."""
    obj = _load(data)
    if obj.get("method") != Method.SCAN_ISCOPE or obj.get("code", 0) != 0:
        raise RemoteProtocolError(f"not a successful scan_iscope reply (code {obj.get('code')})")
    result = obj.get("result")
    if not isinstance(result, dict):
        raise RemoteProtocolError("scan_iscope reply without a result object")
    clients = result.get("tcp_client_num", 0)
    return DiscoveryReply(
        product_model=str(result.get("product_model", "")),
        serial=str(result.get("sn", "")),
        ip=str(result.get("ip", "")),
        ssid=str(result.get("ssid", "")),
        is_verified=result.get("is_verified") is True,
        tcp_client_num=clients if isinstance(clients, int) and not isinstance(clients, bool) else 0,
        raw=result,
    )
