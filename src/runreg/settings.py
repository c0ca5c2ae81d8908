"""One typed settings object, read once from the environment (prefix RUNREG_)."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RUNREG_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{Path('var/runreg.sqlite').resolve()}"
    host: str = "127.0.0.1"
    port: int = 9500
    # Development only: accept the public client's local mode identity without proof. Off by default.
    dev_identity: bool = False
    # OMS API v1; the defaults point at the local simulator (`python -m runreg.simulators.oms.server`).
    oms_url: str = "http://127.0.0.1:9510/agg/api/v1"
    oms_token_url: str | None = "http://127.0.0.1:9510/auth/token"
    oms_client_id: str = "runreg"
    oms_client_secret: str = "simulator-secret"
    oms_audience: str = "cmsoms-prod"
    oms_timeout_s: float = 30.0


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
