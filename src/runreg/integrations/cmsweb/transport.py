"""JSON over HTTPS to cmsweb: TLS verified, optional grid client certificate, retries with backoff, and a
bounded pool of threads for many small calls."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx
import orjson

from runreg.integrations.cmsweb.errors import CmswebBadResponse, CmswebUnavailable

logger = logging.getLogger("runreg.integrations.cmsweb")

_USER_AGENT = "runreg-cmsweb-client/0.1"
_MAX_BACKOFF_S = 30.0
T = TypeVar("T")
R = TypeVar("R")


class _Retryable(Exception):
    def __init__(self, reason: str, *, bad_response: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.bad_response = bad_response


class CmswebHttp:
    """One connection pool to one host; thread-safe. `get`/`post` return decoded JSON or raise."""

    def __init__(
        self,
        base_url: str,
        *,
        cert: str | None = None,
        key: str | None = None,
        verify: bool | str = True,
        timeout: float = 90.0,
        connect_timeout: float = 10.0,
        attempts: int = 3,
        backoff_s: float = 1.0,
        concurrency: int = 8,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if key and not cert:
            raise ValueError("a client key needs its certificate")
        self.base_url = base_url.rstrip("/")
        self.concurrency = concurrency
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._jitter = random.Random()
        self._count_lock = threading.Lock()
        self.requests_made = 0
        limits = httpx.Limits(max_connections=concurrency + 2, max_keepalive_connections=concurrency + 2)
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            verify=verify,
            # The grid certificate goes only to this host: the callbacks and the token endpoint get their own
            # client, never our certificate (the original sent it everywhere).
            cert=(cert, key) if cert and key else cert,
            transport=transport,
            limits=limits,
            headers={"User-Agent": _USER_AGENT, "Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def get(
        self,
        path: str,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        *,
        timeout: float | None = None,
        missing_ok: bool = False,
    ) -> Any:
        """GET `path` (already URL-encoded segments) → JSON; None on 404 when `missing_ok`."""
        return self._call("GET", path, params=params, timeout=timeout, missing_ok=missing_ok)

    def post(self, path: str, body: Any, *, timeout: float | None = None) -> Any:
        return self._call("POST", path, body=body, timeout=timeout)

    def map(self, function: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """`function` over `items` with at most `concurrency` calls in flight, results in input order."""
        work = list(items)
        if len(work) <= 1 or self.concurrency == 1:
            return [function(item) for item in work]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(work))) as pool:
            return list(pool.map(function, work))

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        body: Any = None,
        timeout: float | None = None,
        missing_ok: bool = False,
    ) -> Any:
        url = f"{self.base_url}{path}"
        last = _Retryable("no attempt made")
        for attempt in range(1, self._attempts + 1):
            try:
                return self._attempt(method, url, params, body, timeout, missing_ok)
            except _Retryable as failure:
                last = failure
            if attempt < self._attempts:
                delay = min(_MAX_BACKOFF_S, self._backoff_s * 2 ** (attempt - 1)) * self._jitter.uniform(
                    0.5, 1.5
                )
                logger.warning(
                    "%s %s failed (attempt %d of %d): %s; retrying in %.2f s",
                    method,
                    url,
                    attempt,
                    self._attempts,
                    last.reason,
                    delay,
                )
                time.sleep(delay)
        error = CmswebBadResponse if last.bad_response else CmswebUnavailable
        raise error(
            f"{method} {url} failed {self._attempts} time(s); last failure: {last.reason}",
            details={"url": url, "attempts": self._attempts, "reason": last.reason},
        )

    def _attempt(
        self, method: str, url: str, params: Any, body: Any, timeout: float | None, missing_ok: bool
    ) -> Any:
        with self._count_lock:
            self.requests_made += 1
        extra: dict[str, Any] = {}
        if timeout is not None:
            extra["timeout"] = timeout
        try:
            if method == "GET":
                response = self._http.get(url, params=params, **extra)
            else:
                response = self._http.post(
                    url,
                    content=orjson.dumps(body),
                    headers={"Content-Type": "application/json"},
                    **extra,
                )
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out ({type(exc).__name__})") from None
        except httpx.RequestError as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from None
        status = response.status_code
        if status == 404 and missing_ok:
            return None
        if status >= 500 or status == 429:
            raise _Retryable(f"HTTP {status} {snippet(response.content)}")
        if status != 200:
            raise CmswebUnavailable(
                f"{method} {response.url} refused: HTTP {status} {snippet(response.content)}",
                details={"url": str(response.url), "status": status},
            )
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            # A cut connection, a proxy error page, an SSO login page: worth another try.
            reason = f"body is not JSON ({len(response.content)} bytes: {snippet(response.content)})"
            raise _Retryable(reason, bad_response=True) from None


def snippet(body: bytes, size: int = 120) -> str:
    text = body[:size].decode("utf-8", "replace").replace("\n", " ")
    return repr(text + ("…" if len(body) > size else ""))
