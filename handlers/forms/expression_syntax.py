"""The grammar of XLSForm expressions: tokens, a recursive-descent parser and the tree it builds."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from handlers.forms.expression_regex import REGEX_REASONS, regex_problem

MAX_LENGTH = 1000  # characters of one expression
MAX_NESTING = 20  # parentheses, function calls and unary minus inside each other
MAX_NODES = 200  # parts of one expression; bounds the evaluation depth too

KEYWORDS = frozenset({"and", "or", "div", "mod"})
# Function name -> (fewest, most arguments); None is "any number".
ARITY: dict[str, tuple[int, int | None]] = {
    "regex": (2, 2),
    "today": (0, 0),
    "string-length": (1, 1),
    "selected": (2, 2),
    "count-selected": (1, 1),
    "if": (3, 3),
    "number": (1, 1),
    "int": (1, 1),
    "concat": (1, None),
    "coalesce": (2, 2),
    "not": (1, 1),
    "true": (0, 0),
    "false": (0, 0),
}
_PRECEDENCE = (("or",), ("and",), ("=", "!="), ("<", "<=", ">", ">="), ("+", "-"), ("*", "div", "mod"))
_OPERATORS = ("!=", "<=", ">=", "=", "<", ">", "+", "-", "*")
_MISTAKES = {"==": "=", "<>": "!=", "&&": "and", "||": "or", "!": "not()", "/": "div", "%": "mod"}
_CURLY_QUOTES = {"“": '"', "”": '"', "‘": "'", "’": "'"}


class ExpressionError(ValueError):
    """An expression that cannot be parsed; `position` is the 0-based index of the offending character."""

    def __init__(self, message: str, position: int, code: str = "syntax", details: tuple[str, ...] = ()) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.message = message
        self.position = position
        self.code = code  # a stable key, so callers can word the problem in their own language
        self.details = details


@dataclass(frozen=True)
class Literal:
    """A number or string written in the expression."""

    value: int | Decimal | str


@dataclass(frozen=True)
class Reference:
    """${name}: the answer to another question."""

    name: str


@dataclass(frozen=True)
class Current:
    """`.`: the answer being checked."""


@dataclass(frozen=True)
class Negation:
    """Unary minus."""

    operand: Node


@dataclass(frozen=True)
class Binary:
    """An operator between two operands: or, and, comparisons, arithmetic."""

    operator: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    """A function call such as selected(${kinds}, 'tp')."""

    function: str
    arguments: tuple[Node, ...]


Node = Literal | Reference | Current | Negation | Binary | Call


def parse(text: str) -> Node:
    """The tree of an expression, or ExpressionError with an English message and a position."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_LENGTH} characters", MAX_LENGTH, "too_long")
    parser = _Parser(list(_tokenize(text)))
    if parser.peek().kind == "end":
        raise ExpressionError("expression is empty", 0, "empty")
    root = parser.expression()
    if parser.peek().kind != "end":
        raise _unexpected(parser.peek())
    return root


def is_valid_name(name: str) -> bool:
    """XLSForm name syntax: a letter or _ first, then letters, digits, -, _ or ."""
    return bool(name) and (name[0].isalpha() or name[0] == "_") and all(c.isalnum() or c in "-_." for c in name)


@dataclass(frozen=True)
class _Token:
    kind: str  # number, string, reference, dot, name, operator, (, ), comma, end
    text: str
    position: int


def _tokenize(text: str) -> Iterator[_Token]:
    """The tokens of an expression, ending with an `end` token."""
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif _is_digit(c) or (c == "." and _is_digit(text[i + 1 : i + 2])):
            end = _scan(text, i, _is_digit)
            if text[end : end + 1] == "." and text[end + 1 : end + 2] != ".":
                end = _scan(text, end + 1, _is_digit)
            yield _Token("number", text[i:end], i)
            i = end
        elif c in "'\"":
            end = text.find(c, i + 1)
            if end < 0:
                raise ExpressionError("string has no closing quote", i, "unterminated_string")
            yield _Token("string", text[i + 1 : end], i)
            i = end + 1
        elif text.startswith("${", i):
            end = text.find("}", i + 2)
            if end < 0:
                raise ExpressionError("${ has no closing }", i, "unterminated_reference")
            name = text[i + 2 : end].strip()
            if not is_valid_name(name):
                raise ExpressionError(f"{name!r} is not a valid question name", i, "bad_reference", (name,))
            yield _Token("reference", name, i)
            i = end + 1
        elif c.isalpha() or c == "_":
            end = _scan(text, i, lambda ch: ch.isalnum() or ch in "_.")
            while text[end : end + 1] == "-" and text[end + 1 : end + 2].isalpha():
                end = _scan(text, end + 1, lambda ch: ch.isalnum() or ch in "_.")
            yield _Token("name", text[i:end], i)
            i = end
        else:
            token = _punctuation(text, i)
            yield token
            i += len(token.text)
    yield _Token("end", "", len(text))


def _punctuation(text: str, i: int) -> _Token:
    """The operator or bracket at `i`, or an error naming what to write instead."""
    for mistake, replacement in _MISTAKES.items():
        if text.startswith(mistake, i) and not text.startswith("!=", i):
            raise ExpressionError(
                f"write {replacement!r} instead of {mistake!r}", i, "use_instead", (mistake, replacement)
            )
    for operator in _OPERATORS:
        if text.startswith(operator, i):
            return _Token("operator", operator, i)
    c = text[i]
    kinds = {"(": "(", ")": ")", ",": "comma", ".": "dot"}
    if c in kinds:
        return _Token(kinds[c], c, i)
    ascii_form = _CURLY_QUOTES.get(c) or unicodedata.normalize("NFKC", c)
    if ascii_form != c and ascii_form.isascii():
        raise ExpressionError(f"write {ascii_form!r} instead of {c!r}", i, "use_instead", (c, ascii_form))
    raise ExpressionError(f"unexpected character {c!r}", i, "unexpected_character", (c,))


def _unexpected(token: _Token) -> ExpressionError:
    """The error for a token out of place; an upper-case AND or OR gets a hint."""
    if token.kind == "name" and token.text.lower() in KEYWORDS and token.text not in KEYWORDS:
        lower = token.text.lower()
        return ExpressionError(
            f"write {lower!r} instead of {token.text!r}", token.position, "use_instead", (token.text, lower)
        )
    return ExpressionError(f"unexpected {token.text!r}", token.position, "unexpected", (token.text,))


def _is_digit(character: str) -> bool:
    """An ASCII digit; full-width ones get a "write 3 instead of ３" error instead."""
    return len(character) == 1 and character in "0123456789"


def _scan(text: str, start: int, accept: Callable[[str], bool]) -> int:
    """The index of the first character from `start` that `accept` refuses."""
    end = start
    while end < len(text) and accept(text[end]):
        end += 1
    return end


class _Parser:
    """Recursive descent over the token list, with XPath's operator precedence."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.nodes = 0
        self.nesting = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def node(self, node: Node, token: _Token) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExpressionError(f"expression has more than {MAX_NODES} parts", token.position, "too_large")
        return node

    def expression(self, level: int = 0) -> Node:
        if level == len(_PRECEDENCE):
            return self.unary()
        left = self.expression(level + 1)
        while (token := self.peek()).text in _PRECEDENCE[level] and token.kind in ("operator", "name"):
            self.advance()
            left = self.node(Binary(token.text, left, self.expression(level + 1)), token)
        return left

    def unary(self) -> Node:
        token = self.peek()
        if token.kind == "operator" and token.text == "-":
            self.advance()
            with self.nested(token):
                return self.node(Negation(self.unary()), token)
        return self.primary()

    def primary(self) -> Node:
        token = self.advance()
        match token.kind:
            case "number":
                return self.node(Literal(Decimal(token.text) if "." in token.text else int(token.text)), token)
            case "string":
                return self.node(Literal(token.text), token)
            case "reference":
                return self.node(Reference(token.text), token)
            case "dot":
                return self.node(Current(), token)
            case "(":
                with self.nested(token):
                    inner = self.expression()
                self.expect(")", token)
                return inner
            case "name" if self.peek().kind == "(":
                return self.call(token)
            case "name" if token.text.lower() not in KEYWORDS:
                raise ExpressionError(
                    f"write ${{{token.text}}} to refer to a question", token.position, "bare_name", (token.text,)
                )
            case "end":
                raise ExpressionError("expression ends too early", token.position, "unexpected_end")
        raise _unexpected(token)

    def call(self, name: _Token) -> Node:
        opening = self.advance()
        arguments: list[Node] = []
        positions: list[int] = []
        with self.nested(opening):
            if self.peek().kind != ")":
                positions.append(self.peek().position)
                arguments.append(self.expression())
                while self.peek().kind == "comma":
                    self.advance()
                    positions.append(self.peek().position)
                    arguments.append(self.expression())
        self.expect(")", opening)
        _check_call(name, arguments, positions)
        return self.node(Call(name.text, tuple(arguments)), name)

    def expect(self, kind: str, opening: _Token) -> None:
        token = self.peek()
        if token.kind != kind:
            raise ExpressionError(f"{opening.text!r} is never closed", opening.position, "unclosed", (opening.text,))
        self.advance()

    @contextmanager
    def nested(self, token: _Token) -> Iterator[None]:
        """Count how deep the parser is, so a hostile expression cannot exhaust the stack."""
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise ExpressionError(f"expression nests deeper than {MAX_NESTING}", token.position, "too_deep")
        try:
            yield
        finally:
            self.nesting -= 1


def _check_call(name: _Token, arguments: list[Node], positions: list[int]) -> None:
    """Refuse an unknown function, a wrong number of arguments or a risky regex pattern."""
    function = name.text
    if function not in ARITY:
        raise ExpressionError(f"unknown function {function}()", name.position, "unknown_function", (function,))
    fewest, most = ARITY[function]
    if len(arguments) < fewest or (most is not None and len(arguments) > most):
        wanted = str(fewest) if fewest == most else f"at least {fewest}"
        raise ExpressionError(
            f"{function}() takes {wanted} arguments, not {len(arguments)}",
            name.position,
            "argument_count",
            (function, str(fewest), "" if most is None else str(most), str(len(arguments))),
        )
    pattern = arguments[1] if function == "regex" else None
    if isinstance(pattern, Literal) and isinstance(pattern.value, str):
        reason = regex_problem(pattern.value)
        if reason is not None:
            raise ExpressionError(REGEX_REASONS[reason], positions[1], "bad_regex", (reason,))
