# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/_vidm.py: tokens, 401 refresh, retries, media types, versions.

HTTP is faked at the client's ``opener`` (``open_url``'s signature).
"""

from __future__ import annotations

import base64
import io
import json
import urllib.error

import pytest

from ansible_collections.idmops.lifecycle.plugins.module_utils import _vidm
from ansible_collections.idmops.lifecycle.plugins.module_utils._vidm import VidmClient, VidmError

BASE = 'https://vidm.example.com'
SECRET = 'unit-client-secret'


class Response:
    def __init__(self, status, body):
        self.status = status
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()

    def getcode(self):
        return self.status

    def read(self):
        return self.body

    def close(self):
        pass


def http_error(url, status, body=b'{"errors":[{"message":"no"}]}'):
    return urllib.error.HTTPError(url, status, 'error', {}, io.BytesIO(body))


class FakeVidm:
    """Answers token requests with numbered tokens; API calls from a queue of (status, body)."""

    def __init__(self, answers=(), expires_in=3600):
        self.answers = list(answers)
        self.calls = []
        self.tokens = 0
        self.expires_in = expires_in

    def __call__(self, url, method=None, headers=None, data=None, **kwargs):
        self.calls.append(dict(url=url, method=method, headers=dict(headers or {}), data=data, kwargs=kwargs))
        if url.startswith(BASE + '/SAAS/auth/oauthtoken'):
            expected = 'Basic ' + base64.b64encode(('ansible:' + SECRET).encode()).decode()
            if headers.get('Authorization') != expected:
                raise http_error(url, 401, b'{"errors":[{"message":"invalid client"}]}')
            self.tokens += 1
            return Response(200, dict(access_token='t%d' % self.tokens, token_type='Bearer', expires_in=self.expires_in))
        if url == BASE + _vidm.LOGIN_PATH:
            self.tokens += 1
            return Response(200, dict(sessionToken='s%d' % self.tokens))
        status, body = self.answers.pop(0) if self.answers else (200, {'items': []})
        if status == 'down':
            raise urllib.error.URLError(body)
        if status >= 400:
            raise http_error(url, status, body if isinstance(body, bytes) else json.dumps(body).encode())
        return Response(status, body)

    def api_calls(self):
        return [c for c in self.calls if '/SAAS/auth/' not in c['url'] and '/REST/auth/' not in c['url']]


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def client(fake, clock=None, sleeps=None, **kwargs):
    kwargs.setdefault('client_id', 'ansible')
    kwargs.setdefault('client_secret', SECRET)
    return VidmClient(BASE, opener=fake, clock=clock or Clock(),
                      sleep=(sleeps.append if sleeps is not None else (lambda s: None)), **kwargs)


def test_token_is_cached_and_sent_as_bearer():
    fake = FakeVidm()
    c = client(fake)
    c.get('/x', media='directory_list')
    c.get('/y', media='directory_list')
    assert fake.tokens == 1
    assert [call['headers']['Authorization'] for call in fake.api_calls()] == ['Bearer t1', 'Bearer t1']
    token_call = fake.calls[0]
    assert token_call['method'] == 'POST'
    assert token_call['url'] == BASE + '/SAAS/auth/oauthtoken?grant_type=client_credentials'
    assert token_call['headers']['Content-Type'] == 'application/x-www-form-urlencoded'


def test_token_is_renewed_before_it_expires():
    fake = FakeVidm(expires_in=100)
    clock = Clock()
    c = client(fake, clock=clock)
    c.get('/x')
    clock.now += 60   # within EXPIRY_SKEW of the 100 s lifetime
    c.get('/x')
    assert fake.tokens == 1
    clock.now += 20
    c.get('/x')
    assert fake.tokens == 2
    assert fake.api_calls()[-1]['headers']['Authorization'] == 'Bearer t2'


def test_a_401_renews_the_token_once():
    fake = FakeVidm([(401, {'errors': []}), (200, {'items': [1]})])
    c = client(fake)
    assert c.get('/x') == {'items': [1]}
    assert fake.tokens == 2
    assert [call['headers']['Authorization'] for call in fake.api_calls()] == ['Bearer t1', 'Bearer t2']


def test_a_second_401_is_an_error():
    fake = FakeVidm([(401, b'denied'), (401, b'still denied')])
    with pytest.raises(VidmError) as info:
        client(fake).get('/x')
    assert info.value.status == 401
    assert info.value.body == 'still denied'
    assert fake.tokens == 2


def test_a_bad_secret_fails_clearly_without_the_secret():
    fake = FakeVidm()
    with pytest.raises(VidmError) as info:
        client(fake, client_secret='wrong-secret').get('/x')
    assert 'OAuth2 token request failed: HTTP 401' in str(info.value)
    assert 'wrong-secret' not in str(info.value) and 'wrong-secret' not in repr(info.value.to_result())
    assert fake.api_calls() == []


def test_5xx_is_retried_with_backoff_then_succeeds():
    sleeps = []
    fake = FakeVidm([(503, b'busy'), (502, b'gateway'), (200, {'ok': True})])
    assert client(fake, sleeps=sleeps, retries=3).get('/x') == {'ok': True}
    assert sleeps == [1.0, 2.0]


def test_5xx_retries_are_bounded_and_the_error_carries_status_and_body():
    sleeps = []
    fake = FakeVidm([(503, b'busy')] * 5)
    with pytest.raises(VidmError) as info:
        client(fake, sleeps=sleeps, retries=2).get('/x')
    assert sleeps == [1.0, 2.0]
    assert len(fake.api_calls()) == 3
    assert info.value.status == 503 and info.value.body == 'busy'
    assert '3 attempt(s)' in str(info.value)


def test_connection_errors_are_retried_and_backoff_is_capped():
    sleeps = []
    fake = FakeVidm([('down', 'refused')] * 6)
    with pytest.raises(VidmError) as info:
        client(fake, sleeps=sleeps, retries=5).get('/x')
    assert sleeps == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert info.value.status is None and 'refused' in str(info.value)


def test_4xx_is_not_retried():
    sleeps = []
    fake = FakeVidm([(400, b'unknown field')])
    with pytest.raises(VidmError) as info:
        client(fake, sleeps=sleeps).get('/x')
    assert sleeps == [] and info.value.status == 400 and 'unknown field' in str(info.value)


def test_vendor_media_types_for_accept_and_content_type():
    fake = FakeVidm([(200, {})])
    client(fake).put('/d/1', {'useStartTls': False}, media='directory')
    call = fake.api_calls()[0]
    media = 'application/vnd.vmware.horizon.manager.connector.management.directory.details+json'
    assert call['headers']['Accept'] == media
    assert call['headers']['Content-Type'] == media
    assert json.loads(call['data']) == {'useStartTls': False}


def test_plain_json_media_types():
    fake = FakeVidm([(200, {})])
    client(fake, media_type='json').post('/s', {'a': 1}, media='sync')
    call = fake.api_calls()[0]
    assert call['headers']['Accept'] == call['headers']['Content-Type'] == 'application/json'


def test_tls_and_timeout_options_reach_open_url():
    fake = FakeVidm([(200, {})])
    client(fake, validate_certs=False, ca_path='/etc/ca.pem', timeout=7).get('/x')
    kwargs = fake.api_calls()[0]['kwargs']
    assert kwargs['validate_certs'] is False and kwargs['ca_path'] == '/etc/ca.pem' and kwargs['timeout'] == 7


def test_system_login_sends_hzn():
    fake = FakeVidm([(200, {})])
    c = client(fake, auth_method='system', username='admin', password='pw', client_id=None, client_secret=None)
    c.get('/x')
    login = fake.calls[0]
    assert json.loads(login['data']) == {'username': 'admin', 'password': 'pw', 'issueToken': 'true'}
    assert fake.api_calls()[0]['headers']['Authorization'] == 'HZN s1'


def test_system_login_reads_the_jwt_expiry():
    payload = base64.urlsafe_b64encode(json.dumps({'exp': 2000}).encode()).decode().rstrip('=')
    assert _vidm._jwt_expiry('h.%s.s' % payload) == 2000.0
    assert _vidm._jwt_expiry('not-a-jwt') is None


@pytest.mark.parametrize('kwargs, message', [
    (dict(client_secret=None), 'client_id and client_secret'),
    (dict(auth_method='system', username='admin'), 'username and password'),
    (dict(timeout=0), 'timeout'),
    (dict(retries=-1), 'retries'),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(VidmError, match=message):
        client(FakeVidm(), **kwargs)


@pytest.mark.parametrize('value, url', [
    ('vidm.example.com', 'https://vidm.example.com'),
    ('https://vidm.example.com/', 'https://vidm.example.com'),
    ('http://127.0.0.1:8080', 'http://127.0.0.1:8080'),
])
def test_base_url(value, url):
    assert _vidm.normalize_base_url(value) == url


def test_base_url_rejects_other_schemes():
    with pytest.raises(VidmError):
        _vidm.normalize_base_url('ftp://x')


@pytest.mark.parametrize('version, ok', [
    ('19.03.0.0', True), ('19.03.0.1', True), ('20.10', True), ('23.09.0.0', True),
    ('19.02.9', False), ('2018.8.1.0', False), ('2017.12.1.0', False), ('', False), ('n/a', False), (None, False),
])
def test_version_at_least_19_03(version, ok):
    assert _vidm.version_at_least(version, _vidm.MIN_SYNC_CONNECTOR_VERSION) is ok


def test_collisions_are_same_lists_in_same_order():
    lists = {'a': ['c1', 'c2'], 'b': ['c1', 'c2'], 'c': ['c2', 'c1'], 'd': [], 'e': []}
    assert _vidm.collisions(lists) == [dict(connectors=['c1', 'c2'], directories=['a', 'b'])]


def test_start_tls_on_iwa_is_refused_before_any_call():
    fake = FakeVidm()
    dirs = [dict(directoryId='1', name='corp', type=_vidm.IWA)]
    with pytest.raises(VidmError, match='refusing'):
        _vidm.set_start_tls(client(fake), dirs, True)
    assert fake.calls == []


def test_start_tls_check_mode_only_reads():
    fake = FakeVidm([(200, dict(directoryId='1', name='corp', type=_vidm.IWA, useStartTls=True))])
    dirs = [dict(directoryId='1', name='corp', type=_vidm.IWA)]
    result = _vidm.set_start_tls(client(fake), dirs, False, check_mode=True)
    assert result[0]['changed'] and result[0]['before'] == {'useStartTls': True}
    assert [c['method'] for c in fake.api_calls()] == ['GET']
