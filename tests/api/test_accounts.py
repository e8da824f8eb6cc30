"""Built-in accounts over HTTP: sign-up, sign-in, refresh rotation and reuse, sign-out,
rate limits and the audit trail."""

import asyncio
import statistics
import time
from typing import Any

import httpx
import jwt
import psycopg
import pytest
from argon2 import PasswordHasher

from api.identity import accounts
from tests.utils.errors import error_json
from tests.utils.tokens import SECRET

PASSWORD = "correct horse battery"


async def sign_up(
    client: httpx.AsyncClient, email: str = "ada@example.com", **extra: Any
) -> httpx.Response:
    body = {"email": email, "password": PASSWORD, "name": "Ada", **extra}
    return await client.post("/api/auth/signup", json=body)


async def sign_in(
    client: httpx.AsyncClient, email: str = "ada@example.com", password: str = PASSWORD
) -> httpx.Response:
    return await client.post("/api/auth/signin", json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def events(conn: psycopg.Connection) -> list[tuple[str, str | None]]:
    return conn.execute("select event, user_id from app.audit_events order by id").fetchall()


async def test_sign_up_returns_the_user_and_working_tokens(client: httpx.AsyncClient) -> None:
    response = await sign_up(client, "  Ada@Example.COM ".strip())
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {
        "user",
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "token",
    }
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    user = body["user"]
    assert set(user) == {"id", "email", "name", "created_at"}
    assert user["name"] == "Ada"
    claims = jwt.decode(body["access_token"], SECRET, algorithms=["HS256"])
    assert claims["sub"] == user["id"]
    assert {"exp", "iat", "jti"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 15 * 60
    me = await client.get("/api/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json() == {**user, "user": user}
    task = await client.post(
        "/api/tasks", json={"title": "mine"}, headers=bearer(body["access_token"])
    )
    assert task.json()["user_id"] == user["id"]


async def test_passwords_and_refresh_tokens_are_stored_only_as_hashes(
    client: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    body = (await sign_up(client)).json()
    (stored,) = conn.execute("select password_hash from app_private.accounts").fetchone() or ("",)
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    hashes = conn.execute("select token_hash from app_private.refresh_tokens").fetchall()
    assert len(hashes) == 1
    assert body["refresh_token"].encode() not in hashes[0][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD, "name": "A"}, "email"),
        ({"email": "a@example.com", "password": "short", "name": "A"}, "password"),
        ({"email": "a@example.com", "password": "x" * 129, "name": "A"}, "password"),
        ({"email": "a@example.com", "password": PASSWORD, "name": "  "}, "name"),
        ({"email": "a@example.com", "password": PASSWORD}, "name"),
        ({"email": "a@example.com", "password": PASSWORD, "name": "A", "admin": True}, "admin"),
    ],
)
async def test_sign_up_validates_its_body(
    client: httpx.AsyncClient, conn: psycopg.Connection, body: dict, field: str
) -> None:
    response = await client.post("/api/auth/signup", json=body)
    assert response.status_code == 422
    assert any(field in error["loc"] for error in response.json()["detail"])
    assert conn.execute("select count(*) from app.users").fetchone() == (0,)


async def test_a_duplicate_email_is_409_whatever_its_case(client: httpx.AsyncClient) -> None:
    assert (await sign_up(client, "ada@example.com")).status_code == 201
    again = await sign_up(client, "ADA@example.com")
    assert again.status_code == 409
    assert again.json() == error_json("Email already registered")


async def test_racing_sign_ups_for_one_email_make_one_account(
    client: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    answers = await asyncio.gather(*(sign_up(client, "race@example.com") for _ in range(4)))
    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409]
    assert conn.execute("select count(*) from app_private.accounts").fetchone() == (1,)
    assert conn.execute("select count(*) from app.users").fetchone() == (1,)


async def test_sign_in_is_case_insensitive_and_fails_alike(client: httpx.AsyncClient) -> None:
    created = (await sign_up(client)).json()
    ok = await sign_in(client, "ADA@EXAMPLE.COM")
    assert ok.status_code == 200
    assert ok.json()["user"]["id"] == created["user"]["id"]
    wrong_password = await sign_in(client, password="wrong password!")
    unknown_email = await sign_in(client, "nobody@example.com")
    for response in (wrong_password, unknown_email):
        assert response.status_code == 401
        assert response.json() == error_json("Invalid email or password")
        assert response.headers["www-authenticate"] == "Bearer"


async def test_refresh_rotates_and_a_reused_token_revokes_the_family(
    client: httpx.AsyncClient,
) -> None:
    first = (await sign_up(client)).json()["refresh_token"]
    rotated = await client.post("/api/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    pair = rotated.json()
    assert set(pair) == {"access_token", "refresh_token", "token_type", "expires_in"}
    second = pair["refresh_token"]
    assert second != first
    assert (await client.get("/api/tasks", headers=bearer(pair["access_token"]))).status_code == 200

    reused = await client.post("/api/auth/refresh", json={"refresh_token": first})
    assert reused.status_code == 401
    assert "reuse" in reused.json()["detail"]
    # The thief's rotation and the owner's both die with the family.
    stolen = await client.post("/api/auth/refresh", json={"refresh_token": second})
    assert stolen.status_code == 401


async def test_an_unknown_refresh_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/refresh", json={"refresh_token": "made-up"})
    assert response.status_code == 401
    assert response.json() == error_json("Invalid refresh token")


async def test_sign_out_revokes_this_session_only(client: httpx.AsyncClient) -> None:
    one = (await sign_up(client)).json()
    other = (await sign_in(client)).json()
    out = await client.post(
        "/api/auth/signout",
        json={"refresh_token": one["refresh_token"]},
        headers=bearer(one["access_token"]),
    )
    assert out.status_code == 200
    assert out.json() == {"detail": "Signed out"}
    after = await client.get("/api/tasks", headers=bearer(one["access_token"]))
    assert after.status_code == 401
    assert after.json() == error_json("Token has been revoked")
    assert after.headers["www-authenticate"] == "Bearer"
    refreshed = await client.post("/api/auth/refresh", json={"refresh_token": one["refresh_token"]})
    assert refreshed.status_code == 401
    # The other session of the same user is untouched.
    assert (
        await client.get("/api/tasks", headers=bearer(other["access_token"]))
    ).status_code == 200
    again = await client.post("/api/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert again.status_code == 200


async def test_sign_out_without_a_body_revokes_the_access_token(
    client: httpx.AsyncClient,
) -> None:
    session = (await sign_up(client)).json()
    out = await client.post("/api/auth/signout", headers=bearer(session["access_token"]))
    assert out.status_code == 200
    me = await client.get("/api/auth/me", headers=bearer(session["access_token"]))
    assert me.status_code == 401


async def test_sign_out_cannot_revoke_someone_elses_refresh_family(
    client: httpx.AsyncClient,
) -> None:
    victim = (await sign_up(client, "victim@example.com")).json()
    attacker = (await sign_up(client, "attacker@example.com")).json()
    await client.post(
        "/api/auth/signout",
        json={"refresh_token": victim["refresh_token"]},
        headers=bearer(attacker["access_token"]),
    )
    still = await client.post("/api/auth/refresh", json={"refresh_token": victim["refresh_token"]})
    assert still.status_code == 200


async def test_five_failures_lock_the_email_with_429_and_retry_after(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client)
    for _ in range(5):
        assert (await sign_in(client, password="wrong password!")).status_code == 401
    locked = await sign_in(client)  # even the right password waits
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    other = await sign_in(client, "someone@example.com", "whatever123")
    assert other.status_code == 401  # other emails from the same address carry on


async def test_forwarded_for_headers_do_not_dodge_the_limit(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    for n in range(5):
        headers = {"X-Forwarded-For": f"203.0.113.{n}"}
        body = {"email": "ada@example.com", "password": "wrong password!"}
        await client.post("/api/auth/signin", json=body, headers=headers)
    locked = await client.post(
        "/api/auth/signin",
        json={"email": "ada@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.7"},
    )
    assert locked.status_code == 429


async def test_a_successful_sign_in_clears_the_emails_failures(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client)
    for _ in range(4):
        await sign_in(client, password="wrong password!")
    assert (await sign_in(client)).status_code == 200
    for _ in range(4):
        await sign_in(client, password="wrong password!")
    assert (await sign_in(client)).status_code == 200


async def test_the_client_address_limit_is_much_higher(
    client: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    conn.execute(
        "insert into app_private.auth_failures (key, failures, window_started_at)"
        " values ('client:127.0.0.1', 100, now())"
    )
    response = await sign_in(client, "fresh@example.com", "whatever123")
    assert response.status_code == 429


async def test_security_events_are_audited_without_secrets(
    client: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    session = (await sign_up(client)).json()
    user_id = session["user"]["id"]
    await sign_in(client, password="wrong password!")
    signed_in = (await sign_in(client)).json()
    await client.post("/api/auth/refresh", json={"refresh_token": signed_in["refresh_token"]})
    await client.post("/api/auth/refresh", json={"refresh_token": signed_in["refresh_token"]})
    await client.post("/api/auth/signout", headers=bearer(session["access_token"]))
    await client.get("/api/tasks", headers=bearer("garbage"))
    assert events(conn) == [
        ("sign_up", user_id),
        ("sign_in_failed", user_id),
        ("sign_in", user_id),
        ("refresh", user_id),
        ("refresh_reused", user_id),
        ("sign_out", user_id),
        ("token_rejected", None),
    ]
    rows = conn.execute("select client_address, request_id from app.audit_events").fetchall()
    assert all(address == "127.0.0.1" and request_id for address, request_id in rows)
    dump = str(conn.execute("select * from app.audit_events").fetchall())
    for secret in (PASSWORD, session["access_token"], session["refresh_token"]):
        assert secret not in dump


async def test_a_flood_of_bad_tokens_writes_one_audit_row(
    client: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    for n in range(200):
        response = await client.get("/api/tasks", headers=bearer(f"garbage-{n}"))
        assert response.status_code == 401
    assert events(conn) == [("token_rejected", None)]


async def test_the_request_role_cannot_read_or_change_the_audit_trail(
    client: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    await sign_up(client)
    with conn.transaction(force_rollback=True):
        conn.execute("select set_config('role', 'app_user', true)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("select * from app.audit_events")
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("update app.audit_events set event = 'sign_in'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("delete from app.audit_events")
        conn.execute("insert into app.audit_events (event) values ('sign_in')")
    with pytest.raises(psycopg.Error) as refused:
        conn.execute("delete from app.audit_events")  # not even the owner
    assert refused.value.sqlstate == "PT403"


async def test_me_needs_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/auth/me")).status_code == 401


async def test_unknown_email_and_wrong_password_take_about_the_same_time(
    client: httpx.AsyncClient,
) -> None:
    await sign_up(client)

    async def median_seconds(email: str) -> float:
        times = []
        for n in range(7):
            started = time.perf_counter()
            # Distinct emails per attempt for the unknown case, so the rate limit stays out.
            await sign_in(client, email.format(n=n), "wrong password!")
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    known = await median_seconds("ada@example.com")
    await sign_in(client)  # clears the failures counted above
    unknown = await median_seconds("nobody{n}@example.com")
    assert 1 / 3 < unknown / known < 3, (known, unknown)  # a hash each; a wrong guess would be 0


async def test_a_hash_with_old_parameters_is_replaced_on_sign_in(
    client: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    await sign_up(client)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    conn.execute("update app_private.accounts set password_hash = %s", (weak,))
    assert (await sign_in(client)).status_code == 200
    (stored,) = conn.execute("select password_hash from app_private.accounts").fetchone() or ("",)
    assert stored != weak
    assert not accounts.needs_rehash(stored)
    assert (await sign_in(client)).status_code == 200


@pytest.mark.parametrize(
    "parameters",
    [
        "m=78000,t=8,p=1$c2FsdHNhbHRzYWx0",  # about 16 of today's hashes
        "m=19456,t=2,p=4$c2FsdHNhbHRzYWx0",  # four threads a hash
    ],
)
async def test_a_stored_hash_this_service_would_not_run_is_a_counted_401(
    client: httpx.AsyncClient, conn: psycopg.Connection, parameters: str
) -> None:
    """What raw SQL could store, for every sign-in against it to cost: refused before hashing,
    answered as a wrong password, and counted. (A salt over 64 bytes cannot be stored at all:
    migration 0011, tests/test_migrate.py.)"""
    await sign_up(client)
    stored = f"$argon2id$v=19${parameters}$" + "A" * 43
    assert accounts.accepted(accounts.parameters_of(stored)) is None
    conn.execute("update app_private.accounts set password_hash = %s", (stored,))
    answered = await sign_in(client)
    assert answered.status_code == 401, answered.text
    assert conn.execute(
        "select failures from app_private.auth_failures where key = 'email:ada@example.com'"
    ).fetchone() == (1,)


async def test_a_refused_sign_up_is_counted_and_audited(
    client: httpx.AsyncClient, conn: psycopg.Connection
) -> None:
    await sign_up(client)
    assert (await sign_up(client)).status_code == 409
    assert events(conn)[-1] == ("sign_up_failed", None)
    failures = conn.execute(
        "select failures from app_private.auth_failures where key = 'email:ada@example.com'"
    ).fetchone()
    assert failures == (1,)
