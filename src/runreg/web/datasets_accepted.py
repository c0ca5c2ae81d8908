"""The datasets-accepted editor (a configuration page): which offline datasets sign-off creates for which
runs, and which DQM GUI samples count as them. Every create, edit or delete is a new configuration version,
validated whole; a refusal comes back next to the field it is about."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from runreg.configuration import service as configuration
from runreg.kernel.errors import InvalidInput, NotFound, RunregError, http_status
from runreg.web.page import Page, page, posted, render
from runreg.web.params import whole_number

router = APIRouter(include_in_schema=False)
PAGE = Depends(page)
EDIT = "configuration:import"
SECTION = "datasets_accepted"
#: The form's fields, in the order a refusal is looked for.
FIELDS = ("name", "class", "regexps", "run_from", "run_to", "enabled")
_PROBLEM = re.compile(rf"^{SECTION}\.(\d+)\.(\w+)(?:\.(\d+))?")


@router.get("/config/datasets-accepted", response_class=HTMLResponse)
def rules_page(current: Page = PAGE) -> HTMLResponse:
    """The rules of the current configuration; an htmx request (after a write) gets only the table."""
    partial = current.request.headers.get("hx-request") == "true"
    context = _context(current)
    return render(current, "config/_rules.html" if partial else "config/datasets_accepted.html", **context)


def _context(current: Page) -> dict[str, Any]:
    versions = configuration.history(current.db, limit=1)
    config = current.config
    return {
        "rules": [_as_form(rule.model_dump(by_alias=True)) for rule in config.datasets_accepted],
        "version": versions[0].id if versions else 0,
        "classes": _classes(current),
        "refusal": current.refusal(EDIT),
        "blank": {"enabled": "1"},
    }


@router.post("/config/datasets-accepted", response_class=HTMLResponse)
async def create(request: Request) -> Response:
    current, form = await posted(request)
    return _save(current, form, None, lambda rules, rule: rules.append(rule), "add")


@router.post("/config/datasets-accepted/{index:int}", response_class=HTMLResponse)
async def edit(index: int, request: Request) -> Response:
    current, form = await posted(request)

    def replace(rules: list[dict[str, Any]], rule: dict[str, Any]) -> None:
        rules[_existing(rules, index)] = rule

    return _save(current, form, index, replace, "edit")


@router.post("/config/datasets-accepted/{index:int}/delete", response_class=HTMLResponse)
async def delete(index: int, request: Request) -> Response:
    current, form = await posted(request)

    def remove(rules: list[dict[str, Any]], _rule: dict[str, Any]) -> None:
        del rules[_existing(rules, index)]

    return _save(current, form, index, remove, "delete")


def _save(
    current: Page,
    form: dict[str, str],
    index: int | None,
    apply: Callable[[list[dict[str, Any]], dict[str, Any]], None],
    verb: str,
) -> Response:
    """One new configuration version with the rule added, replaced or removed (against the version the
    form was drawn from); the form comes back with the reason next to its field when refused."""
    form_id = "rule-new" if index is None else f"rule-{index}"
    if current.actor is None:
        return render(current, "_flash.html", status_code=401, error="sign in to do this")
    name = form.get("name", "").strip()
    try:
        expected = whole_number(form, "expected_version")
        rule = {} if verb == "delete" else _rule(form)
        comment = form.get("comment", "").strip() or f"datasets accepted: {verb} {name or 'rule'}"

        def change(document: dict[str, Any]) -> dict[str, Any]:
            apply(document.setdefault(SECTION, []), rule)
            return document

        version = configuration.edit(
            current.db, actor=current.actor, change=change, comment=comment, expected_version=expected
        )
    except RunregError as exc:
        if verb == "delete" or not isinstance(exc, InvalidInput):
            return render(current, "_flash.html", status_code=http_status(exc), error=exc.message)
        error = _form_error(exc)
        response = render(
            current,
            "config/_rule_form.html",
            status_code=400,
            standalone=True,
            form_id=form_id,
            index=index,
            values=form,
            error=error,
            refusal=None,
            version=expected or 0,
            classes=_classes(current),
        )
        response.headers["HX-Retarget"] = f"#{form_id}"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    done = {"add": "added", "edit": "saved", "delete": "deleted"}[verb]
    response = render(
        current,
        "_flash.html",
        message=f"rule {name or index} {done}: configuration version {version}",
    )
    response.headers["HX-Trigger"] = "config-changed"
    return response


def _classes(current: Page) -> list[str]:
    """The run classes the classifiers give, offered for a rule's class (another may be typed)."""
    config = current.config
    return sorted({c.class_name for c in config.class_classifiers})


def _existing(rules: list[dict[str, Any]], index: int) -> int:
    if not 0 <= index < len(rules):
        raise NotFound(f"there is no rule {index + 1} in the current datasets accepted: reload the page")
    return index


def _rule(form: dict[str, str]) -> dict[str, Any]:
    """The rule a form describes, as the configuration document holds it; the run bounds must be whole
    numbers (blank: no bound), the regular expressions one per line (blank lines ignored)."""
    return {
        "name": form.get("name", "").strip(),
        "class": form.get("class", "").strip(),
        "run_from": whole_number(form, "run_from"),
        "run_to": whole_number(form, "run_to"),
        "enabled": form.get("enabled") in ("1", "on", "true"),
        "regexps": [line.strip() for line in form.get("regexps", "").splitlines() if line.strip()],
    }


def _as_form(rule: dict[str, Any]) -> dict[str, Any]:
    """A stored rule as its form's values."""
    return {
        "name": rule["name"],
        "class": rule["class"],
        "regexps": "\n".join(rule["regexps"]),
        "regexp_list": rule["regexps"],
        "run_from": "" if rule["run_from"] is None else str(rule["run_from"]),
        "run_to": "" if rule["run_to"] is None else str(rule["run_to"]),
        "enabled": "1" if rule["enabled"] else "",
    }


def _form_error(exc: InvalidInput) -> InvalidInput:
    """The configuration's refusal (`datasets_accepted.3.regexps.1: …`) as the form field it is about
    (`regexps`, saying which line); anything else as it is."""
    match = _PROBLEM.match(exc.field)
    if not match or match.group(2) not in FIELDS:
        return exc
    field, line = match.group(2), match.group(3)
    reason = f"line {int(line) + 1}: {exc.reason}" if line is not None else exc.reason
    return InvalidInput(field, reason)
