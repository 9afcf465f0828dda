"""Errors that services raise and every edge (page, API, worker, CLI) knows how to show."""

from __future__ import annotations


class Invalid(Exception):
    """Input that breaks a rule: {field: [messages]}; nothing has been saved."""

    status = 422

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = {field: [str(m) for m in messages] for field, messages in errors.items()}

    @classmethod
    def one(cls, field: str, message: str) -> Invalid:
        return cls({field: [message]})

    def __str__(self) -> str:
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in self.errors.items())


class Conflict(Invalid):
    """The request is valid but clashes with the current state (sent twice, already approved)."""

    status = 409


class Forbidden(Exception):
    """The rules forbid this actor this action (e.g. approving one's own draft)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
