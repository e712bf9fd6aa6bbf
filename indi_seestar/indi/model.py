"""INDI property model: states, permissions, rules, members and vectors (layer indi/).

Pure data: no I/O, no asyncio, no XML. Must not import protocol/, seestar/, devices/ or sim/.
A vector keeps its members in definition order (clients address some properties by index).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import ClassVar


class State(str, Enum):
    """Property state, spelt exactly as on the wire."""

    IDLE = "Idle"
    OK = "Ok"
    BUSY = "Busy"
    ALERT = "Alert"


class Perm(str, Enum):
    """Client permission hint."""

    RO = "ro"
    WO = "wo"
    RW = "rw"


class Rule(str, Enum):
    """Switch vector rule."""

    ONE_OF_MANY = "OneOfMany"
    AT_MOST_ONE = "AtMostOne"
    ANY_OF_MANY = "AnyOfMany"


class Kind(str, Enum):
    """Vector type; the suffix of defXVector / setXVector / newXVector / oneX."""

    NUMBER = "Number"
    SWITCH = "Switch"
    TEXT = "Text"
    LIGHT = "Light"
    BLOB = "BLOB"


#: printf formats that show no fraction (`%d`, `%5d`, `%.f`, `%.0f`, `%4.0f`): libindi declares
#: integer-valued numbers (slots, steps, pixels, binning, gain) this way.
_INTEGRAL_FORMAT = re.compile(r"%[-+ #0]*\d*(?:[diu]|\.0?f)")


@dataclass(slots=True)
class NumberMember:
    """One number element; `format` is a printf hint (`%010.6m` = sexagesimal display)."""

    name: str
    label: str
    format: str = "%g"
    min: float = 0.0
    max: float = 0.0
    step: float = 0.0
    value: float = 0.0
    whole_numbers: bool | None = None  # None: as the format says (see `integral`)

    @property
    def integral(self) -> bool:
        """Whether the member takes whole numbers only: `whole_numbers` if the factory said so,
        else whether its format shows no fraction (`%.f` counts: slots, steps, pixels)."""
        if self.whole_numbers is not None:
            return self.whole_numbers
        return _INTEGRAL_FORMAT.fullmatch(self.format) is not None


@dataclass(slots=True)
class SwitchMember:
    """One switch element; value True = On."""

    name: str
    label: str
    value: bool = False


@dataclass(slots=True)
class TextMember:
    """One text element."""

    name: str
    label: str
    value: str = ""


@dataclass(slots=True)
class LightMember:
    """One light element; its value is a state."""

    name: str
    label: str
    value: State = State.IDLE


@dataclass(slots=True)
class BlobMember:
    """One BLOB element; the payload travels only in publish_blob, never in the model."""

    name: str
    label: str
    value: None = None


Member = NumberMember | SwitchMember | TextMember | LightMember | BlobMember


@dataclass(eq=False)
class Vector:
    """A property: device, name, label, group, perm, state, timeout and ordered members."""

    kind: ClassVar[Kind]

    device: str
    name: str
    label: str
    group: str
    members: list = field(default_factory=list)
    perm: Perm = Perm.RW
    state: State = State.IDLE
    timeout_s: float = 60.0

    def __post_init__(self) -> None:
        names = [m.name for m in self.members]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate member names {names}")
        self._index = {m.name: m for m in self.members}

    def __getitem__(self, member: str):
        """Value of member `member` (KeyError if unknown)."""
        return self._index[member].value

    def __setitem__(self, member: str, value: object) -> None:
        """Set the value of member `member`, coerced to the member's type."""
        self._index[member].value = self._coerce(value)

    def __contains__(self, member: object) -> bool:
        return member in self._index

    def __iter__(self) -> Iterator[str]:
        """Member names in definition order."""
        return iter(self._index)

    def __len__(self) -> int:
        return len(self.members)

    def member(self, name: str) -> Member:
        """The member object called `name` (KeyError if unknown)."""
        return self._index[name]

    def values(self) -> dict[str, object]:
        """All member values by name, in definition order."""
        return {m.name: m.value for m in self.members}

    def update(self, values: dict[str, object]) -> None:
        """Set several members at once; unknown names raise KeyError before anything changes."""
        for name in values:
            if name not in self._index:
                raise KeyError(name)
        for name, value in values.items():
            self[name] = value

    def replace_members(self, members: Iterable[Member]) -> None:
        """Replace the member list (then the device must redefine the vector)."""
        self.members = list(members)
        self.__post_init__()

    def _coerce(self, value: object) -> object:
        return value


@dataclass(eq=False)
class NumberVector(Vector):
    """Number vector; values are floats."""

    kind: ClassVar[Kind] = Kind.NUMBER
    members: list[NumberMember] = field(default_factory=list)

    def _coerce(self, value: object) -> float:
        return float(value)  # type: ignore[arg-type]


@dataclass(eq=False)
class SwitchVector(Vector):
    """Switch vector with a rule; values are bools."""

    kind: ClassVar[Kind] = Kind.SWITCH
    members: list[SwitchMember] = field(default_factory=list)
    rule: Rule = Rule.ONE_OF_MANY

    def _coerce(self, value: object) -> bool:
        if not isinstance(value, bool):
            raise TypeError(f"{self.name}: switch values are bool, got {value!r}")
        return value

    def on_names(self) -> list[str]:
        """Names of the members that are On, in order."""
        return [m.name for m in self.members if m.value]

    def select(self, name: str) -> None:
        """Turn member `name` On and every other member Off."""
        if name not in self:
            raise KeyError(name)
        for m in self.members:
            m.value = m.name == name

    def reset(self) -> None:
        """Turn every member Off."""
        for m in self.members:
            m.value = False


@dataclass(eq=False)
class TextVector(Vector):
    """Text vector; values are str."""

    kind: ClassVar[Kind] = Kind.TEXT
    members: list[TextMember] = field(default_factory=list)

    def _coerce(self, value: object) -> str:
        return str(value)


@dataclass(eq=False)
class LightVector(Vector):
    """Light vector (always read-only); values are states."""

    kind: ClassVar[Kind] = Kind.LIGHT
    members: list[LightMember] = field(default_factory=list)
    perm: Perm = Perm.RO

    def _coerce(self, value: object) -> State:
        return State(value)


@dataclass(eq=False)
class BlobVector(Vector):
    """BLOB vector; members carry no value, payloads go through Device.publish_blob."""

    kind: ClassVar[Kind] = Kind.BLOB
    members: list[BlobMember] = field(default_factory=list)
    perm: Perm = Perm.RO

    def _coerce(self, value: object) -> None:
        raise TypeError(f"{self.name}: BLOB payloads are sent with publish_blob, not stored")


AnyVector = NumberVector | SwitchVector | TextVector | LightVector | BlobVector
