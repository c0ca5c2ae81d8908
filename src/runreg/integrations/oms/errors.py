"""What can go wrong when reading OMS, named by outcome."""

from __future__ import annotations

from runreg.kernel.errors import RunregError


class OmsError(RunregError):
    """Base of the OMS failures; catch this to treat every OMS problem alike."""

    code = "oms_error"


class OmsUnavailable(OmsError):
    """OMS could not be reached or kept failing (5xx, timeouts, refused connections) after every retry."""

    code = "oms_unavailable"


class OmsBadResponse(OmsError):
    """OMS answered, but not with what its API promises (not JSON, no `data`, LS numbering with holes...)."""

    code = "oms_bad_response"
