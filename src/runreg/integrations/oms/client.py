"""Reading runs and lumisections from the OMS API v1 over HTTPS: OAuth2, paging, retries with backoff."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import httpx
import orjson

from runreg.integrations import transport
from runreg.integrations.oms import wire
from runreg.integrations.oms.errors import OmsBadResponse, OmsUnavailable
from runreg.integrations.transport import Retryable, http_client, snippet
from runreg.kernel.collector import collector_paused
from runreg.telemetry import metrics

if TYPE_CHECKING:
    from runreg.settings import Settings

logger = logging.getLogger("runreg.integrations.oms")

LS_PAGE_SIZE = 5000  # what OMS serves at most per page, and what the original RR asked for
_MAX_PAGES = 10_000  # a server that never stops sending `next` must not keep us looping forever
_USER_AGENT = "runreg-oms-client/0.1"


@runtime_checkable
class OmsSource(Protocol):
    """Where runs and lumisections come from: OMS itself, or anything that answers the same way."""

    def recent_runs(self, *, offset: int, limit: int) -> list[dict[str, Any]]:
        """Runs by most recent `last_update` first, skipping `offset` of them."""
        ...

    def run(self, run_number: int) -> dict[str, Any] | None:
        """One run's attributes, or None when OMS does not know it."""
        ...

    def lumisections(self, run_number: int, *, fields: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Every LS of the run so far, numbered 1..N in order (all pages, never capped)."""
        ...


class _Unauthorized(Exception):
    pass


class OmsClient:
    """OmsSource over HTTP; thread-safe, one connection pool, one cached token."""

    def __init__(
        self,
        base_url: str,
        *,
        token_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        audience: str | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        attempts: int = 4,
        backoff_s: float = 0.5,
        verify: bool | str = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        if token_url is not None and not (client_id and client_secret):
            raise ValueError("a token_url needs client_id and client_secret")
        self.base_url = base_url.rstrip("/")
        self.token_url = token_url
        self._credentials = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        if audience:
            self._credentials["audience"] = audience
        self._attempts = attempts
        self._backoff_s = backoff_s
        # LS downloads are prefetched from a few threads: a pool of ten connections.
        self._http = http_client(
            timeout=timeout,
            connect_timeout=connect_timeout,
            verify=verify,
            user_agent=_USER_AGENT,
            transport=transport,
            pool=10,
        )
        self._token: str | None = None
        self._token_valid_until = 0.0
        self._token_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._jitter = random.Random()
        self.requests_made = 0  # every HTTP request sent, token requests and retries included
        self.token_requests = 0

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> OmsClient:
        options: dict[str, Any] = {
            "token_url": settings.oms_token_url,
            "client_id": settings.oms_client_id,
            "client_secret": settings.oms_client_secret,
            "audience": settings.oms_audience,
            "timeout": settings.oms_timeout_s,
        }
        return cls(settings.oms_url, **(options | overrides))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OmsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- OmsSource ------------------------------------------------------------------------------------

    def recent_runs(self, *, offset: int, limit: int) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = []
        seen: set[int] = set()
        fetched = 0
        # OMS caps a page (100 runs); keep asking until `limit` runs or the end of the list.
        while len(runs) < limit:
            params = {
                "sort": "-last_update",
                "page[offset]": offset + fetched,
                "page[limit]": limit - len(runs),
            }
            page, next_link, _ = self._get("runs", params, wire.RUN_REQUIRED)
            fetched += len(page)
            for run in page:
                # A run updated between two pages moves to the front and can show up twice.
                if run["run_number"] not in seen:
                    seen.add(run["run_number"])
                    runs.append(run)
            if not page or next_link is None:
                break
        return runs[:limit]

    def run(self, run_number: int) -> dict[str, Any] | None:
        page, _, _ = self._get("runs", {"filter[run_number]": run_number}, wire.RUN_REQUIRED)
        others = sorted({r["run_number"] for r in page} - {run_number})
        if others:
            raise OmsBadResponse(f"asked OMS for run {run_number}, it answered with run(s) {others}")
        if len(page) > 1:
            raise OmsBadResponse(f"OMS returned run {run_number} {len(page)} times")
        return page[0] if page else None

    def lumisections(self, run_number: int, *, fields: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """All LS of the run; with `fields`, only those attributes plus `lumisection_number`."""
        params: dict[str, Any] = {
            "filter[run_number]": run_number,
            "sort": "lumisection_number",
            "page[limit]": LS_PAGE_SIZE,
        }
        if fields is not None:
            params["fields"] = ",".join(dict.fromkeys(["lumisection_number", *fields]))
        rows: list[dict[str, Any]] = []
        # Paging by our own offset: `links.next` only tells whether more exist, since behind a proxy its host
        # need not be the one we called.
        for _ in range(_MAX_PAGES):
            page, next_link, _ = self._get(
                "lumisections", {**params, "page[offset]": len(rows)}, wire.LS_REQUIRED
            )
            rows.extend(page)
            if not page or next_link is None:
                break
        else:
            raise OmsBadResponse(
                f"run {run_number}: OMS kept announcing more lumisections after {_MAX_PAGES} pages"
            )
        rows.sort(key=itemgetter("lumisection_number"))
        wire.check_lumisections(rows, run_number)
        return rows

    # --- HTTP -----------------------------------------------------------------------------------------

    def _get(
        self, path: str, params: Mapping[str, Any], required: Mapping[str, type]
    ) -> tuple[list[dict[str, Any]], str | None, int | None]:
        url = f"{self.base_url}/{path}"

        def attempt() -> tuple[list[dict[str, Any]], str | None, int | None]:
            try:
                return self._attempt(url, params, required)
            except _Unauthorized as refused:
                if self.token_url is None:
                    raise OmsUnavailable(
                        f"OMS at {url} wants a token and no token URL is configured: {refused}",
                        details={"url": url},
                    ) from None
            # The token may have been revoked or expired early: one new token, one more try, no backoff.
            self._drop_token()
            try:
                return self._attempt(url, params, required)
            except _Unauthorized as refused:
                raise OmsUnavailable(
                    f"OMS at {url} refused a fresh token: {refused}", details={"url": url}
                ) from None

        return transport.retry(
            attempt,
            what=f"OMS {url}",
            attempts=self._attempts,
            backoff_s=self._backoff_s,
            logger=logger,
            unavailable=OmsUnavailable,
            bad_response=OmsBadResponse,
            jitter=self._jitter,
        )

    def _attempt(
        self, url: str, params: Mapping[str, Any], required: Mapping[str, type]
    ) -> tuple[list[dict[str, Any]], str | None, int | None]:
        headers = self._authorization()
        self._count()
        try:
            response = self._http.get(url, params=params, headers=headers)
        except httpx.RequestError as exc:
            raise transport.request_failure(exc) from None
        status = response.status_code
        logger.debug("OMS GET %s -> HTTP %d", response.url, status)
        if status == 401:
            raise _Unauthorized(f"HTTP 401 {snippet(response.content)}")
        if status >= 500 or status == 429:
            raise Retryable(f"HTTP {status} {snippet(response.content)}")
        if status != 200:
            # 4xx: asking again will not help (wrong URL, query OMS does not accept).
            raise OmsUnavailable(
                f"OMS refused {response.url}: HTTP {status} {snippet(response.content)}",
                details={"url": str(response.url), "status": status},
            )
        # A page of 2,000 LS is ~10,000 dicts: the collector would run over them a dozen times while they
        # are built (a third of the page's CPU); they hold no cycles, reference counting frees them.
        with collector_paused():
            try:
                payload = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                # A cut connection, a proxy error page or an SSO login page: worth another try.
                reason = f"body is not JSON ({len(response.content)} bytes: {snippet(response.content)})"
                raise Retryable(reason, bad_response=True) from None
            try:
                return wire.parse_page(payload, required=required)
            except OmsBadResponse as exc:
                raise Retryable(exc.message, bad_response=True) from None

    def _authorization(self) -> dict[str, str]:
        if self.token_url is None:
            return {}
        with self._token_lock:  # one token request at a time, however many threads need it
            if self._token is None or time.monotonic() >= self._token_valid_until:
                self._token, lifetime = self._fetch_token(self.token_url)
                # Renew 30 s before expiry (or halfway for very short-lived tokens) so none expires in flight.
                self._token_valid_until = time.monotonic() + lifetime - min(30.0, lifetime / 2)
            return {"Authorization": f"Bearer {self._token}"}

    def _fetch_token(self, token_url: str) -> tuple[str, float]:
        self._count(token=True)
        try:
            response = self._http.post(token_url, data=self._credentials)
        except httpx.TimeoutException as exc:
            raise Retryable(f"token endpoint {token_url} timed out ({type(exc).__name__})") from None
        except httpx.RequestError as exc:
            raise Retryable(f"token endpoint {token_url}: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise Retryable(f"token endpoint {token_url}: HTTP {response.status_code}")
        if response.status_code != 200:
            raise OmsUnavailable(
                f"token endpoint {token_url} refused the client credentials: "
                f"HTTP {response.status_code} {snippet(response.content)}",
                details={"url": token_url, "status": response.status_code},
            )
        try:
            body = orjson.loads(response.content)
            token, lifetime = body["access_token"], float(body.get("expires_in", 60))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise Retryable(f"token endpoint {token_url} sent no access_token", bad_response=True) from None
        if not isinstance(token, str) or not token:
            raise Retryable(f"token endpoint {token_url} sent an empty access_token", bad_response=True)
        return token, lifetime

    def _drop_token(self) -> None:
        with self._token_lock:
            self._token = None

    def _count(self, *, token: bool = False) -> None:
        metrics.oms_request(token=token)
        with self._count_lock:
            self.requests_made += 1
            if token:
                self.token_requests += 1
