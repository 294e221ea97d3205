"""Tokenizer of the formula language (Excel-like, as in hesabu / OpenRBF)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from afiya.domain.pbf.errors import FormulaSyntaxError
from afiya.domain.shared.i18n import N_, Message


class Kind(Enum):
    NUMBER = "number"
    NAME = "name"
    PLACEHOLDER = "placeholder"
    OPERATOR = "operator"
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str
    position: int  # 1-based column, for messages


# Longest first, so that "<=" is not read as "<" then "=".
_OPERATORS = ("<=", ">=", "<>", "!=", "==", "+", "-", "*", "/", "^", "=", "<", ">")


def _is_name_start(char: str) -> bool:
    return char.isascii() and (char.isalpha() or char == "_")


def _is_name_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


def tokenize(source: str, *, equation: str = "") -> list[Token]:
    """Split ``source`` into tokens, ending with an ``END`` token.

    Raises:
        FormulaSyntaxError: on a character that starts no token, an unclosed ``%{``, or a
            number too large to represent.
    """
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char.isspace():
            i += 1
            continue
        start = i
        if char.isdigit() or (char == "." and i + 1 < n and source[i + 1].isdigit()):
            i = _scan_number(source, i)
            text = source[start:i]
            if not math.isfinite(float(text)):
                raise FormulaSyntaxError(
                    Message(
                        N_("The number {number} is too large, in {equation}."), {"number": text}
                    ),
                    equation=equation,
                )
            tokens.append(Token(Kind.NUMBER, text, start + 1))
        elif _is_name_start(char):
            while i < n and _is_name_char(source[i]):
                i += 1
            tokens.append(Token(Kind.NAME, source[start:i], start + 1))
        elif source.startswith("%{", i):
            close = source.find("}", i + 2)
            name = source[i + 2 : close].strip() if close >= 0 else ""
            if close < 0 or not name or not all(_is_name_char(c) for c in name):
                raise FormulaSyntaxError(
                    Message(
                        N_("Malformed placeholder at position {position} in {equation}."),
                        {"position": start + 1},
                    ),
                    equation=equation,
                )
            tokens.append(Token(Kind.PLACEHOLDER, name, start + 1))
            i = close + 1
        elif char in "(),":
            kind = {"(": Kind.LPAREN, ")": Kind.RPAREN, ",": Kind.COMMA}[char]
            tokens.append(Token(kind, char, start + 1))
            i += 1
        else:
            op = next((op for op in _OPERATORS if source.startswith(op, i)), None)
            if op is None:
                raise FormulaSyntaxError(
                    Message(
                        N_('Unexpected character "{char}" at position {position} in {equation}.'),
                        {"char": char, "position": start + 1},
                    ),
                    equation=equation,
                )
            tokens.append(Token(Kind.OPERATOR, op, start + 1))
            i += len(op)
    tokens.append(Token(Kind.END, "", n + 1))
    return tokens


def _scan_number(source: str, i: int) -> int:
    n = len(source)
    while i < n and source[i].isdigit():
        i += 1
    if i < n and source[i] == ".":
        i += 1
        while i < n and source[i].isdigit():
            i += 1
    if i < n and source[i] in "eE":
        j = i + 1
        if j < n and source[j] in "+-":
            j += 1
        if j < n and source[j].isdigit():
            i = j
            while i < n and source[i].isdigit():
                i += 1
    return i
