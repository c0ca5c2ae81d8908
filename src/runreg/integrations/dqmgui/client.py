"""Reading the DQM GUI's sample list over HTTPS (the legacy cmsweb route or the new GUI's API v1) through
the shared transport: TLS verified, optional grid certificate, retries with backoff, bounded answers."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from runreg.integrations.dqmgui import wire
from runreg.integrations.dqmgui.errors import DqmGuiBadResponse, DqmGuiUnavailable
from runreg.integrations.dqmgui.wire import Sample
from runreg.integrations.transport import JsonHttp

if TYPE_CHECKING:
    from runreg.settings import Settings

logger = logging.getLogger("runreg.integrations.dqmgui")

LEGACY_SAMPLES = "/data/json/samples"
V1_SAMPLES = "/api/v1/samples"
#: A 200,000-sample list is ~20 MB in the legacy format; far larger is not a sample list.
MAX_ANSWER_BYTES = 256 << 20
Api = Literal["legacy", "v1"]


@runtime_checkable
class DqmGuiSource(Protocol):
    """Where DQM GUI samples come from: the GUI itself, or anything that answers the same way."""

    def samples(self, match: str | None = None) -> list[Sample]:
        """Every (run, dataset) the GUI holds; with `match`, those whose dataset matches that regex (the
        legacy route filters on the server; API v1 returns them all)."""
        ...


class DqmGuiClient:
    def __init__(self, base_url: str, *, api: Api = "legacy", **options: Any) -> None:
        if api not in ("legacy", "v1"):
            raise ValueError(f"api must be 'legacy' or 'v1', not {api!r}")
        self.api = api
        options.setdefault("max_bytes", MAX_ANSWER_BYTES)
        options.setdefault("concurrency", 1)
        self.http = JsonHttp(
            base_url,
            unavailable=DqmGuiUnavailable,
            bad_response=DqmGuiBadResponse,
            logger=logger,
            user_agent="runreg-dqmgui-client/0.1",
            **options,
        )

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> DqmGuiClient:
        options: dict[str, Any] = {
            "api": settings.dqmgui_api,
            "cert": settings.dqmgui_cert,
            "key": settings.dqmgui_key,
            "verify": settings.dqmgui_ca_bundle or True,
            "timeout": settings.dqmgui_timeout_s,
        }
        return cls(settings.dqmgui_url, **(options | overrides))

    @property
    def requests_made(self) -> int:
        return self.http.requests_made

    def samples(self, match: str | None = None) -> list[Sample]:
        if self.api == "v1":
            return wire.parse_v1(self.http.get(V1_SAMPLES))
        return wire.parse_legacy(self.http.get(LEGACY_SAMPLES, {"match": match or ".*"}))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> DqmGuiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
