"""Values a client sends that the driver refuses, through the real indiserver (issue 9, items 5
and 6): the Alert republishes the old values and echoes the bad value only as a short, escaped
excerpt; integer-valued numbers (slots, steps, pixels, binning, gain) refuse fractions instead of
rounding them."""

from __future__ import annotations

import socket
import threading

import pytest

from indi_seestar.indi.wire import Snooped, XmlStreamDecoder
from indi_seestar.protocol.methods import Method
from tests.support.indi_harness import recv_chunks, until
from tests.support.rig import Rig

pytestmark = pytest.mark.e2e

MB = 1024 * 1024
#: What a refusal may weigh: the old values and a message with a short excerpt.
REFUSAL_MAX_CHARS = 1024


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    with Rig.start(tmp_path_factory.mktemp("client_values")) as rig:
        for device in (rig.focuser, rig.wheel, rig.camera):
            rig.client.connect_device(device)
        yield rig


class RawClient:
    """A plain TCP client of indiserver that keeps every def/set/message the driver sent."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.received: list[Snooped] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        decoder = XmlStreamDecoder(max_element_bytes=64 * MB)
        for data in recv_chunks(self.sock):
            # (indiserver also copies the client's own new* to other clients: not ours, skipped)
            messages = [m for m in decoder.feed(data) if isinstance(m, Snooped)]
            with self._lock:
                self.received += messages

    def sets(self, device: str, name: str) -> list[Snooped]:
        with self._lock:
            return [m for m in self.received
                    if m.tag.startswith("set") and m.device == device and m.name == name]

    def close(self) -> None:
        self.sock.close()


def _size(message: Snooped) -> int:
    """Characters of a received message's attributes and elements."""
    return sum(map(len, message.attrs.values())) + sum(
        len(text) + sum(map(len, attrs.values())) for _tag, attrs, text in message.children)


def _new_number(device: str, name: str, member: str, text: str) -> bytes:
    return (f'<newNumberVector device="{device}" name="{name}"><oneNumber name="{member}">'
            f"{text}</oneNumber></newNumberVector>\n").encode()


def test_a_megabyte_non_number_is_echoed_as_a_short_excerpt_with_the_old_value(rig):
    abs_pos = "ABS_FOCUS_POSITION"
    old = rig.client.updates(rig.focuser, abs_pos)[-1].values["FOCUS_ABSOLUTE_POSITION"]
    watcher = RawClient(rig.server.port)  # a bystander: every client gets the Alert
    try:
        watcher.sock.sendall(f'<getProperties version="1.7" device="{rig.focuser}"/>\n'.encode())
        until(lambda: any(m.name == abs_pos for m in watcher.received), 10, what="defs")
        since = rig.client.mark()
        garbage = "12 apples\t" + "x" * MB  # the tab is shown escaped in the excerpt
        with socket.create_connection(("127.0.0.1", rig.server.port)) as sender:
            sender.sendall(_new_number(rig.focuser, abs_pos, "FOCUS_ABSOLUTE_POSITION", garbage))
            alert = rig.wait_state(rig.focuser, abs_pos, "Alert", since=since, timeout_s=30)
        (refusal,) = until(lambda: watcher.sets(rig.focuser, abs_pos), 10, what="the Alert")
    finally:
        watcher.close()
    assert alert.values == {"FOCUS_ABSOLUTE_POSITION": old}  # the old value, not the garbage
    assert refusal.values() == {"FOCUS_ABSOLUTE_POSITION": f"{old:g}"}
    assert _size(refusal) < REFUSAL_MAX_CHARS, _size(refusal)  # was 1 MB to every client
    text = refusal.attrs["message"]
    assert "is not a number" in text and f"({len(garbage)} characters)" in text
    assert "'12 apples\\txxxxxxxx" in text and len(text) < 200, text


def test_a_megabyte_switch_value_and_element_name_are_cut_too(rig):
    since = rig.client.mark()
    with socket.create_connection(("127.0.0.1", rig.server.port)) as sender:
        sender.sendall(f'<newSwitchVector device="{rig.focuser}" name="FOCUS_MOTION">'
                       f'<oneSwitch name="FOCUS_INWARD">{"Maybe" * MB}</oneSwitch>'
                       "</newSwitchVector>\n".encode())
        rig.wait_state(rig.focuser, "FOCUS_MOTION", "Alert", since=since)
        since_name = rig.client.mark()
        sender.sendall(f'<newSwitchVector device="{rig.focuser}" name="FOCUS_MOTION">'
                       f'<oneSwitch name="N{"o" * MB}">On</oneSwitch></newSwitchVector>\n'.encode())
        rig.wait_state(rig.focuser, "FOCUS_MOTION", "Alert", since=since_name)
    texts = [t for t in rig.messages(rig.focuser, since=since) if "FOCUS_MOTION" in t]
    assert len(texts) == 2 and all(len(t) < 200 for t in texts), texts
    assert "switch value must be On or Off, not 'MaybeMaybe" in texts[0]
    assert f"({5 * MB} characters)" in texts[0]
    assert "'Nooooo" in texts[1] and f"({MB + 1} characters)" in texts[1]
    assert "not an element of this property" in texts[1]


def _refused(rig: Rig, device: str, name: str, values: dict[str, float]) -> str:
    """Send a number vector; it must come back Alert with the old values; return the message."""
    before = rig.latest(device, name).values
    since = rig.client.mark()
    rig.client.send_number(device, name, values)
    alert = rig.wait_state(device, name, "Alert", since=since)
    assert alert.values == before
    (text,) = [t for t in rig.messages(device, since=since) if name in t]
    return text


def test_a_fractional_filter_slot_is_refused_not_rounded(rig):
    position = rig.fake_call(lambda: rig.fake.state.wheel.position)
    moves = rig.fake.faults.counters.requests[Method.SET_WHEEL_POSITION]
    text = _refused(rig, rig.wheel, "FILTER_SLOT", {"FILTER_SLOT_VALUE": 2.7})
    assert "FILTER_SLOT_VALUE" in text and "whole numbers" in text and "2.7" in text, text
    assert rig.fake.faults.counters.requests[Method.SET_WHEEL_POSITION] == moves
    assert rig.fake_call(lambda: rig.fake.state.wheel.position) == position
    since = rig.client.mark()  # a whole number written as a decimal is still a slot
    rig.client.send_number(rig.wheel, "FILTER_SLOT", {"FILTER_SLOT_VALUE": 2.0})
    assert rig.wait_state(rig.wheel, "FILTER_SLOT", "Ok", since=since).values == {
        "FILTER_SLOT_VALUE": 2}


@pytest.mark.parametrize(("device", "name", "values"), [
    ("focuser", "ABS_FOCUS_POSITION", {"FOCUS_ABSOLUTE_POSITION": 1500.5}),
    ("focuser", "REL_FOCUS_POSITION", {"FOCUS_RELATIVE_POSITION": 10.25}),
    ("camera", "CCD_BINNING", {"HOR_BIN": 1.5}),
    ("camera", "CCD_FRAME", {"WIDTH": 640.5}),
    ("camera", "CCD_GAIN", {"GAIN": 80.5}),
    ("camera", "CCD_CONTROLS", {"Gain": 80.5}),  # CCD_GAIN's alias, "%g" as indi_asi_ccd
])
def test_every_integer_valued_number_refuses_fractions(rig, device, name, values):
    text = _refused(rig, getattr(rig, device), name, values)
    assert "whole numbers" in text and next(iter(values)) in text, text
