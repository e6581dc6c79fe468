"""The OOS execution engine for the three ESS rolling-update templates (reference 1.3-1.6).

Every execution (parent or per-instance child) is a generator "program" driven by the simulated clock:
it yields a number (sleep that many simulated seconds) or WAIT (resumed by an event: children finished,
a script finished, NotifyExecution). No thread sleeps per instance; only real bash runs use worker threads.
All program steps run with the emulator lock held (World.schedule takes it).
"""
import json
import time

from . import templates
from .api import ApiError
from .clock import iso
from .state import PROCESSES, check_command_content

WAIT = object()
FINAL = ("Success", "Failed", "Cancelled")

# Simulated durations (seconds) of the steps; scaled by the emulator speed.
API_STEP = 2
VIEW_STEP = 1
PROTECTION_STEP = 2
STANDBY_STEP = 5
STOP_STEP = 20
REPLACE_DISK_STEP = 30
START_STEP = 20
PACKAGE_STEP = 20
STANDBY_RETRIES = 30
STANDBY_RETRY_DELAY = 10
SCRIPT_TIMEOUT = 600  # ACS::ESS::RunCommand `timeout` default (seconds)

BATCH_PAUSE = "BatchPause"      # WaitingStatus while paused between batches [INFERRED name]
FAILURE_PAUSE = "FailurePause"  # WaitingStatus while paused on a failure in Mode=FailurePause [INFERRED name]


def split_batches(items, batch_number):
    """Fn::CalculateBatch as modelled: min(batchNumber, n) batches, remainder in the first batches."""
    count = len(items)
    if count == 0:
        return []
    batches = min(max(1, int(batch_number)), count)
    base, remainder = divmod(count, batches)
    result, start = [], 0
    for index in range(batches):
        size = base + (1 if index < remainder else 0)
        result.append(items[start:start + size])
        start += size
    return result


def _suspend(group, processes):
    """Add processes to the group's suspended set (kept in the ESS order of the five names)."""
    wanted = set(group.suspended) | set(processes)
    group.suspended = [p for p in PROCESSES if p in wanted]


class StepFailed(Exception):
    """A template step failed; the message names the instance and the step."""


class TaskExecution:
    def __init__(self, engine, execution, name, action, properties=None, parent_task=None, loop_item=None,
                 loop_batch=None, status="Running"):
        self.id = "task-" + engine.world.new_id("", 20)
        self.execution_id = execution.id
        self.name = name
        self.action = action
        self.properties = properties or {}
        self.outputs = {}
        self.status = status
        self.status_message = ""
        self.parent_task_id = parent_task.id if parent_task else ""
        self.loop_item = loop_item
        self.loop_batch = loop_batch
        self.loop = None
        self.child_execution_id = ""
        now = engine.world.now()
        self.created = now
        self.started = now if status == "Running" else None
        self.ended = None
        self.updated = now
        self.template_id = execution.template_id

    def api(self):
        item = {
            "TaskExecutionId": self.id, "ExecutionId": self.execution_id, "TaskName": self.name,
            "TaskAction": self.action, "Status": self.status, "StatusMessage": self.status_message,
            "Properties": json.dumps(self.properties), "Outputs": json.dumps(self.outputs),
            "CreateDate": iso(self.created), "StartDate": iso(self.started) if self.started else "",
            "EndDate": iso(self.ended) if self.ended else "", "UpdateDate": iso(self.updated),
            "TemplateId": self.template_id, "ExtraData": {},
        }
        if self.parent_task_id:
            item["ParentTaskExecutionId"] = self.parent_task_id
            item["LoopItem"] = self.loop_item
            item["LoopBatchNumber"] = self.loop_batch
        if self.loop is not None:
            item["Loop"] = dict(self.loop)
        if self.child_execution_id:
            item["ChildExecutionId"] = self.child_execution_id
        return item


class Execution:
    def __init__(self, engine, template_name, template_version, parameters, options, parent=None):
        world = engine.world
        self.engine = engine
        self.id = "exec-" + world.new_id("", 20)
        self.template_name = template_name
        self.template_version = template_version
        self.template_id = templates.TEMPLATE_IDS.get(template_name, "")
        self.parameters = parameters
        self.mode = options.get("Mode") or "Automatic"
        self.loop_mode = options.get("LoopMode") or "Automatic"
        self.safety_check = options.get("SafetyCheck") or "ConfirmEveryHighRiskAction"
        self.description = options.get("Description") or ""
        self.tags = dict(options.get("Tags") or {})
        self.parent_id = parent.id if parent else (options.get("ParentExecutionId") or "")
        self.region = options.get("RegionId") or ""
        self.executed_by = options.get("ExecutedBy") or ""
        self.account_id = options.get("AccountId") or (parent.account_id if parent else "")
        self.resource_group_id = options.get("ResourceGroupId") or ""
        self.ram_role = parameters.get("OOSAssumeRole", "") if isinstance(parameters, dict) else ""
        self.status = "Started"
        self.status_message = ""
        self.status_reason = ""
        self.waiting_status = ""
        self.outputs = "{}"
        now = world.now()
        self.created = now
        self.started = None
        self.ended = None
        self.updated = now
        self.status_changed_at = now
        self.status_changed_at_real = time.time()
        self.tasks = []
        self.children = []
        self.batches = []
        self.current_batch = 0
        self.logs = []
        self.is_parent = parent is None
        self.sequence = engine.next_sequence()
        # Runtime of the program.
        self.program = None
        self.event = None
        self.on_finish = None

    @property
    def final(self):
        return self.status in FINAL

    def counters(self):
        counts = {"Total": 0, "Success": 0, "Failed": 0, "Running": 0, "Waiting": 0, "Pending": 0,
                  "Cancelled": 0, "Skipped": 0}
        for task in self.tasks:
            counts["Total"] += 1
            counts[task.status] = counts.get(task.status, 0) + 1
        return counts

    def api_counters(self):
        """Counters as the world's fidelity says: our keys [INFERRED], the keys ROS documents for
        ALIYUN::OOS::Execution (TotalTasks, SuccessTasks, FailedTasks), or none."""
        variant = self.engine.world.fidelity["counters"]
        counts = self.counters()
        if variant == "ros":
            return {"TotalTasks": counts["Total"], "SuccessTasks": counts["Success"], "FailedTasks": counts["Failed"]}
        if variant == "absent":
            return None
        return counts

    def api_waiting_status(self):
        """WaitingStatus as the world's fidelity says: our inferred names, nothing, or other names."""
        variant = self.engine.world.fidelity["waiting_status"]
        if variant == "absent" or not self.waiting_status:
            return ""
        if variant == "other":
            return {BATCH_PAUSE: "LoopBatchPause", FAILURE_PAUSE: "TaskFailedPause"}.get(self.waiting_status,
                                                                                        "Other")
        return self.waiting_status

    def current_tasks(self):
        return [{"TaskAction": t.action, "TaskExecutionId": t.id, "TaskName": t.name}
                for t in self.tasks if t.status in ("Running", "Waiting") and not t.parent_task_id]

    def api(self):
        """An execution as ListExecutions shows it (ListExecutionsResponseBodyExecutions)."""
        item = {
            "ExecutionId": self.id, "TemplateId": self.template_id, "TemplateName": self.template_name,
            "TemplateVersion": self.template_version, "Mode": self.mode,
            "SafetyCheck": self.safety_check, "Parameters": dict(self.parameters), "Outputs": self.outputs,
            "Status": self.status, "StatusMessage": self.status_message, "StatusReason": self.status_reason,
            "WaitingStatus": self.api_waiting_status(), "ExecutedBy": self.executed_by, "IsParent": self.is_parent,
            "ParentExecutionId": self.parent_id, "RamRole": self.ram_role, "ResourceGroupId": self.resource_group_id,
            "Tags": dict(self.tags), "Counters": self.api_counters(), "CurrentTasks": self.current_tasks(),
            "AccountId": self.account_id,
            "Description": self.description, "Category": "Other", "Targets": "", "ResourceStatus": {},
            "CreateDate": iso(self.created), "StartDate": iso(self.started) if self.started else "",
            "EndDate": iso(self.ended) if self.ended else "", "UpdateDate": iso(self.updated),
        }
        if item["Counters"] is None:
            del item["Counters"]
        return item

    def start_api(self):
        """StartExecution's `Execution` (StartExecutionResponseBodyExecution): no WaitingStatus, StatusReason,
        AccountId, Category, Targets or ResourceStatus in that model; LoopMode is."""
        item = self.api()
        for key in ("WaitingStatus", "StatusReason", "AccountId", "Category", "Targets", "ResourceStatus"):
            item.pop(key, None)
        item["LoopMode"] = self.loop_mode
        return item


class Program:
    """A running generator plus the event it waits on."""

    def __init__(self, generator):
        self.generator = generator
        self.event = None
        self.closed = False
        self.waiting = False


class Engine:
    def __init__(self, world):
        self.world = world
        self.executions = {}
        self._sequence = 0

    def next_sequence(self):
        self._sequence += 1
        return self._sequence

    # ----- program driver -----
    def _run(self, execution, resume_value=None):
        program = execution.program
        if program is None or program.closed:
            return
        program.event = None
        program.waiting = False
        try:
            value = program.generator.send(resume_value)
        except StopIteration:
            program.closed = True
            return
        except Exception as error:  # a bug in a step must not wedge the execution
            import traceback
            traceback.print_exc()
            program.closed = True
            self._finish(execution, "Failed", "internal emulator error: %s" % error)
            return
        if value is WAIT:
            program.waiting = True
        else:
            program.event = self.world.schedule(value, lambda: self._run(execution))

    def _resume(self, execution, value=None):
        program = execution.program
        if program is not None and not program.closed and program.waiting:
            self._run(execution, value)

    def _stop_program(self, execution):
        program = execution.program
        if program is None or program.closed:
            return
        program.closed = True
        if program.event is not None:
            program.event.cancel()
        program.generator.close()

    # ----- status bookkeeping -----
    def _set_status(self, execution, status, message=None, waiting_status=""):
        now = self.world.now()
        if status != execution.status or waiting_status != execution.waiting_status:
            execution.status_changed_at = now
            execution.status_changed_at_real = time.time()
        execution.status = status
        execution.waiting_status = waiting_status
        if message is not None:
            execution.status_message = message
        if status == "Running" and execution.started is None:
            execution.started = now
        if status in FINAL:
            execution.ended = now
            if execution.started is None:
                execution.started = now
        execution.updated = now
        self._log(execution, "Execution", "Execution status changed to %s%s" % (
            status, (": " + execution.status_message) if status in ("Failed", "Cancelled") and execution.status_message else ""))

    def _log(self, execution, log_type, message, task=None):
        execution.logs.append({"Timestamp": self.world.now_iso(), "Message": message,
                               "TaskExecutionId": task.id if task else "", "LogType": log_type})

    def _begin_task(self, execution, name, action, properties=None, **extra):
        task = TaskExecution(self, execution, name, action, properties, **extra)
        execution.tasks.append(task)
        execution.updated = self.world.now()
        if task.status == "Running":
            self._log(execution, "TaskExecution", "Task %s (%s) started" % (name, action), task)
        return task

    def _end_task(self, execution, task, status, message="", outputs=None):
        now = self.world.now()
        task.status = status
        task.status_message = message
        if outputs is not None:
            task.outputs = outputs
        if task.started is None and status != "Cancelled":
            task.started = now
        task.ended = now
        task.updated = now
        execution.updated = now
        self._log(execution, "TaskExecution", "Task %s %s%s" % (task.name, status.lower(),
                                                              (": " + message) if message else ""), task)

    def _finish(self, execution, status, message="", outputs=None):
        if execution.final:
            return
        for task in execution.tasks:
            if task.status in ("Running", "Waiting", "Pending"):
                self._end_task(execution, task, "Cancelled" if status == "Cancelled" or task.status == "Pending"
                               else "Failed", "" if task.status == "Pending" else message)
        if outputs is not None:
            execution.outputs = json.dumps(outputs)
        self._set_status(execution, status, message)
        callback = execution.on_finish
        execution.on_finish = None
        if callback:
            callback(execution)

    def _injected(self, instance_id, step):
        return (self.world.faults.get("failing_instances") or {}).get(instance_id) == step

    # ----- public operations (called by products/oos.py with the lock held) -----
    def start(self, template_name, template_version, parameters, options):
        execution = Execution(self, template_name, template_version or templates.latest_version(template_name), parameters, options)
        if parameters["invokeType"] == "rollback":
            # The template neither validates nor cancels the source (sourceExecutionId is a plain String): its
            # rollback path lists the source's children, whatever state the source is in.
            generator = self._rollback_program(execution, parameters.get("sourceExecutionId") or "")
        else:
            generator = self._invoke_program(execution)
        self.executions[execution.id] = execution
        self._log(execution, "Execution", "Execution created from template %s" % template_name)
        execution.program = Program(generator)
        execution.program.event = self.world.schedule(0, lambda: self._run(execution))
        return execution

    def cancel(self, execution, message="The execution was cancelled."):
        """Stop the execution and its running children; instances and processes stay as they are."""
        if execution.final:
            return
        for child_id in execution.children:
            child = self.executions.get(child_id)
            if child is not None and not child.final:
                self._stop_program(child)
                child.on_finish = None
                self._finish(child, "Cancelled", "The parent execution was cancelled.")
        self._stop_program(execution)
        execution.on_finish = None
        self._finish(execution, "Cancelled", message)

    def notify(self, execution, notify_type, task_execution_id=None):
        program = execution.program
        waiting = execution.status == "Waiting" and program is not None and program.waiting
        if notify_type in ("Approve", "Reject"):
            if not waiting or execution.waiting_status != BATCH_PAUSE:
                raise ApiError("InvalidStatus.Execution",
                               "The execution %s is not waiting for an approval (status %s)." % (execution.id, execution.status))
            if notify_type == "Approve":
                self._resume(execution, "Approve")
            else:
                self._stop_program(execution)
                self._finish(execution, "Failed", "The batch pause was rejected by NotifyExecution.")
            return
        if notify_type in ("RetryTask", "SkipTask"):
            if not waiting or execution.waiting_status != FAILURE_PAUSE:
                raise ApiError("InvalidStatus.Execution",
                               "The execution %s is not paused on a failed task (status %s)." % (execution.id, execution.status))
            self._resume(execution, (notify_type, task_execution_id))
            return
        raise ApiError("InvalidParameter", "The NotifyType %s is not supported for execution %s." % (notify_type, execution.id))

    # ----- parent programs -----
    def _api_task(self, execution, name, action_api, properties):
        return self._begin_task(execution, name, "ACS::ExecuteApi", dict(properties, API=action_api))

    def _process_step(self, execution, name, action_api, group, processes):
        """An ACS::ExecuteAPI step calling ESS Suspend/ResumeProcesses: it fails as ESS does on an empty or an
        unknown process list (the templates declare no AllowedValues; only ESS checks). Returns False if failed."""
        task = self._api_task(execution, name, action_api,
                              {"Service": "ESS", "ScalingGroupId": group.id, "Process": list(processes)})
        yield API_STEP
        error = None
        if not processes:
            error = 'MissingParameter: The input parameter "Process.1" that is mandatory for processing this request is not supplied.'
        elif any(p not in PROCESSES for p in processes):
            error = 'InvalidParameter: The specified value of parameter "Process" is not valid.'
        if error:
            message = "Task %s failed: %s" % (name, error)
            self._end_task(execution, task, "Failed", message)
            self._finish(execution, "Failed", message)
            return False
        if action_api == "SuspendProcesses":
            _suspend(group, processes)
        else:
            group.suspended = [p for p in group.suspended if p not in processes]
        self._end_task(execution, task, "Success")
        return True

    def _in_scope(self, group, lifecycle_states):
        """getInstance: DescribeScalingInstances with the template's filters and no PageSize. Whether
        ACS::ExecuteApi pages is not documented: world fidelity.instance_page_size gives the first page only."""
        items = [{"InstanceId": i.id, "LifecycleState": i.lifecycle_state}
                 for i in (self.world.instances[x] for x in group.instance_ids)
                 if i.lifecycle_state in lifecycle_states and i.creation_type in ("AutoCreated", "Attached")]
        size = self.world.fidelity["instance_page_size"]
        return items if size == "all" else items[:size]

    def _invoke_program(self, execution):
        world = self.world
        params = execution.parameters
        template_name = execution.template_name
        self._set_status(execution, "Running")
        yield 0
        task = self._api_task(execution, "getInstance", "DescribeScalingInstances",
                              {"Service": "ESS", "ScalingGroupId": params["scalingGroupId"],
                               "LifecycleStates": params["lifecycleState"], "CreationTypes": ["AutoCreated", "Attached"]})
        yield API_STEP
        group = world.groups.get(params["scalingGroupId"])
        if group is None or (execution.region and group.region != execution.region):
            message = "Task getInstance failed: InvalidScalingGroupId.NotFound: The specified scaling group %s does not exist." % params["scalingGroupId"]
            self._end_task(execution, task, "Failed", message)
            self._finish(execution, "Failed", message)
            return
        items = self._in_scope(group, params["lifecycleState"])
        self._end_task(execution, task, "Success", outputs={"instanceIds": items})
        if not items:
            self._finish(execution, "Success", "", outputs={})
            return
        if params["enterProcess"]:  # whetherToSuspendProcess
            if not (yield from self._process_step(execution, "suspendProcess", "SuspendProcesses", group,
                                                  params["enterProcess"])):
                return
        if template_name == templates.IMAGE and params["scalingConfigurationId"]:
            task = self._api_task(execution, "modifyScalingConfiguration", "ModifyScalingConfiguration",
                                  {"Service": "ESS", "ScalingConfigurationId": params["scalingConfigurationId"],
                                   "ImageId": params["imageId"]})
            yield API_STEP
            config = world.configurations.get(params["scalingConfigurationId"])
            error = None
            if config is None:
                error = "InvalidScalingConfigurationId.NotFound: The specified scaling configuration %s does not exist." % params["scalingConfigurationId"]
            elif params["imageId"] not in world.images:
                error = "InvalidImageId.NotFound: The specified image %s does not exist." % params["imageId"]
            if error:
                message = "Task modifyScalingConfiguration failed: " + error
                self._end_task(execution, task, "Failed", message)
                self._finish(execution, "Failed", message)
                return
            config["image_id"] = params["imageId"]
            self._end_task(execution, task, "Success")
        outputs = yield from self._loop(execution, group, items, rollback=False)
        if outputs is None:
            return
        task = self._begin_task(execution, "tagInstance", "ACS::ExecuteApi",
                                {"Service": "ECS", "API": "TagResources", "ResourceType": "Instance",
                                 "Tags": [{"Key": "ess:rollingupdate", "Value": "oos:" + execution.id}]})
        yield API_STEP
        for item in items:
            instance = world.instances.get(item["InstanceId"])
            if instance is not None:
                instance.tags["ess:rollingupdate"] = "oos:" + execution.id
        self._end_task(execution, task, "Success")
        if params["exitProcess"]:  # whetherToResumeProcesses
            if not (yield from self._process_step(execution, "resumeProcesses", "ResumeProcesses", group,
                                                  params["exitProcess"])):
                return
        self._finish(execution, "Success", "", outputs={"commandOutputs": outputs})

    def _rollback_program(self, execution, source_id):
        world = self.world
        params = execution.parameters
        self._set_status(execution, "Running")
        yield 0
        task = self._api_task(execution, "getExecutionInstanceIds", "ListExecutions",
                              {"Service": "OOS", "ParentExecutionId": source_id})
        yield API_STEP
        source = self.executions.get(source_id) if source_id else None
        reached, seen = [], set()
        for child_id in (source.children if source is not None else []):
            child = self.executions[child_id]
            instance_id = child.parameters.get("instanceId")
            if instance_id not in seen:
                seen.add(instance_id)
                reached.append({"InstanceId": instance_id, "LifecycleState": child.parameters.get("lifecycleState", "InService")})
        self._end_task(execution, task, "Success", outputs={"instanceIds": [r["InstanceId"] for r in reached]})
        task = self._begin_task(execution, "getExistInstanceIds", "ACS::SelectTargets",
                                {"ResourceType": "ALIYUN::ECS::Instance"})
        yield API_STEP
        items = [r for r in reached if r["InstanceId"] in world.instances]
        self._end_task(execution, task, "Success", outputs={"instanceIds": [r["InstanceId"] for r in items]})
        task = self._api_task(execution, "getRollbackProcess", "ListExecutions",
                              {"Service": "OOS", "ExecutionId": source_id})
        yield API_STEP
        source_params = source.parameters if source is not None else {}
        enter_process = list(source_params.get("enterProcess") or [])
        exit_process = list(source_params.get("exitProcess") or [])
        self._end_task(execution, task, "Success", outputs={"enterProcess": enter_process, "exitProcess": exit_process})
        group = world.groups.get(params["scalingGroupId"])
        if group is None:
            message = "Task suspendProcessWithRollBack failed: InvalidScalingGroupId.NotFound: The specified scaling group %s does not exist." % params["scalingGroupId"]
            self._finish(execution, "Failed", message)
            return
        # suspendProcessWithRollBack has no empty-list guard in the template (only the resume step has one).
        if not (yield from self._process_step(execution, "suspendProcessWithRollBack", "SuspendProcesses", group,
                                              enter_process)):
            return
        outputs = yield from self._loop(execution, group, items, rollback=True)
        if outputs is None:
            return
        if exit_process:  # whetherToResumeProcessesWithRollback
            if not (yield from self._process_step(execution, "resumeProcessesWithRollback", "ResumeProcesses",
                                                  group, exit_process)):
                return
        self._finish(execution, "Success", "", outputs={"commandOutputs": outputs})

    def _pause_option(self, execution):
        option = execution.parameters.get("batchPauseOption", "Automatic")
        return option if option != "Automatic" else execution.loop_mode

    def _loop(self, execution, group, items, rollback):
        """Run the loop task over `items` in batches. Returns the aggregated outputs, or None when the
        execution ended (failed or was cancelled) inside the loop."""
        params = execution.parameters
        action = templates.ACTIONS[execution.template_name]
        max_errors = int(params.get("maxErrors", 0)) if execution.template_name == templates.IMAGE else 0
        batches = split_batches(items, params["batchNumber"])
        execution.batches = [[item["InstanceId"] for item in batch] for batch in batches]
        pause_option = self._pause_option(execution)
        loop_task = self._begin_task(
            execution, action["rollback_task" if rollback else "invoke_task"], action["child"],
            {"scalingGroupId": group.id, "rollBack": "true" if rollback else "false"})
        loop_task.loop = {"Items": len(items), "BatchNumber": len(batches),
                          "Concurrency": [len(b) for b in batches], "MaxErrors": max_errors,
                          "BatchPauseOption": pause_option, "CurrentBatch": 0}
        item_tasks = []
        for batch_index, batch in enumerate(batches):
            for item in batch:
                loop_item = item["InstanceId"] if rollback or self.world.fidelity["loop_item"] == "id" \
                    else json.dumps(item, separators=(",", ":"))
                item_tasks.append((batch_index, item, self._begin_task(
                    execution, loop_task.name, action["child"], {"instanceId": item["InstanceId"]},
                    parent_task=loop_task, loop_item=loop_item, loop_batch=batch_index + 1, status="Pending")))
        outputs_by_instance = {}
        failures = 0
        paused_once = False
        for batch_index in range(len(batches)):
            execution.current_batch = batch_index + 1
            loop_task.loop["CurrentBatch"] = batch_index + 1
            batch_tasks = [(item, task) for index, item, task in item_tasks if index == batch_index]
            pending = list(batch_tasks)
            while pending:
                results = yield from self._run_children(execution, group, pending, rollback)
                failed = [(item, task, child) for (item, task), child in zip(pending, results) if child.status != "Success"]
                for (item, task), child in zip(pending, results):
                    if child.status == "Success":
                        outputs_by_instance[item["InstanceId"]] = child.outputs_value
                self._update_loop_counts(loop_task, item_tasks)
                pending = []
                if failures + len(failed) <= max_errors:
                    failures += len(failed)
                    break
                first = failed[0][2]
                message = "Task %s failed: child execution %s for instance %s failed: %s" % (
                    loop_task.name, first.id, first.parameters.get("instanceId"), first.status_message)
                if execution.mode != "FailurePause":
                    self._end_task(execution, loop_task, "Failed", message)
                    self._finish(execution, "Failed", message)
                    return None
                loop_task.status = "Waiting"
                self._set_status(execution, "Waiting", message, FAILURE_PAUSE)
                decision = yield WAIT
                notify_type, task_id = decision
                chosen = [f for f in failed if not task_id or f[1].id == task_id]
                unchosen = [f for f in failed if f not in chosen]
                loop_task.status = "Running"
                self._set_status(execution, "Running", "")
                if notify_type == "RetryTask":
                    pending = [(item, task) for item, task, _ in chosen]
                else:  # SkipTask: the instance counts as done (reference 3.6)
                    for item, task, _ in chosen:
                        self._end_task(execution, task, "Skipped", "skipped by NotifyExecution")
                pending += [(item, task) for item, task, _ in unchosen]
                if not pending:
                    break
            more_batches = batch_index + 1 < len(batches)
            if more_batches and (pause_option == "EveryBatchPause" or (pause_option == "FirstBatchPause" and not paused_once)):
                paused_once = True
                loop_task.status = "Waiting"
                self._set_status(execution, "Waiting", "Batch %d of %d finished; waiting for approval to continue." % (
                    batch_index + 1, len(batches)), BATCH_PAUSE)
                yield WAIT
                loop_task.status = "Running"
                self._set_status(execution, "Running", "")
        outputs = [outputs_by_instance[item["InstanceId"]] for item in items if item["InstanceId"] in outputs_by_instance]
        self._end_task(execution, loop_task, "Success", outputs={action["loop_output"]: outputs})
        return outputs

    def _update_loop_counts(self, loop_task, item_tasks):
        counts = {}
        for _, _, task in item_tasks:
            counts[task.status] = counts.get(task.status, 0) + 1
        for status in ("Success", "Failed", "Running", "Pending", "Cancelled", "Skipped"):
            loop_task.loop[status] = counts.get(status, 0)

    def _run_children(self, execution, group, pending, rollback):
        """Start one child execution per item (concurrently) and wait until all have finished."""
        children = []
        remaining = {"count": len(pending)}

        def child_done(child):
            task = child.loop_task
            self._end_task(execution, task, child.status, child.status_message,
                           outputs=child.outputs_dict)
            remaining["count"] -= 1
            if remaining["count"] == 0:
                self._resume(execution)

        for item, task in pending:
            child = self._start_child(execution, group, item, rollback)
            child.loop_task = task
            child.on_finish = child_done
            task.status = "Running"
            task.started = self.world.now()
            task.child_execution_id = child.id
            children.append(child)
        yield WAIT
        return children

    # ----- child executions (ACS::ESS::ReplaceSystemDisk / RunCommand / ConfigureOOSPackage) -----
    def _start_child(self, parent, group, item, rollback):
        params = parent.parameters
        template = parent.template_name
        # The image and script rollback loops pass rollBack: 'true'; the package template's does not, so its
        # child keeps the action's default 'false' (ACS::ESS::ConfigureOOSPackage).
        passes_rollback = rollback and template != templates.PACKAGE
        child_params = {"regionId": group.region, "rollBack": "true" if passes_rollback else "false",
                        "instanceId": item["InstanceId"], "lifecycleState": item.get("LifecycleState", "InService"),
                        "scalingGroupId": group.id}
        if template == templates.IMAGE:
            child_params["imageId"] = params["sourceImageId"] if rollback else params["imageId"]
        elif template == templates.SCRIPT:
            child_params["commandContent"] = params["rollbackScript"] if rollback else params["invokeScript"]
            # The rollback path hard-codes RunShellScript (reference 1.4).
            child_params["commandType"] = "RunShellScript" if rollback else params["commandType"]
            child_params["workingDir"] = ""
            child_params["timeout"] = SCRIPT_TIMEOUT
        else:
            child_params.update(action=params["action"], packageName=params["packageName"],
                                packageVersion=params["packageVersion"])
        child = Execution(self, templates.ACTIONS[template]["child"], "v1", child_params,
                          {"Mode": "Automatic", "RegionId": parent.region, "ExecutedBy": parent.executed_by,
                           "SafetyCheck": parent.safety_check}, parent=parent)
        child.outputs_value = None
        child.outputs_dict = {}
        self.executions[child.id] = child
        parent.children.append(child.id)
        child.program = Program(self._child_program(child, template))
        self._run(child)
        return child

    def _child_step(self, child, name, action, properties=None):
        return self._begin_task(child, name, action, properties)

    def _child_program(self, child, template):
        world = self.world
        params = child.parameters
        instance_id = params["instanceId"]
        self._set_status(child, "Running")
        try:
            task = self._child_step(child, "viewInstanceLifecycleState", "ACS::ExecuteApi", {"InstanceId1": instance_id})
            yield VIEW_STEP
            instance = world.instances.get(instance_id)
            if instance is None or instance.group_id != params["scalingGroupId"]:
                raise StepFailed("viewInstanceLifecycleState: InvalidInstanceId.NotFound: Instance \"%s\" does not exist." % instance_id)
            current = instance.lifecycle_state
            self._end_task(child, task, "Success", outputs={"lifecycleState": current})
            if current == "Protected":
                task = self._child_step(child, "setInstancesProtectionToFalse", "ACS::ExecuteApi")
                yield PROTECTION_STEP
                instance.lifecycle_state = "InService"
                self._end_task(child, task, "Success")
            if current != "Standby":
                task = self._child_step(child, "enterStandby", "ACS::WaitFor")
                yield STANDBY_STEP
                if self._injected(instance_id, "EnterStandby"):
                    raise StepFailed("enterStandby: injected failure (faults.failing_instances)")
                # ACS::WaitFor retries IncorrectScalingGroupStatus 30 times, 10 s apart (reference 1.6).
                for _ in range(STANDBY_RETRIES):
                    group = world.groups.get(params["scalingGroupId"])
                    if group is None or group.state == "Active":
                        break
                    yield STANDBY_RETRY_DELAY
                else:
                    raise StepFailed("enterStandby: IncorrectScalingGroupStatus: The current status of the specified scaling group does not support this action.")
                instance.lifecycle_state = "Standby"
                self._end_task(child, task, "Success")
            if template == templates.IMAGE:
                yield from self._replace_system_disk(child, instance)
            elif template == templates.SCRIPT:
                yield from self._run_command(child, instance)
            else:
                yield from self._configure_package(child, instance)
            task = self._child_step(child, "exitStandBy", "ACS::WaitFor")
            yield STANDBY_STEP
            if self._injected(instance_id, "ExitStandby"):
                raise StepFailed("exitStandBy: injected failure (faults.failing_instances)")
            instance.lifecycle_state = "InService"
            self._end_task(child, task, "Success")
            if params["lifecycleState"] == "Protected":
                task = self._child_step(child, "setInstancesProtectionToTrue", "ACS::ExecuteApi")
                yield PROTECTION_STEP
                instance.lifecycle_state = "Protected"
                self._end_task(child, task, "Success")
        except StepFailed as failure:
            message = "instance %s failed at step %s" % (instance_id, failure)
            self._finish(child, "Failed", message)
            return
        self._finish(child, "Success", "", outputs=child.outputs_dict)

    def _fail_running_task(self, child, task, message):
        self._end_task(child, task, "Failed", message)
        raise StepFailed(message)

    def _replace_system_disk(self, child, instance):
        params = child.parameters
        if instance.status != "Stopped":
            task = self._child_step(child, "stopInstance", "ACS::ExecuteApi", {"Service": "ECS", "API": "StopInstance"})
            yield STOP_STEP
            if self._injected(instance.id, "StopInstance"):
                self._fail_running_task(child, task, "stopInstance: injected failure (faults.failing_instances)")
            instance.status = "Stopped"
            self._end_task(child, task, "Success")
        task = self._child_step(child, "replaceSystemDisk", "ACS::ExecuteApi",
                                {"Service": "ECS", "API": "ReplaceSystemDisk", "ImageId": params["imageId"]})
        yield REPLACE_DISK_STEP
        if self._injected(instance.id, "ReplaceSystemDisk"):
            self._fail_running_task(child, task, "replaceSystemDisk: injected failure (faults.failing_instances)")
        if not params["imageId"]:
            self._fail_running_task(child, task, 'replaceSystemDisk: MissingParameter: The input parameter "ImageId" that is mandatory for processing this request is not supplied.')
        if params["imageId"] not in self.world.images:
            self._fail_running_task(child, task, "replaceSystemDisk: InvalidImageId.NotFound: The specified image %s does not exist." % params["imageId"])
        instance.image_id = params["imageId"]
        instance.system_disk_id = self.world.new_id("d-bp1", 17)
        self._end_task(child, task, "Success", outputs={"diskId": instance.system_disk_id})
        task = self._child_step(child, "startInstance", "ACS::ExecuteApi", {"Service": "ECS", "API": "StartInstance"})
        yield START_STEP
        if self._injected(instance.id, "StartInstance"):
            self._fail_running_task(child, task, "startInstance: injected failure (faults.failing_instances)")
        instance.status = "Running"
        self._end_task(child, task, "Success")
        child.outputs_value = instance.system_disk_id
        child.outputs_dict = {"newSystemDiskId": instance.system_disk_id}

    def _run_command(self, child, instance):
        params = child.parameters
        task = self._child_step(child, "runCommand", "ACS::ExecuteApi",
                                {"Service": "ECS", "API": "RunCommand", "Type": params["commandType"]})
        if not params["commandContent"]:
            yield API_STEP
            self._fail_running_task(child, task, 'runCommand: MissingParameter: The input parameter "CommandContent" that is mandatory for processing this request is not supplied.')
        try:
            check_command_content(params["commandContent"])
        except ApiError as error:
            yield API_STEP
            self._fail_running_task(child, task, "runCommand: %s: %s" % (error.code, error.message))
        invocation = self.world.run_command([instance.id], params["commandContent"], params["commandType"],
                                            name=child.parent_id, timeout=params["timeout"],
                                            on_done=lambda _: self._resume(child))
        task.outputs = {"invokeId": invocation.invoke_id}
        yield WAIT
        result = invocation.results[instance.id]
        output = result["output"]
        if result["status"] != "Success":
            tail = output.strip().splitlines()[-1] if output.strip() else ""
            self._fail_running_task(child, task, "runCommand: the script exited with code %s (%s)%s" % (
                result["exit_code"], result["status"], (": " + tail) if tail else ""))
        self._end_task(child, task, "Success", outputs={"invokeId": invocation.invoke_id, "invocationOutput": output})
        child.outputs_value = output
        child.outputs_dict = {"commandOutput": output}

    def _configure_package(self, child, instance):
        params = child.parameters
        world = self.world
        task = self._child_step(child, "configurePackage", "ACS::ECS::RunCommand",
                                {"action": params["action"], "packageName": params["packageName"],
                                 "packageVersion": params["packageVersion"]})
        yield PACKAGE_STEP
        if self._injected(instance.id, "ConfigurePackage"):
            self._fail_running_task(child, task, "configurePackage: injected failure (faults.failing_instances)")
        name, version = params["packageName"], params["packageVersion"]
        versions = world.oos_packages.get(name)
        if versions is None:
            self._fail_running_task(child, task, "configurePackage: the package %s does not exist." % name)
        if params["action"] == "install":
            version = version or versions[-1]
            if version not in versions:
                self._fail_running_task(child, task, "configurePackage: version %s of package %s does not exist." % (version, name))
            instance.packages[name] = {"version": version, "updated": world.now()}
            output = "package %s %s installed" % (name, version)
        else:
            removed = instance.packages.pop(name, None)
            output = "package %s %s uninstalled" % (name, removed["version"]) if removed else "package %s was not installed" % name
        instance.last_output = output
        self._end_task(child, task, "Success", outputs={"commandOutput": output})
        child.outputs_value = output
        child.outputs_dict = {"commandOutput": output}

    # ----- control plane -----
    def snapshot(self):
        result = []
        for execution in sorted(self.executions.values(), key=lambda e: e.sequence):
            result.append({
                "id": execution.id, "template_name": execution.template_name, "status": execution.status,
                "waiting_status": execution.waiting_status, "status_message": execution.status_message,
                "parameters": dict(execution.parameters), "parent_id": execution.parent_id,
                "tags": dict(execution.tags), "children": list(execution.children),
                "batches": [list(b) for b in execution.batches], "current_batch": execution.current_batch,
                "outputs": execution.outputs, "created": iso(execution.created),
                "started": iso(execution.started) if execution.started else None,
                "ended": iso(execution.ended) if execution.ended else None,
                "status_changed_at": iso(execution.status_changed_at),
                "status_changed_at_sim": execution.status_changed_at,
                "status_changed_at_real": execution.status_changed_at_real,
            })
        return result
