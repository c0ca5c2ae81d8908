"""Development mode only: choose who the browser is (e-mail and e-groups), since no SSO proxy is in front."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from runreg.access.identity import DEV_IDENTITY_COOKIE
from runreg.kernel.errors import NotFound
from runreg.web.page import Page, page, posted, render

router = APIRouter(include_in_schema=False)
PAGE = Depends(page)


def _dev_only(request: Request) -> None:
    if not request.app.state.settings.dev_identity:
        raise NotFound("there is no such page")


@router.get("/dev/sign-in", response_class=HTMLResponse)
def sign_in_form(current: Page = PAGE) -> HTMLResponse:
    _dev_only(current.request)
    egroups = [p.egroup for p in current.config.permissions]
    return render(current, "dev_sign_in.html", egroups=egroups)


@router.post("/dev/sign-in")
async def sign_in(request: Request) -> Response:
    _dev_only(request)
    _current, form = await posted(request)
    email = form.get("email", "").strip()[:200]
    chosen = [value for key, value in form.items() if key.startswith("egroup:")]
    response = RedirectResponse(form.get("next") or "/", status_code=303)
    if email:
        response.set_cookie(
            DEV_IDENTITY_COOKIE, f"{email}|{','.join(chosen)}", httponly=True, samesite="strict"
        )
    else:
        response.delete_cookie(DEV_IDENTITY_COOKIE)
    return response
