"""Configuration pages: the YAML (editable for experts), versions, a diff of any two, restore, and the
classifier playground."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from runreg.configuration import service as configuration
from runreg.configuration.model import Configuration, line_of_problem
from runreg.ingestion import service as ingestion
from runreg.kernel.errors import InvalidInput, NotFound, RunNotFound, RunregError, StaleVersion, http_status
from runreg.web.page import Page, not_found, page, perform, posted, render
from runreg.web.params import whole_number
from runreg.web.textdiff import diff_texts
from runreg.web.trace_display import readable_rule, trace_tree

router = APIRouter(include_in_schema=False)
PAGE = Depends(page)
IMPORT = "configuration:import"
RESTORE = "configuration:restore"
VERSIONS_SHOWN = 200
#: Lines shown around the line a validation problem is on.
EXCERPT_LINES = 3
#: Classifier sections the playground evaluates, and the context each is evaluated on.
PLAYGROUND_SECTIONS = {
    "class_classifiers": "run",
    "significance_classifiers": "run",
    "component_classifiers": "lumisection",
}


@router.get("/config", response_class=HTMLResponse)
def current_configuration(current: Page = PAGE) -> HTMLResponse:
    """The current YAML (or `?version=N`, read-only): an editor for those allowed to import."""
    try:
        version = whole_number(current.request.query_params, "version")
        text = configuration.export_yaml(current.db, version=version)
    except (NotFound, InvalidInput) as exc:
        return _not_found(current, exc)
    versions = configuration.history(current.db, limit=1)
    newest = versions[0] if versions else None
    shown = version or (newest.id if newest else 0)
    return render(
        current,
        "config/index.html",
        editor=_editor(current, text=text, version=shown, newest=newest, past=version is not None),
    )


@router.post("/config", response_class=HTMLResponse)
async def save(request: Request) -> Response:
    """Save the edited YAML as a new version; refusals come back in the editor, at their line or field."""
    current, form = await posted(request)
    text = form.get("yaml", "")
    expected = whole_number(form, "expected_version")
    if current.actor is None:
        return render(current, "_flash.html", status_code=401, error="sign in to do this")
    try:
        saved = configuration.import_yaml(
            current.db,
            actor=current.actor,
            text=text,
            comment=form.get("comment", ""),
            expected_version=expected,
        )
    except RunregError as exc:
        editor = _editor(
            current, text=text, version=expected or 0, error=exc, comment=form.get("comment", "")
        )
        return render(current, "config/_editor.html", status_code=http_status(exc), editor=editor)
    newest = configuration.history(current.db, limit=1)[0]
    editor = _editor(
        current, text=configuration.export_yaml(current.db), version=saved, newest=newest, saved=saved
    )
    response = render(current, "config/_editor.html", editor=editor)
    response.headers["HX-Trigger"] = "config-changed"
    return response


def _editor(
    current: Page,
    *,
    text: str,
    version: int,
    newest: Any = None,
    past: bool = False,
    error: RunregError | None = None,
    comment: str = "",
    saved: int | None = None,
) -> dict[str, Any]:
    lines = text.splitlines()
    problems = []
    if isinstance(error, InvalidInput):
        listed = error.details.get("problems") or [{"field": error.field, "reason": error.reason}]
        for problem in listed:
            line = line_of_problem(text, problem["field"], problem["reason"])
            start = max(1, (line or 1) - EXCERPT_LINES)
            excerpt = [
                (n, lines[n - 1]) for n in range(start, min(len(lines), (line or 0) + EXCERPT_LINES) + 1)
            ]
            problems.append({**problem, "line": line, "excerpt": excerpt if line else []})
    return {
        "text": text,
        "line_count": max(len(lines), 1),
        "version": version,
        "newest": newest,
        "past": past,
        "refusal": "an old version is shown: restore it or open the current one to edit"
        if past
        else current.refusal(IMPORT),
        "error": error,
        "stale": error if isinstance(error, StaleVersion) else None,
        "problems": problems,
        "comment": comment,
        "saved": saved,
    }


@router.get("/config/versions", response_class=HTMLResponse)
def versions(current: Page = PAGE) -> HTMLResponse:
    listed = configuration.history(current.db, limit=VERSIONS_SHOWN)
    partial = current.request.headers.get("hx-request") == "true"
    template = "config/_versions.html" if partial else "config/versions.html"
    return render(current, template, versions=listed, restore_refusal=current.refusal(RESTORE))


@router.post("/config/restore", response_class=HTMLResponse)
async def restore(request: Request) -> Response:
    current, form = await posted(request)
    version = whole_number(form, "version")
    if version is None:
        return render(current, "_flash.html", status_code=400, error="version: which version to restore?")
    return perform(
        current,
        lambda: configuration.restore(
            current.db, actor=current.actor, version=version, comment=form.get("comment", "").strip()
        ),
        f"version {version} restored: it is the current configuration again, as a new version",
        changed="config-changed",
    )


@router.get("/config/diff", response_class=HTMLResponse)
def diff(current: Page = PAGE) -> HTMLResponse:
    """Any two versions as a line diff (default: the current version against the one before it)."""
    listed = configuration.history(current.db, limit=VERSIONS_SHOWN)
    params = current.request.query_params
    try:
        new = whole_number(params, "to") or (listed[0].id if listed else 0)
        old = whole_number(params, "from") or max(1, new - 1)
        texts = [configuration.export_yaml(current.db, version=v) for v in (old, new)]
    except (NotFound, InvalidInput) as exc:
        return _not_found(current, exc)
    return render(
        current,
        "config/diff.html",
        versions=listed,
        old=old,
        new=new,
        diff=diff_texts(*texts),
        restore_refusal=current.refusal(RESTORE),
    )


@router.get("/config/playground", response_class=HTMLResponse)
def playground(current: Page = PAGE) -> HTMLResponse:
    """A JSON-logic rule (typed, or loaded from a classifier) on a run [and LS]: result, trace, values."""
    params = current.request.query_params
    config = current.config
    choices = _classifiers(config)
    chosen = params.get("classifier", "")
    rule_text = params.get("rule", "")
    if chosen in choices and (params.get("load") or not rule_text.strip()):
        rule_text = readable_rule(choices[chosen]["rule"])
    form = {"run": params.get("run", "").strip(), "ls": params.get("ls", "").strip(), "rule": rule_text}
    explained = error = None
    if form["run"] and rule_text.strip():
        try:
            explained = ingestion.explain_rule(
                current.db,
                rule=_rule(rule_text),
                run_number=whole_number(form, "run", required=True),
                ls=whole_number(form, "ls"),
            )
        except RunNotFound as exc:
            error = InvalidInput("run", exc.message)
        except InvalidInput as exc:
            error = exc
    return render(
        current,
        "config/playground.html",
        choices=choices,
        chosen=chosen,
        form=form,
        explained=explained,
        tree=trace_tree(explained.trace) if explained else None,
        error=error,
        status_code=400 if error else 200,
    )


def _not_found(current: Page, exc: RunregError) -> HTMLResponse:
    """A version that does not exist (404), or a version number that is not one (400)."""
    return not_found(
        current, exc, section="config", back_url="/config/versions", back_label="The configuration's versions"
    )


def _classifiers(config: Configuration) -> dict[str, dict[str, Any]]:
    """The online classifiers by `<section>.<index>`, with a label and the context they are evaluated on."""
    out: dict[str, dict[str, Any]] = {}
    for section, context in PLAYGROUND_SECTIONS.items():
        for index, rule in enumerate(getattr(config, section)):
            if getattr(rule, "mode", "online") != "online":
                continue
            if section == "component_classifiers":
                label = f"{rule.component} → {rule.status} (priority {rule.priority})"
            elif section == "class_classifiers":
                label = f"class {rule.class_name} (priority {rule.priority})"
            else:
                label = f"significant if {rule.class_name}"
            label += "" if rule.enabled else " · disabled"
            out[f"{section}.{index}"] = {
                "group": section.replace("_", " "),
                "label": label,
                "rule": rule.rule,
                "context": context,
            }
    return out


def _rule(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput("rule", f"not JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
