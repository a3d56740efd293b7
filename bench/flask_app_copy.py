"""The benches' own copy of the Flask app (tests/targets/flask_app.py), under
another name, so that no test's search for its own flask_app.py processes ever
finds, counts or ends a bench's target."""
import os
import shutil


def own_copy_of_the_app(work, source):
    copy = os.path.join(work, "bench_flask_app.py")
    shutil.copyfile(os.path.join(source, "tests", "targets", "flask_app.py"), copy)
    return copy
