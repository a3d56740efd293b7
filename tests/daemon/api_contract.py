"""openapi.yaml as a checker of real responses: whether the contract lists the status
an operation answered, and whether a JSON body follows its schema. Failures are
reported through daemon_support.check."""
import json
import re
import sys

import daemon_support
from daemon_support import check

try:
    import jsonschema
    import yaml
except ImportError as e:
    print("FAIL %s: install python3-yaml and python3-jsonschema (scripts/deps-test.txt; `make test` does)" % e)
    sys.exit(1)


class Contract:
    """openapi.yaml: which statuses each operation may answer, and the JSON schemas."""

    def __init__(self, path):
        with open(path) as f:
            self.doc = yaml.safe_load(f)
        self.routes = []
        for template, item in self.doc["paths"].items():
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template.replace(".", r"\.")) + "$"
            self.routes.append((re.compile(pattern), template, item))

    def check(self, method, path, status, content_type, body):
        path = path.split("?")[0]
        for pattern, template, item in self.routes:
            if pattern.match(path):
                break
        else:
            return check(status == 404, "%s %s: not in the contract, and answered %d (404 expected)" % (method, path, status))
        operation = item.get(method.lower())
        if operation is None:
            return check(status == 405, "%s %s: no such operation; answered %d (405 expected)" % (method, template, status))
        response = operation["responses"].get(str(status))
        if response is None and str(status) in self.doc.get("x-protocol-errors", {}):
            response = self.doc["x-protocol-errors"][str(status)]
        if response is None:
            return check(False, "%s %s answered %d, which the contract does not list" % (method, template, status))
        if "$ref" in response:
            response = self.resolve(response["$ref"])
        content = response.get("content")
        if not content:
            return True
        media = content_type.split(";")[0].strip()
        if media not in content:
            return check(False, "%s %s %d: content type %s, the contract says %s" % (method, template, status, media, list(content)))
        if media.endswith("json") and status != 204:
            schema = dict(content[media]["schema"])
            schema["components"] = self.doc["components"]
            try:
                jsonschema.Draft202012Validator(schema).validate(json.loads(body))
            except jsonschema.ValidationError as e:
                return check(False, "%s %s %d: the body does not follow the contract: %s" % (method, template, status, e.message))
        return True

    def resolve(self, ref):
        node = self.doc
        for part in ref.lstrip("#/").split("/"):
            node = node[part]
        return node


class CheckedDaemon(daemon_support.Daemon):
    """A daemon every response of which is checked against `contract` (a Contract,
    set by the subclass); JSON bodies come back parsed unless `raw` is asked."""
    contract = None

    def request(self, method, path, body=None, headers=None, raw=False):
        status, response_headers, content = super().request(method, path, body, headers, raw=True)
        content_type = response_headers.get("Content-Type", "")
        self.contract.check(method, path, status, content_type, content)
        if not raw and content and content_type.split(";")[0].endswith("json"):
            content = json.loads(content)
        return status, response_headers, content
