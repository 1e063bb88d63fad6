# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/_lb/nsxt.py and _lb/http.py (the HTTP layer is a fake).

The pool bodies follow the NSX-T Policy API LBPool object (members with display_name,
ip_address, port, admin_state; _revision; active_monitor_paths) and the realtime statistics
answer of ``/infra/lb-services/<svc>/lb-pools/<pool>/statistics``.
"""

from __future__ import annotations

import copy
import io
import json
import urllib.error

import pytest

from ansible_collections.idmops.lifecycle.plugins.module_utils._lb import BACKENDS, backend_from_params, ensure_monitors
from ansible_collections.idmops.lifecycle.plugins.module_utils._lb import nsxt
from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.base import LBError, ensure_member_state
from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.http import JSONClient, LBHTTPError
from ansible_collections.idmops.lifecycle.plugins.modules import lb_pool_member
from ansible_collections.idmops.lifecycle.tests.unit.plugins.modules.utils import fail_result, patch_module_exits

POOL_PATH = '/policy/api/v1/infra/lb-pools/vidm-pool'
STATS_PATH = '/policy/api/v1/infra/lb-services/vidm-lb/lb-pools/vidm-pool/statistics?source=realtime'
MONITOR = '/infra/lb-monitor-profiles/default-https-lb-monitor'


def pool_body(admin_state='ENABLED', revision=3):
    return {
        'id': 'vidm-pool', 'display_name': 'vidm-pool', '_revision': revision,
        'active_monitor_paths': [MONITOR],
        'members': [
            {'display_name': 'vidm1', 'ip_address': '10.0.0.11', 'port': '443', 'admin_state': admin_state},
            {'display_name': 'vidm2', 'ip_address': '10.0.0.12', 'port': '443', 'admin_state': 'ENABLED'},
        ],
    }


class FakeNSX:
    """``request(method, path, body)`` like JSONClient, against one pool; scripted 412s and errors."""

    def __init__(self, conflicts=0, sessions=(0,), error=None):
        self.pool = pool_body()
        self.conflicts = conflicts
        self.sessions = list(sessions)
        self.error = error
        self.calls = []

    def request(self, method, path, body=None):
        self.calls.append((method, path, copy.deepcopy(body)))
        if self.error:
            raise self.error
        if path == STATS_PATH and method == 'GET':
            n = self.sessions.pop(0) if len(self.sessions) > 1 else self.sessions[0]
            return {'results': [{'statistics': {'pool_id': 'vidm-pool', 'members': [
                {'ip_address': '10.0.0.11', 'port': '443', 'statistics': {'current_sessions': n}},
                {'ip_address': '10.0.0.12', 'port': '443', 'statistics': {'current_sessions': 9}},
            ]}}]}
        if path != POOL_PATH:
            raise LBHTTPError(method, 'https://nsx' + path, 404, '{"error_message": "not found"}')
        if method == 'GET':
            return copy.deepcopy(self.pool)
        assert method == 'PATCH'
        if self.conflicts:
            self.conflicts -= 1
            self.pool['_revision'] += 1  # somebody else wrote
            raise LBHTTPError(method, 'https://nsx' + path, 412, '{"error_code": 602}')
        assert body['_revision'] == self.pool['_revision']
        self.pool.update({k: v for k, v in body.items() if k != '_revision'})
        self.pool['_revision'] += 1
        return None


def backend(fake, lb_service='vidm-lb'):
    return nsxt.NSXTBackend(fake, lb_service=lb_service)


def test_registered():
    assert BACKENDS['nsxt'] is nsxt.NSXTBackend


def test_from_params_builds_client():
    b = backend_from_params(dict(backend='nsxt', api_url='https://nsx/', api_user='u', api_password='p',
                                 validate_certs=False, ca_path=None, timeout=7.0, nsxt_lb_service='svc'))
    assert isinstance(b, nsxt.NSXTBackend)
    assert b.client.base_url == 'https://nsx'
    assert b.client.validate_certs is False
    assert b.client.timeout == 7.0
    assert b.lb_service == 'svc'


@pytest.mark.parametrize('nsx_state, state', [('ENABLED', 'enabled'), ('GRACEFUL_DISABLED', 'drained'),
                                              ('DISABLED', 'disabled')])
def test_get_member_maps_admin_state(nsx_state, state):
    fake = FakeNSX(sessions=(4,))
    fake.pool['members'][0]['admin_state'] = nsx_state
    member = backend(fake).get_member('vidm-pool', 'vidm1')
    assert member.admin_state == state
    assert member.operational_status == nsx_state
    assert member.current_sessions == 4
    assert member.raw['revision'] == 3


def test_member_by_ip_port():
    assert backend(FakeNSX()).get_member('vidm-pool', '10.0.0.12:443').raw['ip_address'] == '10.0.0.12'


def test_no_lb_service_reads_no_stats():
    fake = FakeNSX()
    member = backend(fake, lb_service=None).get_member('vidm-pool', 'vidm1')
    assert member.raw['sessions_known'] is False
    assert [c[1] for c in fake.calls] == [POOL_PATH]


def test_set_patches_whole_members_with_revision():
    fake = FakeNSX()
    backend(fake).set_admin_state('vidm-pool', 'vidm1', 'drained')
    patch = [c for c in fake.calls if c[0] == 'PATCH']
    assert patch == [('PATCH', POOL_PATH, {'_revision': 3, 'members': [
        dict(pool_body()['members'][0], admin_state='GRACEFUL_DISABLED'), pool_body()['members'][1]]})]
    assert fake.pool['members'][0]['admin_state'] == 'GRACEFUL_DISABLED'


def test_412_is_retried_with_a_fresh_revision():
    fake = FakeNSX(conflicts=2)
    backend(fake).set_admin_state('vidm-pool', 'vidm1', 'disabled')
    revisions = [c[2]['_revision'] for c in fake.calls if c[0] == 'PATCH']
    assert revisions == [3, 4, 5]
    assert fake.pool['members'][0]['admin_state'] == 'DISABLED'


def test_412_exhausted_names_pool_and_member():
    fake = FakeNSX(conflicts=100)
    with pytest.raises(LBError) as exc:
        backend(fake).set_admin_state('vidm-pool', 'vidm1', 'disabled')
    assert len([c for c in fake.calls if c[0] == 'PATCH']) == nsxt.MAX_ATTEMPTS
    assert "pool 'vidm-pool'" in str(exc.value)
    assert "member 'vidm1'" in str(exc.value)
    assert '412' in str(exc.value)


def test_401_carries_status():
    fake = FakeNSX(error=LBHTTPError('GET', 'https://nsx' + POOL_PATH, 401, '{"error_code": 403}'))
    with pytest.raises(LBHTTPError) as exc:
        backend(fake).get_member('vidm-pool', 'vidm1')
    assert exc.value.status == 401
    assert 'HTTP 401' in str(exc.value)


def test_unknown_pool_and_member():
    with pytest.raises(LBError, match="pool='nope': NSX-T has no load-balancer pool"):
        backend(FakeNSX()).get_member('nope', 'vidm1')
    with pytest.raises(LBError, match=r"member='vidm9'.*its members: vidm1, vidm2"):
        backend(FakeNSX()).get_member('vidm-pool', 'vidm9')


def test_drain_timeout_names_member_and_sessions():
    fake = FakeNSX(sessions=(5, 4, 3))
    ticks = iter(range(100))
    with pytest.raises(LBError) as exc:
        ensure_member_state(backend(fake), 'vidm-pool', 'vidm1', 'drained', drain_timeout=2, wait_sleep=1,
                            clock=lambda: next(ticks), pause=lambda s: None)
    assert "NSX-T pool 'vidm-pool' member 'vidm1' still has 3 current session(s)" in str(exc.value)
    assert exc.value.result['changed'] is True
    assert exc.value.result['state'] == 'drained'


def test_drain_completes():
    fake = FakeNSX(sessions=(2, 1, 0))
    result = ensure_member_state(backend(fake), 'vidm-pool', 'vidm1', 'drained', drain_timeout=30, wait_sleep=0,
                                 pause=lambda s: None)
    assert result['changed'] is True
    assert result['member']['current_sessions'] == 0


def test_monitors_off_and_back():
    fake = FakeNSX()
    b = backend(fake)
    off = ensure_monitors(b, 'vidm-pool', 'disabled')
    assert off == dict(changed=True, previous_monitors=[MONITOR], monitors=[])
    assert fake.pool['active_monitor_paths'] == []
    assert ensure_monitors(b, 'vidm-pool', 'disabled')['changed'] is False
    with pytest.raises(LBError, match='monitor_paths'):
        ensure_monitors(b, 'vidm-pool', 'enabled')
    on = ensure_monitors(b, 'vidm-pool', 'enabled', off['previous_monitors'])
    assert on['changed'] is True
    assert fake.pool['active_monitor_paths'] == [MONITOR]


def test_monitors_check_mode_writes_nothing():
    fake = FakeNSX()
    result = ensure_monitors(backend(fake), 'vidm-pool', 'disabled', check_mode=True)
    assert result['changed'] is True
    assert not [c for c in fake.calls if c[0] == 'PATCH']


# ---------------------------------------------------------------- the HTTP client


class FakeResponse(io.BytesIO):
    status = 200


def test_client_sends_json_basic_auth_and_tls_options():
    seen = {}

    def opener(url, **kwargs):
        seen.update(kwargs, url=url)
        return FakeResponse(b'{"ok": true}')

    client = JSONClient('https://nsx/', 'admin', 's3cret', validate_certs=True, ca_path='/ca.pem', timeout=3,
                        opener=opener)
    assert client.request('PATCH', '/x', {'a': 1}) == {'ok': True}
    assert seen['url'] == 'https://nsx/x'
    assert json.loads(seen['data']) == {'a': 1}
    assert seen['headers']['Content-Type'] == 'application/json'
    assert seen['url_username'] == 'admin' and seen['url_password'] == 's3cret' and seen['force_basic_auth']
    assert seen['validate_certs'] is True and seen['ca_path'] == '/ca.pem' and seen['timeout'] == 3


def test_client_http_error_carries_status_and_body_not_password():
    def opener(url, **kwargs):
        raise urllib.error.HTTPError(url, 401, 'Unauthorized', {}, io.BytesIO(b'{"error_code": 403}'))

    with pytest.raises(LBHTTPError) as exc:
        JSONClient('https://nsx', 'admin', 's3cret', opener=opener).request('GET', '/x')
    assert exc.value.status == 401
    assert exc.value.body == '{"error_code": 403}'
    assert 's3cret' not in str(exc.value)


def test_client_connection_error():
    def opener(url, **kwargs):
        raise urllib.error.URLError('Connection refused')

    with pytest.raises(LBHTTPError, match='GET https://nsx/x failed: Connection refused') as exc:
        JSONClient('https://nsx', 'u', 'p', opener=opener).request('GET', '/x')
    assert exc.value.status is None


# ---------------------------------------------------------------- the module


def test_module_requires_api_options_for_nsxt(monkeypatch, tmp_path):
    patch_module_exits(monkeypatch, tmp_path)
    result = fail_result(lb_pool_member.main, dict(backend='nsxt', pool='p', member='m', state='enabled'))
    assert 'api_url' in result['msg'] and 'api_password' in result['msg']


def test_module_drain_needs_lb_service(monkeypatch, tmp_path):
    patch_module_exits(monkeypatch, tmp_path)
    result = fail_result(lb_pool_member.main, dict(backend='nsxt', pool='p', member='m', state='drained',
                                                   api_url='https://nsx', api_user='u', api_password='p'))
    assert 'nsxt_lb_service' in result['msg']


def test_module_haproxy_monitors_not_supported(monkeypatch, tmp_path):
    patch_module_exits(monkeypatch, tmp_path)
    result = fail_result(lb_pool_member.main, dict(backend='haproxy', pool='p', monitors='disabled',
                                                   haproxy_socket=str(tmp_path / 'none.sock')))
    assert 'haproxy backend does not support' in result['msg']
