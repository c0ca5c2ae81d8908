"""The CMS Online Monitoring System (OMS) API v1: where runs and their lumisections come from."""

from runreg.integrations.oms.client import OmsClient, OmsSource
from runreg.integrations.oms.errors import OmsBadResponse, OmsError, OmsUnavailable

__all__ = ["OmsBadResponse", "OmsClient", "OmsError", "OmsSource", "OmsUnavailable"]
