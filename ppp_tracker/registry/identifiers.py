"""Kazakh BIN/IIN: 12 digits, the last one a control digit computed modulo 11."""

from __future__ import annotations

_FIRST_WEIGHTS = tuple(range(1, 12))
_SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def control_digit(first_eleven: str) -> int | None:
    """The control digit of 11 digits, or None when the number admits none (it is not issued)."""
    digits = [int(c) for c in first_eleven]
    check = sum(w * d for w, d in zip(_FIRST_WEIGHTS, digits, strict=True)) % 11
    if check == 10:
        check = sum(w * d for w, d in zip(_SECOND_WEIGHTS, digits, strict=True)) % 11
        if check == 10:
            return None
    return check


def bin_problem(value: str) -> str | None:
    """Why a BIN/IIN is wrong, in English (callers translate), or None when it is valid."""
    if len(value) != 12 or not value.isdigit():
        return "must be exactly 12 digits"
    expected = control_digit(value[:11])
    if expected is None or expected != int(value[11]):
        return "the control digit does not match"
    return None


def is_valid_bin(value: str) -> bool:
    return bin_problem(value) is None


def make_bin(first_eleven: str) -> str | None:
    """A valid 12-digit number from its first 11 digits (used by the demo data)."""
    digit = control_digit(first_eleven)
    return None if digit is None else first_eleven + str(digit)


def iban_problem(value: str) -> str | None:
    """Why a Kazakh account (ИИК, an IBAN: KZ, 2 check digits, 16 characters) is wrong, in
    English (callers translate), or None when it is valid."""
    if len(value) != 20 or not value.startswith("KZ") or not value.isalnum() or not value.isascii():
        return "must be 20 characters: KZ and 18 digits or capital letters"
    if not value[2:4].isdigit() or value != value.upper():
        return "must be 20 characters: KZ and 18 digits or capital letters"
    rearranged = value[4:] + value[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    if int(number) % 97 != 1:
        return "the check digits do not match"
    return None


def make_iban(bank_and_account: str) -> str:
    """A valid KZ IBAN from its 16 characters after the check digits (used by the demo data)."""
    number = "".join(str(int(c, 36)) for c in bank_and_account + "KZ00")
    return f"KZ{98 - int(number) % 97:02d}{bank_and_account}"


def bik_problem(value: str) -> str | None:
    """Why a bank identification code (БИК, a SWIFT-style code of a Kazakh bank) is wrong."""
    if len(value) not in (8, 11) or not value.isascii() or not value.isalnum():
        return "must be 8 or 11 letters and digits"
    if value != value.upper() or not value[:4].isalpha() or value[4:6] != "KZ":
        return "must read like KKMFKZ2A: four letters of the bank, KZ, then the place"
    return None
