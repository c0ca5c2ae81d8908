"""The metric contract, its typed arguments and the registry that config expressions are resolved against."""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from runreg.trends.histogram import Histogram

#: "module.Class" as written in configs -> metric class.
REGISTRY: dict[str, type[Metric]] = {}
OPTIONAL_INPUTS = ("histo1", "histo2", "reference")


class Undefined(Exception):  # noqa: N818 — an outcome, not a failure: the metric has no value for this run
    """The metric has no value for these histograms; the reason is recorded instead of a point."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Inputs:
    """What one metric reads for one run: the main ME and the optional ones its config names."""

    main: Histogram
    run: int = 0
    histo1: Histogram | None = None
    histo2: Histogram | None = None
    reference: Histogram | None = None

    def need(self, name: str) -> Histogram:
        found = getattr(self, name)
        if found is None:
            raise Undefined(f"{name} is required by this metric")
        return found


@dataclass(frozen=True)
class Metric:
    """A reduction of histograms to (value, error). Subclasses are frozen dataclasses whose fields are the
    config arguments, in the original's order."""

    module: ClassVar[str] = ""
    #: Optional MEs the config must name (histo1Path, histo2Path, reference).
    needs: ClassVar[frozenset[str]] = frozenset()

    def compute(self, inputs: Inputs) -> tuple[float, float]:
        raise NotImplementedError

    @classmethod
    def qualified_name(cls) -> str:
        return f"{cls.module}.{cls.__name__}"

    def expression(self) -> str:
        args = ", ".join(repr(getattr(self, f.name)) for f in dataclasses.fields(self))
        return f"{self.qualified_name()}({args})"


def register(module: str) -> Callable[[type[Metric]], type[Metric]]:
    def add(cls: type[Metric]) -> type[Metric]:
        cls.module = module
        REGISTRY[f"{module}.{cls.__name__}"] = cls
        return cls

    return add


# -- typed arguments ------------------------------------------------------------------------------
class ArgumentError(ValueError):
    pass


def build(cls: type[Metric], args: list[Any], kwargs: dict[str, Any]) -> Metric:
    """An instance of `cls` from literal arguments, each checked against its field's type."""
    fields = [f for f in dataclasses.fields(cls) if f.init]
    hints = typing.get_type_hints(cls)
    if len(args) > len(fields):
        raise ArgumentError(f"{cls.qualified_name()} takes at most {len(fields)} arguments, got {len(args)}")
    bound: dict[str, Any] = {}
    for spec, value in zip(fields, args, strict=False):
        bound[spec.name] = value
    for name, value in kwargs.items():
        if name not in {f.name for f in fields}:
            raise ArgumentError(f"{cls.qualified_name()} has no argument {name!r}")
        if name in bound:
            raise ArgumentError(f"argument {name!r} given twice")
        bound[name] = value
    checked = {}
    for spec in fields:
        if spec.name not in bound:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise ArgumentError(f"{cls.qualified_name()} needs the argument {spec.name!r}")
            continue
        try:
            checked[spec.name] = conform(bound[spec.name], hints[spec.name])
        except ArgumentError as exc:
            raise ArgumentError(f"argument {spec.name!r}: {exc}") from None
    return cls(**checked)


def conform(value: Any, hint: Any) -> Any:
    """`value` as the type `hint` (int widens to float, lists and tuples interchange), or ArgumentError."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                return conform(value, option)
            except ArgumentError:
                continue
        raise ArgumentError(f"{value!r} is not {_describe(hint)}")
    if hint is type(None):
        if value is None:
            return None
        raise ArgumentError(f"{value!r} is not None")
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise ArgumentError(f"{value!r} is not a boolean")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ArgumentError(f"{value!r} is not an integer")
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
        raise ArgumentError(f"{value!r} is not a finite number")
    if hint is str:
        if isinstance(value, str):
            return value
        raise ArgumentError(f"{value!r} is not a string")
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise ArgumentError(f"{value!r} is not a list")
        if len(value) > 1000:
            raise ArgumentError("lists are limited to 1000 items")
        (item,) = typing.get_args(hint)[:1]
        return tuple(conform(v, item) for v in value)
    raise ArgumentError(f"unsupported argument type {hint!r}")


def _describe(hint: Any) -> str:
    return " or ".join(getattr(h, "__name__", str(h)) for h in typing.get_args(hint))


def finite(value: float, error: float) -> tuple[float, float]:
    """Guard every result: NaN and infinities are never stored, the reason is."""
    if not math.isfinite(value):
        raise Undefined(f"value is {value}")
    if not math.isfinite(error):
        raise Undefined(f"error is {error}")
    return float(value), float(error)


def ratio(numerator: float, denominator: float, what: str = "denominator") -> float:
    if denominator == 0:
        raise Undefined(f"{what} is 0")
    return numerator / denominator


def sqrt0(value: float) -> float:
    return math.sqrt(value) if value > 0 else 0.0


def bin_or_label(h: Histogram, key: int | str, axis: int = 1) -> int:
    try:
        return h.bin_of(key, axis)
    except KeyError as exc:
        raise Undefined(str(exc.args[0])) from None


def require_1d(h: Histogram, metric: str) -> None:
    if h.dimension != 1:
        raise Undefined(f"{metric} needs a 1D histogram, got {h.kind}")


def require_2d(h: Histogram, metric: str) -> None:
    if h.dimension != 2:
        raise Undefined(f"{metric} needs a 2D histogram, got {h.kind}")
