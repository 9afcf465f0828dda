"""A letter's legal style in Russian and Kazakh: dates («12» июня 2014 г.), amounts in words,
days, the reply term. The letter texts reach these through the sandbox's filters."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.numbers import format_decimal

from ppp_tracker.money import format_money, format_number

_LOCALES = {"ru": "ru_KZ", "kk": "kk_KZ"}


MONTHS_RU = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
MONTHS_KK = (
    "қаңтар",
    "ақпан",
    "наурыз",
    "сәуір",
    "мамыр",
    "маусым",
    "шілде",
    "тамыз",
    "қыркүйек",
    "қазан",
    "қараша",
    "желтоқсан",
)
#: Kazakh months with the attributive locative ("маусымдағы": "of June …").
MONTHS_KK_OF = (
    "қаңтардағы",
    "ақпандағы",
    "наурыздағы",
    "сәуірдегі",
    "мамырдағы",
    "маусымдағы",
    "шілдедегі",
    "тамыздағы",
    "қыркүйектегі",
    "қазандағы",
    "қарашадағы",
    "желтоқсандағы",
)
#: Kazakh months in the dative ("маусымға дейін": "until June …").
MONTHS_KK_TO = (
    "қаңтарға",
    "ақпанға",
    "наурызға",
    "сәуірге",
    "мамырға",
    "маусымға",
    "шілдеге",
    "тамызға",
    "қыркүйекке",
    "қазанға",
    "қарашаға",
    "желтоқсанға",
)


def legal_date(day: date, lang: str = "ru") -> str:
    """«12» июня 2014 г. / 2014 жылғы «12» маусым."""
    if lang == "kk":
        return f"{day.year} жылғы «{day.day:02d}» {MONTHS_KK[day.month - 1]}"
    return f"«{day.day:02d}» {MONTHS_RU[day.month - 1]} {day.year} г."


def date_of(day: date, lang: str = "ru") -> str:
    """A document's date: от «12» июня 2014 г. / 2014 жылғы «12» маусымдағы."""
    if lang == "kk":
        return f"{day.year} жылғы «{day.day:02d}» {MONTHS_KK_OF[day.month - 1]}"
    return "от " + legal_date(day, lang)


#: Kazakh months in the locative ("шілдеде": "in July", "on … July").
MONTHS_KK_ON = (
    "қаңтарда",
    "ақпанда",
    "наурызда",
    "сәуірде",
    "мамырда",
    "маусымда",
    "шілдеде",
    "тамызда",
    "қыркүйекте",
    "қазанда",
    "қарашада",
    "желтоқсанда",
)


def date_on(day: date, lang: str = "ru") -> str:
    """An event's day: «10» июля 2014 г. / 2014 жылғы «10» шілдеде."""
    if lang == "kk":
        return f"{day.year} жылғы «{day.day:02d}» {MONTHS_KK_ON[day.month - 1]}"
    return legal_date(day, lang)


def date_until(day: date, lang: str = "ru") -> str:
    """A deadline: до «15» июля 2014 г. / 2014 жылғы «15» шілдеге дейін."""
    if lang == "kk":
        return f"{day.year} жылғы «{day.day:02d}» {MONTHS_KK_TO[day.month - 1]} дейін"
    return "до " + legal_date(day, lang)


WEEKDAYS = {
    "ru": ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье"),
    "kk": ("дүйсенбі", "сейсенбі", "сәрсенбі", "бейсенбі", "жұма", "сенбі", "жексенбі"),
}


def weekday(day: date, lang: str = "ru") -> str:
    """суббота / сенбі: the day of the week in the letter's language."""
    return WEEKDAYS[lang][day.weekday()]


def dmy(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def amount_in_words(amount: Decimal, lang: str = "ru") -> str:
    """Tenge in words, tiyn in digits: «три миллиона три тысячи тенге 00 тиын»."""
    from num2words import num2words  # its 50 languages are loaded on import: by the first letter

    amount = Decimal(amount).quantize(Decimal("0.01"))
    words = num2words(amount, lang="kz" if lang == "kk" else "ru", to="currency", currency="KZT")
    # num2words says the tiyn in words after a comma; legal style writes them as two digits.
    tenge_words = words.rsplit(",", 1)[0].strip()
    tiyn = int((amount - int(amount)) * 100)
    return f"{tenge_words} {tiyn:02d} тиын"


def money(amount: Decimal, lang: str = "ru") -> str:
    return format_money(Decimal(amount), lang)


def digits(amount: Decimal, lang: str = "ru") -> str:
    """An amount with its tiyn and no currency sign, for the table: 77 000 000,00."""
    return format_decimal(Decimal(amount), format="#,##0.00", locale=_LOCALES[lang])


def percent(value: Decimal, lang: str = "ru") -> str:
    return format_number(Decimal(value), lang)


def days(n: int, lang: str = "ru") -> str:
    """39 дней, 21 день, 3 дня / 39 күн."""
    if lang == "kk":
        return f"{n} күн"
    if n % 10 == 1 and n % 100 != 11:
        word = "день"
    elif n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        word = "дня"
    else:
        word = "дней"
    return f"{n} {word}"


def reply_term(letter: dict, lang: str = "ru") -> str:
    """By when the letter asks for a reply: a date, or — where the contract counts the period
    from receipt, which the department does not know when it sends — the period itself."""
    if letter.get("response_due_on") is not None:
        return date_until(letter["response_due_on"], lang)
    n = int(letter.get("response_days") or 0)
    working = letter.get("response_working", True)
    if lang == "kk":
        kind = "жұмыс күні" if working else "күнтізбелік күн"
        return f"осы талапты алған күннен бастап {n} {kind} ішінде"
    # "в течение" takes the genitive: 1 / 21 рабочего дня, 2 / 5 / 11 рабочих дней.
    single = n % 10 == 1 and n % 100 != 11
    if working:
        adjective = "рабочего" if single else "рабочих"
    else:
        adjective = "календарного" if single else "календарных"
    word = "дня" if single else "дней"
    return f"в течение {n} {adjective} {word} со дня получения настоящей претензии"
