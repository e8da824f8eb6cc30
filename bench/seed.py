"""Seeds a database for the benchmarks, set-based, and writes the tokens wrk sends.

    uv run python bench/seed.py --database-url URL --secret S [--users 10000]
        [--tasks-per-user 100] [--big-users 1000,10000] [--big-per-size 3]
        [--write-users 1000] [--delete-pool 100000] [--order clustered|interleaved]
        [--tokens bench/results/tokens.txt] [--expires-in 24] [--reset]

Migrates first (api.database.migrate.migrate, the path deploys take), then inserts with
`insert ... select ... from generate_series` in one transaction, as the URL's role. That role must
bypass row-level security (a superuser, or `bypassrls`): the policies admit only app_user, and
nothing is disabled here. Then `vacuum (analyze)` on both tables, so that every run starts from
fresh statistics, set hint bits and a current visibility map.

Users (ids sort in creation order):
  bench-user-00001 ...         --users of them, --tasks-per-user tasks each (list, get_one, ...)
  bench-big-<size>-<k>         --big-per-size of them per size in --big-users (list_1000, ...)
  bench-write-00001 ...        --write-users of them: create adds to them, delete takes from them

Files, next to --tokens (bench/results/ by default; keep them out of git, they hold live tokens):
  tokens.txt           one token per line, the normal users in id order
  tokens-<size>.txt    the big users of each size
  tokens-write.txt     the write users
  tasks.txt            token<TAB>task_id, one task of each normal user (get_one, update, toggle)
  delete-pool.txt      token<TAB>task_id, tasks of the write users for delete to consume; run.py
                       refills it (refill_delete_pool) before every delete run

Run again with the same layout, it seeds nothing and only writes fresh tokens; with another
layout it refuses unless --reset (which truncates app.tasks and app.users, all users, and with
them every table that references app.users: accounts, refresh tokens; a bench database only).
"""

import argparse
import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import jwt
import psycopg
from psycopg.rows import TupleRow

from api.database.migrate import migrate
from api.identity import accounts

ID_WIDTH = 5  # bench-user-00001; pgbench/list.sql formats ids the same way
MAX_USERS = 10**ID_WIDTH - 1
RESULTS = Path(__file__).resolve().parent / "results"


def user_id(kind: str, n: int) -> str:
    return f"bench-{kind}-{n:0{ID_WIDTH}d}"


def big_user_id(size: int, k: int) -> str:
    return f"bench-big-{size}-{k}"


@dataclass(frozen=True)
class Layout:
    users: int
    tasks_per_user: int
    big_sizes: tuple[int, ...]
    big_per_size: int
    write_users: int
    order: str = "clustered"

    def expected_counts(self) -> dict[str, tuple[int, int]]:
        """Kind of user -> (users, tasks), as counted by COUNT_BY_KIND."""
        counts = {
            "user": (self.users, self.users * self.tasks_per_user),
            "write": (self.write_users, -1),  # their tasks come and go
        }
        for size in self.big_sizes:
            counts[f"big-{size}"] = (self.big_per_size, self.big_per_size * size)
        return counts


COUNT_BY_KIND = """
select kind, count(*)::int, coalesce(sum(tasks), 0)::int
  from (select u.id,
               case when u.id like 'bench-big-%'
                    then regexp_replace(u.id, '^bench-(big-[0-9]+)-[0-9]+$', '\\1')
                    else split_part(u.id, '-', 2) end as kind,
               (select count(*) from app.tasks as t where t.user_id = u.id) as tasks
          from app.users as u
         where u.id like 'bench-%') as s
 group by kind
"""

INSERT_USERS = """
insert into app.users (id)
select format('bench-%%s-%%s', %(kind)s::text, lpad(n::text, %(width)s, '0'))
  from generate_series(1, %(count)s) as n
"""

# {order} is "u, t" (clustered: a user's tasks are adjacent in the heap, as if each user wrote
# them in one go) or "t, u" (interleaved: consecutive ids belong to different users, as when
# many users write over time, so a user's list touches one heap page per task). Every third task
# has no description and every fourth is completed, so the JSON looks like a real list; a
# description is about 70 characters.
INSERT_TASKS = """
insert into app.tasks (user_id, title, description, completed, priority, due_at,
                       due_all_day, tags, position)
select format('bench-%%s-%%s', %(kind)s::text, lpad(u::text, %(width)s, '0')),
       format('Task %%s of user %%s', t, u),
       case when t %% 3 <> 0
            then 'Seeded by bench/seed.py; ' || md5(u::text || '/' || t::text) end,
       t %% 4 = 0,
       nullif(t %% 4, 0), -- 0008's fields, spread: a priority, a due day, tags, a position
       case when t %% 5 <> 0 then timestamptz '2026-01-01' + (t %% 365) * interval '1 day' end,
       t %% 5 <> 0,
       case t %% 3 when 0 then '{{work}}'::text[] when 1 then '{{home,errands}}' else '{{}}' end,
       t %% 1000
  from generate_series(1, %(users)s) as u, generate_series(1, %(tasks)s) as t
 order by {order}
"""
ORDERS = {"clustered": "u, t", "interleaved": "t, u"}

INSERT_BIG_USERS = """
insert into app.users (id)
select format('bench-big-%%s-%%s', %(size)s::int, k) from generate_series(1, %(count)s) as k
"""

INSERT_BIG_TASKS = """
insert into app.tasks (user_id, title, description, completed, priority, due_at,
                       due_all_day, tags, position)
select format('bench-big-%%s-%%s', %(size)s::int, k),
       format('Task %%s of big user %%s', t, k),
       case when t %% 3 <> 0
            then 'Seeded by bench/seed.py; ' || md5(k::text || '/' || t::text) end,
       t %% 4 = 0,
       nullif(t %% 4, 0),
       case when t %% 5 <> 0 then timestamptz '2026-01-01' + (t %% 365) * interval '1 day' end,
       t %% 5 <> 0,
       case t %% 3 when 0 then '{work}'::text[] when 1 then '{home,errands}' else '{}' end,
       t %% 1000
  from generate_series(1, %(count)s) as k, generate_series(1, %(size)s) as t
 order by k, t
"""

# One task of each normal user, spread over their list by a hash of the id.
PICK_TASKS = """
select user_id, id
  from (select t.user_id, t.id,
               row_number() over (partition by t.user_id order by t.id) as rn,
               count(*) over (partition by t.user_id) as n
          from app.tasks as t
         where t.user_id like 'bench-user-%') as s
 where rn = 1 + (hashtext(user_id)::bigint & 2147483647) % n
 order by user_id
"""

CLEAR_WRITE_TASKS = "delete from app.tasks as t where t.user_id like 'bench-write-%'"

# Round-robin over the write users, so consecutive lines of delete-pool.txt are different users.
INSERT_DELETE_POOL = """
insert into app.tasks (user_id, title, description)
select format('bench-write-%%s', lpad((1 + (n - 1) %% %(users)s)::text, %(width)s, '0')),
       format('Deletable task %%s', n), 'Seeded by bench/seed.py for the delete scenario'
  from generate_series(1, %(rows)s) as n
returning user_id, id
"""


@contextmanager
def step(name: str) -> Iterator[None]:
    print(f"{name} ...", end="", flush=True)
    start = time.perf_counter()
    yield
    print(f" {time.perf_counter() - start:.1f} s", flush=True)


def make_token(sub: str, secret: str, expires_in: int, *, token_id: bool = False) -> str:
    """An HS256 JWT for `sub`; with `token_id`, a `jti` as the API's own access tokens carry,
    which makes every request check it against the revocations (app.begin_request)."""
    claims: dict[str, object] = {"sub": sub, "exp": int(time.time()) + expires_in}
    if token_id:
        claims["jti"] = str(uuid.uuid4())
    return jwt.encode(claims, secret, algorithm="HS256")


def write_lines(path: Path, lines: list[str]) -> None:
    """Written beside, then renamed: wrk never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text("".join(f"{line}\n" for line in lines))
    partial.chmod(0o600)
    partial.replace(path)


def read_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line]


def check_can_seed(conn: psycopg.Connection[TupleRow]) -> None:
    row = conn.execute(
        "select rolsuper or rolbypassrls from pg_roles where rolname = current_user"
    ).fetchone()
    if row is None or not row[0]:
        sys.exit(
            "seed.py: the URL's role must be a superuser or have bypassrls: it writes "
            "app.users and app.tasks directly, and the policies admit only app_user"
        )


def existing_counts(conn: psycopg.Connection[TupleRow]) -> dict[str, tuple[int, int]]:
    return {kind: (users, tasks) for kind, users, tasks in conn.execute(COUNT_BY_KIND).fetchall()}


def matches(found: dict[str, tuple[int, int]], layout: Layout) -> bool:
    expected = layout.expected_counts()
    if found.keys() != {kind for kind, (users, _) in expected.items() if users > 0}:
        return False
    return all(
        found[kind][0] == users and tasks in (-1, found[kind][1])
        for kind, (users, tasks) in expected.items()
        if users > 0
    )


def seed(conn: psycopg.Connection[TupleRow], layout: Layout) -> None:
    with conn.transaction():
        with step(f"users: {layout.users} normal, {layout.write_users} write"):
            for kind, count in (("user", layout.users), ("write", layout.write_users)):
                conn.execute(INSERT_USERS, {"kind": kind, "width": ID_WIDTH, "count": count})
        total = layout.users * layout.tasks_per_user
        with step(f"tasks: {layout.users} x {layout.tasks_per_user} = {total}, {layout.order}"):
            conn.execute(
                INSERT_TASKS.format(order=ORDERS[layout.order]),
                {
                    "kind": "user",
                    "width": ID_WIDTH,
                    "users": layout.users,
                    "tasks": layout.tasks_per_user,
                },
            )
        for size in layout.big_sizes:
            with step(f"big users: {layout.big_per_size} x {size} tasks"):
                params = {"size": size, "count": layout.big_per_size}
                conn.execute(INSERT_BIG_USERS, params)
                conn.execute(INSERT_BIG_TASKS, params)


def vacuum_analyze(database_url: str) -> None:
    with (
        step("vacuum (analyze) app.users, app.tasks"),
        psycopg.connect(database_url, autocommit=True) as conn,
    ):
        conn.execute("vacuum (analyze) app.users, app.tasks")


def refill_delete_pool(database_url: str, results: Path, rows: int) -> int:
    """Replaces every task of the write users with `rows` fresh ones and writes
    delete-pool.txt (token<TAB>task_id); returns the number of lines. run.py calls this before
    each delete run, so no run deletes what an earlier one already did."""
    tokens = read_lines(results / "tokens-write.txt")
    with psycopg.connect(database_url, autocommit=True) as conn, conn.transaction():
        conn.execute(CLEAR_WRITE_TASKS)
        created = conn.execute(
            INSERT_DELETE_POOL, {"users": len(tokens), "width": ID_WIDTH, "rows": rows}
        ).fetchall()
    token_of = {user_id("write", n): token for n, token in enumerate(tokens, start=1)}
    write_lines(
        results / "delete-pool.txt", [f"{token_of[str(uid)]}\t{tid}" for uid, tid in created]
    )
    return len(created)


def write_tokens(
    database_url: str,
    layout: Layout,
    tokens_path: Path,
    secret: str,
    ttl: int,
    *,
    token_ids: bool,
) -> None:
    results = tokens_path.parent

    def token(sub: str) -> str:
        return make_token(sub, secret, ttl, token_id=token_ids)

    with step("tokens"):
        normal = [token(user_id("user", n)) for n in range(1, layout.users + 1)]
        write_lines(tokens_path, normal)
        for size in layout.big_sizes:
            ids = [big_user_id(size, k) for k in range(1, layout.big_per_size + 1)]
            write_lines(results / f"tokens-{size}.txt", [token(i) for i in ids])
        writers = [token(user_id("write", n)) for n in range(1, layout.write_users + 1)]
        write_lines(results / "tokens-write.txt", writers)
    with step("tasks.txt: one task per normal user"), psycopg.connect(database_url) as conn:
        picked = conn.execute(PICK_TASKS).fetchall()
        token_of = {user_id("user", n): token for n, token in enumerate(normal, start=1)}
        write_lines(results / "tasks.txt", [f"{token_of[str(uid)]}\t{tid}" for uid, tid in picked])


BENCH_PASSWORD = "bench password 1234"  # bench/scenarios/signin.lua sends it


def seed_accounts(database_url: str, results: Path, count: int) -> None:
    """Built-in accounts for the sign-in scenario, bench-account-NNNNN@example.com, all with
    BENCH_PASSWORD; one argon2id hash serves them all (the API verifies each sign-in in full)."""
    password_hash = accounts.hasher.hash(BENCH_PASSWORD)
    with psycopg.connect(database_url) as conn, conn.transaction():
        conn.execute(
            "insert into app.users (id, email, name)"
            " select 'bench-account-' || lpad(n::text, 5, '0'),"
            "        'bench-account-' || lpad(n::text, 5, '0') || '@example.com', 'Bench'"
            "   from generate_series(1, %(count)s) as n"
            " on conflict (id) do nothing",
            {"count": count},
        )
        conn.execute(
            "insert into app_private.accounts (user_id, email, password_hash)"
            " select u.id, u.email, %(hash)s from app.users as u"
            "  where u.id like 'bench-account-%%'"
            " on conflict (user_id) do update set password_hash = excluded.password_hash",
            {"hash": password_hash},
        )
        conn.execute("delete from app_private.auth_failures")
    emails = [f"bench-account-{n:05d}@example.com" for n in range(1, count + 1)]
    write_lines(results / "accounts.txt", emails)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    top = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    top.add_argument("--database-url", required=True, help="a role that may migrate and bypass RLS")
    top.add_argument(
        "--secret",
        default=os.environ.get("BETTER_AUTH_SECRET"),
        help="the service's BETTER_AUTH_SECRET (default: that environment variable)",
    )
    top.add_argument("--users", type=int, default=10_000)
    top.add_argument("--tasks-per-user", type=int, default=100)
    top.add_argument(
        "--big-users", default="1000,10000", help="task counts of the big users, comma-separated"
    )
    top.add_argument("--big-per-size", type=int, default=3, help="big users of each size")
    top.add_argument("--write-users", type=int, default=1000, help="users create/delete write to")
    top.add_argument("--accounts", type=int, default=1000, help="built-in accounts for signin")
    top.add_argument(
        "--delete-pool", type=int, default=100_000, help="tasks for the delete scenario"
    )
    top.add_argument(
        "--order",
        choices=sorted(ORDERS),
        default="clustered",
        help="heap order of the normal users' tasks (default: clustered by user)",
    )
    top.add_argument("--tokens", type=Path, default=RESULTS / "tokens.txt")
    top.add_argument("--expires-in", type=float, default=24, help="token lifetime in hours")
    top.add_argument(
        "--token-ids",
        action="store_true",
        help="give every token a jti, as the API's own access tokens have: each request then "
        "checks it against the revocations (default: sub and exp only)",
    )
    top.add_argument(
        "--reset",
        action="store_true",
        help="first truncate app.tasks and app.users (all users), cascading to the tables that "
        "reference app.users",
    )
    args = top.parse_args(argv)
    if not args.secret:
        top.error("--secret (or BETTER_AUTH_SECRET) is required")
    if not 1 <= args.users <= MAX_USERS or not 1 <= args.write_users <= MAX_USERS:
        top.error(f"--users and --write-users must be between 1 and {MAX_USERS}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    layout = Layout(
        users=args.users,
        tasks_per_user=args.tasks_per_user,
        big_sizes=tuple(int(size) for size in args.big_users.split(",") if size.strip()),
        big_per_size=args.big_per_size,
        write_users=args.write_users,
        order=args.order,
    )
    url: str = args.database_url
    started = time.perf_counter()
    with step("migrate"):
        migrate(url)
    with psycopg.connect(url, autocommit=True) as conn:
        check_can_seed(conn)
        if args.reset:
            with step("reset: truncate app.tasks, app.users"):
                conn.execute("truncate app.tasks, app.users restart identity cascade")
        with step("count existing bench users"):
            found = existing_counts(conn)
        if not found:
            seed(conn, layout)
            fresh = True
        elif matches(found, layout):
            print("already seeded with this layout: writing fresh tokens only")
            fresh = False
        else:
            sys.exit(
                f"seed.py: the database holds another bench layout {found} (kind: users, tasks); "
                "run with --reset to truncate app.tasks and app.users and seed again"
            )
    ttl = int(args.expires_in * 3600)
    write_tokens(url, layout, args.tokens, args.secret, ttl, token_ids=args.token_ids)
    with step(f"delete pool: {args.delete_pool} tasks of the write users"):
        refill_delete_pool(url, args.tokens.parent, args.delete_pool)
    with step(f"accounts: {args.accounts} built-in accounts for the signin scenario"):
        seed_accounts(url, args.tokens.parent, args.accounts)
    if fresh:
        vacuum_analyze(url)
    with psycopg.connect(url) as conn:
        row = conn.execute("select count(*) from app.tasks").fetchone()
    rows = row[0] if row else 0
    print(f"done in {time.perf_counter() - started:.1f} s: app.tasks holds {rows} rows")
    print(f"tokens in {args.tokens.parent}/ (expire in {args.expires_in:g} h; keep out of git)")


if __name__ == "__main__":
    main()
