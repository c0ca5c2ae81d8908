"""Pure helpers the JSON portal's pages draw with: the rule outline with a node marked, the result's figures,
chart data and per-run rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from runreg.certification.lumilist import LumiList
from runreg.certification.subsystems import lost_by_subsystem
from runreg.kernel.errors import InvalidInput

INLINE_WIDTH = 72  # a node whose JSON fits in this many characters is drawn on one line
LABEL_WIDTH = 48
TOP_COMBINATIONS = 15
COMPARISONS = ("==", "!=", "===", "!==", "<", "<=", ">", ">=", "in")
KINDS = {
    "json": "golden JSON",
    "json_with_dataset_names": "JSON with dataset names",
    "anti_json": "anti-JSON",
    "lumis_to_process": "CMSSW lumisToProcess",
}


@dataclass(frozen=True)
class OutlineLine:
    depth: int
    text: str
    marked: bool


def parse_rule(text: str) -> Any:
    """The JSON-logic typed in the editor, or InvalidInput naming the line and column of a syntax error."""
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            "json_logic", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None


def rule_outline(rule: Any, marked: str | None = None) -> list[OutlineLine]:
    """The rule pretty-printed line by line; the lines of the node at `marked` (an engine path such as
    `rule/and/3/==/0`) are marked, so an error shows at its node."""
    lines: list[OutlineLine] = []

    def hit(path: str) -> bool:
        return marked is not None and (path == marked or path.startswith(marked + "/"))

    def walk(node: Any, path: str, prefix: str, depth: int, comma: str) -> None:
        compact = json.dumps(node)
        inside = marked is not None and marked.startswith(path + "/")
        if not isinstance(node, dict | list) or not node or len(prefix + compact) <= INLINE_WIDTH:
            lines.append(OutlineLine(depth, prefix + compact + comma, hit(path) or inside))
            return
        items = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        opener, closer = ("{", "}") if isinstance(node, dict) else ("[", "]")
        lines.append(OutlineLine(depth, prefix + opener, hit(path)))
        for index, (key, value) in enumerate(items):
            label = json.dumps(key) + ": " if isinstance(node, dict) else ""
            walk(value, f"{path}/{key}", label, depth + 1, "," if index < len(items) - 1 else "")
        lines.append(OutlineLine(depth, closer + comma, hit(path)))

    walk(rule, "rule", "", 0, "")
    return lines


def rule_text(rule: Any) -> str:
    """The rule as the editor shows it: one short node per line, indented (the outline, unmarked)."""
    return "\n".join("  " * line.depth + line.text for line in rule_outline(rule))


def rule_label(rule: Any) -> str:
    """A short label of a leaf rule for a chart: `rr.dt-dt == "GOOD"`, `oms.tob_ready == true`, else its
    JSON, cut to LABEL_WIDTH."""
    if isinstance(rule, dict) and len(rule) == 1:
        ((operator, args),) = rule.items()
        if operator in COMPARISONS and isinstance(args, list) and len(args) == 2:
            return _cut(f"{_operand(args[0])} {operator} {_operand(args[1])}")
    return _cut(json.dumps(rule, separators=(",", ":")))


def _cut(text: str, width: int = LABEL_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _operand(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"var"} and isinstance(value["var"], str):
        return value["var"].removeprefix("lumisection.")
    return json.dumps(value, separators=(",", ":"))


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """Runs and LS in the JSON and lost, and the luminosity figures, of a stored result."""
    golden, anti = LumiList.from_json(result["json"]), LumiList.from_json(result["anti_json"])
    return {
        "runs": result["runs"],
        "runs_in_json": len(golden.runs()),
        "datasets": result["datasets"],
        "ls_in_json": len(golden),
        "ls_lost": len(anti),
        "ls_total": len(golden) + len(anti),
        "min_run": result["min_run_number"],
        "max_run": result["max_run_number"],
        "luminosity": result["luminosity"],
        # Results computed before luminosity sources were recorded lack this: they summed OMS values.
        "luminosity_sources": result.get("luminosity_sources") or {},
    }


def run_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per run of the result: LS, in the JSON, lost, the JSON's ranges, luminosity when stored."""
    golden, anti = LumiList.from_json(result["json"]), LumiList.from_json(result["anti_json"])
    stored = result.get("by_run") or {}  # results computed before per-run luminosity was stored lack it
    rows = []
    for run in sorted({*golden.runs(), *anti.runs()}):
        row = stored.get(str(run), {})
        rows.append(
            {
                "run": run,
                "ls": golden.ls_count(run) + anti.ls_count(run),
                "ls_in_json": golden.ls_count(run),
                "ls_lost": anti.ls_count(run),
                "ranges": golden.ranges(run),
                "recorded": row.get("recorded"),
                "recorded_in_json": row.get("recorded_in_json"),
                "luminosity_source": row.get("luminosity_source"),
            }
        )
    return rows


def charts(result: dict[str, Any]) -> dict[str, Any]:
    """What the three loss charts plot: per failing rule, per combination, per subsystem. Lost recorded
    luminosity when there is any; lost LS otherwise (a registry without per-LS luminosity has 0 everywhere,
    and a chart of zeros would say nothing)."""
    failures = result["failures"]
    by_lumi = result["luminosity"]["recorded"]["lost"] > 0
    metric, unit = ("recorded", "lost recorded luminosity") if by_lumi else ("ls", "lost LS")
    rules = failures["by_rule"]
    combinations = failures["by_combination"][:TOP_COMBINATIONS]
    subsystems = lost_by_subsystem(failures["by_combination"])
    exclusive = "exclusive_recorded" if by_lumi else "exclusive_ls"
    return {
        "unit": unit,
        "by_luminosity": by_lumi,
        "by_rule": {
            "labels": [rule_label(item["rule"]) for item in rules],
            "values": [item[metric] for item in rules],
        },
        "by_combination": {
            "labels": [_cut(" + ".join(map(rule_label, item["rules"]))) for item in combinations],
            "values": [item[metric] for item in combinations],
        },
        "by_subsystem": {
            "labels": [row["subsystem"] for row in subsystems],
            "inclusive": [row[metric] for row in subsystems],
            "exclusive": [row[exclusive] for row in subsystems],
        },
        "subsystems": subsystems,
    }


def download(result: dict[str, Any], kind: str) -> tuple[str, str]:
    """(text, media type) of one download of a result: the golden JSON and the anti-JSON in the compact
    one-run-per-line form certification files use, the JSON keyed by run and dataset, or CMSSW's string."""
    if kind == "json":
        return LumiList.from_json(result["json"]).to_compact_json_text(), "application/json"
    if kind == "anti_json":
        return LumiList.from_json(result["anti_json"]).to_compact_json_text(), "application/json"
    if kind == "json_with_dataset_names":
        return json.dumps(result["json_with_dataset_names"], indent=1), "application/json"
    return LumiList.from_json(result["json"]).cmssw_string(), "text/plain"
