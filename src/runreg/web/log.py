"""Log pages: change sets newest first (filtered, keyset-paged), one change set as a diff, and its revert."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from runreg.kernel.actors import ActorKind
from runreg.kernel.errors import (
    InvalidInput,
    InvalidState,
    NotFound,
    RevertConflict,
    RunregError,
    http_status,
)
from runreg.registry import service as registry
from runreg.web import changes_display
from runreg.web.page import Page, page, posted, render, templates
from runreg.web.params import whole_number

router = APIRouter(include_in_schema=False)
PAGE = Depends(page)
PAGE_SIZE = 25
REVERT = "registry:change_set:revert"
#: What a forced revert needs on top of REVERT, by the refusal it overrides.
FORCE_ACTIONS = {
    "conflicts": "registry:change_set:force_revert",
    "closed": "registry:change_set:revert_closed",
}
templates.env.filters.update(changes_display.FILTERS)
templates.env.globals.update(changes_display.GLOBALS)


@router.get("/log", response_class=HTMLResponse)
def log(current: Page = PAGE) -> HTMLResponse:
    params = current.request.query_params
    filters = {key: params.get(key, "").strip() for key in ("run", "author", "kind")}
    error = None
    try:
        listing = registry.change_log(
            current.db,
            run_number=whole_number(params, "run"),
            author=filters["author"] or None,
            actor_kind=filters["kind"] or None,
            before=whole_number(params, "before"),
            after=whole_number(params, "after"),
            page_size=PAGE_SIZE,
        )
    except InvalidInput as exc:  # shown next to the filter it is about, with an empty list
        error, listing = exc, registry.LogPage([], {}, {}, None, None)
    return render(
        current, "log/index.html", listing=listing, filters=filters, error=error, kinds=list(ActorKind)
    )


@router.get("/log/{change_set_id}", response_class=HTMLResponse)
def change_set(change_set_id: int, current: Page = PAGE) -> HTMLResponse:
    try:
        described = registry.describe_change_set(current.db, change_set_id=change_set_id)
    except NotFound as exc:
        return render(
            current,
            "not_found.html",
            status_code=404,
            message=exc.message,
            section="log",
            back_url="/log",
            back_label="Back to the change log",
        )
    return render(
        current, "log/change_set.html", described=described, refusal=_revert_refusal(current, described)
    )


@router.post("/log/{change_set_id}/revert", response_class=HTMLResponse)
async def revert(change_set_id: int, request: Request) -> Response:
    """Revert; a refusal comes back with what it is about (later change sets with links, closed runs) and,
    for those allowed, the form to force it with a reason."""
    current, form = await posted(request)
    force = form.get("force") == "1"
    context: dict[str, Any] = {"change_set_id": change_set_id, "comment": form.get("comment", "")}
    if current.actor is None:
        return _answer(current, 401, context, error="sign in to do this")
    try:
        result = registry.revert_change_set(
            current.db,
            actor=current.actor,
            change_set_id=change_set_id,
            force=force,
            comment=form.get("comment", "").strip(),
        )
    except RevertConflict as exc:
        return _answer(current, 409, context, error=exc.message, conflicts=exc.details.get("conflicts", []))
    except InvalidState as exc:
        return _answer(current, 409, context, error=exc.message, closed=exc.details.get("closed", []))
    except InvalidInput as exc:  # a forced revert without a reason: the force form again, with the error
        needs = [need for need in form.get("needs", "").split(",") if need in FORCE_ACTIONS]
        return _answer(current, 400, context, error=exc.message, invalid=exc, needs=needs)
    except RunregError as exc:
        return _answer(current, http_status(exc), context, error=exc.message)
    response = _answer(current, 200, context, reverted_by=result.change_set_id)
    response.headers["HX-Trigger"] = "runs-changed"
    return response


def _answer(current: Page, status: int, context: dict[str, Any], **outcome: Any) -> HTMLResponse:
    needs = outcome.pop("needs", None) or [
        need for need in FORCE_ACTIONS if outcome.get(need)
    ]  # the refusals a forced revert would override
    force_refusal = next((reason for need in needs if (reason := current.refusal(FORCE_ACTIONS[need]))), None)
    return render(
        current,
        "log/_revert.html",
        status_code=status,
        needs=needs,
        force_refusal=force_refusal,
        **context,
        **outcome,
    )


def _revert_refusal(current: Page, described: registry.ChangeSetDescription) -> str | None:
    """Why the revert button is disabled: the gate's reason for one of the runs, or a creation."""
    if described.creates:
        return "a change set that created a run or dataset cannot be reverted"
    return next((r for run in described.runs if (r := current.refusal(REVERT, run=run))), None)
