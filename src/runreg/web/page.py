"""What every page handler shares: who is asking, what they may do (the services' gate), CSRF, rendering."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2.runtime
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import UploadFile as StarletteUploadFile

from runreg.access.actions import Target
from runreg.access.identity import identify
from runreg.configuration import service as configuration
from runreg.configuration.model import Configuration
from runreg.kernel.actors import Actor
from runreg.kernel.errors import InvalidInput, PermissionDenied, RunregError, http_status
from runreg.storage.database import Database
from runreg.web import display

CSRF_COOKIE = "runreg_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.globals.update(display.GLOBALS)
templates.env.filters.update(display.FILTERS)

_RENDERING: ContextVar[list[jinja2.runtime.Context] | None] = ContextVar("rendering", default=None)


class _TrackedContext(jinja2.runtime.Context):
    """A template context that the page render which made it can find again (see `render_html`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        made = _RENDERING.get()
        if made is not None:
            made.append(self)


templates.env.context_class = _TrackedContext


def render_html(template: str, page: Page, **context: Any) -> str:
    """The HTML of `template` for `page`.

    Jinja's contexts and the macros defined in them refer to each other, so a context — and every row it
    was given — would stay alive until the cyclic garbage collector found it: the offline page over
    100,000 datasets left ~15,000 such objects per request, and the full collections that freed them every
    ~20 requests stopped the worker for 50–130 ms. The contexts of this render (the page's, its includes',
    its imports' made `with context`) drop what they hold once the HTML is made, so reference counting
    frees the rows at once. Modules imported without context are cached by Jinja and never hold the page.
    """
    made: list[jinja2.runtime.Context] = []
    token = _RENDERING.set(made)
    try:
        return templates.get_template(template).render(page=page, **context)
    finally:
        _RENDERING.reset(token)
        for made_context in made:
            if made_context.parent.get("page") is page:
                made_context.parent.clear()
                made_context.vars.clear()


@dataclass
class Page:
    """One request to a page: the database, the verified actor (or None), the CSRF token of this browser."""

    request: Request
    db: Database
    actor: Actor | None
    csrf: str
    new_csrf: bool = False
    refusals: dict[tuple[str, Target], str | None] = field(default_factory=dict)

    @cached_property
    def config(self) -> Configuration:
        """The configuration current when this request began, read once: the page's tables, its buttons'
        permission checks and its choices all draw from the same version."""
        return configuration.current_configuration(self.db)

    def refusal(self, action: str, **target: Any) -> str | None:
        """Why the actor may not do `action` on `target` (None: allowed) — the services' own gate, asked
        ahead, so a button is drawn disabled with the reason the write would be refused with."""
        key = (action, Target(**target))
        if key not in self.refusals:
            self.refusals[key] = configuration.refusals(
                self.db, actor=self.actor, checks=[key], config=self.config
            )[0]
        return self.refusals[key]

    def ask_ahead(self, checks: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Ask the gate about many (action, target) pairs with one configuration read, so a page with a
        button per component does not read it once per button; refusal() then answers from these."""
        keys = [(action, Target(**target)) for action, target in checks]
        keys = [key for key in dict.fromkeys(keys) if key not in self.refusals]
        answers = configuration.refusals(self.db, actor=self.actor, checks=keys, config=self.config)
        self.refusals.update(zip(keys, answers, strict=True))

    def url(self, path: str, **params: Any) -> str:
        query = urlencode({k: v for k, v in params.items() if v not in (None, "")}, doseq=True)
        return f"{path}?{query}" if query else path


def page(request: Request) -> Page:
    """Dependency of every page: the actor comes from the same verified sources as the API's."""
    settings = request.app.state.settings
    actor = identify(request.headers, settings, request.cookies)
    token = request.cookies.get(CSRF_COOKIE)
    new = not token
    return Page(request, request.app.state.db, actor, token or secrets.token_urlsafe(32), new)


async def posted(request: Request) -> tuple[Page, dict[str, str]]:
    """A form post from a page: the page context and the form fields, after the CSRF check (the token in the
    form or the htmx header must equal this browser's cookie: another site cannot read it to forge a post)."""
    current = page(request)
    # Text fields only; an uploaded file is read by its handler (`uploaded_text`).
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    sent = form.pop(CSRF_FIELD, None) or request.headers.get(CSRF_HEADER, "")
    if current.new_csrf or not hmac.compare_digest(sent, current.csrf):
        raise PermissionDenied("this form is stale or was not sent from a runreg page: reload the page")
    return current, form


async def uploaded_text(request: Request, field: str) -> str:
    """The UTF-8 text of the file uploaded as `field` of a form already `posted` (its parse is kept)."""
    upload = (await request.form()).get(field)
    if not isinstance(upload, StarletteUploadFile) or not upload.filename:
        raise InvalidInput(field, "choose a file to upload")
    try:
        return (await upload.read()).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(field, f"{upload.filename} is not UTF-8 text") from None


def render(current: Page, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    response = HTMLResponse(render_html(template, current, **context), status_code=status_code)
    if current.new_csrf:
        secure = (
            current.request.url.scheme == "https"
            or current.request.headers.get("x-forwarded-proto") == "https"
        )
        response.set_cookie(CSRF_COOKIE, current.csrf, httponly=True, samesite="strict", secure=secure)
    return response


def not_found(
    current: Page, exc: RunregError, *, section: str, back_url: str, back_label: str
) -> HTMLResponse:
    """A page that cannot be shown (what it names does not exist, or is not one): the reason, with its
    status, and a way back."""
    return render(
        current,
        "not_found.html",
        status_code=http_status(exc),
        message=exc.message,
        section=section,
        back_url=back_url,
        back_label=back_label,
    )


Done = str | Callable[[Any], str]


def perform(
    current: Page, write: Callable[[], Any], done: Done, *, changed: str = "runs-changed"
) -> Response:
    """Run one service write for a page form and answer a flash message: the service's refusal (its message,
    its status) or `done` (or `done(what the write returned)`), with an htmx event (`changed`) that tells the
    page's live parts to reload."""
    if current.actor is None:
        return render(current, "_flash.html", status_code=401, error="sign in to do this")
    try:
        result = write()
    except RunregError as exc:
        return render(current, "_flash.html", status_code=http_status(exc), error=exc.message)
    response = render(current, "_flash.html", message=done if isinstance(done, str) else done(result))
    response.headers["HX-Trigger"] = changed
    return response


def perform_form(
    current: Page,
    write: Callable[[], Any],
    done: Done,
    *,
    form: str,
    target: str,
    changed: str = "runs-changed",
    **context: Any,
) -> Response:
    """perform() one write of a form; when the service refuses the input, the form (template `form`, with
    `context`) comes back in place of the one posted (`target`) with the reason next to the field that caused
    it (400), and nothing was written."""
    refused: list[InvalidInput] = []

    def attempt() -> Any:
        try:
            return write()
        except InvalidInput as exc:
            refused.append(exc)
            raise

    response = perform(current, attempt, done, changed=changed)
    if not refused:
        return response
    response = render(current, form, status_code=400, error=refused[0], **context)
    response.headers["HX-Retarget"] = target
    response.headers["HX-Reswap"] = "outerHTML"
    return response
