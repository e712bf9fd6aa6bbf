"""RpcDecoder: framing of the control channel (CRLF/LF, blank lines, any split, bounded lines)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indi_seestar.protocol import rpc

from .support import FAST, chunks, json_values, norm

EVENT = b'{"Event":"FocuserMove","Timestamp":"4514.650000000","state":"complete","position":1580}'
REPLY = b'{"jsonrpc":"2.0","Timestamp":"4515.000000001","method":"get_focuser_position","result":1580,"code":0,"id":7}'
REQUEST = b'{"method":"move_focuser","params":{"step":1580,"ret_step":true},"id":8}'
STREAM = EVENT + b"\r\n" + REPLY + b"\r\n" + REQUEST + b"\r\n"
EXPECTED = [
    ("event", "FocuserMove", "4514.650000000", {"state": "complete", "position": 1580}),
    ("reply", 7, "get_focuser_position", 0, 1580, None, "4515.000000001", json.loads(REPLY)),
    ("request", 8, "move_focuser", {"step": 1580, "ret_step": True}),
]


def feed_all(decoder: rpc.RpcDecoder, parts: list[bytes]) -> list[rpc.Message]:
    return [m for part in parts for m in decoder.feed(part)]


def test_one_feed_yields_every_message_in_order() -> None:
    decoder = rpc.RpcDecoder()
    assert [norm(m) for m in decoder.feed(STREAM)] == EXPECTED
    assert decoder.buffered_bytes == 0


def test_every_single_split_point_gives_the_same_messages() -> None:
    for cut in range(len(STREAM) + 1):
        decoder = rpc.RpcDecoder()
        out = feed_all(decoder, [STREAM[:cut], STREAM[cut:]])
        assert [norm(m) for m in out] == EXPECTED, cut
        assert decoder.buffered_bytes == 0


def test_partial_line_is_kept_until_its_newline() -> None:
    decoder = rpc.RpcDecoder()
    assert decoder.feed(EVENT + b"\r\n" + REPLY[:30]) != []
    assert decoder.buffered_bytes == 30
    assert decoder.feed(REPLY[30:-1]) == []
    assert decoder.buffered_bytes == len(REPLY) - 1
    (reply,) = decoder.feed(REPLY[-1:] + b"\r\n")
    assert isinstance(reply, rpc.Reply) and reply.id == 7 and reply.result == 1580
    assert decoder.buffered_bytes == 0


@FAST
@given(st.lists(st.integers(0, len(STREAM)), max_size=12))
def test_any_chunking_gives_the_same_messages(cuts: list[int]) -> None:
    decoder = rpc.RpcDecoder()
    assert [norm(m) for m in feed_all(decoder, chunks(STREAM, cuts))] == EXPECTED
    assert decoder.buffered_bytes == 0


line_kinds = st.one_of(
    st.builds(lambda n, s, v: rpc.encode_event(rpc.Event(n, s, {"state": "working", "v": v})).rstrip(b"\r\n"),
              st.text(min_size=1, max_size=10), st.text(max_size=10), json_values),
    st.builds(lambda i, v: rpc.encode_reply(rpc.Reply(i, "get_setting", 0, v)).rstrip(b"\r\n"),
              st.integers(0, 2**31), json_values),
    st.builds(lambda i, c: rpc.encode_reply(rpc.Reply(i, "set_setting", c, error="unexpected param"))
              .rstrip(b"\r\n"), st.integers(0, 2**31), st.integers(1, 999)),
    st.builds(lambda i, p: rpc.encode_request(rpc.Request(i, "scope_goto", p), rpc.VerifyPolicy.MARKER)
              .rstrip(b"\r\n"), st.integers(0, 2**31), json_values),
    st.sampled_from([b"", b"   ", b"\r", b"{oops", b"[1,2]", b"42", b"null", b'{"neither":1}',
                     b"\xff\xfe{", "{\"Event\":\"Caf\u00e9\"}".encode()]),
)


@FAST
@given(st.lists(line_kinds, min_size=1, max_size=8), st.data())
def test_any_chunking_of_a_mixed_stream_equals_one_feed(lines: list[bytes], data: st.DataObject) -> None:
    eol = data.draw(st.sampled_from([b"\r\n", b"\n"]))
    stream = b"".join(line + eol for line in lines)
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=20))
    whole = rpc.RpcDecoder().feed(stream)
    decoder = rpc.RpcDecoder()
    assert [norm(m) for m in feed_all(decoder, chunks(stream, cuts))] == [norm(m) for m in whole]
    assert decoder.buffered_bytes == 0
    # Blank lines vanish; every other line yields exactly one message.
    assert len(whole) == sum(1 for line in lines if line.strip())


def test_crlf_and_bare_lf_decode_alike() -> None:
    lf = STREAM.replace(b"\r\n", b"\n")
    assert [norm(m) for m in rpc.RpcDecoder().feed(lf)] == EXPECTED


def test_blank_and_whitespace_lines_are_ignored() -> None:
    decoder = rpc.RpcDecoder()
    assert decoder.feed(b"\r\n\n   \r\n\t\n\r\r\n") == []
    assert [norm(m) for m in decoder.feed(b"\r\n" + EVENT + b"\r\n\r\n")] == EXPECTED[:1]


@pytest.mark.parametrize("line, reason", [
    (b"{oops", "bad JSON"),
    (b'{"id":1,', "bad JSON"),
    (b"\xff\xfe\x00garbage", "bad JSON"),
    (b"[1,2]", "not a JSON object: list"),
    (b"42", "not a JSON object: int"),
    (b'"text"', "not a JSON object: str"),
    (b"null", "not a JSON object: NoneType"),
    (b'{"neither":1}', "neither an event, a reply nor a request"),
    (b'{"method":5,"id":1}', "method is not a string"),
])
def test_bad_lines_become_malformed_items_and_decoding_goes_on(line: bytes, reason: str) -> None:
    decoder = rpc.RpcDecoder()
    bad, *rest = decoder.feed(line + b"\r\n" + EVENT + b"\r\n")
    assert isinstance(bad, rpc.Malformed)
    assert bad.reason.startswith(reason)
    assert bad.raw == line
    assert [norm(m) for m in rest] == EXPECTED[:1]


def test_malformed_raw_keeps_only_the_first_200_bytes() -> None:
    line = b"{" + b"x" * 1000
    (bad,) = rpc.RpcDecoder().feed(line + b"\n")
    assert isinstance(bad, rpc.Malformed) and bad.raw == line[:200]


LIMIT = 128  # longer than EVENT (87 bytes)


@pytest.mark.parametrize("cut", [None, 1, 10, LIMIT - 1, LIMIT, LIMIT + 1])
def test_line_of_exactly_the_limit_decodes_and_one_more_byte_does_not(cut: int | None) -> None:
    at_limit = b'{"Event":"X","pad":"' + b"p" * (LIMIT - 22) + b'"}'
    assert len(at_limit) == LIMIT
    over = at_limit[:-2] + b'p"}'
    for line, ok in ((at_limit, True), (over, False)):
        decoder = rpc.RpcDecoder(max_line_bytes=LIMIT)
        data = line + b"\n" + EVENT[:0] + b'{"Event":"Next"}\n'
        parts = [data] if cut is None else [data[:cut], data[cut:]]
        out = feed_all(decoder, parts)
        assert [type(m) for m in out] == [rpc.Event if ok else rpc.Malformed, rpc.Event]
        assert out[-1] == rpc.Event("Next", None)
        if not ok:
            assert out[0].reason == f"line longer than {LIMIT} bytes"


def test_over_long_line_is_bounded_reported_once_and_followed_by_good_messages() -> None:
    decoder = rpc.RpcDecoder(max_line_bytes=LIMIT)
    out: list[rpc.Message] = []
    out += decoder.feed(b'{"Event":"Huge","blob":"')
    for _ in range(1000):  # 1000 x 100 bytes of one endless line
        out += decoder.feed(b"z" * 100)
        assert decoder.buffered_bytes <= LIMIT
    out += decoder.feed(b'"}\r\n' + EVENT + b"\r\n")
    assert decoder.buffered_bytes == 0
    assert len(out) == 2
    assert isinstance(out[0], rpc.Malformed) and out[0].reason == f"line longer than {LIMIT} bytes"
    assert out[0].raw.startswith(b'{"Event":"Huge"')
    assert [norm(m) for m in out[1:]] == EXPECTED[:1]


@FAST
@given(st.lists(st.sampled_from([EVENT, b"{" + b"L" * 3 * LIMIT + b"}", b'{"Event":"E"}', b"",
                                 b"M" * (LIMIT + 1)]), min_size=1, max_size=6),
       st.lists(st.integers(0, 2000), max_size=25))
def test_long_lines_under_any_chunking_bounded_and_chunk_independent(
        lines: list[bytes], cuts: list[int]) -> None:
    decoder = rpc.RpcDecoder(max_line_bytes=LIMIT * 2)
    stream = b"".join(line + b"\r\n" for line in lines)
    out: list[rpc.Message] = []
    for part in chunks(stream, cuts):
        out += decoder.feed(part)
        assert decoder.buffered_bytes <= LIMIT * 2
    whole = rpc.RpcDecoder(max_line_bytes=LIMIT * 2).feed(stream)
    assert [norm(m) for m in out] == [norm(m) for m in whole]
    long_lines = [line for line in lines if len(line) + 1 > LIMIT * 2]
    malformed = [m for m in out if isinstance(m, rpc.Malformed) and m.reason.startswith("line longer")]
    assert len(malformed) == len(long_lines)
    assert [m.raw for m in malformed] == [line[:200] for line in long_lines]
    assert sum(isinstance(m, rpc.Event) for m in out) == sum(
        1 for line in lines if line in (EVENT, b'{"Event":"E"}'))
