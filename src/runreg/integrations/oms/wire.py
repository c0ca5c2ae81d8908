"""The OMS API v1 wire format: JSON:API pages in, plain attribute dicts out, refused when malformed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from runreg.integrations.oms.errors import OmsBadResponse
from runreg.kernel.errors import InvalidInput
from runreg.kernel.lumi_units import per_pb

# What every item must carry for runreg to use it at all, and the JSON type it must have.
RUN_REQUIRED: Mapping[str, type] = {"run_number": int, "last_update": str}
LS_REQUIRED: Mapping[str, type] = {"lumisection_number": int}


_REQUIRED_BY_TYPE: Mapping[str, Mapping[str, type]] = {"runs": RUN_REQUIRED, "lumisections": LS_REQUIRED}
#: Per-LS integrated luminosity: converted to /pb from the units in each item's `meta.row` (pb^-1 if absent).
LUMINOSITY_FIELDS = ("delivered_lumi", "recorded_lumi")


def parse_page(
    payload: Any, *, required: Mapping[str, type] | None = None
) -> tuple[list[dict[str, Any]], str | None, int | None]:
    """One JSON:API page → (attribute dicts, link to the next page or None, total count if OMS gave one).

    `required` names the attributes every item must carry; by default they follow each item's `type`.
    """
    if not isinstance(payload, dict):
        raise OmsBadResponse(f"OMS page is a JSON {type(payload).__name__}, expected an object with `data`")
    if "data" not in payload:
        keys = ", ".join(sorted(payload)) or "none"
        raise OmsBadResponse(f"OMS page has no `data` member (members: {keys})")
    data = payload["data"]
    if not isinstance(data, list):
        raise OmsBadResponse(f"OMS page `data` is a JSON {type(data).__name__}, expected a list")
    rows: list[dict[str, Any]] = []
    for index, item in enumerate(data):
        attributes = item.get("attributes") if isinstance(item, dict) else None
        if not isinstance(attributes, dict):
            raise OmsBadResponse(f"OMS page data[{index}] has no `attributes` object")
        needed = required if required is not None else _REQUIRED_BY_TYPE.get(item.get("type"), {})
        for name, kind in needed.items():
            value = attributes.get(name)
            if not isinstance(value, kind) or isinstance(value, bool):
                shown = "missing" if value is None else f"{value!r}"
                raise OmsBadResponse(f"OMS page data[{index}] lacks a valid `{name}` ({shown})")
        rows.append(_in_pb(attributes, item.get("meta"), index))
    links = payload.get("links")
    next_link = links.get("next") if isinstance(links, dict) else None
    if next_link is not None and not isinstance(next_link, str):
        raise OmsBadResponse(f"OMS page `links.next` is {next_link!r}, expected a URL")
    meta = payload.get("meta")
    total = meta.get("totalResourceCount") if isinstance(meta, dict) else None
    if not isinstance(total, int) or isinstance(total, bool):
        total = None
    return rows, next_link or None, total


def _in_pb(attributes: dict[str, Any], meta: Any, index: int) -> dict[str, Any]:
    """Per-LS luminosity in /pb whatever unit OMS states for it; other attributes untouched."""
    if attributes.get("lumisection_number") is None:
        return attributes  # run rows carry run totals, kept as OMS gives them
    row_meta = meta.get("row") if isinstance(meta, dict) else None
    converted = attributes
    for name in LUMINOSITY_FIELDS:
        value = attributes.get(name)
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        field_meta = row_meta.get(name) if isinstance(row_meta, dict) else None
        unit = field_meta.get("units") if isinstance(field_meta, dict) else None
        if unit is None or unit == "pb^{-1}":
            continue
        try:
            factor = per_pb(str(unit))
        except InvalidInput:
            raise OmsBadResponse(
                f"OMS page data[{index}] gives `{name}` in {unit!r}, not a luminosity unit"
            ) from None
        if converted is attributes:
            converted = dict(attributes)
        converted[name] = value * factor
    return converted


def check_lumisections(rows: Sequence[Mapping[str, Any]], run_number: int) -> None:
    """LS sorted by number must be exactly 1..N of `run_number`: a hole or a repeat means OMS lost data."""
    previous = 0
    for row in rows:
        number = row["lumisection_number"]
        if number == previous:
            raise OmsBadResponse(f"run {run_number}: OMS returned lumisection {number} twice")
        if number != previous + 1:
            missing = f"{previous + 1}" if number == previous + 2 else f"{previous + 1}-{number - 1}"
            raise OmsBadResponse(
                f"run {run_number}: OMS lumisections jump from {previous} to {number} ({missing} missing)"
            )
        other = row.get("run_number")
        if other is not None and other != run_number:
            raise OmsBadResponse(
                f"asked for the lumisections of run {run_number}, OMS sent some of run {other}"
            )
        previous = number


def parse_time(value: str | None) -> datetime | None:
    """OMS timestamps ('2024-05-01T08:00:00Z') as aware UTC datetimes; None stays None (ongoing runs)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise OmsBadResponse(f"OMS timestamp {value!r} is not ISO 8601") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
