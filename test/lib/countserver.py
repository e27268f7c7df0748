#!/usr/bin/env python3
"""countserver.py - a static file server for tests that counts requests and
injects faults.  Serves a directory on 127.0.0.1 over HTTP/1.1 (keep-alive),
with ETag and Last-Modified validators (If-None-Match, If-Modified-Since).

    countserver.py --directory DIR --port-file FILE [--no-etag] [--no-last-modified]

Control endpoints (not counted):
    GET /__jcicd/stats            {"requests": N, "bytes": N, "paths": {path: N}, "statuses": {...}}
    GET /__jcicd/reset            zero the counters
    GET /__jcicd/fault?path=GLOB&mode=MODE[&times=N]
            MODE: 404, 500, 503, truncate (half the body, then close), corrupt (one
            byte flipped), reset (close without answering), slow (delay_ms=N first)
            times: how many matching requests get the fault (default: all)
    GET /__jcicd/clear            remove every fault
"""
import argparse
import email.utils
import fnmatch
import json
import os
import socket
import sys
import threading
import time
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATS = {"requests": 0, "bytes": 0, "paths": {}, "statuses": {}}
FAULTS = []  # dicts: path, mode, times, delay_ms
OPTS = None


def count(path, status, nbytes):
    with LOCK:
        STATS["requests"] += 1
        STATS["bytes"] += nbytes
        STATS["paths"][path] = STATS["paths"].get(path, 0) + 1
        STATS["statuses"][str(status)] = STATS["statuses"].get(str(status), 0) + 1


def take_fault(path):
    with LOCK:
        for f in FAULTS:
            if fnmatch.fnmatchcase(path, f["path"]) and f["times"] != 0:
                if f["times"] > 0:
                    f["times"] -= 1
                return dict(f)
    return None


class Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle on, the body waits for
    # the client's delayed ACK of the headers (40 ms a response on loopback),
    # which no production server (nginx, Apache: TCP_NODELAY) makes clients pay.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet unless asked
        if OPTS.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    def control(self, path, query):
        q = urllib.parse.parse_qs(query)
        if path == "/__jcicd/stats":
            with LOCK:
                body = json.dumps(STATS).encode()
        elif path == "/__jcicd/reset":
            with LOCK:
                STATS.update({"requests": 0, "bytes": 0, "paths": {}, "statuses": {}})
            body = b"{}"
        elif path == "/__jcicd/clear":
            with LOCK:
                FAULTS.clear()
            body = b"{}"
        elif path == "/__jcicd/fault":
            f = {"path": q["path"][0], "mode": q["mode"][0],
                 "times": int(q.get("times", ["-1"])[0]),
                 "delay_ms": int(q.get("delay_ms", ["0"])[0])}
            with LOCK:
                FAULTS.append(f)
            body = json.dumps(f).encode()
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self):
        self.serve(head=True)

    def do_GET(self):
        self.serve(head=False)

    def answer(self, path, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
        count(path, status, len(body))

    def serve(self, head):
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        if path.startswith("/__jcicd/"):
            return self.control(path, url.query)
        fault = take_fault(path)
        if fault and fault["delay_ms"]:
            time.sleep(fault["delay_ms"] / 1000.0)
        if fault and fault["mode"] == "reset":
            count(path, 0, 0)
            self.close_connection = True
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                self.connection.close()
            except OSError:
                pass
            return
        if fault and fault["mode"] in ("404", "500", "503"):
            status = int(fault["mode"])
            msg = ("injected fault %s\n" % status).encode()
            return self.answer(path, status, msg, [("Content-Type", "text/plain")])
        fs = self.translate_path(url.path)
        if os.path.isdir(fs) or not os.path.isfile(fs):
            return self.answer(path, 404, b"not found\n", [("Content-Type", "text/plain")])
        st = os.stat(fs)
        etag = '"%x-%x-%x"' % (st.st_ino, st.st_size, st.st_mtime_ns)
        lm = email.utils.formatdate(st.st_mtime, usegmt=True)
        headers = [("Content-Type", "application/octet-stream")]
        if not OPTS.no_etag:
            headers.append(("ETag", etag))
        if not OPTS.no_last_modified:
            headers.append(("Last-Modified", lm))
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if inm is not None and not OPTS.no_etag:
            if etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*":
                return self.answer(path, 304, b"", headers)
        elif ims is not None and not OPTS.no_last_modified:
            try:
                since = email.utils.parsedate_to_datetime(ims).timestamp()
                if int(st.st_mtime) <= since:
                    return self.answer(path, 304, b"", headers)
            except (TypeError, ValueError):
                pass
        with open(fs, "rb") as f:
            body = f.read()
        if head:
            self.send_response(200)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            count(path, 200, 0)
            return
        if fault and fault["mode"] == "corrupt" and body:
            i = len(body) // 2
            body = body[:i] + bytes([body[i] ^ 0xFF]) + body[i + 1:]
        if fault and fault["mode"] == "truncate":
            self.send_response(200)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            part = body[: len(body) // 2]
            self.wfile.write(part)
            self.wfile.flush()
            count(path, 200, len(part))
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.answer(path, 200, body, headers)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5: a client opening 8 connections
    # at once has SYNs dropped and retried a second later
    request_queue_size = 128


def main():
    global OPTS
    ap = argparse.ArgumentParser()
    ap.add_argument("--directory", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--no-etag", action="store_true")
    ap.add_argument("--no-last-modified", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    OPTS = ap.parse_args()
    OPTS.directory = os.path.abspath(OPTS.directory)
    os.chdir(OPTS.directory)

    class H(Handler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=OPTS.directory, **kw)

    srv = Server(("127.0.0.1", OPTS.port), H)
    port = srv.server_address[1]
    if OPTS.port_file:
        tmp = OPTS.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, OPTS.port_file)
    else:
        print(port, flush=True)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
