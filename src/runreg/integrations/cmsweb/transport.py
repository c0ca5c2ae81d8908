"""JSON over HTTPS to cmsweb: the shared transport (integrations/transport.py) with cmsweb's errors, its
grid certificate and a bounded pool of threads for many small calls."""

from __future__ import annotations

import logging
from typing import Any

from runreg.integrations.cmsweb.errors import CmswebBadResponse, CmswebUnavailable
from runreg.integrations.transport import JsonHttp, snippet

__all__ = ["CmswebHttp", "snippet"]

logger = logging.getLogger("runreg.integrations.cmsweb")


class CmswebHttp(JsonHttp):
    """One connection pool to one cmsweb host; failures are CmswebUnavailable / CmswebBadResponse."""

    def __init__(self, base_url: str, **options: Any) -> None:
        super().__init__(
            base_url,
            unavailable=CmswebUnavailable,
            bad_response=CmswebBadResponse,
            logger=logger,
            user_agent="runreg-cmsweb-client/0.1",
            **options,
        )
