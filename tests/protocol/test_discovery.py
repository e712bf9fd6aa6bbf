"""UDP discovery (port 4720): the scan_iscope probe and the scope's reply (§5)."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indi_seestar.errors import RemoteProtocolError
from indi_seestar.protocol import discovery
from indi_seestar.protocol.discovery import DiscoveryReply, Probe

from .support import FAST

S50 = DiscoveryReply(product_model="Seestar S50", serial="00000000", ip="127.0.0.1", ssid="S50_00000000",
                     is_verified=True, tcp_client_num=1)


def test_probe_wire_form() -> None:
    data = discovery.encode_probe("indihost", "127.0.0.1")
    assert data == b'{"id":201,"method":"scan_iscope","name":"indihost","ip":"127.0.0.1"}\r\n'
    assert discovery.encode_probe("indihost") == b'{"id":201,"method":"scan_iscope","name":"indihost"}\r\n'


def test_probe_round_trip() -> None:
    assert discovery.parse_probe(discovery.encode_probe("indihost", "127.0.0.1", probe_id=7)) == \
        Probe(id=7, client_name="indihost", client_ip="127.0.0.1")


@pytest.mark.parametrize("name, sent", [
    ("my-laptop", "mylaptop"), ("obs.local", "obslocal"), ("Pi 4 (roof)", "Pi4roof"),
    ("caf\u00e9", "caf"), ("\u00e9\u00e8", "indiseestar"), ("", "indiseestar"), ("---", "indiseestar"),
])
def test_probe_name_keeps_only_ascii_letters_and_digits(name: str, sent: str) -> None:
    """The firmware echoes the name unescaped: a dash makes its reply invalid JSON (§5)."""
    assert discovery.parse_probe(discovery.encode_probe(name)).client_name == sent


@FAST
@given(st.text(max_size=30))
def test_any_client_name_gives_a_clean_probe(name: str) -> None:
    data = discovery.encode_probe(name)
    obj = json.loads(data)
    assert re.fullmatch(r"[A-Za-z0-9]+", obj["name"])
    assert data.isascii()


def test_alp_probe_form_parses() -> None:
    probe = discovery.parse_probe(b'{"id":1,"method":"scan_iscope","params":""}')
    assert probe == Probe(id=1, client_name="", client_ip="")


@pytest.mark.parametrize("data", [
    b"", b"   ", b"\xff\xfe", b"{", b"[1]", b'"scan_iscope"', b'{"id":1,"method":"scan_air"}',
    b'{"id":1}', b"x" * 70000,
])
def test_malformed_probes_are_rejected(data: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        discovery.parse_probe(data)


def test_probe_with_odd_id_keeps_no_id() -> None:
    assert discovery.parse_probe(b'{"id":true,"method":"scan_iscope"}').id is None
    assert discovery.parse_probe(b'{"id":"x","method":"scan_iscope"}').id is None


def test_reply_envelope_and_round_trip() -> None:
    data = discovery.encode_reply(S50, probe_id=201, timestamp="4380.000000001")
    obj = json.loads(data)
    assert list(obj) == ["jsonrpc", "Timestamp", "method", "result", "code", "id"]
    assert (obj["jsonrpc"], obj["method"], obj["code"], obj["id"]) == ("2.0", "scan_iscope", 0, 201)
    assert obj["result"]["sn"] == "00000000" and obj["result"]["ssid"] == "S50_00000000"
    parsed = discovery.parse_reply(data)
    assert parsed == S50
    assert discovery.parse_reply(data.rstrip()) == S50


def test_reply_keeps_extra_fields_of_the_firmware() -> None:
    raw = {"product_model": "Seestar S30", "sn": "1", "ssid": "S30_1", "ip": "127.0.0.1",
           "is_verified": False, "tcp_client_num": 0, "can_star_mode_sel_cam": True, "bssid": "x"}
    parsed = discovery.parse_reply(json.dumps({"jsonrpc": "2.0", "method": "scan_iscope", "result": raw,
                                               "code": 0, "id": 201}).encode())
    assert parsed.raw == raw
    again = json.loads(discovery.encode_reply(parsed, 201))["result"]
    assert again == raw


def test_typed_fields_win_over_stale_raw_values() -> None:
    """A fake that reuses a parsed reply as a template and changes a field must send the change."""
    template = discovery.parse_reply(discovery.encode_reply(S50, 201))
    assert template.raw["tcp_client_num"] == 1
    changed = DiscoveryReply(product_model="Seestar S30", serial="2", ip="127.0.0.2", ssid="S30_2",
                             is_verified=False, tcp_client_num=3, raw=template.raw)
    parsed = discovery.parse_reply(discovery.encode_reply(changed, 201))
    assert parsed == changed


@pytest.mark.parametrize("data", [
    b"", b"not json", b"[1,2]", b"\xff",
    b'{"jsonrpc":"2.0","method":"scan_iscope","error":"Second root","code":101,"id":201}',
    b'{"jsonrpc":"2.0","method":"scan_iscope","result":"ok","code":0,"id":201}',
    b'{"jsonrpc":"2.0","method":"scan_iscope","code":0,"id":201}',
    b'{"jsonrpc":"2.0","method":"get_device_state","result":{},"code":0,"id":201}',
    # the firmware echoing a client name unescaped (PRX discovery.rs)
    b'{"jsonrpc":"2.0","method":"scan_iscope","result":{"name":"a"b"},"code":0,"id":201}',
    b'{"result":{"sn":"1"},' + b" " * 70000 + b'"method":"scan_iscope"}',
])
def test_malformed_or_failed_replies_are_rejected(data: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        discovery.parse_reply(data)


def test_reply_fields_of_the_wrong_type_fall_back() -> None:
    data = json.dumps({"method": "scan_iscope", "code": 0, "result": {
        "product_model": "Seestar S50", "tcp_client_num": True, "is_verified": 1}}).encode()
    parsed = discovery.parse_reply(data)
    assert (parsed.tcp_client_num, parsed.is_verified) == (0, False)
