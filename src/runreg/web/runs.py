"""The run page: a run's OMS and RR attributes, its components' LS with edits and history, its LS table, the
run as of any change set, and why the classifiers decide what they decide on an LS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from runreg.configuration.model import Configuration
from runreg.datasets.selection import HIDDEN
from runreg.ingestion import service as ingestion
from runreg.kernel.errors import InvalidInput, NotFound, RunregError, http_status
from runreg.kernel.quality import USER_STATUSES, Status
from runreg.kernel.ranges import RangeMap
from runreg.luminosity import service as luminosity
from runreg.registry import model as registry_model
from runreg.registry import readmodels
from runreg.registry import service as registry
from runreg.registry.model import ONLINE
from runreg.web import ml, run_view
from runreg.web.display import dataset_url, moves
from runreg.web.page import Page, page, perform, perform_form, posted, render

router = APIRouter(include_in_schema=False)
PAGE = Depends(page)
#: The htmx events a run write emits: the run page and the online tables both reload.
CHANGED = "run-changed, runs-changed"
#: ... and a dataset write: the dataset page, the offline tables and the run's LS table reload.
DATASET_CHANGED = "dataset-changed, datasets-changed, run-changed"
#: The statuses a person sets, in the order of the status bars.
EDIT_STATUSES = [s.value for s in Status if s in USER_STATUSES]
OTHER_CLASS = "__other__"
#: LS table rows drawn before "show all": a long run's RR view has a row per boundary of any component.
LS_TABLE_ROWS = 200


# -- reading ------------------------------------------------------------------------------------------------
@router.get("/runs/{run_number}", response_class=HTMLResponse)
def run_page(run_number: int, current: Page = PAGE) -> Response:
    """The whole page; an htmx request (after a write) gets only its main part."""
    params = current.request.query_params
    try:
        as_of = _optional_int(params.get("as_of"), "as_of")
        view = registry.run_view(current.db, run_number=run_number, as_of=as_of)
    except RunregError as exc:
        status = http_status(exc)
        return render(current, "runs/error.html", status_code=status, run_number=run_number, error=exc)
    context = _main_context(current, view)
    if current.request.headers.get("hx-request") == "true":
        return render(current, "runs/_main.html", **context)
    ls_view = params.get("ls_view", "oms")
    why_ls = int(params["ls"]) if params.get("ls", "").isdigit() else None
    return render(
        current,
        "runs/run.html",
        **context,
        ls_view=ls_view if ls_view in run_view.LS_VIEWS else "oms",
        why_ls=why_ls,
    )


@router.get("/runs/{run_number}/lumisections", response_class=HTMLResponse)
def lumisections(run_number: int, current: Page = PAGE) -> Response:
    """The LS table in one of its views (OMS, RR, joint)."""
    params = current.request.query_params
    try:
        as_of = _optional_int(params.get("as_of"), "as_of")
        view = registry.run_view(current.db, run_number=run_number, as_of=as_of)
    except RunregError as exc:
        return render(current, "_flash.html", status_code=http_status(exc), error=exc.message)
    dataset = params.get("dataset") or ONLINE
    chosen = params.get("view", "oms")
    limit = None if params.get("all") == "1" else LS_TABLE_ROWS
    try:
        order = [c for c, _ in run_view.component_order(view.run, view.configuration, dataset)]
        view.run.dataset(dataset)
        table = run_view.ls_table(
            view.run, chosen if chosen in run_view.LS_VIEWS else "oms", order, limit=limit, dataset=dataset
        )
    except RunregError as exc:
        return render(current, "_flash.html", status_code=http_status(exc), error=exc.message)
    offline = dataset != ONLINE
    return render(
        current,
        "runs/_lumisections.html",
        run=view.run,
        table=table,
        as_of_id=as_of,
        ls_table_body=run_view.ls_table_body,
        ls_dataset=dataset if offline else None,
        ls_page=dataset_url(run_number, dataset) if offline else f"/runs/{run_number}",
    )


@router.get("/runs/{run_number}/why", response_class=HTMLResponse)
def why(run_number: int, current: Page = PAGE) -> Response:
    """Every classifier traced on one LS: the class, the significance, each component's status."""
    params = current.request.query_params
    try:
        as_of = _optional_int(params.get("as_of"), "as_of")
        ls = _optional_int(params.get("ls") or "1", "ls") or 1
        explanation = ingestion.explain(current.db, run_number=run_number, ls=ls, as_of=as_of)
    except RunregError as exc:
        return render(
            current,
            "runs/_why.html",
            status_code=http_status(exc),
            run_number=run_number,
            error=exc,
            ls=params.get("ls", ""),
            as_of=params.get("as_of"),
            shown=run_view.shown,
            rule_text=run_view.rule_text,
        )
    return render(
        current,
        "runs/_why.html",
        run_number=run_number,
        explanation=explanation,
        ls=ls,
        as_of=as_of,
        shown=run_view.shown,
        rule_text=run_view.rule_text,
    )


def _main_context(current: Page, view: registry.RunView) -> dict[str, Any]:
    run, config = view.run, view.configuration
    readonly = (
        f"read-only: run {run.run_number} as of change set {view.as_of.id}; open the current run to edit"
        if view.as_of
        else None
    )

    def gate(action: str, **target: Any) -> str | None:
        return readonly or current.refusal(action, **target)

    order = run_view.component_order(run, config)
    if not readonly:  # every button's question to the gate, with one configuration read
        current.ask_ahead(_checks(run, [c for c, _ in order]))
    components = component_context(run, config, view.log, ONLINE, gate)
    return {
        **components,
        # Agents' predictions are current only: a run shown as of a change set has no ML rows.
        "ml_rows": {} if view.as_of else ml.component_rows(current.db, run, ONLINE, components["people"]),
        "view": view,
        "as_of": view.as_of,
        "as_of_id": view.as_of.id if view.as_of else None,
        "as_of_base": f"/runs/{run.run_number}",
        "readonly": readonly,
        "gate": gate,
        "run_history": run_view.run_history(view.log),
        "change_sets": view.change_sets,
        "groups": run_view.attribute_groups(run.oms),
        "luminosity": luminosity.sources(current.db, run_number=run.run_number),
        "rr_rows": run_view.rr_rows(run),
        "moves": moves(run.status),
        "classes": _class_names(config),
        "offline_datasets": offline_datasets(run),
        "shown": run_view.shown,
    }


def component_context(
    run: registry_model.RunState,
    config: Configuration,
    log: list[Any],
    dataset: str,
    gate: Callable[..., str | None],
) -> dict[str, Any]:
    """What runs/_components.html draws for one dataset of a run: its components' LS bars, counts, edit
    forms (disabled with the gate's reason, or, offline, the model's while the workspace is not OPEN) and
    per-component history."""
    ds = run.datasets.get(dataset)
    order = run_view.component_order(run, config, dataset)
    online = dataset == ONLINE

    def flag_refusal(component: str) -> str | None:
        target = registry.flag_edit_target(run.run_number, dataset, component)
        refused = gate("registry:flags:write", **target)
        if refused or online or ds is None:
            return refused
        return registry_model.offline_edit_refusal(run, ds, component)

    def workspace_state(component: str) -> str | None:
        if online or ds is None or "-" not in component:
            return None
        return ds.attributes.get(f"{component.split('-', 1)[0]}_state")

    people = {component: flags.effective() for component, flags in ds.flags.items()} if ds else {}
    return {
        "run": run,
        "order": [c for c, _ in order],
        "certifiable": {c for c, certifiable in order if certifiable},
        # Manual over automatic: the bars, and what the ML rows are compared with.
        "people": people,
        "bars": {
            component: run_view.ls_bar(people.get(component, RangeMap()), run.ls_count)
            for component, _ in order
        },
        "ticks": run_view.axis_ticks(run.ls_count),
        "summaries": registry_model.triplet_summary(ds, run.ls_count) if ds else {},
        "history": run_view.component_history(log, dataset),
        "flags_base": f"/runs/{run.run_number}" if online else f"/datasets/{run.run_number}",
        "flag_dataset": None if online else dataset,
        "flag_refusal": flag_refusal,
        "workspace_state": None if online else workspace_state,
        "statuses": EDIT_STATUSES,
        "history_limit": run_view.HISTORY_LIMIT,
        "lsbar_svg": run_view.lsbar_svg,
        "values": {},
        "errors": {},
        "ml_rows": {},
    }


def offline_datasets(run: registry_model.RunState) -> list[dict[str, Any]]:
    """The run's offline datasets a person works on (not the hidden ones), by name: global state, how
    many workspaces are in each state, the DQM GUI samples found."""
    out = []
    for name, ds in sorted(run.datasets.items()):
        if name == ONLINE or ds.attributes.get(HIDDEN) is True:
            continue
        states = [str(v) for k, v in ds.attributes.items() if k.endswith("_state") and k != "global_state"]
        samples = ds.attributes.get(readmodels.IN_GUI)
        out.append(
            {
                "name": name,
                "global_state": ds.attributes.get("global_state"),
                "counts": {state: states.count(state) for state in registry_model.DATASET_STATES},
                "workspaces": len(states),
                "samples": samples if isinstance(samples, list) else [],
            }
        )
    return out


def _checks(run: registry_model.RunState, components: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """The (action, target) of every write button of the page, as the services will check them."""
    number = run.run_number
    checks: list[tuple[str, dict[str, Any]]] = [
        (action, {"run": number})
        for action in (
            *registry.RR_ATTRIBUTE_ACTIONS.values(),
            "registry:run:refresh",
            "registry:run:reset_and_refresh",
            "registry:run:hide",
        )
    ]
    checks += [
        ("registry:run:move", {"run": number, "from_state": run.status, "to_state": to})
        for to in moves(run.status)
    ]
    checks += [("registry:flags:write", registry.flag_edit_target(number, ONLINE, c)) for c in components]
    return checks


def _class_names(config: Configuration) -> list[str]:
    names: list[str] = []
    for classifier in sorted(config.class_classifiers, key=lambda c: c.priority):
        if classifier.class_name not in names:
            names.append(classifier.class_name)
    return names


def _optional_int(text: str | None, field: str) -> int | None:
    if text is None or text.strip() == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(field, f"must be a whole number, got {text!r}") from None


def ls_number(form: dict[str, str], field: str) -> int:
    value = _optional_int(form.get(field), field)
    if value is None:
        raise InvalidInput(field, "an LS number is required")
    return value


# -- writing ------------------------------------------------------------------------------------------------
def submit(
    current: Page, write: Callable[[], Any], done: str, *, changed: str = CHANGED, **form: Any
) -> Response:
    """One write of a run-page form (web.page.perform_form), telling the run page and the tables to reload."""
    return perform_form(current, write, done, changed=changed, **form)


@router.post("/runs/{run_number}/flags/{component}", response_class=HTMLResponse)
async def edit_flags(run_number: int, component: str, request: Request) -> Response:
    current, form = await posted(request)
    return submit_flag_edit(current, run_number, ONLINE, component, form)


def submit_flag_edit(
    current: Page, run_number: int, dataset: str, component: str, form: dict[str, str]
) -> Response:
    """One component's LS range edit of a dataset from its form: done, or the form back with the reason
    next to the field (the run page and the dataset page)."""

    def write() -> Any:
        first, last = ls_number(form, "first_ls"), ls_number(form, "last_ls")
        status, comment = form.get("status", ""), form.get("comment", "").strip()
        return registry.edit_flags(
            current.db,
            actor=current.actor,
            run_number=run_number,
            dataset=dataset,
            edits=[registry.FlagEdit(component, first, last, status, comment, form.get("cause", ""))],
            comment=comment or f"{component}: LS {first}–{last} {status}",
        )

    online = dataset == ONLINE
    return submit(
        current,
        write,
        f"{component}: LS {form.get('first_ls')}–{form.get('last_ls')} set to {form.get('status')}",
        form="runs/_flag_form.html",
        standalone=True,
        target=f"#flag-form-{component}",
        changed=CHANGED if online else DATASET_CHANGED,
        action=f"/runs/{run_number}/flags/{component}"
        if online
        else f"/datasets/{run_number}/flags/{component}",
        dataset=None if online else dataset,
        component=component,
        values=form,
        statuses=EDIT_STATUSES,
        refusal=current.refusal(
            "registry:flags:write", **registry.flag_edit_target(run_number, dataset, component)
        ),
    )


@router.post("/runs/{run_number}/attribute/{key}", response_class=HTMLResponse)
async def edit_attribute(run_number: int, key: str, request: Request) -> Response:
    """The class (one of the classifiers' classes, or typed) or the stop reason."""
    current, form = await posted(request)
    if key not in ("class", "stop_reason"):
        raise NotFound(f"the run page edits no attribute {key!r}")
    if key == "class" and form.get("value") == OTHER_CLASS:
        value = form.get("other", "").strip()
    else:
        value = form.get("value", "").strip()
    action = registry.RR_ATTRIBUTE_ACTIONS[key]
    return submit(
        current,
        lambda: registry.change_run_attributes(
            current.db,
            actor=current.actor,
            run_number=run_number,
            rr={key: value},
            comment=form.get("comment", "").strip() or f"{key.replace('_', ' ')} set to {value or '(empty)'}",
        ),
        f"run {run_number}: {key.replace('_', ' ')} set to {value or '(empty)'}",
        form="runs/_attribute_form.html",
        target=f"#attribute-form-{key}",
        run_number=run_number,
        key=key,
        values=form,
        current_value=value,
        classes=_class_names(current.config),
        refusal=current.refusal(action, run=run_number),
    )


@router.post("/runs/{run_number}/significant", response_class=HTMLResponse)
async def make_significant(run_number: int, request: Request) -> Response:
    current, _form = await posted(request)
    return perform(
        current,
        lambda: ingestion.mark_significant(
            current.db, request.app.state.oms, actor=current.actor, run_number=run_number
        ),
        f"run {run_number} is significant; its LS statuses were computed",
        changed=CHANGED,
    )


@router.post("/runs/{run_number}/move", response_class=HTMLResponse)
async def move(run_number: int, request: Request) -> Response:
    current, form = await posted(request)
    to_state = form.get("to_state", "")
    return perform(
        current,
        lambda: registry.move_run(
            current.db,
            actor=current.actor,
            run_number=run_number,
            to_state=to_state,
            comment=form.get("comment", ""),
        ),
        f"run {run_number} moved to {to_state}",
        changed=CHANGED,
    )


@router.post("/runs/{run_number}/visibility", response_class=HTMLResponse)
async def visibility(run_number: int, request: Request) -> Response:
    """Hide the run from the run tables (`hidden=1`) or show it again, with the reason typed beside."""
    current, form = await posted(request)
    hide = form.get("hidden") == "1"
    change = registry.hide_run if hide else registry.show_run
    return perform(
        current,
        lambda: change(current.db, actor=current.actor, run_number=run_number, reason=form.get("reason", "")),
        f"run {run_number} {'hidden from the run tables' if hide else 'shown in the run tables again'}",
        changed=CHANGED,
    )


@router.post("/runs/{run_number}/refresh", response_class=HTMLResponse)
async def refresh(run_number: int, request: Request) -> Response:
    """Re-read the run from OMS now; `reset` classifies from a blank base. Manual decisions stay."""
    current, form = await posted(request)
    reset = form.get("reset") == "1"
    return perform(
        current,
        lambda: ingestion.refresh_run(
            current.db, request.app.state.oms, actor=current.actor, run_number=run_number, reset=reset
        ),
        f"run {run_number} {'reset and refreshed' if reset else 'refreshed'} from OMS "
        "(statuses a person set are kept)",
        changed=CHANGED,
    )
