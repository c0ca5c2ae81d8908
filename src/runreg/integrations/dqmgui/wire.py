"""The two sample-list formats of the DQM GUI, parsed strictly (pure: no I/O).

Legacy (cmsweb, `/data/json/samples?match=<regex>`): `{"samples": [{"type": ..., "items": [{"run": "380001",
"dataset": "/ZeroBias/Run2024C-PromptReco-v1/DQMIO", ...}]}]}` (run as text or number). New GUI
(`/api/v1/samples`): `{"data": [{"run": 380001, "dataset": "...", "lumi": 0}]}`. Anything else is a
DqmGuiBadResponse naming where the answer went wrong."""

from __future__ import annotations

from typing import Any, NamedTuple

from runreg.integrations.dqmgui.errors import DqmGuiBadResponse

#: At most this many samples in one list (the production GUI holds a few hundred thousand).
MAX_SAMPLES = 2_000_000
#: A sample (dataset) name longer than this is not a CMS dataset name.
MAX_DATASET_CHARS = 500
MAX_RUN = 2**31 - 1


class Sample(NamedTuple):
    """One (run, dataset) the GUI holds."""

    run: int
    dataset: str


def parse_legacy(payload: Any) -> list[Sample]:
    groups = payload.get("samples") if isinstance(payload, dict) else None
    if not isinstance(groups, list):
        raise DqmGuiBadResponse("the DQM GUI sample list has no `samples` list")
    samples: list[Sample] = []
    for i, group in enumerate(groups):
        items = group.get("items") if isinstance(group, dict) else None
        if not isinstance(items, list):
            raise DqmGuiBadResponse(f"samples[{i}] of the DQM GUI answer has no `items` list")
        _check_count(len(samples) + len(items))
        samples.extend(_sample(item, f"samples[{i}].items[{j}]") for j, item in enumerate(items))
    return samples


def parse_v1(payload: Any) -> list[Sample]:
    rows = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(rows, list):
        raise DqmGuiBadResponse("the DQM GUI /api/v1/samples answer has no `data` list")
    _check_count(len(rows))
    return [_sample(row, f"data[{i}]") for i, row in enumerate(rows)]


def _check_count(count: int) -> None:
    if count > MAX_SAMPLES:
        raise DqmGuiBadResponse(f"the DQM GUI sample list has more than {MAX_SAMPLES} samples")


_new = tuple.__new__  # a NamedTuple built without its Python-level __new__: 200,000 per list


def _sample(item: Any, where: str) -> Sample:
    try:
        run, dataset = item["run"], item["dataset"]
    except (TypeError, KeyError):
        raise DqmGuiBadResponse(f"{where} of the DQM GUI answer has no run and dataset") from None
    if type(run) is not int:  # bool is not a run number either
        run = int(run) if isinstance(run, str) and run.isdigit() and len(run) <= 10 else -1
    if not 0 < run <= MAX_RUN:
        raise DqmGuiBadResponse(f"{where}.run of the DQM GUI answer is not a run number: {item['run']!r:.40}")
    if type(dataset) is not str or dataset[:1] != "/" or len(dataset) > MAX_DATASET_CHARS:
        raise DqmGuiBadResponse(f"{where}.dataset of the DQM GUI answer is no dataset name: {dataset!r:.80}")
    return _new(Sample, (run, dataset))
