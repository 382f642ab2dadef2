"""Password hashing: scrypt with a random salt; verification never raises on a malformed hash."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecgstation.storage.passwords import hash_password, verify_password


def test_hash_and_verify() -> None:
    stored = hash_password("correct horse battery staple")
    assert verify_password("correct horse battery staple", stored)
    assert "correct horse" not in stored
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(digest)) == 32


@pytest.mark.parametrize(
    "attempt",
    ["correct horse battery stapl", "Correct horse battery staple", "correct horse battery staple ", "", "x"],
)
def test_wrong_password_is_refused(attempt: str) -> None:
    assert not verify_password(attempt, hash_password("correct horse battery staple"))


def test_each_hash_has_its_own_salt() -> None:
    a, b = hash_password("same"), hash_password("same")
    assert a != b
    assert a.split("$")[4] != b.split("$")[4] and a.split("$")[5] != b.split("$")[5]
    assert verify_password("same", a) and verify_password("same", b)


def test_empty_password_cannot_be_set() -> None:
    with pytest.raises(ValueError, match="empty"):
        hash_password("")


def test_unicode_passwords() -> None:
    stored = hash_password("Grüezi-🫀-пароль")
    assert verify_password("Grüezi-🫀-пароль", stored)
    assert not verify_password("Gruezi-🫀-пароль", stored)


def _good() -> str:
    return hash_password("pw")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda h: "",
        lambda h: "not a hash",
        lambda h: h.replace("scrypt", "bcrypt", 1),
        lambda h: h.rsplit("$", 1)[0],  # a field missing
        lambda h: h + "$extra",  # a field too many
        lambda h: h.replace("$16384$", "$abc$"),  # n not a number
        lambda h: h.replace("$16384$", "$1000$"),  # n not a power of two
        lambda h: h.replace("$16384$", "$0$"),
        lambda h: h.replace("$8$1$", "$0$1$"),  # r zero
        lambda h: h.replace("$8$1$", "$8$0$"),  # p zero
        lambda h: h.replace("$16384$", f"${2**40}$"),  # absurd memory
        lambda h: "$".join([*h.split("$")[:5], "%%%%"]),  # digest not base64
        lambda h: "$".join([*h.split("$")[:4], "ÄÖÜ", h.split("$")[5]]),  # salt not ASCII
        lambda h: "$".join([*h.split("$")[:5], ""]),  # empty digest
        lambda h: "$".join([*h.split("$")[:5], base64.b64encode(b"\0" * 32).decode()]),  # another digest
    ],
)
def test_malformed_or_foreign_hash_is_refused_without_error(mangle: Callable[[str], str]) -> None:
    good = _good()
    assert verify_password("pw", good)
    assert verify_password("pw", mangle(good)) is False


def test_unencodable_password_is_refused() -> None:
    assert verify_password("\ud800", _good()) is False


@settings(max_examples=5, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_any_password_verifies_against_its_own_hash(password: str) -> None:
    try:
        password.encode()
    except UnicodeEncodeError:
        return
    stored = hash_password(password)
    assert verify_password(password, stored)
    assert not verify_password(password + "!", stored)
