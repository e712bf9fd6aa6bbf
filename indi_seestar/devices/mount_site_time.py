"""The mount's GEOGRAPHIC_COORD and TIME_UTC: the site shown and set, and the scope's clock.

Layer: devices. A helper of the Mount (devices/telescope.py), given the device's `add`, a
getter for the open client, its publish/message calls and a callback run after a site change
(the scope may re-derive its RA/Dec); it never sees the Mount itself. The pure site and time
arithmetic lives in mount_site.py.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import IndiSeestarError
from ..indi import standard as std
from ..indi.model import State
from ..seestar.client import SeestarClient
from .mount_site import Site, format_offset, format_utc, local_offset_hours, parse_offset_hours, parse_utc


class SiteAndTime:
    """GEOGRAPHIC_COORD (saved) and TIME_UTC of the mount device named `name`."""

    def __init__(self, name: str, add: Any, *, client: Callable[[], SeestarClient],
                 publish: Callable[..., None], message: Callable[..., None],
                 log: logging.Logger, after_site_change: Callable[[], Awaitable[None]]) -> None:
        """`add` is the device's `add`; `after_site_change()` runs once a new site is shown."""
        self._client = client
        self._publish = publish
        self._message = message
        self._log = log
        self._after_site_change = after_site_change
        self.geo = add(std.geographic_coord(name), connected_only=True, on_new=self._on_geo,
                       saved=True)
        self.time_utc = add(std.time_utc(name), connected_only=True, on_new=self._on_time)
        self.geo_saved = False  # set from the device's load_saved(self.geo)
        #: The site in GEOGRAPHIC_COORD, once known (from the scope or a client).
        self.site: Site | None = None

    def _show_site(self, site: Site | None) -> None:
        """Show the scope's location; without one keep the saved GEOGRAPHIC_COORD (Idle)."""
        if site is not None:
            elevation = float(self.geo["ELEV"]) if self.geo_saved else 0.0
            self.site = Site(site.lat_deg, site.lon_east_deg, elevation)
            self.geo.update({"LAT": site.lat_deg, "LONG": site.lon_east_deg, "ELEV": elevation})
            self.geo.state = State.OK
        elif self.geo_saved:
            self.site = Site(float(self.geo["LAT"]), float(self.geo["LONG"]), float(self.geo["ELEV"]))
            self.geo.state = State.IDLE

    async def site_at_connect(self, client: SeestarClient, scope_site: Site | None) -> None:
        """The scope's own site; a scope without one gets the saved GEOGRAPHIC_COORD, as the app
        gives it the phone's location (reply checked: a refusal leaves the site Idle)."""
        if scope_site is None and self.geo_saved:
            lat, lon = float(self.geo["LAT"]), float(self.geo["LONG"])
            try:
                await client.set_location(lat, lon)
            except IndiSeestarError as exc:
                self._log.warning("setting the saved site on the scope failed: %s", exc)
            else:
                scope_site = Site(lat, lon % 360.0)
        self._show_site(scope_site)

    def show_clock_at_connect(self, client: SeestarClient) -> None:
        """TIME_UTC as the engine set the scope's clock at connect (seestar/clock_sync.py)."""
        self.time_utc.update({"UTC": format_utc(client.scope_utc()),
                              "OFFSET": format_offset(local_offset_hours())})
        self.time_utc.state = State.ALERT if client.clock_error else State.OK
        if client.clock_error:
            self._message(f"the scope's clock was not set ({client.clock_error}): it may not "
                          "slew until a client sets TIME_UTC", level="WARNING")

    async def _on_geo(self, values: dict[str, float]) -> None:
        lat = values.get("LAT", float(self.geo["LAT"]))
        lon = values.get("LONG", float(self.geo["LONG"])) % 360.0
        elevation = values.get("ELEV", float(self.geo["ELEV"]))
        await self._client().set_location(lat, lon)
        self.site = Site(lat, lon, elevation)
        self.geo.update({"LAT": lat, "LONG": lon, "ELEV": elevation})
        self._publish(self.geo, state=State.OK)
        await self._after_site_change()

    async def _on_time(self, values: dict[str, str]) -> None:
        utc = parse_utc(values.get("UTC", str(self.time_utc["UTC"])))
        offset = parse_offset_hours(values.get("OFFSET", str(self.time_utc["OFFSET"])))
        await self._client().set_time(utc)
        self.time_utc.update({"UTC": format_utc(utc), "OFFSET": format_offset(offset)})
        self._publish(self.time_utc, state=State.OK)

