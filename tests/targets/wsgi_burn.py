# uWSGI test target: a plain WSGI application (no framework) whose every request
# burns CPU in burn_cpu() for a twentieth of a second, so that a worker under load
# is busy in a function the tests know. The tests find lines by their "mark:" comments.
import time


def burn_cpu(seconds):
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:  # mark: burn-loop
        n += 1
    return n


def application(environ, start_response):
    n = burn_cpu(0.05)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"%d\n" % n]
