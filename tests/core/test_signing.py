"""One-click link tokens: valid only as signed, for the ids they were made for."""

from __future__ import annotations

from pydantic import SecretStr

from core.settings import Settings
from core.signing import sign, unsign


def test_it_round_trips_the_signed_parts() -> None:
    s = Settings(secret_key=SecretStr("k"))
    assert unsign(s, sign(s, "cramped", "user-1", "session-9")) == ["cramped", "user-1", "session-9"]


def test_it_rejects_a_token_signed_with_another_key_or_tampered() -> None:
    a, b = Settings(secret_key=SecretStr("a")), Settings(secret_key=SecretStr("b"))
    token = sign(a, "unsubscribe", "user-1")
    assert unsign(b, token) is None
    body, mac = token.split(".")
    forged = sign(a, "unsubscribe", "user-2").split(".")[0] + "." + mac
    assert unsign(a, forged) is None
    assert unsign(a, "garbage") is None
