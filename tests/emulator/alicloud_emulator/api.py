"""The contract between the HTTP layer (server.py) and the product handlers (products/*.py).

A handler is a function `handler(req: ApiRequest) -> dict` registered with `@api(product, action)`.
It returns the response body without `RequestId` (the server adds it) or raises `ApiError`.
Handlers run with `req.emulator.lock` held, so they see and change the world atomically.
"""
import json
import re

# Which product a request is for is decided by its API version (all products share one URL).
VERSION_PRODUCTS = {
    "2019-06-01": "oos",
    "2014-08-28": "ess",
    "2022-02-22": "ess",
    "2014-05-26": "ecs",
    "2015-04-01": "sts",
    "2014-05-15": "slb",
    "2020-06-16": "alb",
    "2022-04-30": "nlb",
}

# RAM service names used in `Forbidden.RAM` and in policies (`oos:StartExecution`).
PRODUCT_RAM_NAMES = {"oos": "oos", "ess": "ess", "ecs": "ecs", "sts": "sts", "slb": "slb", "alb": "alb",
                     "nlb": "nlb"}

_REGISTRY = {}


class ApiError(Exception):
    """An error answered as the gateway does: JSON body {RequestId, HostId, Code, Message, Recommend}."""

    def __init__(self, code, message, status=400, headers=None):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message
        self.status = status
        self.headers = dict(headers or {})


class Handler:
    def __init__(self, product, action, func, versions, mutating):
        self.product = product
        self.action = action
        self.func = func
        self.versions = versions
        self.mutating = mutating


def api(product, action, versions=None, mutating=False):
    """Register a handler. `versions` limits it to some API versions (ESS 2014-08-28 vs 2022-02-22)."""
    def register(func):
        _REGISTRY[(product, action)] = Handler(product, action, func, versions, mutating)
        return func
    return register


def find_handler(product, action):
    return _REGISTRY.get((product, action))


def registered_actions():
    return sorted(_REGISTRY)


_INDEXED = re.compile(r"^(?P<base>.+?)\.(?P<index>\d+)(?:\.(?P<rest>.+))?$")


class ApiRequest:
    """One authenticated API call. `params` holds only the business parameters (strings)."""

    def __init__(self, emulator, product, version, action, params, caller, request_id, host):
        self.emulator = emulator
        self.product = product
        self.version = version
        self.action = action
        self.params = params
        self.caller = caller
        self.request_id = request_id
        self.host = host

    @property
    def world(self):
        return self.emulator.world

    @property
    def region(self):
        return self.params.get("RegionId")

    def get(self, name, default=None):
        value = self.params.get(name)
        return default if value is None or value == "" else value

    def require(self, name):
        value = self.get(name)
        if value is None:
            raise ApiError("MissingParameter", 'The input parameter "%s" that is mandatory for processing this request is not supplied.' % name)
        return value

    def int(self, name, default=None, minimum=None, maximum=None):
        value = self.get(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ApiError("InvalidParameter", 'The specified value of parameter "%s" is not valid.' % name)
        if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
            raise ApiError("InvalidParameter", 'The specified value of parameter "%s" is not valid.' % name)
        return number

    def bool(self, name, default=None):
        value = self.get(name)
        if value is None:
            return default
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ApiError("InvalidParameter", 'The specified value of parameter "%s" is not valid.' % name)

    def json(self, name, default=None):
        value = self.get(name)
        if value is None:
            return default
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError("InvalidParameter", 'The specified value of parameter "%s" is not valid JSON.' % name)

    def list(self, *names):
        """A repeated list: `Name.1=a&Name.2=b` (RepeatList), or a JSON array in `Name`.

        Several names may be given for renamed parameters, e.g. list("Processes", "Process").
        """
        for name in names:
            indexed = []
            for key, value in self.params.items():
                match = _INDEXED.match(key)
                if match and match.group("base") == name and not match.group("rest"):
                    indexed.append((int(match.group("index")), value))
            if indexed:
                return [value for _, value in sorted(indexed)]
            if self.params.get(name):
                parsed = self.json(name)
                if isinstance(parsed, list):
                    return [str(v) for v in parsed]
                return [str(parsed)]
        return []

    def objects(self, name):
        """A repeated list of objects: `Tags.1.Key=a&Tags.1.Value=b` -> [{"Key": "a", "Value": "b"}]."""
        items = {}
        for key, value in self.params.items():
            match = _INDEXED.match(key)
            if match and match.group("base") == name and match.group("rest"):
                items.setdefault(int(match.group("index")), {})[match.group("rest")] = value
        return [items[index] for index in sorted(items)]

    def prefixed(self, prefix):
        """Flattened object fields: `DesiredConfiguration.ImageId=x` -> {"ImageId": "x"}."""
        start = prefix + "."
        return {k[len(start):]: v for k, v in self.params.items() if k.startswith(start)}
