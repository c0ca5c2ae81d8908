"""Where a workflow, its campaigns and requests are followed outside runreg (spec §5.2a, §5.3), pure."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote, urlencode

from runreg.workflows import model

PDMV = "https://cms-pdmv-prod.web.cern.ch"
CMSWEB = "https://cmsweb.cern.ch"


def _q(value: str) -> str:
    return quote(value, safe="")


@lru_cache(maxsize=65536)  # a page links every dataset it shows; names repeat from page to page
def das(dataset: str) -> str:
    return f"{CMSWEB}/das/request?" + urlencode(
        {"view": "list", "limit": 50, "instance": "prod/global", "input": f"dataset={dataset}"}
    )


def workflow(name: str, prep_id: str | None) -> list[tuple[str, str]]:
    """(label, URL) of the pages following one workflow outside runreg."""
    found = [("ReqMgr2", f"{CMSWEB}/reqmgr2/fetch?rid={_q(name)}")]
    if prep_id:
        unified = "https://cms-unified.web.cern.ch/cms-unified/showlog/?search="
        status = "https://dmytro.web.cern.ch/dmytro/cmsprodmon/workflows.php?prep_id="
        found += [("CMS Unified", unified + _q(prep_id)), ("Computing status", status + _q(prep_id))]
    return found


@lru_cache(maxsize=4096)
def harvesting(dataset: str) -> str:
    return f"{CMSWEB}/reqmgr2/data/request?detail=true&inputdataset={_q(dataset)}"


def pmp(name: str) -> str:
    return f"{PDMV}/pmp/historical?r={_q(name)}"


def campaign(prep_id: str | None, value: str) -> tuple[str, str] | None:
    """The campaign's page in the service the workflow comes from (McM, ReReco or RelVal machine)."""
    kind = model.service_type(prep_id)
    if kind == "mc":
        return "McM", f"{PDMV}/mcm/campaigns?prepid={_q(value)}"
    if kind == "rereco_machine":
        return "ReReco", f"{PDMV}/rereco/subcampaigns?prepid={_q(value)}"
    if kind == "relval_machine" and "__" in value:
        release, rest = value.split("__", 1)
        batch, _, stamp = rest.rpartition("__")[2].partition("-")
        query = urlencode({"cmssw_release": release, "batch_name": batch, "campaign_timestamp": stamp})
        return "RelVal", f"{PDMV}/relval/relvals?{query}"
    return None


def request(prep_id: str | None, value: str) -> tuple[str, str] | None:
    kind = model.service_type(prep_id)
    path = {"mc": "mcm/requests", "rereco_machine": "rereco/requests", "relval_machine": "relval/relvals"}
    if kind not in path:
        return None
    label = {"mc": "McM", "rereco_machine": "ReReco", "relval_machine": "RelVal"}[kind]
    return label, f"{PDMV}/{path[kind]}?prepid={_q(value)}"
