"""A reference ML agent: reads a dataset's DCS bits from runreg and posts per-LS predictions back — a *demo*.

    .venv/bin/python scripts/ml_agent_example.py --base http://127.0.0.1:9500 --runs 380001 380002 \\
        [--dataset online] [--latest 10] [identity options]

This is not a model. It predicts each component's status from its DCS bits (tracker-pixel from `bpix_ready`
and `fpix_ready`, tracker-strip from the strip partitions, dt-dt from `dtp_ready`/`dtm_ready`/`dt0_ready`, …):
GOOD where every bit is true, BAD where one is false, nothing where the bits are missing. Its "score" is a
fixed confidence (0.9 / 0.8). It exists to show what an agent does, end to end:

1. **Who it is.** An agent is a service account in the e-group `cms-dqm-runregistry-ml-agents`, which the
   default configuration grants `predictions:write` only: it can never change a status. In production it
   authenticates like any client, with a bearer token of its service account (`--token`, e.g. a CERN SSO
   client-credentials token whose roles include the agents' e-group) or behind the SSO proxy. Against the
   demo (`make run`, dev identity on) the `email`/`egroups` headers are believed as sent (`--email`,
   `--egroups`, the defaults).
2. **What it reads.** `GET /api/v1/runs/{run}/oms-lumisections/ranges?dataset=…`: the DCS bits as LS ranges,
   so a 2,000-LS run costs one small request.
3. **What it posts.** `POST /api/v1/predictions` with `{run_number, dataset, model, version, predictions:
   {component: [{first_ls, last_ls, status, score}]}}` — ranges, not one entry per LS. Posting again with
   the same model and version replaces what the new ranges cover; a new version is kept beside the old one.
   A refused range names its field (`predictions.dt-dt[3].last_ls: run 380001 has 120 lumisections`) and
   nothing is stored.
4. **Where it shows.** Each component of the run page gets a read-only "ML" row under the people's bar, and
   `/ml` counts how often the model and the certifiers agree, per component and model version.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

MODEL = "demo-dcs-threshold"
VERSION = "0.1"
#: The DCS bits each component's verdict is read from (all must be true for GOOD).
BITS: dict[str, tuple[str, ...]] = {
    "tracker-pixel": ("bpix_ready", "fpix_ready"),
    "tracker-strip": ("tibtid_ready", "tob_ready", "tecp_ready", "tecm_ready"),
    "dt-dt": ("dtp_ready", "dtm_ready", "dt0_ready"),
    "csc-csc": ("cscp_ready", "cscm_ready"),
    "ecal-ecal": ("ebp_ready", "ebm_ready", "eep_ready", "eem_ready"),
    "hcal-hcal": ("hbhea_ready", "hbheb_ready", "hbhec_ready", "hf_ready", "ho_ready"),
    "rpc-rpc": ("rpc_ready",),
}
SCORES = {"GOOD": 0.9, "BAD": 0.8}


def predict(ranges: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Per component, LS ranges GOOD where all its bits are true, BAD where one is false (adjacent equal
    verdicts merged); LS where a bit is missing get no prediction."""
    out: dict[str, list[dict[str, Any]]] = {}
    for piece in ranges:
        for component, bits in BITS.items():
            values = [piece.get(bit) for bit in bits]
            if any(not isinstance(value, bool) for value in values):
                continue
            status = "GOOD" if all(values) else "BAD"
            mine = out.setdefault(component, [])
            if mine and mine[-1]["status"] == status and mine[-1]["last_ls"] + 1 == piece["start"]:
                mine[-1]["last_ls"] = piece["end"]
            else:
                mine.append(
                    {
                        "first_ls": piece["start"],
                        "last_ls": piece["end"],
                        "status": status,
                        "score": SCORES[status],
                    }
                )
    return out


def headers(args: argparse.Namespace) -> dict[str, str]:
    if args.token:
        return {"Authorization": f"Bearer {args.token}"}
    sent = {"email": args.email, "egroups": args.egroups}
    if args.proxy_secret:  # a test set-up standing in for the SSO proxy
        sent["x-runreg-proxy-secret"] = args.proxy_secret
    return sent


def latest_runs(client: httpx.Client, count: int) -> list[int]:
    answer = client.get("/api/v1/runs", params={"page_size": count, "sort": "run_number:DESC"})
    answer.raise_for_status()
    return [row["run_number"] for row in answer.json()["items"]]


def components(client: httpx.Client, dataset: str) -> set[str]:
    """The components runreg's configuration has for this kind of dataset (online or offline)."""
    answer = client.get("/api/v1/configuration")
    answer.raise_for_status()
    mode = "online" if dataset == "online" else "offline"
    return {
        f"{ws['name']}-{column}"
        for ws in answer.json().get("workspaces", [])
        if ws.get("mode") == mode
        for column in ws.get("columns", [])
    }


def run_agent(client: httpx.Client, run_number: int, dataset: str, known: set[str]) -> str:
    """Predict one dataset of one run and post it; returns a line saying what happened."""
    ranges = client.get(f"/api/v1/runs/{run_number}/oms-lumisections/ranges", params={"dataset": dataset})
    if ranges.status_code != 200:
        return f"run {run_number}: cannot read its DCS bits ({ranges.status_code} {ranges.text[:120]})"
    predictions = {c: r for c, r in predict(ranges.json()).items() if c in known}
    if not predictions:
        return f"run {run_number}: no DCS bits to predict from"
    body = {
        "run_number": run_number,
        "dataset": dataset,
        "model": MODEL,
        "version": VERSION,
        "predictions": predictions,
    }
    answer = client.post("/api/v1/predictions", json=body)
    if answer.status_code != 200:
        error = (
            answer.json().get("error", {})
            if answer.headers.get("content-type", "").startswith("application/json")
            else {}
        )
        return (
            f"run {run_number}: refused ({answer.status_code}): {error.get('message') or answer.text[:200]}"
        )
    done = answer.json()
    return (
        f"run {run_number}: submission {done['submission_id']}, {done['lumisections']} LS of "
        f"{', '.join(done['components'])} in {done['ranges']} ranges"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:9500", help="runreg's address")
    parser.add_argument("--runs", type=int, nargs="*", default=[], help="run numbers to predict")
    parser.add_argument("--latest", type=int, default=0, help="also predict the newest N runs")
    parser.add_argument("--dataset", default="online", help="'online' or an offline dataset name")
    parser.add_argument("--token", default=None, help="bearer token of the agent's service account")
    parser.add_argument("--email", default="demo-ml-agent@cern.ch", help="dev mode: the agent's name")
    parser.add_argument("--egroups", default="cms-dqm-runregistry-ml-agents", help="dev mode: its e-groups")
    parser.add_argument("--proxy-secret", default=None, help="the proxy secret of a test set-up")
    args = parser.parse_args(argv)
    with httpx.Client(base_url=args.base, headers=headers(args), timeout=30.0) as client:
        runs = list(args.runs) + (latest_runs(client, args.latest) if args.latest else [])
        if not runs:
            parser.error("name runs with --runs, or --latest N")
        known = components(client, args.dataset)
        for run_number in dict.fromkeys(runs):
            print(run_agent(client, run_number, args.dataset, known))
    return 0


if __name__ == "__main__":
    sys.exit(main())
