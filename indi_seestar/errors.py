"""The single exception tree of indi_seestar (every layer may import it; it imports nothing of ours).

    IndiSeestarError
     ├── ConfigError(path, key, reason)
     ├── ProtocolError
     │    ├── LocalProtocolError          we were asked to encode something invalid
     │    └── RemoteProtocolError         the peer sent bytes we cannot decode
     │         ├── LineTooLong(limit)          control line over the buffer bound
     │         ├── FrameTooLarge(size, limit)  4800 frame header announces an absurd size
     │         └── BadFrame(reason)            4800 header/payload inconsistent
     ├── SeestarError
     │    ├── ConnectFailed(host, port, reason)   no TCP session could be opened
     │    ├── ConnectionLost(reason)              an open session dropped; pending requests fail with it
     │    ├── RequestTimeout(method, timeout_s)   also a TimeoutError
     │    ├── LoginRequired(firmware, config_key) firmware 7.32+ and no key configured
     │    ├── NotMaster(reason)                   another client (the phone app) controls the scope
     │    ├── ScopeHeld(address, holder)          another indi_seestar drives this Seestar
     │    ├── OperationFailed(operation, reason)  a long operation ended in fail/cancel or never ended
     │    └── CommandFailed(method, code, message)   the firmware answered with a non-zero code
     │         └── AuthenticationFailed
     └── ValueRejected(prop, reason)   an INDI client sent a value we refuse (range, type, state)

The INDI edge catches IndiSeestarError only and turns it into Alert plus a message built
from the exception's fields; anything else is a bug and propagates.
"""

from __future__ import annotations


class IndiSeestarError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(IndiSeestarError):
    """The configuration file or a configured value is unusable."""

    def __init__(self, reason: str, *, path: str | None = None, key: str | None = None) -> None:
        self.reason, self.path, self.key = reason, path, key
        where = ":".join(x for x in (path, key) if x)
        super().__init__(f"{where}: {reason}" if where else reason)


class ProtocolError(IndiSeestarError):
    """Bytes on a wire do not follow the protocol."""


class LocalProtocolError(ProtocolError):
    """We were asked to encode or send something the protocol cannot carry."""


class RemoteProtocolError(ProtocolError):
    """The peer sent bytes we cannot decode."""


class LineTooLong(RemoteProtocolError):
    """A control-channel line exceeded the decoder's buffer bound."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"control line longer than {limit} bytes")


class FrameTooLarge(RemoteProtocolError):
    """An image-channel header announced a payload larger than we accept."""

    def __init__(self, size: int, limit: int) -> None:
        self.size, self.limit = size, limit
        super().__init__(f"frame payload of {size} bytes exceeds the {limit}-byte limit")


class BadFrame(RemoteProtocolError):
    """An image-channel header or payload is inconsistent."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class SeestarError(IndiSeestarError):
    """Talking to the Seestar failed."""


class ConnectFailed(SeestarError):
    """No TCP session could be opened to the Seestar."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        self.host, self.port, self.reason = host, port, reason
        super().__init__(f"cannot reach the Seestar at {host}:{port}: {reason}")


class ConnectionLost(SeestarError):
    """An open Seestar session dropped; `may_have_run` is False only when the command was
    never written (its outcome is then known: it did not run)."""

    def __init__(self, reason: str = "connection lost", *, may_have_run: bool = True) -> None:
        self.reason = reason
        self.may_have_run = may_have_run
        super().__init__(reason)


class RequestTimeout(SeestarError, TimeoutError):
    """The Seestar did not answer a request within its named timeout."""

    def __init__(self, method: str, timeout_s: float) -> None:
        self.method, self.timeout_s = method, timeout_s
        super().__init__(f"{method}: no answer from the Seestar within {timeout_s:g} s")


class LoginRequired(SeestarError):
    """The firmware needs the user's login key and none is configured."""

    def __init__(self, firmware: str, config_key: str = "seestar.key_file") -> None:
        self.firmware, self.config_key = firmware, config_key
        super().__init__(
            f"this firmware ({firmware}) requires a login key; set {config_key} "
            "in the configuration to the path of your PEM key"
        )


class NotMaster(SeestarError):
    """Another client controls the scope; we are only a guest."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class ScopeHeld(SeestarError):
    """Another indi_seestar process holds this Seestar's session lock (one scope, one session)."""

    def __init__(self, address: str, holder: str) -> None:
        self.address, self.holder = address, holder
        super().__init__(
            f"the Seestar at {address} is already driven by {holder}. One Seestar takes one "
            "session: disconnect those devices or stop that driver (or its indiserver), then "
            "connect again; to drive another Seestar here, change DEVICE_ADDRESS"
        )


class OperationFailed(SeestarError):
    """A long operation (goto, focus, exposure...) failed, was cancelled or never ended."""

    def __init__(self, operation: str, reason: str, code: int | None = None) -> None:
        self.operation, self.reason, self.code = operation, reason, code
        suffix = f" (code {code})" if code is not None else ""
        super().__init__(f"{operation} failed{suffix}: {reason}")


class CommandFailed(SeestarError):
    """The firmware answered a request with a non-zero code."""

    def __init__(self, method: str, code: int, message: str) -> None:
        self.method, self.code, self.message = method, code, message
        super().__init__(f"{method} failed (code {code}): {message}")


class AuthenticationFailed(CommandFailed):
    """The firmware refused our login signature."""


class ValueRejected(IndiSeestarError):
    """An INDI client sent a value the driver refuses; nothing was changed."""

    def __init__(self, prop: str, reason: str) -> None:
        self.prop, self.reason = prop, reason
        super().__init__(f"{prop}: {reason}")
