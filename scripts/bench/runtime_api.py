"""A minimal stand-in for the Lambda runtime API on loopback, for the cold-start benchmark.

It hands out one invocation (the given API Gateway event) and records when the function
answers. Only the routes a function uses at start-up and for one invocation exist.
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RuntimeApi:
    def __init__(self, event: bytes):
        self.event = event
        self.handed_out = threading.Event()
        self.answered = threading.Event()
        self.answered_at = None
        self.response = None
        api = self

        class Handler(BaseHTTPRequestHandler):
            # Headers and body go out in two writes: without this, Nagle's algorithm and
            # the client's delayed ACK add ~40 ms that belong to the stand-in, not Roster.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path.endswith("/runtime/invocation/next"):
                    if api.handed_out.is_set():
                        # One invocation per run: park the poller until the run ends.
                        api.answered.wait(30)
                        time.sleep(30)
                        return
                    api.handed_out.set()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Lambda-Runtime-Aws-Request-Id", "bench-1")
                    self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
                    self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
                    self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
                    self.send_header("Content-Length", str(len(api.event)))
                    self.end_headers()
                    self.wfile.write(api.event)
                else:
                    self.send_response(404)
                    self.end_headers()

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if "/response" in self.path or "/error" in self.path:
                    api.answered_at = time.perf_counter()
                    api.response = (self.path, body)
                    api.answered.set()
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self):
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()
