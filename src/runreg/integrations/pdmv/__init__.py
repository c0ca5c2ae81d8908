"""PdmV services (McM, ReReco machine, RelVal machine) that want to hear when a workflow changes."""

from runreg.integrations.pdmv.callbacks import CallbackFailed, CallbackSink, PdmvCallbacks

__all__ = ["CallbackFailed", "CallbackSink", "PdmvCallbacks"]
