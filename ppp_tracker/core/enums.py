"""Closed lists whose members carry a translatable label, for forms, pages and letters."""

from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    """A StrEnum whose members carry a translatable label for forms and pages."""

    @property
    def label(self) -> str:
        return str(self._labels().get(self.value, self.value))

    @classmethod
    def _labels(cls) -> dict:
        return {}

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.label) for member in cls]
