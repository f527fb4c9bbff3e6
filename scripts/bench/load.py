"""Mixed load against the local server (roster-local), then consistency checks.

Starts the release binary on a free 127.0.0.1 port with a throwaway data folder and the
per-number, per-network and global SMS budgets, look-up limits and login throttles raised
(every request comes from 127.0.0.1, one "network"; the script prints what it raised).
Then sends --requests requests in all (default 10,000, set-up included) over
--concurrency keep-alive HTTP/1.1 connections (default 64, one per worker thread):

  phase 1  signs up a pool of users (--users, default 200) on fictional numbers
           +86 1390013xxxx: send_code, the code from GET /_local/outbox, verify_code,
           register (argon2);
  phase 2  a mixed workload among them, reads dominating: profiles (/user/{id},
           own_info, batch), lists (friendship/all, follows, fans, blacklist, groups),
           sync (/user/sync/{version} with the version of the previous answer), plus
           writes (nickname, portrait, friend invites and agreements, follows, blocks,
           group create/add/join/quit/rename), password logins, get_token, code flows
           and a few new sign-ups.

Prints the total, the wall time, requests per second, and per route template: count,
req/s, p50 and p99 latency, expected 4xx answers, errors (HTTP 5xx, connection failures,
or a status the script did not expect), then the business codes (code != 200 in an HTTP
200 answer) per route, and the server's VmHWM (peak resident set) and VmRSS.

Then checks, each printed PASS or FAIL (not counted in --requests): every user logs in
with its password (at --concurrency); own_info's friendCount / followCount / fanCount
equal the lengths of /friendship/all (status 20), /user/follows and /user/fans (all
pages), and /user/{id} shows the same counts; the blacklist's pageInfo total equals its
length; friendships, follows/fans and group memberships are symmetric; a block leaves
no friendship or follow between the two; each group's memberCount (/group/{id} and
/user/groups) equals the length of /group/{id}/members.
Exits 1 if a check fails or any HTTP 5xx or connection failure happened, 2 if the
binary is missing. Stops the server it started (by its PID) and removes the data folder.

Usage (Python 3.11, standard library only), from anywhere:
  cargo build --release -p roster --bin roster-local
  python3 scripts/bench/load.py [--binary PATH] [--requests 10000] [--concurrency 64]
                                [--users 200] [--seed N] [--durability normal]
"""
import argparse
import collections
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_BINARY = os.path.join("target", "release", "roster-local")
BUILD = "cargo build --release -p roster --bin roster-local"
REGION = 86
PHONE_BASE = 13900130000  # +86 1390013xxxx: fictional, mobile-shaped (tests use 139…)
COOKIE = "roster_session"
PASSWORD_ROUTES = ("/user/register", "/user/login")
BIG = "1000000"

# Raised for the run: every request comes from 127.0.0.1, so per-network limits would
# throttle everything. (Unknown variables are ignored by an older binary.)
RAISED = {
    "ROSTER_SMS_GAP_SECS": "0",
    "ROSTER_SMS_PER_PHONE_HOUR": BIG,
    "ROSTER_SMS_PER_PHONE_DAY": BIG,
    "ROSTER_SMS_PER_IP_HOUR": BIG,
    "ROSTER_SMS_CAPTCHA_AFTER_PER_IP_HOUR": BIG,
    "ROSTER_SMS_GLOBAL_DAY": BIG,
    "ROSTER_LOOKUPS_PER_USER_HOUR": BIG,
    "ROSTER_LOOKUPS_PER_IP_HOUR": BIG,
    "ROSTER_ACCOUNT_CHECKS_CAPTCHA_AFTER_PER_IP_HOUR": BIG,
    "ROSTER_ACCOUNT_CHECKS_PER_IP_HOUR": BIG,
    "ROSTER_PASSWORD_FAILURES_PER_IP_HOUR": BIG,
    "ROSTER_LOGIN_FAILURES_BEFORE_BACKOFF": BIG,
}


class Exhausted(Exception):
    """The request budget is spent."""


class Budget:
    def __init__(self, n):
        self.left = n
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            if self.left <= 0:
                raise Exhausted()
            self.left -= 1


class RouteStats:
    __slots__ = ("lat", "errors", "expected", "statuses", "biz", "shed", "method")

    def __init__(self):
        self.method = None
        self.lat = []
        self.errors = 0
        self.shed = 0  # 503 + Retry-After from the password-hashing queue (subset of errors)
        self.expected = 0  # expected non-200 HTTP answers (4xx the workload provokes)
        self.statuses = collections.Counter()
        self.biz = collections.Counter()


class Stats:
    """Per-thread; merged at the end."""

    def __init__(self):
        self.routes = collections.defaultdict(RouteStats)
        self.samples = []  # unexpected answers, for the report
        self.shed_samples = []
        self.fivexx = 0
        self.shed = 0
        self.conn_failures = 0

    def merge(self, other):
        for k, v in other.routes.items():
            r = self.routes[k]
            r.method = r.method or v.method
            r.lat.extend(v.lat)
            r.errors += v.errors
            r.shed += v.shed
            r.expected += v.expected
            r.statuses.update(v.statuses)
            r.biz.update(v.biz)
        self.samples.extend(other.samples[: max(0, 20 - len(self.samples))])
        self.shed_samples.extend(other.shed_samples[: max(0, 3 - len(self.shed_samples))])
        self.fivexx += other.fivexx
        self.shed += other.shed
        self.conn_failures += other.conn_failures

    def total(self):
        return sum(len(r.lat) for r in self.routes.values())


class Answer:
    __slots__ = ("status", "body", "cookie", "headers")

    def __init__(self, status, body, cookie, headers):
        self.status, self.body, self.cookie, self.headers = status, body, cookie, headers

    @property
    def ok(self):
        return self.status == 200 and isinstance(self.body, dict) and self.body.get("code") == 200

    @property
    def result(self):
        return self.body.get("result") if isinstance(self.body, dict) else None


class Client:
    """One keep-alive HTTP/1.1 connection; every request is counted in `stats`."""

    def __init__(self, port, stats, budget=None):
        self.port, self.stats, self.budget = port, stats, budget
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def call(self, method, path, route, body=None, cookie=None, expect=()):
        if self.budget is not None:
            self.budget.take()
        headers = {"Connection": "keep-alive"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if cookie:
            headers["Cookie"] = f"{COOKIE}={cookie}"
        st = self.stats.routes[route]
        st.method = method
        t0 = time.perf_counter()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request(method, path, body=data, headers=headers)
            res = self.conn.getresponse()
            raw = res.read()
            status = res.status
            resp_headers = res.getheaders()
            if res.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as e:
            st.lat.append((time.perf_counter() - t0) * 1000)
            st.errors += 1
            st.statuses["conn"] += 1
            self.stats.conn_failures += 1
            if len(self.stats.samples) < 20:
                self.stats.samples.append(f"{method} {path} {json.dumps(body) if body else ''}: connection failure {e!r}")
            self.close()
            return Answer(None, None, None, [])
        st.lat.append((time.perf_counter() - t0) * 1000)
        st.statuses[status] += 1
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        new_cookie = None
        for k, v in resp_headers:
            if k.lower() == "set-cookie" and v.startswith(COOKIE + "="):
                new_cookie = v.split(";", 1)[0].split("=", 1)[1]
        unexpected = status >= 500 or (status != 200 and status not in expect) or (status == 200 and parsed is None)
        # The documented overload answer of password hashing: 503 with Retry-After.
        shed = status == 503 and route in PASSWORD_ROUTES and any(k.lower() == "retry-after" for k, _ in resp_headers)
        if status >= 500:
            self.stats.fivexx += 1
        if shed:
            st.shed += 1
            self.stats.shed += 1
        if unexpected:
            st.errors += 1
            samples = self.stats.shed_samples if shed else self.stats.samples
            if len(samples) < (3 if shed else 20):
                samples.append(f"{method} {path} {json.dumps(body) if body else ''} -> HTTP {status} {raw[:300]!r}")
        elif status != 200:
            st.expected += 1
        if status == 200 and isinstance(parsed, dict) and parsed.get("code") != 200:
            st.biz[parsed.get("code")] += 1
        return Answer(status, parsed, new_cookie, resp_headers)


def retry_after(ans):
    for k, v in ans.headers:
        if k.lower() == "retry-after":
            try:
                return max(0.05, float(v))
            except ValueError:
                return 1.0
    return None


def password_call(client, route, body):
    """register or login: a 503 with Retry-After (the hashing queue is full) is retried
    after the time it asks for, as a client would; every attempt is counted."""
    for _ in range(8):
        ans = client.call("POST", route, route, body)
        wait = retry_after(ans) if ans.status == 503 else None
        if wait is None:
            return ans
        time.sleep(wait)
    return ans


class User:
    def __init__(self, idx, phone, password):
        self.idx, self.phone, self.password = idx, phone, password
        self.id = None
        self.cookie = None
        self.version = 0
        self.busy = False  # a code flow to its phone is under way


class World:
    """What the workload believes (to pick plausible requests); the checks read the truth."""

    def __init__(self, rng):
        self.lock = threading.Lock()
        self.users = []
        self.by_id = {}
        self.next_idx = 0
        self.pending = set()  # (from, to) friend requests sent
        self.friends = set()  # frozenset({a, b})
        self.follows = set()  # (a, b)
        self.blocks = set()  # (a, b)
        self.groups = {}  # id -> {"creator": uid, "members": set}
        self.seed_rng = rng

    def new_user(self):
        with self.lock:
            idx = self.next_idx
            self.next_idx += 1
        pw = "Pw" + "".join(self.seed_rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(10))
        return User(idx, str(PHONE_BASE + idx), pw)

    def add(self, u):
        with self.lock:
            self.users.append(u)
            self.by_id[u.id] = u


def find_code(client, phone, route="/_local/outbox"):
    e164 = f"+{REGION}{phone}"
    for attempt in range(20):
        ans = client.call("GET", "/_local/outbox", route)
        if ans.ok:
            for m in reversed(ans.result or []):
                if m.get("to") == e164:
                    found = re.search(r"(\d{6})\s*$", m.get("text", ""))
                    if found:
                        return found.group(1)
        time.sleep(0.02 * (attempt + 1))
    return None


def sign_up(client, world, rng, nick):
    """send_code, the outbox, verify_code, register; the user (signed in) or None."""
    u = world.new_user()
    phone = {"region": REGION, "phone": u.phone}
    if not client.call("POST", "/user/send_code", "/user/send_code", phone).ok:
        return None
    code = find_code(client, u.phone)
    if code is None:
        return None
    ans = client.call("POST", "/user/verify_code", "/user/verify_code", dict(phone, code=code))
    if not ans.ok:
        return None
    token = ans.result["verification_token"]
    body = {"nickname": nick, "password": u.password, "verification_token": token}
    ans = password_call(client, "/user/register", body)
    if not ans.ok or not ans.cookie:
        return None
    u.id, u.cookie = ans.result["id"], ans.cookie
    world.add(u)
    return u


# ---------------------------------------------------------------------------------------
# Phase 2 operations: each picks plausible targets from the world's beliefs.

G403 = (403, 404)  # a group read or write may race with a quit or a dismissal


def others(world, rng, u, k=1):
    pool = world.users
    out = []
    for _ in range(k * 3):
        v = rng.choice(pool)
        if v is not u and v not in out:
            out.append(v)
            if len(out) == k:
                break
    return out


def op_read_user(c, w, r, u):
    (t,) = others(w, r, u) or [u]
    c.call("GET", f"/user/{t.id}", "/user/{id}", cookie=u.cookie)


def op_own_info(c, w, r, u):
    c.call("GET", "/user/own_info", "/user/own_info", cookie=u.cookie)


def op_batch(c, w, r, u):
    ids = [v.id for v in others(w, r, u, r.randint(2, 20))]
    q = urllib.parse.urlencode([("id", i) for i in ids])
    c.call("GET", f"/user/batch?{q}", "/user/batch", cookie=u.cookie)


def op_friend_all(c, w, r, u):
    c.call("GET", "/friendship/all", "/friendship/all", cookie=u.cookie)


def op_follows(c, w, r, u):
    c.call("GET", "/user/follows?page=1&size=20", "/user/follows", cookie=u.cookie)


def op_fans(c, w, r, u):
    c.call("GET", "/user/fans?page=1&size=20", "/user/fans", cookie=u.cookie)


def op_blacklist(c, w, r, u):
    c.call("GET", "/user/blacklist?page=1&size=20", "/user/blacklist", cookie=u.cookie)


def op_user_groups(c, w, r, u):
    c.call("GET", "/user/groups", "/user/groups", cookie=u.cookie)


def some_group(w, r, u=None, member=None):
    with w.lock:
        ids = list(w.groups)
        if not ids:
            return None
        if member is not None:
            mine = [g for g in ids if (u.id in w.groups[g]["members"]) == member]
            if mine:
                return r.choice(mine)
            return None
        return r.choice(ids)


def op_group_info(c, w, r, u):
    g = some_group(w, r)
    if g is None:
        return op_user_groups(c, w, r, u)
    c.call("GET", f"/group/{g}", "/group/{id}", cookie=u.cookie, expect=(404,))


def op_group_members(c, w, r, u):
    g = some_group(w, r, u, member=True)
    if g is None:
        return op_user_groups(c, w, r, u)
    c.call("GET", f"/group/{g}/members", "/group/{id}/members", cookie=u.cookie, expect=G403)


def op_sync(c, w, r, u):
    for _ in range(5):
        ans = c.call("GET", f"/user/sync/{u.version}", "/user/sync/{version}", cookie=u.cookie)
        if not ans.ok:
            return
        u.version = ans.result["version"]
        if not ans.result.get("hasMore"):
            return


def op_regionlist(c, w, r, u):
    c.call("GET", "/user/regionlist", "/user/regionlist")


def op_img_code(c, w, r, u):
    c.call("GET", "/user/get_sms_img_code", "/user/get_sms_img_code")


def op_get_token(c, w, r, u):
    c.call("GET", "/user/get_token", "/user/get_token", cookie=u.cookie)


def op_set_nickname(c, w, r, u):
    c.call("POST", "/user/set_nickname", "/user/set_nickname", {"nickname": f"User {u.idx}.{r.randint(0, 999)}"}, u.cookie)


def op_set_portrait(c, w, r, u):
    uri = f"https://img.example.com/avatars/{u.idx}/{r.randint(0, 99999)}.png"
    c.call("POST", "/user/set_portrait_uri", "/user/set_portrait_uri", {"portraitUri": uri}, u.cookie)


def op_invite(c, w, r, u):
    (t,) = others(w, r, u) or [None]
    if t is None:
        return
    with w.lock:
        if frozenset((u.id, t.id)) in w.friends or (u.id, t.id) in w.blocks:
            t = None
    if t is None:
        return op_friend_all(c, w, r, u)
    # 400: already friends, or on my blacklist (beliefs lag behind concurrent writes).
    ans = c.call("POST", "/friendship/invite", "/friendship/invite", {"friendId": t.id, "message": "hi"}, u.cookie, expect=(400,))
    if ans.ok:
        action = ans.result.get("action")
        with w.lock:
            if action == "Sent":
                w.pending.add((u.id, t.id))
            elif action in ("Added", "AddDirectly"):
                w.friends.add(frozenset((u.id, t.id)))
                w.pending.discard((t.id, u.id))


def op_agree(c, w, r, u):
    with w.lock:
        asks = [p for p in w.pending if p[1] == u.id]
        if not asks:
            # Someone else with a request waiting: act as them.
            asks = list(w.pending)
        if not asks:
            ask = None
        else:
            ask = r.choice(asks)
            w.pending.discard(ask)
    if ask is None:
        return op_invite(c, w, r, u)
    who = w.by_id[ask[1]]
    # 404: the request is gone (a block in between, or already agreed).
    ans = c.call("POST", "/friendship/agree", "/friendship/agree", {"friendId": ask[0]}, who.cookie, expect=(404,))
    if ans.ok:
        with w.lock:
            w.friends.add(frozenset(ask))


def op_follow(c, w, r, u):
    (t,) = others(w, r, u) or [None]
    if t is None:
        return
    group = r.choice(["default", "default", "special"])
    ans = c.call("POST", "/user/follow", "/user/follow", {"userId": t.id, "groupName": group}, u.cookie)
    if ans.ok:
        with w.lock:
            w.follows.add((u.id, t.id))
            w.blocks.discard((u.id, t.id))


def op_unfollow(c, w, r, u):
    with w.lock:
        mine = [b for (a, b) in w.follows if a == u.id]
    if not mine:
        return op_follow(c, w, r, u)
    t = r.choice(mine)
    ans = c.call("POST", "/user/unfollow", "/user/unfollow", {"userId": t}, u.cookie)
    if ans.ok:
        with w.lock:
            w.follows.discard((u.id, t))


def op_block(c, w, r, u):
    (t,) = others(w, r, u) or [None]
    if t is None:
        return
    ans = c.call("POST", "/user/add_to_blacklist", "/user/add_to_blacklist", {"friendId": t.id}, u.cookie)
    if ans.ok:
        with w.lock:
            w.blocks.add((u.id, t.id))
            w.friends.discard(frozenset((u.id, t.id)))
            w.follows.discard((u.id, t.id))
            w.follows.discard((t.id, u.id))
            w.pending.discard((u.id, t.id))
            w.pending.discard((t.id, u.id))


def op_unblock(c, w, r, u):
    with w.lock:
        mine = [b for (a, b) in w.blocks if a == u.id]
    if not mine:
        return op_blacklist(c, w, r, u)
    t = r.choice(mine)
    ans = c.call("POST", "/user/remove_from_blacklist", "/user/remove_from_blacklist", {"friendId": t}, u.cookie)
    if ans.ok:
        with w.lock:
            w.blocks.discard((u.id, t))


def joined(w, g, statuses):
    with w.lock:
        grp = w.groups.get(g)
        if grp is None:
            return
        for s in statuses or []:
            if s.get("status") == 1:
                grp["members"].add(s["id"])


def op_group_create(c, w, r, u):
    members = [v.id for v in others(w, r, u, r.randint(2, 8))]
    body = {"name": f"Group {r.randint(0, 99999)}", "memberIds": members}
    ans = c.call("POST", "/group/create", "/group/create", body, u.cookie)
    if ans.ok:
        g = ans.result["id"]
        with w.lock:
            w.groups[g] = {"creator": u.id, "members": {u.id}}
        joined(w, g, ans.result.get("userStatus"))


def op_group_add(c, w, r, u):
    g = some_group(w, r, u, member=True)
    if g is None:
        return op_group_create(c, w, r, u)
    with w.lock:
        current = set(w.groups[g]["members"])
    cands = [v.id for v in others(w, r, u, 6) if v.id not in current][: r.randint(1, 4)]
    if not cands:
        return op_group_info(c, w, r, u)
    ans = c.call("POST", "/group/add", "/group/add", {"groupId": g, "memberIds": cands}, u.cookie, expect=G403)
    if ans.ok:
        joined(w, g, ans.result)


def op_group_join(c, w, r, u):
    g = some_group(w, r, u, member=False)
    if g is None:
        return op_group_create(c, w, r, u)
    ans = c.call("POST", "/group/join", "/group/join", {"groupId": g}, u.cookie, expect=(404,))
    if ans.ok and ans.result.get("status") == 1:
        with w.lock:
            if g in w.groups:
                w.groups[g]["members"].add(u.id)


def op_group_quit(c, w, r, u):
    g = some_group(w, r, u, member=True)
    if g is None:
        return op_group_join(c, w, r, u)
    ans = c.call("POST", "/group/quit", "/group/quit", {"groupId": g}, u.cookie, expect=G403)
    if ans.ok or ans.status in G403:
        with w.lock:
            if g in w.groups:
                w.groups[g]["members"].discard(u.id)


def op_group_rename(c, w, r, u):
    with w.lock:
        mine = [g for g, v in w.groups.items() if v["creator"] == u.id and u.id in v["members"]]
    if not mine:
        return op_group_info(c, w, r, u)
    g = r.choice(mine)
    # 403: the creator quit since (the group passed to someone else).
    c.call("POST", "/group/rename", "/group/rename", {"groupId": g, "name": f"Renamed {r.randint(0, 9999)}"}, u.cookie, expect=G403)


def op_login(c, w, r, u):
    body = {"region": REGION, "phone": u.phone, "password": u.password}
    ans = password_call(c, "/user/login", body)
    if ans.ok and ans.cookie:
        u.cookie = ans.cookie


def op_code_flow(c, w, r, u):
    """A password-reset start: send_code, read the outbox, verify (sometimes a typo first)."""
    with w.lock:
        if u.busy:
            u = None
        else:
            u.busy = True
    if u is None:
        return op_regionlist(c, w, r, u)
    try:
        phone = {"region": REGION, "phone": u.phone, "purpose": "reset"}
        if not c.call("POST", "/user/send_code", "/user/send_code", phone).ok:
            return
        code = find_code(c, u.phone)
        if code is None:
            return
        if r.random() < 0.25:
            wrong = f"{(int(code) + 1) % 1000000:06d}"
            c.call("POST", "/user/verify_code", "/user/verify_code", dict(phone, code=wrong))  # 1000 expected
        c.call("POST", "/user/verify_code", "/user/verify_code", dict(phone, code=code))
    finally:
        u.busy = False


def op_sign_up(c, w, r, u):
    sign_up(c, w, r, f"New {r.randint(0, 9999)}")


# (weight, operation): reads about two thirds of the requests, writes a third.
MIX = [
    (9, op_read_user), (8, op_own_info), (5, op_batch), (6, op_friend_all), (4, op_follows),
    (4, op_fans), (2, op_blacklist), (5, op_user_groups), (4, op_group_info), (4, op_group_members),
    (7, op_sync), (2, op_regionlist), (1, op_img_code), (3, op_get_token),
    (2.5, op_set_nickname), (1.5, op_set_portrait), (4, op_invite), (3, op_agree), (4, op_follow),
    (1.5, op_unfollow), (0.6, op_block), (0.5, op_unblock), (1, op_group_create), (1.5, op_group_add),
    (2, op_group_join), (0.8, op_group_quit), (1, op_group_rename), (2, op_login), (1.2, op_code_flow),
    (0.4, op_sign_up),
]


# ---------------------------------------------------------------------------------------
# Running workers


def run_threads(n, target):
    """Runs `target(i)` on n daemon threads; Ctrl-C stays with the main thread."""
    threads = [threading.Thread(target=target, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.2)


def pool_map(n, port, stats_list, fn, items):
    """fn(client, item) over items on n threads; results in item order."""
    items = list(items)
    out = [None] * len(items)
    nxt = iter(range(len(items)))
    lock = threading.Lock()

    def worker(i):
        st = Stats()
        c = Client(port, st)
        try:
            while True:
                with lock:
                    k = next(nxt, None)
                if k is None:
                    return
                out[k] = fn(c, items[k])
        finally:
            c.close()
            with lock:
                stats_list.append(st)

    run_threads(min(n, max(1, len(items))), worker)
    return out


def get_all_pages(c, path, cookie, route):
    """Every entry of a paged list, and its pageInfo.totalCount (None on failure)."""
    out, page, total = [], 1, None
    while True:
        sep = "&" if "?" in path else "?"
        ans = c.call("GET", f"{path}{sep}page={page}&size=100", route, cookie=cookie)
        if not ans.ok:
            return None, None
        res = ans.result
        total = res["pageInfo"]["totalCount"]
        out.extend(res["list"])
        if not res["list"] or len(out) >= total or page >= res["pageInfo"]["totalPage"]:
            return out, total
        page += 1


# ---------------------------------------------------------------------------------------
# Output


def pct(sorted_lat, p):
    if not sorted_lat:
        return 0.0
    return sorted_lat[min(len(sorted_lat) - 1, int(round(p / 100 * (len(sorted_lat) - 1))))]


def print_table(stats, wall):
    rows = sorted(stats.routes.items(), key=lambda kv: -len(kv[1].lat))
    print(f"{'route':30} {'count':>6} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'4xx exp':>7} {'errors':>6} {'(shed)':>6}")
    for route, r in rows:
        lat = sorted(r.lat)
        print(
            f"{route:30} {len(lat):6d} {len(lat) / wall:7.1f} {pct(lat, 50):8.1f} {pct(lat, 99):8.1f}"
            f" {r.expected:7d} {r.errors:6d} {r.shed:6d}"
        )
    print("(4xx exp: answers the workload provokes by design, e.g. agreeing to a request a block removed;"
          " errors: HTTP 5xx, connection failures, other statuses; shed: of the errors, HTTP 503 with"
          " Retry-After from the password-hashing queue, retried after it)")
    biz = [(route, r.biz) for route, r in rows if r.biz]
    if biz:
        print("business codes (HTTP 200, code != 200):")
        for route, b in biz:
            print(f"  {route:30} " + ", ".join(f"{code}: {n}" for code, n in sorted(b.items(), key=str)))
    odd = [(route, r.statuses) for route, r in rows if set(r.statuses) - {200}]
    if odd:
        print("HTTP statuses other than 200:")
        for route, s in odd:
            print(f"  {route:30} " + ", ".join(f"{k}: {n}" for k, n in sorted(s.items(), key=str) if k != 200))
    if stats.samples or stats.shed_samples:
        print("unexpected answers (first ones):")
        for s in stats.samples[:10] + stats.shed_samples:
            print("  " + s)


def vm(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k = line.split(":", 1)[0]
                if k in ("VmHWM", "VmRSS"):
                    out[k] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return out


def listens_on_loopback_only(port):
    """From /proc/net/tcp{,6}: the local addresses listening on `port`."""
    addrs = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    local, state = parts[1], parts[3]
                    ip, p = local.split(":")
                    if state == "0A" and int(p, 16) == port:
                        addrs.append(ip)
        except OSError:
            pass
    return addrs, all(a == "0100007F" for a in addrs) and bool(addrs)


# ---------------------------------------------------------------------------------------
# Checks


def run_checks(port, world, conc, rng):
    stats_list = []
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"{'PASS' if ok else 'FAIL'}  {name}" + (f"  [{detail}]" if detail else ""))

    users = list(world.users)
    t0 = time.perf_counter()

    def login(c, u):
        body = {"region": REGION, "phone": u.phone, "password": u.password}
        ans = password_call(c, "/user/login", body)
        if ans.ok and ans.cookie:
            u.cookie = ans.cookie
            return True
        return f"{u.phone}: HTTP {ans.status} {json.dumps(ans.body)[:200]}"

    logged = pool_map(conc, port, stats_list, login, users)
    bad = [x for x in logged if x is not True]
    check(
        f"all {len(users)} users log in with their password (concurrency {conc}, {time.perf_counter() - t0:.1f} s)",
        not bad,
        "; ".join(bad[:5]),
    )

    def gather(c, u):
        d = {}
        a = c.call("GET", "/user/own_info", "/user/own_info", cookie=u.cookie)
        d["own"] = a.result if a.ok else None
        a = c.call("GET", "/friendship/all", "/friendship/all", cookie=u.cookie)
        d["friends"] = a.result if a.ok else None
        d["follows"], d["follows_total"] = get_all_pages(c, "/user/follows", u.cookie, "/user/follows")
        d["fans"], d["fans_total"] = get_all_pages(c, "/user/fans", u.cookie, "/user/fans")
        d["blacklist"], d["blacklist_total"] = get_all_pages(c, "/user/blacklist", u.cookie, "/user/blacklist")
        a = c.call("GET", "/user/groups", "/user/groups", cookie=u.cookie)
        d["groups"] = a.result if a.ok else None
        # The counts as another user sees them on /user/:id (a card only, if they blocked the viewer).
        viewer = rng.choice(users)
        a = c.call("GET", f"/user/{u.id}", "/user/{id}", cookie=viewer.cookie)
        d["seen"] = a.result if a.ok else None
        return d

    data = pool_map(conc, port, stats_list, gather, users)
    by = {u.id: d for u, d in zip(users, data)}
    missing = [u.id for u, d in zip(users, data) if any(v is None for k, v in d.items() if k != "seen")]
    check("every user's lists could be read", not missing, ", ".join(missing[:5]))
    ok_users = [u for u in users if u.id not in missing]

    friend20 = {u.id: {e["user"]["id"] for e in by[u.id]["friends"] if e["status"] == 20} for u in ok_users}
    follows = {u.id: [e["userId"] for e in by[u.id]["follows"]] for u in ok_users}
    fans = {u.id: [e["userId"] for e in by[u.id]["fans"]] for u in ok_users}
    blocked = {u.id: {e["user"]["id"] for e in by[u.id]["blacklist"]} for u in ok_users}

    def compare(name, pairs):
        bad = [f"{uid}: {a} != {b}" for uid, a, b in pairs if a != b]
        check(name, not bad, f"{len(bad)} users, e.g. " + "; ".join(bad[:5]) if bad else "")

    compare("friendCount == /friendship/all entries with status 20",
            [(u.id, by[u.id]["own"]["friendCount"], len(friend20[u.id])) for u in ok_users])
    compare("followCount == /user/follows length (all pages)",
            [(u.id, by[u.id]["own"]["followCount"], len(follows[u.id])) for u in ok_users])
    compare("/user/follows pageInfo.totalCount == its length",
            [(u.id, by[u.id]["follows_total"], len(follows[u.id])) for u in ok_users])
    compare("own_info follows (all groups) == /user/follows",
            [(u.id, sorted(i for g in by[u.id]["own"]["follows"] for i in g["userIds"]), sorted(follows[u.id]))
             for u in ok_users])
    compare("fanCount == /user/fans length (all pages)",
            [(u.id, by[u.id]["own"]["fanCount"], len(fans[u.id])) for u in ok_users])
    compare("/user/fans pageInfo.totalCount == its length",
            [(u.id, by[u.id]["fans_total"], len(fans[u.id])) for u in ok_users])
    compare("own_info fanIds == /user/fans (first 100)",
            [(u.id, sorted(by[u.id]["own"]["fanIds"]), sorted(fans[u.id])) for u in ok_users if len(fans[u.id]) <= 100])
    compare("/user/blacklist pageInfo.totalCount == its length (no blocked count is exposed)",
            [(u.id, by[u.id]["blacklist_total"], len(by[u.id]["blacklist"])) for u in ok_users])
    compare("no duplicates in follows, fans, blacklist",
            [(u.id, (len(follows[u.id]), len(fans[u.id]), len(by[u.id]["blacklist"])),
              (len(set(follows[u.id])), len(set(fans[u.id])), len(blocked[u.id]))) for u in ok_users])
    seen = [(u, by[u.id]["seen"]) for u in ok_users if by[u.id]["seen"] and "friendCount" in by[u.id]["seen"]]
    compare(f"/user/{{id}} counts == own_info counts ({len(seen)} users seen with counts)",
            [(u.id, tuple(s[k] for k in ("friendCount", "followCount", "fanCount")),
              tuple(by[u.id]["own"][k] for k in ("friendCount", "followCount", "fanCount"))) for u, s in seen])

    ids = set(friend20)
    asym = [f"{a}->{b}" for a in ids for b in friend20[a] if b in ids and a not in friend20[b]]
    check("friendships are symmetric (A lists B with 20 => B lists A with 20)", not asym, ", ".join(asym[:5]))
    fol = {(a, b) for a in follows for b in follows[a]}
    fan = {(f, a) for a in fans for f in fans[a]}
    diff = sorted((fol ^ fan))
    check(f"follows and fans are the same edges ({len(fol)} follows)", not diff, ", ".join(f"{a}->{b}" for a, b in diff[:5]))
    clash = [f"{a} blocks {b}" for a in blocked for b in blocked[a]
             if b in friend20.get(a, ()) or a in friend20.get(b, ()) or (a, b) in fol or (b, a) in fol]
    check("a block leaves no friendship or follow between the two", not clash, ", ".join(clash[:5]))
    n_friend = sum(len(v) for v in friend20.values()) // 2
    n_block = sum(len(v) for v in blocked.values())
    print(f"      ({n_friend} friendships, {len(fol)} follows, {n_block} blocks)")

    # Groups: every group some user lists, read as one of its members.
    listing = collections.defaultdict(set)
    listed_count = collections.defaultdict(set)
    for u in ok_users:
        for g in by[u.id]["groups"]:
            listing[g["id"]].add(u.id)
            listed_count[g["id"]].add(g["memberCount"])
    gids = sorted(listing)
    cookie_of = {u.id: u.cookie for u in users}

    def read_group(c, g):
        who = cookie_of[sorted(listing[g])[0]]
        info = c.call("GET", f"/group/{g}", "/group/{id}", cookie=who)
        mem = c.call("GET", f"/group/{g}/members", "/group/{id}/members", cookie=who)
        return (info.result if info.ok else None, mem.result if mem.ok else None)

    groups = pool_map(conc, port, stats_list, read_group, gids)
    unread = [g for g, (i, m) in zip(gids, groups) if i is None or m is None]
    check(f"every listed group ({len(gids)}) can be read by a member", not unread, ", ".join(unread[:5]))
    pairs = [(g, i, m) for g, (i, m) in zip(gids, groups) if i is not None and m is not None]
    bad = [f"{g}: memberCount {i['memberCount']} != {len(m)} members" for g, i, m in pairs if i["memberCount"] != len(m)]
    check("/group/{id} memberCount == /group/{id}/members length", not bad, "; ".join(bad[:5]))
    bad = [f"{g}: /user/groups says {sorted(listed_count[g])}, /group says {i['memberCount']}"
           for g, i, m in pairs if listed_count[g] != {i["memberCount"]}]
    check("/user/groups memberCount == /group/{id} memberCount", not bad, "; ".join(bad[:5]))
    bad = []
    for g, i, m in pairs:
        members = {x["user"]["id"] for x in m}
        if members != listing[g]:
            bad.append(f"{g}: members-not-listing {sorted(members - listing[g])[:3]}, listing-not-members {sorted(listing[g] - members)[:3]}")
    check("group membership is symmetric (members list <=> the member's /user/groups)", not bad, "; ".join(bad[:5]))
    roles = [g for g, i, m in pairs if sum(1 for x in m if x["role"] == 0) != 1]
    check("each group has exactly one creator (role 0)", not roles, ", ".join(roles[:5]))

    stats = Stats()
    for s in stats_list:
        stats.merge(s)
    return all(results), stats


# ---------------------------------------------------------------------------------------


def shown(path):
    rel = os.path.relpath(path, ROOT)
    return path if rel.startswith("..") else rel


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=DEFAULT_BINARY, help=f"default {DEFAULT_BINARY} (relative to the repo root)")
    ap.add_argument("--requests", type=int, default=10000, help="requests in all, sign-ups included")
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--users", type=int, default=200, help="users signed up in phase 1")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--durability", choices=["full", "normal"], default=None,
                    help="ROSTER_SQLITE_DURABILITY (the server's default, full, when omitted)")
    ap.add_argument("--allow-shed", action="store_true",
                    help="do not fail the run for HTTP 503 + Retry-After from the password-hashing queue "
                         "(its documented overload answer); they are still counted and printed")
    args = ap.parse_args()

    binary = args.binary if os.path.isabs(args.binary) else os.path.join(ROOT, args.binary)
    if not os.path.exists(binary):
        print(f"{binary} is missing; build it first:\n  {BUILD}", file=sys.stderr)
        sys.exit(2)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    n_users = max(2, min(args.users, args.requests // 8))

    data = tempfile.mkdtemp(prefix="roster-load-")
    port = free_port()
    env = dict(os.environ, ROSTER_PORT=str(port), ROSTER_DATA_DIR=data, RUST_LOG="warn", **RAISED)
    for k in ("ROSTER_STORE", "ROSTER_PRODUCTION", "ROSTER_SMS", "ROSTER_EMAIL", "ROSTER_UPLOADS",
              "ROSTER_TEST_NUMBERS", "ROSTER_PUBLIC_URL", "ROSTER_SQLITE_DURABILITY"):
        env.pop(k, None)
    if args.durability:
        env["ROSTER_SQLITE_DURABILITY"] = args.durability
    log_path = os.path.join(data, "server.log")
    server = None
    def on_term(*_):
        raise KeyboardInterrupt()

    old_term = signal.signal(signal.SIGTERM, on_term)
    exit_code = 1
    try:
        log = open(log_path, "wb")
        server = subprocess.Popen([binary], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=data)
        log.close()
        print(f"binary: {shown(binary)} (pid {server.pid}); data folder {data}; seed {seed}")
        print("raised for the run: " + ", ".join(f"{k}={v}" for k, v in RAISED.items()) + "; RUST_LOG=warn")
        print(f"ROSTER_SQLITE_DURABILITY={args.durability} (set by --durability)" if args.durability
              else "ROSTER_SQLITE_DURABILITY not set: the server's default (full, the WAL synced at every commit)")
        deadline = time.time() + 30
        while True:
            if server.poll() is not None:
                with open(log_path, errors="replace") as f:
                    print(f.read()[-2000:], file=sys.stderr)
                sys.exit(f"the server exited with {server.returncode}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/user/regionlist")
                if c.getresponse().status == 200:
                    c.close()
                    break
            except OSError:
                pass
            if time.time() > deadline:
                sys.exit("the server did not answer within 30 s")
            time.sleep(0.05)
        addrs, loopback = listens_on_loopback_only(port)
        print(f"listening on 127.0.0.1:{port} ({'loopback only' if loopback else 'NOT loopback only: ' + str(addrs)})")
        if not loopback:
            sys.exit("refusing to load a server that listens beyond 127.0.0.1")
        # Every group must be served: without a session each of these answers 403, not 404.
        missing = []
        for path in ("/user/own_info", "/friendship/all", "/user/follows", "/user/groups", "/user/sync/0"):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", path)
            res = c.getresponse()
            if res.status == 404:
                missing.append(path)
            res.read()
            c.close()
        if missing:
            print(f"{shown(binary)} does not serve {', '.join(missing)} (built from an older "
                  f"commit?); rebuild it:\n  {BUILD}", file=sys.stderr)
            return 2

        rng = random.Random(seed)
        world = World(random.Random(rng.random()))
        budget = Budget(args.requests)
        stats_list = []  # phase 1
        stats_p2 = []
        weights = [w for w, _ in MIX]
        ops = [o for _, o in MIX]

        # Phase 1: sign-ups, spread over the workers.
        todo = list(range(n_users))
        todo_lock = threading.Lock()
        t_start = time.perf_counter()
        cpu_start = time.process_time()

        def phase1(i):
            st = Stats()
            c = Client(port, st, budget)
            r = random.Random(seed * 1000 + i)
            try:
                while True:
                    with todo_lock:
                        if not todo:
                            return
                        k = todo.pop()
                    sign_up(c, world, r, f"User {k}")
            except Exhausted:
                pass
            finally:
                c.close()
                with todo_lock:
                    stats_list.append(st)

        run_threads(args.concurrency, phase1)
        t_phase1 = time.perf_counter() - t_start
        print(f"phase 1: {len(world.users)} of {n_users} users signed up in {t_phase1:.1f} s")
        if len(world.users) < 2:
            raise SystemExit("too few users signed up to go on")

        def phase2(i):
            st = Stats()
            c = Client(port, st, budget)
            r = random.Random(seed * 1000 + 500 + i)
            try:
                while True:
                    u = r.choice(world.users)
                    r.choices(ops, weights)[0](c, world, r, u)
            except Exhausted:
                pass
            finally:
                c.close()
                with todo_lock:
                    stats_p2.append(st)

        run_threads(args.concurrency, phase2)
        wall = time.perf_counter() - t_start
        cpu = time.process_time() - cpu_start
        mem_after_load = vm(server.pid)
        stats, p2 = Stats(), Stats()
        for s in stats_list + stats_p2:
            stats.merge(s)
        for s in stats_p2:
            p2.merge(s)
        total = stats.total()
        print()
        print(f"requests: {total} (phase 1 sign-ups and phase 2 mix), concurrency {args.concurrency}")
        print(f"wall time: {wall:.2f} s (phase 1 {t_phase1:.2f} s); {total / wall:.1f} requests/s overall")
        print(f"load generator CPU: {cpu:.1f} s ({cpu / max(1, total) * 1000:.2f} ms a request), on the same "
              f"{os.cpu_count()} cores as the server")
        gets = sum(len(r.lat) for k, r in p2.routes.items() if r.method == "GET" and k != "/_local/outbox")
        posts = sum(len(r.lat) for r in p2.routes.values() if r.method == "POST")
        n2 = max(1, p2.total())
        print(f"phase 2: {p2.total()} requests: {gets / n2:.0%} reads (GET), {posts / n2:.0%} writes and actions "
              f"(POST: changes, logins, codes, sign-ups), the rest the outbox")
        print(f"users: {len(world.users)} ({n_users} in phase 1), groups created: {len(world.groups)}")
        print(f"HTTP 5xx: {stats.fivexx} (of which {stats.shed} password-hashing sheds, retried); "
              f"connection failures: {stats.conn_failures}; "
              f"unexpected answers: {sum(r.errors for r in stats.routes.values())}")
        print()
        print_table(stats, wall)
        print()
        print(f"server memory after the load: VmHWM {mem_after_load.get('VmHWM', -1):.1f} MiB (peak), "
              f"VmRSS {mem_after_load.get('VmRSS', -1):.1f} MiB")

        print()
        print("consistency checks (requests not counted above):")
        t_checks = time.perf_counter()
        checks_ok, cstats = run_checks(port, world, args.concurrency, rng)
        ct = time.perf_counter() - t_checks
        print(f"check requests: {cstats.total()} in {ct:.1f} s; HTTP 5xx: {cstats.fivexx} "
              f"(of which {cstats.shed} password-hashing sheds, retried); connection failures: {cstats.conn_failures}")
        if cstats.samples or cstats.shed_samples:
            print_table(cstats, ct)
        sheds = stats.shed + cstats.shed
        other5xx = stats.fivexx + cstats.fivexx - sheds + stats.conn_failures + cstats.conn_failures
        print(f"{'PASS' if other5xx == 0 else 'FAIL'}  no HTTP 5xx (other than sheds) and no connection failure, "
              f"load and checks ({other5xx})")
        shed_ok = sheds == 0 or args.allow_shed
        print(f"{'PASS' if sheds == 0 else ('WARN' if args.allow_shed else 'FAIL')}  no HTTP 503 shed by the "
              f"password-hashing queue ({sheds}: more password requests queued than it hashes in 2 s"
              f"{'; allowed by --allow-shed' if sheds and args.allow_shed else ''})")
        no5xx = other5xx == 0 and shed_ok
        unexpected = sum(r.errors - r.shed for r in stats.routes.values())
        unexpected += sum(r.errors - r.shed for r in cstats.routes.values())
        print(f"{'PASS' if unexpected == 0 else 'FAIL'}  no unexpected HTTP status, sheds aside ({unexpected})")
        mem = vm(server.pid)
        print(f"server memory at the end: VmHWM {mem.get('VmHWM', -1):.1f} MiB (peak), VmRSS {mem.get('VmRSS', -1):.1f} MiB")
        if other5xx or unexpected:
            with open(log_path, errors="replace") as f:
                errs = [line.rstrip() for line in f if '"ERROR"' in line or "error" in line.lower()]
            if errs:
                print("server log, error lines (first 10):")
                for line in errs[:10]:
                    print("  " + line[:400])
        exit_code = 0 if checks_ok and no5xx and unexpected == 0 else 1
        print("RESULT: " + ("all checks PASS" if exit_code == 0 else "FAIL"))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        exit_code = 130
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        signal.signal(signal.SIGTERM, old_term)
        shutil.rmtree(data, ignore_errors=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
