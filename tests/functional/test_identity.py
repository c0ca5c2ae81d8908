"""Bearer JWTs verified against a JWKS served over a real socket, with a key generated for the test."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from runreg.access.identity import identify
from runreg.http.app import create_app
from runreg.kernel.actors import ActorKind
from runreg.kernel.errors import Unauthenticated
from runreg.settings import Settings
from runreg.storage.database import Database
from tests.builders.runs import create_collision_run

ISSUER = "https://auth.example.test/realms/cern"
AUDIENCE = "runreg"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    body = json.dumps({"keys": [{**public, "kid": "test-key", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 — http.server's naming
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/certs"
    server.shutdown()


def token(key: rsa.RSAPrivateKey = KEY, **claims: object) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "email": "alice@cern.ch",
        "cern_roles": ["cms-dqm-runregistry-online-shifters"],
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "test-key"})


def settings(jwks_url: str) -> Settings:
    return Settings(jwt_jwks_url=jwks_url, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)


def bearer(value: str) -> dict[str, str]:
    return {"authorization": f"Bearer {value}"}


def test_a_valid_token_gives_the_person_and_their_egroups(jwks_url: str) -> None:
    actor = identify(bearer(token()), settings(jwks_url))
    assert actor is not None
    assert actor.name == "alice@cern.ch" and actor.egroups == {"cms-dqm-runregistry-online-shifters"}


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda: token(exp=int(time.time()) - 10), id="expired"),
        pytest.param(lambda: token(iss="https://evil.example"), id="wrong-issuer"),
        pytest.param(lambda: token(aud="another-app"), id="wrong-audience"),
        pytest.param(lambda: token(OTHER_KEY), id="forged-signature"),
        pytest.param(lambda: "not.a.jwt", id="garbage"),
    ],
)
def test_an_unverifiable_token_is_refused(jwks_url: str, bad) -> None:  # noqa: ANN001
    with pytest.raises(Unauthenticated, match="bearer token"):
        identify(bearer(bad()), settings(jwks_url))


def test_tokens_over_http_write_with_their_egroups(db: Database, jwks_url: str) -> None:
    create_collision_run(db, ls_count=10)
    client = TestClient(create_app(db, settings=settings(jwks_url)))
    edit = {"first_ls": 1, "last_ls": 2, "status": "STANDBY", "comment": "beam tuning"}

    ok = client.put("/api/v1/runs/380567/lumisections/dt-dt", json=edit, headers=bearer(token()))
    expired = client.put(
        "/api/v1/runs/380567/lumisections/dt-dt", json=edit, headers=bearer(token(exp=int(time.time()) - 10))
    )
    class_edit = client.put("/api/v1/runs/380567/class", json={"value": "Cosmics24"}, headers=bearer(token()))

    assert ok.status_code == 200, ok.text
    ranges = client.get("/api/v1/runs/380567/lumisections/components").json()["dt-dt"]
    assert [(r["start"], r["end"], r["status"]) for r in ranges] == [(1, 2, "STANDBY"), (3, 10, "GOOD")]
    [last] = client.get("/api/v1/runs/380567/history").json()[:1]
    assert (last["author"], last["actor_kind"]) == ("alice@cern.ch", "human")  # the token's person
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "unauthenticated"
    assert class_edit.status_code == 403
    assert "cms-dqm-runregistry-experts" in class_edit.json()["error"]["message"]


def test_dev_mode_accepts_the_public_clients_local_identity_only_when_enabled() -> None:
    local = {"email": "api@api"}
    assert identify(local, Settings(dev_identity=False)) is None
    actor = identify(local, Settings(dev_identity=True, dev_egroups=["cms-dqm-runregistry-experts"]))
    assert actor is not None and actor.egroups == {"cms-dqm-runregistry-experts"}


def test_an_identity_in_the_agents_egroup_is_an_ml_agent(jwks_url: str) -> None:
    """Service accounts of ML agents (proxy headers or a client-credentials token) are agents, not people:
    whatever they may write is never a manual decision."""
    agent_token = token(
        email=None, sub="service-account-tracker-ml", cern_roles=["cms-dqm-runregistry-ml-agents"]
    )
    from_token = identify(bearer(agent_token), settings(jwks_url))
    assert from_token is not None
    assert (from_token.name, from_token.kind, from_token.is_manual) == (
        "service-account-tracker-ml",
        ActorKind.AGENT,
        False,
    )
    proxy = Settings(proxy_secret="s")
    headers = {
        "x-runreg-proxy-secret": "s",
        "email": "tracker-ml@cern.ch",
        "egroups": "cms-dqm-runregistry-ml-agents",
    }
    assert identify(headers, proxy).kind is ActorKind.AGENT  # type: ignore[union-attr]
    person = identify({**headers, "egroups": "cms-dqm-runregistry-experts"}, proxy)
    assert person is not None and person.kind is ActorKind.HUMAN
    custom = Settings(proxy_secret="s", agent_egroups=["my-agents"])
    assert identify({**headers, "egroups": "my-agents"}, custom).kind is ActorKind.AGENT  # type: ignore[union-attr]
    assert identify(headers, custom).kind is ActorKind.HUMAN  # type: ignore[union-attr]
