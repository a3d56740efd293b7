#!/usr/bin/env python3
"""One HTTP request, made by this process: the tests run it as another user, or in
another network namespace, so that the daemon sees that caller. Prints the answer as
one JSON object: {"status": 200, "headers": {...}, "body": "..."}.

Usage: http_call.py (--tcp HOST:PORT | --unix PATH) METHOD PATH [--header NAME:VALUE]... [--body TEXT]
"""
import argparse
import http.client
import json
import socket


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.unix_path)


def main():
    parser = argparse.ArgumentParser()
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--tcp")
    where.add_argument("--unix")
    parser.add_argument("method")
    parser.add_argument("path")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--body")
    args = parser.parse_args()
    if args.tcp:
        host, port = args.tcp.rsplit(":", 1)
        connection = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=30)
    else:
        connection = UnixConnection(args.unix)
    headers = dict(h.split(":", 1) for h in args.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    connection.request(args.method, args.path, body=args.body.encode() if args.body is not None else None, headers=headers)
    response = connection.getresponse()
    body = response.read()
    print(json.dumps({"status": response.status, "headers": dict(response.getheaders()),
                      "body": body.decode("utf-8", "replace")}))


if __name__ == "__main__":
    main()
