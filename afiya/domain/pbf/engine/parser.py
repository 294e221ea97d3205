"""Recursive-descent parser of the formula language. Source text is never ``eval``-ed.

Grammar (lowest precedence first)::

    expression  := comparison
    comparison  := additive (("=" | "==" | "<>" | "!=" | "<" | "<=" | ">" | ">=") additive)*
    additive    := term (("+" | "-") term)*
    term        := unary (("*" | "/") unary)*
    unary       := ("-" | "+") unary | power
    power       := primary ("^" unary)?          right-associative: 2^3^2 = 2^9
    primary     := number | name | name "(" arguments? ")" | "%{" name "}" | "(" expression ")"

As in mathematics (and unlike Excel), ``-2^2`` is ``-(2^2) = -4``. Function names are
case-insensitive; variable names are case-sensitive.
"""

from __future__ import annotations

from afiya.domain.pbf.engine.functions import FUNCTIONS
from afiya.domain.pbf.engine.lexer import Kind, Token, tokenize
from afiya.domain.pbf.engine.nodes import Binary, Call, Leaf, Node, Num, Unary, Var, to_text, walk
from afiya.domain.pbf.errors import (
    ArrayMisuse,
    FormulaSyntaxError,
    UnknownFunction,
    WrongArity,
)
from afiya.domain.shared.i18n import N_, Message

# Both spellings of equality and inequality are accepted; the tree keeps one.
_COMPARISON = {
    "=": "=",
    "==": "=",
    "<>": "<>",
    "!=": "<>",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
}


class _Parser:
    def __init__(self, tokens: list[Token], equation: str) -> None:
        self.tokens = tokens
        self.i = 0
        self.equation = equation

    @property
    def current(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def is_operator(self, *ops: str) -> bool:
        return self.current.kind is Kind.OPERATOR and self.current.text in ops

    def fail(self, token: Token) -> FormulaSyntaxError:
        if token.kind is Kind.END:
            message = Message(N_("The formula ends too early, in {equation}."))
        else:
            message = Message(
                N_('Unexpected "{token}" at position {position} in {equation}.'),
                {"token": token.text, "position": token.position},
            )
        return FormulaSyntaxError(message, equation=self.equation)

    def expect(self, kind: Kind) -> Token:
        if self.current.kind is not kind:
            raise self.fail(self.current)
        return self.advance()

    def expression(self) -> Node:
        node = self.additive()
        while self.current.kind is Kind.OPERATOR and self.current.text in _COMPARISON:
            op = _COMPARISON[self.advance().text]
            node = Binary(op, node, self.additive())
        return node

    def additive(self) -> Node:
        node = self.term()
        while self.is_operator("+", "-"):
            op = self.advance().text
            node = Binary(op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.is_operator("*", "/"):
            op = self.advance().text
            node = Binary(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.is_operator("-", "+"):
            op = self.advance().text
            return Unary(op, self.unary())
        return self.power()

    def power(self) -> Node:
        base = self.primary()
        if self.is_operator("^"):
            self.advance()
            return Binary("^", base, self.unary())
        return base

    def primary(self) -> Node:
        token = self.current
        if token.kind is Kind.NUMBER:
            self.advance()
            return Num(float(token.text))
        if token.kind is Kind.PLACEHOLDER:
            self.advance()
            return Var(token.text, placeholder=True)
        if token.kind is Kind.LPAREN:
            self.advance()
            node = self.expression()
            self.expect(Kind.RPAREN)
            return node
        if token.kind is Kind.NAME:
            self.advance()
            if self.current.kind is Kind.LPAREN:
                return self.call(token)
            return Var(token.text)
        raise self.fail(token)

    def call(self, name: Token) -> Node:
        upper = name.text.upper()
        spec = FUNCTIONS.get(upper)
        if spec is None:
            raise UnknownFunction(
                Message(N_('Unknown function "{name}" in {equation}.'), {"name": name.text}),
                equation=self.equation,
            )
        self.expect(Kind.LPAREN)
        args: list[Node] = []
        if self.current.kind is not Kind.RPAREN:
            args.append(self.expression())
            while self.current.kind is Kind.COMMA:
                self.advance()
                args.append(self.expression())
        self.expect(Kind.RPAREN)
        if not spec.accepts(len(args)):
            raise WrongArity(
                Message(
                    N_(
                        "Function {name} expects {expected} arguments but got {count}, "
                        "in {equation}."
                    ),
                    {"name": upper, "expected": spec.expected(), "count": len(args)},
                ),
                equation=self.equation,
            )
        return Call(upper, tuple(args))


def parse(source: str, *, equation: str = "") -> Node:
    """Parse formula ``source`` into a syntax tree.

    Raises:
        FormulaSyntaxError, UnknownFunction, WrongArity: naming ``equation``.
    """
    tokens = tokenize(source, equation=equation)
    if tokens[0].kind is Kind.END:
        raise FormulaSyntaxError(
            Message(N_("The formula is empty, in {equation}.")), equation=equation
        )
    parser = _Parser(tokens, equation)
    node = parser.expression()
    if parser.current.kind is not Kind.END:
        raise parser.fail(parser.current)
    check_array_positions(node, equation=equation)
    return node


def check_array_positions(node: Node, *, equation: str) -> None:
    """Reject a list of values (``ARRAY(...)`` or a list leaf such as ``%{x_values}``)
    anywhere but as an argument of a function that accepts lists.

    Raises:
        ArrayMisuse: naming the offending list.
    """
    allowed: set[int] = set()
    for current in walk(node):
        listy = (isinstance(current, Call) and current.name == "ARRAY") or (
            isinstance(current, Leaf) and current.array
        )
        if listy and id(current) not in allowed:
            raise ArrayMisuse(
                Message(
                    N_(
                        "{name} is a list of values: use it inside SUM, AVG, MIN, MAX, "
                        "STDEVP or ACCESS, in {equation}."
                    ),
                    {"name": to_text(current)},
                ),
                equation=equation,
            )
        if isinstance(current, Call):
            spec = FUNCTIONS[current.name]
            for position, arg in enumerate(current.args):
                if spec.allows_array(position):
                    allowed.add(id(arg))
