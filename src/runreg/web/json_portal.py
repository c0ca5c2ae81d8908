"""JSON portal pages: the lists (my, all, official), the create form with presets and the rule check, live
job progress, the result page with downloads and loss charts, and the comparison of two JSONs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from runreg.certification import comparison, service
from runreg.kernel.errors import InvalidInput, NotFound
from runreg.web import json_view
from runreg.web.page import Page, page, perform, posted, render

router = APIRouter(include_in_schema=False)
PAGE = Depends(page)
TABS = {"my": "My JSONs", "all": "All JSONs", "official": "Official JSONs"}
PAGE_SIZE = 25
POLL_SECONDS = 1
DEFAULT_PRESET = "golden"
FORM_FIELDS = (
    "dataset_pattern",
    "json_logic",
    "preset",
    "tags",
    "official",
    "policy",
    "preset_name",
    "description",
)
RULE_FIELDS = ("rule", "json_logic")
PATTERN_FIELDS = ("dataset_pattern", "dataset_name_filter")
COMPARE_CHOICES = 200


def _partial(current: Page) -> bool:
    return current.request.headers.get("hx-request") == "true"


@router.get("/json_portal", response_class=HTMLResponse)
def portal(current: Page = PAGE, tab: str = "", before: int | None = None) -> HTMLResponse:
    """The list of one tab (an htmx request gets only the list) next to the create form."""
    tab = tab if tab in TABS else ("my" if current.actor else "all")
    listing = _listing(current, tab, before)
    if _partial(current):
        return render(current, "json_portal/_list.html", **listing)
    return render(current, "json_portal/index.html", **listing, **_panel(current, _defaults(current)))


@router.get("/json_portal/form", response_class=HTMLResponse)
def create_form(current: Page = PAGE, load: str = "", after_save: str = "") -> HTMLResponse:
    """The create panel again: `load` fills it from the chosen preset; after a preset was saved or deleted it
    keeps what was typed and selects the preset by the name saved, if it still exists."""
    values = {key: current.request.query_params.get(key, "") for key in FORM_FIELDS}
    known = {p.name: p for p in service.list_presets(current.db)}
    if load and values["preset"] in known:
        chosen = known[values["preset"]]
        values.update(_preset_values(chosen))
    elif load:
        values.update(preset="", preset_name="", description="")
    elif after_save:
        values["preset"] = values["preset_name"] if values["preset_name"] in known else ""
    return render(current, "json_portal/_create.html", **_panel(current, values))


@router.get("/json_portal/matches", response_class=HTMLResponse)
def pattern_matches(current: Page = PAGE, dataset_pattern: str = "") -> HTMLResponse:
    """The live preview under the pattern: how many dataset names and runs it matches."""
    error, matches = None, None
    if dataset_pattern.strip():
        try:
            matches = service.matching_datasets(current.db, dataset_pattern=dataset_pattern.strip())
        except InvalidInput as exc:
            error = exc
    return render(current, "json_portal/_matches.html", matches=matches, error=error)


@router.post("/json_portal/check", response_class=HTMLResponse)
async def check_rule(request: Request) -> HTMLResponse:
    """The editor's check: the error at its node, or what the rule reads."""
    current, form = await posted(request)
    needs, error, rule = None, None, None
    try:
        rule = json_view.parse_rule(form.get("json_logic", ""))
        needs = service.check_rule(rule=rule)
    except InvalidInput as exc:
        error = exc
    return render(current, "json_portal/_rule_check.html", needs=needs, **_rule_error(rule, error))


@router.post("/json_portal/create", response_class=HTMLResponse)
async def create(request: Request) -> Response:
    current, form = await posted(request)
    return _form_write(
        current,
        form,
        lambda rule: service.submit(
            current.db,
            request.app.state.jobs,
            actor=current.actor,
            dataset_pattern=form.get("dataset_pattern", "").strip(),
            rule=rule,
            preset=form.get("preset") or None,
            tags=form.get("tags", ""),
            official=form.get("official") == "on",
            policy=form.get("policy", "refuse"),
        ),
        "JSON queued: follow its progress in the list",
        changed="jsons-changed",
    )


@router.post("/json_portal/presets", response_class=HTMLResponse)
async def save_preset(request: Request) -> Response:
    current, form = await posted(request)
    name = form.get("preset_name", "").strip()
    return _form_write(
        current,
        form,
        lambda rule: service.save_preset(
            current.db,
            actor=current.actor,
            name=name,
            rule=rule,
            dataset_pattern=form.get("dataset_pattern", "").strip(),
            description=form.get("description", ""),
        ),
        f"preset {name!r} saved",
        changed="presets-changed",
    )


@router.post("/json_portal/presets/delete", response_class=HTMLResponse)
async def delete_preset(request: Request) -> Response:
    current, form = await posted(request)
    name = form.get("preset", "")
    return perform(
        current,
        lambda: service.delete_preset(current.db, actor=current.actor, name=name),
        f"preset {name!r} deleted",
        changed="presets-changed",
    )


@router.get("/json_portal/jobs/{job_id}/row", response_class=HTMLResponse)
def job_row(job_id: int, current: Page = PAGE) -> HTMLResponse:
    """One row of the list: it polls itself while its job is queued or running."""
    job = service.get(current.db, job_id)
    return render(current, "json_portal/_row.html", job=job, poll_seconds=POLL_SECONDS)


@router.get("/json_portal/compare", response_class=HTMLResponse)
def compare(current: Page = PAGE, a: int | None = None, b: int | None = None) -> HTMLResponse:
    """Runs, LS and luminosity only in A, only in B and in both (the lumi-list algebra)."""
    result, error = None, None
    if a is not None and b is not None:
        try:
            result = comparison.compare(current.db, a=a, b=b)
        except (InvalidInput, NotFound) as exc:
            error = exc.message
    choices = [
        j
        for j in service.list_jobs(current.db, limit=COMPARE_CHOICES, with_result=False)
        if j.status == "done"
    ]
    return render(current, "json_portal/compare.html", a=a, b=b, result=result, error=error, choices=choices)


@router.get("/json_portal/compare/download")
def compare_download(a: int, b: int, part: str, current: Page = PAGE) -> Response:
    """One side of a comparison as a golden JSON (`only_a`, `only_b` or `both`)."""
    if part not in ("only_a", "only_b", "both"):
        raise InvalidInput("part", f"{part!r} is not only_a, only_b or both")
    lumis = getattr(comparison.compare(current.db, a=a, b=b), part).lumis
    return _attachment(
        lumis.to_compact_json_text(), "application/json", f"runreg_json_{a}_vs_{b}_{part}.json"
    )


@router.get("/json_portal/{job_id}", response_class=HTMLResponse)
def job_page(job_id: int, current: Page = PAGE) -> HTMLResponse:
    """A JSON: its status (live while it runs), figures, downloads, loss charts, runs and management."""
    job = service.get(current.db, job_id)
    view: dict[str, Any] = {"job": job, "poll_seconds": POLL_SECONDS, "kinds": json_view.KINDS}
    if job.status == "done" and job.result is not None:
        view.update(
            summary=json_view.summary(job.result),
            charts=json_view.charts(job.result),
            runs=json_view.run_rows(job.result),
            cmssw=json_view.download(job.result, "lumis_to_process")[0],
            rule_lines=json_view.rule_outline(job.rule),
        )
    return render(current, "json_portal/job.html", **view)


@router.get("/json_portal/{job_id}/progress", response_class=HTMLResponse)
def job_progress(job_id: int, current: Page = PAGE) -> HTMLResponse:
    """The live progress of a queued or running job; once it ends, the page reloads to show the result."""
    job = service.get(current.db, job_id)
    response = render(current, "json_portal/_progress.html", job=job, poll_seconds=POLL_SECONDS)
    if job.status not in ("queued", "running"):
        response.headers["HX-Refresh"] = "true"
    return response


@router.get("/json_portal/{job_id}/download/{kind}")
def download(job_id: int, kind: str, current: Page = PAGE) -> Response:
    if kind not in json_view.KINDS:
        raise InvalidInput("kind", f"{kind!r} is not one of {', '.join(json_view.KINDS)}")
    job = service.get(current.db, job_id)
    if job.status != "done" or job.result is None:
        raise InvalidInput("job", f"JSON {job_id} is {job.status}: there is nothing to download yet")
    text, media = json_view.download(job.result, kind)
    suffix = "txt" if media == "text/plain" else "json"
    return _attachment(text, media, f"runreg_{kind}_{job_id}.{suffix}")


@router.post("/json_portal/{job_id}/official", response_class=HTMLResponse)
async def set_official(job_id: int, request: Request) -> Response:
    current, form = await posted(request)
    official = form.get("official") == "true"
    return perform(
        current,
        lambda: service.set_official(current.db, actor=current.actor, job_id=job_id, official=official),
        f"JSON {job_id} is {'official' if official else 'no longer official'}",
        changed="jsons-changed",
    )


@router.post("/json_portal/{job_id}/tags", response_class=HTMLResponse)
async def set_tags(job_id: int, request: Request) -> Response:
    current, form = await posted(request)
    return perform(
        current,
        lambda: service.set_tags(current.db, actor=current.actor, job_id=job_id, tags=form.get("tags", "")),
        f"tags of JSON {job_id} saved",
        changed="jsons-changed",
    )


@router.post("/json_portal/{job_id}/delete", response_class=HTMLResponse)
async def delete(job_id: int, request: Request) -> Response:
    current, _form = await posted(request)
    return perform(
        current,
        lambda: service.delete(current.db, actor=current.actor, job_id=job_id),
        f"JSON {job_id} deleted",
        changed="jsons-changed",
    )


def _listing(current: Page, tab: str, before: int | None) -> dict[str, Any]:
    if tab == "my" and current.actor is None:
        jobs: list[service.Job] = []
    else:
        jobs = service.list_jobs(
            current.db,
            limit=PAGE_SIZE + 1,
            created_by=current.actor.name if tab == "my" and current.actor else None,
            official=True if tab == "official" else None,
            before=before,
            with_result=False,
        )
    return {
        "tab": tab,
        "tabs": TABS,
        "jobs": jobs[:PAGE_SIZE],
        "older": jobs[PAGE_SIZE - 1].id if len(jobs) > PAGE_SIZE else None,
        "before": before,
        "poll_seconds": POLL_SECONDS,
    }


def _defaults(current: Page) -> dict[str, str]:
    values = dict.fromkeys(FORM_FIELDS, "")
    values["policy"] = "refuse"
    golden = service.find_preset(current.db, DEFAULT_PRESET)
    if golden is not None:
        values.update(_preset_values(golden))
    return values


def _preset_values(preset: service.Preset) -> dict[str, str]:
    return {
        "preset": preset.name,
        "dataset_pattern": preset.dataset_pattern,
        "json_logic": json_view.rule_text(preset.rule),
        "preset_name": preset.name if preset.owner else "",
        "description": preset.description if preset.owner else "",
    }


def _panel(current: Page, values: Mapping[str, str], error: InvalidInput | None = None) -> dict[str, Any]:
    """What the create panel draws: values, presets, an error at its field (a rule's at its node)."""
    rule = None
    if error is not None and error.field in RULE_FIELDS:
        try:
            rule = json_view.parse_rule(values.get("json_logic", ""))
        except InvalidInput:
            rule = None
    all_presets = service.list_presets(current.db)
    return {
        "values": values,
        "presets": all_presets,
        "selected": next((p for p in all_presets if p.name == values.get("preset")), None),
        "policies": service.POLICIES,
        "error": error,
        "pattern_error": error if error is not None and error.field in PATTERN_FIELDS else None,
        **_rule_error(rule, error),
    }


def _rule_error(rule: Any, error: InvalidInput | None) -> dict[str, Any]:
    if error is None or error.field not in RULE_FIELDS:
        return {"rule_error": None, "outline": []}
    path = (error.details or {}).get("path")
    return {
        "rule_error": error,
        "outline": json_view.rule_outline(rule, path) if rule is not None and path else [],
    }


def _form_write(
    current: Page, form: dict[str, str], write: Callable[[Any], Any], done: str, *, changed: str
) -> Response:
    """A write of the create panel through `perform`; bad input re-draws the panel with the error at its
    field (status 400), in place of the flash."""
    invalid: list[InvalidInput] = []

    def checked() -> None:
        try:
            write(json_view.parse_rule(form.get("json_logic", "")))
        except InvalidInput as exc:
            invalid.append(exc)
            raise

    response = perform(current, checked, done, changed=changed)
    if not invalid:
        return response
    values = {key: form.get(key, "") for key in FORM_FIELDS}
    redrawn = render(
        current, "json_portal/_create.html", status_code=400, **_panel(current, values, invalid[0])
    )
    redrawn.headers["HX-Retarget"] = "#create-panel"
    redrawn.headers["HX-Reswap"] = "outerHTML"
    return redrawn


def _attachment(text: str, media: str, filename: str) -> Response:
    return PlainTextResponse(
        text, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
