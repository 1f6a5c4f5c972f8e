#!/usr/bin/env python3
"""faultproxy: an HTTP/1.1 proxy in front of a test server that injects scripted faults.

Usage:
    faultproxy.py --target HOST:PORT [--listen-port 0] [--flavor s3|azure] [--quiet]

Prints the port it listens on (127.0.0.1) as the first line of stdout, then serves until killed.
Requests are forwarded byte-exact (request line, headers including Host, body), so a client signs
for the proxy's host:port and the server, which checks the Host it receives, accepts the signature.
Keep-alive, Content-Length and chunked bodies, Expect: 100-continue and HEAD are supported.

Control, on the proxy itself (these requests are never forwarded nor counted):
    POST   /__fault?action=A[&count=N][&method=RE][&path=RE][&delay_ms=MS][&status=CODE]
                   [&retry_after=S][&after_bytes=B]
           queue a rule: the next N (default 1; -1 = always) requests whose method and target
           (path with query, as sent) match the regexes (re.search) get action A:
             503           503 with an S3 SlowDown or Azure ServerBusy body (--flavor)
             500           500 with an InternalError body
             status        status CODE (e.g. 429, 502, 504) with a matching error body
             reset         reset the connection before forwarding anything
             reset_after_request   forward the whole request, then reset (the server acted)
             reset_after_headers   forward, relay the response headers, then reset
             reset_mid_body        relay the response headers and after_bytes bytes of the body
                                   (default half of Content-Length, else 32768), then reset
             delay         wait delay_ms, then forward normally
             stall_mid_body        relay half the body (or after_bytes), wait delay_ms, go on
             pass          forward normally (lets N matching requests through)
           retry_after adds a Retry-After header to 503/500/status answers. Rules are tried in
           the order queued; the first matching rule with requests left applies.
           Answers {"id": N}.
    GET    /__fault    the rules and what is left of them (JSON)
    DELETE /__fault    drop every rule
    GET    /__stats[?method=RE][&path=RE]
           {"total": N, "faulted": N, "counts": {"METHOD /path": N}, "requests": ["METHOD target"],
            "count": N}  ("count" only with a filter: requests whose method and target match)
    DELETE /__stats    reset the counters

Python 3 standard library only.
"""
import argparse
import json
import re
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse
import uuid

IO_TIMEOUT = 300
BLOCK = 65536
MAX_HEAD = 256 * 1024
MAX_LOG = 200000


class State:
    """Rules and counters shared by all connection threads; every field is guarded by lock."""

    def __init__(self, flavor, quiet):
        self.lock = threading.Lock()
        self.flavor = flavor
        self.quiet = quiet
        self.rules = []
        self.next_id = 1
        self.total = 0
        self.faulted = 0
        self.counts = {}
        self.requests = []

    def log(self, msg):
        if not self.quiet:
            sys.stderr.write('faultproxy: %s\n' % msg)
            sys.stderr.flush()

    def record(self, method, target):
        with self.lock:
            self.total += 1
            key = '%s %s' % (method, target.split('?', 1)[0])
            self.counts[key] = self.counts.get(key, 0) + 1
            if len(self.requests) < MAX_LOG:
                self.requests.append('%s %s' % (method, target))

    def take_rule(self, method, target):
        """Returns a copy of the rule that applies to this request (its count consumed), or None."""
        with self.lock:
            for r in self.rules:
                if r['left'] == 0:
                    continue
                if r['method'] and not re.search(r['method'], method):
                    continue
                if r['path'] and not re.search(r['path'], target):
                    continue
                if r['left'] > 0:
                    r['left'] -= 1
                r['used'] += 1
                if r['action'] != 'pass':
                    self.faulted += 1
                return dict(r)
        return None


class HeadError(Exception):
    pass


def read_head(rfile):
    """Reads a request or response head; returns (raw bytes, first line str, headers list) or None at EOF."""
    lines = []
    size = 0
    while True:
        line = rfile.readline(MAX_HEAD + 1)
        if not line:
            if lines:
                raise HeadError('connection closed inside a header')
            return None
        size += len(line)
        if size > MAX_HEAD:
            raise HeadError('header too large')
        if not lines and line in (b'\r\n', b'\n'):
            continue  # tolerate stray CRLF between messages
        lines.append(line)
        if line in (b'\r\n', b'\n'):
            break
    raw = b''.join(lines)
    first = lines[0].decode('latin-1').rstrip('\r\n')
    headers = []
    for line in lines[1:-1]:
        text = line.decode('latin-1').rstrip('\r\n')
        if ':' in text:
            name, value = text.split(':', 1)
            headers.append((name.strip().lower(), value.strip()))
    return raw, first, headers


def header(headers, name):
    for n, v in headers:
        if n == name:
            return v
    return None


def is_chunked(headers):
    te = header(headers, 'transfer-encoding')
    return te is not None and 'chunked' in te.lower()


def wants_close(first, headers):
    conn = (header(headers, 'connection') or '').lower()
    if 'close' in conn:
        return True
    return first.upper().startswith('HTTP/1.0') or first.upper().endswith('HTTP/1.0')


class Relay:
    """Copies a message body from rfile to wsock; stops at `limit` bytes when given.

    Returns True when the whole body was copied, False when the limit was reached.
    stall=(at_bytes, seconds) sleeps once after at_bytes bytes.
    """

    def __init__(self, rfile, wsock, limit=None, stall=None):
        self.rfile = rfile
        self.wsock = wsock
        self.limit = limit
        self.stall = stall
        self.sent = 0

    def _send(self, data):
        if self.stall is not None and self.sent + len(data) >= self.stall[0]:
            cut = max(0, self.stall[0] - self.sent)
            self.wsock.sendall(data[:cut])
            self.sent += cut
            data = data[cut:]
            time.sleep(self.stall[1])
            self.stall = None
        if self.limit is not None and self.sent + len(data) >= self.limit:
            cut = max(0, self.limit - self.sent)
            self.wsock.sendall(data[:cut])
            self.sent += cut
            return False
        self.wsock.sendall(data)
        self.sent += len(data)
        return True

    def length(self, n):
        while n > 0:
            data = self.rfile.read(min(BLOCK, n))
            if not data:
                raise ConnectionError('peer closed inside a body')
            n -= len(data)
            if not self._send(data):
                return False
        return True

    def chunked(self):
        while True:
            line = self.rfile.readline(4096)
            if not line:
                raise ConnectionError('peer closed inside a chunked body')
            if not self._send(line):
                return False
            size = int(line.split(b';', 1)[0].strip() or b'0', 16)
            if size == 0:
                while True:  # trailers, then the blank line
                    t = self.rfile.readline(8192)
                    if not t:
                        raise ConnectionError('peer closed inside trailers')
                    if not self._send(t):
                        return False
                    if t in (b'\r\n', b'\n'):
                        return True
            if not self.length(size + 2):
                return False

    def until_close(self):
        while True:
            data = self.rfile.read1(BLOCK) if hasattr(self.rfile, 'read1') else self.rfile.read(BLOCK)
            if not data:
                return True
            if not self._send(data):
                return False


def reset(sock):
    """Closes sock with a TCP RST (SO_LINGER 0)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def error_answer(flavor, status, method, retry_after):
    reasons = {429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway',
               503: 'Service Unavailable', 504: 'Gateway Timeout'}
    rid = uuid.uuid4().hex
    if flavor == 'azure':
        code = {503: 'ServerBusy', 500: 'InternalError', 429: 'ServerBusy'}.get(status, 'InternalError')
        msg = ('The server is currently unable to receive requests. Please retry your request.'
               if code == 'ServerBusy' else 'The server encountered an internal error. Please retry the request.')
        body = ('\ufeff<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>%s\n'
                'RequestId:%s\nTime:%s</Message></Error>' % (
                    code, msg, rid, time.strftime('%Y-%m-%dT%H:%M:%S.0000000Z', time.gmtime())))
        extra = 'x-ms-error-code: %s\r\nx-ms-request-id: %s\r\nx-ms-version: 2021-10-04\r\n' % (code, rid)
    else:
        code = {503: 'SlowDown', 500: 'InternalError', 429: 'SlowDown'}.get(status, 'InternalError')
        msg = 'Please reduce your request rate.' if code == 'SlowDown' else \
            'We encountered an internal error. Please try again.'
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
                '<RequestId>%s</RequestId><HostId>faultproxy</HostId></Error>' % (code, msg, rid[:16]))
        extra = 'x-amz-request-id: %s\r\n' % rid[:16]
    data = body.encode('utf-8')
    if retry_after is not None:
        extra += 'Retry-After: %s\r\n' % retry_after
    head = ('HTTP/1.1 %d %s\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n'
            'Date: %s\r\n%s' % (status, reasons.get(status, 'Error'), len(data),
                                time.strftime('%a, %d %b %Y %H:%M:%S GMT', time.gmtime()), extra))
    return head, (b'' if method == 'HEAD' else data)


class Handler(socketserver.BaseRequestHandler):
    def setup(self):
        self.state = self.server.state
        self.csock = self.request
        self.csock.settimeout(IO_TIMEOUT)
        self.csock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.crfile = self.csock.makefile('rb')
        self.usock = None
        self.urfile = None

    def finish(self):
        self.close_upstream()
        try:
            self.crfile.close()
            self.csock.close()
        except OSError:
            pass

    def close_upstream(self):
        if self.usock is not None:
            try:
                self.urfile.close()
                self.usock.close()
            except OSError:
                pass
        self.usock = None
        self.urfile = None

    def upstream(self):
        if self.usock is not None and self.upstream_closed():
            self.close_upstream()
        if self.usock is None:
            self.usock = socket.create_connection(self.server.target, timeout=IO_TIMEOUT)
            self.usock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.urfile = self.usock.makefile('rb')
        return self.usock

    def upstream_closed(self):
        """True when the kept-alive server connection was closed (or has stray bytes) while idle."""
        # A socket with a timeout polls for up to that timeout before recv, MSG_DONTWAIT or
        # not: make it non-blocking for the peek, or an idle kept-alive server stalls us.
        self.usock.setblocking(False)
        try:
            self.usock.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            return False
        except OSError:
            return True
        finally:
            try:
                self.usock.settimeout(IO_TIMEOUT)
            except OSError:
                pass
        return True  # EOF, or bytes nobody asked for: not reusable either way

    def handle(self):
        try:
            while True:
                head = read_head(self.crfile)
                if head is None:
                    return
                if not self.one_request(*head):
                    return
        except (OSError, ConnectionError, HeadError, ValueError) as e:
            self.state.log('connection ended: %s' % e)

    def request_body_kind(self, headers):
        if is_chunked(headers):
            return 'chunked', None
        cl = header(headers, 'content-length')
        if cl is not None:
            return 'length', int(cl)
        return 'none', 0

    def drain_request_body(self, kind, n):
        sink = Relay(self.crfile, _NullSock())
        if kind == 'chunked':
            sink.chunked()
        elif kind == 'length':
            sink.length(n)

    def send_request_body(self, kind, n):
        relay = Relay(self.crfile, self.usock)
        if kind == 'chunked':
            relay.chunked()
        elif kind == 'length':
            relay.length(n)

    def one_request(self, raw, first, headers):
        """Handles one request; returns False when the client connection must end."""
        parts = first.split(' ')
        if len(parts) != 3:
            raise HeadError('bad request line %r' % first[:100])
        method, target = parts[0], parts[1]
        if target.startswith('/__fault') or target.startswith('/__stats'):
            return self.control(method, target, headers)
        self.state.record(method, target)
        rule = self.state.take_rule(method, target)
        action = rule['action'] if rule else 'pass'
        if action != 'pass':
            self.state.log('%s %s -> %s' % (method, target[:200], action))
        kind, n = self.request_body_kind(headers)
        expect = '100-continue' in (header(headers, 'expect') or '').lower()
        client_close = wants_close(first, headers)

        if action == 'reset':
            reset(self.csock)
            return False
        if action in ('503', '500', 'status'):
            status = {'503': 503, '500': 500}.get(action) or int(rule.get('status') or 503)
            head, body = error_answer(self.state.flavor, status, method, rule.get('retry_after'))
            if expect:
                # The client waits for 100 Continue; answer finally and close, as servers do.
                self.csock.sendall((head + 'Connection: close\r\n\r\n').encode('latin-1') + body)
                return False
            self.drain_request_body(kind, n)
            close = client_close
            self.csock.sendall((head + ('Connection: close\r\n' if close else '') + '\r\n')
                               .encode('latin-1') + body)
            return not close
        if action == 'delay':
            time.sleep(rule['delay_ms'] / 1000.0)

        # Forward the request.
        try:
            self.upstream().sendall(raw)
        except OSError:
            # A kept-alive upstream connection may have been closed by the server: retry once.
            self.close_upstream()
            self.upstream().sendall(raw)
        if expect:
            uhead = read_head(self.urfile)
            if uhead is None:
                raise ConnectionError('server closed the connection')
            ustatus = int(uhead[1].split(' ')[1])
            if ustatus == 100:
                self.csock.sendall(uhead[0])
                self.send_request_body(kind, n)
                uhead = None
            else:
                # Final answer without reading the body: relay it and end both connections.
                self.relay_response(uhead, method, rule, action)
                self.close_upstream()
                return False
        else:
            self.send_request_body(kind, n)
            uhead = None
        if action == 'reset_after_request':
            reset(self.csock)
            self.close_upstream()
            return False
        if uhead is None:
            uhead = read_head(self.urfile)
            if uhead is None:
                raise ConnectionError('server closed the connection')
        keep = self.relay_response(uhead, method, rule, action)
        if keep and kind != 'none' and n != 0 and self.last_status >= 300:
            # The server may have answered before reading the whole body (Azurite does, after
            # 100 Continue) and then mishandle the rest; do not reuse its connection.
            self.close_upstream()
        return keep and not client_close

    def relay_response(self, uhead, method, rule, action):
        """Relays a response (after any 1xx); returns False when the connections must end."""
        while True:
            raw, first, headers = uhead
            status = int(first.split(' ')[1])
            if status >= 200 or status == 101:
                break
            self.csock.sendall(raw)
            uhead = read_head(self.urfile)
            if uhead is None:
                raise ConnectionError('server closed the connection')
        self.csock.sendall(raw)
        self.last_status = status
        if action == 'reset_after_headers':
            reset(self.csock)
            self.close_upstream()
            return False
        no_body = method == 'HEAD' or status in (204, 304)
        length = header(headers, 'content-length')
        limit = None
        stall = None
        if action in ('reset_mid_body', 'stall_mid_body'):
            at = rule.get('after_bytes')
            if at is None:
                at = int(length) // 2 if length is not None and not is_chunked(headers) else 32768
            if action == 'reset_mid_body':
                limit = at
            else:
                stall = (at, rule['delay_ms'] / 1000.0)
        relay = Relay(self.urfile, self.csock, limit=limit, stall=stall)
        upstream_close = wants_close(first, headers)
        if no_body:
            done = True
        elif is_chunked(headers):
            done = relay.chunked()
        elif length is not None:
            done = relay.length(int(length))
        else:
            done = relay.until_close()
            upstream_close = True
        if not done:
            reset(self.csock)
            self.close_upstream()
            return False
        if upstream_close:
            self.close_upstream()
            return False
        return True

    def control(self, method, target, headers):
        kind, n = self.request_body_kind(headers)
        self.drain_request_body(kind, n)
        url = urllib.parse.urlsplit(target)
        q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        st = self.state
        code = 200
        try:
            if url.path == '/__fault' and method == 'POST':
                action = q.get('action', '')
                if action not in ('503', '500', 'status', 'reset', 'reset_after_request',
                                  'reset_after_headers', 'reset_mid_body', 'delay',
                                  'stall_mid_body', 'pass'):
                    raise ValueError('unknown action %r' % action)
                for key in ('method', 'path'):
                    if q.get(key):
                        re.compile(q[key])
                rule = {'action': action, 'left': int(q.get('count', '1')),
                        'method': q.get('method', ''), 'path': q.get('path', ''),
                        'delay_ms': int(q.get('delay_ms', '0')),
                        'status': int(q['status']) if q.get('status') else None,
                        'retry_after': q.get('retry_after'),
                        'after_bytes': int(q['after_bytes']) if q.get('after_bytes') else None,
                        'used': 0}
                with st.lock:
                    rule['id'] = st.next_id
                    st.next_id += 1
                    st.rules.append(rule)
                out = {'id': rule['id']}
            elif url.path == '/__fault' and method == 'DELETE':
                with st.lock:
                    st.rules = []
                out = {'ok': True}
            elif url.path == '/__fault' and method == 'GET':
                with st.lock:
                    out = {'rules': [dict(r) for r in st.rules]}
            elif url.path == '/__stats' and method == 'GET':
                with st.lock:
                    out = {'total': st.total, 'faulted': st.faulted, 'counts': dict(st.counts),
                           'requests': list(st.requests)}
                if 'method' in q or 'path' in q:
                    mre = re.compile(q.get('method', ''))
                    pre = re.compile(q.get('path', ''))
                    count = 0
                    for line in out['requests']:
                        m, t = line.split(' ', 1)
                        if mre.search(m) and pre.search(t):
                            count += 1
                    out['count'] = count
            elif url.path == '/__stats' and method == 'DELETE':
                with st.lock:
                    st.total = 0
                    st.faulted = 0
                    st.counts = {}
                    st.requests = []
                out = {'ok': True}
            else:
                code = 404
                out = {'error': 'unknown control request %s %s' % (method, url.path)}
        except (ValueError, re.error) as e:
            code = 400
            out = {'error': str(e)}
        body = json.dumps(out, indent=1).encode()
        self.csock.sendall(('HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n'
                            'Content-Length: %d\r\n\r\n' % (code, 'OK' if code == 200 else 'Error',
                                                            len(body))).encode() + body)
        return True


class _NullSock:
    def sendall(self, data):
        pass


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    ap = argparse.ArgumentParser(description='HTTP proxy with scripted faults (see the module doc).')
    ap.add_argument('--target', required=True, help='HOST:PORT of the real server')
    ap.add_argument('--listen-port', type=int, default=0, help='port on 127.0.0.1 (0: any free port)')
    ap.add_argument('--flavor', choices=('s3', 'azure'), default='s3', help='error bodies to answer with')
    ap.add_argument('--quiet', action='store_true', help='no log lines on stderr')
    args = ap.parse_args()
    host, _, port = args.target.rpartition(':')
    server = Server(('127.0.0.1', args.listen_port), Handler)
    server.target = (host or '127.0.0.1', int(port))
    server.state = State(args.flavor, args.quiet)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
