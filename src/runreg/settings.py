"""One typed settings object, read once from the environment (prefix RUNREG_)."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from runreg.kernel.limits import MAX_BODY_BYTES


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RUNREG_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{Path('var/runreg.sqlite').resolve()}"
    host: str = "127.0.0.1"
    port: int = 9500
    # Host headers the server answers (comma-separated; "*.cern.ch" matches subdomains). Unset: the serve
    # host, localhost and 127.0.0.1. Checked in dev mode too (DNS rebinding); probes and /metrics are exempt.
    allowed_hosts: Annotated[list[str] | None, NoDecode] = None
    # `serve --workers N`: seconds a worker process may take to start answering its supervisor before it is
    # killed and replaced (uvicorn's default of 5 s kills workers that import slowly on a loaded host).
    worker_startup_timeout_s: int = 60
    # Identity (docs/SECURITY.md). 1) A reverse proxy proves itself with this shared secret in the header
    # X-Runreg-Proxy-Secret and passes `email`, `egroups` (comma-separated) and `displayname` headers.
    proxy_secret: str | None = None
    # 2) Bearer JWTs verified against the issuer's JWKS; e-groups read from `jwt_egroups_claim`.
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_egroups_claim: str = "cern_roles"
    jwt_email_claim: str = "email"
    # 3) Development only (on in the embedded demo, off by default): trust the `email`/`egroups` headers as
    # the public client's local mode sends them (`email: api@api`, no e-groups: those come from dev_egroups).
    dev_identity: bool = False
    dev_egroups: list[str] = ["cms-dqm-runregistry-experts"]
    # An identity (from any source) in one of these e-groups is an ML agent, not a person: a service account
    # whose changes are never manual decisions (docs/SECURITY.md). Keep people out of these e-groups.
    agent_egroups: list[str] = ["cms-dqm-runregistry-ml-agents"]
    # The local operator of the CLI: recorded as "<cli_operator> (<OS user>)" and granted what these e-groups
    # are granted. Whoever can run the CLI holds the database URL, so the default is the experts.
    cli_operator: str = "local-operator"
    cli_egroups: list[str] = ["cms-dqm-runregistry-experts"]
    # OMS API v1; the defaults point at the local simulator (`python -m runreg.simulators.oms.server`).
    oms_url: str = "http://127.0.0.1:9510/agg/api/v1"
    oms_token_url: str | None = "http://127.0.0.1:9510/auth/token"
    oms_client_id: str = "runreg"
    oms_client_secret: str = "simulator-secret"
    oms_audience: str = "cmsoms-prod"
    oms_timeout_s: float = 30.0
    # Where `runreg serve --demo` runs its OMS simulator (another port lets two demos run side by side).
    demo_oms_port: int = 9510
    # Ingestion (`runreg ingest loop`): seconds between cycles; how many of the most recently updated OMS runs
    # a scan may walk; a full reconciliation of that window every so many seconds and/or scans (0: never).
    ingestion_interval_s: float = 120.0
    ingestion_window_runs: int = 2450
    ingestion_reconcile_every_s: float = 6 * 3600.0
    ingestion_reconcile_every_scans: int = 0
    # Periodic workers write their heartbeat row this often, also in the middle of a long cycle.
    worker_heartbeat_s: float = 30.0
    # cmsweb (Stats2's sources): ReqMgr2 + wmstats at cmsweb_url, DBS at dbs_url (its DBSReader base). The
    # defaults point at the local simulator (`python -m runreg.simulators.cmsweb.server`). The optional grid
    # certificate is sent to these two hosts only; TLS is always verified (cmsweb_ca_bundle: a CA file/dir).
    cmsweb_url: str = "http://127.0.0.1:9520"
    dbs_url: str = "http://127.0.0.1:9520/dbs/prod/global/DBSReader"
    cmsweb_cert: str | None = None
    cmsweb_key: str | None = None
    cmsweb_ca_bundle: str | None = None
    cmsweb_timeout_s: float = 90.0
    cmsweb_concurrency: int = 8
    # The workflow update worker (`runreg workflows loop`): seconds between updates, and the PdmV services to
    # call back after real changes ("prod", "dev"; none by default).
    workflows_interval_s: float = 600.0
    workflows_triggers: Annotated[list[str], NoDecode] = []  # comma-separated
    # Where `runreg serve --demo` runs its cmsweb simulator (ReqMgr2, DBS, wmstats).
    demo_cmsweb_port: int = 9520
    # The DQM GUI (`runreg datasets ping-gui`, the pinger): its sample list through the legacy route
    # (`/data/json/samples`, "legacy") or the new GUI's `/api/v1/samples` ("v1"); TLS is always verified
    # (dqmgui_ca_bundle: a CA file/dir); the optional grid certificate goes to this host only. The default
    # points at the local simulator (`python -m runreg.simulators.dqmgui.server`).
    dqmgui_url: str = "http://127.0.0.1:9530"
    dqmgui_api: str = "legacy"
    dqmgui_cert: str | None = None
    dqmgui_key: str | None = None
    dqmgui_ca_bundle: str | None = None
    dqmgui_timeout_s: float = 120.0
    dqmgui_interval_s: float = 600.0
    # Where `runreg serve --demo` runs its DQM GUI simulator.
    demo_dqmgui_port: int = 9530
    # Callbacks to McM / ReReco / RelVal after a workflow really changed (client-credentials tokens).
    callback_token_url: str = "http://127.0.0.1:9520/auth/realms/cern/api-access/token"
    callback_client_id: str | None = None
    callback_client_secret: str | None = None
    callback_prod_url: str = "http://127.0.0.1:9520/prod"
    callback_dev_url: str = "http://127.0.0.1:9520/dev"
    callback_prod_audience: str = "cms-pdmv-prod"
    callback_dev_audience: str = "cms-pdmv-dev"
    # Golden-JSON jobs: "inprocess" (a thread of the server; the embedded default) or "celery" (workers
    # started with `runreg worker`, through Redis). A job whose worker dies is redelivered after the
    # visibility timeout.
    jobs_backend: str = "inprocess"
    redis_url: str = "redis://127.0.0.1:6379/0"
    job_visibility_timeout_s: int = 3600
    # Larger request bodies are refused with 413 before they are read (docs/decisions/0010-bounded-input.md).
    max_body_bytes: int = MAX_BODY_BYTES

    # Historic DQM: the tree of `<Subsystem>/*.ini` trend configs (default: the one shipped in
    # runreg/trends/default_config) and the root under which DQM GUI ROOT files are found.
    trends_config_dir: Path | None = None
    trends_files_root: Path = Path("var/dqm_files")
    # The trends worker (`runreg trends loop`, and the demo): seconds between incremental passes, and the
    # size of its extraction process pool (1..64).
    trends_interval_s: float = 3600.0
    trends_jobs: int = Field(2, ge=1, le=64)
    # The demo writes simulated DQM files of its OMS simulator's finished runs here (default: under var/).
    demo_dqm_files_root: Path = Path("var/demo_dqm_files")

    @field_validator("allowed_hosts", "workflows_triggers", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [host.strip() for host in value.split(",") if host.strip()]
        return value

    def trusted_hosts(self) -> list[str]:
        return self.allowed_hosts or sorted({self.host, "localhost", "127.0.0.1"})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
