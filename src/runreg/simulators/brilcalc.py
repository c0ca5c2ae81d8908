"""brilcalc's `--byls` CSV for the OMS simulator's runs: what a luminosity expert would import offline."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from runreg.simulators.oms.world import OmsWorld

HEADER = "#run:fill,ls,time,beamstatus,E(GeV),delivered(/ub),recorded(/ub),avgpu,source"
#: /pb → /ub, the unit brilcalc prints with `-u /ub`.
PER_UB = 1e6


def byls_lines(
    world: OmsWorld,
    *,
    at: datetime,
    runs: Iterable[int] | None = None,
    normtag: str = "normtag_BRIL.json",
    correction: float = 1.0,
) -> Iterator[str]:
    """The CSV lines (header, one line per LS of the runs OMS knows at `at`, brilcalc's summary comments) in
    /ub. `correction` scales OMS's online values the way an offline calibration (a normtag) moves them."""
    wanted = None if runs is None else set(runs)
    yield f"#Data tag : 24v1 , Norm tag: {normtag}"
    yield HEADER
    for plan in world.plans:
        if wanted is not None and plan.run_number not in wanted:
            continue
        record = world.run(plan.run_number, at)
        if record is None:
            continue
        fill = record.get("fill_number") or 0
        for row in world.lumisection_rows(plan.run_number, at):
            ls = row["lumisection_number"]
            delivered = (row["delivered_lumi"] or 0.0) * PER_UB * correction
            recorded = (row["recorded_lumi"] or 0.0) * PER_UB * correction
            yield (
                f"{plan.run_number}:{fill},{ls}:{ls},{at:%m/%d/%y %H:%M:%S},STABLE BEAMS,6800,"
                f"{delivered:.3f},{recorded:.3f},{row.get('pileup') or 0:.1f},HFET"
            )
    yield "#Summary:"
    yield "#nfill,nrun,nls,ncms,totdelivered(/ub),totrecorded(/ub)"
