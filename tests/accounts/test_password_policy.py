"""The password policy (NIST SP 800-63B): length and a blocklist, no composition rules."""

from __future__ import annotations

import pytest

from accounts.password_policy import PasswordPolicyError, check_policy, common_passwords


def test_the_shipped_list_holds_the_commonest_passwords() -> None:
    common = common_passwords()
    assert len(common) > 19_000
    assert {"123456", "password", "qwerty", "iloveyou"} <= common


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("short pass", "at least 12"),
        ("x" * 1025, "at most 1024"),
        ("password1234", "most common"),
        ("PASSWORD1234", "most common"),  # case does not help
        ("qwertyuiop12", "most common"),
        ("aaaaaaaaaaaa", "repeated"),
        ("abababababab", "repeated"),
        ("123456789012", "run"),
        ("zyxwvutsrqpo", "run"),
        ("my name is maija.m", "username"),
        ("callrec is my password", "service"),
    ],
)
def test_weak_passwords_are_refused_saying_why(password: str, says: str) -> None:
    with pytest.raises(PasswordPolicyError, match=says):
        check_policy(password, "maija.m")


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery",
        "alllowercaseletters",  # no composition rules
        "ääkkösetkin käyvät",
        "🐟🐟🐟 kalaa ja perunaa",
        "y" * 3 + "a passphrase of any length" * 39,  # up to 1024
    ],
)
def test_long_passwords_of_any_characters_pass(password: str) -> None:
    check_policy(password[:1024], "maija.m")


def test_a_two_letter_username_is_not_searched_for() -> None:
    check_policy("jo kertoi tarinan", "jo")
