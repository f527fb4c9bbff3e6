"""Cold start of each Lambda binary: time from process start to its first response,
and peak memory (VmHWM), over several runs against a local runtime-API stand-in.

Usage: python3 scripts/bench/cold_start.py [--runs N] [--bin-dir DIR ...] [--runner CMD]
Several --bin-dir (say, the binaries of two commits) are measured in one run, their
runs interleaved so that both see the same machine noise.
The binaries run with the production settings (DynamoDB, SNS, S3, secrets given), so
start-up does what it does on AWS; the sample event needs no AWS call to answer.
Prints figures; asserts nothing, but stops at a sample that does not answer as expected.
--runner runs each binary under a command, say `qemu-aarch64-static -L
/usr/aarch64-linux-gnu` for the arm64 builds (scripts/check-arm64.sh): then the figures
are the emulator's, and what counts is that every function starts and answers.
"""
import argparse
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from runtime_api import RuntimeApi  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# (label, function, event, settings). The samples answer without an AWS call. (Functions
# are built without the embedded store now, so the earlier local sample that parsed a phone
# number is gone; what a first phone number costs is in the issue 2 note.)
# (label, function, event, settings, expected status): the profile and relations samples
# carry no session, so their first answer is a 403 that needs no store call either.
SAMPLES = [
    ("codes", "codes", "events/codes/regionlist.json", "production", 200),
    ("account", "account", "events/account/jwks.json", "production", 200),
    ("profile", "profile", "events/profile/get_privacy.json", "production", 403),
    ("relations", "relations", "events/relations/all.json", "production", 403),
    ("groups", "groups", "events/groups/info.json", "production", 403),
    ("sync", "sync", "events/sync/sync.json", "production", 403),
]


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def one_run(binary, event, env, expected=200, runner=()):
    api = RuntimeApi(event)
    env = dict(env, AWS_LAMBDA_RUNTIME_API=api.address)
    started = time.perf_counter()
    proc = subprocess.Popen([*runner, binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not api.answered.wait(30):
            raise RuntimeError(f"{binary} did not answer within 30 s")
        elapsed_ms = (api.answered_at - started) * 1000
        peak = peak_rss_kib(proc.pid)
        path, body = api.response
        if "/response" not in path:
            raise RuntimeError(f"{binary} reported an error: {body[:300]!r}")
        status = json.loads(body).get("statusCode")
        if status != expected:
            raise RuntimeError(f"{binary} answered {status}: {body[:300]!r}")
        return elapsed_ms, peak
    finally:
        proc.kill()
        proc.wait()
        api.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--bin-dir", action="append", help="repeat to compare builds (default target/release)")
    ap.add_argument("--runner", default="", help="a command to run each binary under (an emulator)")
    args = ap.parse_args()
    runner = args.runner.split()
    bin_dirs = args.bin_dir or [os.path.join(ROOT, "target", "release")]
    key = base64.b64encode(os.urandom(32)).decode()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": "bench",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "ROSTER_STORE": "dynamodb",
        "ROSTER_TABLE": "roster-bench",
        "ROSTER_SMS": "sns",
        "ROSTER_EMAIL": "ses",
        "ROSTER_EMAIL_FROM": "codes@example.com",
        "ROSTER_UPLOADS": "s3",
        "ROSTER_BUCKET": "roster-bench",
        "ROSTER_AVATAR_BASE_URL": "https://avatars.example.com",
        "ROSTER_CODE_SECRET": key,
        "ROSTER_SIGNING_KEY": key,
        "ROSTER_PRODUCTION": "true",
    }
    local_env = {k: v for k, v in env.items() if not k.startswith("ROSTER_")}
    width = max(len(d) for d in bin_dirs) if len(bin_dirs) > 1 else 0
    header = f"{'sample':12} {'runs':>4} {'median ms':>10} {'min ms':>8} {'max ms':>8} {'stdev ms':>9} {'peak RSS MiB':>13}"
    print((f"{'build':{width}} " if width else "") + header)
    for label, name, event_path, mode, expected in SAMPLES:
        binaries = [os.path.join(d, name) for d in bin_dirs]
        for binary in binaries:
            if not os.path.exists(binary):
                sys.exit(f"{binary} is missing: cargo build --release -p {name}")
        event = open(os.path.join(ROOT, event_path), "rb").read()
        times = {b: [] for b in binaries}
        peaks = {b: [] for b in binaries}
        for _ in range(args.runs):
            for binary in binaries:
                if mode == "local":
                    run_env = dict(local_env, ROSTER_DATA_DIR=tempfile.mkdtemp(prefix="roster-bench-"))
                else:
                    run_env = env
                ms, kib = one_run(binary, event, run_env, expected, runner)
                if mode == "local":
                    shutil.rmtree(run_env["ROSTER_DATA_DIR"], ignore_errors=True)
                times[binary].append(ms)
                peaks[binary].append(kib)
        for d, binary in zip(bin_dirs, binaries):
            t, p = times[binary], peaks[binary]
            print(
                (f"{d:{width}} " if width else "")
                + f"{label:12} {args.runs:>4} {statistics.median(t):>10.2f} {min(t):>8.2f} {max(t):>8.2f} "
                f"{statistics.pstdev(t):>9.2f} {statistics.median(p) / 1024:>13.1f}"
            )


if __name__ == "__main__":
    main()
