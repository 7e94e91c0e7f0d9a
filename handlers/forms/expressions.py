"""XLSForm expressions (constraint, relevant, calculation): parse safely, list references, evaluate on answers.

Never eval, exec or compile: a tokenizer and recursive-descent parser (expression_syntax) build a small tree,
and the evaluator below walks it. How typed answers compare and compute is in expression_values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from handlers.forms import expression_values as v
from handlers.forms.expression_syntax import (
    Binary,
    Call,
    Current,
    ExpressionError,
    Literal,
    Negation,
    Node,
    Reference,
    is_valid_name,
    parse,
)

__all__ = ["Expression", "ExpressionError", "is_valid_name", "parse_expression"]


@dataclass(frozen=True)
class Expression:
    """A parsed expression and its source text."""

    text: str
    root: Node

    def evaluate(self, values: Mapping[str, object], current: object = None, *, today: date) -> object:
        """The value for these answers; never raises: what cannot be computed is None, like XPath's NaN."""
        return _evaluate(self.root, _Context(values, current, today))

    def is_true(self, values: Mapping[str, object], current: object = None, *, today: date) -> bool:
        """The value as a condition (XPath boolean()): for relevant and constraint."""
        return v.to_boolean(self.evaluate(values, current, today=today))

    def references(self) -> set[str]:
        """The names of the questions the expression refers to with ${...}."""
        return {node.name for node in _walk(self.root) if isinstance(node, Reference)}


def parse_expression(text: str) -> Expression:
    """Parse an XLSForm expression, or raise ExpressionError with an English message and a position."""
    return Expression(text, parse(text))


@dataclass(frozen=True)
class _Context:
    values: Mapping[str, object]
    current: object
    today: date


def _evaluate(node: Node, context: _Context) -> object:
    """The value of one node; `and`, `or` and if() evaluate only what they need."""
    match node:
        case Literal(value):
            return value
        case Reference(name):
            return v.normalize(context.values.get(name))
        case Current():
            return v.normalize(context.current)
        case Negation(operand):
            return v.negate(_evaluate(operand, context))
        case Binary("and", left, right):
            return v.to_boolean(_evaluate(left, context)) and v.to_boolean(_evaluate(right, context))
        case Binary("or", left, right):
            return v.to_boolean(_evaluate(left, context)) or v.to_boolean(_evaluate(right, context))
        case Binary(operator, left, right) if operator in v.COMPARISONS:
            return v.compare(operator, _evaluate(left, context), _evaluate(right, context))
        case Binary(operator, left, right):
            return v.arithmetic(operator, _evaluate(left, context), _evaluate(right, context))
        case Call("if", (condition, then, otherwise)):
            return _evaluate(then if v.to_boolean(_evaluate(condition, context)) else otherwise, context)
        case Call("today", ()):
            return context.today
        case Call(function, arguments):
            return v.call(function, [_evaluate(argument, context) for argument in arguments])
    raise TypeError(f"not an expression node: {node!r}")


def _walk(node: Node) -> Iterator[Node]:
    """The node and everything below it."""
    yield node
    match node:
        case Negation(operand):
            yield from _walk(operand)
        case Binary(_, left, right):
            yield from _walk(left)
            yield from _walk(right)
        case Call(_, arguments):
            for argument in arguments:
                yield from _walk(argument)
