"""The monitor elements the simulated DQM files hold: path, kind, binning and how a run fills them.

`drift` runs from 0 (first run of the world) to 1 (last): detector ageing shows as slow trends in the
Landau peaks, occupancies and turn-on points; `rng` is the run's own random stream.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Rng = np.random.Generator


@dataclass(frozen=True)
class Filled:
    """What a run put into one ME: samples (x[, y]) and optional weights — or, for efficiencies, the bin
    contents and errors directly."""

    x: np.ndarray | None = None
    y: np.ndarray | None = None
    weights: np.ndarray | None = None
    contents: np.ndarray | None = None  # in-range bins, for efficiency curves
    errors: np.ndarray | None = None


@dataclass(frozen=True)
class MonitorElement:
    path: str
    kind: str  # TH1 | TH2 | TProfile
    x: tuple[int, float, float]
    fill: Callable[[Rng, float, int], Filled]
    y: tuple[int, float, float] | None = None
    labels: tuple[str, ...] = ()


def energy_loss(mpv0: float, loss: float, width: float, n: int) -> Callable[[Rng, float, int], Filled]:
    """Cluster charge or S/N: a Landau-like peak whose most probable value falls with `drift`."""

    def fill(rng: Rng, drift: float, run: int) -> Filled:
        mpv = mpv0 - loss * drift + rng.normal(0, 0.05 * width)
        return Filled(x=mpv + width * rng.gumbel(0, 1, n) + rng.normal(0, width * 0.3, n))

    return fill


def gaussian(mean0: float, slope: float, sigma: float, n: int) -> Callable[[Rng, float, int], Filled]:
    def fill(rng: Rng, drift: float, run: int) -> Filled:
        return Filled(x=rng.normal(mean0 + slope * drift, sigma, int(n * rng.uniform(0.8, 1.2))))

    return fill


def exponential(scale0: float, slope: float, n: int) -> Callable[[Rng, float, int], Filled]:
    def fill(rng: Rng, drift: float, run: int) -> Filled:
        return Filled(x=rng.exponential(scale0 + slope * drift, int(n * rng.uniform(0.8, 1.2))))

    return fill


def poisson_counts(lam0: float, slope: float, n: int) -> Callable[[Rng, float, int], Filled]:
    def fill(rng: Rng, drift: float, run: int) -> Filled:
        return Filled(x=rng.poisson(lam0 + slope * drift, n).astype(float))

    return fill


def categories(weights: tuple[float, ...], n: int) -> Callable[[Rng, float, int], Filled]:
    """Counts in labelled bins 1..k (x = bin centres 0.5..k-0.5 on a 0..k axis)."""

    def fill(rng: Rng, drift: float, run: int) -> Filled:
        p = np.asarray(weights) / sum(weights)
        return Filled(x=rng.choice(len(p), size=n, p=p) + 0.5)

    return fill


def occupancy_map(nx: int, ny: int, level: float, slope: float, dead: float, n: int):  # noqa: ANN201
    """A detector map: uniform occupancy with a few dead cells (more with drift)."""

    def fill(rng: Rng, drift: float, run: int) -> Filled:
        x = rng.uniform(0, nx, n)
        y = rng.uniform(0, ny, n)
        cell_rng = np.random.default_rng(nx * 1000 + ny)  # the same dead cells in every run
        dead_cells = cell_rng.random((nx, ny)) < dead * (1 + 2 * drift)
        alive = ~dead_cells[x.astype(int).clip(0, nx - 1), y.astype(int).clip(0, ny - 1)]
        w = np.full(n, level * (1 + slope * drift) * nx * ny / n)
        return Filled(x=x[alive], y=y[alive], weights=w[alive])

    return fill


def eta_phi(n: int) -> Callable[[Rng, float, int], Filled]:
    def fill(rng: Rng, drift: float, run: int) -> Filled:
        return Filled(x=rng.normal(0, 1.2, n).clip(-2.49, 2.49), y=rng.uniform(-np.pi, np.pi, n))

    return fill


def profile_flat(
    level0: float, slope: float, spread: float, lo: float, hi: float, n: int, grow: bool = False
):  # noqa: ANN201
    """A TProfile of a quantity roughly flat in x; with `grow`, only the first part of the x axis (the run's
    LS) is filled."""

    def fill(rng: Rng, drift: float, run: int) -> Filled:
        top = lo + (hi - lo) * rng.uniform(0.3, 0.9) if grow else hi
        x = rng.uniform(lo, top, n)
        return Filled(x=x, y=rng.normal(level0 + slope * drift, spread, n))

    return fill


def turn_on(threshold0: float, slope: float, width: float, plateau: float, nx: int, lo: float, hi: float):  # noqa: ANN201
    """An efficiency curve (trigger turn-on): exactly 0 well below threshold, `plateau` well above."""

    def fill(rng: Rng, drift: float, run: int) -> Filled:
        centres = lo + (np.arange(nx) + 0.5) * (hi - lo) / nx
        threshold = threshold0 + slope * drift
        eff = plateau / (1 + np.exp(-(centres - threshold) / width))
        events = 4000
        passed = rng.binomial(events, eff)
        value = passed / events
        value[centres < threshold - 6 * width] = 0.0
        errors = np.sqrt(np.clip(value * (1 - value), 1e-6, None) / events)
        return Filled(contents=value, errors=np.where(value > 0, errors, 0.0))

    return fill


def per_ls(n_ls: int) -> Callable[[Rng, float, int], Filled]:
    def fill(rng: Rng, drift: float, run: int) -> Filled:
        ls = int(rng.integers(n_ls // 4, n_ls))
        return Filled(x=np.repeat(np.arange(ls) + 1.0, 50))

    return fill


_HB_HE = (85, -42.5, 42.5)
_IPHI = (72, 0.5, 72.5)


def hcal_depth(depth: int) -> Callable[[Rng, float, int], Filled]:
    """HCAL occupancy per (ieta, iphi) at one depth; one RBX (HBM03) goes dark late in the year."""

    def fill(rng: Rng, drift: float, run: int) -> Filled:
        ieta = np.concatenate([np.arange(-29, 0), np.arange(1, 30)])
        keep = (np.abs(ieta) <= 16) if depth >= 3 else np.ones_like(ieta, dtype=bool)
        ieta = ieta[keep]
        eta, phi = np.meshgrid(ieta, np.arange(1, 73), indexing="ij")
        eta, phi = eta.ravel().astype(float), phi.ravel().astype(float)
        w = rng.poisson(200 * (1 - 0.1 * drift) / depth, eta.size).astype(float)
        dark = (eta < 0) & (eta >= -16) & np.isin(phi, (7, 8, 9, 10))
        if drift > 0.8:
            w[dark] = 0.0
        return Filled(x=eta, y=phi, weights=w)

    return fill


def _mes() -> list[MonitorElement]:
    mes = [
        # -- PixelPhase1 --
        MonitorElement(
            "PixelPhase1/Tracks/ntracks",
            "TH1",
            (4, 0, 4),
            categories((100, 60, 25, 15), 5000),
            labels=("All", "Pixel", "BPix", "FPix"),
        ),
        MonitorElement(
            "PixelPhase1/Tracks/charge_PXBarrel", "TH1", (100, 0, 100), energy_loss(21.0, 2.0, 2.0, 20000)
        ),
        MonitorElement(
            "PixelPhase1/Tracks/charge_PXForward", "TH1", (100, 0, 100), energy_loss(19.0, 1.5, 2.2, 20000)
        ),
        MonitorElement(
            "PixelPhase1/Digis/adc_PXBarrel", "TH1", (128, 0, 256), gaussian(95.0, -6.0, 25.0, 20000)
        ),
        MonitorElement(
            "PixelPhase1/Digis/num_digis_PXBarrel",
            "TH1",
            (100, 0, 5000),
            gaussian(2200.0, 150.0, 300.0, 3000),
        ),
        MonitorElement(
            "PixelPhase1/Clusters/num_clusters_PXBarrel",
            "TH1",
            (100, 0, 1000),
            gaussian(450.0, 20.0, 60.0, 3000),
        ),
        MonitorElement(
            "PixelPhase1/Clusters/size_PXBarrel", "TH1", (20, 0, 20), exponential(4.0, 0.3, 10000)
        ),
        MonitorElement(
            "PixelPhase1/Tracks/PXBarrel/valid_PXLayer_1", "TH1", (10, 0, 10), poisson_counts(3.0, -0.2, 5000)
        ),
        MonitorElement(
            "PixelPhase1/Tracks/PXBarrel/missing_PXLayer_1",
            "TH1",
            (10, 0, 10),
            poisson_counts(0.1, 0.1, 5000),
        ),
        MonitorElement(
            "PixelPhase1/Phase1_MechanicalView/PXBarrel/digi_occupancy_per_SignedModuleCoord_per_SignedLadderCoord_PXLayer_1",
            "TH2",
            (8, -4, 4),
            occupancy_map(8, 12, 40.0, 0.2, 0.03, 20000),
            y=(12, -6, 6),
        ),
        MonitorElement(
            "PixelPhase1/FED/Dead Channels per ROC_per_SignedModuleCoord_per_SignedLadderCoord_PXLayer_1",
            "TH2",
            (8, -4, 4),
            occupancy_map(8, 12, 2.0, 1.0, 0.2, 2000),
            y=(12, -6, 6),
        ),
        MonitorElement(
            "PixelPhase1/FED/nerrors_per_type",
            "TH1",
            (6, 0, 6),
            categories((50, 20, 10, 5, 3, 1), 800),
            labels=("Timeout", "EventNumber", "FIFO", "Trailer", "Overflow", "Other"),
        ),
        # -- SiStrip --
        MonitorElement(
            "SiStrip/MechanicalView/TIB/Summary_ClusterStoNCorr_OnTrack__TIB",
            "TH1",
            (100, 0, 100),
            energy_loss(22.0, 1.5, 2.5, 30000),
        ),
        MonitorElement(
            "SiStrip/MechanicalView/TOB/Summary_ClusterStoNCorr_OnTrack__TOB",
            "TH1",
            (100, 0, 100),
            energy_loss(28.0, 1.0, 3.0, 30000),
        ),
        MonitorElement(
            "SiStrip/MechanicalView/TOB/Summary_TotalNumberOfClusters__TOB",
            "TH1",
            (100, 0, 5000),
            gaussian(1800.0, 100.0, 250.0, 3000),
        ),
        MonitorElement(
            "SiStrip/ReadoutView/FedErrorsVsId",
            "TH2",
            (440, 49.5, 489.5),
            occupancy_map(440, 10, 0.5, 0.5, 0.9, 3000),
            y=(10, 0.5, 10.5),
        ),
        MonitorElement("SiStrip/ReadoutView/nFEDErrors", "TH1", (50, 0, 50), exponential(3.0, 1.0, 2000)),
        MonitorElement(
            "SiStrip/MechanicalView/BadComponents",
            "TH2",
            (6, 0.5, 6.5),
            occupancy_map(6, 5, 10.0, 0.3, 0.0, 500),
            y=(5, 0.5, 5.5),
        ),
        MonitorElement(
            "SiStrip/ReadoutView/FE/FrontEndErrorMap",
            "TH2",
            (20, 0, 20),
            occupancy_map(20, 24, 5.0, 0.5, 0.6, 1000),
            y=(24, 0, 24),
        ),
        MonitorElement(
            "SiStrip/EventInfo/reportSummaryMap",
            "TH2",
            (4, 0.5, 4.5),
            occupancy_map(4, 6, 1.0, -0.02, 0.0, 400),
            y=(6, 0.5, 6.5),
        ),
        # -- Tracking --
        MonitorElement(
            "Tracking/TrackParameters/GeneralProperties/NumberOfTracks_GenTk",
            "TH1",
            (100, 0, 2000),
            gaussian(600.0, 40.0, 120.0, 3000),
        ),
        MonitorElement(
            "Tracking/TrackParameters/GeneralProperties/TrackPt_ImpactPoint_GenTk",
            "TH1",
            (100, 0, 50),
            exponential(3.0, 0.1, 30000),
        ),
        MonitorElement(
            "Tracking/TrackParameters/GeneralProperties/Reference/TrackPt_ImpactPoint_GenTk",
            "TH1",
            (100, 0, 50),
            exponential(3.0, 0.0, 30000),
        ),
        MonitorElement(
            "Tracking/TrackParameters/GeneralProperties/TrackEtaPhi_ImpactPoint_GenTk",
            "TH2",
            (50, -2.5, 2.5),
            eta_phi(30000),
            y=(36, -np.pi, np.pi),
        ),
        MonitorElement(
            "Tracking/TrackParameters/HitProperties/NumberOfRecHitsPerTrack_GenTk",
            "TH1",
            (40, 0, 40),
            poisson_counts(15.0, -0.5, 20000),
        ),
        MonitorElement(
            "Tracking/TrackParameters/GeneralProperties/NumberOfRecHitsPerTrackVsEta_GenTk",
            "TProfile",
            (50, -2.5, 2.5),
            profile_flat(15.0, -0.4, 3.0, -2.5, 2.5, 20000),
        ),
        MonitorElement(
            "Tracking/TrackParameters/LSanalysis/NumberOfTracksVsLS_GenTk",
            "TProfile",
            (300, 0.5, 300.5),
            profile_flat(600.0, 30.0, 80.0, 0.5, 300.5, 20000, grow=True),
        ),
        MonitorElement(
            "Tracking/TrackParameters/LSanalysis/NumberEventsVsLUMI", "TH1", (300, 0.5, 300.5), per_ls(300)
        ),
        # -- L1T --
        MonitorElement(
            "L1T/L1TObjects/L1TMuon/EfficiencyMuonsPt_SingleMu22",
            "TH1",
            (50, 0, 100),
            turn_on(22.0, 0.8, 1.5, 0.93, 50, 0, 100),
        ),
        MonitorElement(
            "L1T/L1TObjects/L1TEGamma/EfficiencyEGammaEt_SingleEG36",
            "TH1",
            (60, 0, 120),
            turn_on(36.0, 1.0, 2.5, 0.97, 60, 0, 120),
        ),
        MonitorElement(
            "L1T/L1TObjects/L1TJet/EfficiencyJetEt_SingleJet180",
            "TH1",
            (50, 0, 500),
            turn_on(180.0, 5.0, 12.0, 0.99, 50, 0, 500),
        ),
        # -- Muons, CSC, DT, RPC, GEM --
        MonitorElement(
            "Muons/MuonRecoAnalyzer/GlbMuon_Glb_pt", "TH1", (100, 0, 200), exponential(18.0, 0.5, 10000)
        ),
        MonitorElement(
            "CSC/CSCOfflineMonitor/Occupancy/hOSegments",
            "TH2",
            (36, 0.5, 36.5),
            occupancy_map(36, 18, 20.0, 0.1, 0.02, 20000),
            y=(18, 0.5, 18.5),
        ),
        MonitorElement(
            "DT/02-Segments/Wheel0/Sector1/Station1/T0_FromSegm_W0_Sec1_St1",
            "TH1",
            (100, -50, 50),
            gaussian(0.5, 1.5, 6.0, 5000),
        ),
        MonitorElement(
            "RPC/AllHits/SummaryHistograms/RPCChamberQuality_Distribution_Barrel",
            "TH1",
            (7, 0, 7),
            categories((900, 30, 20, 15, 10, 5, 20), 1000),
            labels=("Good", "OFF", "Nohit", "Bad shape", "Partly dead", "Dead", "Noisy"),
        ),
        MonitorElement(
            "GEM/Digis/occ_GE11-P-L1",
            "TH2",
            (36, 0.5, 36.5),
            occupancy_map(36, 8, 30.0, 0.1, 0.05, 20000),
            y=(8, 0.5, 8.5),
        ),
        MonitorElement(
            "GEM/RecHits/occ_GE11-P-L1",
            "TH2",
            (36, 0.5, 36.5),
            occupancy_map(36, 8, 25.0, 0.1, 0.05, 20000),
            y=(8, 0.5, 8.5),
        ),
        # -- JetMET --
        MonitorElement(
            "JetMET/Jet/Cleanedak4PFJetsCHS/Pt", "TH1", (100, 0, 500), exponential(45.0, 2.0, 20000)
        ),
        MonitorElement("JetMET/MET/pfMet/Cleaned/MET", "TH1", (100, 0, 300), exponential(25.0, 1.5, 20000)),
    ]
    mes += [
        MonitorElement(f"Hcal/DigiTask/Occupancy/depth/depth{d}", "TH2", _HB_HE, hcal_depth(d), y=_IPHI)
        for d in (1, 2, 3, 4)
    ]
    return mes


CATALOGUE: tuple[MonitorElement, ...] = tuple(_mes())
