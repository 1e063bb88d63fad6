# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/_lb/f5.py (the HTTP layer is a fake).

Bodies follow iControl REST ``ltm pool`` / ``ltm pool members`` (``session``, ``state``,
``monitor``) and the member ``/stats`` answer (``entries`` > ``nestedStats`` > ``serverside.curConns``).
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.idmops.lifecycle.plugins.module_utils._lb import BACKENDS, ensure_monitors
from ansible_collections.idmops.lifecycle.plugins.module_utils._lb import f5
from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.base import LBError, ensure_member_state
from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.http import LBHTTPError

POOL = '/mgmt/tm/ltm/pool/~Common~vidm_pool'
MEMBER = POOL + '/members/~Common~10.0.0.11:443'


def stats(n):
    link = 'https://localhost' + MEMBER + '/stats'
    return {'kind': 'tm:ltm:pool:members:membersstats', 'entries': {link: {'nestedStats': {'entries': {
        'serverside.curConns': {'value': n}, 'status.availabilityState': {'description': 'available'}}}}}}


class FakeF5:
    def __init__(self, sessions=(0,), error=None):
        self.member = {'name': '10.0.0.11:443', 'address': '10.0.0.11', 'session': 'monitor-enabled', 'state': 'up'}
        self.pool = {'name': 'vidm_pool', 'monitor': '/Common/http and /Common/tcp'}
        self.sessions = list(sessions)
        self.error = error
        self.calls = []

    def request(self, method, path, body=None):
        self.calls.append((method, path, copy.deepcopy(body)))
        if self.error:
            raise self.error
        if path == MEMBER + '/stats':
            return stats(self.sessions.pop(0) if len(self.sessions) > 1 else self.sessions[0])
        if path == MEMBER:
            if method == 'PATCH':
                self.member['session'] = 'monitor-enabled' if body['session'] == 'user-enabled' else 'user-disabled'
                self.member['state'] = 'user-down' if body['state'] == 'user-down' else 'up'
            return dict(self.member)
        if path == POOL:
            if method == 'PATCH':
                if body['monitor'] == 'none':
                    self.pool.pop('monitor', None)
                else:
                    self.pool['monitor'] = body['monitor']
            return dict(self.pool)
        raise LBHTTPError(method, 'https://bigip' + path, 404, '{"code": 404}')


def test_registered():
    assert BACKENDS['f5'] is f5.F5Backend


@pytest.mark.parametrize('session, state, admin', [
    ('monitor-enabled', 'up', 'enabled'), ('user-enabled', 'unchecked', 'enabled'),
    ('user-disabled', 'up', 'drained'), ('user-disabled', 'user-down', 'disabled')])
def test_get_member(session, state, admin):
    fake = FakeF5(sessions=(6,))
    fake.member.update(session=session, state=state)
    member = f5.F5Backend(fake).get_member('vidm_pool', '10.0.0.11:443')
    assert member.admin_state == admin
    assert member.operational_status == state
    assert member.current_sessions == 6


@pytest.mark.parametrize('state, body', [
    ('enabled', {'session': 'user-enabled', 'state': 'user-up'}),
    ('drained', {'session': 'user-disabled', 'state': 'user-up'}),
    ('disabled', {'session': 'user-disabled', 'state': 'user-down'})])
def test_set_admin_state(state, body):
    fake = FakeF5()
    f5.F5Backend(fake).set_admin_state('vidm_pool', '10.0.0.11:443', state)
    assert fake.calls == [('PATCH', MEMBER, body)]


def test_partition_in_path():
    fake = FakeF5()
    with pytest.raises(LBError, match="partition 'Tenant'"):
        f5.F5Backend(fake, partition='Tenant').get_member('vidm_pool', '10.0.0.11:443')
    assert fake.calls[0][1] == '/mgmt/tm/ltm/pool/~Tenant~vidm_pool/members/~Tenant~10.0.0.11:443'


def test_unknown_member_and_pool():
    with pytest.raises(LBError, match=r"member='10.0.0.99:443': BIG-IP pool /Common/vidm_pool has no member"):
        f5.F5Backend(FakeF5()).get_member('vidm_pool', '10.0.0.99:443')
    with pytest.raises(LBError, match=r"pool='nope': BIG-IP has no pool"):
        f5.F5Backend(FakeF5()).get_member('nope', '10.0.0.11:443')


def test_401():
    fake = FakeF5(error=LBHTTPError('GET', 'https://bigip' + MEMBER, 401, '{"code": 401}'))
    with pytest.raises(LBHTTPError) as exc:
        f5.F5Backend(fake).get_member('vidm_pool', '10.0.0.11:443')
    assert exc.value.status == 401


def test_drain_timeout_names_member_and_connections():
    ticks = iter(range(100))
    with pytest.raises(LBError) as exc:
        ensure_member_state(f5.F5Backend(FakeF5(sessions=(2,))), 'vidm_pool', '10.0.0.11:443', 'drained',
                            drain_timeout=2, wait_sleep=1, clock=lambda: next(ticks), pause=lambda s: None)
    assert "F5 pool '/Common/vidm_pool' member '10.0.0.11:443' still has 2 current connection(s)" in str(exc.value)
    assert exc.value.result['state'] == 'drained'


def test_enable_waits_for_up():
    fake = FakeF5()
    fake.member.update(session='user-disabled', state='user-down')
    result = ensure_member_state(f5.F5Backend(fake), 'vidm_pool', '10.0.0.11:443', 'enabled', wait_sleep=0,
                                 pause=lambda s: None)
    assert result['changed'] is True
    assert result['member']['operational_status'] == 'up'


def test_monitors_off_and_back():
    fake = FakeF5()
    b = f5.F5Backend(fake)
    off = ensure_monitors(b, 'vidm_pool', 'disabled')
    assert off == dict(changed=True, previous_monitors=['/Common/http', '/Common/tcp'], monitors=[])
    assert ('PATCH', POOL, {'monitor': 'none'}) in fake.calls
    assert ensure_monitors(b, 'vidm_pool', 'disabled')['changed'] is False
    on = ensure_monitors(b, 'vidm_pool', 'enabled', off['previous_monitors'])
    assert on['changed'] is True
    assert fake.pool['monitor'] == '/Common/http and /Common/tcp'
    assert ensure_monitors(b, 'vidm_pool', 'enabled', off['previous_monitors'])['changed'] is False


def test_min_rule_kept_whole():
    fake = FakeF5()
    fake.pool['monitor'] = 'min 1 of { /Common/http /Common/tcp }'
    assert f5.F5Backend(fake).get_monitors('vidm_pool') == ['min 1 of { /Common/http /Common/tcp }']
