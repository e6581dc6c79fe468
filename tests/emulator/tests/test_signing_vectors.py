"""The published V3 and V2 test vectors (reference: oos-ess-facts.md section 4)."""
import hashlib

from alicloud_emulator import signing

V3_HEADERS = {
    "host": ["oos.cn-hangzhou.aliyuncs.com"],
    "x-acs-action": ["ListExecutions"],
    "x-acs-version": ["2019-06-01"],
    "x-acs-date": ["2024-01-01T00:00:00Z"],
    "x-acs-signature-nonce": ["nonce-123"],
    "x-acs-content-sha256": [signing.EMPTY_SHA256],
}
V3_SIGNED = ["host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"]
V3_QUERY = {"RegionId": "cn-hangzhou", "ExecutionId": "exec-abc 1*~"}


def test_v3_canonical_query_encodes_space_star_and_keeps_tilde():
    assert signing.canonical_query(V3_QUERY) == "ExecutionId=exec-abc%201%2A~&RegionId=cn-hangzhou"


def test_v3_string_to_sign_vector():
    sts = signing.v3_string_to_sign("POST", "/", V3_QUERY, V3_HEADERS, V3_SIGNED, signing.EMPTY_SHA256)
    assert sts == "ACS3-HMAC-SHA256\n4f92188ff042336597b5da95c2be5d14f813b5fe954f0d822c7c8463a1cd9849"


def test_v3_signature_vector():
    sig = signing.v3_signature("testsecret", "POST", "/", V3_QUERY, V3_HEADERS, V3_SIGNED, signing.EMPTY_SHA256)
    assert sig == "6061e2443c17f8cab652091a06c7984c709f4727a1dc91c96c110489eed51270"


def test_v3_signature_changes_with_secret():
    sig = signing.v3_signature("other", "POST", "/", V3_QUERY, V3_HEADERS, V3_SIGNED, signing.EMPTY_SHA256)
    assert sig != "6061e2443c17f8cab652091a06c7984c709f4727a1dc91c96c110489eed51270"


def test_parse_v3_authorization():
    header = ("ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action,"
              "Signature=abc")
    assert signing.parse_v3_authorization(header) == ("testid", ["host", "x-acs-action"], "abc")
    assert signing.parse_v3_authorization("Bearer x") is None


def test_empty_body_hash():
    assert signing.EMPTY_SHA256 == hashlib.sha256(b"").hexdigest()
    assert signing.EMPTY_SHA256.startswith("e3b0c442")


def test_v2_vector_from_ess_doc():
    params = {
        "AccessKeyId": "testid", "Action": "DescribeScalingGroups", "Format": "xml", "RegionId": "cn-qingdao",
        "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "1324fd0e-e2bb-4bb1-917c-bd6e437f1710",
        "SignatureVersion": "1.0", "TimeStamp": "2014-08-15T11:10:07Z", "Version": "2014-08-28",
    }
    assert signing.v2_string_to_sign("GET", params) == (
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeScalingGroups%26Format%3Dxml%26RegionId%3Dcn-qingdao"
        "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D1324fd0e-e2bb-4bb1-917c-bd6e437f1710"
        "%26SignatureVersion%3D1.0%26TimeStamp%3D2014-08-15T11%253A10%253A07Z%26Version%3D2014-08-28")
    assert signing.v2_signature("testsecret", "GET", params) == "SmhZuLUnXmqxSEZ/GqyiwGqmf+M="


def test_v2_vector_post_with_special_characters():
    params = {
        "AccessKeyId": "testid", "Action": "ListExecutions", "ExecutionId": "exec-abc 1*~", "Format": "json",
        "RegionId": "cn-hangzhou", "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "nonce-123",
        "SignatureVersion": "1.0", "Timestamp": "2024-01-01T00:00:00Z", "Version": "2019-06-01",
    }
    assert signing.v2_signature("testsecret", "POST", params) == "Ng773low/4Wxll6JJhI27omEVTI="
    # The Signature parameter itself never takes part in the string to sign.
    assert signing.v2_signature("testsecret", "POST", dict(params, Signature="x")) == "Ng773low/4Wxll6JJhI27omEVTI="
