"""`runreg json …` on files, as a shifter would run it: outputs, exit statuses, error lines."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from runreg.certification.cli import app
from runreg.certification.lumilist import LumiList
from tests.builders.rich_tables import body_rows

runner = CliRunner()

A = {"273158": [[6, 9], [1, 5], [20, 30]], "273150": [[3, 3]]}
B = {"273158": [[4, 22]], "273160": [[1, 1]]}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    paths = {}
    for name, content in {"a": A, "b": B}.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(content))
        paths[name] = str(path)
    return paths


def run(*args: str, stdin: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=stdin)


def golden(result: Result) -> dict[str, list[list[int]]]:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_and_or_sub(files: dict[str, str]) -> None:
    assert golden(run("and", files["a"], files["b"])) == {"273158": [[4, 9], [20, 22]]}
    assert golden(run("or", files["a"], files["b"])) == {
        "273150": [[3, 3]],
        "273158": [[1, 30]],
        "273160": [[1, 1]],
    }
    assert golden(run("sub", files["a"], files["b"])) == {"273150": [[3, 3]], "273158": [[1, 3], [23, 30]]}
    assert golden(run("sub", files["b"], files["a"])) == {"273158": [[10, 19]], "273160": [[1, 1]]}


def test_output_is_the_cms_one_run_per_line_text(files: dict[str, str]) -> None:
    result = run("normalize", files["a"])
    assert result.stdout == '{"273150": [[3, 3]],\n "273158": [[1, 9], [20, 30]]}\n'


def test_and_or_take_more_than_two_files(files: dict[str, str], tmp_path: Path) -> None:
    c = tmp_path / "c.json"
    c.write_text(json.dumps({"273158": [[8, 25]], "1": [[1, 1]]}))
    assert golden(run("and", files["a"], files["b"], str(c))) == {"273158": [[8, 9], [20, 22]]}
    assert golden(run("or", files["a"], files["b"], str(c)))["1"] == [[1, 1]]


def test_output_file_and_stdin(files: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "out" / "union.json"
    out.parent.mkdir()
    result = run("or", "-", files["b"], "-o", str(out), stdin=json.dumps(A))
    assert result.exit_code == 0 and result.stdout == ""
    assert LumiList.from_json(out.read_text()) == LumiList.from_json(A) | LumiList.from_json(B)
    assert golden(run("normalize", "-", stdin='{"5": [[1, 5], [6, 9]]}')) == {"5": [[1, 9]]}


def test_diff_prints_both_sides_and_exits_1_when_they_differ(files: dict[str, str]) -> None:
    result = run("diff", files["a"], files["b"])
    assert result.exit_code == 1
    blocks = result.stdout.split("# only in ")[1:]
    assert blocks[0].startswith(f"{files['a']}: 2 runs, 12 LS\n")
    assert json.loads(blocks[0].split("\n", 1)[1]) == {"273150": [[3, 3]], "273158": [[1, 3], [23, 30]]}
    assert blocks[1].startswith(f"{files['b']}: 2 runs, 11 LS\n")
    assert json.loads(blocks[1].split("\n", 1)[1]) == {"273158": [[10, 19]], "273160": [[1, 1]]}


def test_diff_exits_0_when_only_the_writing_differs(files: dict[str, str], tmp_path: Path) -> None:
    same = tmp_path / "same.json"
    same.write_text('{"273150": [[3, 3]], "273158": [[20, 30], [1, 9]]}')
    result = run("diff", files["a"], str(same))
    assert result.exit_code == 0 and "hold the same LS" in result.stdout


def test_filter(files: dict[str, str]) -> None:
    assert list(golden(run("filter", files["a"], "--runs", "273150"))) == ["273150"]
    assert list(golden(run("filter", files["a"], "--runs", "273100-273155, 273158"))) == ["273150", "273158"]
    assert list(golden(run("filter", files["a"], "--remove-runs", "273150"))) == ["273158"]
    assert list(golden(run("filter", files["a"], "--min-run", "273151"))) == ["273158"]
    assert list(golden(run("filter", files["a"], "--max-run", "273151"))) == ["273150"]
    assert golden(run("filter", files["a"], "--runs", "1-273157", "--min-run", "273151")) == {}


def test_contains_answers_with_its_exit_status(files: dict[str, str]) -> None:
    inside = run("contains", files["a"], "273158", "9")
    assert inside.exit_code == 0 and "273158:9 is in" in inside.stdout
    outside = run("contains", files["a"], "273158", "10")
    assert outside.exit_code == 1 and "273158:10 is not in" in outside.stdout
    assert run("contains", files["a"], "273150").exit_code == 0
    assert run("contains", files["a"], "273151").exit_code == 1


def test_cmssw_strings(files: dict[str, str]) -> None:
    assert run("cmssw", files["a"]).stdout == "273150:3,273158:1-273158:9,273158:20-273158:30\n"
    assert run("cmssw", files["a"], "--lines").stdout.splitlines() == [
        "273150:3",
        "273158:1-273158:9",
        "273158:20-273158:30",
    ]


def test_grl_xml(files: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "a.xml"
    result = run("grl", files["a"], "--name", "Golden", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert ET.fromstring(out.read_text()).findtext("NamedLumiRange/Name") == "Golden"
    assert LumiList.from_grl_xml(out.read_text()) == LumiList.from_json(A)


def test_count(files: dict[str, str]) -> None:
    result = run("count", files["a"], files["b"])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"{files['a']}: 2 runs, 3 ranges, 21 LS",
        f"{files['b']}: 2 runs, 2 ranges, 20 LS",
    ]
    by_run = run("count", "--by-run", files["a"])
    assert by_run.exit_code == 0
    assert body_rows(by_run.stdout) == [["273150", "1", "1"], ["273158", "2", "20"]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"273158": [[10, 5]]}', "run 273158: range [10, 5] is backwards"),
        ('{"273158": [[0, 5]]}', "run 273158: range [0, 5] starts below LS 1"),
        ('{"x": [[1, 5]]}', '"x" is not a run number'),
        ('{"273158": [[1, 5]]', "not valid JSON"),
        ('{"1": [[1, 2]], "1": [[5, 6]]}', "run 1: appears more than once"),
        # Messages and keys are shown as written, never read as Rich markup.
        ('{"1": "1-5"}', 'run 1: expected a list of [first, last] ranges, got "1-5"'),
        ('{"[/x]": [[1, 5]]}', '"[/x]" is not a run number'),
    ],
)
def test_invalid_input_is_one_line_and_exit_2(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    for command in (["normalize", str(bad)], ["diff", str(bad), str(bad)], ["contains", str(bad), "1", "1"]):
        result = run(*command)
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1
        assert result.stderr.startswith(f"error: {bad}: ") and message in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sub", "{a}", "missing.json"], "missing.json: cannot read: No such file or directory"),
        (["and", "{a}"], "give at least two files"),
        (["or", "-", "-"], "standard input can be read only once"),
        (["filter", "{a}", "--runs", "12-"], "'12-' is not a run or a run range"),
        (["filter", "{a}", "--runs", "9-3"], "'9-3' is backwards"),
        (["filter", "{a}", "--min-run", "9", "--max-run", "3"], "minimum run 9 is above maximum run 3"),
        (["contains", "{a}", "0", "1"], "0 is not a run number"),
    ],
)
def test_usage_errors_exit_2(files: dict[str, str], args: list[str], message: str) -> None:
    result = run(*(arg.format(a=files["a"]) for arg in args), stdin="{}")
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stderr.startswith("error: ")


def test_json_create_runs_the_portal_from_the_command_line(tmp_path: Path) -> None:
    import json as jsonlib
    import os
    import subprocess
    import sys

    from runreg.storage.database import Database
    from tests.builders.runs import create_collision_run
    from tests.contract.test_json_portal import offline_dataset

    env = {**os.environ, "RUNREG_DATABASE_URL": f"sqlite:///{tmp_path / 'json.sqlite'}"}
    runreg = [sys.executable, "-m", "runreg.cli.main"]
    assert subprocess.run([*runreg, "db", "upgrade"], env=env, capture_output=True).returncode == 0
    db = Database(env["RUNREG_DATABASE_URL"])
    create_collision_run(db, 380001, ls_count=20, off={"bpix_ready": (5, 6)})
    offline_dataset(db, 380001)
    db.dispose()
    rule = tmp_path / "rule.json"
    rule.write_text(jsonlib.dumps({"==": [{"var": "lumisection.oms.bpix_ready"}, True]}))

    done = subprocess.run(
        [*runreg, "json", "create", "--rule", str(rule), "--datasets", "/PromptReco/%"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert jsonlib.loads(done.stdout) == {"380001": [[1, 4], [7, 20]]}
    assert "job 1" in done.stderr
