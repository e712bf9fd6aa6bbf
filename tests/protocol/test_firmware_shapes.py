"""Every request builder, on the wire with the verify marker: no nested array (docs/firmware.md fact 1).

7.75 and 8.46 answer 107 / 108 to an array nested in the params (`[[ra, dec], "verify"]`,
`[[{...}], "verify"]`); 7.06 already answers 107 to `[object, "verify"]`. This walks every
public builder of protocol/builders_*.py, so a new builder with such a shape fails here.
"""

from __future__ import annotations

import inspect
import json
from datetime import datetime
from typing import Any

import pytest

from indi_seestar.protocol import firmware
from indi_seestar.protocol.methods import Call, Method, Stage
from indi_seestar.protocol.rpc import Request, VerifyPolicy, encode_request

from .support import public_builders

#: A sample value for every builder parameter name (a new name must be added here).
SAMPLES: dict[str, Any] = {
    "keys": ["mount"], "exposure_ms": 500, "client_name": "indiseestar", "signature_b64": "c2ln",
    "challenge": "abc", "ra_hours": 8.5, "dec_deg": 19.5, "keyed": False, "target_name": "M44",
    "lp_filter": False, "stage": Stage.AUTO_GOTO, "equ_mode": True, "tracking": True, "speed": 240,
    "angle_deg": 90, "duration_s": 3, "level": 2, "percent": 50, "gain": 80, "restart": True,
    "position_steps": 1580, "slot": 1, "power_percent": 30, "lat_deg": 48.1, "lon_deg": 11.6,
    "utc": datetime(2026, 9, 1, 21, 30), "time_zone": "UTC", "dark": True, "dec_pos_index": 3,
    "name": "BatchStack", "path": "MyWorks/M 42_sub", "names": ["Light_M 42_10.0s_IRCUT_20260101-000000.fit"],
}


def _builders() -> list[tuple[str, Call]]:
    out = []
    for name, fn in public_builders():
        sig = inspect.signature(fn)
        if sig.return_annotation not in ("Call", Call):
            continue
        if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
            out.append((name, fn(auto_af=False)))
            continue
        missing = [p for p in sig.parameters if p not in SAMPLES]
        assert not missing, f"add a sample for {name}({', '.join(missing)})"
        out.append((name, fn(**{p: SAMPLES[p] for p in sig.parameters})))
        if "keyed" in sig.parameters:
            out.append((f"{name}(keyed)", fn(**{p: SAMPLES[p] for p in sig.parameters} | {"keyed": True})))
    return out


BUILDERS = _builders()


@pytest.mark.parametrize("name, call", BUILDERS, ids=[n for n, _ in BUILDERS])
def test_no_builder_nests_an_array_or_object_in_an_array(name: str, call: Call) -> None:
    wire = json.loads(encode_request(Request(1, call.method, call.params), VerifyPolicy.MARKER))
    params = wire.get("params")
    if isinstance(params, list):
        assert not any(isinstance(x, (list, dict)) for x in params), (name, params)


def test_every_builder_is_walked() -> None:
    assert len(BUILDERS) >= 45
    assert {c.method for _, c in BUILDERS} >= {Method.PI_SET_TIME, Method.SCOPE_GOTO, Method.SCOPE_SYNC,
                                               Method.SET_CONTROL_VALUE, Method.SET_WHEEL_POSITION}


@pytest.mark.parametrize("ver, keyed", [(2670, False), (2706, False), (2732, False), (2775, True), (2846, True)])
def test_coordinates_are_keyed_from_7_75(ver: int, keyed: bool) -> None:
    assert firmware.keyed_coords(ver) is keyed


def test_settings_keys_a_firmware_lacks_are_dropped() -> None:
    assert firmware.supported_settings(2732, {"auto_lenhance": False, "auto_af": False}) == \
        ({"auto_af": False}, ["auto_lenhance"])
    assert firmware.supported_settings(2775, {"auto_lenhance": False}) == ({"auto_lenhance": False}, [])
    assert not firmware.has_method(2732, Method.GET_PHONE_LIST)
    assert firmware.has_method(2846, Method.GET_PHONE_LIST) and firmware.has_method(2670, Method.SCOPE_GOTO)
