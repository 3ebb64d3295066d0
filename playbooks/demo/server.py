#!/usr/bin/env python3
"""Ocim's demo appserver: /heartbeat and / behind HTTP basic auth, nothing else.

Started by site.yml with the path of its settings (JSON, mode 0600); writes its pid file once it
listens, so the playbook knows it started and the next run can stop it.
"""
import base64
import binascii
import hmac
import html
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


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

    def page():
        instance = html.escape(settings["instance"])
        appserver = html.escape(settings["appserver"])
        domain = html.escape(settings["lms_domain"])
        return (
            "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{instance}: {appserver}</title></head>\n<body>\n"
            f"<h1>{instance}</h1>\n<p>Served by appserver <strong>{appserver}</strong>"
            f"{f' for {domain}' if domain else ''}.</p>\n"
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
            if path == "/heartbeat":
                return self.answer(200, "OK")
            if path == "/":
                return self.answer(200, page(), "text/html; charset=utf-8")
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
