# -*- coding: utf-8 -*-
"""Verify the rolled-back AM site: every server on the old war and ready, the site's configuration
on the old version with the upgraded one kept aside, and no client request failed."""

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
LAB_INVENTORY = os.path.join(LAB, 'inventory.yml')
_RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(LAB_INVENTORY)
testinfra_hosts = ['ansible://%s?ansible_inventory=%s' % (name, LAB_INVENTORY) for name in _RUNNER.get_hosts('am_site1')]


def test_server_runs_the_old_version_and_is_ready(host):
    address = host.ansible.get_variables()['ansible_host']
    request = urllib.request.Request('http://%s:8080/am/json/serverinfo/version' % address,
                                     headers={'Accept-API-Version': 'resource=1.0'})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.load(response)['version'] == '7.5.0'
    with urllib.request.urlopen('http://%s:8080/am/json/health/ready' % address, timeout=5) as response:
        assert response.status == 200


def test_configuration_is_back_and_the_upgraded_one_aside(host):
    config_dir = host.ansible.get_variables()['am_config_dir']
    assert json.loads(host.file(config_dir + '/global/version.json').content_string)['version'] == '7.5.0'
    aside = host.run('ls -d %s.rolled-back.*' % config_dir)
    assert aside.rc == 0 and aside.stdout.strip()


def test_no_client_request_failed():
    result = probe.stop_and_read(os.path.join(PROBE_DIR, 'probe.pid'), os.path.join(PROBE_DIR, 'probe.json'))
    assert result['requests_total'] > 100
    assert result['requests_failed'] == 0, result['failures'][:10]
