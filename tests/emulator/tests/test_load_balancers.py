"""Issue 15: load balancers attached to scaling groups. The ESS answer lists them; CLB DescribeHealthStatus, ALB and
NLB ListServerGroups / ListListeners / ListServerGroupServers / GetListenerHealthStatus answer from the model's
instance health, called through the official SDK clients (alibabacloud-slb20140515, -alb20200616, -nlb20220430)
and checked against their response models (a key the model does not know fails)."""
import json

import pytest
from alibabacloud_alb20200616 import models as alb
from alibabacloud_alb20200616.client import Client as AlbClient
from alibabacloud_ess20220222 import models as ess
from alibabacloud_nlb20220430 import models as nlb
from alibabacloud_nlb20220430.client import Client as NlbClient
from alibabacloud_slb20140515 import models as slb
from alibabacloud_slb20140515.client import Client as SlbClient
from alibabacloud_tea_util import models as util_models

from model_support import GROUP, OLD_IMAGE, REGION, instance_ids, load
from test_sdk_model_conformance import unknown_keys, without_nulls

CLB, VCLB, ALB, NLB = "lb-bp1clb0000000001", "lb-bp1vclb000000001", "alb-bp1alb000000001", "nlb-bp1nlb000000001"
ALB_SG, NLB_SG, VSG = "sgp-bp1alb000000001", "sgp-bp1nlb000000001", "rsp-bp1vsg000000001"
WARMUP = 1800  # the world's instances joined an hour ago; at speed 60 this warm-up lasts 30 s after a change


def attachments(warmup=0, **alb_extra):
    alb_entry = {"type": "alb", "id": ALB, "server_group_id": ALB_SG, "listener_ports": [80, 443], "port": 8080,
                 "warmup_seconds": warmup}
    alb_entry.update(alb_extra)
    return [
        {"type": "clb", "id": CLB, "listener_ports": [80], "warmup_seconds": warmup},
        {"type": "clb", "id": VCLB, "server_group_id": VSG, "listener_ports": [8443], "port": 8443,
         "warmup_seconds": warmup},
        alb_entry,
        {"type": "nlb", "id": NLB, "server_group_id": NLB_SG, "listener_ports": [443], "warmup_seconds": warmup},
    ]


def checked(model, body):
    mapped = model().from_map(without_nulls(json.loads(json.dumps(body)))).to_map()
    lost = unknown_keys(body, mapped)
    assert not lost, "keys the SDK model %s does not know: %s" % (model.__name__, lost)
    return body


def clients(emulator):
    config = emulator.tea_config()
    return SlbClient(config), AlbClient(emulator.tea_config()), NlbClient(emulator.tea_config())


def runtime():
    return util_models.RuntimeOptions()


def alb_health(client, listener_id):
    body = client.get_listener_health_status_with_options(
        alb.GetListenerHealthStatusRequest(listener_id=listener_id, include_rule=True), runtime()).body.to_map()
    return checked(alb.GetListenerHealthStatusResponseBody, body)


def non_normal(body, server_group_id):
    return {s["ServerId"]: s for item in body["ListenerHealthStatus"] for info in item["ServerGroupInfos"]
            if info["ServerGroupId"] == server_group_id for s in info["NonNormalServers"]}


def alb_listeners(client):
    body = client.list_listeners_with_options(alb.ListListenersRequest(load_balancer_ids=[ALB]), runtime()).body
    return checked(alb.ListListenersResponseBody, body.to_map())["Listeners"]


def test_describe_scaling_groups_lists_every_attachment_by_the_ess_model_names(emulator):
    load(emulator, instances=2, load_balancers=attachments() + [
        {"type": "alb", "id": "alb-bp1other00000001", "server_group_id": "sgp-bp1legacy0000001",
         "attach_as": "alb_server_groups", "port": 80}])
    request = ess.DescribeScalingGroupsRequest(region_id=REGION, scaling_group_ids=[GROUP])
    body = emulator.ess_client().describe_scaling_groups_with_options(request, runtime()).body.to_map()
    group = checked(ess.DescribeScalingGroupsResponseBody, body)["ScalingGroups"][0]
    assert group["LoadBalancerIds"] == [CLB]
    assert group["VServerGroups"] == [{"LoadBalancerId": VCLB, "VServerGroupAttributes": [
        {"VServerGroupId": VSG, "Port": 8443, "Weight": 50}]}]
    assert group["AlbServerGroups"] == [{"AlbServerGroupId": "sgp-bp1legacy0000001", "Port": 80, "Weight": 50}]
    assert group["ServerGroups"] == [{"ServerGroupId": ALB_SG, "Type": "ALB", "Port": 8080, "Weight": 50},
                                     {"ServerGroupId": NLB_SG, "Type": "NLB", "Port": 80, "Weight": 50}]
    legacy = emulator.call("DescribeScalingGroups", "2014-08-28", {"RegionId": REGION})["body"]
    assert legacy["ScalingGroups"]["ScalingGroup"][0]["LoadBalancerIds"] == {"LoadBalancerId": [CLB]}


def test_a_group_without_load_balancers_lists_none(emulator):
    load(emulator, instances=1)
    request = ess.DescribeScalingGroupsRequest(region_id=REGION, scaling_group_ids=[GROUP])
    group = emulator.ess_client().describe_scaling_groups_with_options(request, runtime()).body.to_map()
    group = group["ScalingGroups"][0]
    assert (group["LoadBalancerIds"], group["VServerGroups"], group["AlbServerGroups"], group["ServerGroups"]) == \
        ([], [], [], [])


def test_clb_describe_health_status_lists_every_backend_per_listener_port(emulator):
    load(emulator, instances=3, load_balancers=attachments())
    ids = instance_ids(emulator)
    slb_client, _, _ = clients(emulator)
    body = slb_client.describe_health_status_with_options(
        slb.DescribeHealthStatusRequest(region_id=REGION, load_balancer_id=CLB), runtime()).body.to_map()
    servers = checked(slb.DescribeHealthStatusResponseBody, body)["BackendServers"]["BackendServer"]
    assert sorted(s["ServerId"] for s in servers) == sorted(ids)
    assert {s["ServerHealthStatus"] for s in servers} == {"normal"}
    assert {s["ListenerPort"] for s in servers} == {80}

    emulator.set_faults({"unhealthy_images": [OLD_IMAGE]})
    body = slb_client.describe_health_status_with_options(
        slb.DescribeHealthStatusRequest(region_id=REGION, load_balancer_id=VCLB, listener_port=8443),
        runtime()).body.to_map()
    assert {s["ServerHealthStatus"] for s in body["BackendServers"]["BackendServer"]} == {"abnormal"}
    with pytest.raises(Exception) as error:
        slb_client.describe_health_status_with_options(
            slb.DescribeHealthStatusRequest(region_id=REGION, load_balancer_id="lb-bp1nothere"), runtime())
    assert "InvalidLoadBalancerId.NotFound" in str(error.value)


def test_alb_lists_only_non_normal_servers_and_registration_is_a_separate_call(emulator):
    load(emulator, instances=3, load_balancers=attachments())
    ids = instance_ids(emulator)
    emulator.load_world(dict(emulator.world, scaling_groups=[dict(emulator.world["scaling_groups"][0],
                                                                  instances=[{"id": i} for i in ids],
                                                                  load_balancers=attachments(unregistered=[ids[2]]))]))
    _, alb_client, _ = clients(emulator)
    groups = alb_client.list_server_groups_with_options(alb.ListServerGroupsRequest(server_group_ids=[ALB_SG]),
                                                        runtime()).body.to_map()
    assert checked(alb.ListServerGroupsResponseBody, groups)["ServerGroups"][0]["RelatedLoadBalancerIds"] == [ALB]
    listeners = alb_listeners(alb_client)
    assert sorted(item["ListenerPort"] for item in listeners) == [80, 443]
    for listener in listeners:
        assert non_normal(alb_health(alb_client, listener["ListenerId"]), ALB_SG) == {}
    servers = alb_client.list_server_group_servers_with_options(
        alb.ListServerGroupServersRequest(server_group_id=ALB_SG), runtime()).body.to_map()
    servers = checked(alb.ListServerGroupServersResponseBody, servers)["Servers"]
    # The unregistered instance is in neither answer: only the second call shows it is missing.
    assert sorted(s["ServerId"] for s in servers) == sorted(ids[:2])
    assert {(s["Status"], s["Port"], s["Weight"]) for s in servers} == {("Available", 8080, 50)}

    emulator.set_faults({"unhealthy_images": [OLD_IMAGE]})
    unhealthy = non_normal(alb_health(alb_client, listeners[0]["ListenerId"]), ALB_SG)
    assert sorted(unhealthy) == sorted(ids[:2])
    assert {s["Status"] for s in unhealthy.values()} == {"Unhealthy"}
    assert {s["Reason"]["ReasonCode"] for s in unhealthy.values()} == {"RESPONSE_MISMATCH"}


def test_an_instance_that_just_joined_is_initial_and_standby_has_weight_zero(emulator):
    load(emulator, instances=2, load_balancers=attachments(warmup=WARMUP), speed=60)
    ids = instance_ids(emulator)
    ess_params = {"RegionId": REGION, "ScalingGroupId": GROUP, "InstanceIds.1": ids[0]}
    emulator.call("EnterStandby", "2022-02-22", ess_params)
    _, alb_client, nlb_client = clients(emulator)
    listener = alb_listeners(alb_client)[0]["ListenerId"]
    states = {k: v["Status"] for k, v in non_normal(alb_health(alb_client, listener), ALB_SG).items()}
    assert states == {ids[0]: "Unused"}  # the other one joined long ago: its warm-up is over
    servers = alb_client.list_server_group_servers_with_options(
        alb.ListServerGroupServersRequest(server_group_id=ALB_SG, server_ids=[ids[0]]), runtime()).body.to_map()
    assert [(s["ServerId"], s["Weight"]) for s in servers["Servers"]] == [(ids[0], 0)]

    emulator.call("ExitStandby", "2022-02-22", ess_params)
    states = {k: v["Status"] for k, v in non_normal(alb_health(alb_client, listener), ALB_SG).items()}
    assert states == {ids[0]: "Initial"}
    body = nlb_client.list_listeners_with_options(nlb.ListListenersRequest(region_id=REGION,
                                                                           load_balancer_ids=[NLB]), runtime())
    nlb_listener = checked(nlb.ListListenersResponseBody, body.body.to_map())["Listeners"][0]
    assert nlb_listener["ServerGroupId"] == NLB_SG
    body = nlb_client.get_listener_health_status_with_options(
        nlb.GetListenerHealthStatusRequest(region_id=REGION, listener_id=nlb_listener["ListenerId"]), runtime())
    body = checked(nlb.GetListenerHealthStatusResponseBody, body.body.to_map())
    assert {k: v["Status"] for k, v in non_normal(body, NLB_SG).items()} == {ids[0]: "Initial"}
    slb_client, _, _ = clients(emulator)
    body = slb_client.describe_health_status_with_options(
        slb.DescribeHealthStatusRequest(region_id=REGION, load_balancer_id=CLB), runtime()).body.to_map()
    assert {s["ServerId"]: s["ServerHealthStatus"] for s in body["BackendServers"]["BackendServer"]} == \
        {ids[0]: "unavailable", ids[1]: "normal"}


def test_nlb_server_group_servers_and_groups_answer_in_the_model_shape(emulator):
    load(emulator, instances=2, load_balancers=attachments())
    _, _, nlb_client = clients(emulator)
    body = nlb_client.list_server_groups_with_options(
        nlb.ListServerGroupsRequest(region_id=REGION, server_group_ids=[NLB_SG]), runtime()).body.to_map()
    assert checked(nlb.ListServerGroupsResponseBody, body)["ServerGroups"][0]["RelatedLoadBalancerIds"] == [NLB]
    body = nlb_client.list_server_group_servers_with_options(
        nlb.ListServerGroupServersRequest(region_id=REGION, server_group_id=NLB_SG), runtime()).body.to_map()
    servers = checked(nlb.ListServerGroupServersResponseBody, body)["Servers"]
    assert sorted(s["ServerId"] for s in servers) == sorted(instance_ids(emulator))


@pytest.mark.parametrize("entry, message", [
    ({"type": "elb", "id": "x"}, "type must be one of"),
    ({"type": "alb", "id": ALB}, "needs server_group_id"),
    ({"type": "clb", "id": CLB, "listener_ports": []}, "listener_ports"),
    ({"type": "nlb", "id": NLB, "server_group_id": NLB_SG, "attach_as": "alb_server_groups"}, "attach_as"),
    ({"type": "clb", "id": CLB, "color": "red"}, "unknown key"),
])
def test_bad_load_balancer_entries_are_refused_with_the_key(emulator, entry, message):
    with pytest.raises(RuntimeError) as error:
        load(emulator, instances=1, load_balancers=[entry])
    assert message in str(error.value)
