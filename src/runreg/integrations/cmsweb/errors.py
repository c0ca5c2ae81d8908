"""What can go wrong when reading ReqMgr2, DBS or wmstats, named by outcome."""

from __future__ import annotations

from runreg.kernel.errors import RunregError


class CmswebError(RunregError):
    """Base of the cmsweb failures; catch this to treat every ReqMgr2/DBS/wmstats problem alike."""

    code = "cmsweb_error"


class CmswebUnavailable(CmswebError):
    """The service could not be reached or kept failing (5xx, timeouts, cut connections) after every retry,
    or refused the request (4xx)."""

    code = "cmsweb_unavailable"


class CmswebBadResponse(CmswebError):
    """The service answered, but not with what its API promises (not JSON, wrong shape)."""

    code = "cmsweb_bad_response"
