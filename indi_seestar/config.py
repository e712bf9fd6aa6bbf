"""Configuration: frozen dataclasses loaded from YAML with a strict key check.

Importable by every layer; imports nothing of ours but errors. The file is
`$INDI_SEESTAR_CONFIG`, else `$XDG_CONFIG_HOME/indi_seestar/config.yaml`, else
`~/.config/indi_seestar/config.yaml`; a missing file means defaults.
The default host `simulator` starts the fake Seestar inside the driver.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

ENV_VAR = "INDI_SEESTAR_CONFIG"
SIMULATOR_HOST = "simulator"
#: indiserver's `start <driver> -n "<name>"` reaches the driver as this variable.
INDIDEV_ENV = "INDIDEV"
#: The device roles; a name passed with `-n` that ends in one of them ("Seestar West Mount",
#: what KStars sends for a single entry) is taken as the prefix before it.
ROLE_SUFFIXES = ("Filter Wheel", "Mount", "Camera", "Focuser")
#: Sections a `scopes.<name>` entry may override (the others are the driver's, not a scope's).
SCOPE_SECTIONS = ("seestar", "simulator", "indi", "log_level")


def _port(value: Any) -> str | None:
    return None if 1 <= value <= 65535 else f"port {value} is outside 1..65535"


def _positive(value: Any) -> str | None:
    return None if value > 0 else f"{value} must be greater than 0"


def _not_negative(value: Any) -> str | None:
    return None if value >= 0 else f"{value} must not be negative"


def _host(value: Any) -> str | None:
    if not value.strip() or any(ch.isspace() for ch in value.strip()):
        return f"{value!r} is not a host name or address"
    return None


def _alphanumeric(value: Any) -> str | None:
    # the firmware echoes the name unescaped in discovery replies (seestar-protocol.md §5)
    return None if value.isascii() and value.isalnum() else f"{value!r} must be letters and digits only"


def _prefix(value: Any) -> str | None:
    if not value.strip() or not value.isprintable() or len(value) > MAX_PREFIX_CHARS:
        return f"{value!r} must be 1..{MAX_PREFIX_CHARS} printable characters"
    return None


def _one_of(*choices: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value.upper() in {c.upper() for c in choices} else f"{value!r} is not one of {', '.join(choices)}"
    return check


def _firmware(value: Any) -> str | None:
    return None if re.fullmatch(r"\d+\.\d{1,2}", value.strip()) else f"{value!r} must look like 6.70"


def _checked(default: Any, check: Callable[[Any], str | None]) -> Any:
    return field(default=default, metadata={"check": check})


#: Device names stay within libindi's 64 characters ("<prefix> Filter Wheel").
MAX_PREFIX_CHARS = 50


@dataclass(frozen=True)
class SeestarConfig:
    """How to reach the scope."""

    host: str = _checked(SIMULATOR_HOST, _host)
    control_port: int = _checked(4700, _port)
    image_port: int = _checked(4800, _port)
    discovery_port: int = _checked(4720, _port)
    #: The S30 Pro's wide camera image channel (seestarpy-s30: 4804).
    wide_image_port: int = _checked(4804, _port)
    #: Path of the user's PEM login key (firmware 7.18+; mandatory from 7.32). Never shipped.
    #: A relative path is taken relative to the configuration file.
    key_file: str | None = None
    #: Where UDP discovery probes go (a LAN broadcast address; tests use 127.0.0.1).
    discovery_address: str = _checked("255.255.255.255", _host)
    #: How we label ourselves to the scope (letters and digits only).
    client_name: str = _checked("indiseestar", _alphanumeric)
    #: Worst-case time from the end of an exposure to the first byte of its frame on 4800.
    readout_margin_s: float = _checked(0.5, _not_negative)
    #: The frame wait beyond the exposures and the readout margin: the exposure setting, the
    #: view start and streaming commands, each answered within ~1 s by a healthy scope. 10 s
    #: keeps a 2 s exposure's Alert within PHD2's default watchdog (exposure + 15 s).
    frame_setup_margin_s: float = _checked(10.0, _not_negative)
    #: With no exposure for this long, the scope stops pushing preview frames (it goes on
    #: exposing, so the next request waits no longer): a short preview would otherwise keep
    #: sending ~4 MB frames over Wi-Fi for nothing. Longer than the gaps of a PHD2 loop or an
    #: Ekos sequence.
    stream_idle_s: float = _checked(5.0, _positive)
    #: Rate of the scope's clock relative to ours (the fake's time factor; 1 for a real scope).
    time_factor: float = _checked(1.0, _positive)
    #: A dropped session that has not come back after this long is given up: every device
    #: shows CONNECTION Alert with a message (Wi-Fi hiccups shorter than this are ridden out).
    reconnect_give_up_s: float = _checked(60.0, _positive)
    #: ZWO's own Alpaca server (issue 14): "auto" uses it for single exposures, guide pulses and
    #: the dew heater when it is found and answers, "on" asks for it (a warning when absent),
    #: "off" keeps everything on the private protocol. Needs the alpyca package.
    alpaca: str = _checked("auto", _one_of("auto", "on", "off"))
    #: Its HTTP port (32323 on the scope) and its UDP discovery port (32227).
    alpaca_port: int = _checked(32323, _port)
    alpaca_discovery_port: int = _checked(32227, _port)
    #: The scope's read-only HTTP file server (stored subs, batch-stack results; §1).
    files_port: int = _checked(80, _port)


@dataclass(frozen=True)
class SimulatorConfig:
    """The fake Seestar started in-process when `seestar.host` is `simulator`."""

    model: str = _checked("S50", _one_of("S50", "S30", "S50P", "S30P"))
    firmware: str = _checked("6.70", _firmware)
    time_factor: float = _checked(1.0, _positive)
    #: PEM public key the fake checks logins against (firmware 7.32 profile).
    public_key_file: str | None = None
    seed: int = 1
    #: The fake's Alpaca server build (e.g. "1.2.0-3"; older builds send the ImageBytes header
    #: mistakes); None = no Alpaca server, as on firmware before late 2025.
    alpaca_version: str | None = None


@dataclass(frozen=True)
class DevicesConfig:
    """INDI device naming."""

    prefix: str = _checked("Seestar", _prefix)


@dataclass(frozen=True)
class IndiConfig:
    """How the driver talks to indiserver."""

    #: "auto": BLOBs as shared memory when indiserver (>= 1.9.7) gave us its AF_UNIX
    #: socketpair, as libindi's drivers do, else inline base64; "inline" forces base64.
    blob_transport: str = _checked("auto", _one_of("auto", "inline"))


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    seestar: SeestarConfig = field(default_factory=SeestarConfig)
    simulator: SimulatorConfig = field(default_factory=SimulatorConfig)
    devices: DevicesConfig = field(default_factory=DevicesConfig)
    indi: IndiConfig = field(default_factory=IndiConfig)
    log_level: str = _checked("INFO", _one_of("DEBUG", "INFO", "WARNING", "ERROR"))
    #: Several Seestars by device prefix ("Seestar West"): each entry overrides the sections
    #: above (SCOPE_SECTIONS) for the instance started with that name (`-n` / INDIDEV).
    scopes: dict[str, Config] = field(default_factory=dict, metadata={"scopes": True})

    @property
    def uses_simulator(self) -> bool:
        """True when the driver must start its own fake Seestar."""
        return self.seestar.host == SIMULATOR_HOST

    def for_scope(self, prefix: str) -> Config:
        """The configuration of the instance whose devices are named `prefix ...`."""
        chosen = self.scopes.get(prefix, self)
        devices = dataclasses.replace(chosen.devices, prefix=prefix)
        return dataclasses.replace(chosen, devices=devices, scopes=self.scopes)


def instance_prefix(env: Mapping[str, str] | None, configured: str) -> str:
    """The device prefix: INDIDEV (indiserver's `-n`) less a role suffix, else `configured`."""
    env = os.environ if env is None else env
    name = " ".join(env.get(INDIDEV_ENV, "").split())
    for role in ROLE_SUFFIXES:
        if name.endswith(" " + role) and name[:-len(role)].strip():
            name = name[:-len(role)].strip()
            break
    if not name or _prefix(name) is not None:
        return configured
    return name


def default_path(env: Mapping[str, str] | None = None) -> Path:
    """The configuration file the driver reads."""
    env = os.environ if env is None else env
    if env.get(ENV_VAR):
        return Path(env[ENV_VAR]).expanduser()
    # XDG base directories: an absolute $XDG_CONFIG_HOME, else ~/.config (the spec ignores a
    # relative one); a service user's is its home, e.g. /var/lib/indi-seestar for the package's.
    xdg = env.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path(env.get("HOME", "~")).expanduser() / ".config"
    return base / "indi_seestar" / "config.yaml"


def load(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read and check the configuration; ConfigError names the file and key on any problem."""
    import yaml  # deferred: keeps driver start-up lean

    file = Path(path) if path is not None else default_path(env)
    if not file.exists():
        if path is not None or (env if env is not None else os.environ).get(ENV_VAR):
            raise ConfigError("configuration file not found", path=str(file))
        return Config()
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read YAML: {str(exc)[:200]}", path=str(file)) from exc
    config = from_mapping(data if data is not None else {}, source=str(file))
    return _resolve_paths(config, file.parent)


def from_mapping(data: Any, source: str = "<config>") -> Config:
    """Build a Config from plain data, rejecting unknown keys and wrong types."""
    return _build(Config, data, source, "")


def _build(cls: type, data: Any, source: str, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"expected a mapping, got {type(data).__name__}", path=source,
                          key=prefix.rstrip(".") or None)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if "scopes" in fields and "scopes" in data:
        data = dict(data)
        scopes = _build_scopes(data.pop("scopes"), data, source, f"{prefix}scopes")
        return dataclasses.replace(_build(cls, data, source, prefix), scopes=scopes)
    unknown = sorted(set(map(str, data)) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r} (known: {', '.join(sorted(fields))})",
            path=source, key=f"{prefix}{unknown[0]}",
        )
    values: dict[str, Any] = {}
    for name, value in data.items():
        f = fields[name]
        key = f"{prefix}{name}"
        default = getattr(cls(), name)
        if dataclasses.is_dataclass(default):
            values[name] = _build(type(default), value, source, key + ".")
        else:
            values[name] = _coerce(value, f.type, default, source, key)
            problem = f.metadata["check"](values[name]) if "check" in f.metadata else None
            if problem:
                raise ConfigError(problem, path=source, key=key)
    return cls(**values)


def _build_scopes(entries: Any, base: dict[str, Any], source: str, key: str) -> dict[str, Config]:
    """`scopes:` entries, each the top-level sections with the entry's own values over them."""
    if entries is None:
        return {}
    if not isinstance(entries, dict):
        raise ConfigError(f"expected a mapping of device prefixes, got {type(entries).__name__}",
                          path=source, key=key)
    out: dict[str, Config] = {}
    for name, entry in entries.items():
        where = f"{key}.{name}"
        problem = _prefix(name) if isinstance(name, str) else f"{name!r} is not a name"
        if problem:
            raise ConfigError(f"scope name {problem}", path=source, key=where)
        if entry is None:
            entry = {}
        if not isinstance(entry, dict):
            raise ConfigError(f"expected a mapping, got {type(entry).__name__}", path=source,
                              key=where)
        unknown = sorted(set(map(str, entry)) - set(SCOPE_SECTIONS))
        if unknown:
            raise ConfigError(f"unknown key {unknown[0]!r} (known: {', '.join(SCOPE_SECTIONS)})",
                              path=source, key=f"{where}.{unknown[0]}")
        merged = dict(base)
        for section, values in entry.items():
            if isinstance(values, dict) and isinstance(base.get(section), dict):
                merged[section] = {**base[section], **values}
            else:
                merged[section] = values
        try:
            out[name] = _build(Config, merged, source, "")
        except ConfigError as exc:  # name the entry, whichever level the bad key came from
            own = exc.key if exc.key and exc.key.split(".")[0] in entry else None
            raise ConfigError(exc.reason, path=source,
                              key=f"{where}.{own}" if own else exc.key) from None
    return out


def _coerce(value: Any, annotation: Any, default: Any, source: str, key: str) -> Any:
    text = str(annotation)
    if value is None and "None" in text:
        return None
    if isinstance(value, bool) and default in ("auto", "on", "off"):  # YAML 1.1: on/off are bools
        return "on" if value else "off"
    if "float" in text and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if "int" in text and isinstance(value, int) and not isinstance(value, bool):
        return value
    if "str" in text and isinstance(value, str):
        return value
    hint = "; write it in quotes" if "str" in text and isinstance(value, (int, float)) else ""
    raise ConfigError(f"wrong type {type(value).__name__} (expected {text}){hint}", path=source,
                      key=key)


def _resolve_paths(config: Config, base: Path) -> Config:
    """Key files named relative to the configuration file, `~` expanded."""
    def resolve(path: str | None) -> str | None:
        return None if path is None else str(base / Path(path).expanduser())

    config = replace(config, "seestar", key_file=resolve(config.seestar.key_file))
    config = replace(config, "simulator", public_key_file=resolve(config.simulator.public_key_file))
    scopes = {name: _resolve_paths(scope, base) for name, scope in config.scopes.items()}
    return dataclasses.replace(config, scopes=scopes)


def replace(config: Config, section: str, **changes: Any) -> Config:
    """A copy of `config` with fields of one section changed (used for client-set values)."""
    return dataclasses.replace(config, **{section: dataclasses.replace(getattr(config, section), **changes)})
