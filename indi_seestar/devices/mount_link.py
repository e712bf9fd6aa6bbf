"""The mount across a dropped link: what it shows once the link is back (docs/outcomes.md).

Layer: devices. When the link is back (or the scope answers again after a late reply) the
mount shows the scope's real state: pointing, parked, tracking, and TARGET_EOD_COORD Ok only
if the mount stands at the target. A slew of ours whose outcome was unknown and that the scope
is found carrying out is stopped, with a message; so is one that starts within
outcomes.GUARD_S (the scope reads a frozen link's buffered commands late). Nothing is re-sent.
"""

from __future__ import annotations

import asyncio
import logging
from ..errors import IndiSeestarError
from ..indi.model import State
from ..seestar.client import SeestarClient
from ..seestar.state import ScopeState
from .mount_ports import LinkPorts
from .mount_site import separation_arcsec
from .mount_status import Activity

log = logging.getLogger(__name__)

#: One pointing read after the reconnect.
POINTING_READ_TIMEOUT_S = 5.0
#: TARGET_EOD_COORD is Ok after a reconnect only if the mount stands this close to the target.
AT_TARGET_ARCSEC = 60.0


class LinkRecovery:
    """The mount's side of a link that came back."""

    def __init__(self, mount: LinkPorts) -> None:
        self._mount = mount
        self._stopping = False

    async def link_back(self, client: SeestarClient) -> None:
        """Show the scope's real state; stop a slew of unknown outcome still under way."""
        m = self._mount
        m.forget_scope_motion()
        unknown = "; ".join(m.pending.resolve())
        stopped = False
        if unknown and m.activity() is Activity.IDLE and client.state.slewing:
            stopped = await self._stop_now(client, unknown)
        try:
            coord = await asyncio.wait_for(client.get_equ_coord(), POINTING_READ_TIMEOUT_S)
        except (IndiSeestarError, TimeoutError) as exc:
            log.warning("pointing read after the reconnect failed: %s", exc)
        else:
            m.set_pointing(coord.ra_hours, coord.dec_deg, force=True)
        if m.activity() is not Activity.IDLE or not m.is_connected():
            return  # an operation started since the link is back: it shows its own state
        if m.target.state in (State.ALERT, State.BUSY):
            m.target.state = State.OK if self._at_target() else State.IDLE
            m.publish(m.target)
        m.show_motion_idle()
        m.refresh(keep_alerts=False)
        if unknown and not stopped:
            m.message(f"the link is back; {unknown}: {self._describe(client.state)}", "INFO")

    def stop_unconfirmed(self, client: SeestarClient, what: str) -> None:
        """A slew started that no one confirmed (see module): stop it in the background."""
        if not self._stopping:
            self._mount.spawn(self._stop_now(client, what))

    async def _stop_now(self, client: SeestarClient, what: str) -> bool:
        """Stop a motion the user was not told would happen, and say so; True once stopped."""
        m = self._mount
        self._stopping = True
        m.pending.end_guard()  # found and stopped: later ScopeGoto events are not it
        try:
            await asyncio.gather(m.stop_motion(client, "link back", always=True),
                                 client.abort_goto())
            await client.refresh()
        except IndiSeestarError as exc:
            m.message(f"{what}: the Seestar is carrying it out and could not be stopped: {exc}",
                      "ERROR")
            return False
        finally:
            self._stopping = False
        m.forget_scope_motion()
        m.message(f"{what}: the Seestar was carrying it out although its outcome was not "
                  f"confirmed; stopped it ({self._describe(client.state)})", "WARNING")
        m.refresh(keep_alerts=False)
        return True

    def _at_target(self) -> bool:
        m = self._mount
        p = m.pointing()
        return p is not None and separation_arcsec(
            p.ra_hours, p.dec_deg, float(m.target["RA"]), float(m.target["DEC"])) < AT_TARGET_ARCSEC

    def _describe(self, state: ScopeState) -> str:
        if state.parked:
            return "the mount is parked"
        p = self._mount.pointing()
        where = "" if p is None else f" at RA {p.ra_hours:.4f} h, Dec {p.dec_deg:+.4f} deg"
        return f"the mount is{where}, tracking {'on' if state.tracking else 'off'}"
