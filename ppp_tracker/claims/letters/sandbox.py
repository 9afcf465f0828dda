"""The sandbox letter texts run in: Jinja's immutable sandbox with the letter's filters, every
name known, no value built beyond MAX_BUILT, and each rendering bounded in loop steps and calls,
characters written and time (render_blocks). What it refuses, it refuses with a reason in the
reader's language (LetterLimit), never with Jinja's own English."""

from __future__ import annotations

import re
import time
from contextvars import ContextVar
from functools import lru_cache, update_wrapper

from flask_babel import gettext as _
from jinja2 import StrictUndefined, nodes, pass_context, pass_eval_context
from jinja2 import filters as _jinja_filters
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ppp_tracker.claims.letters.style import (
    amount_in_words,
    date_of,
    date_on,
    date_until,
    days,
    dmy,
    legal_date,
    money,
    percent,
    reply_term,
)

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
    """What the sandbox refuses a letter text: more than its share of the machine, or what
    Jinja's sandbox keeps from it (`__class__`, a list's `append`). The message is the reason in
    the reader's language."""


def _too_big() -> LetterLimit:
    return LetterLimit(_("a value of more than %(n)d items is not allowed", n=MAX_BUILT))


def refusal(exc: SecurityError) -> str:
    """Why the sandbox refused a text, in the reader's language: our own reason, or — should a
    Jinja release raise a refusal of its own, which speaks English — a general one."""
    if isinstance(exc, LetterLimit):
        return str(exc)
    return _("the text does something a letter may not do")


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
            raise LetterLimit(_("more than %(n)d loop steps and calls", n=MAX_STEPS))
        if time.monotonic() > self.deadline:
            raise LetterLimit(
                _("rendering took longer than %(n)s s", n=format(MAX_RENDER_SECONDS, "g"))
            )

    def write(self, chars: int) -> None:
        self.written += chars
        if self.written > MAX_OUTPUT:
            raise LetterLimit(_("the letter would be longer than %(n)d characters", n=MAX_OUTPUT))


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
        raise _too_big()
    return value


def _ints_fit(*values) -> None:
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_BUILT:
            raise LetterLimit(_("a number this large is not allowed here (%(n)s)", n=value))


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
            raise _too_big()
        parts.append(part)
    return separator.join(parts)


def _check_str_call(text: str, method: str, args: tuple, kwargs: dict) -> None:
    """Refuse a string method that would build a huge text ("x".ljust(10**9), .replace)."""
    _ints_fit(*args, *kwargs.values())
    if method == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
        count = args[2] if len(args) > 2 and isinstance(args[2], int) else -1
        if _replaced_size(text, args[0], args[1], count) > MAX_BUILT:
            raise _too_big()
    if method in ("format", "format_map") and _WIDE_BRACES.search(text):
        raise LetterLimit(_("a format wider than 9999 is not allowed"))


class LetterSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox that also bounds what a letter text may build and do: no value
    beyond MAX_BUILT ("x" * 10**9, replace, join, `~`), and each rendering within MAX_STEPS loop
    steps and calls, MAX_OUTPUT characters and MAX_RENDER_SECONDS (render_blocks)."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def call_binop(self, context, operator, left, right):
        if operator == "**" and isinstance(right, (int, float)):
            size = abs(left).bit_length() if isinstance(left, int) else 64
            if abs(right) > 64 or size * abs(right) > 4096:
                raise LetterLimit(_("a power this large is not allowed (%(n)s)", n=right))
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, (str, list, tuple))
                    and isinstance(times, int)
                    and _weight(seq) * times > MAX_BUILT
                ):
                    raise _too_big()
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and abs(left).bit_length() + abs(right).bit_length() > 4096
            ):
                raise LetterLimit(_("a number this large is not allowed"))
        if operator == "%" and isinstance(left, str) and _WIDE_FORMAT.search(left):
            raise LetterLimit(_("a format wider than 9999 is not allowed"))
        result = super().call_binop(context, operator, left, right)
        if operator == "+":
            _bounded(result)
        return result

    def call(__self, __context, __obj, *args, **kwargs):
        if not __self.is_safe_callable(__obj):  # Jinja's own refusal says it in English
            raise LetterLimit(_("this call is not allowed in a letter"))
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

    def unsafe_undefined(self, obj, attribute):
        """An attribute the sandbox keeps from a letter (`__class__`, a list's `append`), refused
        in the reader's language when used."""
        return self.undefined(
            _("«%(name)s» may not be used in a letter", name=attribute),
            obj=obj,
            name=attribute,
            exc=LetterLimit,
        )

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
        raise _too_big()
    return _jinja_filters.do_replace(eval_ctx, value, old, new, count)


def _join(eval_ctx, value, d="", attribute=None):
    if attribute is not None:
        value = map(_jinja_filters.make_attrgetter(eval_ctx.environment, attribute), value)
    return _joined(value, str(d))


def _short_range(*args):
    numbers = range(*args)
    if len(numbers) > MAX_BUILT:
        raise LetterLimit(_("a range of more than %(n)d items is not allowed", n=MAX_BUILT))
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
