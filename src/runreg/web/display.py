"""Pure helpers the templates use to draw values: status segments, times, state moves, links."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

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


def status_bar(summary: dict[str, Any] | None, ls_count: int, popover_url: str = "") -> Markup:
    """A component's summary as a proportional bar (the tables' cell): one segment per status, the word when
    a single status covers the LS, a corner mark when there are comments; a click loads `popover_url`.
    Built here, not in a template macro: a page of the global tables draws hundreds of them."""
    if not summary:
        return Markup("")
    counts = tuple((s, summary[s]) for s in STATUS_ORDER if summary.get(s))
    if not counts:
        return Markup("")
    comments = summary.get("comments") or ()
    head, inner = _bar_parts(counts, tuple(comments), ls_count)
    popover = (
        f' hx-get="{escape(popover_url)}" hx-target="#popover" hx-swap="innerHTML" role="button" tabindex="0"'
        if popover_url
        else ""
    )
    return Markup(f"{head}{popover}>{inner}</span>")


@lru_cache(maxsize=4096)
def _bar_parts(
    counts: tuple[tuple[str, Any], ...], comments: tuple[str, ...], ls_count: int
) -> tuple[str, str]:
    """The bar's opening tag (without its popover and `>`) and its segments. Memoised: the rows of a page
    repeat the same few summaries (a whole-GOOD component, most of all) hundreds of times."""
    summary: dict[str, Any] = dict(counts)
    summary["comments"] = list(comments)
    parts = segments(summary, ls_count)
    css = "bar commented" if comments else "bar"
    if len(parts) == 1:
        status = parts[0]["status"]
        inner = (
            f'<span class="seg {status.replace(" ", "_")} whole" style="width:100%">{escape(status)}</span>'
        )
    else:
        inner = "".join(
            f'<span class="seg {p["status"].replace(" ", "_")}" style="width:{p["percent"]:.2f}%"></span>'
            for p in parts
        )
    return f'<span class="{css}" title="{escape(summary_title(summary))}"', inner


def status_cells(
    summaries: dict[str, Any] | None, components: list[str], ls_count: int, popover: str, query: str = ""
) -> Markup:
    """A table row's component cells: one `<td>` with the status bar of each component (empty without a
    summary); a bar's click loads `<popover><component><query>`. One call per row, not per cell."""
    found = summaries or {}
    return Markup(
        "".join(
            f'<td class="component">{status_bar(found.get(c), ls_count, f"{popover}{c}{query}")}</td>'
            for c in components
        )
    )


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
    "status_bar_html": status_bar,
    "status_cells": status_cells,
    "moves": moves,
    "oms_url": oms_url,
    "dqm_gui_url": dqm_gui_url,
    "offline_gui_url": offline_gui_url,
    "new_gui_url": new_gui_url,
    "dataset_url": dataset_url,
    "STATUS_ORDER": STATUS_ORDER,
}
FILTERS = {"short_time": short_time}
