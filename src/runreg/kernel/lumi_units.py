"""Integrated-luminosity units (/ub, pb^{-1}, fb-1 ...) and the factor that converts each to /pb."""

from __future__ import annotations

import re

from runreg.kernel.errors import InvalidInput

#: The one unit runreg stores and shows integrated luminosity in.
UNIT = "/pb"
#: How many /pb one inverse <prefix>barn is (1 pb^-1 = 1e3 nb^-1 = 1e6 ub^-1; 1 fb^-1 = 1e3 pb^-1).
_PER_PB = {"b": 1e-12, "mb": 1e-9, "ub": 1e-6, "nb": 1e-3, "pb": 1.0, "fb": 1e3, "ab": 1e6}
_BARN = r"(?:[munpfa]?b)"
# "/pb", "1/pb", "pb^{-1}", "pb^-1", "pb-1", "pb**-1": how OMS meta, brilcalc headers and people write it.
_INVERSE_BARN = re.compile(rf"^(?:1?/(?P<over>{_BARN})|(?P<power>{_BARN})(?:\^\{{-1\}}|\^-1|\*\*-1|-1))$")


def per_pb(unit: str, *, field: str = "unit") -> float:
    """The factor turning a value in `unit` into /pb; an unknown unit is refused naming `field`."""
    spelled = unit.replace(" ", "").replace("μ", "u").replace("µ", "u")
    match = _INVERSE_BARN.match(spelled)
    if match is None:
        raise InvalidInput(
            field, f"{unit!r} is not an integrated-luminosity unit (/ub, /nb, /pb, /fb, pb^{{-1}} ...)"
        )
    return _PER_PB[match.group("over") or match.group("power")]
