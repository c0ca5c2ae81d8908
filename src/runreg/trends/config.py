"""Trend configs in the original `.ini` format: `<Subsystem>/<file>.ini` with `[plot:<name>]` sections and
`[group:<name>]` display groups. Metric expressions are parsed with `ast` and resolved against the metric
registry — never evaluated. Every problem names its file, section and key and stops only its own section.
"""

from __future__ import annotations

import ast
import configparser
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from runreg.trends.metrics import REGISTRY, ArgumentError, Metric, build

PLOT_PREFIX = "plot:"
GROUP_PREFIX = "group:"
NAME = re.compile(r"^[A-Za-z0-9_+-]{1,200}$")
SECTION_HEADER = re.compile(r"^\[([^\]]*)\]\s*(?:[#;].*)?$")
REQUIRED = ("metric", "relativepath", "ytitle")
OPTIONAL_PATHS = {"histo1path": "histo1", "histo2path": "histo2", "reference": "reference"}
KNOWN = {*REQUIRED, "plottitle", "threshold", *OPTIONAL_PATHS}
LEGACY_IGNORED = {"runoffset"}  # accepted and ignored, as the original did
GROUP_KEYS = {"series", "plottitle", "ytitle", "correlation"}
MAX_EXPRESSION = 1000
MAX_FILE_BYTES = 5_000_000


@dataclass(frozen=True)
class Problem:
    file: str
    section: str
    key: str
    message: str
    severity: str = "error"  # "error": the section is not used; "warning": used as far as it goes

    def __str__(self) -> str:
        where = ":".join(
            part for part in (self.file, f"[{self.section}]" if self.section else "", self.key) if part
        )
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class TrendConfig:
    subsystem: str
    name: str  # without the `plot:` prefix
    metric: Metric
    relative_path: str
    y_title: str
    plot_title: str
    histo1_path: str | None = None
    histo2_path: str | None = None
    reference_path: str | None = None
    threshold: int | None = None
    source: str = ""

    @property
    def key(self) -> str:
        return f"{self.subsystem}/{self.name}"

    @property
    def metric_expression(self) -> str:
        return self.metric.expression()

    @property
    def me_paths(self) -> dict[str, str]:
        """Role (main, histo1, histo2, reference) -> ME path, for the roles configured."""
        paths = {"main": self.relative_path, "histo1": self.histo1_path, "histo2": self.histo2_path}
        paths["reference"] = self.reference_path
        return {role: path for role, path in paths.items() if path}

    def computation_hash(self) -> str:
        """Changes when anything that decides the points changes (not the titles): then the trend is
        recomputed."""
        body = [self.metric_expression, self.relative_path, self.histo1_path, self.histo2_path]
        body += [self.reference_path, self.threshold]
        return hashlib.sha256(json.dumps(body).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class DisplayGroup:
    """Several trends of one subsystem overlaid in one chart."""

    subsystem: str
    name: str
    plot_title: str
    y_title: str
    series: tuple[str, ...]
    correlation: bool = False


@dataclass(frozen=True)
class ConfigTree:
    configs: tuple[TrendConfig, ...] = ()
    groups: tuple[DisplayGroup, ...] = ()
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    def by_key(self) -> dict[str, TrendConfig]:
        return {config.key: config for config in self.configs}

    def me_paths(self) -> set[str]:
        return {path for config in self.configs for path in config.me_paths.values()}


# -- metric expressions -------------------------------------------------------------------------------
class MetricSyntaxError(ValueError):
    pass


def parse_metric(expression: str) -> Metric:
    """`module.Class(literal, ...)` -> a Metric; literals only (numbers, strings, booleans, None, lists and
    tuples of them), read with ast.literal_eval, which evaluates nothing."""
    if len(expression) > MAX_EXPRESSION:
        raise MetricSyntaxError(f"longer than {MAX_EXPRESSION} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise MetricSyntaxError(f"not an expression: {exc.msg}") from None
    call = tree.body
    if not isinstance(call, ast.Call):
        raise MetricSyntaxError("must be a call such as basic.Mean()")
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)):
        raise MetricSyntaxError("must name a metric as module.Class")
    name = f"{func.value.id}.{func.attr}"
    cls = REGISTRY.get(name)
    if cls is None:
        raise MetricSyntaxError(f"unknown metric {name!r}")
    try:
        args = [_literal(node) for node in call.args]
        kwargs = {kw.arg: _literal(kw.value) for kw in call.keywords if kw.arg is not None}
        if any(kw.arg is None for kw in call.keywords):
            raise MetricSyntaxError("**arguments are not allowed")
        return build(cls, args, kwargs)
    except ArgumentError as exc:
        raise MetricSyntaxError(str(exc)) from None


def _literal(node: ast.AST) -> object:
    if isinstance(node, ast.Starred):
        raise MetricSyntaxError("*arguments are not allowed")
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise MetricSyntaxError(f"argument {ast.unparse(node)!r} is not a literal") from None


# -- files ----------------------------------------------------------------------------------------------
@dataclass
class _Section:
    name: str
    line: int
    body: list[str]


def _sections(text: str) -> Iterable[_Section]:
    current: _Section | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = SECTION_HEADER.match(line.strip())
        if match and not line[:1].isspace():
            if current is not None:
                yield current
            current = _Section(match.group(1).strip(), number, [])
        elif current is not None:
            current.body.append(line)
    if current is not None:
        yield current


def _options(section: _Section) -> dict[str, str]:
    parser = configparser.RawConfigParser(strict=True, default_section="\x00none", interpolation=None)
    parser.read_string("[s]\n" + "\n".join(section.body))
    return dict(parser.items("s"))


def parse_file(
    subsystem: str, file: str, text: str
) -> tuple[list[TrendConfig], list[DisplayGroup], list[Problem]]:
    """The configs and groups of one .ini file's text; each bad section is a problem, never a stop."""
    configs: list[TrendConfig] = []
    groups: list[DisplayGroup] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for section in _sections(text):
        if section.name in seen:
            problems.append(
                Problem(
                    file,
                    section.name,
                    "",
                    f"duplicate section (first at line {seen[section.name]}; line {section.line} is ignored)",
                )
            )
            continue
        seen[section.name] = section.line
        try:
            options = _options(section)
        except configparser.Error as exc:
            problems.append(
                Problem(file, section.name, "", f"unreadable section: {exc.message.splitlines()[0]}")
            )
            continue
        if section.name.startswith(PLOT_PREFIX):
            found = _plot(subsystem, file, section.name, options, problems)
            if found is not None:
                configs.append(found)
        elif section.name.startswith(GROUP_PREFIX):
            group = _group(subsystem, file, section.name, options, problems)
            if group is not None:
                groups.append(group)
        elif section.name != "DEFAULT":
            problems.append(
                Problem(file, section.name, "", "not a [plot:...] or [group:...] section: ignored", "warning")
            )
    return configs, groups, problems


def _plot(
    subsystem: str, file: str, section: str, options: dict[str, str], problems: list[Problem]
) -> TrendConfig | None:
    name = section.removeprefix(PLOT_PREFIX)

    def problem(key: str, message: str, severity: str = "error") -> None:
        problems.append(Problem(file, section, key, message, severity))

    if not NAME.match(name):
        problem("", "the name must be 1-200 letters, digits, _, + or -")
        return None
    missing = [key for key in REQUIRED if not options.get(key, "").strip()]
    if missing:
        for key in missing:
            problem(key, "required key is missing")
        return None
    for key in sorted(set(options) - KNOWN - LEGACY_IGNORED):
        problem(key, "unknown key: ignored", "warning")
    try:
        metric = parse_metric(options["metric"])
    except MetricSyntaxError as exc:
        problem("metric", str(exc))
        return None
    paths = {role: options.get(key, "").strip() or None for key, role in OPTIONAL_PATHS.items()}
    for role in sorted(metric.needs):
        if paths[role] is None:
            key = next(k for k, r in OPTIONAL_PATHS.items() if r == role)
            problem("metric", f"{metric.qualified_name()} needs the key {key}")
            return None
    threshold = None
    if options.get("threshold", "").strip():
        try:
            threshold = int(options["threshold"])
        except ValueError:
            problem("threshold", "must be an integer (the minimum number of entries)")
            return None
    return TrendConfig(
        subsystem=subsystem,
        name=name,
        metric=metric,
        relative_path=options["relativepath"].strip(),
        y_title=options["ytitle"].strip(),
        plot_title=options.get("plottitle", "").strip() or name,
        histo1_path=paths["histo1"],
        histo2_path=paths["histo2"],
        reference_path=paths["reference"],
        threshold=threshold,
        source=file,
    )


def _group(
    subsystem: str, file: str, section: str, options: dict[str, str], problems: list[Problem]
) -> DisplayGroup | None:
    name = section.removeprefix(GROUP_PREFIX)
    series = tuple(
        s.strip().removeprefix(PLOT_PREFIX) for s in options.get("series", "").split(",") if s.strip()
    )
    correlation = options.get("correlation", "false").strip().lower() in ("1", "true", "yes")
    if not NAME.match(name):
        problems.append(Problem(file, section, "", "the name must be 1-200 letters, digits, _, + or -"))
        return None
    if not series:
        problems.append(Problem(file, section, "series", "a group needs at least one series"))
        return None
    if correlation and len(series) != 2:
        problems.append(Problem(file, section, "correlation", "a correlation needs exactly 2 series"))
        return None
    for key in sorted(set(options) - GROUP_KEYS):
        problems.append(Problem(file, section, key, "unknown key: ignored", "warning"))
    return DisplayGroup(
        subsystem=subsystem,
        name=name,
        plot_title=options.get("plottitle", "").strip() or name,
        y_title=options.get("ytitle", "").strip(),
        series=series,
        correlation=correlation,
    )


def combine(parsed: Iterable[tuple[str, list[TrendConfig], list[DisplayGroup], list[Problem]]]) -> ConfigTree:
    """Merge files (in the given order): a name defined again in the same subsystem keeps its first
    definition and the later one is reported; groups naming unknown series are reported."""
    configs: dict[str, TrendConfig] = {}
    groups: dict[str, DisplayGroup] = {}
    problems: list[Problem] = []
    for file, file_configs, file_groups, file_problems in parsed:
        problems.extend(file_problems)
        for config in file_configs:
            first = configs.get(config.key)
            if first is not None:
                problems.append(
                    Problem(
                        file,
                        PLOT_PREFIX + config.name,
                        "",
                        f"duplicate name in {config.subsystem}, first defined in {first.source}: ignored",
                    )
                )
                continue
            configs[config.key] = config
        for group in file_groups:
            key = f"{group.subsystem}/{group.name}"
            if key in groups:
                problems.append(Problem(file, GROUP_PREFIX + group.name, "", "duplicate group name: ignored"))
                continue
            groups[key] = group
    for key, group in list(groups.items()):
        unknown = [s for s in group.series if f"{group.subsystem}/{s}" not in configs]
        if unknown:
            problems.append(
                Problem(
                    "", GROUP_PREFIX + group.name, "series", f"unknown series {', '.join(unknown)}", "warning"
                )
            )
            kept = tuple(s for s in group.series if s not in unknown)
            groups[key] = DisplayGroup(
                group.subsystem,
                group.name,
                group.plot_title,
                group.y_title,
                kept,
                group.correlation and len(kept) == 2,
            )
            if not kept:
                del groups[key]
    return ConfigTree(tuple(configs.values()), tuple(groups.values()), tuple(problems))


def read_tree(root: Path) -> ConfigTree:
    """Every `<root>/<Subsystem>/*.ini` (deeper folders are not configs), files in name order."""
    parsed = []
    problems: list[Problem] = []
    if not root.is_dir():
        return ConfigTree(problems=(Problem(str(root), "", "", "the config directory does not exist"),))
    for path in sorted(root.glob("*/*.ini")):
        relative = str(path.relative_to(root))
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                problems.append(Problem(relative, "", "", f"larger than {MAX_FILE_BYTES} bytes: skipped"))
                continue
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(relative, "", "", f"unreadable: {exc}"))
            continue
        parsed.append((relative, *parse_file(path.parent.name, relative, text)))
    tree = combine(parsed)
    return ConfigTree(tree.configs, tree.groups, (*problems, *tree.problems))


def default_config_dir() -> Path:
    return Path(__file__).parent / "default_config"
