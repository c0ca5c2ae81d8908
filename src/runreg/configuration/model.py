"""The configuration as pure values: workspaces, classifiers, accepted datasets, permissions and presets."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from runreg.access.actions import Target, known_pattern, matches_action
from runreg.classifiers import jsonlogic
from runreg.kernel import limits
from runreg.kernel.errors import InvalidInput, NotFound
from runreg.kernel.quality import USER_STATUSES, component_key, split_component
from runreg.kernel.regex import compile_pattern

Mode = Literal["online", "offline"]
MODES: tuple[Mode, ...] = ("online", "offline")
#: Statuses a classifier may assign, in display order.
CLASSIFIER_STATUSES = ("GOOD", "BAD", "STANDBY", "EXCLUDED", "NOTSET")
#: Top-level YAML keys with this prefix are ignored: the place for anchors (`&name`) reused below.
YAML_FRAGMENT_PREFIX = "x-"

_ERROR_TYPE = "runreg_configuration"
#: The action whose loss would lock everyone out of the configuration.
EDIT_CONFIGURATION = "configuration:import"


def _problem(reason: str, path: str = "") -> PydanticCustomError:
    """A validation error whose context keeps the path (relative to where it is raised) and the reason."""
    template = "{path}: {reason}" if path else "{reason}"
    return PydanticCustomError(_ERROR_TYPE, template, {"path": path, "reason": reason})


# -- field-level checks ------------------------------------------------------------------------------------


def _check_name(value: str) -> str:
    if not value:
        raise _problem("must not be empty")
    if "-" in value:
        raise _problem(f"{value!r} must not contain '-' (components are named <workspace>-<column>)")
    return value


def _check_rule(value: JsonValue) -> JsonValue:
    try:
        jsonlogic.validate(value)
    except jsonlogic.InvalidRule as exc:
        raise _problem(f"invalid JSON-logic at {exc.path}: {exc.problem}") from None
    return value


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _check_regexp(value: str) -> str:
    if not value:
        raise _problem("must not be empty")
    try:
        _compiled(value)
    except re.error as exc:
        raise _problem(f"{value!r} is not a valid regular expression: {exc}") from None
    return value


def _check_dataset_regexp(value: str) -> str:
    """Dataset regexps run on every DQM GUI sample name: RE2 (linear time), compiled once per process."""
    if not value:
        raise _problem("must not be empty")
    try:
        compile_pattern("regexp", value)
    except InvalidInput as exc:
        raise _problem(exc.reason) from None
    return value


def _check_status(value: str) -> str:
    if value not in USER_STATUSES:
        raise _problem(
            f"{value!r} is not a status a classifier may set (one of {', '.join(CLASSIFIER_STATUSES)})"
        )
    return value


def _check_component(value: str) -> str:
    try:
        workspace, column = split_component(value)
    except ValueError as exc:
        raise _problem(str(exc)) from None
    _check_name(column)
    return value


#: Workspace and column names: non-empty, no '-'.
Name = Annotated[str, AfterValidator(_check_name)]
#: A JSON-logic rule (json-logic-js semantics), kept as plain JSON values.
Rule = Annotated[JsonValue, AfterValidator(_check_rule)]
Regexp = Annotated[str, AfterValidator(_check_regexp)]
DatasetRegexp = Annotated[str, AfterValidator(_check_dataset_regexp)]
NonEmpty = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


# -- the parts ---------------------------------------------------------------------------------------------


class Workspace(_Model):
    """A workspace of one mode and its columns; each column is the component `<name>-<column>`."""

    name: Name
    mode: Mode
    columns: list[Name] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_columns(self) -> Workspace:
        seen: dict[str, int] = {}
        for i, column in enumerate(self.columns):
            if column in seen:
                raise _problem(f"duplicate column {column!r} (also columns.{seen[column]})", f"columns.{i}")
            seen[column] = i
        return self

    def components(self) -> list[str]:
        return [component_key(self.name, column) for column in self.columns]


class ClassClassifier(_Model):
    """A run gets the class of the truthy rule with the smallest priority number."""

    class_name: str = Field(alias="class", min_length=1)
    priority: int
    enabled: bool = True
    rule: Rule


class SignificanceClassifier(_Model):
    """The original's "dataset classifier": a run of this class is significant iff an enabled rule holds."""

    class_name: str = Field(alias="class", min_length=1)
    enabled: bool = True
    rule: Rule


class ComponentClassifier(_Model):
    """Gives `status` to an LS of `component`; among truthy enabled rules the smallest priority wins."""

    component: Annotated[str, AfterValidator(_check_component)]
    mode: Mode
    status: Annotated[str, AfterValidator(_check_status)]
    priority: int
    enabled: bool = True
    rule: Rule


class OfflineDatasetClassifier(_Model):
    """Decides whether a dataset is OPEN or `not significant for workspace` in an offline workspace."""

    workspace: str
    enabled: bool = True
    rule: Rule


class DatasetAccepted(_Model):
    """Runs of `class` within [run_from, run_to] (None: unbounded) get dataset `name` at sign-off; it counts
    as present in the DQM GUI when a GUI sample name of the run matches one of `regexps`."""

    name: NonEmpty
    class_name: str = Field(alias="class", min_length=1)
    run_from: int | None = None
    run_to: int | None = None
    enabled: bool = True
    regexps: list[DatasetRegexp] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered_runs(self) -> DatasetAccepted:
        if self.run_from is not None and self.run_to is not None and self.run_from > self.run_to:
            raise _problem(f"run_from ({self.run_from}) is after run_to ({self.run_to})", "run_to")
        return self

    def matches_gui_sample(self, sample: str) -> bool:
        """Whether a DQM GUI sample name contains a match of one of `regexps` (unanchored search)."""
        return any(compile_pattern("regexps", regexp).search(sample) for regexp in self.regexps)


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _check_action(value: str) -> str:
    if not known_pattern(value):
        raise _problem(
            f"{value!r} names no known action (an action name such as 'registry:flags:write', "
            "a prefix such as 'registry:*', or '*')"
        )
    return value


#: A grant's constraint on one target field: one value or a list of values.
Values = Annotated[list[NonEmpty], BeforeValidator(_as_list), Field(min_length=1)]


class Grant(_Model):
    """One named action (or a family of them), optionally only on some targets. A constrained field must
    hold one of the listed values; `dataset` also takes `online` and `offline` (every dataset but online);
    `own` restricts it to things the actor owns (their golden JSONs)."""

    action: Annotated[str, AfterValidator(_check_action)]
    dataset: Values | None = None
    workspace: Values | None = None
    component: Values | None = None
    from_state: Values | None = None
    to_state: Values | None = None
    own: bool = False

    def allows(self, action: str, target: Target, actor_name: str) -> bool:
        if not matches_action(self.action, action):
            return False
        if self.own and (target.owner is None or target.owner != actor_name):
            return False
        if self.dataset is not None and not _dataset_matches(self.dataset, target.dataset):
            return False
        return all(
            allowed is None or value in allowed
            for allowed, value in (
                (self.workspace, target.workspace),
                (self.component, target.component),
                (self.from_state, target.from_state),
                (self.to_state, target.to_state),
            )
        )


def _dataset_matches(allowed: list[str], dataset: str | None) -> bool:
    if dataset is None:
        return False
    return dataset in allowed or ("offline" in allowed and dataset != "online")


class Permission(_Model):
    """What the members of one e-group may do."""

    egroup: NonEmpty
    description: str = ""
    grants: list[Grant] = Field(default_factory=list)

    def allows(self, action: str, target: Target, actor_name: str = "") -> bool:
        return any(grant.allows(action, target, actor_name) for grant in self.grants)


class JsonPreset(_Model):
    """A named golden-JSON rule (the original's "JSON classifier") with the dataset pattern it is meant for
    (SQL `SIMILAR TO` syntax, as typed in the JSON portal)."""

    name: NonEmpty
    description: str = ""
    dataset_pattern: str = ""
    rule: Rule


class Configuration(_Model):
    """One version of the whole configuration."""

    workspaces: list[Workspace] = Field(default_factory=list)
    #: mode -> workspace -> certifiable columns (sign-off checks and the global view).
    certifiable: dict[Mode, dict[str, list[str]]] = Field(default_factory=dict)
    class_classifiers: list[ClassClassifier] = Field(default_factory=list)
    significance_classifiers: list[SignificanceClassifier] = Field(default_factory=list)
    component_classifiers: list[ComponentClassifier] = Field(default_factory=list)
    offline_dataset_classifiers: list[OfflineDatasetClassifier] = Field(default_factory=list)
    datasets_accepted: list[DatasetAccepted] = Field(default_factory=list)
    permissions: list[Permission] = Field(default_factory=list)
    json_presets: list[JsonPreset] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Configuration:
        for path, reason in self._problems():
            raise _problem(reason, path)
        return self

    def _problems(self) -> Iterator[tuple[str, str]]:
        """Cross-references, first problem first (only the first one is reported)."""
        index: dict[tuple[str, str], int] = {}
        for i, ws in enumerate(self.workspaces):
            key = (ws.name, ws.mode)
            if key in index:
                yield (
                    f"workspaces.{i}.name",
                    f"duplicate {ws.mode} workspace {ws.name!r} (also workspaces.{index[key]})",
                )
            index[key] = i

        for mode, by_workspace in self.certifiable.items():
            for ws_name, columns in by_workspace.items():
                if (ws_name, mode) not in index:
                    yield f"certifiable.{mode}.{ws_name}", f"there is no {mode} workspace {ws_name!r}"
                    continue
                existing = self.workspaces[index[ws_name, mode]].columns
                for j, column in enumerate(columns):
                    if column not in existing:
                        yield (
                            f"certifiable.{mode}.{ws_name}.{j}",
                            f"{column!r} is not a column of {mode} workspace {ws_name!r} (it has {existing})",
                        )
                    elif column in columns[:j]:
                        yield f"certifiable.{mode}.{ws_name}.{j}", f"duplicate column {column!r}"

        components = {mode: set(self.components(mode)) for mode in MODES}
        for i, cc in enumerate(self.component_classifiers):
            if cc.component not in components[cc.mode]:
                yield (
                    f"component_classifiers.{i}.component",
                    f"there is no {cc.mode} component {cc.component!r}",
                )

        for i, odc in enumerate(self.offline_dataset_classifiers):
            if (odc.workspace, "offline") not in index:
                yield (
                    f"offline_dataset_classifiers.{i}.workspace",
                    f"there is no offline workspace {odc.workspace!r}",
                )

        yield from _duplicates("permissions", "egroup", "e-group", [p.egroup for p in self.permissions])
        if not any(matches_action(g.action, EDIT_CONFIGURATION) for p in self.permissions for g in p.grants):
            yield (
                "permissions",
                f"no e-group would be granted {EDIT_CONFIGURATION!r}: nobody could change the configuration "
                "any more (keep at least one e-group, e.g. the experts, with that action)",
            )
        yield from _duplicates("json_presets", "name", "preset name", [p.name for p in self.json_presets])

    # -- helpers ------------------------------------------------------------------------------------------

    def components(self, mode: Mode) -> list[str]:
        """Every `<workspace>-<column>` of the workspaces of `mode`, in configuration order."""
        return [key for ws in self.workspaces if ws.mode == mode for key in ws.components()]

    def certifiable_components(self, mode: Mode) -> list[str]:
        return [component_key(ws, col) for ws, cols in self.certifiable.get(mode, {}).items() for col in cols]

    def workspace(self, name: str, mode: Mode) -> Workspace:
        """The workspace `name` of `mode`; NotFound if there is none."""
        for ws in self.workspaces:
            if ws.name == name and ws.mode == mode:
                return ws
        raise NotFound(f"there is no {mode} workspace {name!r}", details={"workspace": name, "mode": mode})


def _duplicates(section: str, field: str, what: str, values: list[str]) -> Iterator[tuple[str, str]]:
    first: dict[str, int] = {}
    for i, value in enumerate(values):
        if value in first:
            yield f"{section}.{i}.{field}", f"duplicate {what} {value!r} (also {section}.{first[value]})"
        else:
            first[value] = i


# -- documents (storage) -----------------------------------------------------------------------------------


def _invalid_input(exc: ValidationError) -> InvalidInput:
    problems = []
    for err in exc.errors(include_url=False):
        parts = [str(part) for part in err["loc"]]
        reason = err["msg"]
        if err["type"] == _ERROR_TYPE:
            ctx = err.get("ctx") or {}
            if ctx.get("path"):
                parts.append(ctx["path"])
            reason = ctx.get("reason", reason)
        problems.append({"field": ".".join(parts) or "configuration", "reason": reason})
    first = problems[0]
    return InvalidInput(first["field"], first["reason"], details={"problems": problems})


def from_document(document: Mapping[str, Any]) -> Configuration:
    """Validate a stored (JSON-ready) document; InvalidInput names the first bad field."""
    try:
        return Configuration.model_validate(document)
    except ValidationError as exc:
        raise _invalid_input(exc) from None


def to_document(cfg: Configuration) -> dict[str, Any]:
    """The JSON-ready form of `cfg` (`class` spelled as in the original); from_document inverts it exactly."""
    return cfg.model_dump(mode="json", by_alias=True)


# -- YAML (people) -----------------------------------------------------------------------------------------


class _FlowMap(dict[str, Any]):
    """Emitted in flow style (`{a: 1}`): short rules, permission rules."""


class _FlowSeq(list[Any]):
    """Emitted in flow style (`[a, b]`): column lists."""


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ExpansionBomb(Exception):
    pass


class _Loader(_SafeLoader):  # type: ignore[misc,valid-type]
    """The safe loader (in C when libyaml is there) counting what merge keys (`<<: *a`) copy: merging merges
    grows exponentially in the loader itself. Aliases (`*a`) are shared, not copied, when loading; their
    expansion is bounded afterwards by counting the document's values (load_yaml)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.merged = 0

    def flatten_mapping(self, node: Any) -> None:
        super().flatten_mapping(node)
        self.merged += len(node.value)
        if self.merged > limits.MAX_YAML_NODES:
            raise _ExpansionBomb


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # indent lists under their key


_Dumper.add_representer(
    _FlowMap, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)
)
_Dumper.add_representer(
    _FlowSeq, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)


_FLOW_WIDTH = 88


def _readable_rule(rule: Any) -> Any:
    """Short rules on one line; longer ones as block maps and lists down to the nodes that fit on a line."""
    if not isinstance(rule, dict | list):
        return rule
    if len(json.dumps(rule)) > _FLOW_WIDTH:
        if isinstance(rule, dict):
            return {key: _readable_rule(value) for key, value in rule.items()}
        return [_readable_rule(item) for item in rule]
    return _FlowMap(rule) if isinstance(rule, dict) else _FlowSeq(rule)


def _for_people(document: dict[str, Any]) -> dict[str, Any]:
    """Mark the nodes that read best on one line (rules, column lists, permission grants)."""
    for section, items in document.items():
        if not isinstance(items, list):
            continue
        for item in items:
            if "rule" in item:
                item["rule"] = _readable_rule(item["rule"])
            if section == "workspaces":
                item["columns"] = _FlowSeq(item["columns"])
            if section == "permissions":
                item["grants"] = [
                    _FlowMap({k: v for k, v in grant.items() if v is not None and v is not False})
                    for grant in item["grants"]
                ]
    document["certifiable"] = {
        mode: {ws: _FlowSeq(cols) for ws, cols in by_ws.items()}
        for mode, by_ws in document["certifiable"].items()
    }
    return document


def dump_yaml(cfg: Configuration) -> str:
    """Human-readable YAML in field order; load_yaml(dump_yaml(cfg)) == cfg."""
    return yaml.dump(
        _for_people(to_document(cfg)),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=110,
    )


def load_yaml(text: str) -> Configuration:
    """Parse and validate YAML; InvalidInput("yaml", "line N ...") on syntax errors, else names the bad field.

    Top-level keys starting with `x-` are dropped: they hold YAML anchors reused by the sections. Bounded:
    at most MAX_YAML_BYTES, and MAX_YAML_NODES values once aliases and merge keys are expanded."""
    if len(text) > limits.MAX_YAML_BYTES or len(text.encode(errors="surrogatepass")) > limits.MAX_YAML_BYTES:
        raise InvalidInput("yaml", f"a configuration file is at most {limits.MAX_YAML_BYTES} bytes")
    try:
        data = yaml.load(text, Loader=_Loader)
    except _ExpansionBomb:
        raise InvalidInput("yaml", f"merge keys expand to more than {limits.MAX_YAML_NODES} values") from None
    except RecursionError:
        raise InvalidInput("yaml", f"nested deeper than {limits.MAX_JSON_DEPTH} levels") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown line"
        what = "; ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise InvalidInput("yaml", f"{where}: {what or 'syntax error'}") from None
    except yaml.YAMLError as exc:
        raise InvalidInput("yaml", f"line 1: {exc}") from None
    if not isinstance(data, dict):
        found = "an empty document" if data is None else f"a {type(data).__name__}"
        raise InvalidInput("yaml", f"line 1: expected a mapping of configuration sections, found {found}")
    document = {
        key: value
        for key, value in data.items()
        if not (isinstance(key, str) and key.startswith(YAML_FRAGMENT_PREFIX))
    }
    _check_expanded(document)
    return from_document(document)


def _check_expanded(data: Any) -> None:
    """A billion-laughs document is small as loaded (aliases share objects) but not once walked: count the
    values it expands to, without recursion, stopping at the limit."""
    found = limits.json_problem(data, max_nodes=limits.MAX_YAML_NODES, max_chars=limits.MAX_COMMENT_CHARS)
    if found:
        path, reason = found
        where = limits.dotted("", path).lstrip(".") or "document"
        raise InvalidInput("yaml", f"{where}: {reason} (aliases expanded)")


# -- the shipped default -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _default() -> Configuration:
    text = resources.files("runreg.configuration").joinpath("default.yaml").read_text(encoding="utf-8")
    return load_yaml(text)


def default_configuration() -> Configuration:
    """The configuration runreg ships with (`default.yaml`); a fresh copy on every call."""
    return _default().model_copy(deep=True)
