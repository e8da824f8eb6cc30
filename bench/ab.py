"""Compares two running builds of the service under the same wrk load, in alternating runs, so
that both see the same machine: the A/B rows in how-to/benchmark.md come from here.

    uv run python bench/ab.py --database-url URL \\
        --a http://127.0.0.1:8223 --a-pid PID --b http://127.0.0.1:8222 --b-pid PID \\
        --scenario list --connections 64 --duration 4 --runs 5

Start the two builds on the same seeded database (for instance the older one from a
`git worktree`, with DATABASE_URL set and `serve --no-migrate`). Each run measures A then B, or
B then A on odd runs, after a warm-up of each. Per build it reports the medians of requests/s,
p50 and p99 latency, and the CPU time the service (--a-pid / --b-pid and the processes below
them, PostgreSQL excluded) and PostgreSQL spent per request; then the median of the per-run
ratios B/A, which cancel the drift between runs that the medians keep.
"""

import argparse
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from run import (  # bench/run.py, beside this file
    CpuMeter,
    WrkRun,
    find_postmaster,
    judge,
    nofile_in_child,
    parse_wrk,
    warn_if_autogroup,
    wrk_command,
)


@dataclass
class Build:
    name: str
    url: str
    meter: CpuMeter
    runs: list[tuple[WrkRun, float, float]]  # the run, service and PostgreSQL ms a request


def load(args: argparse.Namespace, url: str, duration: int) -> list[str]:
    """The wrk command for --scenario against one build."""
    return wrk_command(
        args.wrk, url, args.scenario, args.connections, duration, args.data_dir, args.threads
    )


def wrk(command: list[str]) -> str:
    done = subprocess.run(
        command, capture_output=True, text=True, preexec_fn=nofile_in_child, check=True
    )
    return done.stdout


def measure(args: argparse.Namespace, build: Build, number: int) -> None:
    command = load(args, build.url, args.duration)
    run = WrkRun(args.scenario, args.connections, number, " ".join(command))
    before = build.meter.sample()
    output = wrk(command)
    after = build.meter.sample()
    parse_wrk(output, run)
    run.settled_s = 0.0  # not waited for here: --pause between runs instead
    judge(run, args.duration)
    errors = run.non2xx + sum(run.socket_errors.values())
    if errors:  # a build that fails fast would look cheap
        run.problems.append(f"{errors} non-2xx answers or socket errors")
    requests = max(run.requests, 1)
    service = 1000 * ((after.service or 0) - (before.service or 0)) / requests
    postgres = 1000 * ((after.postgres or 0) - (before.postgres or 0)) / requests
    build.runs.append((run, service, postgres))
    print(
        f"run {number} {build.name}: {run.rps:,.0f} req/s, p99 {run.p99_ms:.1f} ms, "
        f"service {service:.3f} ms/request, PostgreSQL {postgres:.3f} ms/request"
        + (f"; problems: {'; '.join(run.problems)}" if run.problems else ""),
        flush=True,
    )
    time.sleep(args.pause)


def report(a: Build, b: Build) -> None:
    median = statistics.median
    columns = ("req/s", "p50 ms", "p99 ms", "service ms/request", "PostgreSQL ms/request")
    print(f"\n| build | {' | '.join(columns)} |")
    print("| --- |" + " ---: |" * len(columns))
    for build in (a, b):
        values = (
            median(r.rps for r, _, _ in build.runs),
            median(r.p50_ms for r, _, _ in build.runs),
            median(r.p99_ms for r, _, _ in build.runs),
            median(s for _, s, _ in build.runs),
            median(p for _, _, p in build.runs),
        )
        cells = [f"{values[0]:,.0f}", *(f"{v:.1f}" for v in values[1:3])]
        cells += [f"{v:.3f}" for v in values[3:]]
        print(f"| {build.name} | {' | '.join(cells)} |")
    pairs = list(zip(a.runs, b.runs, strict=True))
    rps = [rb.rps / ra.rps for (ra, _, _), (rb, _, _) in pairs if ra.rps]
    cpu = [sb / sa for (_, sa, _), (_, sb, _) in pairs if sa]
    if not rps or not cpu:
        print("\nB/A: no run of A completed requests with CPU measured")
        return
    print(
        f"\nB/A, median of {len(pairs)} paired runs: req/s {median(rps):.2f} "
        f"(runs {min(rps):.2f}-{max(rps):.2f}), service CPU a request {median(cpu):.2f}"
    )


def main() -> None:
    top = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    top.add_argument("--database-url", required=True, help="to find PostgreSQL's processes")
    for side in ("a", "b"):
        top.add_argument(f"--{side}", required=True, help=f"build {side.upper()}'s URL")
        top.add_argument(f"--{side}-pid", type=int, required=True, help="its server's pid")
        top.add_argument(f"--{side}-name", default=side.upper())
    top.add_argument("--scenario", default="list")
    top.add_argument("--connections", type=int, default=64)
    top.add_argument("--duration", type=int, default=4)
    top.add_argument("--runs", type=int, default=5)
    top.add_argument("--threads", type=int, default=2)
    top.add_argument("--warmup", type=int, default=2)
    top.add_argument("--pause", type=float, default=1.0)
    top.add_argument("--data-dir", type=Path, default=Path("bench/results"))
    top.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    args = top.parse_args()
    warn_if_autogroup()
    postmaster = find_postmaster(args.database_url)
    a, b = (
        Build(
            getattr(args, f"{side}_name"),
            getattr(args, side).rstrip("/"),
            CpuMeter(getattr(args, f"{side}_pid"), postmaster),
            [],
        )
        for side in ("a", "b")
    )
    for build in (a, b):
        wrk(load(args, build.url, args.warmup))
    for number in range(1, args.runs + 1):
        for build in (a, b) if number % 2 else (b, a):
            measure(args, build, number)
    report(a, b)


if __name__ == "__main__":
    main()
