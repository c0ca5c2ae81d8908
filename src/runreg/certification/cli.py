"""`runreg json …`: golden-JSON algebra on files (CMSSW compareJSON, mergeJSON, filterJSON) over lumilist."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from runreg.certification.cli_create import create
from runreg.certification.lumilist import LumiList, diff, intersect_all, union_all
from runreg.cliutil import console, database, err_console
from runreg.kernel.errors import InvalidInput, RunregError
from runreg.luminosity import service as luminosity

app = typer.Typer(
    help="Golden JSON algebra: and, or, sub, diff, filter, contains, normalize, cmssw, grl, count.",
    no_args_is_help=True,
)

# `runreg json create --rule FILE --datasets PATTERN`: the JSON portal from the command line.
app.command("create")(create)

STDIN = "-"
RUN_SPEC = re.compile(r"([0-9]+)\s*(?:-\s*([0-9]+))?")
FILES = typer.Argument(..., metavar="FILE...", help="golden JSON files; - reads standard input")
OUTPUT = typer.Option(None, "-o", "--output", help="write the result here instead of to standard output")


@contextmanager
def failures() -> Iterator[None]:
    """Errors as one red line on standard error and exit status 2, as `diff` and `grep` do.

    Status 1 is an answer here, not a failure: "the files differ" (`diff`), "not in the list" (`contains`).
    """
    try:
        yield
    except RunregError as exc:
        # Not cliutil.reported_errors: it reads the message as Rich markup (so "[first, last]" vanishes and a
        # run key such as "[/x]" crashes with a traceback), wraps it at 80 columns, and exits with 1.
        err_console.print(Text.assemble(("error:", "red"), " ", exc.message), soft_wrap=True)
        raise typer.Exit(2) from None


def read(paths: list[Path]) -> list[LumiList]:
    """Each file as a LumiList; an error names the file, then the run and range."""
    if sum(str(path) == STDIN for path in paths) > 1:
        raise InvalidInput("-", "standard input can be read only once")
    return [_read_one(path) for path in paths]


def _read_one(path: Path) -> LumiList:
    name = "standard input" if str(path) == STDIN else str(path)
    try:
        text = sys.stdin.read() if str(path) == STDIN else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(name, f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return LumiList.from_json(text)
    except InvalidInput as exc:
        details = {key: value for key, value in exc.details.items() if key != "field"}
        raise InvalidInput(name, exc.message, details=details) from None


def write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text)
        return
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(str(output), f"cannot write: {exc.strerror or exc}") from None


def _at_least_two(paths: list[Path]) -> None:
    if len(paths) < 2:
        raise InvalidInput("files", f"give at least two files, not {len(paths)}")


@app.command("and")
def and_(files: list[Path] = FILES, output: Path | None = OUTPUT) -> None:
    """LS in every file (compareJSON.py --and)."""
    with failures():
        _at_least_two(files)
        write(intersect_all(read(files)).to_compact_json_text(), output)


@app.command("or")
def or_(files: list[Path] = FILES, output: Path | None = OUTPUT) -> None:
    """LS in any of the files (compareJSON.py --or, mergeJSON.py)."""
    with failures():
        _at_least_two(files)
        write(union_all(read(files)).to_compact_json_text(), output)


@app.command("sub")
def sub(
    first: Path = typer.Argument(..., metavar="A"),
    second: Path = typer.Argument(..., metavar="B"),
    output: Path | None = OUTPUT,
) -> None:
    """LS in A and not in B (compareJSON.py --sub)."""
    with failures():
        a, b = read([first, second])
        write((a - b).to_compact_json_text(), output)


@app.command("diff")
def diff_(
    first: Path = typer.Argument(..., metavar="A"),
    second: Path = typer.Argument(..., metavar="B"),
) -> None:
    """Both sides: LS only in A, LS only in B. Exit status 0 when the same LS, 1 when not, 2 on error."""
    with failures():
        a, b = read([first, second])
    sides = diff(a, b)
    if sides.same:
        typer.echo(f"{first} and {second} hold the same LS")
        return
    for name, side in ((first, sides.only_in_a), (second, sides.only_in_b)):
        typer.echo(f"# only in {name}: {len(side.runs())} runs, {len(side)} LS")
        typer.echo(side.to_compact_json_text())
    raise typer.Exit(1)


@app.command("filter")
def filter_(
    file: Path = typer.Argument(..., metavar="A"),
    runs: str | None = typer.Option(None, help="keep only these runs: 315252,315255,316000-316100"),
    remove_runs: str | None = typer.Option(
        None, help="drop these runs (what CMSSW filterJSON.py calls --runs): 315252,316000-316100"
    ),
    min_run: int | None = typer.Option(None, help="drop runs below this one"),
    max_run: int | None = typer.Option(None, help="drop runs above this one"),
    output: Path | None = OUTPUT,
) -> None:
    """Keep or drop runs (filterJSON.py)."""
    with failures():
        (lumis,) = read([file])
        if runs is not None:
            lumis = union_all(lumis.filter_runs(selection) for selection in parse_runs(runs))
        if remove_runs is not None:
            for selection in parse_runs(remove_runs):
                lumis = lumis.remove_runs(selection)
        lumis = lumis.select_run_range(min_run, max_run)
        write(lumis.to_compact_json_text(), output)


def parse_runs(text: str) -> list[range]:
    """`"1,2,300-400"` as the ranges of runs it names (never expanded: a range is tested by membership)."""
    out: list[range] = []
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        match = RUN_SPEC.fullmatch(part)
        if match is None:
            raise InvalidInput("runs", f"{part!r} is not a run or a run range such as 316000-316100")
        low, high = int(match[1]), int(match[2] or match[1])
        if low > high:
            raise InvalidInput("runs", f"{part!r} is backwards")
        out.append(range(low, high + 1))
    return out


@app.command("contains")
def contains(
    file: Path = typer.Argument(..., metavar="A"),
    run: int = typer.Argument(...),
    ls: int | None = typer.Argument(None, help="the LS; without it, whether the run has any LS"),
) -> None:
    """Whether run RUN (LS LS) is in the file. Exit status 0 when it is, 1 when not, 2 on error."""
    with failures():
        (lumis,) = read([file])
        found = lumis.contains(run, ls)
    what = f"run {run}" if ls is None else f"{run}:{ls}"
    console.print(f"{what} is {'' if found else 'not '}in {file}", markup=False, highlight=False)
    if not found:
        raise typer.Exit(1)


@app.command("normalize")
def normalize(file: Path = typer.Argument(..., metavar="A"), output: Path | None = OUTPUT) -> None:
    """The file in normal form: ranges sorted, overlapping and adjacent ones merged, runs in order."""
    with failures():
        (lumis,) = read([file])
        write(lumis.to_compact_json_text(), output)


@app.command("cmssw")
def cmssw(
    file: Path = typer.Argument(..., metavar="A"),
    lines: bool = typer.Option(False, "--lines", help="one range per line instead of one comma-joined line"),
    output: Path | None = OUTPUT,
) -> None:
    """The CMSSW lumisToProcess string, 273158:1-273158:1279,273158:1300 (LumiList.getCMSSWString)."""
    with failures():
        (lumis,) = read([file])
        parts = lumis.cmssw_lumis_to_process()
        write("\n".join(parts) if lines else ",".join(parts), output)


@app.command("grl")
def grl(
    file: Path = typer.Argument(..., metavar="A"),
    name: str = typer.Option("runreg", help="the NamedLumiRange name"),
    version: str = typer.Option("2.1", help="the GRL version written"),
    output: Path | None = OUTPUT,
) -> None:
    """The list as an ATLAS Good Run List XML."""
    with failures():
        (lumis,) = read([file])
        write(lumis.to_grl_xml(name=name, version=version).rstrip("\n"), output)


@app.command("count")
def count(
    files: list[Path] = FILES,
    by_run: bool = typer.Option(False, "--by-run", help="one line per run"),
) -> None:
    """Runs, ranges and LS of each file."""
    with failures():
        lists = read(files)
    for path, lumis in zip(files, lists, strict=True):
        if not by_run:
            typer.echo(f"{path}: {len(lumis.runs())} runs, {lumis.range_count()} ranges, {len(lumis)} LS")
            continue
        table = Table("run", "ranges", "LS", title=Text(str(path)))
        for run, ranges in lumis.items():
            table.add_row(str(run), str(len(ranges)), str(lumis.ls_count(run)))
        console.print(table)


@app.command("lumi")
def lumi(
    file: Path = typer.Argument(..., help="a golden JSON file; - reads standard input"),
    by_run: bool = typer.Option(False, "--by-run", help="one line per run, with its source"),
) -> None:
    """Delivered and recorded luminosity of the LS a JSON lists, per run from its best source (brilcalc with
    a normtag, brilcalc, OMS online), saying which."""
    with failures():
        (lumis,) = read([file])
        figures = luminosity.of_selection(database(), lumis=dict(lumis.items()))
    if by_run:
        table = Table("run", "LS", "delivered /pb", "recorded /pb", "source", title=Text(str(file)))
        for run, row in figures["runs"].items():
            table.add_row(
                run,
                str(lumis.ls_count(int(run))),
                f"{row['delivered']:.4f}",
                f"{row['recorded']:.4f}",
                row["source"],
            )
        console.print(table)
    sources = ", ".join(f"{label}: {n} run{'s' if n != 1 else ''}" for label, n in figures["sources"].items())
    delivered, recorded = figures["delivered"], figures["recorded"]
    typer.echo(
        f"{file}: {len(lumis)} LS, delivered {delivered:.4f} /pb, recorded {recorded:.4f} /pb "
        f"({sources or 'no runs'})"
    )
