# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  access_key_id:
    description:
      - Alibaba Cloud AccessKey ID.
      - If not set, the environment variables E(ALIBABA_CLOUD_ACCESS_KEY_ID) then E(ALICLOUD_ACCESS_KEY) are used,
        then a profile of the aliyun CLI configuration file, then the C(alibabacloud-credentials) default chain.
      - The whole precedence is listed in the notes.
    type: str
    aliases: [alicloud_access_key]
  access_key_secret:
    description:
      - Alibaba Cloud AccessKey secret. Required with O(access_key_id).
      - Environment fallback E(ALIBABA_CLOUD_ACCESS_KEY_SECRET), then E(ALICLOUD_SECRET_KEY).
    type: str
    aliases: [alicloud_secret_key]
  security_token:
    description:
      - STS security token that goes with temporary AccessKey credentials.
      - Environment fallback E(ALIBABA_CLOUD_SECURITY_TOKEN), then E(ALICLOUD_SECURITY_TOKEN).
    type: str
  region:
    description:
      - The region to work in, for example V(cn-hangzhou).
      - If not set, E(ALICLOUD_REGION), E(ALIBABA_CLOUD_REGION_ID), then the profile's C(region_id) are used.
      - The module fails with a clear message when none is set.
    type: str
    aliases: [region_id]
  profile:
    description:
      - Name of a profile in the aliyun CLI configuration file (O(config_file)).
      - Supported modes are C(AK), C(StsToken), C(RamRoleArn) and C(EcsRamRole).
      - If not set, E(ALIBABA_CLOUD_PROFILE), E(ALICLOUD_PROFILE), then the file's C(current) profile are used;
        profiles are only read when no AccessKey is given by option or environment.
    type: str
  config_file:
    description:
      - Path of the aliyun CLI configuration file (written by C(aliyun configure)).
      - Defaults to C(~/.aliyun/config.json).
    type: path
  assume_role:
    description:
      - Assume this RAM role with STS AssumeRole, using the credentials found as described above.
      - The STS call goes through O(endpoint_url) or O(endpoints.sts) when they are set.
    type: dict
    suboptions:
      role_arn:
        description:
          - ARN of the RAM role, for example V(acs:ram::123456789012:role/rollout).
          - Required when O(assume_role) is given, unless the environment variable E(ALICLOUD_ASSUME_ROLE_ARN)
            or E(ALIBABA_CLOUD_ROLE_ARN) is set.
          - When O(assume_role) is not given and one of these variables is set, the role is assumed anyway
            (with the defaults below).
        type: str
      session_name:
        description:
          - Role session name recorded in ActionTrail.
          - Defaults to E(ALIBABA_CLOUD_ROLE_SESSION_NAME) if set, else V(ansible-alicloud-rollout).
        type: str
      duration_seconds:
        description: Lifetime of the temporary credentials, 900 to 43200 and at most the role's maximum (checked locally).
        type: int
        default: 3600
      policy:
        description: A policy document (JSON string) that further restricts the assumed role.
        type: str
      external_id:
        description: External ID required by the role's trust policy, if any.
        type: str
  endpoint_url:
    description:
      - Send every API call (OOS, ESS, ECS, STS) to this one URL, for example a proxy or the local emulator.
      - Plain V(http://) is only allowed here. Without a scheme, HTTPS is used.
      - Environment fallback E(ALICLOUD_ENDPOINT_URL).
    type: str
  endpoints:
    description:
      - Per-product endpoint host names (or V(https://) URLs), for example VPC endpoints.
      - Without O(endpoint_url) or an entry here, each product's official SDK picks the endpoint for the region
        (its endpoint map, then its endpoint rules), so the collection keeps no region list of its own.
    type: dict
    suboptions:
      oos:
        description: OOS endpoint.
        type: str
      ess:
        description: Auto Scaling (ESS) endpoint.
        type: str
      ecs:
        description: ECS endpoint.
        type: str
      sts:
        description: STS endpoint.
        type: str
      slb:
        description: Classic Load Balancer (CLB, API name SLB) endpoint; read by the load balancer health gate.
        type: str
      alb:
        description: Application Load Balancer (ALB) endpoint; read by the load balancer health gate.
        type: str
      nlb:
        description: Network Load Balancer (NLB) endpoint; read by the load balancer health gate.
        type: str
  validate_certs:
    description:
      - Verify TLS certificates. Only turn this off for a test endpoint.
    type: bool
    default: true
  retries:
    description:
      - Maximum attempts of one API call (V(1) means no retry).
      - Retried are throttling (C(Throttling*), C(Rejected.Throttling)), C(ServiceUnavailable), C(InternalError),
        HTTP 5xx and network errors, with full-jitter exponential backoff that honours C(x-acs-retry-after).
      - A call that changes something is only repeated after a 5xx or network error when it is safe to repeat
        (it carries a client token or is idempotent by nature).
      - When not set, the value of E(ALICLOUD_RETRIES) is used if present, so that a job template or a role can
        raise it for every task through the environment.
    type: int
    default: 5
  retry_max_delay:
    description:
      - Longest wait in seconds between two attempts of one API call.
      - When not set, the value of E(ALICLOUD_RETRY_MAX_DELAY) is used if present.
    type: float
    default: 20
notes:
  - >-
    Credential precedence: module options; E(ALIBABA_CLOUD_ACCESS_KEY_ID)/E(ALIBABA_CLOUD_ACCESS_KEY_SECRET)/
    E(ALIBABA_CLOUD_SECURITY_TOKEN); E(ALICLOUD_ACCESS_KEY)/E(ALICLOUD_SECRET_KEY)/E(ALICLOUD_SECURITY_TOKEN)
    (names used by AWX and existing tools); a profile of the aliyun CLI configuration file; the
    C(alibabacloud-credentials) default chain (OIDC, C(~/.alibabacloud/credentials), ECS instance RAM role).
    O(assume_role) is applied on top of whatever was found.
  - Environment variables and configuration files are read on the host the module runs on.
  - Secrets never appear in results or messages.
  - Set O(region) once for all modules with C(module_defaults) and the action group C(group/alicloud.rollout.alicloud).
requirements:
  - python >= 3.8
  - alibabacloud-oos20190601
  - alibabacloud-ess20220222
  - alibabacloud-ecs20140526
  - alibabacloud-sts20150401
  - alibabacloud-slb20140515
  - alibabacloud-alb20200616
  - alibabacloud-nlb20220430
  - alibabacloud-credentials
"""
