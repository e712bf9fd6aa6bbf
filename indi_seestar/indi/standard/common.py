"""Standard properties every device has: CONNECTION, DRIVER_INFO, DEBUG... (layer indi/).

Must not import protocol/, seestar/, devices/ or sim/.
"""

from __future__ import annotations

from collections.abc import Mapping

from indi_seestar.indi.model import NumberVector, Perm, Rule, SwitchVector, TextVector
from indi_seestar.indi.standard._build import (
    CONNECTION_GROUP,
    GENERAL_INFO,
    MAIN_CONTROL,
    OPTIONS,
    enable_disable,
    numbers,
    one_number,
    switches,
    texts,
)


def connection(device: str) -> SwitchVector:
    """CONNECTION: CONNECT, DISCONNECT (OneOfMany, starts with DISCONNECT On)."""
    members = [("CONNECT", "Connect", False), ("DISCONNECT", "Disconnect", True)]
    return switches(device, "CONNECTION", "Connection", MAIN_CONTROL, Rule.ONE_OF_MANY, members)


def driver_info(
    device: str, *, name: str, exec_name: str, version: str, interface: int
) -> TextVector:
    """DRIVER_INFO (ro): DRIVER_NAME, DRIVER_EXEC, DRIVER_VERSION, DRIVER_INTERFACE (decimal)."""
    members = [
        ("DRIVER_NAME", "Name", name),
        ("DRIVER_EXEC", "Exec", exec_name),
        ("DRIVER_VERSION", "Version", version),
        ("DRIVER_INTERFACE", "Interface", str(int(interface))),
    ]
    return texts(device, "DRIVER_INFO", "Driver Info", GENERAL_INFO, members, perm=Perm.RO)


def debug(device: str, enabled: bool = False) -> SwitchVector:
    """DEBUG: ENABLE, DISABLE (Ekos writes it by index)."""
    return enable_disable(device, "DEBUG", "Debug", OPTIONS, enabled)


def simulation(device: str, enabled: bool = False) -> SwitchVector:
    """SIMULATION: ENABLE, DISABLE."""
    return enable_disable(device, "SIMULATION", "Simulation", OPTIONS, enabled)


def config_process(device: str) -> SwitchVector:
    """CONFIG_PROCESS (AtMostOne): CONFIG_LOAD, CONFIG_SAVE, CONFIG_DEFAULT, CONFIG_PURGE."""
    members = [
        ("CONFIG_LOAD", "Load", False),
        ("CONFIG_SAVE", "Save", False),
        ("CONFIG_DEFAULT", "Default", False),
        ("CONFIG_PURGE", "Purge", False),
    ]
    return switches(
        device, "CONFIG_PROCESS", "Configuration", OPTIONS, Rule.AT_MOST_ONE, members, timeout_s=0
    )


def polling_period(device: str, period_ms: float = 1000) -> NumberVector:
    """POLLING_PERIOD: PERIOD_MS (10 ms .. 600 s)."""
    member = one_number("PERIOD_MS", "Period (ms)", "%.f", 10, 600000, 1000, period_ms,
                        whole_numbers=False)  # a duration: a fraction of a ms is harmless
    return numbers(device, "POLLING_PERIOD", "Polling", OPTIONS, [member], timeout_s=0)


def device_address(device: str, address: str = "", port: str = "") -> TextVector:
    """DEVICE_ADDRESS: ADDRESS, PORT (libindi's TCP connection property)."""
    members = [("ADDRESS", "Address", address), ("PORT", "Port", port)]
    return texts(device, "DEVICE_ADDRESS", "Server", CONNECTION_GROUP, members)


_ACTIVE_LABELS = {
    "ACTIVE_TELESCOPE": "Telescope",
    "ACTIVE_ROTATOR": "Rotator",
    "ACTIVE_FOCUSER": "Focuser",
    "ACTIVE_FILTER": "Filter",
    "ACTIVE_SKYQUALITY": "Sky Quality",
    "ACTIVE_GPS": "GPS",
    "ACTIVE_DOME": "DOME",
}


def active_devices(device: str, slots: Mapping[str, str]) -> TextVector:
    """ACTIVE_DEVICES: snoop targets by slot, in the caller's order.

    libindi order - camera: ACTIVE_TELESCOPE, ACTIVE_ROTATOR, ACTIVE_FOCUSER, ACTIVE_FILTER,
    ACTIVE_SKYQUALITY; mount: ACTIVE_GPS, ACTIVE_DOME.
    """
    members = [(k, _ACTIVE_LABELS.get(k, k), v) for k, v in slots.items()]
    return texts(device, "ACTIVE_DEVICES", "Snoop devices", OPTIONS, members)
