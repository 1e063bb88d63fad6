# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for vidm_appliance_upgrade, vidm_health and vidm_cluster_info through main().

The appliance is faked at ``AnsibleModule.run_command`` and at ``open_url``.
"""

from __future__ import annotations

import io
import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idmops.lifecycle.plugins.module_utils import _vidm_appliance
from ansible_collections.idmops.lifecycle.plugins.modules import vidm_appliance_upgrade, vidm_cluster_info, vidm_health
from ansible_collections.idmops.lifecycle.tests.unit.plugins.modules.utils import exit_result, fail_result


def fake_run(calls, version='3.3.6.0', free_kb=8 * 1024 * 1024):
    def run_command(self, argv, environ_update=None, **kwargs):
        calls.append((list(argv), dict(environ_update or {})))
        name = argv[0].rsplit('/', 1)[-1]
        if name == 'vamicli':
            return 0, 'Version - %s Build 1\n' % version, ''
        if name == 'df':
            return 0, 'Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sda4 9 1 %d 5%% /\n' % free_kb, ''
        if name == 'updatemgr.hzn' and argv[1] == 'check':
            return 0, 'Update available: 3.3.7.0 Build 2\n', ''
        if name == 'psql':
            with open(environ_update['PGPASSFILE']) as handle:
                calls.append(('pgpass', handle.read()))
            return 0, 'node_id|hostname|port|status|lb_weight|role\n0|a|5432|up|0.5|standby\n1|b|5432|up|0.5|primary\n', ''
        return 0, '', ''
    return run_command


def test_upgrade_check_mode_diff(monkeypatch):
    calls = []
    monkeypatch.setattr(AnsibleModule, 'run_command', fake_run(calls))
    result = exit_result(vidm_appliance_upgrade.main, dict(target_version='3.3.7.0'), check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['diff'] == {'before': {'version': '3.3.6.0'}, 'after': {'version': '3.3.7.0'}}
    assert not [c for c in calls if 'updatemgr' in c[0][0]]


def test_upgrade_online_keeps_log(monkeypatch, tmp_path):
    calls = []
    log = tmp_path / 'update.log'
    log.write_text('INFO update\n')
    monkeypatch.setattr(AnsibleModule, 'run_command', fake_run(calls))
    result = exit_result(vidm_appliance_upgrade.main, dict(target_version='3.3.7.0', update_log=str(log),
                                                           log_dir=str(tmp_path / 'logs')))
    assert result['changed'] and result['reboot_required']
    assert open(result['log_file']).read() == 'INFO update\n'


def test_upgrade_already_there(monkeypatch):
    monkeypatch.setattr(AnsibleModule, 'run_command', fake_run([], version='3.3.7.0'))
    result = exit_result(vidm_appliance_upgrade.main, dict(target_version='3.3.7.0'))
    assert result['changed'] is False and result['reboot_required'] is False


def test_upgrade_free_space(monkeypatch):
    monkeypatch.setattr(AnsibleModule, 'run_command', fake_run([], free_kb=100 * 1024))
    result = fail_result(vidm_appliance_upgrade.main, dict(target_version='3.3.7.0'))
    assert 'only 100 MB free' in result['msg']


def test_upgrade_offline_needs_bundle_and_checksum():
    result = fail_result(vidm_appliance_upgrade.main, dict(target_version='3.3.7.0', source='offline'))
    assert 'bundle' in result['msg']


def test_cluster_info_password_not_in_argv(monkeypatch, tmp_path):
    runtime = tmp_path / 'runtime-config.properties'
    runtime.write_text('datastore.jdbc.url=jdbc:postgresql://10.0.0.50:5432/saas\n')
    pwd = tmp_path / 'pgpool.pwd'
    pwd.write_text('s3cret\n')
    conf = tmp_path / 'pgpool.conf'
    conf.write_text("delegate_IP = '10.0.0.50'\n")
    calls = []
    monkeypatch.setattr(AnsibleModule, 'run_command', fake_run(calls))
    result = exit_result(vidm_cluster_info.main, dict(runtime_config=str(runtime), pgpool_password_file=str(pwd),
                                                      pgpool_conf=str(conf)))
    assert result['database_type'] == 'postgresql'
    assert result['primary']['hostname'] == 'b'
    assert result['delegate_ip'] == '10.0.0.50'
    argv = calls[0][0]
    assert 's3cret' not in ' '.join(argv)
    assert calls[1] == ('pgpass', 'localhost:9999:*:pgpool:s3cret\n')


def test_cluster_info_mssql_no_psql(monkeypatch, tmp_path):
    runtime = tmp_path / 'runtime-config.properties'
    runtime.write_text('datastore.jdbc.url=jdbc:sqlserver://sql:1433;DatabaseName=saas\n')
    calls = []
    monkeypatch.setattr(AnsibleModule, 'run_command', fake_run(calls))
    result = exit_result(vidm_cluster_info.main, dict(runtime_config=str(runtime), pgpool_conf=str(tmp_path / 'x')))
    assert result['database_type'] == 'mssql' and result['primary'] is None and calls == []


class FakeResponse(io.BytesIO):
    def __init__(self, body, status=200):
        super().__init__(body.encode())
        self.status = status

    def getcode(self):
        return self.status


def test_health_green(monkeypatch):
    seen = []

    def opener(url, **kwargs):
        seen.append((url, kwargs['validate_certs']))
        if url.endswith('/heartbeat'):
            return FakeResponse('ok')
        return FakeResponse(json.dumps({'AllOk': 'true', 'ElasticsearchServiceOk': 'true',
                                        'ElasticsearchUnassignedShards': '0', 'BuildVersion': '3.3.7.0 Build 2'}))
    monkeypatch.setattr(_vidm_appliance, 'open_url', opener)
    monkeypatch.setattr(vidm_health, 'make_fetch', lambda url, vc, rt: _vidm_appliance.make_fetch(url, vc, rt, opener))
    result = exit_result(vidm_health.main, dict(url='https://vidm1/', timeout=0))
    assert result['build_version'] == '3.3.7.0 Build 2' and result['changed'] is False
    assert seen[0] == ('https://vidm1/SAAS/API/1.0/REST/system/health/heartbeat', True)


def test_health_timeout_names_fields(monkeypatch):
    def opener(url, **kwargs):
        if url.endswith('/heartbeat'):
            return FakeResponse('ok')
        return FakeResponse(json.dumps({'AllOk': 'false', 'ElasticsearchServiceOk': 'true',
                                        'ElasticsearchUnassignedShards': '3'}))
    monkeypatch.setattr(vidm_health, 'make_fetch', lambda url, vc, rt: _vidm_appliance.make_fetch(url, vc, rt, opener))
    result = fail_result(vidm_health.main, dict(url='http://vidm1', timeout=0))
    assert 'AllOk=false' in result['msg'] and 'ElasticsearchUnassignedShards=3' in result['msg']
    assert result['failing'] == {'AllOk': 'false', 'ElasticsearchUnassignedShards': '3'}
