"""wmstats: the names of the workflows currently active in the production system."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from runreg.integrations.cmsweb.errors import CmswebBadResponse
from runreg.integrations.cmsweb.transport import CmswebHttp

FILTERED_REQUESTS = "/wmstatsserver/data/filtered_requests"
TIMEOUT_S = 600.0  # wmstats assembles this answer from every agent: it is slow by nature


@runtime_checkable
class WmstatsSource(Protocol):
    def active_workflows(self) -> list[str]:
        """Names of the workflows wmstats reports as active (putting data into DBS)."""
        ...


class WmstatsClient:
    def __init__(self, http: CmswebHttp) -> None:
        self.http = http

    def active_workflows(self) -> list[str]:
        payload = self.http.get(FILTERED_REQUESTS, {"mask": "RequestName"}, timeout=TIMEOUT_S)
        return parse_filtered_requests(payload)


def parse_filtered_requests(payload: Any) -> list[str]:
    result = payload.get("result") if isinstance(payload, dict) else None
    if not isinstance(result, list):
        raise CmswebBadResponse("the wmstats filtered_requests answer has no `result` list")
    names = []
    for row in result:
        name = row.get("RequestName") if isinstance(row, dict) else None
        if isinstance(name, str) and name:
            names.append(name)
    return list(dict.fromkeys(names))
