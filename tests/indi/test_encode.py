"""Outbound XML: escaping golden strings, number and time formats, def/set layout, BLOB framing."""

from __future__ import annotations

import base64
import hashlib
import random
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indi_seestar.indi import encode
from indi_seestar.indi import standard as std
from indi_seestar.indi.model import Kind, State

TS = "2026-01-02T03:04:05"


def test_message_escapes_every_special_character_without_numeric_references() -> None:
    out = encode.message("Dev", "a & b < c > d \" e ' f\ng\th\r", timestamp=TS)
    assert out == (
        b'<message device="Dev" timestamp="2026-01-02T03:04:05" '
        b'message="a &amp; b &lt; c &gt; d &quot; e &apos; f g h "/>\n'
    )
    assert b"&#" not in out


def test_text_values_keep_newlines_and_escape_entities() -> None:
    vector = std.upload_settings("Cam")
    vector["UPLOAD_DIR"] = "/tmp/a&b<c>\"'\nnext\x01"
    out = encode.set_vector(vector, timestamp=TS)
    assert b'<oneText name="UPLOAD_DIR">/tmp/a&amp;b&lt;c&gt;&quot;&apos;\nnext</oneText>' in out
    assert b"&#" not in out


def test_device_and_label_attributes_are_escaped() -> None:
    vector = std.connection('Cam "1" & <2>')
    out = encode.def_vector(vector, timestamp=TS)
    assert out.startswith(
        b'<defSwitchVector device="Cam &quot;1&quot; &amp; &lt;2&gt;" name="CONNECTION"'
    )
    assert ET.fromstring(out).attrib["device"] == 'Cam "1" & <2>'


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (1920, "1920"),
        (-3, "-3"),
        (0.1, "0.1"),
        (12.5, "12.5"),
        (1e-7, "1e-07"),
        (1e20, "1e+20"),
        (23.999999999, "23.999999999"),
    ],
)
def test_numbers_are_plain_decimals(value: float, text: str) -> None:
    assert encode.format_number(value) == text
    assert float(text) == value


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_round_trip_exactly_and_never_sexagesimal(value: float) -> None:
    text = encode.format_number(value)
    assert ":" not in text
    assert float(text) == value


def test_timestamp_is_utc_whole_seconds_without_zone() -> None:
    assert encode.format_timestamp(0) == "1970-01-01T00:00:00"
    assert encode.format_timestamp(1_700_000_000.9) == "2023-11-14T22:13:20"


def test_def_number_vector_layout() -> None:
    out = encode.def_vector(
        std.abs_focus_position("Foc", max_steps=2600, value_steps=1500), timestamp=TS
    )
    assert out == (
        b'<defNumberVector device="Foc" name="ABS_FOCUS_POSITION" label="Absolute Position" '
        b'group="Main Control" state="Idle" perm="rw" timeout="60" timestamp="2026-01-02T03:04:05">'
        b'<defNumber name="FOCUS_ABSOLUTE_POSITION" label="Steps" format="%.f" min="0" max="2600" '
        b'step="1000">1500</defNumber></defNumberVector>\n'
    )


def test_set_vector_always_has_state_and_every_member() -> None:
    vector = std.equatorial_eod_coord("Mount", ra_hours=12.5, dec_deg=-30.25)
    vector.state = State.BUSY
    root = ET.fromstring(encode.set_vector(vector, timestamp=TS))
    assert root.tag == "setNumberVector"
    assert root.attrib["state"] == "Busy"
    assert [(c.attrib["name"], c.text) for c in root] == [("RA", "12.5"), ("DEC", "-30.25")]


def test_switch_and_light_values() -> None:
    root = ET.fromstring(encode.def_vector(std.connection("D"), timestamp=TS))
    assert root.attrib["rule"] == "OneOfMany"
    assert [c.text for c in root] == ["Off", "On"]


def test_del_property_and_new_vector() -> None:
    assert encode.del_property("D", "CCD1", timestamp=TS) == (
        b'<delProperty device="D" name="CCD1" timestamp="2026-01-02T03:04:05"/>\n'
    )
    assert encode.del_property("D", timestamp=TS) == (
        b'<delProperty device="D" timestamp="2026-01-02T03:04:05"/>\n'
    )
    assert encode.new_vector(Kind.TEXT, "D", "T", {"A": "x&y"}) == (
        b'<newTextVector device="D" name="T"><oneText name="A">x&amp;y</oneText></newTextVector>\n'
    )


def _blob_xml(parts: list[bytes], fmt: str = ".fits") -> bytes:
    vector = std.ccd1("Cam")
    prefix, suffix = encode.blob_envelope(
        vector, "CCD1", size=encode.payload_size(parts), fmt=fmt, timestamp=TS
    )
    return prefix + b"".join(encode.iter_base64(parts, chunk_bytes=3 * 7)) + suffix


@pytest.mark.parametrize(
    "lengths",
    [
        [],
        [0],
        [1],
        [2],
        [3],
        [1, 1, 1, 1],
        [2, 2, 2],
        [5, 0, 7, 1],
        [100, 1, 200, 2],
        [3 * 7 + 1, 3 * 7 * 5 + 2, 4],
    ],
)
def test_blob_framing_decodes_to_the_exact_payload(lengths: list[int]) -> None:
    rng = random.Random(sum(lengths))
    parts = [rng.randbytes(n) for n in lengths]
    payload = b"".join(parts)
    root = ET.fromstring(_blob_xml(parts))
    (one,) = list(root)
    text = one.text or ""
    assert "\n" not in text and "enclen" not in one.attrib
    assert int(one.attrib["size"]) == len(payload)
    decoded = base64.b64decode(text, validate=True)
    assert hashlib.sha256(decoded).digest() == hashlib.sha256(payload).digest()


@given(st.lists(st.binary(max_size=50), max_size=8), st.integers(min_value=1, max_value=20))
def test_base64_of_parts_equals_base64_of_whole(parts: list[bytes], chunk_triples: int) -> None:
    run = b"".join(encode.iter_base64(parts, chunk_bytes=3 * chunk_triples))
    assert run == base64.b64encode(b"".join(parts))


def test_blob_parts_may_be_numpy_arrays_and_memoryviews() -> None:
    np = pytest.importorskip("numpy")
    image = np.arange(6 * 5, dtype=np.uint16).reshape(6, 5)
    parts = [b"HEADER", image, memoryview(b"xyz")[1:]]
    assert encode.payload_size(parts) == 6 + image.nbytes + 2
    expected = base64.b64encode(b"HEADER" + image.tobytes() + b"yz")
    assert b"".join(encode.iter_base64(parts)) == expected
    with pytest.raises(TypeError):
        encode.payload_size([image[:, ::2]])  # not contiguous: refused before anything is queued


def test_chunk_size_must_keep_base64_unbroken() -> None:
    with pytest.raises(ValueError):
        list(encode.iter_base64([b"abcd"], chunk_bytes=4))


def test_blob_message_is_one_line_without_enclen() -> None:
    xml = _blob_xml([b"x" * 1000, b"y" * 1001])
    assert xml.count(b"\n") == 1 and xml.endswith(b"</oneBLOB></setBLOBVector>\n")
    assert re.search(rb'<oneBLOB name="CCD1" size="2001" format=".fits">', xml)


def test_attached_blob_prefix_marks_the_element_empty_and_attached():
    vector = std.ccd1("Cam")
    prefix, suffix = encode.blob_envelope(vector, "CCD1", size=12, fmt=".fits", timestamp="T")
    attached = encode.attached_blob_prefix(prefix, 12)
    assert attached.endswith(b'<oneBLOB name="CCD1" size="12" format=".fits" len="12" attached="true">')
    assert attached.startswith(prefix[:-1])
    with pytest.raises(ValueError):
        encode.attached_blob_prefix(b"<oneBLOB", 1)
