"""The datasets-accepted editor's form: a rule as the configuration holds it, and the configuration's
refusals brought back to the form's field."""

from __future__ import annotations

import pytest

from runreg.kernel.errors import InvalidInput
from runreg.web.datasets_accepted import _as_form, _form_error, _rule


def test_a_form_is_the_rule_the_configuration_holds_and_back() -> None:
    form = {"name": " /X/Y/DQM ", "class": "Collisions24", "run_from": "", "run_to": "381000",
            "enabled": "1", "regexps": "/ZeroBias/.*\n\n  /Muon0/.* \n"}  # fmt: skip
    rule = _rule(form)
    assert rule == {"name": "/X/Y/DQM", "class": "Collisions24", "run_from": None, "run_to": 381000,
                    "enabled": True, "regexps": ["/ZeroBias/.*", "/Muon0/.*"]}  # fmt: skip
    back = _as_form(rule)
    assert back["regexps"] == "/ZeroBias/.*\n/Muon0/.*" and back["run_from"] == "" and back["enabled"] == "1"
    assert _rule({**form, "enabled": ""})["enabled"] is False
    with pytest.raises(InvalidInput) as refused:
        _rule({**form, "run_from": "38o000"})
    assert refused.value.field == "run_from"


def test_a_configuration_refusal_names_the_forms_field_and_line() -> None:
    regexp = _form_error(
        InvalidInput("datasets_accepted.5.regexps.1", "'(' is not a valid regular expression")
    )
    assert (regexp.field, regexp.reason) == ("regexps", "line 2: '(' is not a valid regular expression")
    runs = _form_error(InvalidInput("datasets_accepted.5.run_to", "run_from (3) is after run_to (2)"))
    assert (runs.field, runs.reason) == ("run_to", "run_from (3) is after run_to (2)")
    other = InvalidInput("permissions", "nobody could change the configuration")
    assert _form_error(other) is other
