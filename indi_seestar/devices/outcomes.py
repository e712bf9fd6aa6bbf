"""Unknown outcomes: a command written to the Seestar whose answer never came (docs/outcomes.md).

Layer: devices. A reply that never arrives (the link froze or dropped after the command was
written, or the reply timed out) does not mean the command failed: the scope may still carry
it out. Devices say so instead of "failed", remember what was sent (`Pending`), and once the
link is back they show the scope's real state and stop a motion they could not vouch for.
Nothing is ever sent again on the user's behalf.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..errors import ConnectionLost

#: What the user is told about such a command.
NO_ANSWER = "no answer from the Seestar; it may still carry it out"
#: How a dropped link is named in messages (the engine's frame waits use it too).
LINK_LOST = "lost the link to the Seestar"
#: After the link is back, a motion of ours that starts this long (real s) later is still
#: taken for a command sent before the drop (the scope reads the old connection's buffered
#: commands after a freeze, possibly after our first state read) and is stopped too.
GUARD_S = 10.0


def outcome_unknown(exc: BaseException) -> bool:
    """True when `exc` leaves a written command's outcome unknown (no reply, or a drop after it)."""
    if isinstance(exc, TimeoutError):  # RequestTimeout, or a bound of ours on the reply
        return True
    return isinstance(exc, ConnectionLost) and exc.may_have_run


def link_named(exc: BaseException) -> str:
    """`exc` as text, naming the lost link when it is one (whatever step it interrupted)."""
    if isinstance(exc, ConnectionLost) and exc.may_have_run and LINK_LOST not in exc.reason:
        return f"{LINK_LOST} ({exc.reason})"
    return str(exc)


def unknown_message(what: str) -> str:
    """The INDI message for a command whose outcome is unknown."""
    return f"[WARNING] {what}: {NO_ANSWER}; its real state is shown once the link is back"


@dataclass
class Pending:
    """The commands of one device whose outcome is unknown, until the link is back."""

    what: list[str] = field(default_factory=list)
    _guard_until: float = 0.0

    def add(self, what: str) -> None:
        """Remember `what` (a short description such as "goto to RA 5.5 h, Dec +22")."""
        self.what.append(what)

    def __bool__(self) -> bool:
        return bool(self.what)

    def describe(self) -> str:
        """The commands, joined for a message."""
        return "; ".join(self.what)

    def resolve(self, *, clock: float | None = None) -> list[str]:
        """Link back: hand the commands over and guard for GUARD_S against late starts."""
        what, self.what = self.what, []
        if what:
            self._guard_until = (time.monotonic() if clock is None else clock) + GUARD_S
        return what

    def guarding(self) -> bool:
        """True within GUARD_S of a resolve() that had commands."""
        return time.monotonic() < self._guard_until

    def end_guard(self) -> None:
        """A new command of the user's: motions from now on are announced ones."""
        self._guard_until = 0.0
