"""Pure rules of the workflow cache: the slim document, expected events and lumis, data-tier order, the
lookup keys, history entries and callback targets (Stats2 spec §3–§6, with its faults fixed)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

# §3.3: final tiers last; tiers not listed get -1 and come first.
TIER_ORDER = (
    "USER", "FEVT", "RAW-HLT", "ALCARECO", "ALCAPROMPT", "HLT", "DQM", "DQMIO", "DQMROOT",
    "GEN-SIM-RECODEBUG", "GEN-SIM-DIGI-RECODEBUG", "GEN-SIM-RAWDEBUG", "GEN-SIM-RAW-HLTDEBUG",
    "GEN-SIM-RAW-HLTDEBUG-RECO", "GEN-SIM-RAW-HLTDEBUG-RECODEBUG", "GEN-SIM-DIGI-RAW-HLTDEBUG-RECO",
    "GEN-SIM-DIGI-RAW-HLTDEBUG", "GEN-SIM-DIGI-HLTDEBUG-RECO", "GEN-SIM-DIGI-HLTDEBUG", "FEVTDEBUGHLT",
    "GEN-RAWDEBUG", "RAWDEBUG", "RECODEBUG", "HLTDEBUG", "RAWRECOSIMHLT", "RAW-RECOSIMHLT", "RECOSIMHLT",
    "FEVTHLTALL", "PREMIXRAW", "PREMIX-RAW", "RAW", "RAW-RECO", "LHE", "GEN", "GEN-RAW", "GEN-SIM", "SIM",
    "DIGI", "DIGI-RECO", "RECO", "RAWAODSIM", "GEN-SIM-RECO", "GEN-SIM-RAW", "GEN-SIM-RAW-HLT",
    "GEN-SIM-RAW-RECO", "GEN-SIM-DIGI", "GEN-SIM-DIGI-RECO", "GEN-SIM-DIGI-RAW", "GEN-SIM-DIGI-RAW-RECO",
    "AOD", "AODSIM", "MINIAOD", "MINIAODSIM", "NANOAOD", "NANOAODSIM",
)  # fmt: skip
_TIER_INDEX = {tier: index for index, tier in enumerate(TIER_ORDER)}

COPIED = (
    "AcquisitionEra", "CMSSWVersion", "InputDataset", "OutputDatasets", "PrepID", "ProcessingString",
    "RequestName", "RequestPriority", "RequestTransition", "RequestType", "LumiList", "TotalInputLumis",
    "SizePerEvent", "TimePerEvent",
)  # fmt: skip
MAX_TASKS = 999
NONE_TYPE = "NONE"
VALID_ONLY_TYPES = frozenset({"PRODUCTION", "VALID"})
DBS_MARGIN_S = 300  # §4.1: DBS modification dates are looked at from the last update's start minus this

#: The lookups of the original's CouchDB views (§3.4), by the query parameter that selects them (§5.1).
KEY_KINDS = ("prepid", "output_dataset", "input_dataset", "campaign", "type", "processing_string", "request")
_STAMP = re.compile(r"_(\d{6})_(\d{6})_")


def tier_priority(dataset: str) -> int:
    return _TIER_INDEX.get(dataset.rsplit("/", 1)[-1], -1)


def flatten(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from flatten(item)


def sorted_outputs(value: Any) -> list[str]:
    """Flattened, de-duplicated, in data-tier order (stable within a tier)."""
    unique = list(dict.fromkeys(flatten(value)))
    return sorted(unique, key=tier_priority)


def _parts(raw: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Task1..N, or Step1..N when the document is a StepChain, until one is missing."""
    prefix = "Step" if "StepChain" in raw else "Task"
    found = []
    for number in range(1, MAX_TASKS + 1):
        part = raw.get(f"{prefix}{number}")
        if not isinstance(part, Mapping):
            break
        found.append(part)
    return found


def _first_part(raw: Mapping[str, Any], key: str) -> Any:
    for part in ("Task1", "Step1"):
        value = raw.get(part, {}).get(key) if isinstance(raw.get(part), Mapping) else None
        if value is not None:
            return value
    return None


def campaigns(raw: Mapping[str, Any]) -> list[str]:
    found = [part.get("Campaign") or part.get("AcquisitionEra") for part in _parts(raw)]
    found = [value for value in found if isinstance(value, str) and value]
    if found:
        return found
    fallback = raw.get("Campaign") or raw.get("AcquisitionEra")
    return [fallback] if isinstance(fallback, str) and fallback else []


def requests(raw: Mapping[str, Any]) -> list[str]:
    return [p["PrepID"] for p in _parts(raw) if isinstance(p.get("PrepID"), str) and p["PrepID"]]


def slim(raw: Mapping[str, Any]) -> dict[str, Any]:
    """§3.1 without the numbers that need another service (TotalEvents, TotalInputLumis of resubmissions)."""
    doc: dict[str, Any] = {key: raw[key] for key in COPIED if key in raw}
    doc["_id"] = raw["RequestName"]
    for key in ("InputDataset", "ProcessingString"):
        value = _first_part(raw, key)
        if value is not None:
            doc[key] = value
    if not isinstance(doc.get("ProcessingString"), str):
        doc.pop("ProcessingString", None)
    if not isinstance(doc.get("InputDataset"), str) or not doc.get("InputDataset"):
        doc.pop("InputDataset", None)
    if doc.get("PrepID") is None:
        doc.pop("PrepID", None)
    try:
        doc["RequestPriority"] = int(raw.get("RequestPriority") or 0)
    except (TypeError, ValueError):
        doc["RequestPriority"] = 0
    doc["RequestTransition"] = [
        {"Status": step.get("Status"), "UpdateTime": step.get("UpdateTime")}
        for step in raw.get("RequestTransition") or []
        if isinstance(step, Mapping)
    ]
    doc["OutputDatasets"] = sorted_outputs(raw.get("OutputDatasets", []))
    doc["Campaigns"] = campaigns(raw)
    doc["Requests"] = requests(raw)
    lumi_list = raw.get("LumiList")
    doc["LumiList"] = lumi_list if isinstance(lumi_list, Mapping) else {}
    return doc


def filter_efficiency(raw: Mapping[str, Any]) -> float:
    for value in (raw.get("FilterEfficiency"), _first_part(raw, "FilterEfficiency")):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return 1.0


@dataclass(frozen=True, slots=True)
class Known:
    value: int


@dataclass(frozen=True, slots=True)
class FromDataset:
    """The events of an input dataset, inside a lumi mask when there is one."""

    dataset: str
    mask: dict[int, list[list[int]]] | None


@dataclass(frozen=True, slots=True)
class FromParent:
    """A resubmission takes its numbers from the first non-resubmission request of the same PrepID."""

    prep_id: str
    field: str


UNKNOWN = Known(-1)
Source = Known | FromDataset | FromParent


def is_resubmission(raw: Mapping[str, Any]) -> bool:
    return str(raw.get("RequestType", "")).lower() == "resubmission"


def expected_events_source(raw: Mapping[str, Any]) -> Source:
    """§4.4: where the expected number of events comes from; the first rule that applies wins."""
    efficiency = filter_efficiency(raw)
    if is_resubmission(raw):
        prep_id = raw.get("PrepID")
        return FromParent(prep_id, "TotalInputEvents") if isinstance(prep_id, str) and prep_id else UNKNOWN
    files, events = raw.get("TotalInputFiles"), raw.get("TotalInputEvents")
    if isinstance(files, int | float) and files > 0 and isinstance(events, int | float):
        return Known(int(efficiency * events))
    for candidate in (raw.get("RequestNumEvents"), _part(raw, "Task1").get("RequestNumEvents"),
                      _part(raw, "Step1").get("RequestNumEvents")):  # fmt: skip
        if isinstance(candidate, int | float) and not isinstance(candidate, bool):
            return Known(int(candidate))
    for part in (_part(raw, "Task1"), _part(raw, "Step1")):
        dataset = part.get("InputDataset")
        if isinstance(dataset, str) and dataset:
            return FromDataset(dataset, lumi_mask(part.get("LumiList")))
    return UNKNOWN


def expected_lumis_source(raw: Mapping[str, Any]) -> Source:
    """§4.5; a resubmission without a parent gets -1 like every other unknown (the original returned None)."""
    if is_resubmission(raw):
        prep_id = raw.get("PrepID")
        return FromParent(prep_id, "TotalInputLumis") if isinstance(prep_id, str) and prep_id else UNKNOWN
    value = raw.get("TotalInputLumis")
    return Known(int(value)) if isinstance(value, int | float) and not isinstance(value, bool) else UNKNOWN


def from_parent(siblings: Iterable[Mapping[str, Any]], source: FromParent, efficiency: float) -> int:
    for sibling in siblings:
        value = sibling.get(source.field)
        if not is_resubmission(sibling) and isinstance(value, int | float) and not isinstance(value, bool):
            return int(efficiency * value) if source.field == "TotalInputEvents" else int(value)
    return -1


def _part(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    part = raw.get(key)
    return part if isinstance(part, Mapping) else {}


def lumi_mask(value: Any) -> dict[int, list[list[int]]] | None:
    """A ReqMgr2 LumiList ({"run": [[a, b], ...]}) with integer runs, or None when empty or malformed."""
    if not isinstance(value, Mapping) or not value:
        return None
    mask: dict[int, list[list[int]]] = {}
    for run, ranges in value.items():
        try:
            mask[int(run)] = [[int(a), int(b)] for a, b in ranges]
        except (TypeError, ValueError):
            return None
    return mask


def mask_digest(mask: Mapping[int, Sequence[Sequence[int]]]) -> str:
    return hashlib.sha256(orjson.dumps({str(k): mask[k] for k in sorted(mask)})).hexdigest()


def lumis_tracked(doc: Mapping[str, Any]) -> bool:
    """§4.6: ReReco or Resubmission, with a lumi list and a known number of expected lumis."""
    kind = str(doc.get("RequestType", "")).lower()
    expected = doc.get("TotalInputLumis")
    return (
        kind in ("rereco", "resubmission") and bool(doc.get("LumiList")) and bool(expected) and expected != -1
    )


def submitted(name: str) -> str:
    """The `YYMMDD_hhmmss` submission stamp of a request name (what §5.1 sorts by), or '' without one."""
    found = _STAMP.findall(name + "_")
    return "_".join(found[-1]) if found else ""


def view_keys(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(kind, value) pairs of the original's views (§3.4), de-duplicated."""
    keys: list[tuple[str, str]] = []
    singles = {
        "prepid": doc.get("PrepID"),
        "input_dataset": doc.get("InputDataset"),
        "type": doc.get("RequestType"),
        "processing_string": doc.get("ProcessingString"),
    }
    keys.extend((kind, value) for kind, value in singles.items() if isinstance(value, str) and value)
    for kind, values in (("output_dataset", doc.get("OutputDatasets")), ("campaign", doc.get("Campaigns")),
                         ("request", doc.get("Requests"))):  # fmt: skip
        keys.extend((kind, value) for value in values or [] if isinstance(value, str) and value)
    return list(dict.fromkeys(keys))


def same_content(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """The dirty check: equal documents apart from bookkeeping (the original compared a document carrying
    `LastUpdate` with one that never did, so it always found a difference)."""
    if old is None:
        return False
    ignored = ("LastUpdate", "_rev", "EventNumberHistory")
    strip = lambda doc: {k: v for k, v in doc.items() if k not in ignored}  # noqa: E731
    return _canonical(strip(old)) == _canonical(strip(new))


def _canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


# --- dataset numbers --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Numbers:
    """What DBS says about one output dataset at one moment (one `Datasets` member of a history entry)."""

    access_type: str
    events: int
    size: int
    lumis: int | None = None  # only when the workflow tracks lumisections

    def as_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"Type": self.access_type, "Events": self.events, "Size": self.size}
        if self.lumis is not None:
            entry["Lumis"] = self.lumis
        return entry


def still_current(
    previous: Numbers | None,
    access_type: str,
    modified: int | None,
    checked_at: float | None,
    *,
    with_lumis: bool,
) -> bool:
    """Whether stored numbers can stand without asking DBS again: same access type, and DBS has not modified
    the dataset since they were checked (with the same safety margin as the "modified since" window)."""
    return (
        previous is not None
        and modified is not None
        and checked_at is not None
        and previous.access_type == access_type
        and (previous.lumis is not None) == with_lumis
        and modified < checked_at - DBS_MARGIN_S
    )


def valid_only(access_type: str) -> bool:
    return access_type in VALID_ONLY_TYPES


def numbers(access_type: str | None, summary: tuple[int, int, int] | None, *, with_lumis: bool) -> Numbers:
    """A dataset's numbers from its DBS access type and (events, bytes, lumis); unknown to DBS → NONE, 0."""
    if access_type is None:
        return Numbers(NONE_TYPE, 0, 0, 0 if with_lumis else None)
    events, size, lumis = summary or (0, 0, 0)
    return Numbers(access_type, events, size, lumis if with_lumis else None)


def history_entries(rows: Iterable[tuple[int, str, Numbers]]) -> list[dict[str, Any]]:
    """Per-dataset change rows (time, dataset, numbers), ordered by time, as the original's entries: one per
    moment anything changed, each holding every dataset's latest numbers by then."""
    entries: list[dict[str, Any]] = []
    latest: dict[str, dict[str, Any]] = {}
    for moment, dataset, value in rows:
        latest[dataset] = value.as_entry()
        if entries and entries[-1]["Time"] == moment:
            entries[-1]["Datasets"][dataset] = latest[dataset]
        else:
            entries.append({"Time": moment, "Datasets": dict(latest)})
    return entries


# --- links and callbacks (§5.2a, §6) ------------------------------------------------------------------------

_SERVICES = (
    (re.compile(r"ReReco-.*-[0-9]{5}"), "rereco_machine"),
    (re.compile(r"ReReco-.*"), "rereco"),
    (re.compile(r"CMSSW_.*-[0-9]{5}"), "relval_machine"),
    (re.compile(r"CMSSW_.*"), "relval"),
    (re.compile(r"(task_)?[A-Z0-9]{3}-.*-[0-9]{5}"), "mc"),
)


def service_type(prep_id: str | None) -> str:
    for pattern, kind in _SERVICES:
        if prep_id and pattern.fullmatch(prep_id):
            return kind
    return "unknown"


def callback_target(doc: Mapping[str, Any]) -> str:
    """Which PdmV service follows this workflow: "rereco", "relval" or "mcm" (a missing RequestType no longer
    crashes the choice)."""
    kind = str(doc.get("RequestType") or "").lower()
    if kind == "rereco" or str(doc.get("PrepID") or "").startswith("ReReco-"):
        return "rereco"
    if "RVCMSSW" in str(doc.get("RequestName") or doc.get("_id") or ""):
        return "relval"
    return "mcm"
