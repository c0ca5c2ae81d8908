"""ML pages: how often each model version agrees with the certifiers (a confusion matrix per component), and
the read-only ML rows the run page (and any page showing a dataset's components) draws beside the people's
decisions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from runreg.kernel.errors import InvalidInput
from runreg.kernel.ranges import RangeMap
from runreg.predictions import service as predictions
from runreg.predictions.model import NOT_JUDGED, Confusion, confusion
from runreg.predictions.service import Verdicts
from runreg.registry.model import RunState
from runreg.web import run_view
from runreg.web.page import Page, page, render
from runreg.web.params import whole_number

router = APIRouter(include_in_schema=False)
PAGE = Depends(page)
FILTERS = ("model", "version", "workspace", "component", "dataset", "run_from", "run_to", "basis")


@router.get("/ml", response_class=HTMLResponse)
def agreement_page(current: Page = PAGE) -> HTMLResponse:
    """Per component and model version: the confusion counts of the model against the certifiers, the
    agreement rate over judged LS and the LS nobody judged yet, for the chosen models, workspace and runs."""
    params = current.request.query_params
    chosen = {key: params.get(key, "").strip() for key in FILTERS}
    chosen["basis"] = chosen["basis"] or "effective"
    models = predictions.models(current.db)
    error, found = None, None
    try:
        found = predictions.agreement(
            current.db,
            model=chosen["model"] or None,
            version=chosen["version"] or None,
            workspace=chosen["workspace"] or None,
            component=chosen["component"] or None,
            dataset=chosen["dataset"] or None,
            run_from=whole_number(params, "run_from"),
            run_to=whole_number(params, "run_to"),
            basis=chosen["basis"],
        )
    except InvalidInput as exc:  # shown next to the filter it is about
        error = exc
    return render(
        current,
        "ml/agreement.html",
        section="ml",
        chosen=chosen,
        models=models,
        names=sorted({m["model"] for m in models}),
        versions=sorted(
            {m["version"] for m in models if not chosen["model"] or m["model"] == chosen["model"]}
        ),
        workspaces=sorted({c.split("-")[0] for m in models for c in m["components"]}),
        found=found,
        error=error,
        NOT_JUDGED=NOT_JUDGED,
        percent=percent,
        count=count,
    )


def percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def count(value: int) -> str:
    """LS counts with thousands separated (`15 576`), as a person reads them."""
    return f"{value:,}".replace(",", "\u202f")


# -- the ML rows beside a dataset's components ---------------------------------------------------------------
@dataclass(frozen=True)
class MlRow:
    """One model's predictions of one component, drawn as an LS bar under the people's bar, with how often
    it agrees with them on this dataset."""

    model: str
    version: str
    bar: Markup
    submitted_by: str
    submitted_at: Any
    agreement: Confusion

    @property
    def summary(self) -> str:
        judged = self.agreement.judged
        text = f"agrees on {self.agreement.agreed} of {judged} judged LS" if judged else "no LS judged yet"
        if self.agreement.not_judged and judged:
            text += f", {self.agreement.not_judged} not judged"
        return text


def component_rows(
    db: Any, run: RunState, dataset: str, people: Mapping[str, RangeMap]
) -> dict[str, list[MlRow]]:
    """Per component, a row for each model's newest version with predictions on this dataset (none when no
    agent predicted it). `people` holds the effective triplets the rows are compared with."""
    found = predictions.latest_verdicts(db, run_number=run.run_number, dataset=dataset)
    return {
        component: [_row(v, run.ls_count, people.get(component, RangeMap())) for v in shown]
        for component, shown in found.items()
    }


def _score(value: Mapping[str, Any]) -> str:
    low, high = f"{value['min_score']:.2f}", f"{value['max_score']:.2f}"
    return f"score {low}" if low == high else f"scores {low}–{high}"


def _row(v: Verdicts, ls_count: int, people: RangeMap) -> MlRow:
    by = v.last_submission
    described = RangeMap.from_stored(
        [
            (first, last, {"status": value["status"], "comment": f"{v.model} {v.version}, {_score(value)}"})
            for first, last, value in v.ranges
        ]
    )
    segments = [
        segment if segment["comment"] else {**segment, "status": "no prediction"}  # the LS it did not predict
        for segment in run_view.ls_bar(described, ls_count)
    ]
    counts = Confusion(v.component, v.model, v.version)
    counts.add(confusion(v.ranges, people))
    return MlRow(
        model=v.model,
        version=v.version,
        bar=run_view.lsbar_svg(f"{v.component} predicted by {v.model} {v.version}", segments),
        submitted_by=by.author if by else "",
        submitted_at=by.submitted_at.isoformat() if by else "",
        agreement=counts,
    )
