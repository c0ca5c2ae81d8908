"""Offline cycles pages (rr_backend §8.2): the cycles of a workspace, a cycle's card (deadline, states and
who changed them, completion for the workspace with the reason when it is refused, moving its datasets),
its datasets table with per-dataset moves and progress, its history, the forms that create and edit it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from runreg.datasets import cycles as rules
from runreg.datasets import service as cycles
from runreg.kernel.errors import InvalidInput, NotFound, RunregError, http_status
from runreg.kernel.limits import parse_json
from runreg.web.page import Page, page, perform, perform_form, posted, render

router = APIRouter(include_in_schema=False)
PAGE = Depends(page)
#: The htmx event a cycle write emits: the cycles part of the page reloads.
CHANGED = "cycles-changed"
#: Member datasets drawn per page of a cycle's table.
TABLE_PAGE = 100
#: Datasets a preview lists before "and N more".
PREVIEW_ROWS = 10
FILTER_FIELDS = ("dataset", "run_from", "run_to", "run_class", "raw")


# -- reading ------------------------------------------------------------------------------------------------
@router.get("/offline/cycles")
def cycles_home() -> RedirectResponse:
    return RedirectResponse("/offline/cycles/global", status_code=307)


@router.get("/offline/cycles/{workspace}", response_class=HTMLResponse)
def cycles_page(workspace: str, current: Page = PAGE) -> Response:
    """The whole page; an htmx request (after a write) gets only its cycles part."""
    params = current.request.query_params
    try:
        context = _context(current, workspace, params)
    except RunregError as exc:
        return _cannot_show(current, exc, workspace)
    if current.request.headers.get("hx-request") == "true":
        return render(current, "cycles/_main.html", **context, partial=True)
    values = {key: params.get(key, "") for key in ("name", "deadline", *FILTER_FIELDS)}
    if params.get("filter"):
        values["raw"] = params["filter"]  # "create a cycle from this filter", linked from the datasets table
    return render(
        current,
        "cycles/index.html",
        **context,
        values=values,
        chosen_workspaces={"global", workspace},
        open_create=params.get("new") == "1" or bool(params.get("filter")),
    )


@router.get("/offline/cycles/{workspace}/preview", response_class=HTMLResponse)
def preview(workspace: str, current: Page = PAGE) -> HTMLResponse:
    """How many datasets the filter of a form selects (and the first of them), before creating or adding."""
    form = dict(current.request.query_params)
    try:
        chosen = cycles.preview(current.db, filter=filter_from(form))
    except InvalidInput as exc:
        return render(current, "cycles/_preview.html", status_code=400, error=exc)
    return render(current, "cycles/_preview.html", chosen=chosen, rows=PREVIEW_ROWS)


def _context(current: Page, workspace: str, params: Mapping[str, str]) -> dict[str, Any]:
    config = current.config
    offline = [ws.name for ws in config.workspaces if ws.mode == "offline"]
    if workspace not in offline:
        raise NotFound(f"there is no offline workspace {workspace!r}", details={"workspace": workspace})
    listed = cycles.list_cycles(current.db, workspace=workspace, members=False)
    chosen_id = _int(params.get("cycle"), "cycle")
    if chosen_id is None and listed:
        chosen_id = listed[0].id
    card = _card(current, workspace, chosen_id, _int(params.get("page"), "page") or 0) if chosen_id else None
    current.ask_ahead(
        [(cycles.CREATE, {}), (cycles.EDIT, {}), (cycles.DELETE, {})] + (card["checks"] if card else [])
    )
    return {
        "workspace": workspace,
        "workspaces": offline,
        "pending": cycles.pending_counts(current.db),
        "listed": listed,
        "card": card,
        "now": datetime.now(UTC),
        "deadline_text": deadline_text,
        "describe": describe,
        "states": rules.DATASET_STATES,
    }


def _card(current: Page, workspace: str, cycle_id: int, page_number: int) -> dict[str, Any]:
    """The selected cycle: its view, and for the workspace each button with the reason it is refused."""
    view = cycles.cycle_view(current.db, cycle_id)
    cycle, state = view.cycle, view.cycle.states.get(workspace)
    checks: list[tuple[str, dict[str, Any]]] = []
    rows = view.members[page_number * TABLE_PAGE : (page_number + 1) * TABLE_PAGE]
    moves: dict[tuple[int, str], list[tuple[str, str | None, dict[str, Any]]]] = {}
    for member in rows:
        was = member.state(workspace)
        options = []
        for to in rules.DATASET_STATES:
            if was is None or to == was:
                continue
            target = _move_target(member, workspace, was, to)
            checks.append((cycles.MOVE, target))
            rule = (
                None
                if cycle.deleted
                else rules.dataset_move_refusal(cycle.states, workspace, member, was, to)
            )
            options.append((to, rule, target))
        moves[member.run_number, member.name] = options
    move_all = []
    for to in rules.DATASET_STATES:
        plan = view.plan(workspace, to) if state else rules.MovePlan([], {})
        target = (
            _move_target(plan.moving[0], workspace, plan.moving[0].state(workspace), to)
            if plan.moving
            else None
        )
        if target:
            checks.append((cycles.MOVE, target))
        move_all.append(
            (to, plan, rules.move_all_refusal(cycle.states, workspace, to, plan) if state else None, target)
        )
    state_targets = {
        to: {"workspace": workspace, "from_state": state, "to_state": to}
        for to in rules.CYCLE_STATES
        if state
    }
    checks += [(cycles.COMPLETE, target) for target in state_targets.values()]
    return {
        "view": view,
        "cycle": cycle,
        "state": state,
        "progress": view.progress(workspace) if state else (0, 0),
        "complete_rule": view.completion_refusal(workspace) if state else None,
        "pending_rule": view.pending_refusal(workspace) if state else None,
        "state_targets": state_targets,
        "move_all": move_all,
        "rows": rows,
        "moves": moves,
        "page": page_number,
        "pages": max(1, -(-len(view.members) // TABLE_PAGE)),
        "checks": checks,
    }


def _move_target(member: rules.Member, workspace: str, was: str | None, to: str) -> dict[str, Any]:
    return asdict(cycles.move_target(member, workspace, was, to))


def _cannot_show(current: Page, exc: RunregError, workspace: str) -> HTMLResponse:
    return render(
        current,
        "not_found.html",
        status_code=http_status(exc),
        message=exc.message,
        section="offline",
        back_url="/offline/cycles/global",
        back_label="The cycles of the global workspace",
    )


# -- writing ------------------------------------------------------------------------------------------------
@router.post("/offline/cycles/{workspace}/create", response_class=HTMLResponse)
async def create(workspace: str, request: Request) -> Response:
    """A cycle from the form's filter; on success the page opens it."""
    current, form = await posted(request)
    chosen = await _chosen_workspaces(request)
    made: list[cycles.Cycle] = []

    def write() -> Any:
        made.append(
            cycles.create_cycle(
                current.db,
                actor=current.actor,  # type: ignore[arg-type]  # perform() refuses an anonymous visitor first
                name=form.get("name", ""),
                deadline=form.get("deadline", ""),
                workspaces=chosen,
                filter=filter_from(form),
                comment=form.get("comment", ""),
            )
        )

    response = _submit(
        current,
        write,
        f"cycle {form.get('name', '').strip()!r} created",
        form="cycles/_create.html",
        target="#create-form",
        workspace=workspace,
        workspaces=_offline(current),
        values=form,
        chosen_workspaces=set(chosen),
    )
    if made:
        response.headers["HX-Redirect"] = f"/offline/cycles/{workspace}?cycle={made[0].id}"
    return response


@router.post("/offline/cycles/{workspace}/{cycle_id}/edit", response_class=HTMLResponse)
async def edit(workspace: str, cycle_id: int, request: Request) -> Response:
    current, form = await posted(request)
    chosen = await _chosen_workspaces(request)
    return perform(
        current,
        lambda: cycles.edit_cycle(
            current.db,
            actor=current.actor,  # type: ignore[arg-type]
            cycle_id=cycle_id,
            name=form.get("name", ""),
            deadline=form.get("deadline", ""),
            workspaces=chosen,
            comment=form.get("comment", ""),
        ),
        "cycle saved",
        changed=CHANGED,
    )


@router.post("/offline/cycles/{workspace}/{cycle_id}/datasets/{operation}", response_class=HTMLResponse)
async def datasets(workspace: str, cycle_id: int, operation: str, request: Request) -> Response:
    """Add the datasets the form's filter selects to the cycle, or remove them."""
    current, form = await posted(request)
    change = cycles.add_datasets if operation == "add" else cycles.remove_datasets

    def write() -> Any:
        if operation not in ("add", "remove"):
            raise NotFound(f"cycles have no dataset operation {operation!r}")
        return change(
            current.db,
            actor=current.actor,  # type: ignore[arg-type]
            cycle_id=cycle_id,
            filter=filter_from(form),
            comment=form.get("comment", ""),
        )

    return perform(
        current, write, f"datasets {'added' if operation == 'add' else 'removed'}", changed=CHANGED
    )


@router.post("/offline/cycles/{workspace}/{cycle_id}/state/{to_state}", response_class=HTMLResponse)
async def change_state(workspace: str, cycle_id: int, to_state: str, request: Request) -> Response:
    """Mark the cycle completed in the workspace, or back to pending."""
    current, form = await posted(request)
    change = cycles.mark_completed if to_state == rules.COMPLETED else cycles.mark_pending

    def write() -> Any:
        if to_state not in rules.CYCLE_STATES:
            raise InvalidInput("state", f"{to_state!r} is not one of {', '.join(rules.CYCLE_STATES)}")
        return change(
            current.db,
            actor=current.actor,  # type: ignore[arg-type]
            cycle_id=cycle_id,
            workspace=workspace,
            comment=form.get("comment", ""),
        )

    done = "marked completed" if to_state == rules.COMPLETED else "back to pending"
    return perform(current, write, f"cycle {done} in {workspace}", changed=CHANGED)


@router.post("/offline/cycles/{workspace}/{cycle_id}/move-all", response_class=HTMLResponse)
async def move_all(workspace: str, cycle_id: int, request: Request) -> Response:
    current, form = await posted(request)
    to_state = form.get("to_state", "")
    outcome: list[cycles.MoveOutcome] = []

    def write() -> Any:
        outcome.append(
            cycles.move_all_datasets(
                current.db,
                actor=current.actor,  # type: ignore[arg-type]
                cycle_id=cycle_id,
                workspace=workspace,
                to_state=to_state,
                comment=form.get("comment", ""),
            )
        )

    response = perform(current, write, "", changed=CHANGED)
    if outcome:
        moved = len(outcome[0].moved)
        left = "; ".join(f"{n} {why}" for why, n in outcome[0].skipped.items())
        message = f"{moved} dataset{'s' if moved != 1 else ''} moved to {to_state} in {workspace}"
        response = render(current, "_flash.html", message=message + (f" (left: {left})" if left else ""))
        response.headers["HX-Trigger"] = CHANGED
    return response


@router.post("/offline/cycles/{workspace}/{cycle_id}/move", response_class=HTMLResponse)
async def move_one(workspace: str, cycle_id: int, request: Request) -> Response:
    current, form = await posted(request)
    name, to_state = form.get("name", ""), form.get("to_state", "")

    def write() -> Any:
        return cycles.move_dataset(
            current.db,
            actor=current.actor,  # type: ignore[arg-type]
            cycle_id=cycle_id,
            workspace=workspace,
            run_number=_int(form.get("run_number"), "run_number") or 0,
            name=name,
            from_state=form.get("from_state") or None,
            to_state=to_state,
            comment=form.get("comment", ""),
        )

    return perform(
        current, write, f"{form.get('run_number')} {name} moved to {to_state} in {workspace}", changed=CHANGED
    )


@router.post("/offline/cycles/{workspace}/{cycle_id}/delete", response_class=HTMLResponse)
async def delete(workspace: str, cycle_id: int, request: Request) -> Response:
    current, form = await posted(request)
    response = perform(
        current,
        lambda: cycles.delete_cycle(
            current.db,
            actor=current.actor,  # type: ignore[arg-type]
            cycle_id=cycle_id,
            comment=form.get("comment", ""),
        ),
        "cycle deleted",
        changed=CHANGED,
    )
    if response.status_code == 200:
        response.headers["HX-Redirect"] = f"/offline/cycles/{workspace}"
    return response


def _submit(current: Page, write: Callable[[], Any], done: str, **form: Any) -> Response:
    return perform_form(current, write, done, changed=CHANGED, **form)


# -- helpers ------------------------------------------------------------------------------------------------
def filter_from(form: Mapping[str, str]) -> dict[str, Any]:
    """The table filter of a form: dataset name (`%` wildcards make it a LIKE), run range, class, and the
    filter language as JSON (ANDed with the fields)."""
    parts: list[dict[str, Any]] = []
    name = (form.get("dataset") or "").strip()
    if name:
        parts.append({"name": {"like": name}} if "%" in name else {"name": name})
    for field, operator in (("run_from", ">="), ("run_to", "<=")):
        number = _int(form.get(field), field)
        if number is not None:
            parts.append({"run_number": {operator: number}})
    run_class = (form.get("run_class") or "").strip()
    if run_class:
        parts.append({"rr_attributes.class": run_class})
    raw = (form.get("raw") or "").strip()
    if raw:
        parsed = parse_json("raw", raw)
        if not isinstance(parsed, dict):
            raise InvalidInput("raw", 'the filter language is a JSON object, e.g. {"run_number": {">": 1}}')
        if parsed:
            parts.append(parsed)
    return parts[0] if len(parts) == 1 else {"and": parts} if parts else {}


async def _chosen_workspaces(request: Request) -> list[str]:
    """The checked workspace boxes (a repeated field; the form is parsed once and cached); global always."""
    return [rules.GLOBAL, *(str(ws) for ws in (await request.form()).getlist("workspaces"))]


def _offline(current: Page) -> list[str]:
    return [ws.name for ws in current.config.workspaces if ws.mode == "offline"]


def _int(text: str | None, field: str) -> int | None:
    if text is None or not str(text).strip():
        return None
    try:
        return int(str(text).strip())
    except ValueError:
        raise InvalidInput(field, f"must be a whole number, got {text!r}") from None


def deadline_text(deadline: datetime, now: datetime, completed: bool) -> tuple[str, str]:
    """(`2024-07-15 18:00`, `in 3 days` / `2 days overdue` / `today`) and a CSS class for the second."""
    days = (deadline.date() - now.date()).days
    when = f"{deadline:%Y-%m-%d %H:%M}"
    if completed:
        return when, "done"
    if days < 0:
        return f"{when} · {-days} day{'s' if days != -1 else ''} overdue", "overdue"
    if days == 0:
        return f"{when} · today", "soon"
    return f"{when} · in {days} day{'s' if days != 1 else ''}", "soon" if days <= 3 else ""


def describe(event: cycles.CycleEvent) -> str:
    """One history entry in words."""
    d = event.details
    match event.kind:
        case "created":
            return f"created with {d.get('datasets', 0)} datasets in {', '.join(d.get('workspaces', []))}"
        case "edited":
            changes = []
            for key, change in d.items():
                before, after = change.get("from"), change.get("to")
                if key == "states":
                    changes.append(f"workspaces {', '.join(before or {})} → {', '.join(after or {})}")
                else:
                    changes.append(f"{key} {before} → {after}")
            return "edited: " + "; ".join(changes)
        case "datasets_added":
            return f"added {len(d.get('datasets', []))} datasets"
        case "datasets_removed":
            return f"removed {len(d.get('datasets', []))} datasets"
        case "completed":
            return f"marked completed in {event.workspace}"
        case "pending":
            return f"back to pending in {event.workspace}"
        case "datasets_moved":
            return f"moved {len(d.get('moved', []))} datasets to {d.get('to')} in {event.workspace}"
        case "dataset_moved":
            moved = d.get("moved") or [[None, None, None]]
            run, name, was = moved[0]
            return f"moved {run} {name} from {was} to {d.get('to')} in {event.workspace}"
        case "deleted":
            return "deleted"
    return event.kind
