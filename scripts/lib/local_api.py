"""Talking to a local Roster server from the scripts (standard library only): a free
loopback port, waiting for the server to answer, JSON calls, and a user signed up through
the local outbox. Used by scripts/bench/ratio.py and scripts/test-tools/fuzz.py."""

import http.client
import json
import re
import socket
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def call(port, method, path, body=None, cookie=None):
    """One request with a JSON body; answers the response and its decoded JSON (or None)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"content-type": "application/json"}
    if cookie:
        headers["cookie"] = cookie
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    res = conn.getresponse()
    raw = res.read()
    return res, (json.loads(raw) if raw else None)


def wait_for(port, path="/user/regionlist", seconds=30):
    """Polls `path` until the server answers; answers its decoded JSON."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return call(port, "GET", path)[1]
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"nothing answered on 127.0.0.1:{port}")
            time.sleep(0.05)


def sign_up(port, national, nickname="Script", password="P@ssw0rd"):
    """Signs up +86 `national` with the code from the outbox; answers the session cookie
    (`name=value`) and the user id."""
    _, body = call(port, "POST", "/user/send_code", {"region": 86, "phone": national})
    assert body["code"] == 200, body
    _, box = call(port, "GET", "/_local/outbox")
    texts = [m["text"] for m in box["result"] if m["to"].endswith(national)]
    code = re.search(r"\d{6}", texts[-1]).group(0)
    _, body = call(port, "POST", "/user/verify_code", {"region": 86, "phone": national, "code": code})
    token = body["result"]["verification_token"]
    res, body = call(port, "POST", "/user/register",
                     {"nickname": nickname, "password": password, "verification_token": token})
    assert body["code"] == 200, body
    return res.getheader("set-cookie").split(";")[0], body["result"]["id"]
