"""What can go wrong when reading the DQM GUI's sample list, named by outcome."""

from __future__ import annotations

from runreg.kernel.errors import RunregError


class DqmGuiError(RunregError):
    """Base of the DQM GUI failures; catch this to treat every GUI problem alike."""

    code = "dqmgui_error"


class DqmGuiUnavailable(DqmGuiError):
    """The GUI could not be reached or kept failing (5xx, timeouts, cut connections) after every retry, or
    refused the request (4xx)."""

    code = "dqmgui_unavailable"


class DqmGuiBadResponse(DqmGuiError):
    """The GUI answered, but not with a sample list (not JSON, truncated, wrong shape, too large)."""

    code = "dqmgui_bad_response"
