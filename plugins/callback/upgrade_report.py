# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: upgrade_report
type: aggregate
short_description: Timeline of a rolling upgrade per host, as JSON and one self-contained HTML page
version_added: 0.1.0
author:
  - idmops.lifecycle maintainers (@idmops)
description:
  - Records, for every host, when each phase of a rolling upgrade began and ended (V(out_of_pool),
    V(upgrading), V(health_gate), V(back_in_pool)), the version before and after, and every failed task.
  - At the end of the playbook it writes C(<playbook>-<UTC time>.json) and C(.html) into O(output_dir). The
    HTML page has no script and loads nothing, its CSS and SVG timeline (one lane per host, phase bars,
    failures marked, the load probe's failed requests on the same time axis) are inline, so it can be
    mailed, attached to a change or kept as an AWX job artifact.
  - Enable it with C(callbacks_enabled = idmops.lifecycle.upgrade_report) in C(ansible.cfg) or
    E(ANSIBLE_CALLBACKS_ENABLED); it writes nothing to the screen but the two paths at the end.
  - "Phase contract, first match wins: the task variable C(idmops_phase) (a literal phase name, or
    V(none) to leave a task out); a tag named like a phase; the action:
    M(idmops.lifecycle.lb_pool_member) with C(state=drained) or C(disabled) begins V(out_of_pool), which
    lasts until the same host's V(back_in_pool) task (C(state=enabled)) begins;
    M(idmops.lifecycle.tomcat_war), M(idmops.lifecycle.am_config_upgrade), M(idmops.lifecycle.am_rest_upgrade),
    M(idmops.lifecycle.am_wizard_cleanup), M(idmops.lifecycle.ldif_apply),
    C(idmops.lifecycle.vidm_appliance_upgrade) and C(idmops.lifecycle.vidm_connector_upgrade) are
    V(upgrading), except the readiness wait at the end of M(idmops.lifecycle.tomcat_war) (its
    C(ready_seconds)), which is V(health_gate); M(idmops.lifecycle.vidm_health) is V(health_gate)."
  - Recognised by action, C(lb_pool_member) and the upgrade modules count only when they changed something
    or failed, and no task run in check mode counts, so a run that finds everything done draws no bars and
    a planning task (C(check_mode=true)) does not look like an upgrade. Declared phases always count.
  - Versions come from module results (C(version_before)/C(version_after), C(previous_version)/C(version),
    C(vidm_appliance_upgrade)'s C(version)/C(target_version)) and from reads of the running version
    (C(vidm_health)'s C(build_version), an C(ansible.builtin.uri) GET of AM's C(/json/serverinfo/version),
    a C(set_fact) of C(idmops_version)); a read before the host's first V(upgrading) phase is the version
    before, a read after it the version after.
  - Results of C(no_log) tasks are censored before they reach a callback, so such a task shows its phase
    and failure but no version.
  - See C(docs/upgrade-report.md) in the collection, which also shows how to merge the reports of several
    runs and a probe file that was written after the playbook ended.
requirements:
  - enable in callbacks_enabled
options:
  output_dir:
    description:
      - Directory the report files are written to; created when missing.
    type: path
    default: ./upgrade-report
    env:
      - name: ANSIBLE_UPGRADE_REPORT_DIR
    ini:
      - section: upgrade_report
        key: output_dir
  probe_file:
    description:
      - Results file of the load probe (C(lab/probe.py) C(--out)). Its C(failures) (C(t) in epoch seconds,
        C(error)) are drawn on the timeline, and its per-server C(intervals) (when the load balancer
        reported the member not UP) under each host's lane.
      - Read when the playbook ends; a missing file is noted in the report and does not fail the run.
    type: path
    env:
      - name: ANSIBLE_UPGRADE_REPORT_PROBE_FILE
    ini:
      - section: upgrade_report
        key: probe_file
"""

import datetime
import os
import time

from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.idmops.lifecycle.plugins.plugin_utils._report import (
    NO_PHASE,
    ReportError,
    Timeline,
    attach_probe,
    declared_phase,
    load_probe,
    write_report,
)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'idmops.lifecycle.upgrade_report'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._timeline = None
        self._started = {}
        self._playbook = None

    def v2_playbook_on_start(self, playbook):
        self._playbook = os.path.basename(playbook._file_name)
        self._timeline = Timeline(self._playbook, time.time(), check_mode=bool(context.CLIARGS.get('check')))

    def v2_runner_on_start(self, host, task):
        self._started[(host.get_name(), task._uuid)] = time.time()

    def _record(self, result, failed):
        now = time.time()
        task = result.task
        host = result.host.get_name()
        start = self._started.pop((host, task._uuid), now)
        fields = result.task_fields or {}
        data = result.result
        # The module's own view of its arguments when it returned them, else the templated task arguments.
        args = (data.get('invocation') or {}).get('module_args') or fields.get('args') or task.args
        check_mode = fields.get('check_mode', task.check_mode)
        try:
            declared = declared_phase(task.get_vars(), task.tags)
        except ReportError as exc:
            self._display.warning('upgrade_report: task %r: %s; the task is left out of the report'
                                  % (task.get_name(), exc))
            declared = NO_PHASE
        self._timeline.add_task(host, task.get_name(), fields.get('action') or task.action, args, data, start, now,
                                declared=declared, check_mode=bool(check_mode), failed=failed)

    def v2_runner_on_ok(self, result):
        self._record(result, failed=False)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=not ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._started.pop((result.host.get_name(), result.task._uuid), None)

    def v2_runner_on_unreachable(self, result):
        self._started.pop((result.host.get_name(), result.task._uuid), None)
        self._timeline.add_unreachable(result.host.get_name(), result.task.get_name(), result.result, time.time())

    def v2_playbook_on_stats(self, stats):
        if self._timeline is None:
            return
        summary = {host: stats.summarize(host) for host in sorted(stats.processed)}
        self._timeline.finish(time.time(), summary)
        report = self._timeline.to_dict()
        probe_file = self.get_option('probe_file')
        if probe_file:
            try:
                attach_probe(report, load_probe(probe_file))
            except ReportError as exc:
                report['probe_error'] = str(exc)
                self._display.warning('upgrade_report: %s; the report has no client requests' % exc)
        stamp = datetime.datetime.fromtimestamp(self._timeline.run['started'], tz=datetime.timezone.utc)
        base = os.path.join(self.get_option('output_dir'),
                            '%s-%s' % (os.path.splitext(self._playbook)[0], stamp.strftime('%Y%m%dT%H%M%SZ')))
        try:
            paths = write_report(report, base)
        except OSError as exc:
            self._display.warning('upgrade_report: cannot write the report to %s: %s' % (base, exc))
            return
        for path in paths:
            self._display.display('upgrade report: %s' % path)
