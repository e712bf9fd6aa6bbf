"""Helpers of the link-loss tests (docs/outcomes.md): the fake's truth and the client's view.

Every wait has a deadline; the fake's state is read on its own loop thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.indi_harness import Update, until
from tests.support.rig import Rig

UNKNOWN_TEXT = "no answer from the Seestar; it may still carry it out"


@dataclass(frozen=True)
class Truth:
    """What the fake scope is doing."""

    parked: bool
    tracking: bool
    slewing: bool  # a goto, park/unpark or speed move under way
    ra_hours: float
    dec_deg: float
    focuser_steps: int
    focuser_moving: bool
    wheel_slot: int
    wheel_moving: bool


def truth(rig: Rig) -> Truth:
    """The fake's state now."""
    fake = rig.fake

    def read() -> Truth:
        st = fake.state
        mount = st.mount.state()
        ra, dec = st.mount.reported_radec()
        busy = any(fake.core.running(name) for name in ("park", "unpark", "slew"))
        return Truth(parked=mount.parked, tracking=mount.tracking,
                     slewing=str(st.mount.move_type()) != "none" or busy, ra_hours=ra,
                     dec_deg=dec, focuser_steps=st.focuser.position_steps(),
                     focuser_moving=st.focuser.is_moving(), wheel_slot=st.wheel.position,
                     wheel_moving=st.wheel.is_moving())

    return rig.fake_call(read)


def last(rig: Rig, device: str, name: str) -> Update:
    """The client's latest def/set of `device.name`."""
    return [u for u in rig.client.updates(device, name) if u.event in ("def", "set")][-1]


def messages_since(rig: Rig, since: int) -> list[str]:
    """Every message text the client got from `since` on (all devices)."""
    return [u.message for u in rig.client.updates(since=since) if u.message]


def wait_message(rig: Rig, text: str, since: int, timeout_s: float = 40.0) -> Update:
    """The first update from `since` whose message contains `text`."""
    return rig.client.wait(lambda u: text in (u.message or ""), timeout_s=timeout_s, since=since)


def settled(rig: Rig, timeout_s: float = 30.0) -> Truth:
    """Wait until the fake's mount, focuser and wheel stand still; their state."""
    def still() -> Truth | None:
        t = truth(rig)
        return None if t.slewing or t.focuser_moving or t.wheel_moving else t

    return until(still, timeout_s, what="the fake to stand still")


def expected_eod_state(t: Truth) -> str:
    """EQUATORIAL_EOD_COORD's state for the fake's state (mount_status.derive)."""
    if t.slewing:
        return "Busy"
    if t.parked or not t.tracking:
        return "Idle"
    return "Ok"


def wait_link_back(rig: Rig, since: int, timeout_s: float = 40.0) -> Update:
    """The mount's "reconnected to the Seestar" message from `since` on."""
    return rig.client.wait(lambda u: u.device == rig.mount and "reconnected to the Seestar"
                           in (u.message or ""), timeout_s=timeout_s, since=since)
