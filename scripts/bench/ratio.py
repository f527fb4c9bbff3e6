#!/usr/bin/env python3
"""Per-request cost against the physical limit.

Starts the local server (release build, throwaway data folder, 127.0.0.1) and a minimal
axum server answering a constant JSON on the same paths (`shared/examples/minimal_server.rs`,
same release profile), logs a user in, then drives each with wrk at concurrency 64 and
prints requests per second side by side:

    GET /user/{id}        (logged in, another user's profile)
    GET /user/get_token   (logged in, signs an IM token)

Build first:  cargo build --release -p roster --bin roster-local --example minimal_server
Run:          python3 scripts/bench/ratio.py [--seconds 10] [--connections 64] [--threads 2]
Needs wrk (Debian: apt-get install wrk); the script installs it when apt-get is there.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from local_api import call, free_port, sign_up, wait_for  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "target/release/roster-local"
MINIMAL = ROOT / "target/release/examples/minimal_server"


def wrk(url, seconds, connections, threads, cookie=None):
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+\w+)", out).group(1)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, p50, p99, int(non2xx.group(1)) if non2xx else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--local", default=str(LOCAL))
    args = ap.parse_args()
    for binary in (Path(args.local), MINIMAL):
        if not binary.exists():
            sys.exit(f"{binary} is missing: cargo build --release -p roster --bin roster-local --example minimal_server")
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, stdout=subprocess.DEVNULL)

    data = tempfile.mkdtemp(prefix="roster-ratio-")
    local_port, minimal_port = free_port(), free_port()
    env = dict(os.environ, ROSTER_PORT=str(local_port), ROSTER_DATA_DIR=data,
               ROSTER_SQLITE_DURABILITY="normal", RUST_LOG="info")
    procs = []
    try:
        procs.append(subprocess.Popen([args.local], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        procs.append(subprocess.Popen([str(MINIMAL)], env=dict(os.environ, ROSTER_PORT=str(minimal_port)),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(local_port)
        wait_for(minimal_port, "/user/get_token")
        cookie, _ = sign_up(local_port, "13800000101", "Bench")
        _, other = sign_up(local_port, "13800000102", "Bench")
        r, body = call(local_port, "GET", f"/user/{other}", cookie=cookie)
        assert body["code"] == 200, body
        r, body = call(local_port, "GET", "/user/get_token", cookie=cookie)
        assert body["code"] == 200, body

        print(f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, one machine, both servers in one run\n")
        print(f"{'route':<22} {'server':<14} {'req/s':>10} {'p50':>9} {'p99':>9} {'non-2xx':>8} {'ratio':>7}")
        for label, path in (("GET /user/{id}", f"/user/{other}"), ("GET /user/get_token", "/user/get_token")):
            base = f"http://127.0.0.1:{minimal_port}{path}"
            mine = f"http://127.0.0.1:{local_port}{path}"
            wrk(mine, 2, args.connections, args.threads, cookie)  # warm up
            m_rps, m50, m99, m_bad = wrk(base, args.seconds, args.connections, args.threads)
            l_rps, l50, l99, l_bad = wrk(mine, args.seconds, args.connections, args.threads, cookie)
            print(f"{label:<22} {'minimal axum':<14} {m_rps:>10.0f} {m50:>9} {m99:>9} {m_bad:>8} {'':>7}")
            print(f"{'':<22} {'roster-local':<14} {l_rps:>10.0f} {l50:>9} {l99:>9} {l_bad:>8} {l_rps / m_rps:>6.1%}")
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
