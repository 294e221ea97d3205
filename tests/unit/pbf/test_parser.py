"""Tokenizer and parser of the formula language."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from afiya.domain.pbf.engine.lexer import Kind, tokenize
from afiya.domain.pbf.engine.nodes import Binary, Call, Node, Num, Unary, Var, to_text
from afiya.domain.pbf.engine.parser import parse
from afiya.domain.pbf.errors import (
    ArrayMisuse,
    FormulaSyntaxError,
    UnknownFunction,
    WrongArity,
)


class TestTokenizer:
    def test_splits_numbers_names_placeholders_and_operators(self):
        tokens = tokenize("IF(a_1 >= 2.5e2, %{x_values}, .5)")
        assert [(t.kind, t.text) for t in tokens] == [
            (Kind.NAME, "IF"),
            (Kind.LPAREN, "("),
            (Kind.NAME, "a_1"),
            (Kind.OPERATOR, ">="),
            (Kind.NUMBER, "2.5e2"),
            (Kind.COMMA, ","),
            (Kind.PLACEHOLDER, "x_values"),
            (Kind.COMMA, ","),
            (Kind.NUMBER, ".5"),
            (Kind.RPAREN, ")"),
            (Kind.END, ""),
        ]

    def test_reads_two_character_operators_before_one_character_ones(self):
        texts = [t.text for t in tokenize("a<=b<>c!=d==e<f")][:-1]
        assert texts == ["a", "<=", "b", "<>", "c", "!=", "d", "==", "e", "<", "f"]

    def test_rejects_a_stray_character_with_its_position(self):
        with pytest.raises(FormulaSyntaxError) as caught:
            tokenize("a + $b", equation="pkg.f")
        assert caught.value.equation == "pkg.f"
        assert caught.value.message.params["position"] == 5

    @pytest.mark.parametrize("source", ["%{unclosed", "%{}", "%{a b}"])
    def test_rejects_a_malformed_placeholder(self, source):
        with pytest.raises(FormulaSyntaxError):
            tokenize(source)

    def test_rejects_a_number_too_large_for_a_double(self):
        with pytest.raises(FormulaSyntaxError):
            tokenize("1e400")


class TestPrecedence:
    def test_multiplication_binds_tighter_than_addition(self):
        assert parse("1 + 2 * 3") == Binary("+", Num(1), Binary("*", Num(2), Num(3)))

    def test_subtraction_is_left_associative(self):
        assert parse("8 - 4 - 2") == Binary("-", Binary("-", Num(8), Num(4)), Num(2))

    def test_power_is_right_associative(self):
        assert parse("2 ^ 3 ^ 2") == Binary("^", Num(2), Binary("^", Num(3), Num(2)))

    def test_unary_minus_applies_after_power_as_in_mathematics(self):
        assert parse("-2 ^ 2") == Unary("-", Binary("^", Num(2), Num(2)))

    def test_a_power_accepts_a_negative_exponent(self):
        assert parse("2 ^ -1") == Binary("^", Num(2), Unary("-", Num(1)))

    def test_comparisons_bind_loosest(self):
        assert parse("a + 1 > b * 2") == Binary(
            ">", Binary("+", Var("a"), Num(1)), Binary("*", Var("b"), Num(2))
        )

    def test_both_spellings_of_equality_and_inequality_give_one_tree(self):
        assert parse("a == b") == parse("a = b")
        assert parse("a != b") == parse("a <> b")


class TestCallsAndNames:
    def test_function_names_are_case_insensitive(self):
        assert parse("if(a, safe_div(1, b), 0)") == Call(
            "IF", (Var("a"), Call("SAFE_DIV", (Num(1), Var("b"))), Num(0))
        )

    def test_placeholders_are_marked(self):
        assert parse("SUM(%{amount_values})") == Call(
            "SUM", (Var("amount_values", placeholder=True),)
        )

    def test_unknown_function_is_named(self):
        with pytest.raises(UnknownFunction) as caught:
            parse("VLOOKUP(a, b)", equation="quantity.amount")
        assert caught.value.message.params["name"] == "VLOOKUP"
        assert "quantity.amount" in str(caught.value)

    @pytest.mark.parametrize(
        "source",
        ["IF(a, b)", "ABS(a, b)", "SAFE_DIV(a)", "SCORE_TABLE(v, 0, 1, 2)", "NOT()"],
    )
    def test_wrong_number_of_arguments(self, source):
        with pytest.raises(WrongArity):
            parse(source)

    def test_score_table_takes_a_value_triples_and_a_default(self):
        assert parse("SCORE_TABLE(v, 0, 50, 1, 50, 101, 2, 0)") is not None
        with pytest.raises(WrongArity):
            parse("SCORE_TABLE(v, 0, 50, 1, 50, 101, 0)")

    def test_a_list_outside_a_list_function_is_rejected(self):
        with pytest.raises(ArrayMisuse):
            parse("ARRAY(1, 2) + 1")
        assert parse("SUM(ARRAY(1, 2), 3)") is not None


class TestSyntaxErrors:
    @pytest.mark.parametrize(
        ("source", "position"),
        [("(a + b", None), ("a + * b", 5), ("a b", 3), ("SUM(a,, b)", 7), ("a +", None)],
    )
    def test_unexpected_token_or_end(self, source, position):
        with pytest.raises(FormulaSyntaxError) as caught:
            parse(source, equation="eq")
        assert caught.value.message.params.get("position") == position

    def test_an_empty_formula_is_an_error(self):
        with pytest.raises(FormulaSyntaxError):
            parse("   ")


names = st.sampled_from(["a", "b", "verified", "x_1"])
leaves = st.one_of(
    st.integers(0, 1000).map(lambda n: Num(float(n))),
    st.floats(0, 1e6, allow_nan=False).map(Num),
    names.map(Var),
    names.map(lambda n: Var(n + "_values", placeholder=True)).map(lambda v: Call("SUM", (v,))),
)
operators = st.sampled_from(["+", "-", "*", "/", "^", "=", "<>", "<", "<=", ">", ">="])


def trees(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.builds(Binary, operators, children, children),
        st.builds(Unary, st.just("-"), children),
        st.builds(lambda c, t, e: Call("IF", (c, t, e)), children, children, children),
        st.lists(children, min_size=1, max_size=3).map(lambda args: Call("MAX", tuple(args))),
    )


@given(st.recursive(leaves, trees, max_leaves=12))
def test_rendering_a_tree_and_parsing_it_back_gives_the_same_tree(tree):
    assert parse(to_text(tree)) == tree
