"""Control channel (TCP 4700) of the fake Seestar: connections, firmware admission rules, dispatch.

Layer: sim. One reader task per connection; requests are decoded with `protocol.rpc`, admitted
by the firmware profile's rules (verify marker §2.7, login §6), dispatched on `Method` members
to the handler table, and answered in the firmware's envelope. Events reach every connection.

Admission, in order (fw = firmware_ver_int):
1. get_verify_str / verify_client / pi_is_verified are always admitted, marker or not.
2. fw >= 2732 and this connection has not logged in: no reply, ever (events keep flowing).
3. fw > 2582: params absent, an array or a scalar *without* the marker: no reply, ever.
   Object params need no marker.
4. A `verify` key inside an object: set_setting answers 109 "unexpected param" (210 "not
   supported" when it carries master_cli), as recorded on 6.70 and 7.06; others accept it.
5. `[object, "verify"]` for a method that wants an object: 107 on fw >= 2706 (recorded on
   7.06); older firmware unwraps it [unverified].
6. fw >= 2775 (7.75, 8.46): an array nested in the params (`[[ra, dec], "verify"]`,
   `[[{...}], "verify"]`) answers 107 for object methods, 108 "expected float param" for
   the others (seestar_alp #748, #758, PR #767); older firmware unwraps it. scope_goto /
   scope_sync take `{"ra", "dec"}` on fw >= 2775; older firmware answers 108 [unverified].
7. Unknown method (or an image-port method, or one newer than the firmware): 103.
8. fw >= 2775 before login: pi_is_verified gets no reply either (docs/firmware.md fact 2).

Timing (docs/firmware.md facts 2, 3): on fw >= 2775 get_verify_str is answered ~10 scope
seconds late while a View runs (a scope busy imaging), and a connection that sends nothing
for `idle_drop_s` scope seconds (16 on fw >= 2775, None = never) is closed.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..protocol.codes import ErrorCode
from ..protocol.methods import Method
from ..protocol.rpc import NO_PARAMS, VERIFY, Malformed, Reply, Request, RpcDecoder, encode_reply, strip_verify
from .core import SimCommandError, SimCore
from .listener import Listener
from .scenarios import LinkGate
from .state import ClientInfo

_log = logging.getLogger(__name__)

#: A control connection is dropped when this much output is queued (a client that stopped reading).
MAX_WRITE_BUFFER_BYTES = 8 * 1024 * 1024
MAX_CONTROL_CLIENTS = 16
AUTH_METHODS = frozenset({Method.GET_VERIFY_STR, Method.VERIFY_CLIENT, Method.PI_IS_VERIFIED})
OBJECT_METHODS = frozenset({
    Method.SET_SETTING, Method.ISCOPE_START_VIEW, Method.ISCOPE_STOP_VIEW, Method.ISCOPE_START_STACK,
    Method.MOVE_FOCUSER, Method.SCOPE_SPEED_MOVE, Method.SET_USER_LOCATION, Method.PI_OUTPUT_SET2,
    Method.VERIFY_CLIENT, Method.SET_SEQUENCE_SETTING, Method.SCOPE_PARK, Method.PLAY_SOUND,
    Method.GET_DEVICE_STATE, Method.PI_SET_TIME,
})
#: Methods whose params are floats: a nested array answers 108 on fw >= 2775 (#758, #767).
COORD_METHODS = frozenset({Method.SCOPE_GOTO, Method.SCOPE_SYNC})
#: Handlers may return this to send no reply at all.
NO_REPLY = object()


@dataclass
class Call:
    """One admitted request as a handler sees it."""

    method: Method
    params: Any
    client: ClientInfo
    connection: ControlConnection
    raw_params: Any = NO_PARAMS


Handler = Callable[[Call], Any]


@dataclass
class ControlConnection:
    """One TCP client of port 4700."""

    info: ClientInfo
    writer: asyncio.StreamWriter
    challenge: str | None = None
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    gate: LinkGate | None = None
    held: list[bytes] = field(default_factory=list)

    def send(self, line: bytes) -> None:
        """Queue one line (held while the link is frozen); drop the connection if the client
        stopped reading."""
        transport = self.writer.transport
        if transport.is_closing():
            return
        if self.gate is not None and self.gate.frozen:
            if not self.held:
                self.gate.on_thaw(self._flush_held)
            self.held.append(line)
            return
        if transport.get_write_buffer_size() > MAX_WRITE_BUFFER_BYTES:
            _log.warning("control client %s is not reading; dropping it", self.info.name)
            transport.abort()
            return
        self.writer.write(line)

    def close(self) -> None:
        """Close the socket now."""
        self.writer.transport.abort()

    def _flush_held(self) -> None:
        held, self.held = self.held, []
        for line in held:
            self.send(line)


class ControlServer(Listener):
    """The 4700 listener."""

    max_clients = MAX_CONTROL_CLIENTS

    def __init__(self, core: SimCore, handlers: dict[Method, Handler], verify_key: Any = None) -> None:
        super().__init__()
        self._core = core
        self._handlers = handlers
        self.verify_key = verify_key
        #: Called with the params of a set_setting refused for its verify key (see _admit).
        self.on_refused_setting: Callable[[dict[str, Any]], None] | None = None
        self.connections: dict[int, ControlConnection] = {}
        self._next_index = 0
        #: Scope seconds of silence after which a control connection is closed (None = never).
        self.idle_drop_s: float | None = core.state.profile.idle_drop_s
        #: The raw params of the last request per method name, as they came (for tests).
        self.last_params: dict[str, Any] = {}

    def _close_connection(self, conn: ControlConnection) -> None:
        conn.close()

    def drop_all(self) -> int:
        """Close every connection (fault knob)."""
        conns = list(self.connections.values())
        for conn in conns:
            conn.close()
        return len(conns)

    def broadcast_raw(self, data: bytes) -> int:
        """Write raw bytes to every connection (fault knob)."""
        for conn in self.connections.values():
            conn.send(data)
        return len(self.connections)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        core = self._core
        if not await self._accept(core, "control", writer):
            return
        gate = core.faults.gate
        index = self._next_index
        self._next_index += 1
        info = ClientInfo(index=index, name=f"client{index}", verified=not core.state.profile.login_required)
        conn = ControlConnection(info, writer, gate=gate)
        self.connections[index] = conn
        core.state.clients[index] = info
        core.bus.subscribe(index, conn.send)
        decoder = RpcDecoder()
        try:
            while True:
                data = await self._read_or_idle(reader, conn)
                await gate.wait_open()  # frozen: what arrived waits, the end of the stream too
                if not data:
                    break
                for msg in decoder.feed(data):
                    if isinstance(msg, Request):
                        self._handle(conn, msg)
                    elif isinstance(msg, Malformed):
                        core.faults.counters.garbage_lines += 1
        except (ConnectionError, OSError):
            pass
        finally:
            core.bus.unsubscribe(index)
            self.connections.pop(index, None)
            core.state.clients.pop(index, None)
            for task in conn.tasks:
                task.cancel()
            writer.transport.abort()

    async def _read_or_idle(self, reader: asyncio.StreamReader, conn: ControlConnection) -> bytes:
        """The next bytes, or b"" when the client stayed silent for `idle_drop_s` scope seconds."""
        idle_s = self.idle_drop_s
        if idle_s is None:
            return await reader.read(65536)
        try:
            return await asyncio.wait_for(reader.read(65536), self._core.clock.real_s(idle_s))
        except TimeoutError:
            self._core.faults.counters.idle_drops += 1
            _log.info("control client %s silent for %g s: dropped (fw %s)", conn.info.name, idle_s,
                      self._core.state.profile.firmware)
            return b""

    # --- one request -----------------------------------------------------------------------

    def _admit(self, conn: ControlConnection, req: Request) -> tuple[Method | None, Any, SimCommandError | None] | None:
        """(method, params, error) or None for silence; method None means 103."""
        profile = self._core.state.profile
        raw = req.params
        try:
            method: Method | None = Method(req.method)
        except ValueError:
            method = None
        if raw == VERIFY:  # `"params": "verify"` (PRX heartbeat form) carries the marker too
            params, marked = NO_PARAMS, True
        else:
            params, marked = strip_verify(raw)
        if method in AUTH_METHODS:
            if (method is Method.PI_IS_VERIFIED and profile.withholds_verify_probe
                    and not conn.info.verified):
                return None
            return method, params, None
        if profile.login_required and not conn.info.verified:
            return None
        if profile.needs_marker and not marked and not isinstance(raw, dict):
            return None
        if method is None or method not in self._handlers or not profile.has_method(method):
            return None, params, None
        if isinstance(raw, dict) and VERIFY in raw and method is Method.SET_SETTING:
            code = ErrorCode.NOT_SUPPORTED if "master_cli" in raw else ErrorCode.UNEXPECTED_PARAM
            if self.on_refused_setting is not None:
                self.on_refused_setting(params)
            return method, params, SimCommandError.of(code)
        if isinstance(params, list) and len(params) == 1 and isinstance(params[0], (list, dict)):
            if profile.refuses_nested_arrays and isinstance(params[0], list):
                code = (ErrorCode.EXPECTED_OBJECT_PARAM if method in OBJECT_METHODS
                        else ErrorCode.EXPECTED_FLOAT_PARAM)
                return method, params, SimCommandError.of(code)
            if isinstance(params[0], list):  # older firmware unwraps [[...], "verify"]
                params = params[0]
        if method in OBJECT_METHODS and isinstance(params, list):
            if profile.refuses_wrapped_object:
                return method, params, SimCommandError.of(ErrorCode.EXPECTED_OBJECT_PARAM)
            if len(params) == 1 and isinstance(params[0], dict):
                params = params[0]
        if method in COORD_METHODS and isinstance(params, dict):
            if not profile.keyed_coords:
                return method, params, SimCommandError.of(ErrorCode.EXPECTED_FLOAT_PARAM)
            try:
                params = [float(params["ra"]), float(params["dec"])]
            except (KeyError, TypeError, ValueError):
                return method, params, SimCommandError.of(ErrorCode.EXPECTED_FLOAT_PARAM)
        return method, params, None

    def _handle(self, conn: ControlConnection, req: Request) -> None:
        core = self._core
        if core.trace is not None:
            core.trace.record("request", method=req.method, id=req.id)
        core.faults.counters.requests[req.method] += 1
        self.last_params[req.method] = req.params
        admitted = self._admit(conn, req)
        if admitted is None:
            core.faults.counters.ignored_requests += 1
            return
        method, params, error = admitted
        result: Any = 0
        if method is None:
            error = SimCommandError.of(ErrorCode.METHOD_NOT_FOUND)
        elif error is None:
            failure = core.faults.take_failure(method)
            if failure is not None:
                error = SimCommandError(failure.code, failure.text)
            else:
                try:
                    result = self._handlers[method](Call(method, params, conn.info, conn, req.params))
                except SimCommandError as exc:
                    error = exc
                except (TypeError, ValueError, KeyError, IndexError) as exc:
                    _log.info("bad params for %s: %r (%s)", req.method, req.params, exc)
                    error = SimCommandError.of(ErrorCode.UNEXPECTED_PARAM)
        if result is NO_REPLY:
            return
        lose, delay_s = core.faults.take_reply_fate(method) if method is not None else (False, 0.0)
        if lose:
            return
        stall_s = core.state.profile.busy_login_stall_s
        if method is Method.GET_VERIFY_STR and stall_s and error is None and core.state.view.active:
            delay_s = max(delay_s, core.clock.real_s(stall_s))  # a scope busy imaging (#753)
        reply = Reply(id=req.id, method=req.method, code=error.code if error else 0,
                      result=None if error else result, error=error.text if error else None,
                      timestamp=core.clock.timestamp())
        line = encode_reply(reply)
        if delay_s > 0:
            task = asyncio.get_running_loop().create_task(self._send_later(conn, line, delay_s))
            conn.tasks.add(task)
            task.add_done_callback(conn.tasks.discard)
        else:
            conn.send(line)

    @staticmethod
    async def _send_later(conn: ControlConnection, line: bytes, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        conn.send(line)

    def new_challenge(self, conn: ControlConnection) -> str:
        """A fresh login challenge for this connection."""
        conn.challenge = secrets.token_urlsafe(24)
        return conn.challenge
