"""Who makes a change: a person, an automatic rule or a machine-learning agent."""

from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    HUMAN = "human"
    AUTOMATIC = "automatic"
    AGENT = "agent"


@dataclass(frozen=True, slots=True)
class Actor:
    """An authenticated identity. `name` is an e-mail for people, a service name for workers and agents."""

    name: str
    kind: ActorKind = ActorKind.HUMAN
    egroups: frozenset[str] = frozenset()

    @property
    def is_manual(self) -> bool:
        """Manual decisions (by people) take precedence over automatic ones, whatever their order."""
        return self.kind is ActorKind.HUMAN


#: The e-group of runreg's own workers (OMS ingestion, trends, workflows); the configuration grants it the
#: automatic actions. Identities from outside (proxy, JWT) carry CERN e-groups, which never have this name.
SERVICES_EGROUP = "runreg-services"

SYSTEM = Actor("runreg-system", ActorKind.AUTOMATIC, frozenset({SERVICES_EGROUP}))
