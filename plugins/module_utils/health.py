# -*- coding: utf-8 -*-
# Copyright: alicloud.rollout contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTTP health gate: a per-instance URL with placeholders, checked for a set of instances in parallel
against one deadline. No cloud API calls; rollout_health_check is the module around it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import re
import socket
import threading
import time

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported on the controller
    from urlparse import urlsplit

FIELDS = ("instance_id", "private_ip", "image_id", "zone_id", "lifecycle_state")
# {private_ip} (the documented form) or the literal Jinja form {{ instance.private_ip }} (e.g. from an !unsafe value).
_PLACEHOLDER = re.compile(r"\{\{\s*instance\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
MAX_WORKERS = 32


class UrlError(ValueError):
    """The URL template does not give an http(s) URL for an instance."""


def _fields_help(variable):
    return ("%s takes an http(s) URL with placeholders in braces, filled per instance: %s; for example "
            "http://{private_ip}:8080/health" % (variable, ", ".join("{%s}" % f for f in FIELDS)))


def placeholders(template):
    return [a or b for a, b in _PLACEHOLDER.findall(template or "")]


def render(template, instance, variable="url"):
    """The URL for one instance (a dict with the FIELDS). Raises UrlError naming the variable and the fields."""
    unknown = [name for name in placeholders(template) if name not in FIELDS]
    if unknown:
        raise UrlError("%s uses the unknown field %s. %s." % (variable, ", ".join(sorted(set(unknown))),
                                                              _fields_help(variable)))

    def fill(match):
        name = match.group(1) or match.group(2)
        value = instance.get(name)
        if value in (None, ""):
            raise UrlError("%s uses {%s}, which instance %s does not have. %s." % (
                variable, name, instance.get("instance_id") or "?", _fields_help(variable)))
        return str(value)

    url = _PLACEHOLDER.sub(fill, template)
    if "{" in url or "}" in url:
        raise UrlError("%s holds an expression the health gate cannot fill (%s). %s." % (
            variable, template, _fields_help(variable)))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UrlError("%s gives %r for instance %s, which is not an http(s) URL. %s." % (
            variable, url, instance.get("instance_id") or "?", _fields_help(variable)))
    return url


def render_all(template, instances, variable="url"):
    """{instance_id: url} for every instance; fails on the first one that does not render."""
    if not instances:
        # Still check the form with a stand-in, so a bad URL fails even when there is no instance to judge.
        render(template, dict((f, "probe") for f in FIELDS), variable)
        return {}
    return dict((i.get("instance_id"), render(template, i, variable)) for i in instances)


def describe_error(error):
    """A short reason a person understands: connection refused, timed out, name not resolved, TLS ..."""
    reason = getattr(error, "reason", None)
    if isinstance(reason, BaseException):
        error = reason
    if isinstance(error, socket.gaierror):
        return "name not resolved"
    if isinstance(error, socket.timeout):
        return "timed out"
    code = getattr(error, "errno", None)
    if code == errno.ECONNREFUSED:
        return "connection refused"
    if code == errno.ECONNRESET:
        return "connection reset"
    if code == errno.ETIMEDOUT:
        return "timed out"
    text = str(error)
    lowered = text.lower()
    for needle, said in (("refused", "connection refused"), ("timed out", "timed out"),
                         ("certificate", "TLS certificate not trusted"), ("no route", "no route to host"),
                         ("name or service", "name not resolved")):
        if needle in lowered:
            return said
    return text or error.__class__.__name__


def check_all(urls, fetch, status_codes, deadline, delay, request_timeout, clock=time.monotonic, sleep=None):
    """Check every URL in parallel until it answers a status in ``status_codes`` or the one shared deadline passes.

    ``fetch(url, timeout)`` returns the HTTP status or raises. Returns {key: {url, healthy, status, reason,
    attempts, seconds}}; a failed batch costs one deadline, whatever its size.
    """
    started = clock()
    stop_at = started + deadline
    results = {}
    lock = threading.Lock()
    waker = threading.Event()
    sleep = sleep or waker.wait

    def one(key, url):
        attempts, status, reason = 0, None, None
        while True:
            attempts += 1
            remaining = stop_at - clock()
            try:
                status = fetch(url, max(0.5, min(request_timeout, remaining)))
                reason = None if status in status_codes else "HTTP %s" % status
            except Exception as error:  # any failure to get an answer is a reason, never a crash
                status, reason = None, describe_error(error)
            healthy = reason is None
            remaining = stop_at - clock()
            if healthy or remaining <= 0:
                break
            sleep(min(delay, remaining))
        with lock:
            results[key] = {"url": url, "healthy": healthy, "status": status, "reason": reason,
                            "attempts": attempts, "seconds": round(clock() - started, 3)}

    threads = [threading.Thread(target=one, args=(key, url)) for key, url in sorted(urls.items())]
    for index in range(0, len(threads), MAX_WORKERS):
        chunk = threads[index:index + MAX_WORKERS]
        for thread in chunk:
            thread.daemon = True
            thread.start()
        for thread in chunk:
            thread.join()
    return results
