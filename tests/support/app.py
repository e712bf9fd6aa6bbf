"""A second control client on the fake Seestar, standing in for the phone app.

Speaks the real wire (JSON lines on TCP 4700 of 127.0.0.1) with the protocol package's
encoder and decoder; blocking, for test threads. Example:

    with AppConnection(fake.control_port) as app:
        app.call(builders_session.claim_master("phoneapp"))  # the app takes control
        app.call(builders_session.set_setting(stack_lenhance=True))  # the scope moves its wheel itself
"""

from __future__ import annotations

import itertools
import socket
import time
from typing import Self

from indi_seestar.protocol.methods import Call
from indi_seestar.protocol.rpc import Reply, Request, RpcDecoder, VerifyPolicy, encode_request

LOOPBACK = "127.0.0.1"


class AppConnection:
    """One blocking control connection; `call()` returns the reply with the request's id."""

    def __init__(self, control_port: int, *, timeout_s: float = 10.0) -> None:
        self._sock = socket.create_connection((LOOPBACK, control_port), timeout=timeout_s)
        self._timeout_s = timeout_s
        self._decoder = RpcDecoder()
        self._ids = itertools.count(7000)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, call: Call, policy: VerifyPolicy = VerifyPolicy.MARKER) -> Reply:
        """Send `call`, return its reply (AssertionError if none within the timeout)."""
        request_id = next(self._ids)
        self._sock.sendall(encode_request(Request(request_id, call.method, call.params), policy))
        deadline = time.monotonic() + self._timeout_s
        while time.monotonic() < deadline:
            for message in self._decoder.feed(self._sock.recv(65536)):
                if isinstance(message, Reply) and message.id == request_id:
                    return message
        raise AssertionError(f"no reply to {call.method} within {self._timeout_s:g} s")

    def close(self) -> None:
        """Close the socket (the fake sees the client go)."""
        self._sock.close()
