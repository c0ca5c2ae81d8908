"""Telling McM / ReReco / RelVal that a workflow changed: bearer tokens from an OAuth2 client-credentials
grant, cached per audience for 75 % of their lifetime; no grid certificate is ever sent to these hosts."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable
from urllib.parse import quote

import httpx
import orjson

from runreg.kernel.errors import RunregError

if TYPE_CHECKING:
    from runreg.settings import Settings

PATHS = {
    "rereco": ("POST", "/rereco/api/requests/update_workflows"),
    "relval": ("POST", "/relval/api/relvals/update_workflows"),
    "mcm": ("GET", "/mcm/restapi/requests/fetch_stats_by_wf/{name}"),
}
TOKEN_SHARE = 0.75


class CallbackFailed(RunregError):
    code = "callback_failed"


@runtime_checkable
class CallbackSink(Protocol):
    def notify(self, env: str, target: str, *, name: str, prep_id: str | None) -> None:
        """Tell `target` ("mcm", "rereco", "relval") of environment `env` ("prod", "dev") about `name`."""
        ...


class PdmvCallbacks:
    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        hosts: Mapping[str, tuple[str, str]],  # env -> (base URL, token audience)
        timeout: float = 20.0,
        verify: bool | str = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.token_url = token_url
        self._credentials = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        self.hosts = dict(hosts)
        self._http = httpx.Client(timeout=timeout, verify=verify, transport=transport)
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self.token_requests = 0

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> PdmvCallbacks:
        if not (settings.callback_client_id and settings.callback_client_secret):
            raise CallbackFailed(
                "callbacks need RUNREG_CALLBACK_CLIENT_ID and RUNREG_CALLBACK_CLIENT_SECRET",
                details={"missing": "callback client credentials"},
            )
        return cls(
            token_url=settings.callback_token_url,
            client_id=settings.callback_client_id,
            client_secret=settings.callback_client_secret,
            hosts={
                "prod": (settings.callback_prod_url, settings.callback_prod_audience),
                "dev": (settings.callback_dev_url, settings.callback_dev_audience),
            },
            **options,
        )

    def close(self) -> None:
        self._http.close()

    def notify(self, env: str, target: str, *, name: str, prep_id: str | None) -> None:
        if env not in self.hosts:
            raise CallbackFailed(f"no callback host configured for {env!r}")
        base, audience = self.hosts[env]
        method, path = PATHS[target]
        url = base.rstrip("/") + path.format(name=quote(name, safe=""))
        headers = {"Authorization": f"Bearer {self._token(audience)}"}
        try:
            if method == "GET":
                response = self._http.get(url, headers=headers)
            else:
                response = self._http.post(
                    url,
                    content=orjson.dumps({"prepid": prep_id}),
                    headers=headers | {"Content-Type": "application/json"},
                )
        except httpx.HTTPError as exc:
            raise CallbackFailed(f"{method} {url}: {type(exc).__name__}: {exc}") from None
        if response.status_code in (401, 403):
            self._forget(audience)  # a revoked token: the next attempt asks for a new one
        if response.status_code != 200:
            raise CallbackFailed(f"{method} {url}: HTTP {response.status_code}", details={"url": url})

    def _token(self, audience: str) -> str:
        with self._lock:
            cached = self._tokens.get(audience)
            if cached is not None and time.monotonic() < cached[1]:
                return cached[0]
            self.token_requests += 1
            try:
                response = self._http.post(self.token_url, data=self._credentials | {"audience": audience})
                body = response.json() if response.status_code == 200 else {}
            except (httpx.HTTPError, ValueError) as exc:
                raise CallbackFailed(f"token endpoint {self.token_url}: {exc}") from None
            token = body.get("access_token")
            if not isinstance(token, str) or not token:
                raise CallbackFailed(
                    f"token endpoint {self.token_url} gave no token (HTTP {response.status_code})"
                )
            lifetime = float(body.get("expires_in", 60))
            self._tokens[audience] = (token, time.monotonic() + TOKEN_SHARE * lifetime)
            return token

    def _forget(self, audience: str) -> None:
        with self._lock:
            self._tokens.pop(audience, None)
