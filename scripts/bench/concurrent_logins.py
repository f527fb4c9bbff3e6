"""Memory under concurrent password logins: starts the local server (roster-local) on a
free loopback port with a throwaway data folder, registers 64 accounts on fictional
test numbers (+1 201-555-01xx, fixed code, no SMS), then sends 64 correct logins at once
(one per account) and prints the answers, the wall time and the server's peak memory
(VmHWM) before and after the burst. Stops the server it started, by its PID.

Usage: python3 scripts/bench/concurrent_logins.py [--bin target/release/roster-local] [--logins 64]
Prints figures; asserts nothing.
"""
import argparse
import collections
import concurrent.futures
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CODE = "246810"
PASSWORD = "P@ssw0rd"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(base, path, body):
    req = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=120) as res:
            return res.status, json.load(res)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def vm(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return -1.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "roster-local"))
    ap.add_argument("--logins", type=int, default=64)
    args = ap.parse_args()
    if not os.path.exists(args.bin):
        sys.exit(f"{args.bin} is missing: cargo build --release -p roster --bin roster-local")
    numbers = [f"20155501{i:02d}" for i in range(args.logins)]
    data = tempfile.mkdtemp(prefix="roster-bench-")
    port = free_port()
    env = dict(
        os.environ,
        ROSTER_PORT=str(port),
        ROSTER_DATA_DIR=data,
        ROSTER_TEST_NUMBERS=",".join(f"+1{n}={CODE}" for n in numbers),
        ROSTER_SMS_PER_IP_HOUR="100000",
        ROSTER_SMS_CAPTCHA_AFTER_PER_IP_HOUR="100000",
        RUST_LOG="warn",
    )
    server = subprocess.Popen([args.bin], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(base + "/user/regionlist", timeout=1).read()
                break
            except OSError:
                time.sleep(0.05)
        for n in numbers:
            phone = {"region": 1, "phone": n}
            post(base, "/user/send_code", phone)
            _, verified = post(base, "/user/verify_code", dict(phone, code=CODE))
            token = verified["result"]["verification_token"]
            status, res = post(
                base, "/user/register", {"nickname": "Bench", "password": PASSWORD, "verification_token": token}
            )
            if res.get("code") != 200:
                sys.exit(f"register failed: {status} {res}")
        before_hwm, before_rss = vm(server.pid, "VmHWM"), vm(server.pid, "VmRSS")
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(len(numbers)) as pool:
            answers = list(
                pool.map(
                    lambda n: post(base, "/user/login", {"region": 1, "phone": n, "password": PASSWORD}),
                    numbers,
                )
            )
        elapsed = time.perf_counter() - started
        after_hwm, after_rss = vm(server.pid, "VmHWM"), vm(server.pid, "VmRSS")
        counts = collections.Counter(f"{status}/{body.get('code')}" for status, body in answers)
        print(f"binary: {os.path.relpath(args.bin, ROOT)}")
        print(f"{len(numbers)} concurrent logins in {elapsed:.2f} s; answers (HTTP/code): {dict(counts)}")
        print(f"peak RSS before the burst: {before_hwm:.1f} MiB; after: {after_hwm:.1f} MiB")
        print(f"RSS after the burst: {after_rss:.1f} MiB (before: {before_rss:.1f} MiB)")
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
