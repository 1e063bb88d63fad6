# -*- coding: utf-8 -*-
"""Verify the upgraded vIDM cluster: each node's version and diagnostics, the pool, the snapshots
taken before the upgrade, and what the clients saw through the load balancer while it happened:
failed requests only while the node that stayed in the pool was upgrading (the runbook's
expected downtime), none outside that window."""

from __future__ import annotations

import json
import os
import sys
import urllib.request

import testinfra.utils.ansible_runner

PROJECT = os.environ['MOLECULE_PROJECT_DIRECTORY']
sys.path.insert(0, os.path.join(PROJECT, 'lab'))
import probe  # noqa: E402  pylint: disable=wrong-import-position  # the lab's probe and runtime API client
LAB = os.path.join(PROJECT, 'build', 'lab')
PROBE_DIR = os.path.join(PROJECT, 'build', 'molecule-probe')
ADMIN_SOCKET = os.path.join(LAB, 'haproxy', 'admin.sock')
TARGET = '3.3.7.0'
SNAPSHOT = 'before-vidm-' + TARGET
# HAProxy notices a node going down after two failed checks 500 ms apart: requests in between
# reach the stopping node and fail before its DOWN interval starts.
DETECTION_SLACK = 2.0

LAB_INVENTORY = os.path.join(LAB, 'inventory.yml')
_RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(LAB_INVENTORY)
NODES = _RUNNER.get_hosts('vidm')
testinfra_hosts = ['ansible://%s?ansible_inventory=%s' % (name, LAB_INVENTORY) for name in NODES]


def _node_state(name):
    with open(os.path.join(LAB, 'nodes', name, 'root', 'var', 'lib', 'vidm-sim', 'state.json'),
              encoding='utf-8') as handle:
        return json.load(handle)


def _node_that_stayed():
    """The pgpool primary with PostgreSQL, the first node with MS SQL."""
    state = _node_state(NODES[0])
    if state['db_type'] == 'postgresql':
        return next(row[1] for row in state['pool_nodes'] if row[5] == 'primary')
    return NODES[0]


def _health(name):
    url = _RUNNER.get_variables(name)['vidm_node_url'] + '/SAAS/API/1.0/REST/system/health'
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def test_cluster_has_three_nodes():
    assert len(NODES) == 3


def test_appliance_reports_the_target_version(host):
    assert host.check_output('vamicli version --appliance').startswith('Version - %s ' % TARGET)


def test_update_log_was_kept(host):
    logs = host.file('/usr/local/horizon/idmops-logs')
    assert logs.is_directory
    assert any(name.startswith('update-') for name in logs.listdir())


def test_diagnostics_are_healthy_at_the_target_version(host):
    health = _health(host.backend.host)
    assert health['AllOk'] == 'true'
    assert health['ElasticsearchServiceOk'] == 'true'
    assert health['ElasticsearchUnassignedShards'] == '0'
    assert health['EhCacheClusterPeers'] == str(len(NODES))
    assert health['BuildVersion'].startswith(TARGET + ' ')


def test_every_node_is_up_in_the_pool():
    rows = [line.split(',') for line in probe.runtime_api(ADMIN_SOCKET, 'show stat').splitlines() if line.startswith('vidm,')]
    servers = {row[1]: row[17] for row in rows if row[1] not in ('FRONTEND', 'BACKEND')}
    assert servers == {name: 'UP' for name in NODES}


def test_every_node_has_its_snapshot():
    variables = _RUNNER.get_variables(NODES[0])
    with open(variables['vcenter_password_file'], encoding='utf-8') as handle:
        password = handle.read()
    info = _RUNNER.run_module('localhost', 'idmops.lifecycle.vm_snapshot_info', json.dumps({
        'hostname': variables['vcenter_hostname'], 'port': int(variables['vcenter_port']),
        'username': variables['vcenter_username'], 'password': password, 'validate_certs': False,
        'vms': NODES}))
    for name in NODES:
        assert [s['name'] for s in info['snapshots'][name]['snapshots']] == [SNAPSHOT]


def test_requests_failed_only_while_the_node_in_the_pool_was_upgrading():
    result = probe.stop_and_read(os.path.join(PROBE_DIR, 'probe.pid'), os.path.join(PROBE_DIR, 'probe.json'))
    assert result['requests_total'] > 100
    kept = _node_that_stayed()
    # The node that stayed is never taken out: every stretch in which it was not plain UP is its
    # own upgrade (failing checks, DOWN, coming back).
    windows = [(start - DETECTION_SLACK, end) for start, end, _status in result['backends']['vidm'][kept]['intervals']]
    assert windows
    outside = [f for f in result['failures'] if not any(start <= f['t'] <= end for start, end in windows)]
    assert not outside, (windows, outside[:10])
    for name in NODES:
        if name != kept:
            # The others left the pool by drain and maintenance, never by failing their health checks.
            statuses = {status.split()[0] for _start, _end, status in result['backends']['vidm'][name]['intervals']}
            assert 'DOWN' not in statuses and 'MAINT' in statuses, (name, statuses)
