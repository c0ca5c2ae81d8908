"""Write DQM GUI ROOT files for the OMS simulator's runs under an EOS-like root:
`<era>/<PD>/<run block>/DQM_V<vvvv>_R<run>__<PD>__<Era>-<ProcessingString>-v<n>__DQMIO.root`."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import uproot

from runreg.simulators.dqm_files.catalogue import CATALOGUE, MonitorElement
from runreg.simulators.dqm_files.writer import to_root
from runreg.simulators.oms.world import OmsWorld

#: (primary dataset, processing string): one PD and one processing string carry a '-' on purpose.
DATASETS: tuple[tuple[str, str], ...] = (("ZeroBias", "PromptReco"), ("Muon-Tagged", "ReReco-Pixel2024"))
MISSING_ME = "PixelPhase1/Tracks/charge_PXBarrel"


@dataclass(frozen=True)
class GeneratedFile:
    path: Path
    run: int
    primary_dataset: str
    processing_string: str
    version: int
    corrupt: bool = False
    missing: tuple[str, ...] = ()


@dataclass
class Manifest:
    files: list[GeneratedFile] = field(default_factory=list)

    def newest(self) -> list[GeneratedFile]:
        """The highest version of every (run, PD, processing string)."""
        best: dict[tuple[int, str, str], GeneratedFile] = {}
        for f in self.files:
            key = (f.run, f.primary_dataset, f.processing_string)
            if key not in best or f.version > best[key].version:
                best[key] = f
        return list(best.values())


def era_of(world: OmsWorld, run: int) -> str:
    """Eras advance every 40 runs of the world: Run2024A, Run2024B, ..."""
    index = next(i for i, plan in enumerate(world.plans) if plan.run_number == run)
    return f"Run{world.plans[0].start_time.year}{chr(ord('A') + min(index // 40, 25))}"


def file_name(run: int, pd: str, era: str, processing: str, version: int, processing_version: int = 1) -> str:
    return f"DQM_V{version:04d}_R{run:09d}__{pd}__{era}-{processing}-v{processing_version}__DQMIO.root"


def me_key(run: int, path: str) -> str:
    top, rest = path.split("/", 1)
    return f"DQMData/Run {run}/{top}/Run summary/{rest}"


def write_file(
    path: Path,
    run: int,
    drift: float,
    *,
    seed: int,
    skip: Sequence[str] = (),
    mes: Iterable[MonitorElement] = CATALOGUE,
) -> None:
    """One DQM file: every ME of the catalogue filled for this run (deterministic by `seed`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with uproot.recreate(partial) as out:
        for me in mes:
            if me.path in skip:
                continue
            rng = np.random.default_rng([seed, run, zlib.crc32(me.path.encode())])
            out[me_key(run, me.path)] = to_root(me, me.fill(rng, drift, run))
    partial.replace(path)  # a reader never sees a half-written file


def generate(
    root: Path,
    *,
    world: OmsWorld | None = None,
    runs: Sequence[int] | None = None,
    datasets: Sequence[tuple[str, str]] = DATASETS,
    second_versions: int = 2,
    corrupt: bool = True,
    missing_me: bool = True,
    mes: Iterable[MonitorElement] = CATALOGUE,
) -> Manifest:
    """Files for `runs` (default: every collisions run of the world) in each dataset; the first
    `second_versions` runs of the first dataset also get a V0002 (re-uploaded, slightly different), the
    last file of the first dataset is truncated (corrupt) and the second file lacks `MISSING_ME`."""
    world = world or OmsWorld(runs=60)
    mes = tuple(mes)
    numbers = (
        list(runs) if runs is not None else [p.run_number for p in world.plans if p.kind == "collisions"]
    )
    first, last = world.plans[0].run_number, world.plans[-1].run_number
    manifest = Manifest()
    for d, (pd, processing) in enumerate(datasets):
        for i, run in enumerate(numbers):
            era = era_of(world, run)
            drift = (run - first) / max(last - first, 1)
            folder = root / era / pd / f"{run // 100:07d}xx"
            skip = (MISSING_ME,) if missing_me and d == 0 and i == 1 else ()
            versions = (1, 2) if d == 0 and i < second_versions else (1,)
            for version in versions:
                path = folder / file_name(run, pd, era, processing, version)
                write_file(path, run, drift, seed=version * 7919 + d, skip=skip, mes=mes)
                manifest.files.append(GeneratedFile(path, run, pd, processing, version, missing=skip))
    if corrupt and numbers:
        victim = next(f for f in reversed(manifest.files) if f.primary_dataset == datasets[0][0])
        data = victim.path.read_bytes()
        victim.path.write_bytes(data[: len(data) // 3])
        index = manifest.files.index(victim)
        manifest.files[index] = GeneratedFile(
            victim.path,
            victim.run,
            victim.primary_dataset,
            victim.processing_string,
            victim.version,
            corrupt=True,
        )
    return manifest


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Write simulated DQM GUI ROOT files.")
    parser.add_argument("root", type=Path)
    parser.add_argument("--runs", type=int, default=60, help="size of the OMS world")
    args = parser.parse_args()
    manifest = generate(args.root, world=OmsWorld(runs=args.runs))
    print(f"{len(manifest.files)} files under {args.root}")


if __name__ == "__main__":
    main()
