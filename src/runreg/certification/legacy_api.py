"""The original JSON portal routes as the public client's `create_json` uses them (203/202/200/500)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from annotated_types import Ge, Le
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from runreg.access.api import authenticated_actor
from runreg.certification import ls_data, service
from runreg.kernel import limits
from runreg.kernel.actors import Actor
from runreg.kernel.errors import InvalidInput
from runreg.kernel.limits import INT32_MAX, Id, Pattern, Value

router = APIRouter(tags=["legacy (runregistry client)"])
WRITE = Depends(authenticated_actor)


class Generate(BaseModel):
    json_logic: Any
    dataset_name_filter: Pattern = ""
    tags: Value = ""
    official: bool = False


class Poll(BaseModel):
    id_json: Id


@router.post("/json_portal/generate")
def generate(request: Request, body: Generate, actor: Actor = WRITE) -> dict[str, Any]:
    """The client sends the rule as a JSON string and reads only `id` from the answer."""
    rule = body.json_logic
    if isinstance(rule, str):
        try:
            rule = json.loads(rule)
        except (json.JSONDecodeError, RecursionError):  # too deep for the decoder: not JSON we can read
            raise InvalidInput("json_logic", "JSON logic sent is not in json format") from None
    if not body.dataset_name_filter:
        raise InvalidInput("dataset_name_filter", "No dataset name specified")
    job_id = service.submit(
        request.app.state.db,
        request.app.state.jobs,
        actor=actor,
        rule=rule,
        dataset_pattern=body.dataset_name_filter,
        tags=body.tags,
        official=body.official,
    )
    return {"id": job_id, "name": "__default__", "data": body.model_dump()}


@router.post("/json_portal/json", openapi_extra={"x-read-only": True})
def poll(request: Request, body: Poll) -> Response:
    """203 queued, 202 running with progress, 200 done with the whole record in `final_json`, 500 failed."""
    job = service.get(request.app.state.db, body.id_json)
    if job.status == "queued":
        return Response(status_code=203)
    if job.status == "running":
        return JSONResponse({"progress": job.progress}, status_code=202)
    if job.status == "failed":
        return Response(status_code=500)
    return JSONResponse({"final_json": legacy_record(job)})


def legacy_record(job: service.Job) -> dict[str, Any]:
    """The original's GeneratedJson row, from our stored result."""
    result = job.result or {}
    recorded = result.get("luminosity", {}).get("recorded", {})
    delivered = result.get("luminosity", {}).get("delivered", {})
    failures = result.get("failures", {})
    return {
        "id": job.id,
        "dataset_name_filter": job.dataset_pattern,
        "tags": job.tags,
        "created_by": job.created_by,
        "official": job.official,
        "runregistry_version": job.change_set_id,
        "json_logic": job.rule,
        "generated_json": result.get("json", {}),
        "generated_json_with_dataset_names": result.get("json_with_dataset_names", {}),
        "generated_anti_json": result.get("anti_json", {}),
        "generated_anti_json_with_dataset_names": result.get("anti_json_with_dataset_names", {}),
        "min_run_number": result.get("min_run_number"),
        "max_run_number": result.get("max_run_number"),
        "total_recorded_luminosity": recorded.get("total"),
        "total_delivered_luminosity": delivered.get("total"),
        "recorded_luminosity_in_json": recorded.get("in_json"),
        "delivered_luminosity_in_json": delivered.get("in_json"),
        "total_recorded_luminosity_lost": recorded.get("lost"),
        "total_delivered_luminosity_lost": delivered.get("lost"),
        "rules_flagged_false_quantity_luminosity": failures.get("by_rule", []),
        "rules_flagged_false_combination_luminosity": failures.get("by_combination", []),
        "deleted": job.deleted,
        "createdAt": job.created_at.isoformat(),
    }


#: A golden JSON in a request body: `"<run>"` or `"<run>-<dataset>"` → inclusive LS ranges.
JsonRanges = dict[
    Value, list[tuple[Annotated[int, Ge(1), Le(INT32_MAX)], Annotated[int, Ge(1), Le(INT32_MAX)]]]
]


class DataOfJson(BaseModel):
    json_: JsonRanges = Field(alias="json")


class JsonWithDatasetNames(BaseModel):
    json_with_dataset_names: JsonRanges


@router.post("/lumisections/get_data_of_json", openapi_extra={"x-read-only": True})
def get_data_of_json(request: Request, body: DataOfJson) -> dict[str, Any]:
    """Per `<run>-<dataset>` and LS, the context the golden-JSON rule sees there (with the run's per-LS
    luminosity from its best source), and the recorded and delivered totals."""
    return ls_data.data_of_json(request.app.state.db, json=_checked(body.json_))


@router.post("/lumisections/get_luminosity_of_json_with_dataset_names", openapi_extra={"x-read-only": True})
def get_luminosity_of_json_with_dataset_names(
    request: Request, body: JsonWithDatasetNames
) -> dict[str, float]:
    """Recorded luminosity (/pb) of each `<run>-<dataset>` entry (split at the first `-`, not every one)."""
    return ls_data.recorded_by_key(request.app.state.db, json=_checked(body.json_with_dataset_names))


def _checked(json_ranges: JsonRanges) -> JsonRanges:
    limits.check_count("json", sum(len(r) for r in json_ranges.values()), limits.MAX_LIST_ITEMS, "ranges")
    for key, ranges in json_ranges.items():
        for first, last in ranges:
            if first > last:
                raise InvalidInput(f"json.{key}", f"range [{first}, {last}] ends before it starts")
    return json_ranges
