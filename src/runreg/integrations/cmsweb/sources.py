"""The three cmsweb services the workflow cache reads, built from settings in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runreg.integrations.cmsweb.dbs import DbsClient, DbsSource
from runreg.integrations.cmsweb.reqmgr2 import ReqMgr2Client, ReqMgr2Source
from runreg.integrations.cmsweb.transport import CmswebHttp
from runreg.integrations.cmsweb.wmstats import WmstatsClient, WmstatsSource

if TYPE_CHECKING:
    from runreg.settings import Settings


@dataclass
class CmswebSources:
    reqmgr2: ReqMgr2Source
    dbs: DbsSource
    wmstats: WmstatsSource
    concurrency: int = 8  # how many workflows the update prepares at once

    def close(self) -> None:
        for source in (self.reqmgr2, self.dbs, self.wmstats):
            http = getattr(source, "http", None)
            if http is not None:
                http.close()

    def __enter__(self) -> CmswebSources:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(
    cmsweb_url: str,
    dbs_url: str,
    *,
    cert: str | None = None,
    key: str | None = None,
    verify: bool | str = True,
    concurrency: int = 8,
    **options: Any,
) -> CmswebSources:
    """Clients for ReqMgr2 and wmstats at `cmsweb_url` and DBS at `dbs_url` (its DBSReader base)."""
    common: dict[str, Any] = {
        "cert": cert,
        "key": key,
        "verify": verify,
        "concurrency": concurrency,
    } | options
    cmsweb = CmswebHttp(cmsweb_url, **common)
    dbs = CmswebHttp(dbs_url, **common)
    return CmswebSources(ReqMgr2Client(cmsweb), DbsClient(dbs), WmstatsClient(cmsweb), concurrency)


def from_settings(settings: Settings, **options: Any) -> CmswebSources:
    return connect(
        settings.cmsweb_url,
        settings.dbs_url,
        cert=settings.cmsweb_cert,
        key=settings.cmsweb_key,
        verify=settings.cmsweb_ca_bundle or True,
        concurrency=settings.cmsweb_concurrency,
        timeout=settings.cmsweb_timeout_s,
        **options,
    )
