"""The admins' letter texts: the default per language, and the check that tells an admin, line
by line, what is wrong with a text before it is saved — statically (blocks, names, fields,
filters), then by rendering it on the sample letters in the sandbox."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from jinja2 import TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError

from config import BASE_DIR
from ppp_tracker.claims.letters.samples import sample_context
from ppp_tracker.claims.letters.sandbox import BLOCKS, environment, refusal, render_blocks

LETTER_DIR = BASE_DIR / "templates" / "letters"
REQUIRED_BLOCKS = ("letterhead", "reference", "addressee", "title", "body", "demand", "signature")
MAX_TEMPLATE_CHARS = 50_000


def default_text(lang: str) -> str:
    return (LETTER_DIR / f"claim.{lang}.txt").read_text(encoding="utf-8")


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


def check_text(text: str, lang: str) -> list[Problem]:
    """Every problem of a letter text, each with its line where there is one; [] when fine."""
    if len(text) > MAX_TEMPLATE_CHARS:
        return [
            Problem(
                None, _("The text is too long (at most %(n)d characters).", n=MAX_TEMPLATE_CHARS)
            )
        ]
    env = environment(lang)
    try:
        ast = env.parse(text)
    except TemplateSyntaxError as exc:
        return [Problem(exc.lineno, exc.message or str(exc))]
    samples = [sample_context(variant) for variant in range(3)]
    problems = _static_problems(ast, env, samples)
    if problems:
        return sorted(problems, key=lambda p: p.line or 0)
    return _rendering_problems(text, lang, env, samples)


def _rendering_problems(text: str, lang: str, env, samples: list[dict]) -> list[Problem]:
    """The first problem of rendering the text on each sample letter: a missing value, a limit
    of the sandbox, any other error."""
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
            return [Problem(_line_of(template, exc), _("Not allowed: %(why)s", why=refusal(exc)))]
        except Exception as exc:
            return [Problem(_line_of(template, exc), f"{type(exc).__name__}: {exc}")]
    return []


def _line_of(template, exc: BaseException) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = template.get_corresponding_lineno(tb.tb_lineno)
        tb = tb.tb_next
    return line


# --- the static check: what the sample letters may not reach ------------------------------------


def _static_problems(ast: nodes.Template, env, samples: list[dict]) -> list[Problem]:
    """Unknown blocks, names, fields, filters and tests are found in the parsed text, so that
    branches the sample letters do not reach are checked too."""
    return [
        *_block_problems(ast),
        *_text_outside_blocks(ast),
        *_unknown_names(ast, env),
        *_unknown_fields(ast, samples),
        *_unknown_filters_and_tests(ast, env),
    ]


def _block_problems(ast: nodes.Template) -> list[Problem]:
    problems: list[Problem] = []
    blocks = list(ast.find_all(nodes.Block))
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
    names = {b.name for b in blocks}
    for required in REQUIRED_BLOCKS:
        if required not in names:
            problems.append(Problem(None, _("The block «%(name)s» is missing.", name=required)))
    return problems


def _text_outside_blocks(ast: nodes.Template) -> list[Problem]:
    problems: list[Problem] = []
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
    return problems


def _unknown_names(ast: nodes.Template, env) -> list[Problem]:
    assigned = {
        n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")
    } | _JINJA_NAMES
    known = set(CONTEXT_NAMES) | set(env.globals)
    return [
        Problem(name.lineno, _("Unknown variable «%(name)s».", name=name.name))
        for name in ast.find_all(nodes.Name)
        if name.ctx == "load" and name.name not in known and name.name not in assigned
    ]


def _keys_of(value) -> set[str] | None:
    return set(value) if isinstance(value, dict) else None


def _loop_element_keys(ast: nodes.Template, samples: list[dict]) -> dict[str, set[str] | None]:
    """`{% for m in milestones %}`: the fields `m` has in the sample letters (None: not a list
    of records, so anything goes)."""
    element_keys: dict[str, set[str] | None] = {}
    for loop in ast.find_all(nodes.For):
        if isinstance(loop.iter, nodes.Name) and isinstance(loop.target, nodes.Name):
            items = samples[0].get(loop.iter.name)
            if isinstance(items, list):
                merged: set[str] = set()
                for s in samples:
                    for item in s.get(loop.iter.name) or []:
                        merged |= _keys_of(item) or set()
                element_keys[loop.target.name] = merged or None
    return element_keys


def _fields_of(name: str, samples: list[dict], element_keys: dict) -> set[str] | None:
    if name not in CONTEXT_NAMES:
        return element_keys.get(name)
    keys: set[str] = set()
    for s in samples:
        keys |= _keys_of(s.get(name)) or set()
    return keys or None


def _unknown_fields(ast: nodes.Template, samples: list[dict]) -> list[Problem]:
    element_keys = _loop_element_keys(ast, samples)
    problems: list[Problem] = []
    for getattr_node in ast.find_all(nodes.Getattr):
        target = getattr_node.node
        if not isinstance(target, nodes.Name):
            continue
        keys = _fields_of(target.name, samples, element_keys)
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
    return problems


def _unknown_filters_and_tests(ast: nodes.Template, env) -> list[Problem]:
    problems = [
        Problem(node.lineno, _("Unknown filter «%(name)s».", name=node.name))
        for node in ast.find_all(nodes.Filter)
        if node.name not in env.filters
    ]
    problems += [
        Problem(node.lineno, _("Unknown test «%(name)s».", name=node.name))
        for node in ast.find_all(nodes.Test)
        if node.name not in env.tests
    ]
    return problems
