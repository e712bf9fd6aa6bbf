"""B2, the control path: client command -> request line at the fake; fake event -> set* at the client.

The fake runs as its own process with `--trace` (sim/trace.py stamps each request line it
decodes on 4700 and each event it writes, with CLOCK_MONOTONIC, the clock the client stamps
with too). Through indiserver and a pyindi-client client on 127.0.0.1:

* focuser command: ABS_FOCUS_POSITION sent (time just before sendNewNumber) -> the fake decodes
  the `move_focuser` request line;
* goto command: ON_COORD_SET TRACK, then EQUATORIAL_EOD_COORD (0.1 h east or west of where the
  mount points) sent -> the fake decodes the goto request (`scope_goto`, or `iscope_start_view`
  with a target); the next goto waits for the end of the slew;
* event: the fake writes FocuserMove `complete` -> the client sees ABS_FOCUS_POSITION Ok.

Moves alternate between two focuser positions; the fake runs with a time factor so that each
move ends quickly. `median_ms` / `p95_ms` are over all the samples of the three kinds together;
each kind is also reported alone. Two client transports, one driver: "unix" (indiserver's unix
socket; the headline) and "tcp" (127.0.0.1). `indiserver_ping_ms` is a client pingRequest
answered by indiserver itself, no driver involved: the client<->indiserver leg alone. Over TCP
it is ~40 ms (libindi's client and indiserver 1.9.9 write small messages in pieces and the
peer's delayed ACK holds the rest), which every INDI driver pays alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .client import bench_client_class
from .procs import DRIVER, FOCUSER, MOUNT, SimProcess, Stage
from .rig import defines
from .stats import summary

MS = 1000.0
TIME_FACTOR = 50.0
GOTO_METHODS = frozenset({"scope_goto", "iscope_start_view"})


def _first(records: list[dict[str, Any]], after: float, pred: Callable[[dict[str, Any]], bool]
           ) -> dict[str, Any] | None:
    return next((r for r in records if r["t"] >= after and pred(r)), None)


def run(*, samples: int, transports: tuple[str, ...] = ("unix", "tcp"),
        log: Callable[[str], None] = print) -> dict[str, Any]:
    """The B2 section of results.json: the first transport is the headline."""
    out: dict[str, Any] = {}
    with Stage.make() as stage:
        trace = stage.root / "trace.jsonl"
        with SimProcess(time_factor=TIME_FACTOR, trace=trace) as sim:
            server = stage.server(stage.env(stage.driver_config(sim)))
            server.start([DRIVER])
            try:
                for i, transport in enumerate(transports):
                    host = (f"localhost:{server.workdir / 'indiserver.sock'}"
                            if transport == "unix" else "127.0.0.1")
                    with bench_client_class().connect_to(server.port, host=host) as client:
                        section = _measure(client, sim, samples)
                    section["client_transport"] = transport
                    log(f"B2 {transport}: median {section['median_ms']} ms, "
                        f"p95 {section['p95_ms']} ms, focuser {section['focuser_command_ms']}, "
                        f"event {section['event_to_set_ms']}, goto {section['goto_command_ms']}, "
                        f"indiserver ping {section['indiserver_ping_ms']}")
                    if i == 0:
                        out.update(section)
                    else:
                        out[transport] = section
            finally:
                server.stop()
    out["method"] = (__doc__ or "").split("\n\n")[0].strip()
    return out


def _measure(client: Any, sim: SimProcess, samples: int) -> dict[str, Any]:
    focus_cmd: list[float] = []
    events: list[float] = []
    goto_cmd: list[float] = []
    notes: list[str] = []
    client.connect_device_and_wait(FOCUSER, timeout_s=60)
    client.wait_seen(FOCUSER, "ABS_FOCUS_POSITION")
    positions = (1400.0, 1480.0)
    for i in range(samples + 1):
        since = client.mark()
        t_send = client.send_number(FOCUSER, "ABS_FOCUS_POSITION",
                                    {"FOCUS_ABSOLUTE_POSITION": positions[i % 2]})
        ok = client.wait_seen(FOCUSER, "ABS_FOCUS_POSITION", event="set", state="Ok",
                              since=since, timeout_s=30)
        if i == 0:
            continue  # warm-up
        records = sim.trace_records()
        req = _first(records, t_send, lambda r: r["kind"] == "request"
                     and r["method"] == "move_focuser")
        done = _first(records, t_send, lambda r: r["kind"] == "event"
                      and r["name"] == "FocuserMove" and r["state"] == "complete")
        if req is not None:
            focus_cmd.append(req["t"] - t_send)
        if done is not None and done["t"] <= ok.t:
            events.append(ok.t - done["t"])
    client.connect_device_and_wait(MOUNT, timeout_s=60)
    if defines(client, MOUNT, "EQUATORIAL_EOD_COORD"):
        goto_cmd = _gotos(client, sim, samples)
    else:
        notes.append("the mount defines no EQUATORIAL_EOD_COORD yet: goto not measured")
    pings = [client.ping(f"b2-{i}") for i in range(samples)]
    everything = summary(focus_cmd + events + goto_cmd, MS)
    return {
        "median_ms": everything["median"],
        "p95_ms": everything["p95"],
        "n": everything["n"],
        "focuser_command_ms": summary(focus_cmd, MS),
        "goto_command_ms": summary(goto_cmd, MS),
        "event_to_set_ms": summary(events, MS),
        "indiserver_ping_ms": summary(pings, MS),
        "notes": notes,
    }


def _gotos(client: Any, sim: SimProcess, samples: int) -> list[float]:
    """Goto commands to the request line; alternating targets near the meridian."""
    out = []
    here = client.wait_seen(MOUNT, "EQUATORIAL_EOD_COORD").numbers
    latest = [s for s in client.seen if s.device == MOUNT and s.name == "EQUATORIAL_EOD_COORD"]
    here = latest[-1].numbers if latest else here
    ra, dec = here.get("RA", 6.0), here.get("DEC", 10.0)
    targets = (((ra + 0.1) % 24, dec), ((ra - 0.1) % 24, dec))  # near where it points: up
    if client.has(MOUNT, "ON_COORD_SET"):
        since = client.mark()
        client.send_switch(MOUNT, "ON_COORD_SET", {"TRACK"})
        client.wait_seen(MOUNT, "ON_COORD_SET", event="set", since=since)
    for i in range(samples + 1):
        since = client.mark()
        ra, dec = targets[i % 2]
        t_send = client.send_number(MOUNT, "EQUATORIAL_EOD_COORD", {"RA": ra, "DEC": dec})
        client.wait_for(lambda s=since: any(  # the slew is over (Ok = tracking)
            x.device == MOUNT and x.name == "EQUATORIAL_EOD_COORD" and x.event == "set"
            and x.state != "Busy" and x.t > t_send for x in client.seen[s:]), 60, "the slew's end")
        records = sim.trace_records()
        req = _first(records, t_send, lambda r: r["kind"] == "request"
                     and r["method"] in GOTO_METHODS)
        if i and req is not None:
            out.append(req["t"] - t_send)

    return out
