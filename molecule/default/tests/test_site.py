# -*- coding: utf-8 -*-
"""Verify the upgraded AM site: each server, the site's configuration, the identity store schema,
and what the clients saw through the load balancer while it happened."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import subprocess
import urllib.request

import testinfra.utils.ansible_runner

PROJECT = os.environ['MOLECULE_PROJECT_DIRECTORY']
sys.path.insert(0, os.path.join(PROJECT, 'lab'))
import probe  # noqa: E402  pylint: disable=wrong-import-position  # the lab's probe and runtime API client
LAB = os.path.join(PROJECT, 'build', 'lab')
PROBE_DIR = os.path.join(PROJECT, 'build', 'molecule-probe')
NEW_WAR = os.path.join(LAB, 'wars', 'am-8.1.0.war')
ADMIN_SOCKET = os.path.join(LAB, 'haproxy', 'admin.sock')
CATALINA_BASE = '/opt/am/tomcat'
WEBAPP = CATALINA_BASE + '/webapps/am'
WIZARD_LIBRARIES = ('click-extras-2.3.0.jar', 'click-nodeps-2.3.0.jar', 'velocity-1.7-p1.jar')

# The lab's own inventory, not molecule's copy: the groups and connection settings live there.
LAB_INVENTORY = os.path.join(LAB, 'inventory.yml')
_RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(LAB_INVENTORY)
SITE = _RUNNER.get_hosts('am_site1')
OTHER_SITE = _RUNNER.get_hosts('am_site2')
testinfra_hosts = ['ansible://%s?ansible_inventory=%s' % (name, LAB_INVENTORY) for name in SITE]


def _sha256(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _version(address):
    request = urllib.request.Request('http://%s:8080/am/json/serverinfo/version' % address,
                                     headers={'Accept-API-Version': 'resource=1.0'})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)['version']


def test_both_sites_have_three_servers():
    assert (len(SITE), len(OTHER_SITE)) == (3, 3)


def test_new_war_is_deployed(host):
    assert host.file(CATALINA_BASE + '/webapps/am.war').sha256sum == _sha256(NEW_WAR)


def test_server_reports_new_version_and_is_ready(host):
    address = host.ansible.get_variables()['ansible_host']
    assert _version(address) == '8.1.0'
    with urllib.request.urlopen('http://%s:8080/am/json/health/ready' % address, timeout=5) as response:
        assert response.status == 200


def test_upgrade_wizard_is_gone(host):
    for library in WIZARD_LIBRARIES:
        assert not host.file('%s/WEB-INF/lib/%s' % (WEBAPP, library)).exists
    web_xml = host.file(WEBAPP + '/WEB-INF/web.xml').content_string
    assert 'click-servlet' not in web_xml
    assert '*.htm' not in web_xml


def test_site_configuration_is_upgraded(host):
    config_dir = host.ansible.get_variables()['am_config_dir']
    assert json.loads(host.file(config_dir + '/global/version.json').content_string)['version'] == '8.1.0'


def test_other_site_is_untouched():
    variables = _RUNNER.get_variables(OTHER_SITE[0])
    assert _version(variables['ansible_host']) == '7.5.0'


def test_identity_store_has_the_device_schema():
    variables = _RUNNER.get_variables(SITE[0])
    search = subprocess.run(['ldapsearch', '-LLL', '-Q', '-o', 'ldif-wrap=no', '-Y', 'EXTERNAL',
                             '-H', variables['am_ldap_ldapi_uri'], '-b', 'cn=Subschema', '-s', 'base',
                             'objectClasses'],
                            stdout=subprocess.PIPE, text=True, check=True)
    for object_class in ('webauthnDeviceProfilesContainer', 'deviceProfilesContainer', 'boundDevicesContainer'):
        assert "NAME '%s'" % object_class in search.stdout


def test_every_server_is_up_in_both_pools():
    rows = [line.split(',') for line in probe.runtime_api(ADMIN_SOCKET, 'show stat').splitlines() if line.startswith('am_site')]
    servers = {(row[0], row[1]): row[17] for row in rows if row[1] not in ('FRONTEND', 'BACKEND')}
    assert len(servers) == 12
    assert set(servers.values()) == {'UP'}


def test_no_client_request_failed_during_the_upgrade():
    result = probe.stop_and_read(os.path.join(PROBE_DIR, 'probe.pid'), os.path.join(PROBE_DIR, 'probe.json'))
    assert result['requests_total'] > 100
    assert result['requests_failed'] == 0, result['failures'][:10]
