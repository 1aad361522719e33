"""Which characters are control characters (docs/design.md, "Principal names": a name holding one
never matches): C0 (U+0000-U+001F), DEL (U+007F) and C1 (U+0080-U+009F), and nothing next to
them; a space or a no-break space is white space, named as such.  Each at its boundary, in a name
that is not plain ASCII too (the fast path for printable ASCII never looks at the characters)."""

from __future__ import annotations

import pytest

from outlook_anywhere.judgement.principal import Match, has_control_chars, match, problem


@pytest.mark.parametrize(
    ("text", "control"),
    [
        ("\u00e9\x1f", True),
        ("\u00e9 ", False),
        ("\u00e9\x7e", False),
        ("\u00e9\x7f", True),
        ("\u00e9\x80", True),
        ("\u00e9\x9f", True),
        ("\u00e9\xa0", False),
        ("a\x7f", True),
        ("a\x9f", True),
    ],
)
def test_control_characters_and_their_neighbours(text: str, control: bool) -> None:
    assert has_control_chars(text) is control


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("m\u00e9l b.contoso.com", "holds white space"),
        ("m\u00e9l\xa0b.contoso.com", "holds white space"),
        ("m\u00e9l\x7fb.contoso.com", "holds control characters"),
        ("m\u00e9l\x9fb.contoso.com", "holds control characters"),
    ],
)
def test_a_principal_is_refused_for_the_right_reason(name: str, why: str) -> None:
    assert problem(name) == why


def test_a_name_with_a_c1_control_never_matches() -> None:
    name = "m\u00e9l\x85.contoso.com"
    assert match(name, (name,), (name,)) == Match.NONE
