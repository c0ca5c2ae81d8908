"""The DQM GUI: which (run, dataset) samples it holds, from its legacy or its API v1 sample list."""

from runreg.integrations.dqmgui.client import DqmGuiClient, DqmGuiSource
from runreg.integrations.dqmgui.errors import DqmGuiBadResponse, DqmGuiError, DqmGuiUnavailable
from runreg.integrations.dqmgui.wire import Sample

__all__ = ["DqmGuiBadResponse", "DqmGuiClient", "DqmGuiError", "DqmGuiSource", "DqmGuiUnavailable", "Sample"]
