"""The facts of a claim frozen when it is sent: plain JSON that comes back as it was (dates and
Decimals tagged), so a sent letter reads the same forever."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any


def freeze(value: Any) -> Any:
    """Plain JSON of the facts: dates and Decimals tagged, so they come back as they were."""
    if isinstance(value, dict):
        return {k: freeze(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [freeze(v) for v in value]
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    return value


def thaw(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$decimal"}:
            return Decimal(value["$decimal"])
        if set(value) == {"$date"}:
            return date.fromisoformat(value["$date"])
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list):
        return [thaw(v) for v in value]
    return value
