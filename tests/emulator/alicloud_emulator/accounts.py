"""Accounts, RAM roles, RAM policy evaluation and STS temporary credentials.

Policies follow RAM's shape: a system policy name, or a document
`{"Statement": [{"Effect": "Allow"|"Deny", "Action": [...], "Resource": "*"}]}` (a bare `{"Action": [...]}`
is read as one Allow statement). An explicit Deny beats any Allow; no Allow means an implicit deny.
Resources are not modelled: every statement applies to all resources.
"""
import fnmatch
import re
import secrets
import string
import threading
import time

# Actions every authenticated caller may call whatever its policies say (as on the real STS).
ALWAYS_ALLOWED = {"sts:getcalleridentity"}

_READ_ONLY = ["Describe*", "List*", "Get*"]

SYSTEM_POLICIES = {
    "AdministratorAccess": ["*"],
    "AliyunOOSFullAccess": ["oos:*"],
    "AliyunESSFullAccess": ["ess:*"],
    "AliyunECSFullAccess": ["ecs:*"],
    "AliyunSTSAssumeRoleAccess": ["sts:AssumeRole"],
    "AliyunOOSReadOnlyAccess": ["oos:" + a for a in _READ_ONLY],
    "AliyunESSReadOnlyAccess": ["ess:" + a for a in _READ_ONLY],
    "AliyunECSReadOnlyAccess": ["ecs:" + a for a in _READ_ONLY],
    "AliyunSLBFullAccess": ["slb:*"],
    "AliyunSLBReadOnlyAccess": ["slb:" + a for a in _READ_ONLY],
    "AliyunALBFullAccess": ["alb:*"],
    "AliyunALBReadOnlyAccess": ["alb:" + a for a in _READ_ONLY],
    "AliyunNLBFullAccess": ["nlb:*"],
    "AliyunNLBReadOnlyAccess": ["nlb:" + a for a in _READ_ONLY],
}

DEFAULT_MAX_SESSION_SECONDS = 3600
MIN_SESSION_SECONDS = 900
MAX_SESSION_SECONDS = 43200

_ALNUM = string.ascii_letters + string.digits
_ROLE_ARN = re.compile(r"^acs:ram::(?P<account>\d+):role/(?P<name>[A-Za-z0-9.@_-]+)$")


class WorldError(ValueError):
    """The world document is invalid (answered as HTTP 400 by the control plane)."""


def _statements(policy):
    """Normalise one policy (name or document) into [(effect, [action patterns])]."""
    if isinstance(policy, str):
        if policy not in SYSTEM_POLICIES:
            raise WorldError("unknown system policy %r (known: %s)" % (policy, ", ".join(sorted(SYSTEM_POLICIES))))
        return [("Allow", SYSTEM_POLICIES[policy])]
    if not isinstance(policy, dict):
        raise WorldError("a policy is a system policy name or a document, not %r" % (policy,))
    raw = policy.get("Statement")
    if raw is None:
        raw = [policy]
    if isinstance(raw, dict):
        raw = [raw]
    result = []
    for statement in raw:
        if not isinstance(statement, dict) or "Action" not in statement:
            raise WorldError("a policy statement needs an Action list: %r" % (statement,))
        effect = statement.get("Effect", "Allow")
        if effect not in ("Allow", "Deny"):
            raise WorldError("policy Effect must be Allow or Deny, not %r" % (effect,))
        actions = statement["Action"]
        if isinstance(actions, str):
            actions = [actions]
        if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
            raise WorldError("policy Action must be a string or a list of strings: %r" % (actions,))
        result.append((effect, actions))
    return result


class PolicySet:
    """A compiled list of policies. `None` policies mean full access (world `policies` omitted)."""

    def __init__(self, policies):
        self.full_access = policies is None
        self.statements = []
        if policies is None:
            return
        if isinstance(policies, (str, dict)):
            policies = [policies]
        if not isinstance(policies, list):
            raise WorldError("policies must be a list, not %r" % (policies,))
        for policy in policies:
            for effect, actions in _statements(policy):
                # RAM action names are case-insensitive.
                self.statements.append((effect, [a.lower() for a in actions]))

    def decide(self, ram_action):
        """Return "Allow", "ExplicitDeny" or "ImplicitDeny" for an action like `ess:SuspendProcesses`."""
        if self.full_access:
            return "Allow"
        action = ram_action.lower()
        allowed = False
        for effect, patterns in self.statements:
            if any(fnmatch.fnmatchcase(action, pattern) for pattern in patterns):
                if effect == "Deny":
                    return "ExplicitDeny"
                allowed = True
        return "Allow" if allowed else "ImplicitDeny"


class Principal:
    """Who made a call: a RAM user (long-term key) or an assumed role (STS key + token)."""

    def __init__(self, access_key_id, secret, account_id, name, policies, kind="RAMUser",
                 role=None, session_name=None, assumed_role_id=None, session_policy=None,
                 security_token=None, expires_at=None):
        self.access_key_id = access_key_id
        self.secret = secret
        self.account_id = account_id
        self.name = name
        self.policies = policies
        self.kind = kind
        self.role = role
        self.session_name = session_name
        self.assumed_role_id = assumed_role_id
        self.session_policy = session_policy
        self.security_token = security_token
        self.expires_at = expires_at

    def decide(self, ram_action):
        if ram_action.lower() in ALWAYS_ALLOWED:
            return "Allow"
        decision = self.policies.decide(ram_action)
        if decision == "Allow" and self.session_policy is not None:
            decision = self.session_policy.decide(ram_action)
        return decision

    @property
    def arn(self):
        if self.kind == "AssumedRoleUser":
            return "acs:ram::%s:assumed-role/%s/%s" % (self.account_id, self.role.name, self.session_name)
        if self.kind == "Account":
            return "acs:ram::%s:root" % self.account_id
        return "acs:ram::%s:user/%s" % (self.account_id, self.name)

    @property
    def user_id(self):
        if self.kind == "AssumedRoleUser":
            return "%s:%s" % (self.assumed_role_id, self.session_name)
        if self.kind == "Account":
            return self.account_id
        return self.principal_id

    @property
    def principal_id(self):
        if self.kind == "AssumedRoleUser":
            return "%s:%s" % (self.assumed_role_id, self.session_name)
        if self.kind == "Account":
            return self.account_id
        # A stable made-up numeric user id derived from the key id.
        return str(20000000000000000 + int.from_bytes(self.access_key_id.encode("utf-8"), "big") % 10 ** 16)

    def expired(self, now=None):
        return self.expires_at is not None and (now or time.time()) >= self.expires_at


class Role:
    def __init__(self, arn, policies, max_session_duration):
        match = _ROLE_ARN.match(arn or "")
        if not match:
            raise WorldError("role arn must look like acs:ram::<account id>:role/<name>, not %r" % (arn,))
        self.arn = arn
        self.account_id = match.group("account")
        self.name = match.group("name")
        self.policies = policies
        self.max_session_duration = max_session_duration
        # Alibaba role ids are 19 digits starting with 3.
        self.role_id = "3" + "".join(secrets.choice(string.digits) for _ in range(18))


class Accounts:
    """Long-term keys from the world plus the STS credentials minted while running."""

    def __init__(self, accounts=None, roles=None):
        self._lock = threading.Lock()
        self.keys = {}
        self.roles = {}
        self.temporary = {}
        for entry in accounts or []:
            self._add_account(entry)
        for entry in roles or []:
            self._add_role(entry)

    @classmethod
    def from_world(cls, doc):
        accounts = doc.get("accounts") or []
        roles = doc.get("roles") or []
        if not isinstance(accounts, list) or not isinstance(roles, list):
            raise WorldError("accounts and roles must be lists")
        return cls(accounts, roles)

    def _add_account(self, entry):
        if not isinstance(entry, dict):
            raise WorldError("an account is a mapping, not %r" % (entry,))
        unknown = set(entry) - {"name", "account_id", "access_key_id", "access_key_secret", "policies", "root"}
        if unknown:
            raise WorldError("unknown account keys: %s" % ", ".join(sorted(unknown)))
        key_id = entry.get("access_key_id")
        secret = entry.get("access_key_secret")
        if not key_id or not secret:
            raise WorldError("an account needs access_key_id and access_key_secret")
        if key_id.startswith("STS."):
            raise WorldError("long-term access key ids must not start with 'STS.' (reserved for STS)")
        if key_id in self.keys:
            raise WorldError("duplicate access_key_id %s" % key_id)
        account_id = str(entry.get("account_id", "1234567890123456"))
        name = entry.get("name") or key_id
        self.keys[key_id] = Principal(
            key_id, str(secret), account_id, name, PolicySet(entry.get("policies")),
            kind="Account" if entry.get("root") else "RAMUser")

    def _add_role(self, entry):
        if not isinstance(entry, dict):
            raise WorldError("a role is a mapping, not %r" % (entry,))
        unknown = set(entry) - {"arn", "policies", "max_session_duration"}
        if unknown:
            raise WorldError("unknown role keys: %s" % ", ".join(sorted(unknown)))
        max_duration = int(entry.get("max_session_duration", DEFAULT_MAX_SESSION_SECONDS))
        if not DEFAULT_MAX_SESSION_SECONDS <= max_duration <= MAX_SESSION_SECONDS:
            raise WorldError("role max_session_duration must be 3600..43200 seconds")
        role = Role(entry.get("arn"), PolicySet(entry.get("policies")), max_duration)
        if role.arn in self.roles:
            raise WorldError("duplicate role %s" % role.arn)
        self.roles[role.arn] = role

    def find_key(self, access_key_id):
        with self._lock:
            return self.keys.get(access_key_id) or self.temporary.get(access_key_id)

    def mint(self, role, session_name, duration_seconds, session_policy=None, expires_at=None):
        """Create temporary credentials for `role`; expiry is on the real clock (tokens outlive no speed-up)."""
        key_id = "STS.NV" + "".join(secrets.choice(_ALNUM) for _ in range(26))
        principal = Principal(
            key_id, "".join(secrets.choice(_ALNUM) for _ in range(44)), role.account_id, session_name,
            role.policies, kind="AssumedRoleUser", role=role, session_name=session_name,
            assumed_role_id=role.role_id, session_policy=session_policy,
            security_token="CAIS" + secrets.token_urlsafe(180),
            expires_at=expires_at if expires_at is not None else time.time() + duration_seconds)
        with self._lock:
            self._prune()
            self.temporary[key_id] = principal
        return principal

    def _prune(self):
        # Keep expired credentials for a day so that their use answers "expired", not "not found".
        horizon = time.time() - 86400
        for key_id in [k for k, p in self.temporary.items() if p.expires_at < horizon]:
            del self.temporary[key_id]
