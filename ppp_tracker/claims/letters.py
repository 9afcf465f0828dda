"""Claim letters: what a letter says (plain facts), the admins' letter texts rendered in a
sandboxed Jinja environment, and the DOCX (docxtpl) and PDF (WeasyPrint) that come out.

The text of a letter is a Jinja template per language, edited by admins in the app (defaults in
`templates/letters/claim.<lang>.txt`). It is made of named blocks; each non-empty line of a block
becomes a paragraph. The layout around the blocks — letterhead, addressee on the right, the
penalty table between `body` and `demand`, the signature — is the trusted frame:
`templates/letters/claim.docx` for Word and `templates/letters/claim.html` for the PDF. The
sandbox only ever produces text; the frames escape it (docxtpl `autoescape=True`, Jinja HTML
autoescape), so neither a template nor a contractor's name can inject markup.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache, update_wrapper
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal
from flask import render_template
from flask_babel import gettext as _
from jinja2 import StrictUndefined, TemplateSyntaxError, nodes, pass_context, pass_eval_context
from jinja2 import filters as _jinja_filters
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from num2words import num2words

from config import BASE_DIR
from ppp_tracker.core.errors import Invalid
from ppp_tracker.core.pdf import local_fetcher
from ppp_tracker.money import format_money, format_number

LETTER_DIR = BASE_DIR / "templates" / "letters"
FRAME_DOCX = LETTER_DIR / "claim.docx"
STATIC_DIR = BASE_DIR / "ppp_tracker" / "static"

#: The blocks of a letter text, in the order they appear on the page (DESIGN.md section 5).
BLOCKS = (
    "letterhead",
    "reference",
    "addressee",
    "title",
    "body",
    "demand",
    "attachments",
    "signature",
    "prepared_by",
)
REQUIRED_BLOCKS = ("letterhead", "reference", "addressee", "title", "body", "demand", "signature")
MAX_TEMPLATE_CHARS = 50_000
_LOCALES = {"ru": "ru_KZ", "kk": "kk_KZ"}


def default_text(lang: str) -> str:
    return (LETTER_DIR / f"claim.{lang}.txt").read_text(encoding="utf-8")


# --- legal style: dates, amounts, days -----------------------------------------------------------

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


# --- the sandbox ---------------------------------------------------------------------------------


def _filters(lang: str) -> dict:
    def _guard(fn):
        def apply(value, *args):
            if value is None:
                return ""
            return fn(value, *args)

        return apply

    return {
        "legal_date": _guard(lambda d: legal_date(d, lang)),
        "date_of": _guard(lambda d: date_of(d, lang)),
        "date_on": _guard(lambda d: date_on(d, lang)),
        "date_until": _guard(lambda d: date_until(d, lang)),
        "reply_term": _guard(lambda letter: reply_term(letter, lang)),
        "dmy": _guard(dmy),
        "money": _guard(lambda a: money(a, lang)),
        "words": _guard(lambda a: amount_in_words(a, lang)),
        "percent": _guard(lambda v: percent(v, lang)),
        "days": _guard(lambda n: days(int(n), lang)),
    }


#: Filters a letter text may use, besides Jinja's own, with what they do (shown to admins).
FILTER_HELP = {
    "legal_date": "«12» июня 2014 г. / 2014 жылғы «12» маусым",
    "date_of": "от «12» июня 2014 г. / 2014 жылғы «12» маусымдағы",
    "date_on": "«10» июля 2014 г. / 2014 жылғы «10» шілдеде",
    "date_until": "до «15» июля 2014 г. / 2014 жылғы «15» шілдеге дейін",
    "reply_term": "letter|reply_term: до «15» июля 2014 г. / в течение 10 рабочих дней со дня"
    " получения настоящей претензии",
    "dmy": "12.06.2014",
    "money": "3 003 000,00 ₸",
    "words": "три миллиона три тысячи тенге 00 тиын",
    "percent": "0,1",
    "days": "39 дней / 39 күн",
}


#: The longest text or list a letter text may build with `*`, `~`, `+`, `%`, `replace`, `join`,
#: a string method or `range()`: far above any letter's value, far below what would exhaust the
#: memory of the web or worker process.
MAX_BUILT = 10_000
#: What one rendering of a letter text may do at most: the characters it writes (its output and
#: what it builds on the way: macro results, loop bodies), the loop steps and calls it makes, and
#: the time it takes. A letter is a few thousand characters and a few hundred steps.
MAX_OUTPUT = 200_000
MAX_STEPS = 100_000
MAX_RENDER_SECONDS = 2.0
#: Jinja's filters and globals that build text or lists of a size given as a number
#: ("x"|center(10**9), lipsum(10**6)); letters do not need them.
AMPLIFYING_FILTERS = ("center", "indent", "wordwrap", "format", "batch", "slice")
#: Filters that yield one item per item of their input: each item is a step.
_LAZY_FILTERS = ("map", "select", "reject", "selectattr", "rejectattr")
_WIDE_FORMAT = re.compile(r"%[^a-zA-Z%]*\d{5,}")
_WIDE_BRACES = re.compile(r"\{[^{}]*\d{5,}")


class LetterLimit(SecurityError):
    """A letter text that would take more than its share of the machine."""


class _Budget:
    """What is left to one rendering (render_blocks): steps, characters, time."""

    __slots__ = ("deadline", "steps", "written")

    def __init__(self) -> None:
        self.steps = 0
        self.written = 0
        self.deadline = time.monotonic() + MAX_RENDER_SECONDS

    def step(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise LetterLimit(f"more than {MAX_STEPS} loop steps and calls")
        if time.monotonic() > self.deadline:
            raise LetterLimit(f"rendering took longer than {MAX_RENDER_SECONDS:g} s")

    def write(self, chars: int) -> None:
        self.written += chars
        if self.written > MAX_OUTPUT:
            raise LetterLimit(f"the letter would be longer than {MAX_OUTPUT} characters")


#: The budget of the rendering under way in this thread or task (None outside render_blocks, e.g.
#: when Jinja folds constants while compiling).
_BUDGET: ContextVar[_Budget | None] = ContextVar("letter_budget", default=None)


def _weight(value, depth: int = 0) -> int:
    """How many characters or items a value holds (a list of one long text weighs its length)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, (list, tuple)) and depth < 3:
        return sum(1 + _weight(item, depth + 1) for item in value)
    return 1


def _bounded(value):
    if _weight(value) > MAX_BUILT:
        raise LetterLimit(f"a value of more than {MAX_BUILT} items is not allowed")
    return value


def _ints_fit(*values) -> None:
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_BUILT:
            raise LetterLimit(f"a number this large is not allowed here ({value})")


def _replaced_size(text: str, old: str, new: str, count: int = -1) -> int:
    times = len(text) + 1 if old == "" else text.count(old)
    if count is not None and 0 <= count < times:
        times = count
    return len(text) + times * (len(new) - len(old))


def _joined(items, separator: str) -> str:
    """`separator.join(items)`, refused as soon as it would pass MAX_BUILT."""
    parts, size = [], 0
    for item in items:
        part = item if isinstance(item, str) else str(item)
        size += len(part) + len(separator)
        if size > MAX_BUILT:
            raise LetterLimit(f"a value of more than {MAX_BUILT} items is not allowed")
        parts.append(part)
    return separator.join(parts)


def _check_str_call(text: str, method: str, args: tuple, kwargs: dict) -> None:
    """Refuse a string method that would build a huge text ("x".ljust(10**9), .replace)."""
    _ints_fit(*args, *kwargs.values())
    if method == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
        count = args[2] if len(args) > 2 and isinstance(args[2], int) else -1
        if _replaced_size(text, args[0], args[1], count) > MAX_BUILT:
            raise LetterLimit(f"a value of more than {MAX_BUILT} items is not allowed")
    if method in ("format", "format_map") and _WIDE_BRACES.search(text):
        raise LetterLimit("a format wider than 9999 is not allowed")


class LetterSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox that also bounds what a letter text may build and do: no value
    beyond MAX_BUILT ("x" * 10**9, replace, join, `~`), and each rendering within MAX_STEPS loop
    steps and calls, MAX_OUTPUT characters and MAX_RENDER_SECONDS (render_blocks)."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def call_binop(self, context, operator, left, right):
        if operator == "**" and isinstance(right, (int, float)):
            size = abs(left).bit_length() if isinstance(left, int) else 64
            if abs(right) > 64 or size * abs(right) > 4096:
                raise SecurityError(f"a power this large is not allowed ({right})")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, (str, list, tuple))
                    and isinstance(times, int)
                    and _weight(seq) * times > MAX_BUILT
                ):
                    raise SecurityError(f"a value of more than {MAX_BUILT} items is not allowed")
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and abs(left).bit_length() + abs(right).bit_length() > 4096
            ):
                raise SecurityError("a number this large is not allowed")
        if operator == "%" and isinstance(left, str) and _WIDE_FORMAT.search(left):
            raise SecurityError("a format wider than 9999 is not allowed")
        result = super().call_binop(context, operator, left, right)
        if operator == "+":
            _bounded(result)
        return result

    def call(__self, __context, __obj, *args, **kwargs):
        budget = _BUDGET.get()
        if budget is not None:
            budget.step()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            _check_str_call(owner, getattr(__obj, "__name__", ""), args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(owner, str):
            _bounded(result)
        elif isinstance(result, str) and budget is not None:
            budget.write(len(result))  # a macro's output, built before it is written
        return result

    def wrap_str_format(self, value):
        sandboxed = super().wrap_str_format(value)
        if sandboxed is None:
            return None

        def bounded(*args, **kwargs):
            _check_str_call(value.__self__, "format", args, kwargs)
            return _bounded(sandboxed(*args, **kwargs))

        return bounded

    def _generate(self, source, name, filename, defer_init=False):
        _guard_tree(source)
        return super()._generate(source, name, filename, defer_init=defer_init)


def _guard_tree(tree: nodes.Template) -> None:
    """Before compiling: every loop counts its steps (and the text its body writes each time), and
    every `~` is bounded. The parsed tree that the static check reads is left as written."""

    def wrap(node, name, *args):
        return nodes.Filter(node, name, [nodes.Const(a) for a in args], [], None, None).set_lineno(
            node.lineno
        )

    for node in list(tree.find_all(nodes.Node)):
        for field, value in node.iter_fields():
            if isinstance(value, nodes.Concat):
                setattr(node, field, wrap(value, "_built"))
            elif isinstance(value, list):
                value[:] = [wrap(v, "_built") if isinstance(v, nodes.Concat) else v for v in value]
        if isinstance(node, nodes.For):
            body = [*node.body, *node.else_]
            chars = sum(
                len(n.data)
                for part in body
                for n in [part, *part.find_all(nodes.TemplateData)]
                if isinstance(n, nodes.TemplateData)
            ) + sum(
                len(n.value)
                for part in body
                for n in [part, *part.find_all(nodes.Const)]
                if isinstance(n, nodes.Const) and isinstance(n.value, str)
            )
            node.iter = wrap(node.iter, "_counted", chars)


def _counting(items, budget: _Budget, chars: int = 0, lazy: bool = False):
    for item in items:
        budget.step()
        budget.write(len(item) if lazy and isinstance(item, str) else chars)
        yield item


@pass_context  # never folded into a constant while compiling: each rendering counts its loops
def _counted(_context, items, chars: int = 0):
    budget = _BUDGET.get()
    return items if budget is None else _counting(items, budget, chars)


def _lazy(fn):
    def counted(*args, **kwargs):
        items = fn(*args, **kwargs)
        budget = _BUDGET.get()
        return items if budget is None else _counting(items, budget, lazy=True)

    return update_wrapper(counted, fn)


def _finalize(value):
    """Every `{{ … }}` written anywhere (the letter, a macro, a `set` block) counts."""
    budget = _BUDGET.get()
    if budget is not None:
        if not isinstance(value, str):
            value = "" if value is None else str(value)
        budget.write(len(value))
    return value


def _replace(eval_ctx, value, old, new, count=None):
    text, old, new = str(value), str(old), str(new)
    if _replaced_size(text, old, new, -1 if count is None else count) > MAX_BUILT:
        raise LetterLimit(f"a value of more than {MAX_BUILT} items is not allowed")
    return _jinja_filters.do_replace(eval_ctx, value, old, new, count)


def _join(eval_ctx, value, d="", attribute=None):
    if attribute is not None:
        value = map(_jinja_filters.make_attrgetter(eval_ctx.environment, attribute), value)
    return _joined(value, str(d))


def _short_range(*args):
    numbers = range(*args)
    if len(numbers) > MAX_BUILT:
        raise SecurityError(f"a range of more than {MAX_BUILT} items is not allowed")
    return numbers


@lru_cache(maxsize=4)
def environment(lang: str) -> ImmutableSandboxedEnvironment:
    """The sandbox letter texts run in: no attribute tricks, no mutation, every name known, no
    value built beyond MAX_BUILT, each rendering bounded (LetterSandbox)."""
    env = LetterSandbox(
        undefined=StrictUndefined,
        autoescape=False,  # the output is text; the DOCX and HTML frames escape it
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    for name in AMPLIFYING_FILTERS:
        env.filters.pop(name, None)
    for name in _LAZY_FILTERS:
        env.filters[name] = _lazy(env.filters[name])
    env.filters["replace"] = pass_eval_context(_replace)
    env.filters["join"] = pass_eval_context(_join)
    env.filters["_built"] = _bounded
    env.filters["_counted"] = _counted
    env.globals.pop("lipsum", None)
    env.globals["range"] = _short_range
    env.filters.update(_filters(lang))
    return env


@lru_cache(maxsize=32)
def _compiled(lang: str, text: str):
    return environment(lang).from_string(text)


def render_blocks(text: str, context: dict, lang: str) -> dict[str, list[str]]:
    """The letter text's blocks rendered with the context: block name -> paragraphs. A text that
    would pass a limit of the sandbox raises SecurityError (LetterLimit)."""
    template = _compiled(lang, text)
    budget = _Budget()
    token = _BUDGET.set(budget)
    try:
        ctx = template.new_context(context)
        out: dict[str, list[str]] = {}
        for name in BLOCKS:
            render = template.blocks.get(name)
            rendered = []
            for chunk in render(ctx) if render else ():
                budget.write(len(chunk))
                rendered.append(chunk)
            text_ = "".join(rendered)
            out[name] = [line.strip() for line in text_.splitlines() if line.strip()]
        return out
    finally:
        _BUDGET.reset(token)


# --- validation of an admin's text ---------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return _("Line %(n)d: %(message)s", n=self.line, message=self.message)


#: Names a letter text may use besides its own loop variables and Jinja's globals.
CONTEXT_NAMES = (
    "letter",
    "sender",
    "addressee",
    "contract",
    "milestones",
    "penalty",
    "payments",
    "unperformed_total",
    "earlier",
    "court",
    "signatory",
    "prepared_by",
    "facts_note",
    "attachments",
    "legal_basis",
    "case",
)
_JINJA_NAMES = {"loop", "super", "self", "caller", "varargs", "kwargs", "true", "false", "none"}


def _line_of(template, exc: BaseException) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = template.get_corresponding_lineno(tb.tb_lineno)
        tb = tb.tb_next
    return line


def _keys_of(value) -> set[str] | None:
    return set(value) if isinstance(value, dict) else None


def _static_problems(ast: nodes.Template, env, samples: list[dict]) -> list[Problem]:
    problems: list[Problem] = []
    blocks = list(ast.find_all(nodes.Block))
    names = {b.name for b in blocks}
    for block in blocks:
        if block.name not in BLOCKS:
            problems.append(
                Problem(
                    block.lineno,
                    _(
                        "Unknown block «%(name)s»; the letter has: %(blocks)s.",
                        name=block.name,
                        blocks=", ".join(BLOCKS),
                    ),
                )
            )
    for required in REQUIRED_BLOCKS:
        if required not in names:
            problems.append(Problem(None, _("The block «%(name)s» is missing.", name=required)))
    for node in ast.body:
        if isinstance(node, nodes.Block):
            continue
        if isinstance(node, nodes.Output) and all(
            isinstance(child, nodes.TemplateData) and not child.data.strip() for child in node.nodes
        ):
            continue
        problems.append(
            Problem(
                node.lineno,
                _("Text outside a block does not appear in the letter; put it inside a block."),
            )
        )
    # Unknown names and attributes are found statically, so that branches the sample letters
    # do not reach are checked too.
    sample = samples[0]
    element_keys: dict[str, set[str] | None] = {}
    for loop in ast.find_all(nodes.For):
        if isinstance(loop.iter, nodes.Name) and isinstance(loop.target, nodes.Name):
            items = sample.get(loop.iter.name)
            if isinstance(items, list):
                merged: set[str] = set()
                for s in samples:
                    for item in s.get(loop.iter.name) or []:
                        merged |= _keys_of(item) or set()
                element_keys[loop.target.name] = merged or None
    assigned = {
        n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")
    } | _JINJA_NAMES
    known = set(CONTEXT_NAMES) | set(env.globals)
    for name in ast.find_all(nodes.Name):
        if name.ctx == "load" and name.name not in known and name.name not in assigned:
            problems.append(Problem(name.lineno, _("Unknown variable «%(name)s».", name=name.name)))
    for getattr_node in ast.find_all(nodes.Getattr):
        target = getattr_node.node
        if not isinstance(target, nodes.Name):
            continue
        if target.name in CONTEXT_NAMES:
            keys: set[str] | None = set()
            for s in samples:
                keys = (keys or set()) | (_keys_of(s.get(target.name)) or set())
            keys = keys or None
        else:
            keys = element_keys.get(target.name)
        if keys is not None and getattr_node.attr not in keys:
            problems.append(
                Problem(
                    getattr_node.lineno,
                    _(
                        "«%(name)s» has no field «%(attr)s».",
                        name=target.name,
                        attr=getattr_node.attr,
                    ),
                )
            )
    for node in ast.find_all(nodes.Filter):
        if node.name not in env.filters:
            problems.append(Problem(node.lineno, _("Unknown filter «%(name)s».", name=node.name)))
    for node in ast.find_all(nodes.Test):
        if node.name not in env.tests:
            problems.append(Problem(node.lineno, _("Unknown test «%(name)s».", name=node.name)))
    return problems


def check_text(text: str, lang: str) -> list[Problem]:
    """Every problem of a letter text, each with its line where there is one; [] when fine."""
    if len(text) > MAX_TEMPLATE_CHARS:
        return [Problem(None, _("The text is too long (at most %(n)d characters).", n=50_000))]
    env = environment(lang)
    try:
        ast = env.parse(text)
    except TemplateSyntaxError as exc:
        return [Problem(exc.lineno, exc.message or str(exc))]
    samples = [sample_context(variant) for variant in range(3)]
    problems = _static_problems(ast, env, samples)
    if problems:
        return sorted(problems, key=lambda p: p.line or 0)
    try:
        template = env.from_string(text)
    except TemplateSyntaxError as exc:
        return [Problem(exc.lineno, exc.message or str(exc))]
    for context in samples:
        try:
            render_blocks(text, context, lang)
        except UndefinedError as exc:
            return [Problem(_line_of(template, exc), exc.message or str(exc))]
        except SecurityError as exc:
            return [Problem(_line_of(template, exc), _("Not allowed: %(why)s", why=str(exc)))]
        except Exception as exc:
            return [Problem(_line_of(template, exc), f"{type(exc).__name__}: {exc}")]
    return []


# --- sample letters (validation, the editor's preview) -------------------------------------------


def sample_context(variant: int = 0) -> dict:
    """The article's case as plain data; three variants reach the texts' branches."""
    d = Decimal
    first = {
        "title": "Разработка ТЭО и представление его на государственную и отраслевую экспертизу",
        "title_kk": "ТЭН әзірлеу және оны мемлекеттік және салалық сараптамаға ұсыну",
        "due_on": date(2014, 5, 1),
        "effective_due_on": date(2014, 5, 4),
        "moved": True,
        "due_explanation": "срок 04.05.2014: 01.05.2014 и 02.05.2014 — праздники",
        "off_reasons": "01.05.2014 — Праздник единства народа Казахстана, 02.05.2014 —"
        " перенесённый выходной (за 04.05.2014), 03.05.2014 — суббота",
        "off_reasons_kk": "01.05.2014 — Қазақстан халқының бірлігі мерекесі, 02.05.2014 — Демалыс"
        " күні (04.05.2014 бастап ауыстырылды), 03.05.2014 — сенбі",
        "effective_reason": "воскресенье, рабочий день по постановлению Правительства Республики"
        " Казахстан о переносе выходных дней",
        "effective_reason_kk": "жексенбі, демалыс күндерін ауыстыру туралы Қазақстан Республикасы"
        " Үкіметінің қаулысы бойынша жұмыс күні",
        "late_from": date(2014, 5, 5),
        "counted_until": date(2014, 6, 12),
        "met_on": None,
        "days_late": 39,
        "counted_from": date(2014, 5, 5),
        "counted_to": date(2014, 6, 12),
        "days_counted": 39,
        "value": d("77000000.00"),
        "base": d("77000000.00"),
        "daily": d("77000.00"),
        "accrued": d("3003000.00"),
        "capped": False,
        "cap_amount": None,
        "missing_value": False,
    }
    context = {
        "letter": {
            "number": None,
            "date": None,
            "sequence": 1,
            "response_due_on": date(2014, 6, 26),
            "response_from_receipt": False,
            "response_days": 10,
            "response_working": True,
            "demand": "perform_and_pay",
            "is_draft": True,
        },
        "sender": {
            "name": "Департамент уголовно-исполнительной системы по Карагандинской области",
            "name_kk": "Қарағанды облысы бойынша қылмыстық-атқару жүйесі департаменті",
            "address": "г. Караганда",
            "address_kk": "Қарағанды қ.",
            "bin": None,
            "phone": None,
            "bank": "ГУ «Комитет казначейства Министерства финансов Республики Казахстан»",
            "bank_kk": "«Қазақстан Республикасы Қаржы министрлігінің Қазынашылық комитеті» ММ",
            "iik": "KZ24070105KSN0000000",
            "bik": "KKMFKZ2A",
            "kbk": "204101",
            "knp": "911",
            "head_position": "Начальник Департамента",
            "head_position_kk": "Департамент бастығы",
            "head_name": None,
        },
        "addressee": {
            "name": "АО «Региональный центр государственно-частного партнерства "
            "Карагандинской области»",
            "name_kk": "«Қарағанды облысының мемлекеттік-жекешелік әріптестік өңірлік орталығы» АҚ",
            "address": "г. Караганда",
            "address_kk": "Қарағанды қ.",
            "bin": None,
            "head_position": "Председателю Правления",
            "head_position_kk": "Басқарма Төрағасына",
            "head_name": None,
            "email": None,
        },
        "contract": {
            "number": "241",
            "signed_on": date(2013, 11, 21),
            "subject": "Разработка технико-экономического обоснования концессионного проекта",
            "subject_kk": "Концессиялық жобаның техникалық-экономикалық негіздемесін әзірлеу",
            "total": d("77000000.00"),
            "penalty_clause_no": "7.2",
            "penalty_clause": "раздел «Ответственность сторон»",
            "penalty_clause_kk": "«Тараптардың жауапкершілігі» бөлімі",
            "starts_on": date(2013, 11, 21),
            "ends_on": date(2014, 12, 31),
        },
        "milestones": [first],
        "penalty": {
            "as_of": date(2014, 6, 12),
            "rate": d("0.1"),
            "base": "total",
            "cap": None,
            "total": d("3003000.00"),
            "capped": False,
        },
        "payments": {
            "paid_total": d("0.00"),
            "items": [
                {
                    "due_on": date(2013, 12, 31),
                    "amount": d("23100000.00"),
                    "description": "30 % — предоплата",
                    "paid_on": None,
                    "paid_amount": None,
                }
            ],
        },
        "unperformed_total": d("77000000.00"),
        "earlier": [],
        "court": "Специализированный межрайонный экономический суд Карагандинской области",
        "court_kk": "Қарағанды облысының мамандандырылған ауданаралық экономикалық соты",
        "case": None,
        "legal_basis": "272, 277, 293, 349–351",
        "signatory": {
            "position": "Начальник Департамента",
            "position_kk": "Департамент бастығы",
            "name": None,
        },
        "prepared_by": {
            "name": "Юрист ДУИС",
            "position": "главный специалист",
            "phone": "+7 7212 00 00 00",
            "email": "legal@example.kz",
        },
        "facts_note": [],
        "attachments": [],
    }
    if variant == 1:
        context["letter"].update(
            number="14-28-9-2462",
            date=date(2014, 7, 14),
            sequence=3,
            response_due_on=date(2014, 7, 28),
            demand="pay",
            is_draft=False,
        )
        context["milestones"] = [
            {
                **first,
                "met_on": date(2014, 7, 10),
                "counted_until": date(2014, 7, 10),
                "days_late": 67,
                "counted_to": date(2014, 7, 10),
                "days_counted": 67,
                "accrued": d("5159000.00"),
            }
        ]
        context["penalty"].update(cap=d("10"), total=d("5159000.00"))
        context["payments"]["paid_total"] = d("23100000.00")
        context["earlier"] = [
            {
                "number": "14-28-9-1987",
                "date": date(2014, 6, 12),
                "response_due_on": date(2014, 6, 26),
                "state": "unanswered",
                "replied_on": None,
            },
            {
                "number": "14-28-9-2245",
                "date": date(2014, 6, 30),
                "response_due_on": date(2014, 7, 15),
                "state": "running",
                "replied_on": None,
            },
        ]
        context["case"] = {
            "court": "Специализированный межрайонный экономический суд Карагандинской области",
            "court_kk": "Қарағанды облысының мамандандырылған ауданаралық экономикалық соты",
            "number": None,
            "filed_on": date(2014, 7, 3),
            "claims_penalty": True,
            "claims_register": True,
        }
        context["legal_basis"] = "293"
        context["facts_note"] = ["Письмом от 20.06.2014 Исполнитель просил продлить срок."]
        context["attachments"] = ["Копия договора № 241 на 12 л."]
    elif variant == 2:
        context["letter"].update(demand="perform", sequence=2)
        context["milestones"] = [
            {
                **first,
                "moved": False,
                "effective_due_on": first["due_on"],
                "capped": True,
                "cap_amount": d("7700000.00"),
                "value": None,
                "missing_value": True,
            }
        ]
        context["penalty"].update(base="outstanding", cap=d("10"), capped=True)
        context["earlier"] = [
            {
                "number": "14-28-9-1987",
                "date": date(2014, 6, 12),
                "response_due_on": date(2014, 6, 26),
                "state": "answered",
                "replied_on": date(2014, 6, 20),
            }
        ]
        context["sender"].update(
            kbk=None, knp=None, iik=None, bik=None, bank=None, bank_kk=None, bin="140340016539"
        )
        context["prepared_by"] = None
        context["court"] = None
        context["unperformed_total"] = d("0.00")
    return context


# --- one language of the facts ------------------------------------------------------------------

#: What a letter quotes from the records and has a Kazakh version of (`<field>_kk` beside
#: `<field>` in the facts): the Kazakh letter prints the Kazakh one; where it is missing the
#: Russian one stands in and the letter is flagged (`kazakh_gaps`).
KAZAKH_FIELDS = (
    ("sender", "name"),
    ("sender", "address"),
    ("sender", "bank"),
    ("sender", "head_position"),
    ("addressee", "name"),
    ("addressee", "address"),
    ("addressee", "head_position"),
    ("contract", "subject"),
    ("contract", "penalty_clause"),
    ("signatory", "position"),
    ("case", "court"),
)
#: Free texts of the claim, written once for both letters: a Kazakh letter quoting them is
#: flagged, since nobody can tell from here whether they were written in Kazakh.
SHARED_TEXTS = ("facts_note", "attachments")


def in_language(facts: dict, lang: str) -> tuple[dict, list[str]]:
    """The facts as the letter in `lang` speaks them, and the places where a Kazakh letter had
    to quote Russian ("addressee.name", "milestones.2.title", "court", "facts_note")."""
    import copy

    context = copy.deepcopy(facts)
    gaps: list[str] = []
    if lang != "kk":
        return context, gaps

    def pick(obj: dict | None, field: str, where: str) -> None:
        if not obj:
            return
        kazakh = obj.get(f"{field}_kk")
        if kazakh:
            obj[field] = kazakh
        elif obj.get(field):
            gaps.append(where)

    for group, field in KAZAKH_FIELDS:
        pick(context.get(group), field, f"{group}.{field}")
    for index, m in enumerate(context.get("milestones") or [], 1):
        pick(m, "title", f"milestones.{index}.title")
        for generated in ("off_reasons", "effective_reason"):
            m[generated] = m.get(f"{generated}_kk")
    if context.get("court_kk"):
        context["court"] = context["court_kk"]
    elif context.get("court"):
        gaps.append("court")
    for name in SHARED_TEXTS:
        if context.get(name):
            gaps.append(name)
    return context, gaps


def kazakh_gaps(facts: dict) -> list[str]:
    """Where the Kazakh letter of these facts quotes Russian; [] when it is Kazakh throughout."""
    return in_language(facts, "kk")[1]


# --- facts of a claim, frozen when sent ----------------------------------------------------------


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


def snapshot_bytes(snapshot: dict) -> bytes:
    return json.dumps(snapshot, ensure_ascii=False, sort_keys=True).encode()


# --- the frame: labels, table, DOCX and PDF ------------------------------------------------------


#: The frame's own words (table headings) per letter language. They are written here, not
#: looked up in the UI catalogues, so that no request's or worker's locale can reach a letter:
#: every word of a letter is in the letter's language, whoever fetches it.
FRAME_WORDS = {
    "ru": {
        "no": "№",
        "obligation": "Обязательство",
        "due": "Срок исполнения",
        "period": "Период просрочки",
        "days": "Дней",
        "calculation": "Расчёт",
        "accrued": "Неустойка, ₸",
        "total": "Итого",
        "cap": "ограничено",
        "no_value": "стоимость обязательства не указана: неустойка не начисляется",
        "counted_earlier": "дни просрочки учтены по обязательству выше",
    },
    "kk": {
        "no": "№",
        "obligation": "Міндеттеме",
        "due": "Орындау мерзімі",
        "period": "Мерзімін өткізіп алу кезеңі",
        "days": "Күн",
        "calculation": "Есептеу",
        "accrued": "Тұрақсыздық айыбы, ₸",
        "total": "Барлығы",
        "cap": "шектелді",
        "no_value": "міндеттеменің құны көрсетілмеген: тұрақсыздық айыбы есептелмейді",
        "counted_earlier": "мерзімін өткізген күндері жоғарыдағы міндеттеме бойынша есептелген",
    },
}


def labels(lang: str) -> dict[str, str]:
    """The frame's own words (table headings) in the letter's language."""
    return dict(FRAME_WORDS[lang])


def table_rows(facts: dict, lang: str) -> list[dict[str, str]]:
    words = labels(lang)
    rows = []
    rate = facts["penalty"]["rate"]
    for index, m in enumerate(facts["milestones"], 1):
        due = dmy(m["due_on"])
        if m["moved"]:
            due += f" → {dmy(m['effective_due_on'])}"
        # Older snapshots (sent before a day counted once a contract) have no days counted.
        counted = m.get("days_counted", m["days_late"])
        start = m["counted_from"] if "counted_from" in m else m["late_from"]
        end = m["counted_to"] if "counted_to" in m else m["counted_until"]
        if m["missing_value"]:
            calculation = words["no_value"]
        elif not counted:
            calculation = words["counted_earlier"]
        else:
            calculation = f"{digits(m['base'], lang)} × {percent(rate, lang)} % × {counted}"
            if m["capped"]:
                calculation += (
                    f"; {words['cap']} {percent(facts['penalty']['cap'], lang)} % = "
                    f"{digits(m['cap_amount'], lang)}"
                )
        rows.append(
            {
                "no": str(index),
                "title": m["title"],
                "due": due,
                "period": f"{dmy(start)} – {dmy(end)}" if counted else "—",
                "days": str(counted),
                "calculation": calculation,
                "accrued": digits(m["accrued"], lang),
            }
        )
    return rows


def frame_context(blocks: dict[str, list[str]], facts: dict, lang: str) -> dict:
    return {
        "b": blocks,
        "labels": labels(lang),
        "rows": table_rows(facts, lang),
        "total": digits(facts["penalty"]["total"], lang),
        "lang": lang,
    }


def render_docx_frame(context: dict, frame: Path = FRAME_DOCX) -> bytes:
    """The Word letter: docxtpl on the frame with autoescape (values never become markup)."""
    from docxtpl import DocxTemplate

    document = DocxTemplate(frame)
    document.render(context, autoescape=True)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def letter_html(context: dict) -> str:
    """The whole letter as an HTML document for WeasyPrint (and the preview's frame)."""
    return render_template("letters/claim.html", **context)


def render_pdf_html(html: str) -> bytes:
    """The PDF of a letter's HTML, with the shipped DejaVu fonts (Cyrillic, Kazakh, ₸); it reads
    nothing but the app's static files (no URL in a letter makes the server fetch it)."""
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    return HTML(
        string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=local_fetcher(STATIC_DIR)
    ).write_pdf(font_config=fonts)


@dataclass(frozen=True)
class RenderedLetter:
    lang: str
    blocks: dict[str, list[str]]
    frame: dict

    def docx(self) -> bytes:
        return render_docx_frame(self.frame)

    def html(self) -> str:
        return letter_html(self.frame)

    def pdf(self) -> bytes:
        return render_pdf_html(self.html())


def compose(text: str, facts: dict, lang: str) -> RenderedLetter:
    """A letter text applied to a claim's facts, ready to become DOCX, HTML or PDF; a text that
    passes a limit of the sandbox with these facts is refused (Invalid on `body`)."""
    facts, _gaps = in_language(facts, lang)
    try:
        blocks = render_blocks(text, facts, lang)
    except SecurityError as exc:
        raise Invalid.one(
            "body", _("The letter text cannot be rendered: %(why)s", why=str(exc))
        ) from exc
    return RenderedLetter(lang, blocks, frame_context(blocks, facts, lang))


def plain_text(blocks: dict[str, list[str]], rows: Iterable[dict] = ()) -> str:
    """The letter as plain text (used by tests and e-mails)."""
    parts = []
    for name in BLOCKS:
        parts.extend(blocks.get(name, []))
        if name == "body":
            parts.extend(" | ".join(r.values()) for r in rows)
    return "\n".join(parts)
