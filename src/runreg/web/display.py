"""Pure helpers the templates use to draw values: status segments, times, state moves, links."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from runreg.kernel.quality import Status

STATUS_ORDER = [s.value for s in Status]
RUN_STATES = ("OPEN", "SIGNOFF", "COMPLETED")
OMS_RUN_URL = "https://cmsoms.cern.ch/cms/runs/report?cms_run={run}"
DQM_GUI_URL = (
    "https://cmsweb.cern.ch/dqm/online/start?runnr={run};dataset=/Global/Online/ALL;workspace=Summary"
)
#: A DQM GUI sample of an offline dataset in the offline GUI, and in the new GUI (the original's "beta").
OFFLINE_GUI_URL = (
    "https://cmsweb.cern.ch/dqm/offline/start?runnr={run};dataset={sample};sampletype=offline_data;"
    "workspace=Summary"
)
NEW_GUI_URL = "https://cmsweb.cern.ch/dqm/offline-new/?run_number={run}&dataset_name={sample}"


def segments(summary: dict[str, Any] | None, ls_count: int) -> list[dict[str, Any]]:
    """A component's summary as proportional segments (status, LS count, percent), in display order."""
    if not summary:
        return []
    total = max(ls_count, sum(int(summary.get(s, 0) or 0) for s in STATUS_ORDER), 1)
    return [
        {"status": status, "count": summary[status], "percent": 100 * summary[status] / total}
        for status in STATUS_ORDER
        if summary.get(status)
    ]


def summary_title(summary: dict[str, Any] | None) -> str:
    if not summary:
        return ""
    counts = ", ".join(f"{s} {summary[s]} LS" for s in STATUS_ORDER if summary.get(s))
    comments = "; ".join(summary.get("comments") or [])
    return f"{counts}" + (f" — {comments}" if comments else "")


def moves(state: str) -> list[str]:
    """The states a run or dataset workspace can be moved to from `state`."""
    return [s for s in RUN_STATES if s != state]


def short_time(value: Any) -> str:
    """ISO timestamps as `2024-06-01 10:00` (UTC), anything else as given."""
    if not value:
        return ""
    text = str(value)
    return text[:16].replace("T", " ") if len(text) >= 16 and text[10] in "T " else text


def oms_url(run: int) -> str:
    return OMS_RUN_URL.format(run=run)


def dqm_gui_url(run: int) -> str:
    return DQM_GUI_URL.format(run=run)


def offline_gui_url(run: int, sample: str) -> str:
    return OFFLINE_GUI_URL.format(run=run, sample=quote(sample, safe="/"))


def new_gui_url(run: int, sample: str) -> str:
    return NEW_GUI_URL.format(run=run, sample=quote(sample, safe="/"))


def dataset_url(run: int, name: str) -> str:
    """The dataset page: `/datasets/380567/PromptReco/Collisions2024C/DQM` for `/PromptReco/…/DQM` (the
    name's leading slash is the path's)."""
    return f"/datasets/{run}/{quote(name.removeprefix('/'), safe='/')}"


GLOBALS = {
    "segments": segments,
    "summary_title": summary_title,
    "moves": moves,
    "oms_url": oms_url,
    "dqm_gui_url": dqm_gui_url,
    "offline_gui_url": offline_gui_url,
    "new_gui_url": new_gui_url,
    "dataset_url": dataset_url,
    "STATUS_ORDER": STATUS_ORDER,
}
FILTERS = {"short_time": short_time}
