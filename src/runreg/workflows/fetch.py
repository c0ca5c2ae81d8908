"""Everything one update asks cmsweb, made in parallel within a bound and remembered for the rest of the run
(so a dataset shared by many workflows is asked once)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from runreg.integrations.cmsweb import CmswebSources, DatasetInfo, FileSummary
from runreg.workflows import model
from runreg.workflows.model import FromDataset, FromParent, Known, Numbers

logger = logging.getLogger("runreg.workflows")
K = TypeVar("K")
V = TypeVar("V")
PARENT_FIELDS = ("TotalInputEvents", "TotalInputLumis", "RequestType")


def _raised(value: V | BaseException) -> V:
    if isinstance(value, BaseException):
        raise value
    return value


def describe(error: BaseException) -> str:
    message = getattr(error, "message", None) or str(error) or type(error).__name__
    return f"{type(error).__name__}: {message}"


@dataclass
class Fetcher:
    """Per-run caches; every cache keeps whole DBS answers, never a derived number that depends on the
    asking workflow (how the original came to record valid datasets as empty)."""

    sources: CmswebSources
    info: dict[str, DatasetInfo | None] = field(default_factory=dict)
    summaries: dict[tuple[str, bool], FileSummary | None] = field(default_factory=dict)
    # Expected-event inputs; a failed question is remembered as its error and fails only its workflows.
    inputs: dict[str, FileSummary | None | BaseException] = field(default_factory=dict)
    masked: dict[tuple[str, str], int | BaseException] = field(default_factory=dict)
    parents: dict[str, list[dict[str, Any]] | BaseException] = field(default_factory=dict)
    pool: ThreadPoolExecutor = field(init=False)

    def __post_init__(self) -> None:
        self.pool = ThreadPoolExecutor(
            max_workers=max(1, self.sources.concurrency), thread_name_prefix="cmsweb"
        )

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    def gather(self, function: Callable[[K], V], keys: Iterable[K]) -> dict[K, V | BaseException]:
        """`function` of each key, in parallel; an exception is kept as that key's result."""

        def attempt(key: K) -> V | BaseException:
            try:
                return function(key)
            except Exception as exc:  # one key's failure must not stop the others
                return exc

        unique = list(dict.fromkeys(keys))
        return dict(zip(unique, self.pool.map(attempt, unique), strict=True))

    # --- documents ------------------------------------------------------------------------------------

    def documents(
        self, names: Sequence[str], known: Mapping[str, dict[str, Any]] | None = None
    ) -> tuple[dict[str, dict[str, Any]], list[str], dict[str, str]]:
        """(slim documents with their expected numbers, names ReqMgr2 no longer has, failures); `known`: raw
        documents the changes feed already brought."""
        known = known or {}
        raws: dict[str, Any] = self.gather(
            self.sources.reqmgr2.workflow, [n for n in names if n not in known]
        )
        raws.update({name: known[name] for name in names if name in known})
        failures = {name: describe(raw) for name, raw in raws.items() if isinstance(raw, BaseException)}
        gone = [name for name, raw in raws.items() if raw is None]
        found = {name: raw for name, raw in raws.items() if isinstance(raw, dict)}
        plans = {
            name: (model.expected_events_source(raw), model.expected_lumis_source(raw))
            for name, raw in found.items()
        }
        self._resolve_parents(
            [s.prep_id for pair in plans.values() for s in pair if isinstance(s, FromParent)]
        )
        self._resolve_inputs([s for events, _ in plans.values() if isinstance(s := events, FromDataset)])
        docs: dict[str, dict[str, Any]] = {}
        for name, raw in found.items():
            try:
                doc = model.slim(raw)
                efficiency = model.filter_efficiency(raw)
                doc["TotalEvents"] = self._value(plans[name][0], efficiency)
                doc["TotalInputLumis"] = self._value(plans[name][1], 1.0)
                if doc["TotalEvents"] == -1:
                    logger.info("workflow %s: expected events unknown", name)
                docs[name] = doc
            except Exception as exc:
                failures[name] = describe(exc)
        return docs, gone, failures

    def _value(self, source: model.Source, efficiency: float) -> int:
        if isinstance(source, Known):
            return source.value
        if isinstance(source, FromParent):
            return model.from_parent(_raised(self.parents[source.prep_id]), source, efficiency)
        if source.mask is not None:
            return _raised(self.masked[(source.dataset, model.mask_digest(source.mask))])
        summary = _raised(self.inputs[source.dataset])
        return summary.events if summary is not None else 0

    def _resolve_parents(self, prep_ids: list[str]) -> None:
        missing = [p for p in dict.fromkeys(prep_ids) if p not in self.parents]
        search = lambda prep: self.sources.reqmgr2.requests_by_prep_id(prep, fields=PARENT_FIELDS)  # noqa: E731
        self.parents.update(self.gather(search, missing))

    def _resolve_inputs(self, sources: list[FromDataset]) -> None:
        dbs = self.sources.dbs
        plain = [s.dataset for s in sources if s.mask is None and s.dataset not in self.inputs]
        self.inputs.update(self.gather(lambda dataset: dbs.file_summary(dataset, valid_only=True), plain))
        masked = {(s.dataset, model.mask_digest(s.mask)): s.mask for s in sources if s.mask is not None}
        todo = [key for key in masked if key not in self.masked]
        self.masked.update(self.gather(lambda key: dbs.masked_events(key[0], masked[key]), todo))

    # --- dataset numbers ------------------------------------------------------------------------------

    def numbers(
        self,
        docs: Mapping[str, Mapping[str, Any]],
        previous: Mapping[str, Previous] | None = None,
    ) -> tuple[dict[str, dict[str, Numbers]], dict[str, str]]:
        """Each workflow's output datasets' numbers now, and the workflows that could not get them. With the
        `previous` numbers of a workflow and when they were checked, a dataset DBS has not modified since is
        not asked again (one batched `datasetlist` instead of one `filesummaries` per dataset)."""
        previous = previous or {}
        outputs = {name: list(doc.get("OutputDatasets") or []) for name, doc in docs.items()}
        unknown = [d for names in outputs.values() for d in names if d not in self.info]
        if unknown:
            try:
                found = self.sources.dbs.dataset_info(list(dict.fromkeys(unknown)))
            except Exception as exc:
                error = describe(exc)
                return {}, {name: error for name, names in outputs.items() if names}
            for dataset in unknown:
                self.info[dataset] = found.get(dataset)
        plan: dict[tuple[str, str], Numbers | tuple[str, bool] | None] = {}
        for name, names in outputs.items():
            with_lumis = model.lumis_tracked(docs[name])
            before = previous.get(name)
            for dataset in names:
                info = self.info[dataset]
                if info is None:
                    plan[(name, dataset)] = None
                    continue
                old = before.numbers.get(dataset) if before is not None else None
                if before is not None and model.still_current(
                    old, info.access_type, info.modified, before.checked_at, with_lumis=with_lumis
                ):
                    plan[(name, dataset)] = old
                else:
                    plan[(name, dataset)] = (dataset, model.valid_only(info.access_type))
        wanted = [key for key in plan.values() if isinstance(key, tuple) and key not in self.summaries]
        dbs = self.sources.dbs
        asked = self.gather(lambda key: dbs.file_summary(key[0], valid_only=key[1]), wanted)
        broken = {key: describe(result) for key, result in asked.items() if isinstance(result, BaseException)}
        self.summaries.update({k: v for k, v in asked.items() if not isinstance(v, BaseException)})
        result: dict[str, dict[str, Numbers]] = {}
        failures: dict[str, str] = {}
        for name, names in outputs.items():
            with_lumis = model.lumis_tracked(docs[name])
            per_dataset: dict[str, Numbers] = {}
            for dataset in names:
                step = plan[(name, dataset)]
                if isinstance(step, Numbers):
                    per_dataset[dataset] = step
                    continue
                if step in broken:
                    failures[name] = f"{dataset}: {broken[step]}"
                    break
                info = self.info[dataset]
                summary = self.summaries.get(step) if step is not None else None
                triple = (summary.events, summary.size, summary.lumis) if summary is not None else None
                per_dataset[dataset] = model.numbers(info and info.access_type, triple, with_lumis=with_lumis)
            else:
                result[name] = per_dataset
        return result, failures


@dataclass(frozen=True, slots=True)
class Previous:
    """A workflow's stored numbers per dataset and when DBS was last asked for them."""

    numbers: Mapping[str, Numbers]
    checked_at: float | None
