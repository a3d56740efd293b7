"""One HTTP request to pyprofd over its unix socket (or loopback TCP), as whoever
runs this (the container test runs it inside the container, as root or as another
user). Prints one JSON object: status, headers and body (text), or error when it
could not connect.

Usage: unix_socket_client.py SOCKET_PATH|tcp:HOST:PORT METHOD PATH [JSON_BODY]
"""
import http.client
import json
import socket
import sys


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(self.socket_path)


def main():
    socket_path, method, path = sys.argv[1:4]
    body = sys.argv[4].encode() if len(sys.argv) > 4 else None
    if socket_path.startswith("tcp:"):
        host, port = socket_path[4:].rsplit(":", 1)
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
    else:
        connection = UnixConnection(socket_path)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
        response = connection.getresponse()
        data = response.read()
    except OSError as e:
        print(json.dumps({"error": "%s: %s" % (type(e).__name__, e), "errno": e.errno}))
        return 0
    print(json.dumps({"status": response.status, "headers": dict(response.getheaders()),
                      "body": data.decode("utf-8", "replace")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
