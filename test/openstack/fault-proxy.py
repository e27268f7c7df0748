#!/usr/bin/python3
"""test/openstack/fault-proxy.py - a test-only HTTP proxy that sits in front
of real OpenStack services and makes a share of the requests fail.

  fault-proxy.py --port-file F --stats F [--rate 0.2] [--seed N]
                 [--faults 429,503,500,500-after,reset,reset-after,delay,truncate]
                 NAME=URL [NAME=URL ...]

Each NAME=URL gets its own listener on 127.0.0.1 (an ephemeral port; the
port file gets one "NAME PORT" line each once all are listening).  A
request that is not picked for a fault goes to URL unchanged and its answer
comes back unchanged; the client's connection is kept alive (HTTP/1.1).
Faults, each as likely as the others:
  429          answer 429 with Retry-After: 1; nothing is forwarded
  503          answer 503 with Retry-After: 1; nothing is forwarded
  500          answer 500; nothing is forwarded
  500-after    forward, then answer 500 (the server acted)
  reset        close the connection before forwarding
  reset-after  forward, then close the connection without an answer
  delay        wait --delay-ms, then forward
  truncate     forward, then send the headers and half of the body, close
The stats file (JSON) counts requests and faults by kind and by method,
rewritten after every request.  Python 3 standard library only.
"""
import argparse
import http.client
import http.server
import json
import os
import random
import socket
import sys
import threading
import time
import urllib.parse

HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
       "content-length", "host"}
ALL_FAULTS = ["429", "503", "500", "500-after", "reset", "reset-after", "delay", "truncate"]


class Stats:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.data = {"requests": 0, "forwarded": 0, "faults": {}, "by_method": {}, "fault_log": []}

    def count(self, service, method, path, fault):
        with self.lock:
            d = self.data
            d["requests"] += 1
            m = d["by_method"].setdefault(method, {"requests": 0, "faults": 0})
            m["requests"] += 1
            if fault:
                d["faults"][fault] = d["faults"].get(fault, 0) + 1
                m["faults"] += 1
                if len(d["fault_log"]) < 2000:
                    d["fault_log"].append([round(time.time(), 3), service, method, path, fault])
            if fault not in ("429", "503", "500", "reset"):
                d["forwarded"] += 1
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(d, f, indent=1)
            os.replace(tmp, self.path)


def make_handler(name, target, opts, stats, rng, rng_lock):
    up = urllib.parse.urlsplit(target)
    base_path = up.path.rstrip("/")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        upstream = None

        def log_message(self, fmt, *args):
            pass

        def pick(self):
            with rng_lock:
                if rng.random() >= opts.rate:
                    return None
                return rng.choice(opts.faults)

        def conn(self):
            # one kept-alive connection to the real service per client connection
            if self.upstream is None:
                cls = http.client.HTTPSConnection if up.scheme == "https" else http.client.HTTPConnection
                self.upstream = cls(up.hostname, up.port, timeout=300)
            return self.upstream

        def forward(self, body):
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            headers["Host"] = up.netloc
            for attempt in (1, 2):
                try:
                    c = self.conn()
                    c.request(self.command, base_path + self.path, body=body, headers=headers)
                    r = c.getresponse()
                    data = r.read()
                    return r.status, r.reason, [(k, v) for k, v in r.getheaders() if k.lower() not in HOP], data
                except (ConnectionError, http.client.HTTPException, socket.timeout):
                    # the upstream closed a kept-alive connection: a new one, once
                    if self.upstream:
                        self.upstream.close()
                    self.upstream = None
                    if attempt == 2:
                        raise

        def answer(self, status, reason, headers, data, cut=False):
            self.send_response_only(status, reason)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if cut:
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.drop()
                return
            self.wfile.write(data)

        def drop(self):
            # an abortive close: the client sees a reset, not a clean end
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            except OSError:
                pass
            self.close_connection = True
            try:
                self.connection.close()
            except OSError:
                pass

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            fault = self.pick()
            stats.count(name, self.command, self.path, fault)
            err = json.dumps({"error": {"code": 0, "message": "injected by fault-proxy: %s" % fault}}).encode()
            if fault in ("429", "503"):
                self.answer(int(fault), "Injected", [("Retry-After", "1"), ("Content-Type", "application/json")],
                            err)
                return
            if fault == "500":
                self.answer(500, "Injected", [("Content-Type", "application/json")], err)
                return
            if fault == "reset":
                self.drop()
                return
            if fault == "delay":
                time.sleep(opts.delay_ms / 1000.0)
            try:
                status, reason, headers, data = self.forward(body)
            except Exception as e:  # the real service is down: say so
                self.answer(502, "Bad Gateway", [("Content-Type", "text/plain")], str(e).encode())
                return
            if fault == "500-after":
                self.answer(500, "Injected", [("Content-Type", "application/json")], err)
            elif fault == "reset-after":
                self.drop()
            elif fault == "truncate" and len(data) > 1:
                self.answer(status, reason, headers, data, cut=True)
            else:
                self.answer(status, reason, headers, data)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--stats", required=True)
    ap.add_argument("--rate", type=float, default=0.2)
    ap.add_argument("--seed", default=None, help="any string: the same seed makes the same choices")
    ap.add_argument("--faults", default=",".join(ALL_FAULTS))
    ap.add_argument("--delay-ms", type=int, default=1500)
    ap.add_argument("targets", nargs="+", metavar="NAME=URL")
    opts = ap.parse_args()
    opts.faults = [f for f in opts.faults.split(",") if f]
    for f in opts.faults:
        if f not in ALL_FAULTS:
            sys.exit("fault-proxy: unknown fault %s (known: %s)" % (f, ", ".join(ALL_FAULTS)))
    rng = random.Random(opts.seed)
    rng_lock = threading.Lock()
    stats = Stats(opts.stats)
    servers, lines = [], []
    for t in opts.targets:
        name, _, url = t.partition("=")
        http.server.ThreadingHTTPServer.request_queue_size = 64
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                              make_handler(name, url, opts, stats, rng, rng_lock))
        srv.daemon_threads = True
        servers.append(srv)
        lines.append("%s %d\n" % (name, srv.server_address[1]))
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    tmp = opts.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.writelines(lines)
    os.replace(tmp, opts.port_file)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
