# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY.
# The interfaces in this file are meant for use within the alicloud.rollout collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""ESS (2022-02-22) and ECS API helpers. Each takes the ``ApiClient`` from ``module.client("ess")``
(or ``"ecs"``), makes one logical call (all pages), retries per the collection policy and raises
AlicloudApiError. Results are the API's own dicts (PascalCase keys)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from .errors import AlicloudApiError
from .paging import number_pages

try:
    from alibabacloud_ess20220222 import models as ess_models
except ImportError:  # pragma: no cover - AlicloudModule reports the missing SDK
    ess_models = None

# The ESS code for "the group's state does not allow this", used for an Inactive group found by the module.
INCORRECT_GROUP_STATUS = "IncorrectScalingGroupStatus"
ALL_PROCESSES = ["ScaleIn", "ScaleOut", "HealthCheck", "AlarmNotification", "ScheduledAction"]


def describe_scaling_groups(ess, scaling_group_ids=None, scaling_group_name=None):
    def fetch(page, size):
        request = ess_models.DescribeScalingGroupsRequest(
            region_id=ess.region, scaling_group_ids=scaling_group_ids, scaling_group_name=scaling_group_name,
            page_number=page, page_size=size)
        return ess.call("DescribeScalingGroups", lambda rt: ess.sdk.describe_scaling_groups_with_options(request, rt))
    return number_pages(fetch, "ScalingGroups", page_size=50)


def describe_scaling_group(ess, scaling_group_id, include_inactive=False):
    """The group, or raise InvalidScalingGroupId.NotFound (the API answers an empty list).

    ESS leaves Inactive groups out of an answer that names them, so a group not found by id is looked for in the
    listing of the region: an Inactive one is returned with ``include_inactive``, else reported as Inactive.
    """
    for group in describe_scaling_groups(ess, scaling_group_ids=[scaling_group_id]):
        if group.get("ScalingGroupId") == scaling_group_id:
            return group
    for group in describe_scaling_groups(ess):
        if group.get("ScalingGroupId") != scaling_group_id:
            continue
        if include_inactive:
            return group
        raise AlicloudApiError(INCORRECT_GROUP_STATUS,
                               "The scaling group %s is %s (disabled); enable it (ESS EnableScalingGroup) first." % (
                                   scaling_group_id, group.get("LifecycleState") or "Inactive"),
                               operation="DescribeScalingGroups", product="ess")
    raise AlicloudApiError("InvalidScalingGroupId.NotFound",
                           "The specified scaling group %s does not exist in region %s." % (
                               scaling_group_id, ess.region),
                           operation="DescribeScalingGroups", product="ess")


def describe_scaling_instances(ess, scaling_group_id, lifecycle_states=None, creation_types=None,
                               instance_ids=None):
    def fetch(page, size):
        request = ess_models.DescribeScalingInstancesRequest(
            region_id=ess.region, scaling_group_id=scaling_group_id, lifecycle_states=lifecycle_states,
            creation_types=creation_types, instance_ids=instance_ids, page_number=page, page_size=size)
        return ess.call("DescribeScalingInstances",
                        lambda rt: ess.sdk.describe_scaling_instances_with_options(request, rt))
    return number_pages(fetch, "ScalingInstances", page_size=100)


def describe_scaling_configuration(ess, scaling_configuration_id, scaling_group_id=None):
    def fetch(page, size):
        request = ess_models.DescribeScalingConfigurationsRequest(
            region_id=ess.region, scaling_configuration_ids=[scaling_configuration_id],
            scaling_group_id=scaling_group_id, page_number=page, page_size=size)
        return ess.call("DescribeScalingConfigurations",
                        lambda rt: ess.sdk.describe_scaling_configurations_with_options(request, rt))
    for config in number_pages(fetch, "ScalingConfigurations", page_size=50):
        if config.get("ScalingConfigurationId") == scaling_configuration_id:
            return config
    return None


def modify_scaling_configuration(ess, scaling_configuration_id, image_id):
    request = ess_models.ModifyScalingConfigurationRequest(scaling_configuration_id=scaling_configuration_id,
                                                           image_id=image_id)
    # Setting the image to a fixed value is idempotent.
    ess.call("ModifyScalingConfiguration",
             lambda rt: ess.sdk.modify_scaling_configuration_with_options(request, rt),
             mutating=True, safe_to_repeat=True)


def suspend_processes(ess, scaling_group_id, processes, client_token=None):
    request = ess_models.SuspendProcessesRequest(region_id=ess.region, scaling_group_id=scaling_group_id,
                                                 processes=list(processes), client_token=client_token)
    # Suspending a suspended process is a no-op, so a repeat is safe.
    ess.call("SuspendProcesses", lambda rt: ess.sdk.suspend_processes_with_options(request, rt),
             mutating=True, safe_to_repeat=True)


def resume_processes(ess, scaling_group_id, processes, client_token=None):
    request = ess_models.ResumeProcessesRequest(region_id=ess.region, scaling_group_id=scaling_group_id,
                                                processes=list(processes), client_token=client_token)
    ess.call("ResumeProcesses", lambda rt: ess.sdk.resume_processes_with_options(request, rt),
             mutating=True, safe_to_repeat=True)


def exit_standby(ess, scaling_group_id, instance_ids, client_token=None):
    request = ess_models.ExitStandbyRequest(region_id=ess.region, scaling_group_id=scaling_group_id,
                                            instance_ids=list(instance_ids), client_token=client_token)
    ess.call("ExitStandby", lambda rt: ess.sdk.exit_standby_with_options(request, rt),
             mutating=True, safe_to_repeat=bool(client_token))


def set_protection(ess, scaling_group_id, instance_ids, protected):
    request = ess_models.SetInstancesProtectionRequest(scaling_group_id=scaling_group_id,
                                                       instance_ids=list(instance_ids),
                                                       protected_from_scale_in=bool(protected))
    ess.call("SetInstancesProtection", lambda rt: ess.sdk.set_instances_protection_with_options(request, rt),
             mutating=True, safe_to_repeat=True)


def describe_regions(ecs):
    """ECS DescribeRegions (a cheap call that proves credentials and endpoint work)."""
    body = ecs.rpc("DescribeRegions")
    regions = body.get("Regions") or {}
    if isinstance(regions, dict):
        regions = regions.get("Region") or []
    return regions


def describe_instances(ecs, instance_ids):
    """ECS DescribeInstances for up to 100 ids at a time (ImageId, Status...)."""
    found = []
    ids = list(instance_ids)
    for start in range(0, len(ids), 100):
        chunk = ids[start:start + 100]
        body = ecs.rpc("DescribeInstances", {"InstanceIds": chunk, "PageSize": 100})
        instances = body.get("Instances") or {}
        if isinstance(instances, dict):
            instances = instances.get("Instance") or []
        found.extend(instances)
    return found


# DescribeImages returns, without ImageOwnerAlias, only system, self and shared (others) images, and without
# Status only Available ones (ECS SDK model DescribeImagesRequest). These queries together cover every image a
# user may roll out: system/self/shared, marketplace, community (others + IsPublic); any status.
IMAGE_QUERIES = (
    {},
    {"ImageOwnerAlias": "marketplace"},
    {"ImageOwnerAlias": "others", "IsPublic": "true"},
)


def find_image(ecs, image_id):
    """The DescribeImages item of ``image_id`` in any owner category and status, or None when no query finds
    it. ``InvalidImageId*`` errors count as not found; other errors are raised. API calls (at most three)."""
    for query in IMAGE_QUERIES:
        params = dict(query, ImageId=image_id, Status="ALL")
        try:
            body = ecs.rpc("DescribeImages", params)
        except AlicloudApiError as error:
            if (error.code or "").startswith("InvalidImageId"):
                continue
            raise
        for image in (body.get("Images") or {}).get("Image") or []:
            if image.get("ImageId") == image_id:
                return image
    return None
