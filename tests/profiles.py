"""Hypothesis profiles: `dev` (the default, few examples, a quick local run) and `ci` (the full numbers).

Chosen by the environment: HYPOTHESIS_PROFILE=dev|ci, else `ci` when CI=true (CI runners set it), else `dev`.
Tests that need more examples than the profile's default ask for `scaled(n)`: `n` under `ci`, a fifth of it
under `dev`, so one number in the test states the full-strength run and every profile keeps the proportions.
"""

from __future__ import annotations

import os

from hypothesis import settings

#: max_examples of the full-strength profile; `scaled(n)` is relative to it.
CI_EXAMPLES = 100
DEV_EXAMPLES = 20

# No deadline in either profile: a deadline is a timing assertion, and the unit suite has none (a shared
# 2-core machine would make it flaky). Performance is measured in benchmarks/.
settings.register_profile("ci", max_examples=CI_EXAMPLES, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=DEV_EXAMPLES, deadline=None)


def chosen_profile(environ: os._Environ[str] | dict[str, str] = os.environ) -> str:
    explicit = environ.get("HYPOTHESIS_PROFILE", "").strip()
    if explicit:
        if explicit not in ("dev", "ci"):
            raise ValueError(f"HYPOTHESIS_PROFILE={explicit!r}: expected 'dev' or 'ci'")
        return explicit
    return "ci" if environ.get("CI", "").strip().lower() in ("true", "1", "yes") else "dev"


def load() -> str:
    name = chosen_profile()
    settings.load_profile(name)
    return name


def scaled(examples: int) -> int:
    """`examples` under the ci profile, proportionally fewer under a lighter one (at least 10)."""
    return max(10, round(examples * settings.default.max_examples / CI_EXAMPLES))
