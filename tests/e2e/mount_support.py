"""Helpers shared by the mount and guiding end-to-end tests (real indiserver, driver, fake).

Every wait has a deadline; generous ones, since other test runs share the machine's two cores.
"""

from __future__ import annotations

import math
from typing import Any

from tests.support.indi_harness import Update, until
from tests.support.rig import Rig

OP_TIMEOUT_S = 60.0
REPLY_TIMEOUT_S = 20.0
SIDEREAL_ARCSEC_S = 15.041


def sets(rig: Rig, name: str, since: int) -> list[Update]:
    """The mount's set* updates of `name` from `since`."""
    return [u for u in rig.client.updates(rig.mount, name, since=since) if u.event == "set"]


def wait_set(rig: Rig, name: str, since: int, pred: Any = None, timeout_s: float = REPLY_TIMEOUT_S) -> Update:
    """The first set* of `name` from `since` satisfying `pred` (default: any)."""
    return rig.client.wait(lambda u: u.device == rig.mount and u.name == name and u.event == "set"
                           and (pred is None or pred(u)), timeout_s=timeout_s, since=since)


def wait_end(rig: Rig, name: str, since: int, timeout_s: float = OP_TIMEOUT_S) -> Update:
    """After a Busy update of `name` (from `since`), the first update that is not Busy."""
    busy = wait_set(rig, name, since, lambda u: u.state == "Busy", timeout_s)
    after = rig.client.updates(since=since).index(busy) + since + 1
    return wait_set(rig, name, after, lambda u: u.state != "Busy", timeout_s)


def switch(rig: Rig, name: str, member: str) -> Update:
    """Send switch `name` with `member` On and wait for the driver's answer."""
    since = rig.client.mark()
    rig.client.send_switch(rig.mount, name, [member])
    return wait_set(rig, name, since)


CONNECTED_VECTORS = ("EQUATORIAL_EOD_COORD", "TELESCOPE_PARK", "GEOGRAPHIC_COORD", "TELESCOPE_MOUNT_TYPE",
                     "TELESCOPE_TIMED_GUIDE_NS", "TELESCOPE_TIMED_GUIDE_WE", "GUIDE_RATE",
                     "SEESTAR_MOTION_LATENCY")


def connect_mount(rig: Rig) -> None:
    """CONNECT the mount and wait until its connected-only vectors are defined."""
    rig.client.connect_device(rig.mount, timeout_s=30)
    until(lambda: all(rig.client.updates(rig.mount, n, event="def") for n in CONNECTED_VECTORS), 10,
          what="the mount's vectors")


def latest(rig: Rig, name: str) -> Update:
    """The last update of the mount's `name`."""
    return rig.client.updates(rig.mount, name)[-1]


def radec_of_altaz(rig: Rig, alt_deg: float, az_deg: float) -> tuple[float, float]:
    """The fake's (RA h, Dec deg) of a horizontal position now (its frame is what it reports)."""
    return rig.fake_call(rig.fake.state.mount.radec_of_altaz, alt_deg, az_deg)


def true_radec(rig: Rig) -> tuple[float, float]:
    """The fake's true pointing now."""
    return rig.fake_call(rig.fake.state.mount.radec)


def reported_radec(rig: Rig) -> tuple[float, float]:
    """What the fake reports as its pointing now."""
    return rig.fake_call(rig.fake.state.mount.reported_radec)


def move_type(rig: Rig) -> str:
    """The fake mount's move_type now ("none" when still)."""
    return str(rig.fake_call(rig.fake.state.mount.move_type))


def mount_state(rig: Rig) -> Any:
    """The fake mount's MountState now."""
    return rig.fake_call(rig.fake.state.mount.state)


def sky_offset_arcsec(before: tuple[float, float], after: tuple[float, float]) -> tuple[float, float]:
    """(east, north) offset on the sky from `before` to `after` (RA h, Dec deg), arcsec."""
    d_ra_h = (after[0] - before[0] + 12.0) % 24.0 - 12.0
    mid_dec = math.radians((after[1] + before[1]) / 2.0)
    return d_ra_h * 15.0 * 3600.0 * math.cos(mid_dec), (after[1] - before[1]) * 3600.0


def separation_deg(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Angle between two (RA h, Dec deg) places."""
    ra1, d1, ra2, d2 = math.radians(a[0] * 15), math.radians(a[1]), math.radians(b[0] * 15), math.radians(b[1])
    c = math.sin(d1) * math.sin(d2) + math.cos(d1) * math.cos(d2) * math.cos(ra1 - ra2)
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def messages(rig: Rig, since: int) -> list[str]:
    """The mount's messages (message elements and set* message attributes are both recorded)."""
    return [u.message for u in rig.client.updates(rig.mount, event="message", since=since)]


def fake_now_s(rig: Rig) -> float:
    """The fake's scope clock now."""
    return float(rig.fake_call(rig.fake.clock.now_s))


def fake_manual_segments(rig: Rig, since_s: float) -> list[tuple[float, float, float, float]]:
    """Speed-move segments the fake ran from scope time `since_s`: (t0, t1, rate1, rate2) deg/s."""
    mount = rig.fake.state.mount

    def read() -> list[tuple[float, float, float, float]]:
        times, states = list(mount._times), list(mount._states)
        now = rig.fake.clock.now_s()
        out = []
        for i, st in enumerate(states):
            if st.manual is None:
                continue
            end = min(times[i + 1] if i + 1 < len(times) else now, st.manual.t_end_s)
            start = max(times[i], st.manual.t0_s, since_s)
            if end > start:
                out.append((start, end, st.manual.rate1_deg_s, st.manual.rate2_deg_s))
        return out

    return rig.fake_call(read)


def fake_stop_time_s(rig: Rig) -> float:
    """Scope time the fake mount's last speed move ended: a stop command, or its own dur_sec."""
    mount = rig.fake.state.mount

    def read() -> float:
        last = mount._states[-1]
        return last.manual.t_end_s if last.manual is not None else mount._times[-1]

    return float(rig.fake_call(read))
