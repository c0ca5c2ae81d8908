"""The configuration model: the shipped default, its YAML and document forms, and every validation rule."""

import copy
import json
from typing import Any

import pytest
from pydantic import ValidationError

from runreg.access.actions import Target
from runreg.classifiers.jsonlogic import evaluate
from runreg.configuration.model import (
    ComponentClassifier,
    Configuration,
    DatasetAccepted,
    Grant,
    Workspace,
    default_configuration,
    dump_yaml,
    from_document,
    load_yaml,
    to_document,
)
from runreg.kernel.errors import InvalidInput, NotFound

CERTIFIABLE_ONLINE = [
    "castor-castor", "cms-cms", "csc-csc", "ctpps-ctpps", "dt-dt", "ecal-ecal", "ecal-es", "gem-gem",
    "hcal-hcal", "hlt-hlt", "l1t-l1t", "l1t-l1tcalo", "l1t-l1tmu", "lumi-lumi", "rpc-rpc",
    "tracker-pixel", "tracker-strip",
]  # fmt: skip
CERTIFIABLE_OFFLINE = [
    "btag-btag", "castor-castor", "cms-cms", "csc-csc", "ctpps-ctpps", "dc-lowlumi", "dt-dt", "ecal-ecal",
    "ecal-es", "egamma-egamma", "gem-gem", "hcal-hcal", "hlt-hlt", "jetmet-jetmet", "l1t-l1t", "l1t-l1tmu",
    "l1t-l1tcalo", "lumi-lumi", "muon-muon", "rpc-rpc", "tau-tau", "tracker-track", "tracker-pixel",
    "tracker-strip",
]  # fmt: skip
DCS_BITS = [
    "bpix", "fpix", "tibtid", "tob", "tecp", "tecm", "ebp", "ebm", "eep", "eem", "esp", "esm", "hbhea",
    "hbheb", "hbhec", "hf", "ho", "dtp", "dtm", "dt0", "cscp", "cscm", "rpc", "castor", "zdc", "gemp", "gemm",
    "rp_time", "rp_sect_45", "rp_sect_56",
]  # fmt: skip
INCLUDED = ["castor", "csc", "ctpps", "dt", "ecal", "es", "gem", "hcal", "rpc", "pixel", "tracker"]
#: The GEM rules of the original's FAQ (shifter documentation), verbatim.
GEM_FAQ_BAD = {
    "and": [
        {"var": "gem_included"},
        {"or": [{"==": [{"var": "gemp_ready"}, False]}, {"==": [{"var": "gemm_ready"}, False]}]},
    ]
}
GEM_FAQ_GOOD = {
    "and": [
        {"var": "gem_included"},
        {"and": [{"==": [{"var": "gemp_ready"}, True]}, {"==": [{"var": "gemm_ready"}, True]}]},
    ]
}
NO_VALUE_FOUND = "NO VALUE FOUND"


@pytest.fixture(scope="module")
def default() -> Configuration:
    return default_configuration()


def truthy(value: Any) -> bool:
    """json-logic-js truthiness: JS truthiness, except that an empty array is false."""
    if isinstance(value, list):
        return bool(value)
    if isinstance(value, float) and value != value:
        return False
    return value not in (None, False, 0, "")


def classify(cfg: Configuration, mode: str, component: str, context: dict[str, Any]) -> str:
    """The priority rule of spec §4.6: the truthy enabled rule with the smallest priority number wins."""
    best: ComponentClassifier | None = None
    for cc in cfg.component_classifiers:
        if cc.mode != mode or cc.component != component or not cc.enabled:
            continue
        if truthy(evaluate(cc.rule, context)) and (best is None or cc.priority < best.priority):
            best = cc
    return best.status if best else NO_VALUE_FOUND


def online_ls_context(**changes: Any) -> dict[str, Any]:
    """A Collisions24 run with every subsystem in, and one LS in stable beams with every DCS bit true."""
    context: dict[str, Any] = {
        "run_number": 380000,
        "hlt_key": "/cdaq/physics/Run2024/2e34/v1.4.2/HLT/V2",
        "energy": 6800,
        "b_field": 3.8,
        "sequence": "GLOBAL-RUN",
        "injection_scheme": "25ns_2352b_2340_2004_2133_108bpi_24inj",
        "components": [name.upper() for name in INCLUDED] + ["DAQ", "DCS", "DQM", "TRG", "TCDS"],
        **{f"{name}_included": True for name in INCLUDED + ["daq", "dcs", "dqm", "trg", "tcds"]},
        "class": "Collisions24",
        "significant": True,
        "state": "OPEN",
        "stop_reason": "",
        "cms_active": True,
        "physics_flag": True,
        "beam1_present": True,
        "beam2_present": True,
        "beam1_stable": True,
        "beam2_stable": True,
        "prescale_index": 2,
        "prescale_name": "2p0E34",
        **{f"{bit}_ready": True for bit in DCS_BITS},
    }
    for key, value in changes.items():
        if value is ...:
            context.pop(key)
        else:
            context[key] = value
    return context


# -- the shipped default -----------------------------------------------------------------------------------


def test_default_loads_and_validates(default: Configuration) -> None:
    assert Configuration.model_validate(to_document(default)) == default
    assert len([ws for ws in default.workspaces if ws.mode == "online"]) == 14
    assert len([ws for ws in default.workspaces if ws.mode == "offline"]) == 20
    assert {c.class_name for c in default.class_classifiers} == {
        "Collisions24",
        "Cosmics24",
        "Commissioning24",
    }
    assert {p.name for p in default.json_presets} >= {"golden", "muon", "dcs-only"}


def test_default_is_a_fresh_copy_each_time() -> None:
    first = default_configuration()
    first.workspaces.clear()
    assert default_configuration().workspaces


def test_certifiable_components(default: Configuration) -> None:
    assert default.certifiable_components("online") == CERTIFIABLE_ONLINE
    assert default.certifiable_components("offline") == CERTIFIABLE_OFFLINE


def test_components_of_a_mode(default: Configuration) -> None:
    online = default.components("online")
    offline = default.components("offline")
    assert set(CERTIFIABLE_ONLINE) == set(online)
    assert set(CERTIFIABLE_OFFLINE) <= set(offline)
    assert {"csc-occupancy", "ctpps-time_global", "hcal-ho12", "rpc-elog"} <= set(offline)
    assert "tracker-track" not in online
    assert len(offline) == len(set(offline))


def test_workspace_lookup(default: Configuration) -> None:
    assert default.workspace("tracker", "offline").columns == ["track", "pixel", "strip"]
    assert default.workspace("tracker", "online").columns == ["pixel", "strip"]
    assert default.workspace("global", "online").columns == []
    with pytest.raises(NotFound, match="no online workspace 'dc'"):
        default.workspace("dc", "online")


def test_every_certifiable_online_component_can_be_good_bad_and_standby(default: Configuration) -> None:
    for component in CERTIFIABLE_ONLINE:
        statuses = {
            cc.status
            for cc in default.component_classifiers
            if cc.mode == "online" and cc.component == component
        }
        assert {"GOOD", "BAD", "STANDBY"} <= statuses, component


def test_one_rule_per_component_and_status(default: Configuration) -> None:
    """Then the result does not depend on how ties between same-status rules are bookkept (spec §4.6)."""
    keys = [(cc.mode, cc.component, cc.status) for cc in default.component_classifiers]
    assert len(keys) == len(set(keys))


def test_gem_rules_are_the_faq_rules(default: Configuration) -> None:
    gem = {
        cc.status: cc.rule
        for cc in default.component_classifiers
        if cc.component == "gem-gem" and cc.mode == "online"
    }
    assert gem["GOOD"] == GEM_FAQ_GOOD
    assert gem["BAD"] == GEM_FAQ_BAD


def test_every_offline_workspace_has_a_dataset_classifier(default: Configuration) -> None:
    offline = {ws.name for ws in default.workspaces if ws.mode == "offline"}
    assert {c.workspace for c in default.offline_dataset_classifiers} == offline
    gem = next(c for c in default.offline_dataset_classifiers if c.workspace == "gem")
    assert gem.rule == {"if": [{"and": [{"in": ["Prompt", {"var": "name"}]}]}, True, False]}  # the FAQ's


# -- evaluating the default --------------------------------------------------------------------------------


def test_all_dcs_bits_true_is_good(default: Configuration) -> None:
    context = online_ls_context()
    assert {c: classify(default, "online", c, context) for c in CERTIFIABLE_ONLINE} == dict.fromkeys(
        CERTIFIABLE_ONLINE, "GOOD"
    )


@pytest.mark.parametrize(
    ("bit", "component"),
    [
        ("bpix_ready", "tracker-pixel"),
        ("fpix_ready", "tracker-pixel"),
        ("tecm_ready", "tracker-strip"),
        ("eep_ready", "ecal-ecal"),
        ("esm_ready", "ecal-es"),
        ("ho_ready", "hcal-hcal"),
        ("dt0_ready", "dt-dt"),
        ("cscp_ready", "csc-csc"),
        ("rpc_ready", "rpc-rpc"),
        ("gemm_ready", "gem-gem"),
        ("rp_sect_45_ready", "ctpps-ctpps"),
        ("castor_ready", "castor-castor"),
        ("cms_active", "cms-cms"),
        ("cms_active", "hlt-hlt"),
        ("cms_active", "l1t-l1tmu"),
        ("cms_active", "lumi-lumi"),
    ],
)
def test_a_false_bit_is_bad_and_a_null_bit_is_not_good(
    default: Configuration, bit: str, component: str
) -> None:
    assert classify(default, "online", component, online_ls_context(**{bit: False})) == "BAD"
    assert classify(default, "online", component, online_ls_context(**{bit: None})) not in {"GOOD", "BAD"}
    assert classify(default, "online", component, online_ls_context(**{bit: ...})) not in {"GOOD", "BAD"}
    others = [] if bit == "cms_active" else [c for c in CERTIFIABLE_ONLINE if c != component]
    assert {classify(default, "online", c, online_ls_context(**{bit: False})) for c in others} <= {"GOOD"}


def test_bad_beats_unknown(default: Configuration) -> None:
    context = online_ls_context(dtp_ready=None, dtm_ready=False)
    assert classify(default, "online", "dt-dt", context) == "BAD"


def test_unstable_beams_are_standby_not_bad(default: Configuration) -> None:
    ramp = online_ls_context(beam1_stable=False, beam2_stable=False, bpix_ready=False, fpix_ready=False)
    assert {classify(default, "online", c, ramp) for c in CERTIFIABLE_ONLINE} == {"STANDBY"}


def test_without_beam_detectors_are_judged_on_their_bits(default: Configuration) -> None:
    cosmics = online_ls_context(
        beam1_present=False, beam2_present=False, beam1_stable=False, beam2_stable=False
    )
    assert classify(default, "online", "dt-dt", cosmics) == "GOOD"
    assert classify(default, "online", "lumi-lumi", cosmics) == "STANDBY"
    assert classify(default, "online", "dt-dt", {**cosmics, "dtp_ready": False}) == "BAD"


def test_a_subsystem_out_of_the_run_is_excluded(default: Configuration) -> None:
    context = online_ls_context(tracker_included=..., tob_ready=False)
    assert classify(default, "online", "tracker-strip", context) == "EXCLUDED"
    assert classify(default, "online", "tracker-pixel", context) == "GOOD"


@pytest.mark.parametrize("status", ["GOOD", "BAD", "STANDBY", "EXCLUDED"])
def test_offline_classifiers_copy_the_online_status(default: Configuration, status: str) -> None:
    context = {
        "run": {"oms": {"energy": 6800}, "rr": {"class": "Collisions24"}},
        "lumisection": {"oms": {}, "rr": {"dt-dt": {"status": status, "comment": "", "cause": ""}}},
    }
    assert classify(default, "offline", "dt-dt", context) == status
    assert classify(default, "offline", "csc-csc", context) == NO_VALUE_FOUND


@pytest.mark.parametrize(
    ("hlt_key", "energy", "expected"),
    [
        ("/cdaq/physics/Run2024/2e34/v1.4.2/HLT/V2", 6800, "Collisions24"),
        ("/cdaq/cosmic/commissioning2024/v1.1.0/HLT/V1", 0, "Cosmics24"),
        ("/cdaq/physics/Run2024/2e34/v1.4.2/HLT/V2", 450, "Commissioning24"),
        ("/cdaq/special/2024/splashes/v1/HLT/V1", 450, "Commissioning24"),
        ("/users/someone/test/V3", 6800, ""),
    ],
)
def test_class_classifiers(default: Configuration, hlt_key: str, energy: int, expected: str) -> None:
    context = {"hlt_key": hlt_key, "energy": energy, "sequence": "GLOBAL-RUN"}
    matches = [c for c in default.class_classifiers if c.enabled and truthy(evaluate(c.rule, context))]
    assert (min(matches, key=lambda c: c.priority).class_name if matches else "") == expected


def test_significance(default: Configuration) -> None:
    (collisions,) = [c for c in default.significance_classifiers if c.class_name == "Collisions24"]
    assert truthy(evaluate(collisions.rule, {"hlt_physics_counter": 5_000_000, "ls_duration": 300}))
    assert not truthy(evaluate(collisions.rule, {"hlt_physics_counter": 0, "ls_duration": 300}))
    assert not truthy(evaluate(collisions.rule, {"hlt_physics_counter": 5_000_000, "ls_duration": 3}))


def golden_context() -> dict[str, Any]:
    """One perfect LS of a 2018 collision dataset, as the JSON portal builds it (spec §6.8)."""
    good = ["dt-dt", "csc-csc", "l1t-l1tcalo", "l1t-l1tmu", "hlt-hlt", "tracker-pixel", "tracker-strip"]
    good += [
        "tracker-track",
        "ecal-ecal",
        "ecal-es",
        "hcal-hcal",
        "egamma-egamma",
        "muon-muon",
        "jetmet-jetmet",
    ]
    good += ["lumi-lumi", "rpc-rpc", "castor-castor", "ctpps-ctpps", "btag-btag", "tau-tau", "l1t-l1t"]
    return {
        "dataset": {"name": "/PromptReco/Collisions2018D/DQM", "global_state": "COMPLETED"},
        "run": {
            "run_number": 320500,
            "oms": {
                "energy": 6500,
                "b_field": 3.8,
                "injection_scheme": "25ns_2556b_2544_2215_2332_144bpi_20injV3",
                "hlt_key": "/cdaq/physics/Run2018/2e34/v3.6.1/HLT/V2",
                "recorded_lumi": 354.1,
            },
            "rr": {"class": "Collisions18", "significant": True, "state": "SIGNOFF"},
        },
        "lumisection": {
            "lumisection_number": 42,
            "oms": online_ls_context(gemp_ready=None, gemm_ready=None),
            "rr": {**dict.fromkeys(good, "GOOD"), "dc-lowlumi": "BAD", "cms-cms": "GOOD"},
        },
    }


def test_golden_preset(default: Configuration) -> None:
    golden = next(p for p in default.json_presets if p.name == "golden")
    assert isinstance(golden.rule, dict)
    assert len(golden.rule["and"]) == 6 + 13 + 1 + 28
    assert truthy(evaluate(golden.rule, golden_context()))
    pixel_bad = golden_context()
    pixel_bad["lumisection"]["rr"]["tracker-pixel"] = "BAD"
    assert not truthy(evaluate(golden.rule, pixel_bad))
    low_lumi = golden_context()
    low_lumi["lumisection"]["rr"]["dc-lowlumi"] = "GOOD"
    assert not truthy(evaluate(golden.rule, low_lumi))
    wmass = golden_context()
    wmass["run"]["oms"]["hlt_key"] = "/cdaq/physics/Run2018/WMass/v1/HLT/V1"
    assert not truthy(evaluate(golden.rule, wmass))
    unstable = golden_context()
    unstable["lumisection"]["oms"]["beam2_stable"] = False
    assert not truthy(evaluate(golden.rule, unstable))


def test_muon_and_dcs_only_presets(default: Configuration) -> None:
    presets = {p.name: p for p in default.json_presets}
    context = golden_context()
    context["lumisection"]["oms"].update(gemp_ready=True, gemm_ready=True)
    context["lumisection"]["rr"]["ecal-ecal"] = "BAD"  # not a muon component
    assert truthy(evaluate(presets["muon"].rule, context))
    assert truthy(evaluate(presets["dcs-only"].rule, context))
    context["lumisection"]["rr"]["dt-dt"] = "BAD"
    assert not truthy(evaluate(presets["muon"].rule, context))
    context["lumisection"]["oms"]["ebp_ready"] = False
    assert not truthy(evaluate(presets["dcs-only"].rule, context))


# -- permissions -------------------------------------------------------------------------------------------


GEM = "cms-dqm-runregistry-offline-gem-certifiers"
SHIFTERS = "cms-dqm-runregistry-online-shifters"


def test_grants_constrain_targets_and_accept_one_value_or_a_list() -> None:
    grant = Grant(action="registry:dataset:move", dataset="offline", workspace="gem", to_state=["SIGNOFF"])
    assert grant.workspace == ["gem"] and grant.dataset == ["offline"]
    offline = Target(dataset="/PromptReco/X/DQM", workspace="gem", from_state="OPEN", to_state="SIGNOFF")
    assert grant.allows("registry:dataset:move", offline, "a@cern.ch")
    assert not grant.allows("registry:dataset:move", Target(**{**offline.__dict__, "dataset": "online"}), "")
    assert not grant.allows("registry:dataset:move", Target(**{**offline.__dict__, "workspace": "dt"}), "")
    assert not grant.allows("registry:dataset:move", Target(**{**offline.__dict__, "to_state": "OPEN"}), "")
    assert not grant.allows("registry:flags:write", offline, "")
    own = Grant(action="certification:json:delete", own=True)
    assert own.allows("certification:json:delete", Target(owner="a@cern.ch"), "a@cern.ch")
    assert not own.allows("certification:json:delete", Target(owner="b@cern.ch"), "a@cern.ch")
    assert not own.allows("certification:json:delete", Target(), "a@cern.ch")


@pytest.mark.parametrize(
    ("document", "field", "reason"),
    [
        ({"action": "registry:flags:wrte"}, "action", "names no known action"),
        ({"action": "registry:*", "workspace": []}, "workspace", "at least 1"),
        ({"action": "*", "path": "/.*"}, "path", "Extra inputs are not permitted"),
    ],
)
def test_bad_grants_are_refused_naming_the_field(document: dict, field: str, reason: str) -> None:
    with pytest.raises(ValidationError) as refusal:
        Grant.model_validate(document)
    assert field in str(refusal.value) and reason in str(refusal.value)


def test_a_configuration_that_locks_everyone_out_is_refused(default: Configuration) -> None:
    document = to_document(default)
    for permission in document["permissions"]:
        permission["grants"] = [
            g for g in permission["grants"] if g["action"] not in ("*", "configuration:*")
        ]
        permission["grants"] = [g for g in permission["grants"] if g["action"] != "configuration:import"]
    with pytest.raises(InvalidInput) as refusal:
        from_document(document)
    assert refusal.value.field == "permissions"
    assert "configuration:import" in refusal.value.message


def test_every_known_certifier_egroup_has_a_permission(default: Configuration) -> None:
    subsystems = ["btag", "csc", "castor", "dt", "ecal", "egamma", "hcal", "hlt", "l1t", "lum", "muo", "rpc"]
    subsystems += ["tracker", "tau", "jme", "ctpps", "gem"]
    egroups = {p.egroup for p in default.permissions}
    assert {f"cms-dqm-runregistry-offline-{s}-certifiers" for s in subsystems} <= egroups


def test_certifier_grants_name_workspaces_that_exist(default: Configuration) -> None:
    offline = {ws.name for ws in default.workspaces if ws.mode == "offline"}
    named = {w for p in default.permissions for g in p.grants for w in (g.workspace or [])}
    assert named and named <= offline


# -- YAML and documents ------------------------------------------------------------------------------------


def test_yaml_round_trip(default: Configuration) -> None:
    text = dump_yaml(default)
    assert load_yaml(text) == default
    assert dump_yaml(load_yaml(text)) == text
    assert "\n  - class: Collisions24\n" in text
    assert "class_name" not in text


def test_yaml_keeps_rules_as_maps(default: Configuration) -> None:
    text = dump_yaml(default)
    gem_good = (
        "    rule:\n      and:\n        - {var: gem_included}\n"
        "        - {and: [{==: [{var: gemp_ready}, true]}, {==: [{var: gemm_ready}, true]}]}\n"
    )
    assert gem_good in text  # nested maps, on one line where they fit
    assert "    rule: {'!': [{var: gem_included}]}\n" in text
    assert "    rule: '{" not in text  # never a JSON string


def test_document_round_trip(default: Configuration) -> None:
    document = to_document(default)
    assert json.loads(json.dumps(document)) == document
    assert document["class_classifiers"][0]["class"] == "Collisions24"
    assert from_document(json.loads(json.dumps(document))) == default


def test_hand_written_yaml_with_anchors() -> None:
    text = """
x-rules:
  included: &included {"var": "dt_included"}
workspaces:
  - {name: dt, mode: online, columns: [dt]}
certifiable:
  online: {dt: [dt]}
component_classifiers:
  - component: dt-dt
    mode: online
    status: GOOD
    priority: 1
    rule: {"and": [*included, {"==": [{"var": "dtp_ready"}, true]}]}
permissions:
  - {egroup: admins, grants: [{action: "configuration:*"}]}
"""
    cfg = load_yaml(text)
    assert cfg.component_classifiers[0].rule == {
        "and": [{"var": "dt_included"}, {"==": [{"var": "dtp_ready"}, True]}]
    }
    assert cfg.component_classifiers[0].enabled is True
    assert [g.action for g in cfg.permissions[0].grants] == ["configuration:*"]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("workspaces:\n  - name: dt\n   mode: online\n", "line 3"),
        ("workspaces: [\n  {name: dt, mode: online}\n", "line 3"),
        ("certifiable:\n  online: {dt: [dt]\n  offline: {}\n", "line 3"),
        ("permissions:\n  - egroup: a\n    grants: *missing\n", "line 3"),
    ],
)
def test_yaml_syntax_error_names_the_line(text: str, line: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_yaml(text)
    assert caught.value.field == "yaml"
    assert line in caught.value.reason


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n"])
def test_yaml_must_be_a_mapping(text: str) -> None:
    with pytest.raises(InvalidInput, match="expected a mapping") as caught:
        load_yaml(text)
    assert caught.value.field == "yaml"


def test_yaml_validation_error_names_the_field() -> None:
    text = "workspaces:\n  - {name: dt, mode: online, columns: [dt]}\n"
    text += "class_classifiers:\n  - {priority: 1, rule: {var: x}}\n"
    with pytest.raises(InvalidInput) as caught:
        load_yaml(text)
    assert (caught.value.field, caught.value.reason) == ("class_classifiers.0.class", "Field required")


# -- validation --------------------------------------------------------------------------------------------


def small_document() -> dict[str, Any]:
    return {
        "workspaces": [
            {"name": "dt", "mode": "online", "columns": ["dt"]},
            {"name": "tracker", "mode": "online", "columns": ["pixel", "strip"]},
            {"name": "dt", "mode": "offline", "columns": ["dt"]},
        ],
        "certifiable": {"online": {"dt": ["dt"], "tracker": ["pixel"]}, "offline": {"dt": ["dt"]}},
        "class_classifiers": [
            {"class": "Collisions24", "priority": 1, "rule": {"in": ["/cdaq/physics/", {"var": "hlt_key"}]}}
        ],
        "significance_classifiers": [
            {"class": "Collisions24", "rule": {">": [{"var": "hlt_physics_counter"}, 0]}}
        ],
        "component_classifiers": [
            {
                "component": "dt-dt",
                "mode": "online",
                "status": "GOOD",
                "priority": 1,
                "rule": {"var": "dt_included"},
            }
        ],
        "offline_dataset_classifiers": [{"workspace": "dt", "rule": {"in": ["Prompt", {"var": "name"}]}}],
        "datasets_accepted": [
            {
                "name": "/PromptReco/Collisions2024C/DQM",
                "class": "Collisions24",
                "run_from": 379412,
                "run_to": 380252,
                "regexps": ["/ZeroBias/Run2024C-PromptReco-v.*?/DQMIO"],
            }
        ],
        "permissions": [{"egroup": "cms-dqm-runregistry-experts", "grants": [{"action": "*"}]}],
        "json_presets": [{"name": "golden", "rule": {"==": [{"var": "lumisection.rr.dt-dt"}, "GOOD"]}}],
    }


def put(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node: Any = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node.append(value) if int(last) == len(node) else node.__setitem__(int(last), value)
    else:
        node[last] = value


INVALID_RULE = {"no_such_operator": [1, 2]}

CASES = [
    # (where, value, field named in the error, words of the reason)
    (
        "workspaces.3",
        {"name": "dt", "mode": "online", "columns": []},
        "workspaces.3.name",
        "duplicate online workspace 'dt'",
    ),
    ("workspaces.0.name", "d-t", "workspaces.0.name", "must not contain '-'"),
    ("workspaces.0.mode", "nearline", "workspaces.0.mode", "'online' or 'offline'"),
    ("workspaces.0.columns", ["dt", ""], "workspaces.0.columns.1", "must not be empty"),
    ("workspaces.0.columns", ["dt", "d-t"], "workspaces.0.columns.1", "must not contain '-'"),
    (
        "workspaces.1.columns",
        ["pixel", "strip", "pixel"],
        "workspaces.1.columns.2",
        "duplicate column 'pixel'",
    ),
    ("certifiable.online.csc", ["csc"], "certifiable.online.csc", "there is no online workspace 'csc'"),
    (
        "certifiable.offline.tracker",
        ["pixel"],
        "certifiable.offline.tracker",
        "no offline workspace 'tracker'",
    ),
    (
        "certifiable.online.tracker",
        ["pixel", "track"],
        "certifiable.online.tracker.1",
        "'track' is not a column",
    ),
    (
        "certifiable.online.tracker",
        ["pixel", "pixel"],
        "certifiable.online.tracker.1",
        "duplicate column 'pixel'",
    ),
    ("certifiable.nearline", {}, "certifiable.nearline.[key]", "'online' or 'offline'"),
    (
        "component_classifiers.0.component",
        "dt-rpc",
        "component_classifiers.0.component",
        "no online component 'dt-rpc'",
    ),
    (
        "component_classifiers.0",
        {"component": "tracker-pixel", "mode": "offline", "status": "GOOD", "priority": 1, "rule": True},
        "component_classifiers.0.component",
        "no offline component 'tracker-pixel'",
    ),
    (
        "component_classifiers.0.component",
        "dtdt",
        "component_classifiers.0.component",
        "<workspace>-<column>",
    ),
    ("component_classifiers.0.status", "NO VALUE FOUND", "component_classifiers.0.status", "not a status"),
    ("component_classifiers.0.status", "EMPTY", "component_classifiers.0.status", "one of GOOD, BAD"),
    ("component_classifiers.0.priority", "first", "component_classifiers.0.priority", "integer"),
    (
        "offline_dataset_classifiers.0.workspace",
        "tracker",
        "offline_dataset_classifiers.0.workspace",
        "no offline workspace 'tracker'",
    ),
    (
        "class_classifiers.0.rule",
        INVALID_RULE,
        "class_classifiers.0.rule",
        "invalid JSON-logic at rule: unknown operator",
    ),
    (
        "significance_classifiers.0.rule",
        INVALID_RULE,
        "significance_classifiers.0.rule",
        "invalid JSON-logic at rule: unknown operator",
    ),
    (
        "component_classifiers.0.rule",
        INVALID_RULE,
        "component_classifiers.0.rule",
        "invalid JSON-logic at rule: unknown operator",
    ),
    (
        "offline_dataset_classifiers.0.rule",
        INVALID_RULE,
        "offline_dataset_classifiers.0.rule",
        "invalid JSON-logic at rule: unknown operator",
    ),
    (
        "json_presets.0.rule",
        INVALID_RULE,
        "json_presets.0.rule",
        "invalid JSON-logic at rule: unknown operator",
    ),
    ("class_classifiers.0.class", "", "class_classifiers.0.class", "at least 1 character"),
    (
        "datasets_accepted.0.regexps",
        ["/ZeroBias/.*", "/Muon0/Run2024C-(PromptReco"],
        "datasets_accepted.0.regexps.1",
        "not a valid regular expression",
    ),
    (
        "datasets_accepted.0.run_to",
        379000,
        "datasets_accepted.0.run_to",
        "run_from (379412) is after run_to (379000)",
    ),
    (
        "permissions.0.grants.0.action",
        "registry:flag:write",
        "permissions.0.grants.0.action",
        "names no known action",
    ),
    (
        "permissions.0.grants.0.own",
        "perhaps",
        "permissions.0.grants.0.own",
        "valid boolean",
    ),
    (
        "permissions.0.grants",
        [{"action": "registry:*"}],
        "permissions",
        "nobody could change the configuration",
    ),
    (
        "permissions.1",
        {"egroup": "cms-dqm-runregistry-experts", "grants": []},
        "permissions.1.egroup",
        "duplicate e-group",
    ),
    (
        "json_presets.1",
        {"name": "golden", "rule": {"var": "x"}},
        "json_presets.1.name",
        "duplicate preset name 'golden'",
    ),
    (
        "class_classifiers.0.klass",
        "Collisions24",
        "class_classifiers.0.klass",
        "Extra inputs are not permitted",
    ),
    ("workspace", [], "workspace", "Extra inputs are not permitted"),
]


def test_the_small_document_is_valid() -> None:
    cfg = from_document(small_document())
    assert cfg.certifiable_components("online") == ["dt-dt", "tracker-pixel"]
    assert cfg.components("online") == ["dt-dt", "tracker-pixel", "tracker-strip"]


@pytest.mark.parametrize(
    ("where", "value", "field", "reason"), CASES, ids=[c[0] + "=" + repr(c[1])[:30] for c in CASES]
)
def test_invalid_configuration_is_rejected_naming_the_field(
    where: str, value: Any, field: str, reason: str
) -> None:
    document = small_document()
    put(document, where, value)
    with pytest.raises(InvalidInput) as caught:
        from_document(document)
    assert caught.value.field == field
    assert reason in caught.value.reason
    assert caught.value.message.startswith(f"{field}: ")
    # the pydantic error itself names the path too (for code that validates models directly)
    with pytest.raises(ValidationError) as raw:
        Configuration.model_validate(copy.deepcopy(document))
    assert field.split(".")[-1] in str(raw.value)


def test_all_field_problems_are_listed_in_details() -> None:
    document = small_document()
    put(document, "workspaces.0.columns", ["a-b"])
    put(document, "permissions.0.grants.0.action", "FETCH")
    with pytest.raises(InvalidInput) as caught:
        from_document(document)
    fields = [problem["field"] for problem in caught.value.details["problems"]]
    assert fields == ["workspaces.0.columns.0", "permissions.0.grants.0.action"]


def test_models_validate_on_their_own() -> None:
    with pytest.raises(ValidationError, match="columns.1: duplicate column 'a'"):
        Workspace(name="x", mode="online", columns=["a", "a"])
    with pytest.raises(ValidationError, match="run_to: run_from"):
        DatasetAccepted.model_validate({"name": "/A/B/DQM", "class": "C", "run_from": 2, "run_to": 1})
    accepted = DatasetAccepted(name="/A/B/DQM", class_name="C", regexps=["/A/.*"])
    assert (accepted.run_from, accepted.run_to, accepted.enabled) == (None, None, True)


# -- bounded input (issue 8) ------------------------------------------------------------------------------
def billion_laughs(levels: int) -> str:
    lines = ['x-l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"x-l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(
        [*lines, "json_presets:", "  - name: lol", f'    rule: {{"in": ["lol", *l{levels - 1}]}}']
    )


def test_a_yaml_alias_bomb_is_refused_naming_where_it_expands() -> None:
    with pytest.raises(InvalidInput, match="more than 200000 values") as refused:
        load_yaml(billion_laughs(9))  # 10**9 strings once expanded
    assert refused.value.field == "yaml"
    assert "json_presets[0].rule" in refused.value.reason


def test_a_yaml_file_beyond_the_size_limit_is_refused() -> None:
    from runreg.kernel.limits import MAX_YAML_BYTES

    with pytest.raises(InvalidInput, match=f"at most {MAX_YAML_BYTES} bytes"):
        load_yaml("workspaces: []\n" + "#" * MAX_YAML_BYTES)


def test_a_yaml_string_with_a_nul_is_refused() -> None:
    with pytest.raises(InvalidInput, match="NUL") as refused:
        load_yaml('json_presets:\n  - name: "a\\0b"\n    rule: true\n')
    assert "json_presets[0].name" in refused.value.reason


def test_deep_yaml_nesting_is_refused_without_a_crash() -> None:
    with pytest.raises(InvalidInput) as refused:
        load_yaml("json_presets:\n  - name: deep\n    rule: " + "[" * 5000 + "]" * 5000 + "\n")
    assert refused.value.field == "yaml"


def test_dataset_regexps_are_re2_and_match_gui_samples_in_linear_time() -> None:
    with pytest.raises(ValidationError, match="RE2 syntax"):
        DatasetAccepted(name="/A/B/DQM", class_name="C", regexps=[r"(?=lookahead)"])
    accepted = DatasetAccepted(
        name="/A/B/DQM", class_name="C", regexps=["(a|a)*b", "/ZeroBias/Run2024C-.*?/DQMIO"]
    )
    assert accepted.matches_gui_sample("/ZeroBias/Run2024C-PromptReco-v1/DQMIO")
    assert not accepted.matches_gui_sample("a" * 5000)  # exponential for a backtracking engine
