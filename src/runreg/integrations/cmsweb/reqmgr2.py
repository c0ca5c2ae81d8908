"""ReqMgr2: the CouchDB `_changes` feed of `reqmgr_workload_cache`, its workflow documents, and the request
search by PrepID (how a resubmission finds its parent)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote

from runreg.integrations.cmsweb.errors import CmswebBadResponse
from runreg.integrations.cmsweb.transport import CmswebHttp

COUCH_DB = "/couchdb/reqmgr_workload_cache"
REQUEST_API = "/reqmgr2/data/request"


@dataclass(frozen=True, slots=True)
class ChangesPage:
    """One page of the feed: names changed and deleted since `since`, and where the next page starts."""

    changed: list[str]
    deleted: list[str]
    last_seq: str
    pending: int | None  # how many more changes the server holds after this page, when it says
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # with include_docs: changed docs

    @property
    def empty(self) -> bool:
        return not self.changed and not self.deleted


@runtime_checkable
class ReqMgr2Source(Protocol):
    def changes(self, *, since: str, limit: int, include_docs: bool = False) -> ChangesPage:
        """At most `limit` documents changed or deleted after sequence `since` ("0": from the start); with
        `include_docs`, the changed documents themselves (one request instead of one per document)."""
        ...

    def workflow(self, name: str) -> dict[str, Any] | None:
        """The workflow document, or None when ReqMgr2 has none (deleted meanwhile)."""
        ...

    def requests_by_prep_id(self, prep_id: str, *, fields: Sequence[str]) -> list[dict[str, Any]]:
        """Every request with this PrepID, each with `RequestName` and the asked `fields` when present."""
        ...


class ReqMgr2Client:
    """ReqMgr2Source over HTTP (the cmsweb front end)."""

    def __init__(self, http: CmswebHttp) -> None:
        self.http = http

    def changes(self, *, since: str, limit: int, include_docs: bool = False) -> ChangesPage:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        params: dict[str, Any] = {"since": since or "0", "limit": limit}
        if include_docs:
            params["include_docs"] = "true"
        payload = self.http.get(f"{COUCH_DB}/_changes", params)
        return parse_changes(payload, since=since)

    def workflow(self, name: str) -> dict[str, Any] | None:
        document = self.http.get(f"{COUCH_DB}/{quote(name, safe='')}", missing_ok=True)
        if document is None:
            return None
        if not isinstance(document, dict):
            raise CmswebBadResponse(f"ReqMgr2 document {name!r} is a JSON {type(document).__name__}")
        if document.get("RequestName", name) != name:
            raise CmswebBadResponse(
                f"asked ReqMgr2 for {name!r}, it answered with {document.get('RequestName')!r}"
            )
        return document

    def requests_by_prep_id(self, prep_id: str, *, fields: Sequence[str]) -> list[dict[str, Any]]:
        params = [("prep_id", prep_id), *(("mask", field) for field in fields)]
        payload = self.http.get(REQUEST_API, params)
        return parse_request_search(payload)


def parse_changes(payload: Any, *, since: str) -> ChangesPage:
    if not isinstance(payload, dict) or not isinstance(payload.get("results"), list):
        raise CmswebBadResponse("the ReqMgr2 _changes answer has no `results` list")
    changed: list[str] = []
    deleted: list[str] = []
    documents: dict[str, dict[str, Any]] = {}
    for index, row in enumerate(payload["results"]):
        name = row.get("id") if isinstance(row, dict) else None
        if not isinstance(name, str) or not name:
            raise CmswebBadResponse(f"the ReqMgr2 _changes result {index} has no `id`")
        if name.startswith("_design"):
            continue
        (deleted if row.get("deleted") is True else changed).append(name)
        doc = row.get("doc")
        if row.get("deleted") is not True and isinstance(doc, dict) and doc.get("RequestName", name) == name:
            documents[name] = doc
    last_seq = payload.get("last_seq", since)
    if isinstance(last_seq, int) and not isinstance(last_seq, bool):
        last_seq = str(last_seq)  # CouchDB 1.x numbered its sequences; 3.x sends opaque strings
    if not isinstance(last_seq, str):
        raise CmswebBadResponse(f"the ReqMgr2 _changes `last_seq` is {last_seq!r}")
    pending = payload.get("pending")
    return ChangesPage(changed, deleted, last_seq, pending if isinstance(pending, int) else None, documents)


def parse_request_search(payload: Any) -> list[dict[str, Any]]:
    """`{"result": [{"<name>": {...}, ...}]}` → one dict per request, with its `RequestName`."""
    result = payload.get("result") if isinstance(payload, dict) else None
    if not isinstance(result, list):
        raise CmswebBadResponse("the ReqMgr2 request search has no `result` list")
    found: list[dict[str, Any]] = []
    for block in result:
        if not isinstance(block, dict):
            raise CmswebBadResponse("a ReqMgr2 request search result is not an object")
        for name, fields in block.items():
            if isinstance(fields, dict):
                found.append({**fields, "RequestName": name})
    return found
