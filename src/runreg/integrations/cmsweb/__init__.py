"""cmsweb: ReqMgr2 (workflow documents and their changes feed), DBS (dataset numbers) and wmstats."""

from runreg.integrations.cmsweb.dbs import DatasetInfo, DbsClient, DbsSource, FileSummary
from runreg.integrations.cmsweb.errors import CmswebBadResponse, CmswebError, CmswebUnavailable
from runreg.integrations.cmsweb.reqmgr2 import ChangesPage, ReqMgr2Client, ReqMgr2Source
from runreg.integrations.cmsweb.sources import CmswebSources, connect, from_settings
from runreg.integrations.cmsweb.transport import CmswebHttp
from runreg.integrations.cmsweb.wmstats import WmstatsClient, WmstatsSource

__all__ = [
    "ChangesPage",
    "CmswebBadResponse",
    "CmswebError",
    "CmswebHttp",
    "CmswebSources",
    "CmswebUnavailable",
    "DatasetInfo",
    "DbsClient",
    "DbsSource",
    "FileSummary",
    "ReqMgr2Client",
    "ReqMgr2Source",
    "WmstatsClient",
    "WmstatsSource",
    "connect",
    "from_settings",
]
