"""Passwords as the database checks them, as raw SQL in the request role sees it: no function
hands out a hash; every comparison was counted in a transaction that committed before it, so
rolling back hides no guess; a refresh token is issued, a failure count cleared and a hash
replaced only for the hash of the right password; the limit refuses even the right one; the
request role cannot reach the helpers that write tokens and counts."""

from collections.abc import Iterator
from uuid import UUID

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
    "sha256(gen_random_uuid()::text::bytea), now() + interval '1 day',"
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


@pytest.fixture
def app_user(conn: Connection, stored: str) -> Iterator[Connection]:
    """The connection in the request role once Ada's account is stored, committing: each call
    below is its own transaction, as the API's are."""
    conn.autocommit = True
    conn.execute("set role app_user")
    yield conn
    conn.execute("reset role")


def attempt(conn: Connection, password_hash: str, email: str = "ada@example.com") -> UUID | None:
    row = conn.execute(
        "select attempt_id from app.sign_in_attempt(%s, '192.0.2.1', %s)", (email, password_hash)
    ).fetchone()
    assert row is not None
    return row[0]


def sign_in(conn: Connection, attempt_id: UUID | None, new_hash: str | None = None) -> tuple:
    row = conn.execute(
        "select outcome, user_id from app.sign_in(%s, %s, " + SESSION + ", 'ua', 'rq')",
        (attempt_id, new_hash),
    ).fetchone()
    assert row is not None
    return tuple(row)


def as_owner(conn: Connection, query: psycopg.sql.Composable | str) -> object:
    conn.execute("reset role")
    try:
        return scalar(conn, query)  # type: ignore[arg-type]
    finally:
        conn.execute("set role app_user")


def tokens(conn: Connection) -> object:
    return as_owner(conn, "select count(*) from app_private.refresh_tokens")


def failures(conn: Connection, key: str = "email:ada@example.com") -> object:
    return as_owner(
        conn,
        psycopg.sql.SQL(
            "select coalesce(sum(failures), 0) from app_private.auth_failures where key = {}"
        ).format(key),
    )


def right(stored: str) -> str:
    made = accounts.make_hash(accounts.parameters_of(stored), PASSWORD)
    assert made == stored
    return made


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


def test_the_right_hash_signs_in_and_takes_the_counts_back(
    app_user: Connection, stored: str
) -> None:
    assert sign_in(app_user, attempt(app_user, "not the hash")) == ("invalid", None)
    assert failures(app_user) == 1
    assert sign_in(app_user, attempt(app_user, right(stored))) == ("ok", "ada")
    assert (tokens(app_user), failures(app_user)) == (1, 0)
    assert failures(app_user, "client:192.0.2.1") == 1  # the wrong guess's, not the sign-in's
    assert scalar(app_user, "select app.current_user_id()") is None


def test_a_comparison_is_counted_before_it_runs(conn: Connection, stored: str) -> None:
    """Rolling back an attempt, or comparing it in the transaction that made it, compares
    nothing; rolling back the comparison leaves the count."""
    with conn.transaction(force_rollback=True):
        conn.execute(APP_USER)
        same_transaction = attempt(conn, right(stored))
        assert sign_in(conn, same_transaction) == ("invalid", None)
        conn.execute("savepoint nested")
        assert sign_in(conn, attempt(conn, right(stored))) == ("invalid", None)
    conn.autocommit = True
    conn.execute(APP_USER)
    assert sign_in(conn, same_transaction) == ("invalid", None)  # rolled back: gone
    guess = attempt(conn, "a guess")
    with conn.transaction(force_rollback=True):
        assert sign_in(conn, guess) == ("invalid", None)
    conn.execute("reset role")
    counted = "select failures from app_private.auth_failures where key = 'email:ada@example.com'"
    assert scalar(conn, counted) == 1
    assert scalar(conn, "select count(*) from app_private.refresh_tokens") == 0


def test_an_attempt_is_compared_once(app_user: Connection, stored: str) -> None:
    taken = attempt(app_user, right(stored))
    assert sign_in(app_user, taken) == ("ok", "ada")
    assert sign_in(app_user, taken) == ("invalid", None)
    assert sign_in(app_user, None) == ("invalid", None)
    assert tokens(app_user) == 1


def test_five_attempts_then_even_the_right_hash_waits(app_user: Connection, stored: str) -> None:
    for _ in range(5):
        assert sign_in(app_user, attempt(app_user, "guess")) == ("invalid", None)
    row = app_user.execute(
        "select attempt_id, wait_seconds from app.sign_in_attempt('ada@example.com', 'x', %s)",
        (right(stored),),
    ).fetchone()
    assert row is not None
    assert row[0] is None
    assert 0 < row[1] <= 15 * 60
    assert tokens(app_user) == 0


def test_a_wrong_hash_is_audited_against_the_account_it_named(
    app_user: Connection, stored: str
) -> None:
    assert sign_in(app_user, attempt(app_user, "guess")) == ("invalid", None)
    assert sign_in(app_user, attempt(app_user, "guess", "nobody@example.com")) == ("invalid", None)
    app_user.execute("reset role")
    assert rows(
        app_user, "select event, user_id, user_agent from app.audit_events order by id"
    ) == [("sign_in_failed", "ada", "ua"), ("sign_in_failed", None, "ua")]


def test_a_new_hash_is_stored_only_with_the_right_one(app_user: Connection, stored: str) -> None:
    newer = accounts.hasher.hash(PASSWORD)
    assert sign_in(app_user, attempt(app_user, "guess"), newer) == ("invalid", None)
    assert as_owner(app_user, "select password_hash from app_private.accounts") == stored
    assert sign_in(app_user, attempt(app_user, right(stored)), newer) == ("ok", "ada")
    assert as_owner(app_user, "select password_hash from app_private.accounts") == newer


def test_an_attempt_made_before_an_upgrade_is_stale(app_user: Connection, stored: str) -> None:
    """Two devices sign in at once after the parameters changed: the second compares nothing,
    and starts over; the first's success cleared both counts."""
    first, second = attempt(app_user, right(stored)), attempt(app_user, right(stored))
    assert sign_in(app_user, first, accounts.hasher.hash(PASSWORD)) == ("ok", "ada")
    assert sign_in(app_user, second) == ("stale", None)
    assert failures(app_user) == 0
    assert failures(app_user, "client:192.0.2.1") == 0


def test_the_request_role_cannot_issue_tokens_or_count_itself(
    conn: Connection, stored: str
) -> None:
    with as_app_user(conn, "ada") as c:
        for call in (
            "select app_private.issue_refresh_token('ada', sha256('x'::bytea), now(), null, null)",
            "select app_private.count_attempt('ada@example.com', 'x')",
            "select app_private.count_failure('email:ada@example.com')",
            "select app_private.take_attempt(gen_random_uuid())",
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
        with fails_with(c, psycopg.errors.InsufficientPrivilege):
            c.execute("select * from app_private.sign_in_attempts")


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


def test_erasure_needs_a_counted_attempt_of_the_callers_own_password(
    app_user: Connection, stored: str
) -> None:
    erase = "select app.erase_account(%s, null, null, 'x', 'ua', 'rq')"
    app_user.execute("select set_config('app.user_id', 'ada', false)")
    try:
        for refused in (
            None,
            attempt(app_user, "a guess"),
            attempt(app_user, right(stored), "eve@x.org"),
        ):
            with fails_with(app_user, "PT403"):
                app_user.execute(erase, (refused,))
        with app_user.transaction(force_rollback=True):  # the attempt is the transaction's own
            fresh = attempt(app_user, right(stored))
            with fails_with(app_user, "PT403"):
                app_user.execute(erase, (fresh,))
        app_user.execute(erase, (attempt(app_user, right(stored)),))
    finally:
        app_user.execute("select set_config('app.user_id', '', false)")
    assert as_owner(app_user, "select count(*) from app.users where id = 'ada'") == 0


def test_parameters_this_process_would_not_run_are_refused() -> None:
    salt = "c2FsdHNhbHRzYWx0"
    assert accounts.make_hash(f"$argon2id$v=19$m=8192,t=1,p=1${salt}", PASSWORD) is not None
    memory, passes = 4 * accounts.hasher.memory_cost + 1, 4 * accounts.hasher.time_cost + 1
    most_memory, most_passes = accounts.MAX_MEMORY_KIB, accounts.MAX_TIME_COST
    for parameters in (
        f"$argon2id$v=19$m={memory},t=1,p=1${salt}",
        f"$argon2id$v=19$m=8192,t={passes},p=1${salt}",
        f"$argon2id$v=19$m={most_memory},t={most_passes},p=1${salt}",  # 16 hashes' work
        f"$argon2id$v=19$m=8192,t=1,p={accounts.hasher.parallelism + 1}${salt}",
        f"$argon2id$v=19$m=8192,t=1,p=1${'A' * 87}",  # a salt over 64 bytes
        f"$argon2id$v=19$m=8192,t=1,p=1${'A' * 5_000_000}",
        f"$argon2id$v=19$m={'0' * 200}8192,t=1,p=1${salt}",
        f"$argon2id$v=19$m=1,t=1,p=1${salt}",  # below argon2's own minimum
        "$argon2id$v=19$m=8192,t=1,p=1$!!!!!!!!!!!!",
        "",
    ):
        assert accounts.make_hash(parameters, PASSWORD) is None, parameters


def test_another_collation_does_not_give_an_account_another_limit(
    app_user: Connection, stored: str
) -> None:
    """lower() under "C" leaves 'İ' as it is, where the database's collation may lower it to
    'i': the key is made under the database's collation, whatever the argument carries."""
    variant = "İsa@example.com"
    lowered = scalar(app_user, "select lower(%s::text)", (variant,))
    for _ in range(3):
        app_user.execute("select app.sign_in_attempt(%s collate \"C\", 'x', 'guess')", (variant,))
    key = "email:" + lowered
    assert failures(app_user, key) == 3
    assert failures(app_user, "email:" + variant) in (0, 3)  # the same key, or none of its own
    assert lowered == variant or failures(app_user, "email:" + variant) == 0


def test_an_empty_email_locks_nobody_else_out(app_user: Connection, stored: str) -> None:
    for _ in range(6):
        app_user.execute("select app.sign_in_attempt('', 'x', 'y')")
    assert sign_in(app_user, attempt(app_user, right(stored))) == ("ok", "ada")
