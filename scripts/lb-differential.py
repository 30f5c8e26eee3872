#!/usr/bin/env python3
"""Differential test of `portico lb` against HAProxy on loopback: the same raw bytes go to both.

    python3 scripts/lb-differential.py              # every case, one summary line each
    python3 scripts/lb-differential.py -v obs-fold  # cases whose name contains "obs-fold", with details
    PORTICO_BIN=.build/debug/portico HAPROXY_BIN=/usr/sbin/haproxy python3 scripts/lb-differential.py

It starts, on 127.0.0.1 ports 47000-47999 only: two recording backends (raw TCP, in this process: one per
balancer, so both balancers run each case at the same time), `portico lb` and `haproxy -db` with the same
haproxy.cfg (mode http, option forwardfor, httplog to stdout, timeout http-request 2s, one server). Each
case sends the same byte sequence to both balancers and compares what the client gets (status lines and
headers without Date, bodies, whether the connection was closed) and the exact bytes the backend received
(header names lower-cased, X-Forwarded-For dropped). A backend answers each complete request it parses
with the case's canned response. Differences are listed, not judged: deciding which side is right is the
reader's job (docs/lb-operations.md lists the deliberate ones). Everything started here is stopped on exit.
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORTICO = os.environ.get("PORTICO_BIN", os.path.join(ROOT, ".build/debug/portico"))
HAPROXY = os.environ.get("HAPROXY_BIN", "/usr/sbin/haproxy")
BASE = int(os.environ.get("DIFF_PORT_BASE", "47000"))

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class Backend:
    """Records every byte it receives; answers each complete request with `self.response` (bytes, or a
    function of the request head returning bytes, or None for silence). `close_after`: close once answered.
    Requests with `Expect: 100-continue` get an interim 100 before their body is read."""

    def __init__(self, port):
        self.port = port
        self.received = bytearray()
        self.connections = 0
        self.response = OK
        self.close_after = False
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def reset(self, response, close_after):
        with self.lock:
            self.received = bytearray()
            self.connections = 0
            self.response = response
            self.close_after = close_after

    def accept_loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        buf = b""
        sent_continue = False
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                with self.lock:
                    self.received += data
                buf += data
                while True:
                    head_end = buf.find(b"\r\n\r\n")
                    if head_end < 0:
                        break
                    head = buf[:head_end].decode("latin-1")
                    fields = {}
                    for line in head.split("\r\n")[1:]:
                        name, _, value = line.partition(":")
                        fields.setdefault(name.strip().lower(), value.strip())
                    if fields.get("expect", "").lower() == "100-continue" and not sent_continue:
                        conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                        sent_continue = True
                    end = message_end(buf, head_end + 4, fields)
                    if end is None:
                        break
                    buf = buf[end:]
                    sent_continue = False
                    response = self.response(head) if callable(self.response) else self.response
                    if response is not None:
                        conn.sendall(response)
                    if self.close_after:
                        conn.close()
                        return
        except OSError:
            pass
        finally:
            conn.close()


def message_end(buf, body_start, fields):
    """Where the request that starts at 0 ends, or None while incomplete."""
    if "chunked" in fields.get("transfer-encoding", "").lower():
        pos = body_start
        while True:
            line_end = buf.find(b"\r\n", pos)
            if line_end < 0:
                return None
            size = int(buf[pos:line_end].split(b";")[0].strip() or b"0", 16)
            if size == 0:
                trailer_end = buf.find(b"\r\n\r\n", line_end)
                if buf[line_end:line_end + 4] == b"\r\n\r\n":
                    return line_end + 4
                return None if trailer_end < 0 else trailer_end + 4
            pos = line_end + 2 + size + 2
            if pos > len(buf):
                return None
    length = int(fields.get("content-length", "0") or "0")
    return body_start + length if len(buf) >= body_start + length else None


def exchange(port, parts, pause=0.3, idle=1.0, first_wait=4.0):
    """Sends `parts` (pausing between them), then reads until the balancer closes, or `idle` seconds pass
    without a byte once something arrived (`first_wait` before). Returns (bytes, how it ended)."""
    sock = socket.create_connection(("127.0.0.1", port))
    got = b""
    ending = "open"
    try:
        for index, part in enumerate(parts):
            if index:
                time.sleep(pause)
            try:
                sock.sendall(part)
            except OSError as error:
                ending = "send-failed (%s)" % error.__class__.__name__
        deadline = time.time() + first_wait
        while True:
            wait = (idle if got else deadline - time.time())
            if wait <= 0:
                break
            sock.settimeout(wait)
            try:
                data = sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                ending = "reset"
                break
            if not data:
                ending = "closed"
                break
            got += data
    finally:
        sock.close()
    return got, ending


def summarize_responses(raw):
    """Each response's status line and fields (Date dropped, names lower-cased), and its body."""
    out = []
    rest = raw
    while rest:
        head_end = rest.find(b"\r\n\r\n")
        if head_end < 0:
            out.append(("<partial> %r" % rest[:200], b""))
            break
        lines = rest[:head_end].decode("latin-1").split("\r\n")
        fields = []
        length = None
        chunked = False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.lower()
            if name == "content-length":
                length = int(value.strip()) if value.strip().isdigit() else None
            if name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            if name not in ("date",):
                fields.append("%s:%s" % (name, value))
        status = lines[0]
        rest = rest[head_end + 4:]
        code = status.split(" ")[1] if " " in status else ""
        if code.startswith("1") or code in ("204", "304") or chunked:
            body = b""
            if chunked:  # not needed for the cases here; keep what follows as the body
                body, rest = rest, b""
        elif length is not None:
            body, rest = rest[:length], rest[length:]
        else:
            body, rest = rest, b""
        out.append((status + " | " + " ; ".join(fields), body))
    return out


def normalize_request_bytes(raw):
    text = raw.decode("latin-1")
    lines = []
    for line in text.split("\r\n"):
        match = re.match(r"^([!#$%&'*+.^_`|~0-9A-Za-z-]+):(.*)$", line)
        if match:
            if match.group(1).lower() == "x-forwarded-for":
                continue
            line = match.group(1).lower() + ":" + match.group(2)
        lines.append(line)
    return "\r\n".join(lines).encode("latin-1")


def config(port, server_port):
    return """global
    maxconn 200
    log stdout format raw local0
defaults
    mode http
    log global
    option httplog
    option forwardfor
    timeout connect 2s
    timeout client 3s
    timeout server 3s
    timeout http-request 2s
frontend fe
    bind 127.0.0.1:%d
    default_backend be
backend be
    server s1 127.0.0.1:%d
""" % (port, server_port)


def server_close_mid_body(_head):
    return b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"


def head_gets_body(head):
    return b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


B = lambda s: s.encode("latin-1") if isinstance(s, str) else s  # noqa: E731
H = "Host: x\r\n"
CASES = [
    # name, client parts, backend response, backend closes after answering
    ("baseline GET", ["GET /a HTTP/1.1\r\n" + H + "\r\n"], OK, False),
    ("missing Host HTTP/1.1", ["GET /a HTTP/1.1\r\n\r\n"], OK, False),
    ("missing Host HTTP/1.0", ["GET /a HTTP/1.0\r\n\r\n"], OK, False),
    ("two Host headers", ["GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"], OK, False),
    ("two identical Host headers", ["GET /a HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"], OK, False),
    ("absolute-form, other Host", ["GET http://example.com/x HTTP/1.1\r\nHost: other\r\n\r\n"], OK, False),
    ("absolute-form, same Host", ["GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n"], OK, False),
    ("absolute-form, default port on the target", ["GET http://example.com:80/x HTTP/1.1\r\nHost: example.com\r\n\r\n"],
     OK, False),
    ("absolute-form, default port in Host", ["GET http://example.com/x HTTP/1.1\r\nHost: example.com:80\r\n\r\n"],
     OK, False),
    ("absolute-form, https default port", ["GET https://example.com:443/x HTTP/1.1\r\nHost: example.com\r\n\r\n"],
     OK, False),
    ("absolute-form, empty authority", ["GET http:///x HTTP/1.1\r\nHost: example.com\r\n\r\n"], OK, False),
    ("space before colon", ["GET /a HTTP/1.1\r\n" + H + "X-A : 1\r\n\r\n"], OK, False),
    ("invalid char in name", ["GET /a HTTP/1.1\r\n" + H + "X(A): 1\r\n\r\n"], OK, False),
    ("NUL in value", ["GET /a HTTP/1.1\r\n" + H + "X-A: 1\x002\r\n\r\n"], OK, False),
    ("control byte 0x01 in value", ["GET /a HTTP/1.1\r\n" + H + "X-A: 1\x012\r\n\r\n"], OK, False),
    ("DEL in value", ["GET /a HTTP/1.1\r\n" + H + "X-A: 1\x7f2\r\n\r\n"], OK, False),
    ("obs-text (0xE9) in value", ["GET /a HTTP/1.1\r\n" + H + "X-A: caf\xe9\r\n\r\n"], OK, False),
    ("two spaces in request line", ["GET  /a HTTP/1.1\r\n" + H + "\r\n"], OK, False),
    ("lowercase method", ["get /a HTTP/1.1\r\n" + H + "\r\n"], OK, False),
    ("unknown method", ["FOO /a HTTP/1.1\r\n" + H + "\r\n"], OK, False),
    ("HTTP/0.9 GET /", ["GET /\r\n"], OK, False),
    ("HTTP/1.2", ["GET /a HTTP/1.2\r\n" + H + "\r\n"], OK, False),
    ("HTTP/2.0 on the wire", ["GET /a HTTP/2.0\r\n" + H + "\r\n"], OK, False),
    ("HTTP/2 preface", ["PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"], OK, False),
    ("20 KiB URI", ["GET /" + "a" * 20480 + " HTTP/1.1\r\n" + H + "\r\n"], OK, False),
    ("12 KiB URI", ["GET /" + "a" * 12288 + " HTTP/1.1\r\n" + H + "\r\n"], OK, False),
    ("150 headers", ["GET /a HTTP/1.1\r\n" + H + "".join("X-%d: v\r\n" % i for i in range(150)) + "\r\n"],
     OK, False),
    ("100 headers", ["GET /a HTTP/1.1\r\n" + H + "".join("X-%d: v\r\n" % i for i in range(99)) + "\r\n"],
     OK, False),
    ("Content-Length: +5", ["POST /a HTTP/1.1\r\n" + H + "Content-Length: +5\r\n\r\nhello"], OK, False),
    ("Content-Length: 0x5", ["POST /a HTTP/1.1\r\n" + H + "Content-Length: 0x5\r\n\r\nhello"], OK, False),
    ("Content-Length: 5, 6", ["POST /a HTTP/1.1\r\n" + H + "Content-Length: 5, 6\r\n\r\nhello!"], OK, False),
    ("Content-Length: 5, 5", ["POST /a HTTP/1.1\r\n" + H + "Content-Length: 5, 5\r\n\r\nhello"], OK, False),
    ("Content-Length: -1", ["POST /a HTTP/1.1\r\n" + H + "Content-Length: -1\r\n\r\nhello"], OK, False),
    ("Content-Length huge", ["POST /a HTTP/1.1\r\n" + H + "Content-Length: 99999999999999999999\r\n\r\nhi"],
     OK, False),
    ("TE: chunked, identity", ["POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, identity\r\n\r\n"
                               "5\r\nhello\r\n0\r\n\r\n"], OK, False),
    ("TE: identity", ["POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n"],
     OK, False),
    ("TE: chunked in HTTP/1.0", ["POST /a HTTP/1.0\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n"
                                 "5\r\nhello\r\n0\r\n\r\n"], OK, False),
    ("TE: xchunked", ["POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"],
     OK, False),
    ("TE: gzip, chunked", ["POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip, chunked\r\n\r\n"
                           "5\r\nhello\r\n0\r\n\r\n"], OK, False),
    ("TE: Chunked (case)", ["POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"],
     OK, False),
    ("chunked OK", ["POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"],
     OK, False),
    ("chunk extension", ["POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n"
                         "0\r\n\r\n"], OK, False),
    ("chunk size leading space", ["POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n"
                                  "0\r\n\r\n"], OK, False),
    ("chunk size trailing space", ["POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n"
                                   "0\r\n\r\n"], OK, False),
    ("chunk size overflow", ["POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n"
                             "10000000000000005\r\nhello\r\n0\r\n\r\n"], OK, False),
    ("chunk data missing CRLF", ["POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX"
                                 "0\r\n\r\n"], OK, False),
    ("chunked missing final CRLF", ["POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
                                    "0\r\n"], OK, False),
    ("chunked trailers", ["POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"
                          "X-Trailer: t\r\n\r\n"], OK, False),
    ("obs-fold", ["GET /a HTTP/1.1\r\n" + H + "X-A: 1\r\n  folded\r\n\r\n"], OK, False),
    ("bare LF line endings", ["GET /a HTTP/1.1\nHost: x\nX-A: 1\n\n"], OK, False),
    ("bare LF, last line only", ["GET /a HTTP/1.1\r\nHost: x\r\n\n"], OK, False),
    ("bare CR in value", ["GET /a HTTP/1.1\r\n" + H + "X-A: 1\r2\r\n\r\n"], OK, False),
    ("bare CR line end", ["GET /a HTTP/1.1\r" + H + "\r\n"], OK, False),
    ("pipelined with body", ["POST /1 HTTP/1.1\r\n" + H + "Content-Length: 5\r\n\r\nhelloGET /2 HTTP/1.1\r\n"
                             + H + "\r\n"], OK, False),
    ("Expect 100-continue, body", ["POST /a HTTP/1.1\r\n" + H + "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n",
                                   "hello"], OK, False),
    ("Expect 100-continue, no body", ["GET /a HTTP/1.1\r\n" + H + "Expect: 100-continue\r\n\r\n"], OK, False),
    ("Expect unknown", ["POST /a HTTP/1.1\r\n" + H + "Content-Length: 5\r\nExpect: foo\r\n\r\nhello"], OK, False),
    ("HEAD, server sends a body", ["HEAD /a HTTP/1.1\r\n" + H + "\r\n", "GET /b HTTP/1.1\r\n" + H + "\r\n"],
     head_gets_body, False),
    ("response CL and TE", ["GET /a HTTP/1.1\r\n" + H + "\r\n"],
     b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", False),
    ("response differing CL", ["GET /a HTTP/1.1\r\n" + H + "\r\n"],
     b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!", False),
    ("response CL: 2, 2", ["GET /a HTTP/1.1\r\n" + H + "\r\n"],
     b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", False),
    ("response TE identity", ["GET /a HTTP/1.1\r\n" + H + "\r\n"],
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nok", True),
    ("response 204 with body", ["GET /a HTTP/1.1\r\n" + H + "\r\n", "GET /b HTTP/1.1\r\n" + H + "\r\n"],
     b"HTTP/1.1 204 No Content\r\nContent-Length: 4\r\n\r\nbody", False),
    ("response 304 with body", ["GET /a HTTP/1.1\r\n" + H + "\r\n", "GET /b HTTP/1.1\r\n" + H + "\r\n"],
     b"HTTP/1.1 304 Not Modified\r\nContent-Length: 4\r\n\r\nbody", False),
    ("response head over bufsize", ["GET /a HTTP/1.1\r\n" + H + "\r\n"],
     b"HTTP/1.1 200 OK\r\nX-Big: " + b"b" * 20000 + b"\r\nContent-Length: 2\r\n\r\nok", False),
    ("response obs-fold", ["GET /a HTTP/1.1\r\n" + H + "\r\n"],
     b"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 2\r\n\r\nok", False),
    ("response bare LF", ["GET /a HTTP/1.1\r\n" + H + "\r\n"],
     b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok", False),
    ("response no length, close", ["GET /a HTTP/1.1\r\n" + H + "\r\n"], b"HTTP/1.1 200 OK\r\n\r\nuntil close", True),
    ("response invalid status", ["GET /a HTTP/1.1\r\n" + H + "\r\n"], b"HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok",
     False),
    ("response CL +2", ["GET /a HTTP/1.1\r\n" + H + "\r\n"], b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok", False),
    ("server closes mid-body", ["GET /a HTTP/1.1\r\n" + H + "\r\n"], server_close_mid_body, True),
    # More shapes around the ones above.
    ("incomplete head (408)", ["GET /a HTTP/1.1\r\n" + H], OK, False),
    ("nothing sent", [""], OK, False),
    ("obs-text in URI", ["GET /caf\xe9 HTTP/1.1\r\n" + H + "\r\n"], OK, False),
    ("fragment in URI", ["GET /a#frag HTTP/1.1\r\n" + H + "\r\n"], OK, False),
    ("tab in request line", ["GET\t/a HTTP/1.1\r\n" + H + "\r\n"], OK, False),
    ("empty Host", ["GET /a HTTP/1.1\r\nHost:\r\n\r\n"], OK, False),
    ("absolute-form, no Host", ["GET http://example.com/x HTTP/1.1\r\n\r\n"], OK, False),
    ("absolute-form, port differs", ["GET http://example.com:81/x HTTP/1.1\r\nHost: example.com\r\n\r\n"],
     OK, False),
    ("empty header name", ["GET /a HTTP/1.1\r\n" + H + ": x\r\n\r\n"], OK, False),
    ("tab before colon", ["GET /a HTTP/1.1\r\n" + H + "X-A\t: 1\r\n\r\n"], OK, False),
    ("Content-Length: 005", ["POST /a HTTP/1.1\r\n" + H + "Content-Length: 005\r\n\r\nhello"], OK, False),
    ("Content-Length trailing space", ["POST /a HTTP/1.1\r\n" + H + "Content-Length: 5 \r\n\r\nhello"], OK, False),
    ("CL twice identical", ["POST /a HTTP/1.1\r\n" + H + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello"],
     OK, False),
    ("TE: chunked twice", ["POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"
                           "\r\n\r\n5\r\nhello\r\n0\r\n\r\n"], OK, False),
    ("TE: chunked, (trailing comma)", ["POST /a HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked,\r\n\r\n"
                                       "5\r\nhello\r\n0\r\n\r\n"], OK, False),
    ("GET with body", ["GET /a HTTP/1.1\r\n" + H + "Content-Length: 5\r\n\r\nhello"], OK, False),
    ("HTTP/1.0 keep-alive", ["GET /a HTTP/1.0\r\n" + H + "Connection: keep-alive\r\n\r\n"], OK, False),
    ("Connection: close", ["GET /a HTTP/1.1\r\n" + H + "Connection: close\r\n\r\n"], OK, False),
    ("Connection names a field", ["GET /a HTTP/1.1\r\n" + H + "Connection: X-Drop\r\nX-Drop: 1\r\n\r\n"],
     OK, False),
    ("TE: trailers, Upgrade h2c", ["GET /a HTTP/1.1\r\n" + H + "TE: trailers\r\nUpgrade: h2c\r\n"
                                   "Connection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"],
     OK, False),
    ("response 103 then 200", ["GET /a HTTP/1.1\r\n" + H + "\r\n"],
     b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", False),
    ("response chunked + trailers", ["GET /a HTTP/1.1\r\n" + H + "\r\n"],
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n", False),
    ("response chunk extension", ["GET /a HTTP/1.1\r\n" + H + "\r\n"],
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nok\r\n0\r\n\r\n", False),
    ("response obs-text value", ["GET /a HTTP/1.1\r\n" + H + "\r\n"],
     b"HTTP/1.1 200 OK\r\nContent-Disposition: attachment; filename=\"caf\xe9\"\r\nContent-Length: 2\r\n\r\nok",
     False),
    ("response HTTP/1.0 keep-alive", ["GET /a HTTP/1.1\r\n" + H + "\r\n", "GET /b HTTP/1.1\r\n" + H + "\r\n"],
     b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok", False),
    ("response 101 unasked", ["GET /a HTTP/1.1\r\n" + H + "\r\n"],
     b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\n", False),
    ("response NUL in value", ["GET /a HTTP/1.1\r\n" + H + "\r\n"],
     b"HTTP/1.1 200 OK\r\nX-A: 1\x002\r\nContent-Length: 2\r\n\r\nok", False),
    ("response no reason phrase", ["GET /a HTTP/1.1\r\n" + H + "\r\n"],
     b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok", False),
    ("response Connection: close", ["GET /a HTTP/1.1\r\n" + H + "\r\n", "GET /b HTTP/1.1\r\n" + H + "\r\n"],
     b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", True),
]


def start(argv, log_path):
    log = open(log_path, "wb")
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT), log


def wait_port(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def main():
    args = sys.argv[1:]
    verbose = "-v" in args
    filters = [a for a in args if a != "-v"]
    work = tempfile.mkdtemp(prefix="portico-diff.")
    portico_port, haproxy_port = BASE + 10, BASE + 20
    backends = {"haproxy": Backend(BASE + 2), "portico": Backend(BASE + 1)}
    ports = {"haproxy": haproxy_port, "portico": portico_port}
    for name, port, server in (("portico", portico_port, BASE + 1), ("haproxy", haproxy_port, BASE + 2)):
        with open(os.path.join(work, name + ".cfg"), "w") as f:
            f.write(config(port, server))
    procs = []
    try:
        procs.append(start([PORTICO, "lb", "-f", os.path.join(work, "portico.cfg")], os.path.join(work, "portico.log")))
        procs.append(start([HAPROXY, "-db", "-f", os.path.join(work, "haproxy.cfg")], os.path.join(work, "haproxy.log")))
        for name, port in ports.items():
            if not wait_port(port):
                sys.exit("%s did not start; see %s" % (name, work))
        time.sleep(0.3)
        differ = 0
        for case_name, parts, response, close_after in CASES:
            if filters and not any(f.lower() in case_name.lower() for f in filters):
                continue
            results = {}
            log_offsets = {n: os.path.getsize(os.path.join(work, n + ".log")) for n in ports}

            def run(name):
                backends[name].reset(response, close_after)
                got, ending = exchange(ports[name], [B(p) for p in parts])
                time.sleep(0.2)
                results[name] = (summarize_responses(got), ending,
                                 normalize_request_bytes(bytes(backends[name].received)))

            threads = [threading.Thread(target=run, args=(n,)) for n in ports]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            time.sleep(0.1)
            ha, po = results["haproxy"], results["portico"]

            def brief(result):
                statuses = ",".join(s.split(" ")[1] if " " in s else "?" for s, _ in result[0]) or "-"
                forwarded = "fwd" if result[2] else "nofwd"
                return "%s %s %s" % (statuses, result[1], forwarded)

            same = ha == po
            differ += 0 if same else 1
            marks = []
            if ha[0] != po[0]:
                marks.append("response")
            if ha[1] != po[1]:
                marks.append("ending")
            if ha[2] != po[2]:
                marks.append("backend-bytes")
            print("%-32s haproxy: %-24s portico: %-24s %s" % (case_name, brief(ha), brief(po),
                                                               "same" if same else "DIFF " + ",".join(marks)))
            if verbose or (not same and filters):
                for name, result in (("haproxy", ha), ("portico", po)):
                    print("  --- %s (%s)" % (name, result[1]))
                    for status, body in result[0]:
                        print("    %s" % status)
                        print("    body %r" % body[:200])
                    print("    backend got %r" % result[2][:600])
                    with open(os.path.join(work, name + ".log"), "rb") as f:
                        f.seek(log_offsets[name])
                        for line in f.read().decode("latin-1").splitlines():
                            print("    log: %s" % line[:300])
        print("%d case(s) differ" % differ)
    finally:
        for proc, log in procs:
            proc.terminate()
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


if __name__ == "__main__":
    main()
