"""Does sign-in (argon2id) slow the other endpoints? Runs one wrk scenario alone, then the same
scenario while sign-in runs beside it, in rounds, and prints the medians and their ratio.

    uv run python bench/interference.py --url http://127.0.0.1:8000 --rounds 5

Both loads use --connections each (default 16) for --duration seconds (default 5), after
--warmup seconds (default 3) of each that are not measured; the background sign-in starts a
moment before the measured run and ends after it. Reads the tokens and accounts bench/seed.py
wrote to --data-dir. Exits 1 when the other scenario's p99 beside
sign-in is more than --limit (default 1.33) times its p99 alone.
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from run import WRK_SOCKET_ERRORS, warn_if_autogroup, wrk_command  # bench/run.py, beside this file


def wrk(args: argparse.Namespace, scenario: str, duration: float | None = None) -> list[str]:
    seconds = args.duration if duration is None else duration
    return wrk_command(args.wrk, args.url, scenario, args.connections, seconds, args.data_dir)


def result(output: str) -> dict[str, float]:
    """p95/p99 in ms, requests/s, and failures (4xx/5xx answers and socket errors), from the
    scenario's BENCH_RESULT line."""
    line = next(ln for ln in output.splitlines() if ln.startswith("BENCH_RESULT "))
    data = json.loads(line.removeprefix("BENCH_RESULT "))
    return {
        "p95": data["latency_us"]["p95"] / 1000,
        "p99": data["latency_us"]["p99"] / 1000,
        "rps": data["requests"] * 1e6 / data["duration_us"],
        "failures": data["non2xx"] + sum(data["errors"][name] for name in WRK_SOCKET_ERRORS),
    }


def measure(
    args: argparse.Namespace,
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    alone = subprocess.run(wrk(args, args.scenario), capture_output=True, text=True, check=True)
    time.sleep(args.pause)
    background = subprocess.Popen(wrk(args, "signin"), stdout=subprocess.PIPE, text=True)
    time.sleep(0.3)  # sign-in is under way before the measured run starts
    beside = subprocess.run(wrk(args, args.scenario), capture_output=True, text=True, check=True)
    signin, _ = background.communicate()
    time.sleep(args.pause)
    return result(alone.stdout), result(beside.stdout), result(signin)


def main() -> None:
    top = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    top.add_argument("--url", default="http://127.0.0.1:8000")
    top.add_argument("--scenario", default="get_one", help="the load measured beside sign-in")
    top.add_argument("--connections", type=int, default=16)
    top.add_argument("--duration", type=int, default=5)
    top.add_argument("--rounds", type=int, default=5)
    top.add_argument("--pause", type=float, default=2.0)
    top.add_argument("--limit", type=float, default=1.33)
    top.add_argument("--data-dir", type=Path, default=Path("bench/results"))
    top.add_argument("--wrk", default=shutil.which("wrk") or "/usr/bin/wrk")
    top.add_argument(
        "--warmup", type=int, default=3, help="seconds of each load before the first round"
    )
    args = top.parse_args()
    warn_if_autogroup()
    for scenario in (args.scenario, "signin") if args.warmup > 0 else ():
        # token and statement caches, first connections
        subprocess.run(wrk(args, scenario, args.warmup), capture_output=True, check=True)
    rows = []
    for n in range(1, args.rounds + 1):
        alone, beside, signin = measure(args)
        rows.append((alone, beside, signin))
        print(
            f"round {n}: {args.scenario} p99 {alone['p99']:.1f} ms alone, "
            f"{beside['p99']:.1f} ms beside sign-in ({beside['p99'] / alone['p99']:.2f}x); "
            f"sign-in p95 {signin['p95']:.0f} ms, {signin['rps']:.0f}/s",
            flush=True,
        )
    med = {
        "alone p99": statistics.median(a["p99"] for a, _, _ in rows),
        "beside p99": statistics.median(b["p99"] for _, b, _ in rows),
        "ratio": statistics.median(b["p99"] / a["p99"] for a, b, _ in rows),
        "alone req/s": statistics.median(a["rps"] for a, _, _ in rows),
        "beside req/s": statistics.median(b["rps"] for _, b, _ in rows),
        "sign-in p95": statistics.median(s["p95"] for _, _, s in rows),
        "sign-in req/s": statistics.median(s["rps"] for _, _, s in rows),
        "errors": sum(a["failures"] + b["failures"] + s["failures"] for a, b, s in rows),
    }
    print(f"\nmedians of {args.rounds} rounds, {args.connections} connections each:")
    print("| " + " | ".join(med) + " |")
    print("| " + " | ".join("---:" for _ in med) + " |")
    print(
        "| " + " | ".join(f"{v:.2f}" if k == "ratio" else f"{v:.0f}" for k, v in med.items()) + " |"
    )
    sys.exit(0 if med["ratio"] <= args.limit else 1)


if __name__ == "__main__":
    main()
