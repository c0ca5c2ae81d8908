"""JSON over HTTP(S) for every integration (OMS, cmsweb, the DQM GUI): TLS verified, optional grid client
certificate, bounded answers, retries with exponential backoff and jitter, failures named by the caller's
own error classes."""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import certifi
import httpx
import orjson

from runreg.kernel.errors import RunregError

MAX_BACKOFF_S = 30.0
#: The largest answer read by default; a longer one is a bad response, never read to the end.
DEFAULT_MAX_BYTES = 256 << 20
T = TypeVar("T")
R = TypeVar("R")


class Retryable(Exception):
    """One attempt failed in a way another attempt may not (`bad_response`: it answered, but garbage)."""

    def __init__(self, reason: str, *, bad_response: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.bad_response = bad_response


def backoff_delay(attempt: int, backoff_s: float, jitter: random.Random) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): doubling, capped, ±50 % jitter."""
    return min(MAX_BACKOFF_S, backoff_s * 2 ** (attempt - 1)) * jitter.uniform(0.5, 1.5)


def retry(
    attempt: Callable[[], T],
    *,
    what: str,
    attempts: int,
    backoff_s: float,
    logger: logging.Logger,
    unavailable: type[RunregError],
    bad_response: type[RunregError],
    jitter: random.Random | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`attempt()` until it returns, at most `attempts` times while it raises `Retryable`; then the caller's
    `bad_response` (the last failure was garbage) or `unavailable` error naming `what` and the last reason.
    Any other exception passes through at once (a 4xx refusal: asking again will not help)."""
    jitter = jitter or random.Random()
    last = Retryable("no attempt made")
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except Retryable as failure:
            last = failure
        if number < attempts:
            delay = backoff_delay(number, backoff_s, jitter)
            logger.warning(
                "%s failed (attempt %d of %d): %s; retrying in %.2f s",
                what,
                number,
                attempts,
                last.reason,
                delay,
            )
            sleep(delay)
    error = bad_response if last.bad_response else unavailable
    raise error(
        f"{what} failed {attempts} time(s); last failure: {last.reason}",
        details={"url": what.split(" ", 1)[-1], "attempts": attempts, "reason": last.reason},
    )


def request_failure(exc: httpx.RequestError) -> Retryable:
    """A transport failure (timeout, refused or cut connection, TLS) as a retryable one."""
    if isinstance(exc, httpx.TimeoutException):
        return Retryable(f"timed out ({type(exc).__name__})")
    return Retryable(f"{type(exc).__name__}: {exc}")


def read_bounded(response: httpx.Response, max_bytes: int) -> bytes:
    """The body of a streamed `response`, refused (as garbage) past `max_bytes`."""
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise Retryable(
            f"answer of {int(declared)} bytes is over the limit of {max_bytes}", bad_response=True
        )
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise Retryable(f"answer is over the limit of {max_bytes} bytes", bad_response=True)
    return bytes(body)


def snippet(body: bytes, size: int = 120) -> str:
    text = body[:size].decode("utf-8", "replace").replace("\n", " ")
    return repr(text + ("…" if len(body) > size else ""))


def http_client(
    *,
    timeout: float,
    connect_timeout: float,
    verify: bool | str = True,
    cert: str | None = None,
    key: str | None = None,
    user_agent: str,
    transport: httpx.BaseTransport | None = None,
    pool: int = 4,
) -> httpx.Client:
    """One connection pool: TLS verified (`verify`: True or a CA bundle), the client certificate (and its
    key, if separate) sent to this pool's hosts only."""
    if key and not cert:
        raise ValueError("a client key needs its certificate")
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        verify=tls_context(verify, cert, key) if cert or isinstance(verify, str) else verify,
        transport=transport,
        limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
        headers={"User-Agent": user_agent, "Accept": "application/json"},
    )


def tls_context(verify: bool | str, cert: str | None, key: str | None) -> ssl.SSLContext:
    """A verifying TLS context: the CAs of `verify` (a file or directory; True: certifi's, as httpx), with
    the client certificate chain loaded if given. `verify=False` is refused: TLS is always verified."""
    if verify is False:
        raise ValueError("TLS verification cannot be turned off")
    if verify is True:
        context = ssl.create_default_context(cafile=certifi.where())
    elif Path(verify).is_dir():
        context = ssl.create_default_context(capath=verify)
    else:
        context = ssl.create_default_context(cafile=verify)
    if cert:
        context.load_cert_chain(cert, key)
    return context


class JsonHttp:
    """One connection pool to one host; thread-safe. `get`/`post` return decoded JSON or raise the caller's
    `unavailable` (unreachable, 5xx, timeouts after every retry; or a 4xx refusal) or `bad_response` (an
    answer that is not JSON, or too large) error."""

    def __init__(
        self,
        base_url: str,
        *,
        unavailable: type[RunregError],
        bad_response: type[RunregError],
        logger: logging.Logger,
        user_agent: str,
        cert: str | None = None,
        key: str | None = None,
        verify: bool | str = True,
        timeout: float = 90.0,
        connect_timeout: float = 10.0,
        attempts: int = 3,
        backoff_s: float = 1.0,
        concurrency: int = 8,
        max_bytes: int = DEFAULT_MAX_BYTES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.concurrency = concurrency
        self.max_bytes = max_bytes
        self._unavailable = unavailable
        self._bad_response = bad_response
        self._logger = logger
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._jitter = random.Random()
        self._count_lock = threading.Lock()
        self.requests_made = 0
        self._http = http_client(
            timeout=timeout,
            connect_timeout=connect_timeout,
            verify=verify,
            cert=cert,
            key=key,
            user_agent=user_agent,
            transport=transport,
            pool=concurrency + 2,
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
        return retry(
            lambda: self._attempt(method, url, params, body, timeout, missing_ok),
            what=f"{method} {url}",
            attempts=self._attempts,
            backoff_s=self._backoff_s,
            logger=self._logger,
            unavailable=self._unavailable,
            bad_response=self._bad_response,
            jitter=self._jitter,
        )

    def _attempt(
        self, method: str, url: str, params: Any, body: Any, timeout: float | None, missing_ok: bool
    ) -> Any:
        with self._count_lock:
            self.requests_made += 1
        extra: dict[str, Any] = {}
        if timeout is not None:
            extra["timeout"] = timeout
        if method == "POST":
            extra |= {"content": orjson.dumps(body), "headers": {"Content-Type": "application/json"}}
        try:
            with self._http.stream(method, url, params=params, **extra) as response:
                status = response.status_code
                content = read_bounded(response, self.max_bytes)
        except httpx.RequestError as exc:
            raise request_failure(exc) from None
        if status == 404 and missing_ok:
            return None
        if status >= 500 or status == 429:
            raise Retryable(f"HTTP {status} {snippet(content)}")
        if status != 200:
            raise self._unavailable(
                f"{method} {response.url} refused: HTTP {status} {snippet(content)}",
                details={"url": str(response.url), "status": status},
            )
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            # A cut connection, a proxy error page, an SSO login page: worth another try.
            reason = f"body is not JSON ({len(content)} bytes: {snippet(content)})"
            raise Retryable(reason, bad_response=True) from None
