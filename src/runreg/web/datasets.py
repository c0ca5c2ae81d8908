"""The dataset page: an offline dataset of a run — its run's attributes, its workspace states with their
moves and history, its DCS bits (the online values with the dataset's corrections, true or false), its
components' LS with edits while their workspace is OPEN, its LS table and its history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from runreg.datasets.selection import HIDDEN, HIDDEN_REASON
from runreg.kernel.errors import InvalidInput, RunregError, http_status
from runreg.luminosity import service as luminosity
from runreg.registry import readmodels
from runreg.registry import service as registry
from runreg.registry.model import WAITING_DQM_GUI
from runreg.web import dataset_view, ml, run_view
from runreg.web.display import dataset_url
from runreg.web.page import Page, page, perform, posted, render
from runreg.web.runs import DATASET_CHANGED, component_context, ls_number, submit, submit_flag_edit

router = APIRouter(include_in_schema=False)
PAGE = Depends(page)
MOVE = "registry:dataset:move"
OMS_WRITE = "registry:oms:write"
BIT_VALUES = {"true": True, "false": False}


# -- reading ------------------------------------------------------------------------------------------------
@router.get("/datasets/{run_number:int}/{path:path}", response_class=HTMLResponse)
def dataset_page(run_number: int, path: str, current: Page = PAGE) -> Response:
    """The whole page; an htmx request (after a write) gets only its main part."""
    try:
        view = _view(current, run_number, path)
    except RunregError as exc:
        return render(
            current,
            "datasets/error.html",
            status_code=http_status(exc),
            run_number=run_number,
            name="/" + path,
            error=exc,
        )
    context = _main_context(current, view)
    if current.request.headers.get("hx-request") == "true":
        return render(current, "datasets/_main.html", **context)
    return render(current, "datasets/dataset.html", **context)


def _view(current: Page, run_number: int, path: str) -> registry.DatasetView:
    """The dataset the URL names: `/datasets/<run>/<name without its leading slash>` (a name without one
    is found too)."""
    try:
        return registry.dataset_view(current.db, run_number=run_number, name="/" + path)
    except InvalidInput as slashed:
        if path.startswith("/") or not path:
            raise
        try:
            return registry.dataset_view(current.db, run_number=run_number, name=path)
        except InvalidInput:
            raise slashed from None


def _main_context(current: Page, view: registry.DatasetView) -> dict[str, Any]:
    run, name, config, ds = view.run, view.name, view.configuration, view.dataset
    states = dataset_view.workspace_states(ds.attributes, config)
    order = run_view.component_order(run, config, name)
    current.ask_ahead(_checks(run.run_number, name, states, [c for c, _ in order]))
    samples = ds.attributes.get(readmodels.IN_GUI)
    history = dataset_view.state_history(view.log)
    bits = dataset_view.dcs_bits(run, name)
    components = component_context(run, config, view.log, name, current.refusal)
    return {
        **components,
        "ml_rows": ml.component_rows(current.db, run, name, components["people"]),
        "name": name,
        "dataset": ds,
        "url": dataset_url(run.run_number, name),
        "as_of_base": None,
        "groups": run_view.attribute_groups(run.oms),
        "luminosity": luminosity.sources(current.db, run_number=run.run_number),
        "rr_rows": run_view.rr_rows(run),
        "states": [
            (
                workspace,
                state,
                [
                    (
                        to,
                        current.refusal(
                            MOVE,
                            run=run.run_number,
                            dataset=name,
                            workspace=workspace,
                            from_state=state,
                            to_state=to,
                        ),
                    )
                    for to in dataset_view.state_moves(state)
                ],
            )
            for workspace, state in states
        ],
        "waiting": WAITING_DQM_GUI,
        "state_history": history,
        "last_moves": dataset_view.last_moves(history),
        "bits": bits,
        "bit_names": [bit["key"] for bit in bits] or list(dataset_view.DCS_BITS),
        "oms_history": dataset_view.oms_history(view.log),
        "oms_refusal": current.refusal(OMS_WRITE, run=run.run_number, dataset=name),
        "dataset_history": run_view.run_history(view.log),
        "samples": samples if isinstance(samples, list) else [],
        "hidden": ds.attributes.get(HIDDEN) is True,
        "hidden_reason": ds.attributes.get(HIDDEN_REASON, ""),
        "shown": run_view.shown,
        "errors": {},
    }


def _checks(
    run_number: int, name: str, states: list[tuple[str, str]], components: list[str]
) -> list[tuple[str, dict[str, Any]]]:
    """The (action, target) of every write button of the page, as the services will check them."""
    checks: list[tuple[str, dict[str, Any]]] = [
        (
            MOVE,
            {
                "run": run_number,
                "dataset": name,
                "workspace": workspace,
                "from_state": state,
                "to_state": to,
            },
        )
        for workspace, state in states
        for to in dataset_view.state_moves(state)
    ]
    checks.append((OMS_WRITE, {"run": run_number, "dataset": name}))
    checks += [("registry:flags:write", registry.flag_edit_target(run_number, name, c)) for c in components]
    return checks


# -- writing ------------------------------------------------------------------------------------------------
@router.post("/datasets/{run_number:int}/move", response_class=HTMLResponse)
async def move(run_number: int, request: Request) -> Response:
    """A workspace state of a dataset to another (the offline tables and the dataset page)."""
    current, form = await posted(request)
    name, workspace, to_state = form.get("dataset", ""), form.get("workspace", ""), form.get("to_state", "")
    return perform(
        current,
        lambda: registry.move_dataset(
            current.db,
            actor=current.actor,
            run_number=run_number,
            name=name,
            workspace=workspace,
            to_state=to_state,
            comment=form.get("comment", "").strip(),
        ),
        f"{name} of run {run_number}: {workspace} moved to {to_state}",
        changed=DATASET_CHANGED,
    )


@router.post("/datasets/{run_number:int}/flags/{component}", response_class=HTMLResponse)
async def edit_flags(run_number: int, component: str, request: Request) -> Response:
    current, form = await posted(request)
    return submit_flag_edit(current, run_number, form.get("dataset", ""), component, form)


@router.post("/datasets/{run_number:int}/oms", response_class=HTMLResponse)
async def edit_dcs_bit(run_number: int, request: Request) -> Response:
    """A DCS bit set true or false over an LS range of the dataset, with its mandatory reason."""
    current, form = await posted(request)
    name, key = form.get("dataset", ""), form.get("key", "")

    def write() -> Any:
        if key not in dataset_view.DCS_BITS:
            raise InvalidInput("key", f"{key[:40]!r} is not a DCS bit")
        if form.get("value") not in BIT_VALUES:
            raise InvalidInput("value", "choose true or false")
        first = ls_number(form, "first_ls")
        last = ls_number(form, "last_ls")
        return registry.set_oms_values(
            current.db,
            actor=current.actor,
            run_number=run_number,
            dataset=name,
            first_ls=first,
            last_ls=last,
            values={key: BIT_VALUES[form["value"]]},
            comment=form.get("comment", "").strip(),
        )

    return submit(
        current,
        write,
        f"{key}: LS {form.get('first_ls')}–{form.get('last_ls')} set to {form.get('value')} on {name}",
        form="datasets/_dcs_form.html",
        standalone=True,
        target="#dcs-form",
        changed=DATASET_CHANGED,
        run_number=run_number,
        name=name,
        bit_names=dataset_view.DCS_BITS,
        values=form,
        refusal=current.refusal(OMS_WRITE, run=run_number, dataset=name),
    )
