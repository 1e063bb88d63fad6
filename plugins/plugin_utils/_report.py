# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upgrade report: the phase model the idmops.lifecycle.upgrade_report callback fills, and its HTML page.

Private to this collection: names here may change without notice. Controller side only, and pure
Python (no Ansible import), so that the model and the renderer are tested without a playbook.

Run as a program it merges the JSON reports of several playbook runs (for example one per site)
and a load probe's results into one JSON and one HTML page:

    python -m ansible_collections.idmops.lifecycle.plugins.plugin_utils._report \\
        --probe build/probe.json --out build/upgrade-report/demo run1.json run2.json
"""

from __future__ import annotations

import argparse
import datetime
import html
import json
import math
import os
import sys

FORMAT = 1

OUT_OF_POOL, UPGRADING, HEALTH_GATE, BACK_IN_POOL = PHASES = ('out_of_pool', 'upgrading', 'health_gate', 'back_in_pool')
PHASE_LABELS = {
    OUT_OF_POOL: 'out of pool',
    UPGRADING: 'upgrading',
    HEALTH_GATE: 'health gate',
    BACK_IN_POOL: 'back in pool',
}
# idmops_phase: none takes a task out of the report that its action would put in.
NO_PHASE = 'none'

COLLECTION = 'idmops.lifecycle.'
# Modules that change the software or the configuration of a node: "upgrading" when they change
# something (a re-run that finds a node done draws nothing).
UPGRADE_ACTIONS = frozenset((
    'tomcat_war', 'am_config_upgrade', 'am_rest_upgrade', 'am_wizard_cleanup', 'ldif_apply',
    'vidm_appliance_upgrade', 'vidm_connector_upgrade',
))
HEALTH_ACTIONS = frozenset(('vidm_health',))
LB_ACTION = 'lb_pool_member'
# The AM endpoint the site playbook and the probe read the running version from.
AM_VERSION_PATH = '/json/serverinfo/version'
# A task sets this fact to record the version a node runs (before or after, by when it runs).
VERSION_FACT = 'idmops_version'
# (before, after) result keys of modules that report both.
VERSION_PAIRS = (('version_before', 'version_after'), ('previous_version', 'version'))


class ReportError(Exception):
    """A report or probe file that cannot be read."""


def short_action(action):
    """The module's short name for our modules and ansible.builtin ones, else the action unchanged."""
    action = action or ''
    for prefix in (COLLECTION, 'ansible.builtin.', 'ansible.legacy.'):
        if action.startswith(prefix):
            return action[len(prefix):]
    return action


def declared_phase(task_vars, tags):
    """The phase a task declares through the idmops_phase variable or a tag named like a phase, else None.

    Raises ReportError for an idmops_phase that is not a phase name: a typo would otherwise drop the
    task from the report without a word.
    """
    value = (task_vars or {}).get('idmops_phase')
    if value is not None:
        if value != NO_PHASE and value not in PHASES:
            raise ReportError('idmops_phase must be one of %s or %s, got %r' % (', '.join(PHASES), NO_PHASE, value))
        return value
    for tag in tags or ():
        if tag in PHASES:
            return tag
    return None


def task_segments(action, args, result, start, end, declared=None, check_mode=False):
    """The (phase, start, end) segments one finished task adds to its host's lane.

    A declared phase covers the whole task. Otherwise the action decides, and a task run in check
    mode (a plan, or a dry run) adds nothing. tomcat_war's readiness wait, the end of the task as
    long as RV(ready_seconds), is the health gate; the rest is the upgrade.
    """
    if declared == NO_PHASE:
        return []
    if declared:
        return [(declared, start, end)]
    if check_mode:
        return []
    name = short_action(action)
    args = args or {}
    changed_or_failed = bool(result.get('changed') or result.get('failed'))
    if name == LB_ACTION:
        if not changed_or_failed:
            return []
        if args.get('state') in ('drained', 'disabled'):
            return [(OUT_OF_POOL, start, end)]
        if args.get('state') == 'enabled':
            return [(BACK_IN_POOL, start, end)]
        return []
    if name in HEALTH_ACTIONS:
        return [(HEALTH_GATE, start, end)]
    if name in UPGRADE_ACTIONS and changed_or_failed:
        ready = result.get('ready_seconds') if name == 'tomcat_war' else None
        if isinstance(ready, (int, float)) and 0 < ready < end - start:
            return [(UPGRADING, start, end - ready), (HEALTH_GATE, end - ready, end)]
        return [(UPGRADING, start, end)]
    return []


def _version_text(value):
    # vidm_health's BuildVersion reads "3.3.7.0 Build 21173100": the version is the first word.
    if isinstance(value, str) and value.strip():
        return value.split()[0]
    return None


def task_versions(action, args, result, check_mode=False):
    """What a finished task tells about the node's version: a dict with before, after and observed (each or None).

    before/after come from modules that report both; observed is a version read from the running
    node, which the timeline files as before or after by when it was read. A check-mode "after" is
    only what would be, so it is dropped.
    """
    name = short_action(action)
    found = dict(before=None, after=None, observed=None)
    for before_key, after_key in VERSION_PAIRS:
        if before_key in result and after_key in result:
            found['before'] = _version_text(result.get(before_key))
            found['after'] = _version_text(result.get(after_key))
            break
    if name == 'vidm_appliance_upgrade':
        found['before'] = _version_text(result.get('version'))
        if not result.get('failed'):
            found['after'] = _version_text(result.get('target_version'))
    elif name in HEALTH_ACTIONS:
        found['observed'] = _version_text(result.get('build_version'))
    elif name == 'uri' and str((args or {}).get('url', '')).rstrip('/').endswith(AM_VERSION_PATH):
        body = result.get('json')
        found['observed'] = _version_text(body.get('version')) if isinstance(body, dict) else None
    elif name == 'set_fact':
        found['observed'] = _version_text((result.get('ansible_facts') or {}).get(VERSION_FACT))
    if check_mode or result.get('failed'):
        found['after'] = None
    return found


class Timeline:
    """Per host: phase intervals, failures, versions and load-balancer members, in epoch seconds."""

    def __init__(self, playbook, started, check_mode=False):
        self.run = dict(playbook=playbook, started=started, ended=None, check_mode=check_mode, stats={})
        self.hosts = {}

    def host(self, name):
        return self.hosts.setdefault(name, dict(phases=[], failures=[], version_before=None, version_after=None,
                                                lb_members=[]))

    def add_task(self, host, task_name, action, args, result, start, end, declared=None, check_mode=False,
                 failed=False):
        """Files one finished (ok or failed, not skipped) task of one host.

        A host gets a lane only once a task of it tells something: a phase, a failure, a version or a
        load-balancer member; the controller's own housekeeping tasks do not.
        """
        segments = task_segments(action, args, result, start, end, declared=declared, check_mode=check_mode)
        versions = task_versions(action, args, result, check_mode=check_mode)
        member = None
        if short_action(action) == LB_ACTION and (args or {}).get('pool') and (args or {}).get('member'):
            member = [args['pool'], args['member']]
        if not (segments or failed or member or any(versions.values()) or host in self.hosts):
            return
        entry = self.host(host)
        for phase, seg_start, seg_end in segments:
            self._add_segment(entry, phase, seg_start, seg_end, task_name)
        if failed:
            if segments:
                entry['phases'][-1]['failed'] = True
            entry['failures'].append(dict(t=end, task=task_name, msg=_failure_message(result),
                                          phase=self._current_phase(entry)))
        self._add_versions(entry, versions)
        if member and member not in entry['lb_members']:
            entry['lb_members'].append(member)

    def add_unreachable(self, host, task_name, result, t):
        entry = self.host(host)
        entry['failures'].append(dict(t=t, task=task_name, msg='unreachable: ' + _failure_message(result),
                                      phase=self._current_phase(entry)))

    def finish(self, ended, stats=None):
        """Closes the run: an out-of-pool interval still open ends here, marked open."""
        self.run['ended'] = ended
        self.run['stats'] = stats or {}
        for entry in self.hosts.values():
            for interval in entry['phases']:
                if interval['phase'] == OUT_OF_POOL and interval['end'] is None:
                    interval['end'] = ended
                    interval['open'] = True

    def _add_segment(self, entry, phase, start, end, task_name):
        phases = entry['phases']
        open_oop = next((i for i in phases if i['phase'] == OUT_OF_POOL and i['end'] is None), None)
        if phase == OUT_OF_POOL:
            if open_oop is None:
                phases.append(dict(phase=OUT_OF_POOL, start=start, end=None, open=False, failed=False, tasks=[task_name]))
            elif task_name not in open_oop['tasks']:
                open_oop['tasks'].append(task_name)
            return
        if phase == BACK_IN_POOL and open_oop is not None:
            open_oop['end'] = start
        # Tasks of one phase that follow each other make one interval: its start is the first one's.
        last = next((i for i in reversed(phases) if i['phase'] != OUT_OF_POOL), None)
        if last is not None and last['phase'] == phase and not last['failed']:
            last['end'] = max(last['end'], end)
            if task_name not in last['tasks']:
                last['tasks'].append(task_name)
        else:
            phases.append(dict(phase=phase, start=start, end=end, failed=False, tasks=[task_name]))

    @staticmethod
    def _current_phase(entry):
        last = next((i for i in reversed(entry['phases']) if i['phase'] != OUT_OF_POOL), None)
        if last is not None:
            return last['phase']
        return OUT_OF_POOL if any(i['end'] is None for i in entry['phases']) else None

    @staticmethod
    def _add_versions(entry, found):
        upgraded = any(i['phase'] == UPGRADING for i in entry['phases'])
        before = found['before'] or (found['observed'] if not upgraded else None)
        after = found['after'] or (found['observed'] if upgraded else None)
        if before and entry['version_before'] is None:
            entry['version_before'] = before
        if after:
            entry['version_after'] = after

    def to_dict(self):
        hosts = {}
        for name in sorted(self.hosts):
            entry = self.hosts[name]
            hosts[name] = dict(entry, phases=sorted(entry['phases'], key=lambda i: (i['start'], i['phase'])),
                               seconds=phase_seconds(entry['phases']))
        return dict(format=FORMAT, runs=[dict(self.run)], hosts=hosts, probe=None)


def _failure_message(result):
    msg = result.get('msg') or result.get('stderr') or result.get('reason') or 'failed'
    msg = str(msg).strip().splitlines()[0] if str(msg).strip() else 'failed'
    return msg[:300]


def phase_seconds(phases):
    totals = dict.fromkeys(PHASES, 0.0)
    for interval in phases:
        if interval['end'] is not None:
            totals[interval['phase']] += interval['end'] - interval['start']
    return {phase: round(total, 3) for phase, total in totals.items()}


def load_probe(path):
    """The parts of a lab/probe.py results file the report draws: failed requests and what HAProxy said per server."""
    try:
        with open(path, encoding='utf-8') as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ReportError('cannot read the probe results %s: %s' % (path, exc)) from exc
    if not isinstance(data, dict) or not isinstance(data.get('failures', []), list):
        raise ReportError('%s is not a probe results file: no failures list' % path)
    failures = [dict(t=float(f['t']), error=str(f.get('error', ''))) for f in data.get('failures', [])
                if isinstance(f, dict) and isinstance(f.get('t'), (int, float))]
    return dict(file=os.path.abspath(path), started=data.get('started'), ended=data.get('ended'),
                requests_total=data.get('requests_total'), requests_failed=data.get('requests_failed', len(failures)),
                failures=failures, backends=data.get('backends') or {}, servers=data.get('servers') or {})


def attach_probe(report, probe):
    """Adds a load_probe() result, and each host's not-UP intervals as HAProxy reported them, to a report dict."""
    report['probe'] = dict((k, v) for k, v in probe.items() if k not in ('backends', 'servers'))
    for name, entry in report['hosts'].items():
        intervals = []
        for pool, member in entry.get('lb_members', []):
            intervals.extend(probe['backends'].get(pool, {}).get(member, {}).get('intervals', []))
        if not entry.get('lb_members') and name in probe['servers']:
            intervals.extend(probe['servers'][name].get('intervals', []))
        entry['lb_observed'] = [dict(start=i[0], end=i[1], status=i[2]) for i in intervals if len(i) == 3]
    return report


def merge(reports):
    """One report of several runs (in order): lanes joined by host, first version before, last version after."""
    merged = dict(format=FORMAT, runs=[], hosts={}, probe=None)
    for report in sorted(reports, key=lambda r: r['runs'][0]['started']):
        if report.get('format') != FORMAT:
            raise ReportError('unknown report format %r (this code reads %d)' % (report.get('format'), FORMAT))
        merged['runs'].extend(report['runs'])
        merged['probe'] = report.get('probe') or merged['probe']
        for name, entry in report['hosts'].items():
            target = merged['hosts'].setdefault(name, dict(phases=[], failures=[], version_before=None,
                                                           version_after=None, lb_members=[]))
            target['phases'].extend(entry['phases'])
            target['failures'].extend(entry['failures'])
            target['version_before'] = target['version_before'] or entry['version_before']
            target['version_after'] = entry['version_after'] or target['version_after']
            target['lb_members'].extend(m for m in entry['lb_members'] if m not in target['lb_members'])
    for entry in merged['hosts'].values():
        entry['seconds'] = phase_seconds(entry['phases'])
    merged['hosts'] = dict(sorted(merged['hosts'].items()))
    return merged


# --- HTML ---------------------------------------------------------------------------------------

STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;margin:24px;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.meta{color:#5b6575;margin:0 0 16px}.ok{color:#1b7f3b}.bad{color:#b3261e;font-weight:600}
table{border-collapse:collapse;margin:8px 0}th,td{border-bottom:1px solid #e3e7ee;padding:4px 10px;text-align:left}
th{background:#f4f6fa;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
svg text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;fill:#1d2430}
svg .axis text{fill:#5b6575;font-size:11px}svg .grid{stroke:#e3e7ee}
.out_of_pool{fill:#d6e4f5}.upgrading{fill:#e8912d}.health_gate{fill:#7b5cc4}.back_in_pool{fill:#2e9b57}
.phase.failed{stroke:#b3261e;stroke-width:2}.open{fill:url(#open)}
.lb{fill:#3c4a5e}.failure{stroke:#b3261e;stroke-width:2.5}.request{stroke:#b3261e;stroke-width:1.5}
.request-line{stroke:#b3261e;stroke-opacity:.25}.lane-bg{fill:#fafbfd}
.legend span{display:inline-block;margin-right:16px}.legend i{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:0}
"""

LABEL_WIDTH, PLOT_WIDTH, LANE_HEIGHT, LANE_GAP, PROBE_HEIGHT, AXIS_HEIGHT = 150, 960, 40, 8, 30, 28
NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


def _e(value):
    return html.escape(str(value), quote=True)


def _utc(t):
    return datetime.datetime.fromtimestamp(t, tz=datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S UTC')


def _duration(seconds):
    seconds = int(round(seconds))
    return '%d:%02d' % divmod(seconds, 60) if seconds < 3600 else '%d:%02d:%02d' % (
        seconds // 3600, seconds % 3600 // 60, seconds % 60)


def _seconds(seconds):
    return '%.1f s' % seconds if seconds < 60 else _duration(seconds)


def time_range(report):
    """(first, last) epoch seconds of everything drawn: the runs, the phases, the failures, the failed requests."""
    times = []
    for run in report['runs']:
        times.extend(t for t in (run['started'], run['ended']) if t is not None)
    for entry in report['hosts'].values():
        times.extend(t for i in entry['phases'] for t in (i['start'], i['end']) if t is not None)
        times.extend(f['t'] for f in entry['failures'])
    probe = report.get('probe') or {}
    times.extend(f['t'] for f in probe.get('failures', []))
    if not times:
        return 0.0, 1.0
    first, last = min(times), max(times)
    return first, max(last, first + 1.0)


def axis_step(span, target_ticks=8):
    """A round tick step in seconds that gives at most about target_ticks ticks over span seconds."""
    for step in NICE_STEPS:
        if span / step <= target_ticks:
            return step
    return int(math.ceil(span / target_ticks / 3600.0)) * 3600


def render_svg(report):
    hosts = list(report['hosts'])
    probe = report.get('probe')
    first, last = time_range(report)
    scale = PLOT_WIDTH / (last - first)

    def x(t):
        return round(LABEL_WIDTH + (t - first) * scale, 2)

    top = PROBE_HEIGHT + LANE_GAP if probe else 0
    height = top + len(hosts) * (LANE_HEIGHT + LANE_GAP) + AXIS_HEIGHT
    width = LABEL_WIDTH + PLOT_WIDTH + 20
    out = ['<svg xmlns="http://www.w3.org/2000/svg" id="timeline" width="%d" height="%d" viewBox="0 0 %d %d" '
           'role="img" aria-label="upgrade timeline">' % (width, height, width, height),
           '<defs><pattern id="open" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
           '<rect width="8" height="8" fill="#d6e4f5"/><line x1="0" y1="0" x2="0" y2="8" stroke="#b3261e" '
           'stroke-width="3" stroke-opacity=".35"/></pattern></defs>']
    plot_bottom = height - AXIS_HEIGHT
    step = axis_step(last - first)
    out.append('<g class="axis">')
    tick = 0
    while tick <= last - first + 1e-6:
        out.append('<line class="grid" x1="%s" y1="0" x2="%s" y2="%d"/><text x="%s" y="%d" text-anchor="middle">'
                   '+%s</text>' % (x(first + tick), x(first + tick), plot_bottom, x(first + tick), plot_bottom + 16,
                                   _duration(tick)))
        tick += step
    out.append('</g>')
    if probe:
        out.append('<g class="probe"><text x="4" y="%d">client requests</text>' % (PROBE_HEIGHT // 2 + 4))
        for failure in probe['failures']:
            out.append('<line class="request" x1="%s" y1="4" x2="%s" y2="%d"><title>%s %s</title></line>'
                       % (x(failure['t']), x(failure['t']), PROBE_HEIGHT - 4, _e(_utc(failure['t'])),
                          _e(failure['error'])))
        out.append('</g>')
    for index, name in enumerate(hosts):
        entry = report['hosts'][name]
        y = top + index * (LANE_HEIGHT + LANE_GAP)
        out.append('<g class="lane" data-host="%s"><rect class="lane-bg" x="%d" y="%d" width="%d" height="%d"/>'
                   '<text x="4" y="%d">%s</text>' % (_e(name), LABEL_WIDTH, y, PLOT_WIDTH, LANE_HEIGHT,
                                                     y + LANE_HEIGHT // 2 + 4, _e(name)))
        for interval in entry['phases']:
            end = interval['end'] if interval['end'] is not None else last
            oop = interval['phase'] == OUT_OF_POOL
            inset = 2 if oop else 11
            classes = 'phase %s%s%s' % (interval['phase'], ' failed' if interval.get('failed') else '',
                                        ' open' if interval.get('open') else '')
            title = '%s %s, %s%s: %s' % (PHASE_LABELS[interval['phase']], _utc(interval['start']),
                                         _duration(end - interval['start']),
                                         ' (still out of pool at the end)' if interval.get('open') else '',
                                         '; '.join(interval.get('tasks', [])))
            out.append('<rect class="%s" data-phase="%s" x="%s" y="%d" width="%s" height="%d"><title>%s</title></rect>'
                       % (classes, interval['phase'], x(interval['start']), y + inset,
                          max(1.0, round(x(end) - x(interval['start']), 2)), LANE_HEIGHT - 2 * inset, _e(title)))
        for observed in entry.get('lb_observed', []):
            end = observed['end'] if observed['end'] is not None else last
            out.append('<rect class="lb" x="%s" y="%d" width="%s" height="3"><title>load balancer: %s</title></rect>'
                       % (x(observed['start']), y + LANE_HEIGHT - 5, max(1.0, round(x(end) - x(observed['start']), 2)),
                          _e(observed['status'])))
        for failure in entry['failures']:
            cx, cy = x(failure['t']), y + LANE_HEIGHT // 2
            out.append('<path class="failure" d="M%s %sl10 10m0 -10l-10 10"><title>failed: %s: %s</title></path>'
                       % (cx - 5, cy - 5, _e(failure['task']), _e(failure['msg'])))
        out.append('</g>')
    # Over the lanes, so that a failed request lines up with what each node was doing at that moment.
    for failure in (probe or {}).get('failures', []):
        out.append('<line class="request-line" x1="%s" y1="%d" x2="%s" y2="%d"/>'
                   % (x(failure['t']), PROBE_HEIGHT, x(failure['t']), plot_bottom))
    out.append('</svg>')
    return '\n'.join(out)


def render_html(report):
    """One self-contained page: inline CSS and SVG, no script, no external resource."""
    hosts = report['hosts']
    runs = report['runs']
    probe = report.get('probe')
    failures = sorted(((f['t'], name, f) for name, e in hosts.items() for f in e['failures']), key=lambda x: x[0])
    first, last = time_range(report)
    title = 'Upgrade report: ' + ', '.join(sorted({r['playbook'] for r in runs}))
    parts = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">', '<title>%s</title>' % _e(title),
             '<style>%s</style></head><body>' % STYLE, '<h1>%s</h1>' % _e(title),
             '<p class="meta">%s to %s (%s), %d run%s%s. ' % (
                 _e(_utc(first)), _e(_utc(last)), _duration(last - first), len(runs), '' if len(runs) == 1 else 's',
                 ', check mode' if any(r['check_mode'] for r in runs) else '')]
    if failures:
        parts.append('<span class="bad">%d task failure%s.</span> ' % (len(failures), '' if len(failures) == 1 else 's'))
    else:
        parts.append('<span class="ok">No task failed.</span> ')
    if probe:
        listed = len(probe['failures'])
        parts.append('<span class="%s">%s of %s client requests failed%s.</span>' % (
            'bad' if probe['requests_failed'] else 'ok', _e(probe['requests_failed']), _e(probe['requests_total']),
            '' if listed == probe['requests_failed'] else ' (%d drawn)' % listed))
    parts.append('</p>')
    parts.append('<div class="legend">%s<span><i class="lbkey" style="background:#3c4a5e;height:3px"></i>'
                 'load balancer reported not UP</span><span><i style="background:#b3261e;width:3px"></i>'
                 'failed client request / task</span></div>' % ''.join(
                     '<span><i class="%s" style="background:%s"></i>%s</span>' % (p, c, PHASE_LABELS[p]) for p, c in (
                         (OUT_OF_POOL, '#d6e4f5'), (UPGRADING, '#e8912d'), (HEALTH_GATE, '#7b5cc4'),
                         (BACK_IN_POOL, '#2e9b57'))))
    parts.append(render_svg(report) if hosts else '<p>No host took part in a phase.</p>')
    parts.append('<h2>Hosts</h2><table id="hosts"><tr><th>host</th><th>version before</th><th>version after</th>'
                 '<th>out of pool</th><th>upgrading</th><th>health gate</th><th>back in pool</th><th>failures</th></tr>')
    for name, entry in hosts.items():
        seconds = entry['seconds']
        parts.append('<tr><td>%s</td><td>%s</td><td>%s</td>%s<td class="num">%d</td></tr>' % (
            _e(name), _e(entry['version_before'] or '?'), _e(entry['version_after'] or '?'),
            ''.join('<td class="num">%s</td>' % _seconds(seconds[p]) for p in PHASES), len(entry['failures'])))
    parts.append('</table>')
    if failures:
        parts.append('<h2>Failures</h2><table id="failures"><tr><th>time</th><th>host</th><th>phase</th><th>task</th>'
                     '<th>message</th></tr>')
        for t, name, failure in failures:
            parts.append('<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
                _e(_utc(t)), _e(name), _e(PHASE_LABELS.get(failure['phase'], '-')), _e(failure['task']),
                _e(failure['msg'])))
        parts.append('</table>')
    parts.append('<h2>Runs</h2><table id="runs"><tr><th>playbook</th><th>started</th><th>ended</th><th>hosts failed</th>'
                 '</tr>')
    for run in runs:
        failed = sorted(h for h, s in run['stats'].items() if s.get('failures') or s.get('unreachable'))
        parts.append('<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>' % (
            _e(run['playbook']), _e(_utc(run['started'])), _e(_utc(run['ended']) if run['ended'] else '-'),
            _e(', '.join(failed) or 'none')))
    parts.append('</table>')
    if probe:
        parts.append('<p class="meta">Load probe results: %s</p>' % _e(probe['file']))
    parts.append('</body></html>\n')
    return '\n'.join(parts)


def write_report(report, base):
    """Writes base.json and base.html (each written aside and renamed into place) and returns both paths."""
    directory = os.path.dirname(os.path.abspath(base))
    os.makedirs(directory, exist_ok=True)
    paths = []
    for suffix, text in (('.json', json.dumps(report, indent=2, sort_keys=True) + '\n'), ('.html', render_html(report))):
        path = base + suffix
        tmp = os.path.join(directory, '.%s.tmp' % os.path.basename(path))
        with open(tmp, 'w', encoding='utf-8') as handle:
            handle.write(text)
        os.replace(tmp, path)
        paths.append(path)
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description='Merge upgrade reports (JSON) and a load probe into one report.')
    parser.add_argument('reports', nargs='+', help='JSON reports written by the upgrade_report callback')
    parser.add_argument('--probe', help='lab/probe.py results file whose failed requests are drawn')
    parser.add_argument('--out', required=True, help='path without suffix: writes OUT.json and OUT.html')
    args = parser.parse_args(argv)
    try:
        reports = []
        for path in args.reports:
            with open(path, encoding='utf-8') as handle:
                reports.append(json.load(handle))
        report = merge(reports)
        if args.probe:
            attach_probe(report, load_probe(args.probe))
    except (OSError, ValueError, KeyError, ReportError) as exc:
        parser.exit(1, 'upgrade report: %s\n' % exc)
    for path in write_report(report, args.out):
        print(path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
