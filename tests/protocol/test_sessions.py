"""Acceptance point 1: every recorded line decodes, every telescope message is classified and
every reply parses into the engine's types (real S50 fw 6.70 / S30 fw 7.06 traffic)."""

from __future__ import annotations

import json

import pytest

from indi_seestar.protocol import codes, results, rpc
from indi_seestar.protocol.events import EventName, StageState
from indi_seestar.protocol.methods import Method

from .support import Session, chunks, norm

#: Replies whose result has a typed parser, and the type it yields.
TYPED = {
    Method.GET_DEVICE_STATE: results.DeviceState,
    Method.SCOPE_GET_EQU_COORD: results.EquCoord,
    Method.SCOPE_GET_HORIZ_COORD: results.HorizCoord,
    Method.GET_VIEW_STATE: results.ViewState,
    Method.GET_FOCUSER_POSITION: int,
    Method.GET_WHEEL_POSITION: int,
}


def decode_all(data: bytes, chunk_size: int | None = None) -> tuple[list[rpc.Message], int]:
    decoder = rpc.RpcDecoder()
    if chunk_size is None:
        out = decoder.feed(data)
    else:
        out = [m for part in chunks(data, list(range(chunk_size, len(data), chunk_size)))
               for m in decoder.feed(part)]
    return out, decoder.buffered_bytes


def test_every_line_decodes_to_the_type_its_direction_implies(session: Session) -> None:
    messages, left = decode_all(session.stream())
    assert left == 0
    assert len(messages) == len(session.lines)
    for line, message in zip(session.lines, messages):
        assert not isinstance(message, rpc.Malformed), (line.raw[:120], message)
        if line.direction == "client":
            assert isinstance(message, rpc.Request), line.raw[:120]
        else:
            assert isinstance(message, (rpc.Reply, rpc.Event)), line.raw[:120]


@pytest.mark.parametrize("chunk_size", [1, 5, 4093, 65536])
def test_session_decodes_identically_whatever_the_read_size(session: Session, chunk_size: int) -> None:
    data = session.stream()
    if chunk_size == 1:
        data = data[:20000]  # byte by byte: the first lines are enough (and fast)
    whole, _ = decode_all(data)
    split, _ = decode_all(data, chunk_size)
    assert [norm(m) for m in split] == [norm(m) for m in whole]


def test_bare_lf_stream_decodes_like_crlf(session: Session) -> None:
    crlf, _ = decode_all(session.stream())
    lf, _ = decode_all(b"".join(ln.raw + b"\n" for ln in session.lines))
    assert [norm(m) for m in lf] == [norm(m) for m in crlf]


def test_every_event_has_a_known_name_and_state(session: Session) -> None:
    events = [m for m in decode_all(session.stream("telescope"))[0] if isinstance(m, rpc.Event)]
    assert events
    for event in events:
        assert event.name in set(EventName), event
        assert event.timestamp is not None and float(event.timestamp) > 0
        if "state" in event.fields:
            assert event.state in set(StageState), event


def test_every_reply_parses_into_the_engine_types(session: Session) -> None:
    replies = [m for m in decode_all(session.stream("telescope"))[0] if isinstance(m, rpc.Reply)]
    assert replies
    for reply in replies:
        assert reply.method in set(Method), reply
        assert isinstance(reply.id, int)
        if not reply.ok:
            # The firmware's own text for every error code matches our table.
            assert reply.code in set(codes.ErrorCode), reply
            assert reply.error == codes.describe(reply.code)
            continue
        value = results.parse_result(reply.method, reply.result)
        expected = TYPED.get(Method(reply.method), results.Generic)
        assert isinstance(value, expected), (reply.method, value)
        if expected is results.Generic:
            assert value == results.Generic(reply.method, reply.result)


def test_device_state_agrees_with_the_manifest(session: Session) -> None:
    replies = [m for m in decode_all(session.stream("telescope"))[0]
               if isinstance(m, rpc.Reply) and m.method == Method.GET_DEVICE_STATE]
    assert replies
    for reply in replies:
        state = results.parse_device_state(reply.result)
        assert state.firmware_ver_int == session.manifest["firmware_ver_int"]
        assert state.firmware_ver_string == session.manifest["firmware_version"]
        assert state.product_model == session.manifest["telescope_model"]
    # Both firmwares are past 2582: the recorded clients sent the marker, and so do we.
    assert rpc.VerifyPolicy.for_firmware(session.manifest["firmware_ver_int"]) is rpc.VerifyPolicy.MARKER


def test_reencoded_replies_and_events_are_the_recorded_bytes(session: Session) -> None:
    """encode_reply/encode_event write the firmware's key order (and here its exact bytes)."""
    for line in session.lines:
        if line.direction != "telescope":
            continue
        (message,) = rpc.RpcDecoder().feed(line.raw + b"\r\n")
        encoded = rpc.encode_event(message) if isinstance(message, rpc.Event) else rpc.encode_reply(message)
        assert list(json.loads(encoded)) == list(json.loads(line.raw)), line.raw[:120]
        assert encoded == line.raw + b"\r\n"


def test_recorded_marked_params_come_back_through_strip_and_apply(session: Session) -> None:
    """strip_verify undoes the recorded clients' marker; apply_verify puts list markers back."""
    marked = 0
    for line in session.lines:
        if line.direction != "client":
            continue
        request = rpc.RpcDecoder().feed(line.raw + b"\r\n")[0]
        assert isinstance(request, rpc.Request)
        bare, had_marker = rpc.strip_verify(request.params)
        if not request.has_params:
            assert (bare, had_marker) == (rpc.NO_PARAMS, False)
            continue
        assert had_marker, line.raw
        marked += 1
        assert not (isinstance(bare, list) and rpc.VERIFY in bare)
        assert not (isinstance(bare, dict) and rpc.VERIFY in bare)
        if isinstance(request.params, list):
            again = rpc.apply_verify(request.method, bare, rpc.VerifyPolicy.MARKER)
            assert again == request.params
    assert marked
