"""CONFIG_PROCESS: libindi's file format, save/load/default/purge, pre-connect values."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from indi_seestar.errors import ConfigError
from indi_seestar.indi import standard as std
from indi_seestar.indi.config_store import NO_SAVED_CONFIGURATION, ConfigStore, config_path
from indi_seestar.indi.device import Device
from indi_seestar.indi.model import Kind
from tests.support.indi_harness import DeviceProbe


class Scope(Device):
    interface = std.Interface.TELESCOPE | std.Interface.GUIDER

    def init_properties(self) -> None:
        self.address = self.add(std.device_address(self.name, "seestar.local", "4700"), saved=True)
        self.load_saved(self.address)
        self.slew = self.add(
            std.telescope_slew_rate(self.name, [(f"{i}x", f"{i}x") for i in range(1, 5)], 1),
            saved=True,
        )
        self.site = self.add(std.geographic_coord(self.name), saved=True, connected_only=True)
        self.park = self.add(std.telescope_park(self.name), saved=True)  # nothing On: never saved


def test_paths_follow_libindi(tmp_path: Path) -> None:
    assert config_path("Dev", environ={"HOME": "/home/u"}) == Path("/home/u/.indi/Dev_config.xml")
    assert config_path("Dev", environ={"HOME": "/h", "INDICONFIG": "/etc/x.xml"}) == Path(
        "/etc/x.xml"
    )
    assert (
        config_path("Dev", config_dir=tmp_path, environ={"INDICONFIG": "/x"})
        == tmp_path / "Dev_config.xml"
    )
    assert (
        ConfigStore("Dev", config_dir=tmp_path).default_path == tmp_path / "Dev_config.xml.default"
    )


def test_saved_file_is_libindi_shaped(tmp_path: Path) -> None:
    store = ConfigStore("Scope & Co", config_dir=tmp_path, clock=lambda: 1_795_000_000.25)
    store.save(
        [
            std.device_address("Scope & Co", "10.0.0.2", "4700"),
            std.polling_period("Scope & Co", 500),
            std.debug("Scope & Co"),
            std.telescope_park("Scope & Co"),
        ]
    )
    root = ET.parse(store.path).getroot()
    assert root.tag == "INDIDriver"
    stamp = "2026-11-18T11:06:40.250000"  # INDI's optional timestamp, to the microsecond
    assert [(c.tag, c.attrib) for c in root] == [
        ("newTextVector", {"device": "Scope & Co", "name": "DEVICE_ADDRESS", "timestamp": stamp}),
        ("newNumberVector", {"device": "Scope & Co", "name": "POLLING_PERIOD", "timestamp": stamp}),
        ("newSwitchVector", {"device": "Scope & Co", "name": "DEBUG", "timestamp": stamp}),
    ]
    assert [(c.attrib["name"], c.text) for c in root[2]] == [("ENABLE", "Off"), ("DISABLE", "On")]
    assert store.default_path.read_bytes() == store.path.read_bytes()


def test_a_shared_file_keeps_the_other_devices_records(tmp_path: Path) -> None:
    env = {"INDICONFIG": str(tmp_path / "all.xml")}
    a, b = ConfigStore("A", environ=env), ConfigStore("B", environ=env)
    a.save([std.debug("A", True)])
    b.save([std.debug("B")])
    a.save([std.polling_period("A", 20)])
    assert [r.name for r in a.read()] == ["POLLING_PERIOD"] and [r.name for r in b.read()] == [
        "DEBUG"
    ]
    a.purge()
    assert a.read() == [] and b.saved_values("DEBUG") == {"ENABLE": "Off", "DISABLE": "On"}
    b.purge()
    assert not (tmp_path / "all.xml").exists()


def test_save_times_tell_saves_apart_that_file_times_cannot(tmp_path: Path) -> None:
    # one shared file ($INDICONFIG): every device's records have the same file time
    env = {"INDICONFIG": str(tmp_path / "all.xml")}
    now = iter([1_795_000_000.000001, 1_795_000_000.000002])
    a = ConfigStore("A", environ=env, clock=lambda: next(now))
    b = ConfigStore("B", environ=env, clock=lambda: next(now))
    a.save([std.device_address("A", "10.0.0.2", "4700")])
    b.save([std.device_address("B", "10.0.0.3", "4700")])
    at_a = a.saved_at_s(a.saved_record("DEVICE_ADDRESS"))
    at_b = b.saved_at_s(b.saved_record("DEVICE_ADDRESS"))
    assert at_a == pytest.approx(1_795_000_000.000001, abs=1e-6)
    assert at_b == pytest.approx(1_795_000_000.000002, abs=1e-6)
    assert at_a < at_b and a.saved_record("DEBUG") is None


def test_an_unstamped_record_is_dated_by_its_file(tmp_path: Path) -> None:
    path = tmp_path / "Dev_config.xml"
    for stamp in ("", " timestamp='not a time'"):  # libindi's own files have no timestamp
        path.write_text(f"<INDIDriver><newSwitchVector device='Dev' name='DEBUG'{stamp}>"
                        "<oneSwitch name='ENABLE'>On</oneSwitch></newSwitchVector></INDIDriver>")
        store = ConfigStore("Dev", config_dir=tmp_path)
        assert store.saved_at_s(store.saved_record("DEBUG")) == path.stat().st_mtime


def test_missing_or_broken_files_are_config_errors(tmp_path: Path) -> None:
    store = ConfigStore("Dev", config_dir=tmp_path)
    with pytest.raises(ConfigError):
        store.read()
    with pytest.raises(ConfigError):
        store.purge()
    assert store.saved_values("DEBUG") is None
    store.path.write_text("<INDIDriver><newTextVector")
    with pytest.raises(ConfigError, match="not valid XML"):
        store.read()


def test_a_libindi_written_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "Dev_config.xml").write_text(
        "<INDIDriver>\n<newTextVector device='Dev' name='DEVICE_ADDRESS'>\n"
        "  <oneText name='ADDRESS'>\n"
        "      192.168.1.5\n  </oneText>\n  <oneText name='PORT'>\n      4700\n  </oneText>\n"
        "</newTextVector>\n</INDIDriver>\n"
    )
    assert ConfigStore("Dev", config_dir=tmp_path).saved_values("DEVICE_ADDRESS") == {
        "ADDRESS": "192.168.1.5",
        "PORT": "4700",
    }


def _switch(probe: DeviceProbe, action: str) -> tuple[str | None, dict[str, str], str]:
    probe.new(Kind.SWITCH, "Scope", "CONFIG_PROCESS", {action: "On"})
    reply = probe.of("CONFIG_PROCESS")[-1]
    return reply.state, reply.values(), reply.attrs.get("message", "")


ALL_OFF = {
    "CONFIG_LOAD": "Off",
    "CONFIG_SAVE": "Off",
    "CONFIG_DEFAULT": "Off",
    "CONFIG_PURGE": "Off",
}


async def test_save_change_load_restores_through_the_normal_path(tmp_path: Path) -> None:
    scope = Scope("Scope", config_dir=tmp_path)
    probe = DeviceProbe(scope)
    probe.new(Kind.TEXT, "Scope", "DEVICE_ADDRESS", {"ADDRESS": "10.1.1.1"})
    probe.new(Kind.SWITCH, "Scope", "TELESCOPE_SLEW_RATE", {"4x": "On"})
    assert _switch(probe, "CONFIG_SAVE") == ("Ok", ALL_OFF, "[INFO] Device configuration saved.")
    probe.new(Kind.TEXT, "Scope", "DEVICE_ADDRESS", {"ADDRESS": "changed"})
    probe.new(Kind.SWITCH, "Scope", "TELESCOPE_SLEW_RATE", {"1x": "On"})
    mark = len(probe.messages())
    assert _switch(probe, "CONFIG_LOAD")[:2] == ("Ok", ALL_OFF)
    replayed = [(m.name, m.state) for m in probe.messages()[mark:] if m.tag.startswith("set")]
    assert replayed[:-1] == [
        ("DEBUG", "Ok"),
        ("POLLING_PERIOD", "Ok"),
        ("DEVICE_ADDRESS", "Ok"),
        ("TELESCOPE_SLEW_RATE", "Ok"),
    ]
    assert scope.address["ADDRESS"] == "10.1.1.1" and scope.slew.on_names() == ["4x"]
    # a new process learns the address before any client connects
    assert Scope("Scope", config_dir=tmp_path).config.saved_values("DEVICE_ADDRESS") == {
        "ADDRESS": "10.1.1.1",
        "PORT": "4700",
    }
    fresh = Scope("Scope", config_dir=tmp_path)
    DeviceProbe(fresh)
    assert fresh.address["ADDRESS"] == "10.1.1.1"


async def test_default_and_purge(tmp_path: Path) -> None:
    scope = Scope("Scope", config_dir=tmp_path)
    probe = DeviceProbe(scope)
    # nothing saved yet: libindi's INFO text, and no Alert (Ekos loads at every first connection)
    assert _switch(probe, "CONFIG_LOAD") == ("Ok", ALL_OFF, f"[INFO] {NO_SAVED_CONFIGURATION}")
    assert _switch(probe, "CONFIG_DEFAULT") == ("Ok", ALL_OFF, f"[INFO] {NO_SAVED_CONFIGURATION}")
    assert _switch(probe, "CONFIG_SAVE")[0] == "Ok"  # first save also writes the .default
    probe.new(Kind.TEXT, "Scope", "DEVICE_ADDRESS", {"ADDRESS": "second"})
    assert _switch(probe, "CONFIG_SAVE")[0] == "Ok"
    probe.new(Kind.TEXT, "Scope", "DEVICE_ADDRESS", {"ADDRESS": "third"})
    assert _switch(probe, "CONFIG_DEFAULT")[:2] == ("Ok", ALL_OFF)
    assert scope.address["ADDRESS"] == "seestar.local"
    assert _switch(probe, "CONFIG_PURGE")[0] == "Ok" and not scope.config.path.exists()
    state, values, message = _switch(probe, "CONFIG_PURGE")
    assert (state, values) == ("Alert", ALL_OFF) and message.startswith("[ERROR] ")
