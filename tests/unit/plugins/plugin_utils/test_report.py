# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/plugin_utils/_report.py: the phase contract, the timeline, merging, the probe and the page."""

from __future__ import annotations

import json
import re
import pytest

from ansible_collections.idmops.lifecycle.plugins.plugin_utils._report import (
    ReportError,
    Timeline,
    attach_probe,
    axis_step,
    declared_phase,
    load_probe,
    main,
    merge,
    render_html,
    task_segments,
    task_versions,
)

LB = 'idmops.lifecycle.lb_pool_member'
WAR = 'idmops.lifecycle.tomcat_war'


def drawn(page, css_class, attribute='class'):
    """The value of attribute of every element of the page whose class list holds css_class."""
    found = []
    for match in re.finditer(r'<(\w+) ([^>]*)>', page):
        attrs = dict(re.findall(r'([\w:-]+)="([^"]*)"', match.group(2)))
        if css_class in attrs.get('class', '').split():
            found.append(attrs.get(attribute))
    return found


# --- the phase contract -------------------------------------------------------------------------

@pytest.mark.parametrize('task_vars, tags, expected', [
    ({'idmops_phase': 'upgrading'}, [], 'upgrading'),
    ({'idmops_phase': 'none'}, ['health_gate'], 'none'),
    ({}, ['always', 'health_gate'], 'health_gate'),
    ({}, ['upgrade'], None),
    (None, None, None),
])
def test_declared_phase(task_vars, tags, expected):
    assert declared_phase(task_vars, tags) == expected


def test_declared_phase_refuses_a_typo():
    with pytest.raises(ReportError, match="idmops_phase must be one of .*'upgrade'"):
        declared_phase({'idmops_phase': 'upgrade'}, [])


@pytest.mark.parametrize('action, args, result, expected', [
    (LB, {'state': 'drained'}, {'changed': True}, [('out_of_pool', 10, 20)]),
    ('lb_pool_member', {'state': 'disabled'}, {'changed': True}, [('out_of_pool', 10, 20)]),
    (LB, {'state': 'enabled'}, {'changed': True}, [('back_in_pool', 10, 20)]),
    (LB, {'state': 'drained'}, {'changed': False}, []),
    (LB, {'state': 'drained'}, {'changed': False, 'failed': True}, [('out_of_pool', 10, 20)]),
    (LB, {'monitors': 'disabled'}, {'changed': True}, []),
    ('idmops.lifecycle.am_config_upgrade', {}, {'changed': True}, [('upgrading', 10, 20)]),
    ('idmops.lifecycle.vidm_connector_upgrade', {}, {'changed': True}, [('upgrading', 10, 20)]),
    ('idmops.lifecycle.am_config_upgrade', {}, {'changed': False}, []),
    (WAR, {}, {'changed': True, 'ready_seconds': 4.0}, [('upgrading', 10, 16.0), ('health_gate', 16.0, 20)]),
    (WAR, {}, {'changed': True, 'ready_seconds': None}, [('upgrading', 10, 20)]),
    ('idmops.lifecycle.vidm_health', {}, {'changed': False}, [('health_gate', 10, 20)]),
    ('ansible.builtin.uri', {}, {'changed': False}, []),
])
def test_segments_by_action(action, args, result, expected):
    assert task_segments(action, args, result, 10, 20) == expected


def test_declared_phase_wins_and_check_mode_counts_only_declared():
    assert task_segments('ansible.builtin.command', {}, {}, 1, 2, declared='upgrading') == [('upgrading', 1, 2)]
    assert task_segments(LB, {'state': 'drained'}, {'changed': True}, 1, 2, declared='none') == []
    assert task_segments(WAR, {}, {'changed': True}, 1, 2, check_mode=True) == []
    assert task_segments('ansible.builtin.command', {}, {}, 1, 2, declared='health_gate',
                         check_mode=True) == [('health_gate', 1, 2)]


@pytest.mark.parametrize('action, args, result, check_mode, expected', [
    ('idmops.lifecycle.am_config_upgrade', {}, {'version_before': '7.5.0', 'version_after': '8.1.0'}, False,
     ('7.5.0', '8.1.0', None)),
    ('idmops.lifecycle.am_config_upgrade', {}, {'version_before': '7.5.0', 'version_after': '8.1.0'}, True,
     ('7.5.0', None, None)),
    ('idmops.lifecycle.vidm_connector_upgrade', {}, {'previous_version': '3.3.6', 'version': '3.3.7'}, False,
     ('3.3.6', '3.3.7', None)),
    ('idmops.lifecycle.vidm_appliance_upgrade', {}, {'version': '3.3.6.0', 'target_version': '3.3.7.0'}, False,
     ('3.3.6.0', '3.3.7.0', None)),
    ('idmops.lifecycle.vidm_appliance_upgrade', {}, {'version': '3.3.6.0', 'target_version': '3.3.7.0',
                                                     'failed': True}, False, ('3.3.6.0', None, None)),
    ('idmops.lifecycle.vidm_health', {}, {'build_version': '3.3.7.0 Build 21173100'}, False, (None, None, '3.3.7.0')),
    ('ansible.builtin.uri', {'url': 'http://a:8080/am/json/serverinfo/version'}, {'json': {'version': '8.1.0'}}, False,
     (None, None, '8.1.0')),
    ('ansible.builtin.uri', {'url': 'http://a:8080/am/json/health/ready'}, {'json': {'version': '8.1.0'}}, False,
     (None, None, None)),
    ('ansible.builtin.set_fact', {}, {'ansible_facts': {'idmops_version': '2.0'}}, False, (None, None, '2.0')),
])
def test_versions(action, args, result, check_mode, expected):
    found = task_versions(action, args, result, check_mode=check_mode)
    assert (found['before'], found['after'], found['observed']) == expected


# --- the timeline -------------------------------------------------------------------------------

def roll(timeline, host, t0, fail_gate=False):
    """One host through the phases the AM site playbook gives it, from t0 on."""
    timeline.add_task(host, 'read version', 'uri', {'url': 'http://h/am/json/serverinfo/version'},
                      {'json': {'version': '7.5.0'}}, t0, t0 + 1)
    timeline.add_task(host, 'drain', LB, {'state': 'drained', 'pool': 'site1', 'member': host}, {'changed': True},
                      t0 + 1, t0 + 3)
    timeline.add_task(host, 'stop', WAR, {}, {'changed': True, 'ready_seconds': None}, t0 + 3, t0 + 4)
    timeline.add_task(host, 'deploy', WAR, {}, {'changed': True, 'ready_seconds': 5}, t0 + 4, t0 + 12)
    if fail_gate:
        timeline.add_task(host, 'ready', 'uri', {}, {'failed': True, 'msg': 'Status code was 503\nmore'}, t0 + 12,
                          t0 + 14, declared='health_gate', failed=True)
        return
    timeline.add_task(host, 'version', 'uri', {'url': 'http://h/am/json/serverinfo/version/'},
                      {'json': {'version': '8.1.0'}}, t0 + 12, t0 + 13)
    timeline.add_task(host, 'enable', LB, {'state': 'enabled', 'pool': 'site1', 'member': host},
                      {'changed': True}, t0 + 13, t0 + 15)


def test_timeline_of_a_rolled_host():
    timeline = Timeline('am_site_upgrade.yml', 100.0)
    roll(timeline, 'am1', 100)
    timeline.add_task('localhost', 'assert', 'assert', {}, {'changed': False}, 100, 101)
    timeline.finish(200.0, {'am1': {'failures': 0}})
    report = timeline.to_dict()
    assert list(report['hosts']) == ['am1']
    am1 = report['hosts']['am1']
    assert [(i['phase'], i['start'], i['end']) for i in am1['phases']] == [
        ('out_of_pool', 101, 113), ('upgrading', 103, 107), ('health_gate', 107, 112), ('back_in_pool', 113, 115)]
    assert am1['phases'][1]['tasks'] == ['stop', 'deploy']
    assert (am1['version_before'], am1['version_after']) == ('7.5.0', '8.1.0')
    assert am1['lb_members'] == [['site1', 'am1']]
    assert am1['seconds'] == {'out_of_pool': 12, 'upgrading': 4, 'health_gate': 5, 'back_in_pool': 2}
    assert report['runs'][0]['ended'] == 200.0 and not am1['failures']


def test_a_failed_health_gate_leaves_the_host_out_of_the_pool():
    timeline = Timeline('p.yml', 0.0)
    roll(timeline, 'am2', 0, fail_gate=True)
    timeline.add_unreachable('am2', 'later', {'msg': 'ssh: connect refused'}, 20)
    timeline.finish(30.0)
    am2 = timeline.to_dict()['hosts']['am2']
    oop, _upgrading, gate = am2['phases'][0], am2['phases'][1], am2['phases'][-1]
    assert (oop['end'], oop['open']) == (30.0, True)
    assert gate['phase'] == 'health_gate' and gate['failed']
    assert am2['failures'][0] == dict(t=14, task='ready', msg='Status code was 503', phase='health_gate')
    assert am2['failures'][1]['msg'] == 'unreachable: ssh: connect refused'
    assert am2['version_after'] is None


def test_a_phase_interrupted_by_another_starts_again():
    timeline = Timeline('p.yml', 0.0)
    for start, phase in ((0, 'upgrading'), (1, 'health_gate'), (2, 'upgrading')):
        timeline.add_task('h', phase, 'command', {}, {}, start, start + 1, declared=phase)
    assert [i['phase'] for i in timeline.to_dict()['hosts']['h']['phases']] == ['upgrading', 'health_gate', 'upgrading']


def probe_file(tmp_path, failures):
    path = tmp_path / 'probe.json'
    path.write_text(json.dumps({
        'started': 0, 'ended': 50, 'requests_total': 100, 'requests_failed': len(failures) + 1,
        'failures': [{'t': t, 'error': 'HTTP 503'} for t in failures] + [{'error': 'no time'}],
        'backends': {'site1': {'am1': {'out_of_pool_seconds': 10, 'intervals': [[101.5, 111.5, 'DRAIN']]}}},
        'servers': {'am9': {'intervals': [[1, 2, 'MAINT']]}}}))
    return str(path)


def test_probe_and_merge(tmp_path):
    first = Timeline('am_site_upgrade.yml', 100.0)
    roll(first, 'am1', 100)
    first.finish(120.0)
    second = Timeline('am_site_upgrade.yml', 130.0)
    second.add_task('am1', 'read', 'uri', {'url': 'http://h/am/json/serverinfo/version'},
                    {'json': {'version': '8.1.0'}}, 131, 132)
    roll(second, 'am9', 135)
    second.finish(160.0)
    merged = merge([second.to_dict(), first.to_dict()])
    probe = load_probe(probe_file(tmp_path, [105.0, 106.5]))
    attach_probe(merged, probe)
    assert [r['started'] for r in merged['runs']] == [100.0, 130.0]
    assert list(merged['hosts']) == ['am1', 'am9']
    assert merged['hosts']['am1']['version_before'] == '7.5.0'
    assert merged['hosts']['am1']['lb_observed'] == [dict(start=101.5, end=111.5, status='DRAIN')]
    assert merged['hosts']['am9']['lb_observed'] == []
    assert merged['probe']['failures'] == [dict(t=105.0, error='HTTP 503'), dict(t=106.5, error='HTTP 503')]
    assert merged['probe']['requests_failed'] == 3


@pytest.mark.parametrize('content, message', [
    ('not json', 'cannot read the probe results'),
    ('{"failures": 3}', 'not a probe results file'),
])
def test_bad_probe_files(tmp_path, content, message):
    path = tmp_path / 'probe.json'
    path.write_text(content)
    with pytest.raises(ReportError, match=message):
        load_probe(str(path))


def test_merge_refuses_another_format():
    with pytest.raises(ReportError, match='unknown report format 7'):
        merge([dict(format=7, runs=[dict(started=0)], hosts={})])


# --- the page -----------------------------------------------------------------------------------

def test_page_has_one_lane_per_host_and_draws_everything(tmp_path):
    timeline = Timeline('am_site_upgrade.yml', 100.0)
    roll(timeline, 'am1', 100)
    roll(timeline, 'am2<x>', 115, fail_gate=True)
    timeline.finish(140.0)
    report = attach_probe(timeline.to_dict(), load_probe(probe_file(tmp_path, [105.0, 106.5])))
    page = render_html(report)
    assert drawn(page, 'lane', 'data-host') == ['am1', 'am2&lt;x&gt;']
    assert 'am2<x>' not in page
    assert len(drawn(page, 'request')) == 2 and len(drawn(page, 'request-line')) == 2
    assert len(drawn(page, 'failure')) == 1 and len(drawn(page, 'open')) == 1
    assert drawn(page, 'phase', 'data-phase')[:4] == ['out_of_pool', 'upgrading', 'health_gate', 'back_in_pool']
    assert len(drawn(page, 'lb')) == 1
    assert '<script' not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert '3 of 100 client requests failed (2 drawn)' in page
    assert 'Status code was 503' in page


def test_page_of_a_run_with_nothing_to_draw():
    timeline = Timeline('preflight.yml', 0.0)
    timeline.finish(5.0)
    page = render_html(timeline.to_dict())
    assert 'No host took part in a phase.' in page and 'No task failed.' in page


@pytest.mark.parametrize('span, step', [(9, 2), (60, 10), (400, 60), (3000, 600), (200000, 25200)])
def test_axis_step(span, step):
    assert axis_step(span) == step


def test_command_line_merges_and_writes_both_files(tmp_path, capsys):
    timeline = Timeline('am_site_upgrade.yml', 100.0)
    roll(timeline, 'am1', 100)
    timeline.finish(120.0)
    run = tmp_path / 'run.json'
    run.write_text(json.dumps(timeline.to_dict()))
    out = tmp_path / 'out' / 'demo'
    assert main([str(run), '--probe', probe_file(tmp_path, [105.0]), '--out', str(out)]) == 0
    assert capsys.readouterr().out.split() == [str(out) + '.json', str(out) + '.html']
    assert json.loads((tmp_path / 'out' / 'demo.json').read_text())['probe']['failures'][0]['t'] == 105.0
    with pytest.raises(SystemExit):
        main([str(tmp_path / 'missing.json'), '--out', str(out)])
    assert 'upgrade report:' in capsys.readouterr().err
