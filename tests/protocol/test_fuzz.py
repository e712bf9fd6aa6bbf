"""Acceptance point 6: fuzzing the control and frame decoders. Random and mutated input raises
nothing but the typed protocol errors, and the decoders' buffers stay bounded.

The decoders are designed not to raise at all (RpcDecoder returns Malformed items, FrameDecoder
skips bad headers into `last_error`); the functions applied to what they return (result
parsers, payload decoders, re-encoders) may raise ProtocolError subclasses only.
"""

from __future__ import annotations

import random
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from indi_seestar.errors import ProtocolError
from indi_seestar.protocol import discovery, frames, results, rpc
from indi_seestar.protocol.frames import HEADER_SIZE, FrameHeader, FrameKind
from indi_seestar.protocol.methods import Method

from .support import FAST, FUZZ, Session, chunks, json_scalars

LINE_LIMIT = 512
PAYLOAD_LIMIT = 2048


def typed_errors_only(fn: Callable[..., Any], *args: Any) -> Any:
    """Call fn; a ProtocolError subclass is an accepted outcome, anything else fails the test."""
    try:
        return fn(*args)
    except ProtocolError:
        return None


# --- inputs ----------------------------------------------------------------------------------

@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    """`base` with a few byte flips, insertions, deletions, duplications and a possible cut."""
    data = bytearray(base)
    for _ in range(draw(st.integers(0, 8))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "duplicate", "cut"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[pos] = draw(st.sampled_from([0x00, 0x03, 0x0A, 0x0D, 0x22, 0x50, 0x7B, 0x7D, 0xC3, 0xFF]))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(max_size=16))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 32))]
        elif op == "duplicate":
            span = data[pos:pos + draw(st.integers(1, 200))]
            data[pos:pos] = span
        elif op == "cut":
            del data[pos:]
    return bytes(data)


CONTROL_STREAM = b"".join(line + b"\r\n" for line in [
    (b'{"jsonrpc":"2.0","Timestamp":"5104.846613672","method":"get_device_state","result":{"device":'
     b'{"firmware_ver_int":2706,"product_model":"Seestar S30","focal_len":150.0,"fnumber":5.0},"camera":'
     b'{"chip_size":[1080,1920],"debayer_pattern":"GR"},"focuser":{"state":"idle","max_step":2600,"step":1236},'
     b'"mount":{"move_type":"none","close":false,"tracking":true,"equ_mode":false},"location_lon_lat":[0.0,0.0],'
     b'"setting":{"exp_ms":{"stack_l":10000,"continuous":500}},"pi_status":{"temp":45.3}},"code":0,"id":100001}'),
    (b'{"Event":"ScopeGoto","Timestamp":"5140.224842966","state":"working","lapse_ms":0,'
     b'"cur_ra_dec":[8.701667,19.589167],"dist_deg":0.164454,"route":["View","AutoGoto"]}'),
    (b'{"jsonrpc":"2.0","Timestamp":"5121.699407201","method":"get_view_state","result":{"View":{"state":"working",'
     b'"mode":"star","stage":"Stack","Stack":{"state":"frame_complete"},"gain":80}},"code":0,"id":100013}'),
    (b'{"jsonrpc":"2.0","Timestamp":"5106.251243274","method":"set_setting","error":"unexpected param","code":109,'
     b'"id":100003}'),
    b'{"jsonrpc":"2.0","Timestamp":"4436.299656866","method":"get_focuser_position","result":1517,"code":0,"id":9}',
    (b'{"jsonrpc":"2.0","Timestamp":"4436.3","method":"scope_get_equ_coord","result":{"ra":17.09,"dec":34.35},'
     b'"code":0,"id":10}'),
    b'{"jsonrpc":"2.0","Timestamp":"4436.4","method":"scope_get_horiz_coord","result":[45.0,180.0],"code":0,"id":11}',
    b'{"method":"get_view_state","params":["verify"],"id":10010}',
])


def _frame(header: FrameHeader, payload: bytes) -> bytes:
    return frames.encode_frame(header, payload)


_RAW = frames.encode_raw(np.arange(8 * 6, dtype=np.uint16).reshape(6, 8) * 1361)
_ZIP = frames.encode_stack_zip(np.arange(4 * 3 * 3, dtype=np.uint16).reshape(4, 3, 3) * 1777)
FRAME_STREAM = b"".join([
    _frame(FrameHeader(size=17, frame_id=2, width=0, height=0, img_type=0, data_type=0), b"server connected!"),
    _frame(FrameHeader(size=len(_RAW), frame_id=21, width=8, height=6), _RAW),
    _frame(FrameHeader(size=len(_ZIP), frame_id=23, width=3, height=4, img_type=5, data_type=3), _ZIP),
    _frame(FrameHeader(size=0, frame_id=23, width=0, height=0, img_type=0, data_type=0), b""),
])

cut_points = st.lists(st.integers(0, 12000), max_size=16)


@st.composite
def byte_flips(draw: st.DrawFn, base: bytes) -> bytes:
    """`base` with one to four bytes replaced: the corruption a checksum must catch."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


# --- control channel -------------------------------------------------------------------------

def run_control(data: bytes, cuts: list[int]) -> list[rpc.Message]:
    decoder = rpc.RpcDecoder(max_line_bytes=LINE_LIMIT)
    out: list[rpc.Message] = []
    for part in chunks(data, cuts):
        messages = decoder.feed(part)  # must not raise at all
        assert decoder.buffered_bytes <= LINE_LIMIT
        out += messages
    for message in out:
        assert isinstance(message, (rpc.Request, rpc.Reply, rpc.Event, rpc.Malformed))
        if isinstance(message, rpc.Reply):
            typed_errors_only(results.parse_result, message.method, message.result)
            typed_errors_only(rpc.encode_reply, message)
        elif isinstance(message, rpc.Event):
            typed_errors_only(rpc.encode_event, message)
        elif isinstance(message, rpc.Request):
            typed_errors_only(rpc.strip_verify, message.params)
            typed_errors_only(rpc.encode_request, message, rpc.VerifyPolicy.MARKER)
    return out


@FUZZ
@given(st.binary(max_size=3000), cut_points)
def test_control_decoder_random_bytes(data: bytes, cuts: list[int]) -> None:
    run_control(data, cuts)


@FUZZ
@given(mutated(CONTROL_STREAM), cut_points)
def test_control_decoder_mutated_stream(data: bytes, cuts: list[int]) -> None:
    run_control(data, cuts)


json_text = st.recursive(
    json_scalars | st.sampled_from([float("nan"), float("inf"), -float("inf"), 2**70, -(2**70)]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["View", "stage", "state", "Stack", "ra", "dec", "step", "device", "camera", "chip_size",
                         "focuser", "mount", "setting", "exp_ms", "continuous", "pi_status", "temp", "client",
                         "is_master", "gain", "location_lon_lat", "debayer_pattern", "x"]),
        inner, max_size=4),
    max_leaves=16,
)


TYPED_METHODS = [Method.GET_DEVICE_STATE, Method.SCOPE_GET_EQU_COORD, Method.SCOPE_GET_HORIZ_COORD,
                 Method.GET_VIEW_STATE, Method.GET_FOCUSER_POSITION, Method.GET_WHEEL_POSITION]


@pytest.mark.parametrize("method", TYPED_METHODS)
@FAST
@given(result=json_text)
def test_result_parsers_raise_only_protocol_errors(method: Method, result: Any) -> None:
    typed_errors_only(results.parse_result, method, result)


def test_control_decoder_mutated_real_sessions(sessions: list[Session]) -> None:
    rng = random.Random(20260331)
    for session in sessions:
        stream = session.stream()[:30000]
        for _ in range(25):
            data = bytearray(stream)
            for _ in range(rng.randint(1, 30)):
                pos = rng.randrange(len(data))
                if rng.random() < 0.5:
                    data[pos] = rng.randrange(256)
                else:
                    del data[pos:pos + rng.randint(1, 40)]
            cuts = [rng.randrange(len(data)) for _ in range(rng.randint(0, 40))]
            run_control(bytes(data), cuts)


# --- image channel ---------------------------------------------------------------------------

def run_frames(data: bytes, cuts: list[int]) -> list[frames.Frame]:
    decoder = frames.FrameDecoder(max_payload=PAYLOAD_LIMIT)
    out: list[frames.Frame] = []
    for part in chunks(data, cuts):
        got = decoder.feed(part)  # must not raise at all
        assert decoder.buffered_bytes <= HEADER_SIZE + PAYLOAD_LIMIT
        out += got
    for frame in out:
        assert len(frame.payload) <= PAYLOAD_LIMIT
        kind = frame.kind
        if kind is FrameKind.RAW:
            typed_errors_only(frames.decode_raw, frame.payload, frame.header.width, frame.header.height)
        elif kind is FrameKind.STACK_ZIP:
            typed_errors_only(frames.decode_stack_zip, frame.payload, frame.header.width, frame.header.height)
    assert decoder.last_error is None or isinstance(decoder.last_error, ProtocolError)
    return out


@FUZZ
@given(st.binary(max_size=3000), cut_points)
def test_frame_decoder_random_bytes(data: bytes, cuts: list[int]) -> None:
    run_frames(data, cuts)


header_bytes = st.builds(
    lambda size, w, h, rest: FrameHeader(size=size, frame_id=21, width=w, height=h).pack()[:6 + rest],
    st.one_of(st.integers(0, 3 * PAYLOAD_LIMIT), st.integers(0, 2**32 - 1)),
    st.integers(0, 64), st.integers(0, 64), st.integers(0, HEADER_SIZE - 6))


@FUZZ
@given(st.lists(st.one_of(st.binary(max_size=1500), header_bytes, st.just(FRAME_STREAM)), max_size=12),
       cut_points)
def test_frame_decoder_random_bytes_rich_in_headers(pieces: list[bytes], cuts: list[int]) -> None:
    """Whole and partial headers of every size, random bytes and real frames, in any order."""
    run_frames(b"".join(pieces), cuts)


@FUZZ
@given(mutated(FRAME_STREAM), cut_points)
def test_frame_decoder_mutated_stream(data: bytes, cuts: list[int]) -> None:
    run_frames(data, cuts)


@FUZZ
@given(st.binary(min_size=HEADER_SIZE, max_size=HEADER_SIZE + 8), st.integers(0, 2**32))
def test_parse_header_random(data: bytes, limit: int) -> None:
    if data[:2] != b"\x03\xc3" and limit % 2:  # half the cases: a real magic and header length
        data = b"\x03\xc3" + data[2:4] + b"\x00\x50" + data[6:]
    header = typed_errors_only(frames.parse_header, data, limit)
    if header is not None:
        assert header.size <= limit


_BIG_ZIP = frames.encode_stack_zip(
    np.random.default_rng(3).integers(0, 65536, size=(12, 16, 3), dtype=np.uint16))


@FUZZ
@given(st.one_of(mutated(_ZIP), byte_flips(_BIG_ZIP)), st.sampled_from([(3, 4), (16, 12), (0, 0), (5, 5)]))
def test_stack_zip_decoder_mutated(payload: bytes, size: tuple[int, int]) -> None:
    typed_errors_only(frames.decode_stack_zip, payload, *size)


@FUZZ
@given(st.binary(max_size=200), st.integers(0, 20), st.integers(0, 20))
def test_raw_decoder_random(payload: bytes, width: int, height: int) -> None:
    typed_errors_only(frames.decode_raw, payload, width, height)


# --- discovery -------------------------------------------------------------------------------

PROBE = discovery.encode_probe("indihost", "127.0.0.1")
REPLY = discovery.encode_reply(discovery.DiscoveryReply("Seestar S50", "00000000", "127.0.0.1", "S50_00000000",
                                                        True, 1, {"bssid": "x"}), 201)


@FUZZ
@given(st.one_of(st.binary(max_size=300), mutated(PROBE), mutated(REPLY)))
def test_discovery_parsers_raise_only_protocol_errors(data: bytes) -> None:
    typed_errors_only(discovery.parse_probe, data)
    typed_errors_only(discovery.parse_reply, data)


# --- memory ----------------------------------------------------------------------------------

def test_decoders_fed_megabytes_of_garbage_stay_small() -> None:
    """8 MB of random bytes in 64 kB reads: traced memory never grows past a few reads' worth."""
    rng = random.Random(7)
    control = rpc.RpcDecoder()  # default 1 MiB line bound
    image = frames.FrameDecoder()  # default 64 MiB payload bound
    tracemalloc.start()
    try:
        for _ in range(128):
            chunk = rng.randbytes(65536).replace(b"\n", b"n")  # one endless line for the control decoder
            control.feed(chunk)
            image.feed(chunk.replace(b"\x03\xc3", b"\x03\x03"))  # no header ever starts
            assert control.buffered_bytes <= rpc.MAX_LINE_BYTES
            assert image.buffered_bytes <= 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20
    assert image.skipped_bytes >= 128 * 65536 - 1
    assert control.feed(b'\n{"Event":"Next"}\n')[-1] == rpc.Event("Next", None)
