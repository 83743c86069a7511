"""The benchmark of issue 7, in one run: `make bench` (scripts/bench.sh) calls this.

1. Two PostgreSQL databases of generated data, `imca_bench_s1` and `imca_bench_s10`
   (created, migrated and filled by `generate_national` on the first run, reused after).
2. The sweep over every advocate at scale 10, timed against a plain read of the same
   facts (the sweep's selects without the rules), each in a fresh process so that peak
   memory (ru_maxrss) is the sweep's own. The day's flags and snapshots are cleared first,
   so every run measures a first sweep of the day.
3. gunicorn (2 sync workers, production settings) on each database, and wrk for 10 s per
   URL (a0, a1, b, c, d, e), logged in by session cookie or API token; queries per
   request come from Django's test client on the same data.
4. Issue 13's cold rows (scripts/bench_cold.py): a1, the dashboard with an empty cache
   and after one write, the national view and the largest matrix with an empty cache,
   in-process with the test client, median of five (a1 sampled next to each row).
5. Issue 15's spreadsheet rows (scripts/bench_imports.py) at scale 1: the import of
   10,000 training records against a plain bulk_create of the same rows in the same
   run, the peak memory of 100,000 rows, the 20,000-advocate matrix as XLSX and ODS.
6. The table, printed and written to docs/benchmarks.md.

Figures are for reading, not for asserting: these machines are noisy.
"""

from __future__ import annotations

import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DURATION = os.environ.get("BENCH_DURATION", "10s")
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "4"))
SCALES = [int(s) for s in os.environ.get("BENCH_SCALES", "1,10").split(",")]
BIG = max(SCALES)
OUT = ROOT / "docs" / "benchmarks.md"
LUA = """
done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"p50\\": %f, \\"p95\\": %f, \\"requests\\": %d, \\"errors\\": %d}\\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout))
end
"""
NAMES = {
    "a0": "a0 bare SELECT 1, no middleware (ceiling)",
    "a1": "a1 logged-in view, whole middleware, one query (floor)",
    "b": "b commissioner dashboard",
    "c": "c provider training matrix",
    "d": "d API advocates list (50)",
    "e": "e API one advocate's compliance",
}

# Issue 13's cold rows and their targets (x a1, timed the same way in the same run).
COLD_NAMES = {
    "a1": "a1 logged-in view, one query",
    "b_cold": "b dashboard, empty cache",
    "b_after_write": "b dashboard after one write at one of its providers",
    "write": "the one write itself, with what it recomputes on commit (no target)",
    "b_no_standings": "b dashboard, empty cache, no stored standings (no target)",
    "national_cold": "national view (every provider), empty cache",
    "c_cold": "c largest provider's training matrix, empty cache",
}
COLD_TARGETS = {"b_cold": 50, "b_after_write": 10, "national_cold": 500, "c_cold": 10}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def db_url(scale: int) -> str:
    return f"{PG}/imca_bench_s{scale}"


def base_env(scale: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        DATABASE_URL=db_url(scale),
        DJANGO_SETTINGS_MODULE="imca_commissioning.settings",
        PYTHONPATH=str(ROOT),
    )
    return env


def prod_env(scale: int) -> dict[str, str]:
    env = base_env(scale)
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(48),
        ALLOWED_HOSTS="127.0.0.1,testserver",
        SECURE_SSL_REDIRECT="false",  # plain HTTP on loopback; everything else as deployed
        BENCHMARK_VIEWS="true",
        CONN_MAX_AGE="600",
    )
    if os.environ.get("BENCH_CACHE_URL"):
        env["CACHE_URL"] = os.environ["BENCH_CACHE_URL"]
    return env


def run(cmd: list[str], env: dict[str, str], **kw) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(cmd, env=env, cwd=ROOT, text=True, check=True, **kw)


def prepare(scale: int) -> None:
    name = f"imca_bench_s{scale}"
    exists = subprocess.run(
        ["psql", PG + "/postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{name}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["psql", PG + "/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    env = base_env(scale)
    run([PY, "manage.py", "migrate", "--noinput", "-v", "0"], env)
    started = time.monotonic()
    run([PY, "manage.py", "generate_national", "--scale", str(scale), "--if-present"], env)
    log(f"scale {scale} data ready ({time.monotonic() - started:.0f} s)")


def sweep_figures(scale: int) -> dict[str, float]:
    env = base_env(scale)
    out = {}
    for mode in ("read", "sweep"):
        res = run([PY, "scripts/bench_sweep.py", mode], env, capture_output=True)
        out[mode] = json.loads(res.stdout.strip().splitlines()[-1])
        log(f"{mode}: {out[mode]}")
    return {
        "read_s": out["read"]["seconds"],
        "sweep_s": out["sweep"]["seconds"],
        "ratio": out["sweep"]["seconds"] / out["read"]["seconds"],
        "peak_mb": out["sweep"]["peak_mb"],
        "read_peak_mb": out["read"]["peak_mb"],
        "advocates": out["sweep"]["advocates"],
        "flags": out["sweep"].get("flags", 0),
    }


def cold_figures(scale: int) -> dict:  # type: ignore[type-arg]
    """Issue 13's cold rows (scripts/bench_cold.py), in-process, production settings."""
    res = run([PY, "scripts/bench_cold.py"], prod_env(scale), capture_output=True)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    log(f"cold: {out}")
    return out  # type: ignore[no-any-return]


# Issue 15's rows (scripts/bench_imports.py), each measurement in its own process.
SHEET_RUNS = {
    "import": ["import", "10000"],
    "bulk": ["bulk", "10000"],
    "import_100k": ["import", "100000"],
    "export_xlsx": ["export", "20000"],
    "export_ods": ["export-ods", "20000"],
}


def spreadsheet_figures(scale: int) -> dict:  # type: ignore[type-arg]
    """Import of 10,000 training records against a plain bulk_create of the same rows (in
    the same run), 100,000 rows' peak memory, and the 20,000-advocate matrix's XLSX/ODS."""

    def once(args: list[str]) -> dict:  # type: ignore[type-arg]
        res = run([PY, "scripts/bench_imports.py", *args], base_env(scale), capture_output=True)
        figure = json.loads(res.stdout.strip().splitlines()[-1])
        log(f"spreadsheets {' '.join(args)}: {figure}")
        return figure  # type: ignore[no-any-return]

    out = {}
    # The import and its bulk_create alternate, three times each: the median of each
    # (this machine's load moves either by half from one run to the next).
    pairs = [(once(SHEET_RUNS["import"]), once(SHEET_RUNS["bulk"])) for _ in range(3)]
    for index, key in enumerate(("import", "bulk")):
        out[key] = sorted((p[index] for p in pairs), key=lambda f: f["seconds"])[1]
    for key in ("import_100k", "export_xlsx", "export_ods"):
        out[key] = once(SHEET_RUNS[key])
    return out


def spreadsheet_lines(sheets: dict) -> list[str]:  # type: ignore[type-arg]
    """The spreadsheets section of docs/benchmarks.md."""
    imp, bulk, big = sheets["import"], sheets["bulk"], sheets["import_100k"]
    xlsx, ods = sheets["export_xlsx"], sheets["export_ods"]
    return [
        "",
        "## Spreadsheets at scale 1 (issue 15)",
        "",
        "| figure (import and bulk_create: median of three, alternated) | seconds | peak MB |",
        "| --- | ---: | ---: |",
        f"| import of 10,000 training records: preview | {imp['preview_seconds']:.2f} | |",
        f"| the same: confirm (stored, history, one version bump) | {imp['confirm_seconds']:.2f} | |",
        f"| the same: preview + confirm | {imp['seconds']:.2f} | {imp['peak_rss_mb']:.0f} |",
        f"| plain bulk_create of the same rows (CSV parsed) | {bulk['seconds']:.2f} | {bulk['peak_rss_mb']:.0f} |",
        f"| import (preview + confirm) / bulk_create | {imp['seconds'] / bulk['seconds']:.1f} x | |",
        f"| confirm alone / bulk_create | {imp['confirm_seconds'] / bulk['seconds']:.1f} x | |",
        f"| import of 100,000 training records, preview + confirm | {big['seconds']:.1f} | {big['peak_rss_mb']:.0f} |",
        f"| training matrix of 20,000 advocates to XLSX | {xlsx['seconds']:.2f} | {xlsx['peak_rss_mb']:.0f} |",
        f"| the same to ODS | {ods['seconds']:.2f} | {ods['peak_rss_mb']:.0f} |",
    ]


def spreadsheet_targets(sheets: dict, row) -> None:  # type: ignore[no-untyped-def,type-arg]
    ratio = sheets["import"]["seconds"] / sheets["bulk"]["seconds"]
    row("import of 10,000 training records / bulk_create", "<= 5", ratio, ratio <= 5)
    peak = sheets["import_100k"]["peak_rss_mb"]
    row("import of 100,000 rows, peak memory MB", "< 300", peak, peak < 300)
    peak = sheets["export_xlsx"]["peak_rss_mb"]
    row("matrix of 20,000 advocates to XLSX, peak memory MB", "< 300", peak, peak < 300)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def warm(url: str, headers: list[str]) -> None:
    """Until the answers come fast: each worker's first request fills its cache (a cold
    dashboard takes a second or more), which a 10 s run should not be measuring."""
    hdrs = dict(h.split(": ", 1) for h in headers[1::2])
    fast = 0
    deadline = time.monotonic() + 60
    while fast < 8 and time.monotonic() < deadline:
        started = time.monotonic()
        with urllib.request.urlopen(urllib.request.Request(url, headers=hdrs)) as resp:
            resp.read()
        fast = fast + 1 if time.monotonic() - started < 0.05 else 0
    subprocess.run(["wrk", "-t2", "-c4", "-d2s", *headers, url], capture_output=True, check=False)


def serve_and_load(scale: int, keys: list[str]) -> dict[str, dict[str, float]]:
    env = prod_env(scale)
    # Production serves hashed static files (whitenoise's manifest storage).
    run([PY, "manage.py", "collectstatic", "--noinput", "-v", "0"], env)
    targets = json.loads(
        run([PY, "scripts/bench_targets.py"], env, capture_output=True).stdout.strip()
    )
    log(
        f"scale {scale}: b covers {targets['providers_of_b']} providers, "
        f"c {targets['advocates_of_c']} advocates"
    )
    port = free_port()
    gunicorn = subprocess.Popen(
        [
            str(Path(PY).with_name("gunicorn")),
            "imca_commissioning.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "--worker-class",
            "sync",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    lua = ROOT / "var" / "bench.lua"
    lua.parent.mkdir(exist_ok=True)
    lua.write_text(LUA)
    results: dict[str, dict[str, float]] = {}
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        for key in keys:
            t = targets["urls"][key]
            headers = []
            if t["who"] == "token":
                headers = ["-H", f"Authorization: Token {targets['token']}"]
            elif t["who"]:
                headers = ["-H", f"Cookie: {targets['cookies'][t['who']]}"]
            url = f"http://127.0.0.1:{port}{t['url']}"
            warm(url, headers)
            res = subprocess.run(
                ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "-s", str(lua), *headers, url],
                capture_output=True,
                text=True,
                check=True,
            )
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", res.stdout).group(1))  # type: ignore[union-attr]
            extra = json.loads(res.stdout.split("JSON ", 1)[1].splitlines()[0])
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", res.stdout)
            results[key] = {
                "rps": rps,
                "p50": extra["p50"],
                "p95": extra["p95"],
                "errors": extra["errors"] + (int(non2xx.group(1)) if non2xx else 0),
                "queries": t["queries"],
                "status": t["status"],
            }
            log(f"scale {scale} {key}: {results[key]}")
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)
    return results


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def write(big: dict, small: dict, sweep: dict, took: float, cold: dict, sheets: dict) -> str:  # type: ignore[type-arg]
    a0, a1 = big["a0"]["rps"], big["a1"]["rps"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (scripts/bench.py); do not edit by hand. Issue 7's targets,",
        "measured in one run on this machine; figures, not timed tests.",
        "",
        f"- Run: {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {machine()}, took {took / 60:.1f} min.",
        f"- Data: `generate_national --scale {BIG}` on PostgreSQL; gunicorn with 2 sync "
        f"workers and production settings (DEBUG off); wrk, 2 threads, {CONNECTIONS} "
        f"connections, {DURATION} per URL, after warming until answers come fast.",
        "",
        f"## Pages and API at scale {BIG}",
        "",
        "| URL | req/s | p50 ms | p95 ms | queries/req | / a0 | / a1 | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key in ["a0", "a1", "b", "c", "d", "e"]:
        r = big[key]
        lines.append(
            f"| {NAMES[key]} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} | "
            f"{r['queries']} | {r['rps'] / a0:.3f} | {r['rps'] / a1:.3f} | {r['errors']:.0f} |"
        )
    b_ratio = big["b"]["p50"] / small["b"]["p50"]
    b95 = big["b"]["p95"] / small["b"]["p95"]
    lines += [
        "",
        "## The sweep at scale " + str(BIG),
        "",
        "| figure | value |",
        "| --- | ---: |",
        f"| advocates swept | {sweep['advocates']:,} |",
        f"| plain read of the sweep's facts | {sweep['read_s']:.1f} s |",
        f"| sweep (rules, flags, notifications, snapshots) | {sweep['sweep_s']:.1f} s |",
        f"| sweep / plain read | {sweep['ratio']:.2f} |",
        f"| sweep peak memory (RSS of its process) | {sweep['peak_mb']:.0f} MB |",
        f"| plain read peak memory | {sweep['read_peak_mb']:.0f} MB |",
        "",
        f"## Cold paths at scale {BIG} (in-process, median of {cold['repeats']}; "
        f"a1 of {cold['a1']['samples']} samples taken next to the rows)",
        "",
        "| figure | ms | queries | / a1 |",
        "| --- | ---: | ---: | ---: |",
        *(
            f"| {label} | {cold[key]['ms']:.1f} | {cold[key]['queries']} | "
            f"{cold[key]['ms'] / cold['a1']['ms']:.0f} |"
            for key, label in COLD_NAMES.items()
        ),
        "",
        "## b at scale 10 against scale 1",
        "",
        "| figure | scale 1 | scale 10 | ratio |",
        "| --- | ---: | ---: | ---: |",
        f"| b p50 ms | {small['b']['p50']:.1f} | {big['b']['p50']:.1f} | {b_ratio:.2f} |",
        f"| b p95 ms | {small['b']['p95']:.1f} | {big['b']['p95']:.1f} | {b95:.2f} |",
        *spreadsheet_lines(sheets),
        "",
        "## Against the targets",
        "",
        "| figure | target | measured | met |",
        "| --- | --- | --- | --- |",
    ]

    def row(name: str, target: str, value: float, ok: bool) -> None:
        shown = f"{value:.0f}" if float(value).is_integer() else f"{value:.3f}"
        lines.append(f"| {name} | {target} | {shown} | {'yes' if ok else 'NO'} |")

    for key in "bcde":
        row(f"{key} throughput / a1", ">= 0.5", big[key]["rps"] / a1, big[key]["rps"] / a1 >= 0.5)
    for key in "bcde":
        row(f"{key} throughput / a0", ">= 0.25", big[key]["rps"] / a0, big[key]["rps"] / a0 >= 0.25)
    row("b latency (p50) scale 10 / scale 1", "<= 1.25", b_ratio, b_ratio <= 1.25)
    for key in "bcde":
        q = big[key]["queries"]
        row(f"{key} queries per request", "<= 12, flat (tested)", q, q <= 12)
    for key, limit in COLD_TARGETS.items():
        ratio = cold[key]["ms"] / cold["a1"]["ms"]
        row(f"{COLD_NAMES[key]} / a1 (in-process)", f"<= {limit}", ratio, ratio <= limit)
    row("sweep time / plain read", "<= 2", sweep["ratio"], sweep["ratio"] <= 2)
    row("sweep peak memory MB", "<= 500", sweep["peak_mb"], sweep["peak_mb"] <= 500)
    spreadsheet_targets(sheets, row)
    lines += ["", (ROOT / "docs" / "benchmarks-notes.md").read_text().strip(), ""]
    text = "\n".join(lines)
    OUT.write_text(text)
    return text


def main() -> None:
    started = time.monotonic()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install -y wrk (scripts/bench.sh does)")
    for scale in SCALES:
        prepare(scale)
    sweep = sweep_figures(BIG)
    for scale in SCALES:
        if scale != BIG:  # the day's snapshots, as the 06:00 sweep leaves them
            run([PY, "scripts/bench_sweep.py", "sweep"], base_env(scale), capture_output=True)
    small = serve_and_load(min(SCALES), ["b"]) if min(SCALES) != BIG else None
    big = serve_and_load(BIG, ["a0", "a1", "b", "c", "d", "e"])
    cold = cold_figures(BIG)
    sheets = spreadsheet_figures(min(SCALES))
    print(write(big, small or big, sweep, time.monotonic() - started, cold, sheets))


if __name__ == "__main__":
    main()
