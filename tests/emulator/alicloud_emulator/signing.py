"""Request signatures as Alibaba Cloud computes them: V3 ACS3-HMAC-SHA256 and V2 RPC HMAC-SHA1.

Pure functions, shared by the server (verification) and the tests (test vectors).
"""
import base64
import hashlib
import hmac
from urllib.parse import quote

V3_ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def percent_encode(value):
    """RFC 3986 encoding as the SDKs use it: only A-Z a-z 0-9 - _ . ~ stay; space is %20."""
    return quote(str(value), safe="~")


def canonical_query(params):
    """Sorted `k=v` pairs joined by `&`; parameters whose value is None are left out."""
    pairs = sorted((str(k), str(v)) for k, v in params.items() if v is not None)
    return "&".join(percent_encode(k) + "=" + percent_encode(v) for k, v in pairs)


def v3_canonical_headers(headers, signed_names):
    """`headers` maps lowercase names to lists of values (duplicates are sorted and joined by ',')."""
    lines = []
    for name in signed_names:
        values = sorted(v.strip() for v in headers.get(name, []))
        lines.append(name + ":" + ",".join(values) + "\n")
    return "".join(lines)


def v3_string_to_sign(method, path, query, headers, signed_names, payload_hash):
    canonical_request = "\n".join([
        method.upper(),
        path or "/",
        canonical_query(query),
        v3_canonical_headers(headers, signed_names),
        ";".join(signed_names),
        payload_hash,
    ])
    return V3_ALGORITHM + "\n" + hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()


def v3_signature(secret, method, path, query, headers, signed_names, payload_hash):
    string_to_sign = v3_string_to_sign(method, path, query, headers, signed_names, payload_hash)
    return hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def parse_v3_authorization(value):
    """Return (access_key_id, signed header names, signature) or None when it is not a V3 header."""
    if not value or not value.startswith(V3_ALGORITHM + " "):
        return None
    fields = {}
    for part in value[len(V3_ALGORITHM) + 1:].split(","):
        key, _, val = part.strip().partition("=")
        fields[key] = val
    if not all(fields.get(k) for k in ("Credential", "SignedHeaders", "Signature")):
        return None
    return fields["Credential"], fields["SignedHeaders"].split(";"), fields["Signature"]


def v2_string_to_sign(method, params):
    signed = {k: v for k, v in params.items() if k != "Signature"}
    return method.upper() + "&" + percent_encode("/") + "&" + percent_encode(canonical_query(signed))


def v2_signature(secret, method, params):
    string_to_sign = v2_string_to_sign(method, params)
    digest = hmac.new((secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def constant_time_equal(a, b):
    return hmac.compare_digest(str(a).encode("utf-8"), str(b).encode("utf-8"))
