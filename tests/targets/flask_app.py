# The web service of the end-to-end scenario: Flask (Debian's python3-flask) on
# werkzeug's threaded server. Prints READY once it accepts connections.
# Usage: flask_app.py PORT
import json
import logging
import sys

from flask import Flask, Response
from werkzeug.serving import make_server

app = Flask(__name__)


@app.route('/name/<name>.json')
def hello_world(name):
    greet = "Hello %s from flask!" % name
    result = {"ResultSet": {"Result": {"Greeting": greet}}}
    response = Response(json.dumps(result))
    response.headers['Content-Type'] = "application/json"
    return response


if __name__ == "__main__":
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    server.serve_forever()
