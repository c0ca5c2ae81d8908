"""Immutable, past-tense registry events with stable type names; the only way registry state changes."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, ClassVar


class Layer(StrEnum):
    """Decisions live in two layers: a manual value always shows over an automatic one, whatever the order."""

    AUTOMATIC = "automatic"
    MANUAL = "manual"


@dataclass(frozen=True)
class Event:
    TYPE: ClassVar[str]

    def payload(self) -> dict[str, Any]:
        # Shallow on purpose: fields hold JSON-ready values already (asdict deep-copies, ~50 µs an event).
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # Columns indexed beside the payload (see eventlog.tables.events).
    @property
    def dataset(self) -> str | None:
        return None

    @property
    def target(self) -> str | None:
        return None

    @property
    def ls_range(self) -> tuple[int, int] | None:
        return None

    @property
    def manual(self) -> bool:
        return getattr(self, "layer", Layer.AUTOMATIC) == Layer.MANUAL


@dataclass(frozen=True)
class RunCreated(Event):
    TYPE: ClassVar[str] = "RunCreated"
    oms: dict[str, Any]
    rr: dict[str, Any]
    layer: Layer = Layer.AUTOMATIC


@dataclass(frozen=True)
class RunAttributesChanged(Event):
    """A delta of a run's OMS attributes (latest wins) and/or RR attributes (in `layer`)."""

    TYPE: ClassVar[str] = "RunAttributesChanged"
    oms: dict[str, Any] = field(default_factory=dict)
    rr: dict[str, Any] = field(default_factory=dict)
    layer: Layer = Layer.AUTOMATIC
    removed_oms: tuple[str, ...] = ()
    removed_rr: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunVisibilityChanged(Event):
    """A run hidden from the run listings (soft-deleted: the original's `RunEvent.deleted`), with why, or
    shown again (`hidden` False, no reason). A hidden run is still readable by its number."""

    TYPE: ClassVar[str] = "RunVisibilityChanged"
    hidden: bool
    reason: str = ""


@dataclass(frozen=True)
class DatasetCreated(Event):
    TYPE: ClassVar[str] = "DatasetCreated"
    name: str
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def dataset(self) -> str | None:
        return self.name


@dataclass(frozen=True)
class DatasetAttributesChanged(Event):
    TYPE: ClassVar[str] = "DatasetAttributesChanged"
    name: str
    attributes: dict[str, Any] = field(default_factory=dict)
    removed: tuple[str, ...] = ()

    @property
    def dataset(self) -> str | None:
        return self.name


@dataclass(frozen=True)
class _RangeEvent(Event):
    name: str
    first_ls: int
    last_ls: int

    @property
    def dataset(self) -> str | None:
        return self.name

    @property
    def ls_range(self) -> tuple[int, int] | None:
        return (self.first_ls, self.last_ls)


@dataclass(frozen=True)
class FlagsSet(_RangeEvent):
    """A triplet {status, comment, cause} set on LS first..last of one component of a dataset."""

    TYPE: ClassVar[str] = "FlagsSet"
    component: str = ""
    triplet: dict[str, str] = field(default_factory=dict)
    layer: Layer = Layer.AUTOMATIC

    @property
    def target(self) -> str | None:
        return self.component


@dataclass(frozen=True)
class FlagsCleared(_RangeEvent):
    """The flags of one layer removed from LS first..last (a revert restoring 'no value')."""

    TYPE: ClassVar[str] = "FlagsCleared"
    component: str = ""
    layer: Layer = Layer.AUTOMATIC

    @property
    def target(self) -> str | None:
        return self.component


@dataclass(frozen=True)
class OmsValuesSet(_RangeEvent):
    """Per-LS OMS values (DCS bits, prescale, luminosity) set on LS first..last; latest wins."""

    TYPE: ClassVar[str] = "OmsValuesSet"
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OmsValuesCleared(_RangeEvent):
    TYPE: ClassVar[str] = "OmsValuesCleared"
    keys: tuple[str, ...] = ()


EVENT_TYPES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (
        RunCreated,
        RunAttributesChanged,
        RunVisibilityChanged,
        DatasetCreated,
        DatasetAttributesChanged,
        FlagsSet,
        FlagsCleared,
        OmsValuesSet,
        OmsValuesCleared,
    )
}


def event_from_payload(type_name: str, payload: dict[str, Any]) -> Event:
    cls = EVENT_TYPES[type_name]
    data = dict(payload)
    for key in ("layer",):
        if key in data:
            data[key] = Layer(data[key])
    for key in ("removed_oms", "removed_rr", "removed", "keys"):
        if key in data:
            data[key] = tuple(data[key])
    return cls(**data)
