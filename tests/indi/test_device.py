"""Device base as a client sees it: definitions, connection, validation, a reply to every new*."""

from __future__ import annotations

import asyncio
import base64
import logging
from pathlib import Path
from typing import Any

import pytest

from indi_seestar.errors import ConnectFailed, ValueRejected
from indi_seestar.indi import standard as std
from indi_seestar.indi.device import Device, Link
from indi_seestar.indi.model import Kind, State, TextMember, TextVector
from indi_seestar.indi.wire import Snooped
from tests.support.indi_harness import DeviceProbe, until_async

BASE = ["CONNECTION", "DRIVER_INFO", "DEBUG", "CONFIG_PROCESS", "POLLING_PERIOD"]


class Gadget(Device):
    """A device exercising every handler shape the base supports."""

    interface = std.Interface.FOCUSER

    def __init__(self, name: str, tmp: Path) -> None:
        super().__init__(name, config_dir=tmp, clock=lambda: 0.0)
        self.calls: list[tuple[str, Any]] = []
        self.connect_error: Exception | None = None
        self.connect_gate: asyncio.Event | None = None
        self.disconnected = 0

    def init_properties(self) -> None:
        self.position = self.add(
            std.abs_focus_position(self.name, max_steps=2600),
            connected_only=True,
            on_new=self._on_position,
        )
        self.frame_type = self.add(std.ccd_frame_type(self.name))  # no handler: accepted as sent
        self.motion = self.add(std.telescope_motion_ns(self.name), on_new=self._record("motion"))
        self.coord = self.add(std.equatorial_eod_coord(self.name), on_new=self._record("coord"))
        self.upload = self.add(std.upload_settings(self.name), saved=True, on_new=self._on_upload)
        self.info = self.add(std.ccd_info(self.name, 1080, 1920, 2.9, 16))
        self.image = self.add(std.ccd1(self.name), connected_only=True)
        self.broken = self.add(std.guide_rate(self.name), on_new=self._on_broken)

    def _record(self, tag: str) -> Any:
        def handler(values: dict[str, Any]) -> None:
            self.calls.append((tag, values))

        return handler

    async def _on_position(self, values: dict[str, float]) -> None:
        self.calls.append(("position", values))
        self.publish(self.position, state=State.BUSY)
        await asyncio.sleep(0)
        if values["FOCUS_ABSOLUTE_POSITION"] == 13:
            raise ValueRejected("ABS_FOCUS_POSITION", "unlucky number")
        self.position.update(values)
        self.publish(self.position, state=State.OK)

    def _on_upload(self, values: dict[str, str]) -> None:
        if values.get("UPLOAD_DIR") == "/forbidden":
            raise ValueRejected("UPLOAD_SETTINGS", "not there")

    def _on_broken(self, values: dict[str, float]) -> None:
        raise RuntimeError("a bug")

    async def on_connect(self) -> None:
        if self.connect_gate is not None:
            await self.connect_gate.wait()
        if self.connect_error is not None:
            raise self.connect_error

    async def on_disconnect(self) -> None:
        self.disconnected += 1


@pytest.fixture
def gadget(tmp_path: Path) -> Gadget:
    return Gadget("Gadget", tmp_path)


@pytest.fixture
def probe(gadget: Gadget) -> DeviceProbe:
    return DeviceProbe(gadget)


def names(items: list[Snooped]) -> list[str]:
    return [m.name or "" for m in items]


def last(probe: DeviceProbe, name: str) -> Snooped:
    return probe.of(name)[-1]


def state_of(probe: DeviceProbe, name: str) -> str | None:
    """State of the last set* of `name`, None before the first one."""
    sets = probe.of(name)
    return sets[-1].state if sets else None


async def connect(probe: DeviceProbe, device: str = "Gadget") -> None:
    probe.new(Kind.SWITCH, device, "CONNECTION", {"CONNECT": "On"})
    await until_async(
        lambda: any(m.state == "Ok" for m in probe.of("CONNECTION", device=device)), 2
    )


async def test_get_properties_defines_the_always_present_vectors_in_order(
    probe: DeviceProbe,
) -> None:
    probe.send('<getProperties version="1.7"/>')
    assert names([m for m in probe.messages() if m.tag.startswith("def")]) == [
        *BASE,
        "CCD_FRAME_TYPE",
        "TELESCOPE_MOTION_NS",
        "EQUATORIAL_EOD_COORD",
        "UPLOAD_SETTINGS",
        "CCD_INFO",
        "GUIDE_RATE",
    ]
    info = next(m for m in probe.messages() if m.name == "DRIVER_INFO")
    assert info.values()["DRIVER_INTERFACE"] == "8"


async def test_get_properties_filters_by_device_and_name(tmp_path: Path) -> None:
    probe = DeviceProbe(Gadget("A", tmp_path), Gadget("B", tmp_path))
    probe.send('<getProperties version="1.7" device="B" name="DEBUG"/><getProperties device="C"/>')
    assert [(m.device, m.name) for m in probe.messages()] == [("B", "DEBUG")]
    probe.send("<getProperties/>")
    assert {m.device for m in probe.messages()[1:]} == {"A", "B"}


async def test_connect_busy_then_ok_then_connected_only_vectors(
    probe: DeviceProbe, gadget: Gadget
) -> None:
    gadget.connect_gate = asyncio.Event()
    probe.new(Kind.SWITCH, "Gadget", "CONNECTION", {"CONNECT": "On"})
    busy = last(probe, "CONNECTION")
    assert (busy.state, busy.values()) == ("Busy", {"CONNECT": "On", "DISCONNECT": "Off"})
    assert gadget.link is Link.CONNECTING
    gadget.connect_gate.set()
    await until_async(lambda: state_of(probe, "CONNECTION") == "Ok", 2)
    tail = probe.messages()[probe.messages().index(last(probe, "CONNECTION")) :]
    assert [(m.tag, m.name) for m in tail] == [
        ("setSwitchVector", "CONNECTION"),
        ("defNumberVector", "ABS_FOCUS_POSITION"),
        ("defBLOBVector", "CCD1"),
    ]
    assert last(probe, "CONNECTION").values() == {"CONNECT": "On", "DISCONNECT": "Off"}


async def test_connect_failure_is_alert_with_disconnect_on_and_an_error_message(
    probe: DeviceProbe, gadget: Gadget
) -> None:
    gadget.connect_error = ConnectFailed("10.0.0.9", 4700, "no route to host")
    probe.new(Kind.SWITCH, "Gadget", "CONNECTION", {"CONNECT": "On"})
    await until_async(lambda: state_of(probe, "CONNECTION") == "Alert", 2)
    alert = last(probe, "CONNECTION")
    assert alert.values() == {"CONNECT": "Off", "DISCONNECT": "On"}
    assert (
        alert.attrs["message"]
        == "[ERROR] cannot reach the Seestar at 10.0.0.9:4700: no route to host"
    )
    assert not probe.of("ABS_FOCUS_POSITION", "def") and gadget.link is Link.DISCONNECTED


async def test_connect_bug_is_alert_and_logged(
    probe: DeviceProbe, gadget: Gadget, caplog: pytest.LogCaptureFixture
) -> None:
    gadget.connect_error = KeyError("oops")
    probe.new(Kind.SWITCH, "Gadget", "CONNECTION", {"CONNECT": "On"})
    await until_async(lambda: state_of(probe, "CONNECTION") == "Alert", 2)
    assert (
        last(probe, "CONNECTION")
        .attrs["message"]
        .startswith("[ERROR] internal error in CONNECTION: KeyError")
    )
    assert any(r.exc_info for r in caplog.records)


async def test_disconnect_deletes_then_goes_idle_and_cancels_work(
    probe: DeviceProbe, gadget: Gadget
) -> None:
    await connect(probe)
    timer = gadget.call_later(0.01, print, "must not fire")
    task = gadget.spawn(asyncio.sleep(10))
    mark = len(probe.messages())
    probe.new(Kind.SWITCH, "Gadget", "CONNECTION", {"DISCONNECT": "On"})
    await until_async(lambda: state_of(probe, "CONNECTION") == "Idle", 2)
    assert [(m.tag, m.name, m.state) for m in probe.messages()[mark:]] == [
        ("delProperty", "ABS_FOCUS_POSITION", None),
        ("delProperty", "CCD1", None),
        ("setSwitchVector", "CONNECTION", "Idle"),
    ]
    assert last(probe, "CONNECTION").values() == {"CONNECT": "Off", "DISCONNECT": "On"}
    assert gadget.disconnected == 1
    assert timer.cancelled()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_disconnect_when_not_connected_is_answered_idle(probe: DeviceProbe) -> None:
    probe.new(Kind.SWITCH, "Gadget", "CONNECTION", {"DISCONNECT": "On"})
    assert last(probe, "CONNECTION").state == "Idle"


async def test_driver_side_disconnect_with_reason(probe: DeviceProbe, gadget: Gadget) -> None:
    await connect(probe)
    gadget.disconnect("Seestar connection lost")
    await until_async(lambda: state_of(probe, "CONNECTION") == "Alert", 2)
    assert last(probe, "CONNECTION").attrs["message"] == "[ERROR] Seestar connection lost"
    assert probe.of("CCD1", "del")


async def test_one_of_many_partial_vector_is_completed(probe: DeviceProbe, gadget: Gadget) -> None:
    probe.new(Kind.SWITCH, "Gadget", "CCD_FRAME_TYPE", {"FRAME_DARK": "On"})
    reply = last(probe, "CCD_FRAME_TYPE")
    assert reply.state == "Ok"
    assert reply.values() == {
        "FRAME_LIGHT": "Off",
        "FRAME_BIAS": "Off",
        "FRAME_DARK": "On",
        "FRAME_FLAT": "Off",
    }
    assert gadget.frame_type.on_names() == ["FRAME_DARK"]


@pytest.mark.parametrize(
    "sent",
    [{"FRAME_LIGHT": "Off"}, {"FRAME_LIGHT": "On", "FRAME_DARK": "On"}, {"FRAME_LIGHT": "maybe"}],
)
async def test_one_of_many_without_exactly_one_on_is_refused(
    probe: DeviceProbe, gadget: Gadget, sent: dict[str, str]
) -> None:
    probe.new(Kind.SWITCH, "Gadget", "CCD_FRAME_TYPE", sent)
    reply = last(probe, "CCD_FRAME_TYPE")
    assert reply.state == "Alert" and reply.attrs["message"].startswith("[ERROR] CCD_FRAME_TYPE:")
    assert gadget.frame_type.on_names() == ["FRAME_LIGHT"]


async def test_at_most_one_switches_to_the_member_turned_on(
    probe: DeviceProbe, gadget: Gadget
) -> None:
    probe.new(Kind.SWITCH, "Gadget", "TELESCOPE_MOTION_NS", {"MOTION_NORTH": "On"})
    probe.new(Kind.SWITCH, "Gadget", "TELESCOPE_MOTION_NS", {"MOTION_SOUTH": "On"})
    probe.new(
        Kind.SWITCH, "Gadget", "TELESCOPE_MOTION_NS", {"MOTION_NORTH": "Off", "MOTION_SOUTH": "Off"}
    )
    assert [c[1] for c in gadget.calls] == [
        {"MOTION_NORTH": True, "MOTION_SOUTH": False},
        {"MOTION_NORTH": False, "MOTION_SOUTH": True},
        {"MOTION_NORTH": False, "MOTION_SOUTH": False},
    ]
    probe.new(
        Kind.SWITCH, "Gadget", "TELESCOPE_MOTION_NS", {"MOTION_NORTH": "On", "MOTION_SOUTH": "On"}
    )
    assert last(probe, "TELESCOPE_MOTION_NS").state == "Alert" and len(gadget.calls) == 3


async def test_numbers_accept_sexagesimal_and_ignore_unknown_elements(
    probe: DeviceProbe, gadget: Gadget
) -> None:
    probe.new(
        Kind.NUMBER,
        "Gadget",
        "EQUATORIAL_EOD_COORD",
        {"RA": "12:30:00", "DEC": "-45 30 00", "X": "1"},
    )
    assert gadget.calls == [("coord", {"RA": 12.5, "DEC": -45.5})]
    reply = last(probe, "EQUATORIAL_EOD_COORD")
    assert (reply.state, reply.values()) == ("Ok", {"RA": "12.5", "DEC": "-45.5"})


async def test_out_of_range_is_alert_with_message_and_nothing_changes(
    probe: DeviceProbe, gadget: Gadget
) -> None:
    gadget.coord.update({"RA": 1.0, "DEC": 2.0})
    probe.new(Kind.NUMBER, "Gadget", "EQUATORIAL_EOD_COORD", {"RA": "25", "DEC": "3"})
    reply = last(probe, "EQUATORIAL_EOD_COORD")
    assert (reply.state, reply.values()) == ("Alert", {"RA": "1", "DEC": "2"})
    assert "valid range is from 0 to 24, requested value is 25" in reply.attrs["message"]
    assert gadget.calls == [] and gadget.coord.values() == {"RA": 1.0, "DEC": 2.0}


@pytest.mark.parametrize(
    ("kind", "name", "values", "needle"),
    [
        (Kind.NUMBER, "EQUATORIAL_EOD_COORD", {"BOGUS": "1"}, "not an element"),
        (Kind.NUMBER, "EQUATORIAL_EOD_COORD", {"RA": "soon"}, "is not a number"),
        (Kind.NUMBER, "CCD_INFO", {"CCD_MAX_X": "1"}, "read-only"),
        (Kind.SWITCH, "EQUATORIAL_EOD_COORD", {"RA": "On"}, "expected newNumberVector"),
        (Kind.TEXT, "UPLOAD_SETTINGS", {"UPLOAD_DIR": "x" * 70000}, "exceeds"),
    ],
)
async def test_invalid_new_values_are_answered_with_alert(
    probe: DeviceProbe, gadget: Gadget, kind: Kind, name: str, values: dict[str, str], needle: str
) -> None:
    probe.new(kind, "Gadget", name, values)
    reply = last(probe, name)
    assert reply.state == "Alert" and needle in reply.attrs["message"]
    assert gadget.calls == []


async def test_unknown_property_gets_a_warning_message_only(probe: DeviceProbe) -> None:
    probe.new(Kind.NUMBER, "Gadget", "NO_SUCH", {"A": "1"})
    probe.new(
        Kind.NUMBER, "Gadget", "ABS_FOCUS_POSITION", {"FOCUS_ABSOLUTE_POSITION": "5"}
    )  # not connected
    assert probe.texts() == [
        "[WARNING] NO_SUCH: no such property",
        "[WARNING] ABS_FOCUS_POSITION: no such property",
    ]
    assert not [m for m in probe.messages() if m.tag.startswith("set")]


async def test_handler_that_does_not_publish_gets_ok_with_the_new_values(
    probe: DeviceProbe, gadget: Gadget
) -> None:
    probe.new(Kind.TEXT, "Gadget", "UPLOAD_SETTINGS", {"UPLOAD_DIR": "/data & <more>"})
    reply = last(probe, "UPLOAD_SETTINGS")
    assert (reply.state, reply.values()) == (
        "Ok",
        {"UPLOAD_DIR": "/data & <more>", "UPLOAD_PREFIX": "IMAGE_XXX"},
    )


async def test_value_rejected_keeps_the_old_values(probe: DeviceProbe, gadget: Gadget) -> None:
    probe.new(Kind.TEXT, "Gadget", "UPLOAD_SETTINGS", {"UPLOAD_DIR": "/forbidden"})
    reply = last(probe, "UPLOAD_SETTINGS")
    assert (reply.state, reply.values()["UPLOAD_DIR"]) == ("Alert", "")
    assert reply.attrs["message"] == "[ERROR] UPLOAD_SETTINGS: not there"


async def test_async_handler_publishes_busy_then_ok_or_alert(
    probe: DeviceProbe, gadget: Gadget
) -> None:
    await connect(probe)
    probe.new(Kind.NUMBER, "Gadget", "ABS_FOCUS_POSITION", {"FOCUS_ABSOLUTE_POSITION": "1500"})
    await until_async(lambda: state_of(probe, "ABS_FOCUS_POSITION") == "Ok", 2)
    assert [m.state for m in probe.of("ABS_FOCUS_POSITION")] == ["Busy", "Ok"]
    probe.new(Kind.NUMBER, "Gadget", "ABS_FOCUS_POSITION", {"FOCUS_ABSOLUTE_POSITION": "13"})
    await until_async(lambda: state_of(probe, "ABS_FOCUS_POSITION") == "Alert", 2)
    alert = last(probe, "ABS_FOCUS_POSITION")
    assert alert.values() == {"FOCUS_ABSOLUTE_POSITION": "1500"}
    assert alert.attrs["message"] == "[ERROR] ABS_FOCUS_POSITION: unlucky number"


async def test_a_handler_bug_is_alert_logged_and_the_device_keeps_working(
    probe: DeviceProbe, gadget: Gadget, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        probe.new(Kind.NUMBER, "Gadget", "GUIDE_RATE", {"GUIDE_RATE_WE": "0.3"})
    reply = last(probe, "GUIDE_RATE")
    assert reply.state == "Alert" and "RuntimeError: a bug" in reply.attrs["message"]
    assert any("GUIDE_RATE handler failed" in r.getMessage() for r in caplog.records)
    probe.new(Kind.SWITCH, "Gadget", "CCD_FRAME_TYPE", {"FRAME_FLAT": "On"})
    assert last(probe, "CCD_FRAME_TYPE").state == "Ok"


async def test_debug_is_echoed_and_polling_period_stored(
    probe: DeviceProbe, gadget: Gadget
) -> None:
    probe.new(Kind.SWITCH, "Gadget", "DEBUG", {"ENABLE": "On"})
    assert (last(probe, "DEBUG").state, last(probe, "DEBUG").values()) == (
        "Ok",
        {"ENABLE": "On", "DISABLE": "Off"},
    )
    assert gadget.log.isEnabledFor(logging.DEBUG)
    probe.new(Kind.NUMBER, "Gadget", "POLLING_PERIOD", {"PERIOD_MS": "250"})
    assert last(probe, "POLLING_PERIOD").state == "Ok" and gadget.polling_period_s == 0.25


async def test_publish_blob_sends_exact_size_and_payload(
    probe: DeviceProbe, gadget: Gadget
) -> None:
    await connect(probe)
    parts = [b"SIMPLE  =", bytes(range(256)) * 3, b"\x00\x01"]
    await gadget.publish_blob(gadget.image, "CCD1", parts)
    blob = last(probe, "CCD1")
    ((tag, attrs, text),) = blob.children
    payload = b"".join(parts)
    assert (tag, attrs, blob.state) == (
        "oneBLOB",
        {"name": "CCD1", "size": str(len(payload)), "format": ".fits"},
        "Ok",
    )
    assert base64.b64decode(text) == payload


async def test_message_levels_and_redefine(probe: DeviceProbe, gadget: Gadget) -> None:
    gadget.message("hello")
    gadget.message("careful", "warning")
    gadget.redefine(gadget.frame_type)
    assert probe.texts() == ["[INFO] hello", "[WARNING] careful"]
    assert [(m.tag, m.name) for m in probe.messages()[2:]] == [
        ("delProperty", "CCD_FRAME_TYPE"),
        ("defSwitchVector", "CCD_FRAME_TYPE"),
    ]


async def test_vectors_added_later_are_defined_when_live(
    probe: DeviceProbe, gadget: Gadget
) -> None:
    extra = TextVector("Gadget", "EXTRA", "Extra", "Test", [TextMember("A", "A", "1")])
    gadget.add(extra)
    assert probe.of("EXTRA", "def")
    gadget.remove(extra)
    assert probe.of("EXTRA", "del")
    with pytest.raises(ValueError):
        gadget.add(std.debug("Gadget"))
    with pytest.raises(ValueError):
        gadget.add(std.debug("Someone else"))


async def test_publishing_a_connected_only_vector_while_disconnected_sends_nothing(
    probe: DeviceProbe, gadget: Gadget
) -> None:
    gadget.position["FOCUS_ABSOLUTE_POSITION"] = 100
    gadget.publish(gadget.position, state=State.OK)
    assert probe.messages() == []
    await connect(probe)
    definition = probe.of("ABS_FOCUS_POSITION", "def")[0]
    assert (definition.state, definition.values()) == ("Ok", {"FOCUS_ABSOLUTE_POSITION": "100"})


async def test_shutdown_runs_on_disconnect_once_and_cancels_tasks(
    probe: DeviceProbe, gadget: Gadget
) -> None:
    await connect(probe)
    task = gadget.spawn(asyncio.sleep(10))
    await gadget.shutdown(0.5)
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gadget.disconnected == 1 and gadget.link is Link.DISCONNECTED


async def test_timers_fire_and_their_errors_become_messages(
    probe: DeviceProbe, gadget: Gadget
) -> None:
    fired = asyncio.Event()

    def fail() -> None:
        raise ValueRejected("X", "late failure")

    gadget.call_later(0.001, fired.set)
    gadget.call_later(0.001, fail)
    await asyncio.wait_for(fired.wait(), 1)
    await until_async(probe.texts, 1)
    assert probe.texts() == ["[ERROR] X: late failure"]
