"""indi_seestar.config: YAML with safe_load, strict keys, checked values, paths resolved."""

from __future__ import annotations

from pathlib import Path

import pytest

from indi_seestar import config
from indi_seestar.errors import ConfigError


def _load(tmp_path: Path, text: str) -> config.Config:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return config.load(path)


def test_no_file_means_the_built_in_fake(tmp_path):
    cfg = config.load(env={"HOME": str(tmp_path)})
    assert cfg == config.Config() and cfg.uses_simulator
    assert (cfg.seestar.host, cfg.seestar.control_port, cfg.seestar.image_port,
            cfg.seestar.discovery_port, cfg.seestar.key_file, cfg.devices.prefix) == (
        "simulator", 4700, 4800, 4720, None, "Seestar")


def test_file_location_follows_home_and_the_environment_variable(tmp_path):
    assert config.default_path({"HOME": "/home/u"}) == Path(
        "/home/u/.config/indi_seestar/config.yaml")
    assert config.default_path({"HOME": "/home/u", config.ENV_VAR: "/etc/s.yaml"}) == Path(
        "/etc/s.yaml")
    with pytest.raises(ConfigError, match="configuration file not found"):
        config.load(env={config.ENV_VAR: str(tmp_path / "missing.yaml")})


def test_file_location_follows_xdg_config_home(tmp_path):
    # a service user's configuration directory (XDG base directories); a relative one is ignored
    assert config.default_path({"HOME": "/home/u", "XDG_CONFIG_HOME": "/var/lib/svc/cfg"}) == Path(
        "/var/lib/svc/cfg/indi_seestar/config.yaml")
    assert config.default_path({"HOME": "/home/u", "XDG_CONFIG_HOME": "rel"}) == Path(
        "/home/u/.config/indi_seestar/config.yaml")
    (tmp_path / "indi_seestar").mkdir()
    (tmp_path / "indi_seestar" / "config.yaml").write_text("devices:\n  prefix: Xdg\n")
    assert config.load(env={"HOME": "/nonexistent", "XDG_CONFIG_HOME": str(tmp_path)}
                       ).devices.prefix == "Xdg"


def test_a_full_file_is_read(tmp_path):
    (tmp_path / "keys").mkdir()
    cfg = _load(tmp_path, """
seestar:
  host: 192.168.1.50
  control_port: 4700
  image_port: 4800
  discovery_port: 4720
  key_file: keys/seestar.pem
  reconnect_give_up_s: 90
devices:
  prefix: Seestar S50
log_level: debug
""")
    assert cfg.seestar.host == "192.168.1.50" and not cfg.uses_simulator
    assert cfg.seestar.key_file == str(tmp_path / "keys" / "seestar.pem")  # relative to the file
    assert cfg.seestar.reconnect_give_up_s == 90.0
    assert cfg.devices.prefix == "Seestar S50" and cfg.log_level == "debug"


def test_home_relative_key_file(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    cfg = _load(tmp_path, "seestar: {key_file: ~/seestar.pem}\n")
    assert cfg.seestar.key_file == str(tmp_path / "h" / "seestar.pem")


@pytest.mark.parametrize(("text", "message"), [
    ("seestar: {hots: 1.2.3.4}\n",
     "seestar.hots: unknown key 'hots' (known: alpaca, alpaca_discovery_port, alpaca_port, "
     "client_name"),
    ("sestar: {}\n", "sestar: unknown key 'sestar'"),
    ("seestar: {control_port: '4700'}\n", "seestar.control_port: wrong type str (expected int)"),
    ("seestar: {control_port: 70000}\n", "seestar.control_port: port 70000 is outside 1..65535"),
    ("seestar: {host: ''}\n", "seestar.host: '' is not a host name"),
    ("seestar: {host: 4700}\n", "seestar.host: wrong type int (expected str); write it in quotes"),
    ("seestar: {reconnect_give_up_s: 0}\n", "reconnect_give_up_s: 0.0 must be greater than 0"),
    ("seestar: {client_name: my-pc}\n", "client_name: 'my-pc' must be letters and digits only"),
    ("simulator: {firmware: 6.70}\n", "simulator.firmware: wrong type float"),
    ("simulator: {model: S70}\n", "simulator.model: 'S70' is not one of S50, S30"),
    ("devices: {prefix: ''}\n", "devices.prefix: '' must be 1..50 printable characters"),
    ("devices: [a, b]\n", "devices: expected a mapping, got list"),
    ("log_level: chatty\n", "log_level: 'chatty' is not one of DEBUG"),
    ("seestar: {host: [unclosed\n", "cannot read YAML"),
    ("seestar: !!python/object:os.system {}\n", "cannot read YAML"),  # safe_load only
])
def test_bad_files_are_refused_with_the_file_and_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(tmp_path / "config.yaml"))


def test_empty_file_means_defaults(tmp_path):
    assert _load(tmp_path, "# nothing yet\n") == config.Config()


def test_scopes_by_name_override_the_top_level_sections(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("seestar:\n  key_file: k.pem\n  control_port: 4701\n"
                 "scopes:\n  Seestar West:\n    seestar: {host: 10.0.0.5}\n"
                 "  Seestar East:\n    seestar: {host: 10.0.0.6, key_file: east.pem}\n"
                 "    log_level: DEBUG\n")
    cfg = config.load(f)
    west, east, other = (cfg.for_scope(n) for n in ("Seestar West", "Seestar East", "Seestar"))
    assert (west.seestar.host, west.seestar.control_port) == ("10.0.0.5", 4701)
    assert west.seestar.key_file == str(tmp_path / "k.pem")
    assert (east.seestar.host, east.seestar.key_file) == ("10.0.0.6", str(tmp_path / "east.pem"))
    assert (east.log_level, west.log_level) == ("DEBUG", "INFO")
    assert other.seestar.host == "simulator"  # no entry: the top-level sections
    prefixes = [c.devices.prefix for c in (west, east, other)]
    assert prefixes == ["Seestar West", "Seestar East", "Seestar"]


@pytest.mark.parametrize(("text", "key"), [
    ("scopes:\n  W:\n    seestar: {hots: x}\n", "scopes.W.seestar.hots"),
    ("scopes:\n  W:\n    devices: {prefix: X}\n", "scopes.W.devices"),
    ("scopes:\n  W:\n    seestar: {control_port: x}\n", "scopes.W.seestar.control_port"),
    ("scopes: [W]\n", "scopes"),
])
def test_bad_scope_entries_are_refused_naming_the_key(tmp_path, text, key):
    f = tmp_path / "c.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as refused:
        config.load(f)
    assert refused.value.key == key


@pytest.mark.parametrize(("indidev", "prefix"), [
    ("Seestar West", "Seestar West"), ("Seestar West Mount", "Seestar West"),
    ("Seestar  Filter Wheel", "Seestar"), ("", "Configured"), ("Mount", "Mount"),
    ("x" * 60, "Configured"),
])
def test_instance_prefix_from_indidev(indidev, prefix):
    assert config.instance_prefix({"INDIDEV": indidev}, "Configured") == prefix
