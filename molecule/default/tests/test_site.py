# -*- coding: utf-8 -*-
"""Verify the rolled AM site: on every server, and through the load balancer under the probe."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import time
import urllib.request

import testinfra.utils.ansible_runner

PROJECT = os.environ['MOLECULE_PROJECT_DIRECTORY']
PROBE_DIR = os.path.join(PROJECT, 'build', 'molecule-probe')
NEW_WAR = os.path.join(PROJECT, 'build', 'lab', 'wars', 'am-8.1.0.war')
ADMIN_SOCKET = os.path.join(PROJECT, 'build', 'lab', 'haproxy', 'admin.sock')
CATALINA_BASE = '/opt/am/tomcat'

# The lab's own inventory, not molecule's copy: the groups and connection settings live there.
LAB_INVENTORY = os.path.join(PROJECT, 'build', 'lab', 'inventory.yml')
testinfra_hosts = ['ansible://%s?ansible_inventory=%s' % (name, LAB_INVENTORY)
                   for name in testinfra.utils.ansible_runner.AnsibleRunner(LAB_INVENTORY).get_hosts('am_site1')]


def _sha256(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _haproxy(command):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as admin:
        admin.connect(ADMIN_SOCKET)
        admin.sendall(command.encode() + b'\n')
        chunks = []
        while chunk := admin.recv(65536):
            chunks.append(chunk)
    return b''.join(chunks).decode()


def test_every_lab_server_is_verified():
    assert len(testinfra_hosts) == 3


def test_new_war_is_deployed(host):
    assert host.file(CATALINA_BASE + '/webapps/am.war').sha256sum == _sha256(NEW_WAR)


def test_old_war_is_kept_as_backup(host):
    backups = host.run('ls %s/backups', CATALINA_BASE)
    assert backups.rc == 0
    assert any(name.startswith('am.war.') for name in backups.stdout.split())


def test_tomcat_runs_from_its_pid_file(host):
    pid = host.file(CATALINA_BASE + '/temp/catalina.pid').content_string.strip()
    assert pid.isdigit()
    assert 'org.apache.catalina.startup.Bootstrap' in host.file('/proc/%s/cmdline' % pid).content_string


def test_server_reports_new_version(host):
    address = host.ansible.get_variables()['ansible_host']
    request = urllib.request.Request('http://%s:8080/am/json/serverinfo/version' % address,
                                     headers={'Accept-API-Version': 'resource=1.0'})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.load(response)['version'] == '8.1.0'


def test_every_server_is_up_in_the_pool():
    rows = [line.split(',') for line in _haproxy('show stat').splitlines() if line.startswith('am_site1,')]
    servers = {row[1]: row[17] for row in rows if row[1] not in ('FRONTEND', 'BACKEND')}
    assert servers == {'am1': 'UP', 'am2': 'UP', 'am3': 'UP'}


def test_no_client_request_failed_during_the_roll():
    with open(os.path.join(PROBE_DIR, 'probe.pid'), encoding='utf-8') as handle:
        os.kill(int(handle.read().strip()), signal.SIGTERM)
    result_path = os.path.join(PROBE_DIR, 'probe.json')
    deadline = time.monotonic() + 30
    while not os.path.exists(result_path) and time.monotonic() < deadline:
        time.sleep(0.2)
    with open(result_path, encoding='utf-8') as handle:
        result = json.load(handle)
    assert result['requests_total'] > 100
    assert result['requests_failed'] == 0, result['failures'][:10]
    assert all(server['out_of_pool_seconds'] > 0 for server in result['servers'].values())
