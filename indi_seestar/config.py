"""Configuration: frozen dataclasses loaded from YAML with a strict key check.

Importable by every layer; imports nothing of ours but errors. The file is
`$INDI_SEESTAR_CONFIG` or `~/.config/indi_seestar/config.yaml`; a missing file means defaults.
The default host `simulator` starts the fake Seestar inside the driver.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError

ENV_VAR = "INDI_SEESTAR_CONFIG"
SIMULATOR_HOST = "simulator"


@dataclass(frozen=True)
class SeestarConfig:
    """How to reach the scope."""

    host: str = SIMULATOR_HOST
    control_port: int = 4700
    image_port: int = 4800
    discovery_port: int = 4720
    #: Path of the user's PEM login key (firmware 7.18+; mandatory from 7.32). Never shipped.
    key_file: str | None = None
    #: Where UDP discovery probes go (a LAN broadcast address; tests use 127.0.0.1).
    discovery_address: str = "255.255.255.255"
    #: How we label ourselves to the scope (letters and digits only).
    client_name: str = "indiseestar"
    #: Worst-case time from the end of an exposure to the first byte of its frame on 4800.
    readout_margin_s: float = 0.5
    #: Rate of the scope's clock relative to ours (the fake's time factor; 1 for a real scope).
    time_factor: float = 1.0


@dataclass(frozen=True)
class SimulatorConfig:
    """The fake Seestar started in-process when `seestar.host` is `simulator`."""

    model: str = "S50"
    firmware: str = "6.70"
    time_factor: float = 1.0
    #: PEM public key the fake checks logins against (firmware 7.32 profile).
    public_key_file: str | None = None
    seed: int = 1


@dataclass(frozen=True)
class DevicesConfig:
    """INDI device naming."""

    prefix: str = "Seestar"


@dataclass(frozen=True)
class IndiConfig:
    """How the driver talks to indiserver."""

    #: "auto": BLOBs as shared memory when indiserver (>= 1.9.7) gave us its AF_UNIX
    #: socketpair, as libindi's drivers do, else inline base64; "inline" forces base64.
    blob_transport: str = "auto"


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    seestar: SeestarConfig = field(default_factory=SeestarConfig)
    simulator: SimulatorConfig = field(default_factory=SimulatorConfig)
    devices: DevicesConfig = field(default_factory=DevicesConfig)
    indi: IndiConfig = field(default_factory=IndiConfig)
    log_level: str = "INFO"

    @property
    def uses_simulator(self) -> bool:
        """True when the driver must start its own fake Seestar."""
        return self.seestar.host == SIMULATOR_HOST


def default_path(env: Mapping[str, str] | None = None) -> Path:
    """The configuration file the driver reads."""
    env = os.environ if env is None else env
    if env.get(ENV_VAR):
        return Path(env[ENV_VAR]).expanduser()
    return Path(env.get("HOME", "~")).expanduser() / ".config" / "indi_seestar" / "config.yaml"


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
    return from_mapping(data or {}, source=str(file))


def from_mapping(data: Any, source: str = "<config>") -> Config:
    """Build a Config from plain data, rejecting unknown keys and wrong types."""
    return _build(Config, data, source, "")


def _build(cls: type, data: Any, source: str, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"expected a mapping, got {type(data).__name__}", path=source, key=prefix or None)
    fields = {f.name: f for f in dataclasses.fields(cls)}
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
    return cls(**values)


def _coerce(value: Any, annotation: Any, default: Any, source: str, key: str) -> Any:
    text = str(annotation)
    if value is None and "None" in text:
        return None
    if "float" in text and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if "int" in text and isinstance(value, int) and not isinstance(value, bool):
        if "port" in key and not 0 <= value <= 65535:
            raise ConfigError(f"port {value} is outside 0..65535", path=source, key=key)
        return value
    if "str" in text and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise ConfigError(f"wrong type {type(value).__name__} (expected {text})", path=source, key=key)


def replace(config: Config, section: str, **changes: Any) -> Config:
    """A copy of `config` with fields of one section changed (used for client-set values)."""
    return dataclasses.replace(config, **{section: dataclasses.replace(getattr(config, section), **changes)})
