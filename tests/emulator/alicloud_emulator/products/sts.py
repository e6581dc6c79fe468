"""STS 2015-04-01: AssumeRole and GetCallerIdentity."""
import datetime
import json
import re

from ..accounts import MIN_SESSION_SECONDS, PolicySet, WorldError
from ..api import ApiError, api

_SESSION_NAME = re.compile(r"^[A-Za-z0-9.@_-]{2,64}$")


def iso_utc(epoch_seconds):
    return datetime.datetime.fromtimestamp(int(epoch_seconds), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def credentials_body(principal):
    """The AssumeRole response body (also used by the control plane's token minting)."""
    return {
        "Credentials": {
            "AccessKeyId": principal.access_key_id,
            "AccessKeySecret": principal.secret,
            "SecurityToken": principal.security_token,
            "Expiration": iso_utc(principal.expires_at),
        },
        "AssumedRoleUser": {
            "Arn": principal.arn,
            "AssumedRoleId": principal.user_id,
        },
    }


def parse_session_policy(text):
    try:
        document = json.loads(text)
        return PolicySet([document])
    except (ValueError, WorldError):
        raise ApiError("InvalidParameter.PolicyGrammar", "The parameter Policy has not a valid grammar.")


@api("sts", "AssumeRole", mutating=True)
def assume_role(req):
    role_arn = req.get("RoleArn")
    if role_arn is None:
        raise ApiError("MissingRoleArn", "RoleArn is mandatory for this action.")
    session_name = req.get("RoleSessionName")
    if session_name is None:
        raise ApiError("MissingRoleSessionName", "RoleSessionName is mandatory for this action.")
    if not _SESSION_NAME.match(session_name):
        raise ApiError("InvalidParameter.RoleSessionName",
                       "The parameter RoleSessionName is wrongly formed (2 to 64 characters: letters, digits, . @ - _).")
    role = req.emulator.accounts.roles.get(role_arn)
    if role is None:
        raise ApiError("EntityNotExist.Role", "The role not exists: %s." % role_arn, status=404)
    try:
        duration = int(req.get("DurationSeconds", 3600))
    except ValueError:
        raise ApiError("InvalidParameter.DurationSeconds", "The parameter DurationSeconds is not a number.")
    if not MIN_SESSION_SECONDS <= duration <= role.max_session_duration:
        raise ApiError("InvalidParameter.DurationSeconds",
                       "The Min/Max value of DurationSeconds is 15min/%dhr." % (role.max_session_duration // 3600))
    session_policy = parse_session_policy(req.get("Policy")) if req.get("Policy") else None
    principal = req.emulator.accounts.mint(role, session_name, duration, session_policy)
    return credentials_body(principal)


@api("sts", "GetCallerIdentity")
def get_caller_identity(req):
    caller = req.caller
    return {
        "AccountId": caller.account_id,
        "UserId": caller.user_id,
        "Arn": caller.arn,
        "IdentityType": caller.kind,
        "PrincipalId": caller.principal_id,
    }
