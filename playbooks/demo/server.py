#!/usr/bin/env python3
"""Ocim's demo appserver: /heartbeat and / behind HTTP basic auth, nothing else.

Started by site.yml with the path of its settings (JSON, mode 0600); writes its pid file once it
listens, so the playbook knows it started and the next run can stop it.

With a MySQL server in its settings (the instance's, EDXAPP_MYSQL_*), / counts visits in the
instance's database, so a page served by a new appserver shows the count the old one left: the
proof that the data outlives the appservers. The few MySQL protocol messages this needs are spoken
with the standard library (class Mysql): the demo installs nothing system-wide, and runs under
whichever python3 the VM has, which need not be the one a Debian package would install into.
"""
import base64
import binascii
import hashlib
import hmac
import html
import json
import os
import socket
import struct
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class MysqlError(Exception):
    """What the MySQL server (or the way to it) said, in words for the page and the log."""


# Capability flags (MySQL's "Capabilities Flags"): 4.1 protocol, a database named at login,
# scrambled passwords with a length byte, and the name of the password plugin.
CLIENT_LONG_PASSWORD = 0x1
CLIENT_CONNECT_WITH_DB = 0x8
CLIENT_PROTOCOL_41 = 0x200
CLIENT_TRANSACTIONS = 0x2000
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_PLUGIN_AUTH = 0x80000
CAPABILITIES = (CLIENT_LONG_PASSWORD | CLIENT_CONNECT_WITH_DB | CLIENT_PROTOCOL_41
                | CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH)
UTF8MB4 = 45
ER_NO_SUCH_TABLE = 1146


def native_password(password, scramble):
    """mysql_native_password: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw)))."""
    if not password:
        return b""
    stage1 = hashlib.sha1(password).digest()
    stage2 = hashlib.sha1(stage1).digest()
    mix = hashlib.sha1(scramble + stage2).digest()
    return bytes(a ^ b for a, b in zip(stage1, mix))


def lenenc_int(data, pos):
    """A length-encoded integer at pos: (value, position after it)."""
    first = data[pos]
    if first < 0xFB:
        return first, pos + 1
    size = {0xFC: 2, 0xFD: 3, 0xFE: 8}[first]
    return int.from_bytes(data[pos + 1:pos + 1 + size], "little"), pos + 1 + size


class Mysql:
    """One connection, logged in to one database, for COM_QUERY statements answered by an OK packet.

    Covers what the demo needs and no more: the handshake (v10), the mysql_native_password login
    (MariaDB's default; a server asking for another plugin is refused with its name), statements
    whose answer is OK or ERR (no result sets), and closing. No TLS.
    """

    def __init__(self, host, port, user, password, database, timeout=5):
        self.seq = 0
        try:
            self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        except OSError as err:
            raise MysqlError("cannot connect to MySQL at %s:%s: %s" % (host, port, err.strerror or err)) from err
        try:
            self.login(user.encode(), password.encode(), database.encode())
        except Exception:
            self.sock.close()
            raise

    def read_packet(self):
        header = self.read_exactly(4)
        length = int.from_bytes(header[:3], "little")
        self.seq = (header[3] + 1) % 256
        return self.read_exactly(length)

    def read_exactly(self, n):
        chunks = []
        while n:
            try:
                chunk = self.sock.recv(n)
            except OSError as err:
                raise MysqlError("MySQL did not answer: %s" % (err.strerror or err)) from err
            if not chunk:
                raise MysqlError("MySQL closed the connection")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def write_packet(self, payload):
        self.sock.sendall(len(payload).to_bytes(3, "little") + bytes([self.seq]) + payload)
        self.seq = (self.seq + 1) % 256

    @staticmethod
    def check(packet):
        """The packet, unless it is an ERR packet (then its code and message, raised)."""
        if packet[:1] == b"\xff":
            code = struct.unpack("<H", packet[1:3])[0]
            message = packet[9:] if packet[3:4] == b"#" else packet[3:]
            error = MysqlError("MySQL error %d: %s" % (code, message.decode("utf-8", "replace")))
            error.code = code
            raise error
        return packet

    def login(self, user, password, database):
        greeting = self.check(self.read_packet())
        if greeting[0] != 10:
            raise MysqlError("not a MySQL server (protocol %d)" % greeting[0])
        pos = greeting.index(b"\0", 1) + 1 + 4  # server version, connection id
        scramble = greeting[pos:pos + 8]
        pos += 8 + 1 + 2 + 1 + 2 + 2  # filler, capabilities, charset, status, capabilities (upper)
        data_len = greeting[pos]
        pos += 1 + 10
        scramble += greeting[pos:pos + max(13, data_len - 8) - 1]  # without its trailing NUL
        plugin_at = pos + max(13, data_len - 8)
        plugin = greeting[plugin_at:greeting.index(b"\0", plugin_at)] if plugin_at < len(greeting) else b"mysql_native_password"
        auth = native_password(password, scramble) if plugin == b"mysql_native_password" else b""
        self.write_packet(
            struct.pack("<IIB", CAPABILITIES, 1 << 24, UTF8MB4) + b"\0" * 23
            + user + b"\0" + bytes([len(auth)]) + auth + database + b"\0" + b"mysql_native_password\0"
        )
        answer = self.check(self.read_packet())
        if answer[:1] == b"\xfe":  # the user's plugin is another: switch, with a fresh scramble
            plugin, _, data = answer[1:].partition(b"\0")
            if plugin != b"mysql_native_password":
                raise MysqlError("MySQL asks for the %s login, which the demo server does not speak "
                                 "(create the user with mysql_native_password)" % plugin.decode())
            self.write_packet(native_password(password, data.rstrip(b"\0")))
            answer = self.check(self.read_packet())
        if answer[:1] != b"\0":
            raise MysqlError("MySQL answered the login with an unexpected packet")

    def execute(self, sql):
        """Runs one statement answered by an OK packet; returns (affected rows, last insert id)."""
        self.seq = 0
        self.write_packet(b"\x03" + sql.encode())
        ok = self.check(self.read_packet())
        if ok[:1] != b"\0":
            raise MysqlError("MySQL answered with rows where the demo expected none")
        affected, pos = lenenc_int(ok, 1)
        last_id, _ = lenenc_int(ok, pos)
        return affected, last_id

    def close(self):
        try:
            self.seq = 0
            self.write_packet(b"\x01")  # COM_QUIT
        except OSError:
            pass
        self.sock.close()


COUNTER_TABLE = "ocim_demo_visits"
# One statement both counts and tells the count: LAST_INSERT_ID(expr) makes the new value the
# OK packet's "last insert id", so two appservers counting at once never read each other's.
COUNT_VISIT = (
    "INSERT INTO %s (id, visits) VALUES (1, LAST_INSERT_ID(1)) "
    "ON DUPLICATE KEY UPDATE visits = LAST_INSERT_ID(visits + 1)" % COUNTER_TABLE
)
CREATE_COUNTER = "CREATE TABLE IF NOT EXISTS %s (id TINYINT PRIMARY KEY, visits BIGINT NOT NULL) ENGINE=InnoDB" % COUNTER_TABLE


class VisitCounter:
    """The instance's visit counter, in its MySQL database; a connection per call (no pool to go stale)."""

    def __init__(self, mysql):
        self.mysql = mysql

    def connect(self):
        m = self.mysql
        return Mysql(m["host"], m["port"], m["user"], m["password"], m["database"])

    def check(self):
        db = self.connect()
        db.close()

    def count(self):
        db = self.connect()
        try:
            try:
                return db.execute(COUNT_VISIT)[1]
            except MysqlError as err:
                if getattr(err, "code", None) != ER_NO_SUCH_TABLE:
                    raise
                db.execute(CREATE_COUNTER)
                return db.execute(COUNT_VISIT)[1]
        finally:
            db.close()


def counter_of(settings):
    """The counter, or None when the appserver has no MySQL server of the instance (it keeps no data)."""
    mysql = settings.get("mysql") or {}
    if mysql.get("host", "") in ("", "localhost"):
        return None
    return VisitCounter(mysql)


def make_handler(settings):
    user = settings["user"].encode()
    password = settings["password"].encode()

    def authorized(header):
        if not settings["basic_auth"]:
            return True
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given_user, _, given_password = base64.b64decode(encoded.strip(), validate=True).partition(b":")
        except (binascii.Error, ValueError):
            return False
        # Both compared, in constant time, so a timing difference tells nothing about either.
        same_user = hmac.compare_digest(given_user, user)
        same_password = hmac.compare_digest(given_password, password)
        return same_user and same_password

    counter = counter_of(settings)

    def page(visits):
        instance = html.escape(settings["instance"])
        appserver = html.escape(settings["appserver"])
        domain = html.escape(settings["lms_domain"])
        return (
            "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{instance}: {appserver}</title></head>\n<body>\n"
            f"<h1>{instance}</h1>\n<p>served by <strong>{appserver}</strong>"
            f"{f' for {domain}' if domain else ''}</p>\n"
            f"<p>visits: {html.escape(visits)}</p>\n"
            "<p>This is Ocim's demo playbook standing in for Open edX.</p>\n</body></html>\n"
        )

    class Handler(BaseHTTPRequestHandler):
        server_version = "OcimDemo/1.0"

        def answer(self, status, body, content_type="text/plain; charset=utf-8", extra=None):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if not authorized(self.headers.get("Authorization")):
                realm = 'Basic realm="Ocim demo", charset="UTF-8"'
                return self.answer(401, "Authentication required.\n", extra={"WWW-Authenticate": realm})
            try:
                if path == "/heartbeat":
                    if counter:
                        counter.check()
                    return self.answer(200, "OK")
                if path == "/" and self.command == "HEAD":
                    return self.answer(200, "", "text/html; charset=utf-8")  # a visit is a GET
                if path == "/":
                    visits = str(counter.count()) if counter else "(no database: this appserver keeps no data)"
                    return self.answer(200, page(visits), "text/html; charset=utf-8")
            except MysqlError as err:
                sys.stderr.write("database: %s\n" % err)
                return self.answer(503, "The instance's database did not serve this page: %s\n" % err)
            return self.answer(404, "Not found.\n")

        do_HEAD = do_GET

        def log_message(self, fmt, *args):
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    return Handler


def main():
    settings = load(sys.argv[1])
    server = ThreadingHTTPServer((settings["bind"], int(settings["port"])), make_handler(settings))
    server.daemon_threads = True
    pid_file = settings["pid_file"]
    with open(pid_file + ".tmp", "w", encoding="utf-8") as f:
        f.write(str(os.getpid()))
    os.replace(pid_file + ".tmp", pid_file)
    sys.stderr.write("listening on %s:%s\n" % (settings["bind"], settings["port"]))
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
