"""Passwords as the database checks them, as raw SQL in the request role sees it: no function
hands out a hash; a refresh token is issued, a failure count cleared and a hash replaced only
for the hash of the right password; wrong ones are counted until the limit refuses even the
right one; the request role cannot reach the helpers that write tokens and counts."""

import psycopg
import pytest
from argon2 import PasswordHasher
from psycopg import Connection

from api.identity import accounts
from tests.sql.helpers import as_app_user, create_user, fails_with, rows, scalar

PASSWORD = "correct horse battery staple"
# Cheap parameters keep the test fast; the database takes any argon2id hash of the one form.
WEAK = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
SESSION = (
    "sha256('refresh'::bytea), now() + interval '1 day',"
    " gen_random_uuid(), now() + interval '1 hour'"
)
APP_USER = "select set_config('role', 'app_user', true)"


@pytest.fixture
def stored(conn: Connection) -> str:
    """Ada's account, with a hash of PASSWORD; returns the hash."""
    password_hash = WEAK.hash(PASSWORD)
    create_user(conn, "ada")
    conn.execute(
        "insert into app_private.accounts (user_id, email, password_hash)"
        " values ('ada', 'Ada@example.com', %s)",
        (password_hash,),
    )
    return password_hash


def sign_in(conn: Connection, password_hash: str, email: str = "ada@example.com") -> tuple:
    row = conn.execute(
        "select outcome, user_id, wait_seconds from app.sign_in(%s, '192.0.2.1', %s, "
        + SESSION
        + ")",
        (email, password_hash),
    ).fetchone()
    assert row is not None
    return tuple(row)


def tokens(conn: Connection) -> int:
    return scalar(conn, "select count(*) from app_private.refresh_tokens")


def failures(conn: Connection) -> int:
    return scalar(
        conn,
        "select coalesce(sum(failures), 0) from app_private.auth_failures"
        " where key = 'email:ada@example.com'",
    )


def test_no_function_hands_the_request_role_a_hash(conn: Connection, stored: str) -> None:
    parameters = accounts.parameters_of(stored)
    with as_app_user(conn) as c:
        assert scalar(c, "select app.password_parameters('ADA@example.com')") == parameters
        assert scalar(c, "select app.password_parameters('nobody@example.com')") is None
    with as_app_user(conn, "ada") as c:
        assert rows(c, "select * from app.own_account()") == [("Ada@example.com", parameters)]
    assert stored.rpartition("$")[2] not in parameters
    with as_app_user(conn) as c, fails_with(c, psycopg.errors.InsufficientPrivilege):
        c.execute("select password_hash from app_private.accounts")


def test_the_right_hash_signs_in_and_clears_the_failures(conn: Connection, stored: str) -> None:
    made = accounts.make_hash(accounts.parameters_of(stored), PASSWORD)
    assert made == stored
    with conn.transaction(force_rollback=True):
        conn.execute(APP_USER)
        assert sign_in(conn, "not the hash")[0] == "invalid"
        assert sign_in(conn, "nor this")[0] == "invalid"
        conn.execute("reset role")
        assert (tokens(conn), failures(conn)) == (0, 2)
        conn.execute(APP_USER)
        assert sign_in(conn, made) == ("ok", "ada", 0)
        assert scalar(conn, "select app.current_user_id()") is None
        conn.execute("reset role")
        assert (tokens(conn), failures(conn)) == (1, 0)
        assert rows(conn, "select user_id from app_private.refresh_tokens") == [("ada",)]


def test_a_wrong_hash_issues_nothing_and_is_counted(conn: Connection, stored: str) -> None:
    wrong = accounts.make_hash(accounts.parameters_of(stored), "wrong password")
    assert wrong is not None
    for attempt in (wrong, "", stored.upper()):
        with conn.transaction(force_rollback=True):
            conn.execute(APP_USER)
            assert sign_in(conn, attempt) == ("invalid", "ada", 0)
            conn.execute("reset role")
            assert tokens(conn) == 0
            assert failures(conn) == 1
    with as_app_user(conn) as c:  # an unknown email: the same answer, nobody to name
        assert sign_in(c, stored, "nobody@example.com") == ("invalid", None, 0)


def test_five_failures_refuse_even_the_right_hash(conn: Connection, stored: str) -> None:
    with conn.transaction(force_rollback=True):
        conn.execute(APP_USER)
        for _ in range(5):
            assert sign_in(conn, "guess")[0] == "invalid"
        outcome, user_id, wait = sign_in(conn, stored)
        assert (outcome, user_id) == ("rate_limited", None)
        assert 0 < wait <= 15 * 60
        conn.execute("reset role")
        assert tokens(conn) == 0
        assert failures(conn) == 5  # a refused attempt is not counted again


def test_the_request_role_cannot_issue_tokens_or_count_failures_itself(
    conn: Connection, stored: str
) -> None:
    with as_app_user(conn, "ada") as c:
        for call in (
            "select app_private.issue_refresh_token('ada', sha256('x'::bytea), now(), null, null)",
            "select app_private.auth_failed('ada@example.com', 'x')",
            "select app_private.hash_parameters('x')",
        ):
            with fails_with(c, psycopg.errors.InsufficientPrivilege):
                c.execute(call)
        gone = scalar(
            c,
            "select array_agg(s) filter (where to_regproc(s) is not null) from unnest(array["
            "'app.issue_refresh_token', 'app.set_password_hash', 'app.credentials_for',"
            " 'app.auth_succeeded', 'app.auth_failed']) as s",
        )
        assert gone is None


def test_a_rehash_needs_the_current_hash(conn: Connection, stored: str) -> None:
    newer = accounts.hasher.hash(PASSWORD)
    rehash = "select app.rehash_password('ada@example.com', '192.0.2.1', %s, %s)"
    with conn.transaction(force_rollback=True):
        conn.execute(APP_USER)
        assert conn.execute(rehash, ("a guess", newer)).fetchone() == (False,)
        conn.execute("reset role")
        assert scalar(conn, "select password_hash from app_private.accounts") == stored
        assert failures(conn) == 1
    with conn.transaction(force_rollback=True):
        conn.execute(APP_USER)
        assert conn.execute(rehash, (stored, newer)).fetchone() == (True,)
        conn.execute("reset role")
        assert scalar(conn, "select password_hash from app_private.accounts") == newer


@pytest.mark.parametrize(
    "password_hash",
    [
        "plain text",
        "$argon2i$v=19$m=8192,t=1,p=1$c2FsdHNhbHRzYWx0$" + "A" * 43,  # argon2i, not id
        "$argon2id$v=16$m=8192,t=1,p=1$c2FsdHNhbHRzYWx0$" + "A" * 43,  # an older version
        "$argon2id$v=19$m=8192,t=1,p=1$c2FsdA$" + "A" * 43,  # a 4-byte salt
        "$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHRzYWx0$" + "A" * 42,  # a short hash
    ],
)
def test_a_hash_of_another_form_is_refused(conn: Connection, password_hash: str) -> None:
    with as_app_user(conn) as c, fails_with(c, psycopg.errors.CheckViolation):
        c.execute(
            "select * from app.sign_up('eve@example.com', %s, null, '192.0.2.1', " + SESSION + ")",
            (password_hash,),
        )


def test_sign_up_issues_the_first_token_of_its_own_account_only(conn: Connection) -> None:
    sign_up = (
        "select outcome, id from app.sign_up('eve@example.com', %s, 'Eve', '192.0.2.1', "
        + SESSION
        + ")"
    )
    password_hash = WEAK.hash(PASSWORD)
    with conn.transaction(force_rollback=True):
        conn.execute(APP_USER)
        outcome, user_id = conn.execute(sign_up, (password_hash,)).fetchone() or (None, None)
        assert outcome == "ok"
        again = conn.execute(sign_up.replace("eve@", "EVE@"), (password_hash,)).fetchone()
        assert again == ("taken", None)
        # It wrote the user row as the new user, and leaves the transaction acting for nobody.
        assert scalar(conn, "select app.current_user_id()") is None
        conn.execute("reset role")
        assert rows(conn, "select user_id from app_private.refresh_tokens") == [(user_id,)]
        counted = "select failures from app_private.auth_failures where key = %s"
        assert scalar(conn, counted, ("email:eve@example.com",)) == 1


def test_erasure_is_confirmed_against_the_callers_own_account(
    conn: Connection, stored: str
) -> None:
    confirm = "select outcome from app.confirm_own_password(%s, '192.0.2.1')"
    with as_app_user(conn, "ada") as c:
        assert scalar(c, confirm, (stored,)) == "ok"
    with as_app_user(conn, "ada") as c:
        assert scalar(c, confirm, ("a guess",)) == "invalid"
    with as_app_user(conn, "someone else") as c:
        assert scalar(c, confirm, (stored,)) == "none"


def test_parameters_this_process_would_not_run_are_refused() -> None:
    salt = "c2FsdHNhbHRzYWx0"
    assert accounts.make_hash(f"$argon2id$v=19$m=8192,t=1,p=1${salt}", PASSWORD) is not None
    for parameters in (
        f"$argon2id$v=19$m={4 * 1024 * 1024},t=1,p=1${salt}",  # 4 GiB a hash
        f"$argon2id$v=19$m=8192,t=1000,p=1${salt}",
        f"$argon2id$v=19$m=8192,t=1,p=64${salt}",
        f"$argon2id$v=19$m=1,t=1,p=1${salt}",  # below argon2's own minimum
        "$argon2id$v=19$m=8192,t=1,p=1$!!!!!!!!!!!!",
        "",
    ):
        assert accounts.make_hash(parameters, PASSWORD) is None, parameters
