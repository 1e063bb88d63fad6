# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/_vidm_appliance.py: parsing, the plan, the health wait."""

from __future__ import annotations

import hashlib
import json

import pytest

from ansible_collections.idmops.lifecycle.plugins.module_utils import _vidm_appliance as va


POOL_ALIGNED = """ node_id |      hostname     | port | status | lb_weight |   role
---------+-------------------+------+--------+-----------+---------
 0       | vidm1.example.com | 5432 | up     | 0.333333  | standby
 1       | vidm2.example.com | 5432 | up     | 0.333333  | primary
 2       | vidm3.example.com | 5432 | down   | 0.333333  | standby
(3 rows)
"""

POOL_UNALIGNED = """node_id|hostname|port|status|lb_weight|role|select_cnt
0|vidm1|5432|up|0.5|primary|10
1|vidm2|5432|up|0.5|standby|3
(2 rows)
"""


def test_vamicli_version():
    assert va.parse_vamicli_version('Version - 3.3.7.0 Build 21173100\n') == ('3.3.7.0', '21173100')


def test_vamicli_version_garbage():
    with pytest.raises(va.ApplianceError, match='cannot read the appliance version'):
        va.parse_vamicli_version('vamicli: command failed')


def test_df_available():
    text = ('Filesystem     1024-blocks    Used Available Capacity Mounted on\n'
            '/dev/sda4         20971520 12582912   3145728      60% /\n')
    assert va.parse_df_available_mb(text) == 3072


def test_check_output():
    assert va.parse_check_output('Update available: 3.3.7.0 Build 21173100') == '3.3.7.0'
    assert va.parse_check_output('No update available') is None


@pytest.mark.parametrize('current,target,source,expected', [
    ('3.3.7.0', '3.3.7.0', 'online', []),
    ('3.3.7.0', '3.3.6', 'online', []),
    ('3.3.6.0', '3.3.7.0', 'online', ['updatemgr.hzn updateinstaller', 'updatemgr.hzn check',
                                      'updatemgr.hzn update', 'updatemgr.hzn check']),
    ('3.3.6.0', '3.3.7.0', 'offline', ['verify bundle sha256', 'updateOffline.hzn -f <bundle>']),
])
def test_plan(current, target, source, expected):
    assert va.plan_upgrade(current, target, source) == expected


def test_pool_nodes_aligned():
    rows = va.parse_pool_nodes(POOL_ALIGNED)
    assert [r['hostname'] for r in rows] == ['vidm1.example.com', 'vidm2.example.com', 'vidm3.example.com']
    assert va.pool_primary(rows)['hostname'] == 'vidm2.example.com'
    assert rows[2]['status'] == 'down'


def test_pool_nodes_unaligned_extra_columns():
    rows = va.parse_pool_nodes(POOL_UNALIGNED)
    assert va.pool_primary(rows)['node_id'] == '0'
    assert rows[1]['select_cnt'] == '3'


def test_pool_no_primary():
    rows = va.parse_pool_nodes(POOL_ALIGNED.replace('primary', 'standby'))
    with pytest.raises(va.ApplianceError, match='one primary'):
        va.pool_primary(rows)


def test_runtime_config():
    pg = '# comment\ndatastore.jdbc.url=jdbc:postgresql://10.0.0.50:5432/saas?stringtype=unspecified\n'
    assert va.database_type(pg)[0] == 'postgresql'
    ms = 'datastore.jdbc.url = jdbc:sqlserver://sql:1433;DatabaseName=saas\n'
    assert va.database_type(ms) == ('mssql', 'jdbc:sqlserver://sql:1433;DatabaseName=saas')
    with pytest.raises(va.ApplianceError):
        va.database_type('datastore.jdbc.url=jdbc:oracle:thin:@x\n')


def test_pgpool_conf():
    conf = va.parse_pgpool_conf("backend_hostname0 = 'vidm1'\ndelegate_IP = '10.0.0.50'  # vip\n")
    assert conf['delegate_IP'] == '10.0.0.50'
    assert conf['backend_hostname0'] == 'vidm1'


def test_pgpass_line_escapes():
    assert va.pgpass_line('a:b\\c') == 'localhost:9999:*:pgpool:a\\:b\\\\c\n'


def test_health_doc_and_failures():
    doc = va.parse_health(json.dumps({'AllOk': 'true', 'ElasticsearchServiceOk': 'true',
                                      'ElasticsearchUnassignedShards': '0', 'EhCacheClusterPeers': '3'}))
    assert va.health_failures(doc) == {}
    assert va.health_failures(doc, expected_peers=2) == {'EhCacheClusterPeers': '3'}
    doc['AllOk'] = 'false'
    doc['ElasticsearchUnassignedShards'] = '4'
    assert va.health_failures(doc) == {'AllOk': 'false', 'ElasticsearchUnassignedShards': '4'}


def test_health_opensearch():
    doc = {'AllOk': 'true', 'OpenSearchServiceOk': 'true', 'OpenSearchUnassignedShards': '0'}
    assert va.health_failures(doc) == {}


def test_health_not_json():
    with pytest.raises(va.ApplianceError, match='not JSON'):
        va.parse_health('<html>')


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def clock(self):
        return self.now

    def pause(self, seconds):
        self.now += seconds


def test_wait_healthy_timeout_names_fields():
    clock = FakeClock()
    doc = {'AllOk': 'false', 'ElasticsearchServiceOk': 'false', 'ElasticsearchUnassignedShards': '5',
           'EhCacheClusterPeers': '2'}
    with pytest.raises(va.ApplianceError) as info:
        va.wait_healthy(lambda: (True, doc, None), 30, 5, expected_peers=3, clock=clock.clock, pause=clock.pause)
    msg = str(info.value)
    assert 'timed out after 30s' in msg
    for part in ('AllOk=false', 'ElasticsearchServiceOk=false', 'ElasticsearchUnassignedShards=5',
                 'EhCacheClusterPeers=2'):
        assert part in msg
    assert info.value.details['failing']['AllOk'] == 'false'
    assert clock.now == 30


def test_wait_healthy_after_down():
    clock = FakeClock()
    answers = [(False, None, 'HTTP 503'), (False, None, 'HTTP 503'),
               (True, {'AllOk': 'true', 'ElasticsearchServiceOk': 'true', 'ElasticsearchUnassignedShards': '0'}, None)]
    doc, seconds = va.wait_healthy(lambda: answers.pop(0), 60, 2, clock=clock.clock, pause=clock.pause)
    assert doc['AllOk'] == 'true'
    assert seconds == 4


def test_wait_healthy_down_names_heartbeat():
    clock = FakeClock()
    with pytest.raises(va.ApplianceError, match='heartbeat=HTTP 503'):
        va.wait_healthy(lambda: (False, None, 'HTTP 503'), 3, 1, clock=clock.clock, pause=clock.pause)


class FakeAppliance:
    """run() for the upgrade: vamicli, df, updatemgr, updateOffline, with a call log."""

    def __init__(self, version='3.3.6.0', free_kb=8 * 1024 * 1024, offered='3.3.7.0', check_text=None):
        self.version = version
        self.check_text = check_text
        self.free_kb = free_kb
        self.offered = offered
        self.calls = []

    def __call__(self, argv):
        self.calls.append(argv)
        name = argv[0].rsplit('/', 1)[-1]
        if name == 'vamicli':
            return 0, 'Version - %s Build 1\n' % self.version, ''
        if name == 'df':
            return 0, ('Filesystem 1024-blocks Used Available Capacity Mounted on\n'
                       '/dev/sda4 20971520 1 %d 50%% /\n' % self.free_kb), ''
        if name == 'updatemgr.hzn' and argv[1] == 'check':
            return 0, self.check_text or 'Update available: %s Build 2\n' % self.offered, ''
        return 0, 'ok\n', ''


def params(**kw):
    base = dict(target_version='3.3.7.0', source='online', bundle=None, checksum=None, min_free_mb=4096,
                free_space_path='/', updatemgr_path='/u/updatemgr.hzn', update_offline_path='/u/updateOffline.hzn',
                vamicli_path='/usr/sbin/vamicli', df_path='/bin/df')
    base.update(kw)
    return base


def test_upgrade_online_runs_the_sequence():
    run = FakeAppliance()
    result = va.upgrade(run, params())
    assert result['changed'] and result['reboot_required']
    assert [c[1] for c in run.calls if c[0].endswith('updatemgr.hzn')] == ['updateinstaller', 'check', 'update', 'check']


def test_upgrade_at_target_no_change():
    run = FakeAppliance(version='3.3.7.0')
    result = va.upgrade(run, params())
    assert not result['changed'] and result['plan'] == []
    assert len(run.calls) == 1


def test_upgrade_check_mode_runs_nothing():
    run = FakeAppliance()
    result = va.upgrade(run, params(), check_mode=True)
    assert result['changed'] and 'would upgrade' in result['msg']
    assert not [c for c in run.calls if 'updatemgr' in c[0]]


def test_upgrade_free_space_refused():
    run = FakeAppliance(free_kb=1024 * 1024)
    with pytest.raises(va.ApplianceError, match='only 1024 MB free on /, the upgrade needs 4096 MB'):
        va.upgrade(run, params())
    assert not [c for c in run.calls if 'update' in c[0]]


def test_upgrade_resumes_at_a_pending_restart():
    run = FakeAppliance(check_text='Update installed, reboot required.\n')
    result = va.upgrade(run, params())
    assert not result['changed'] and result['reboot_required']
    assert 'waits for its restart' in result['msg'] and 'diff' not in result
    assert ['/u/updatemgr.hzn', 'update'] not in run.calls


def test_upgrade_wrong_offer_refused():
    run = FakeAppliance(offered='3.3.8.0')
    with pytest.raises(va.ApplianceError, match='offers 3.3.8.0'):
        va.upgrade(run, params())
    assert ['/u/updatemgr.hzn', 'update'] not in run.calls


def test_upgrade_offline_checksum_mismatch(tmp_path):
    bundle = tmp_path / 'bundle.zip'
    bundle.write_bytes(b'bundle')
    run = FakeAppliance()
    with pytest.raises(va.ApplianceError, match='nothing was run') as info:
        va.upgrade(run, params(source='offline', bundle=str(bundle), checksum='0' * 64))
    assert info.value.details['bundle_sha256'] == hashlib.sha256(b'bundle').hexdigest()
    assert not [c for c in run.calls if 'update' in c[0]]


def test_upgrade_offline_ok(tmp_path):
    bundle = tmp_path / 'bundle.zip'
    bundle.write_bytes(b'bundle')
    run = FakeAppliance()
    result = va.upgrade(run, params(source='offline', bundle=str(bundle),
                                    checksum=hashlib.sha256(b'bundle').hexdigest().upper()))
    assert run.calls[-1] == ['/u/updateOffline.hzn', '-f', str(bundle)]
    assert result['reboot_required']


def test_keep_log(tmp_path):
    log = tmp_path / 'update.log'
    log.write_text('line\n')
    dest = va.keep_log(str(log), str(tmp_path / 'keep'), now=0)
    assert dest.endswith('update-19700101T000000.log')
    assert va.keep_log(str(tmp_path / 'missing'), str(tmp_path / 'keep')) is None
