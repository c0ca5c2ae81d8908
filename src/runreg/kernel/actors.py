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


SYSTEM = Actor("runreg-system", ActorKind.AUTOMATIC)
