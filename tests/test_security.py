"""The verified-token memory: it never outlives a token's exp, and it stays bounded."""

from datetime import UTC, datetime, timedelta

from api.identity.tokens import Caller, VerifiedTokens


def caller(seconds_left: float) -> Caller:
    return Caller(user_id="alice", expires_at=datetime.now(UTC) + timedelta(seconds=seconds_left))


def test_a_remembered_token_is_forgotten_at_its_exp() -> None:
    verified = VerifiedTokens()
    verified.put("live", caller(60))
    verified.put("dead", caller(-1))
    live = verified.get("live")
    assert live is not None
    assert live.user_id == "alice"
    assert verified.get("dead") is None
    assert verified.get("never-seen") is None


def test_the_memory_is_bounded_and_drops_the_oldest() -> None:
    verified = VerifiedTokens(max_entries=3)
    for n in range(5):
        verified.put(f"t{n}", caller(60))
    assert [verified.get(f"t{n}") is not None for n in range(5)] == [False, False, True, True, True]
