# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/_am_rest.py with a fake HTTP opener (no network)."""

from __future__ import annotations

import functools
import io
import urllib.error

import pytest

from ansible_collections.idmops.lifecycle.plugins.module_utils._am_rest import (
    AmRestError,
    RestUpgrade,
    default_ready_url,
    normalize_base_url,
    upgrade_url,
)
from ansible_collections.idmops.lifecycle.plugins.module_utils._tomcat import HttpReadiness


BASE = 'http://am1.example.com:8080/am'
UPGRADE = BASE + '/config/upgrade/upgrade.htm?actionLink=doUpgrade&actionLink=saveReport&acceptLicense=true'
READY = BASE + '/json/health/ready'


class FakeResponse:
    def __init__(self, status, body=b''):
        self.status = status
        self.body = body

    def getcode(self):
        return self.status

    def read(self):
        return self.body

    def close(self):
        pass


def http_error(url, code, body=b'', headers=None):
    return urllib.error.HTTPError(url, code, 'status %d' % code, headers or {}, io.BytesIO(body))


class FakeAM:
    """Answers per URL from queues of outcomes (a status, ``(status, body)`` or an exception)."""

    def __init__(self, answers):
        self.answers = {url: list(outcomes) for url, outcomes in answers.items()}
        self.calls = []

    def __call__(self, url, **kwargs):
        self.calls.append((url, kwargs))
        outcomes = self.answers[url]
        outcome = outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        status, body = outcome if isinstance(outcome, tuple) else (outcome, b'')
        if status >= 400:
            raise http_error(url, status, body)
        return FakeResponse(status, body)

    def urls(self):
        return [url for url, _kwargs in self.calls]


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def pause(self, seconds):
        self.now += seconds


def rest(fake, **kwargs):
    clock = FakeClock()
    readiness = functools.partial(HttpReadiness, clock=clock, pause=clock.pause)
    return RestUpgrade(kwargs.pop('base_url', BASE), opener=fake, readiness_class=readiness, **kwargs)


# --- URLs ---------------------------------------------------------------------------------

def test_urls():
    assert upgrade_url(BASE + '/') == UPGRADE
    assert default_ready_url(BASE + '//') == READY
    assert normalize_base_url('https://am:8443/am') == 'https://am:8443/am'


@pytest.mark.parametrize('bad', ['am1:8080/am', 'ftp://am/am', 'http://', 'http://am/am?x=1', 'http://am/am#top', ''])
def test_bad_base_url(bad):
    with pytest.raises(AmRestError, match='base_url'):
        RestUpgrade(bad, opener=FakeAM({}))


def test_bad_ready_url_and_timeouts():
    with pytest.raises(AmRestError, match='ready_url must be an http'):
        RestUpgrade(BASE, ready_url='/json/health/ready', opener=FakeAM({}))
    with pytest.raises(AmRestError, match='timeout must be positive'):
        RestUpgrade(BASE, timeout=0, opener=FakeAM({}))
    with pytest.raises(AmRestError, match='ready_timeout must be positive'):
        RestUpgrade(BASE, ready_timeout=-1, opener=FakeAM({}))
    with pytest.raises(AmRestError, match='wait_sleep must be positive'):
        RestUpgrade(BASE, wait_sleep=0, opener=FakeAM({}))


# --- the upgrade --------------------------------------------------------------------------

def test_ready_before_means_nothing_to_do():
    fake = FakeAM({READY: [200]})
    result = rest(fake).run()
    assert result['changed'] is False
    assert result['ready_before'] is True
    assert result['status'] is None and result['body'] is None
    assert fake.urls() == [READY]
    assert 'no upgrade needed' in result['msg']


@pytest.mark.parametrize('body', [b'true', b'true\n', b'  true \r\n'])
def test_true_body_is_success(body):
    fake = FakeAM({READY: [503], UPGRADE: [(200, body)]})
    result = rest(fake).run()
    assert result['changed'] is True
    assert result['ready_before'] is False
    assert result['status'] == 200
    assert fake.urls() == [READY, UPGRADE]
    kwargs = fake.calls[1][1]
    assert kwargs['method'] == 'GET' and kwargs['follow_redirects'] == 'none'
    assert kwargs['timeout'] == 600 and kwargs['validate_certs'] is True


@pytest.mark.parametrize('outcome, words', [
    ((200, b'false'), ["HTTP 200 with body 'false'"]),
    ((200, b''), ["HTTP 200 with body ''"]),
    ((200, b'True'), ["body 'True'"]),
    ((200, b'<html>upgrade wizard</html>'), ['<html>upgrade wizard</html>']),
    ((201, b'true'), ['HTTP 201']),
    ((500, b'Internal error: upgrade failed'), ['HTTP 500', 'Internal error: upgrade failed']),
    ((404, b''), ['HTTP 404']),
])
def test_anything_but_true_fails_with_status_and_body(outcome, words):
    fake = FakeAM({READY: [503], UPGRADE: [outcome]})
    with pytest.raises(AmRestError) as info:
        rest(fake).run()
    message = str(info.value)
    assert 'upgrade over REST failed: GET %s' % UPGRADE in message
    for word in words:
        assert word in message
    assert info.value.result['status'] == outcome[0]
    assert info.value.result['body'] == outcome[1].decode()


def test_redirect_is_not_followed_and_named():
    redirect = http_error('http://am1.example.com:8080/am/XUI/', 302, b'',
                          headers={'Location': 'http://am1.example.com:8080/am/XUI/'})
    fake = FakeAM({READY: [503], UPGRADE: [redirect]})
    with pytest.raises(AmRestError) as info:
        rest(fake).run()
    assert 'HTTP 302' in str(info.value)
    assert 'redirect to http://am1.example.com:8080/am/XUI/' in str(info.value)


def test_unreachable_am_fails_naming_the_url():
    refused = urllib.error.URLError(ConnectionRefusedError(111, 'Connection refused'))
    fake = FakeAM({READY: [refused], UPGRADE: [refused]})
    with pytest.raises(AmRestError, match='GET .*upgrade.htm.* failed: .*Connection refused') as info:
        rest(fake).run()
    assert info.value.result['ready_before'] is False
    fake = FakeAM({READY: [503], UPGRADE: [TimeoutError('timed out')]})
    with pytest.raises(AmRestError, match='failed: timed out'):
        rest(fake).run()


def test_long_body_is_shortened():
    body = b'x' * 5000
    fake = FakeAM({READY: [503], UPGRADE: [(200, body)]})
    with pytest.raises(AmRestError) as info:
        rest(fake).run()
    assert info.value.result['body'].endswith('... (5000 characters in all)')
    assert len(str(info.value)) < 1000


def test_check_mode_does_not_call_the_endpoint():
    fake = FakeAM({READY: [503]})
    result = rest(fake, check_mode=True).run()
    assert result['changed'] is True
    assert result['msg'].startswith('would GET %s' % UPGRADE)
    assert fake.urls() == [READY]
    fake = FakeAM({READY: [200]})
    assert rest(fake, check_mode=True).run()['changed'] is False


def test_wait_ready_after_the_upgrade():
    fake = FakeAM({READY: [503, 503, 503, 200], UPGRADE: [(200, b'true')]})
    result = rest(fake, wait_ready=True, ready_timeout=30, wait_sleep=2).run()
    assert result['changed'] is True
    assert result['ready_seconds'] == 4.0
    assert fake.urls() == [READY, UPGRADE, READY, READY, READY]


def test_wait_ready_timeout_names_the_bound():
    fake = FakeAM({READY: [503], UPGRADE: [(200, b'true')]})
    with pytest.raises(AmRestError) as info:
        rest(fake, wait_ready=True, ready_timeout=5).run()
    assert 'answered true, but AM did not become ready' in str(info.value)
    assert 'timed out after 5s' in str(info.value) and 'HTTP 503' in str(info.value)
    assert info.value.result['changed'] is True


def test_tls_options_reach_every_request():
    fake = FakeAM({'https://am:8443/am/json/health/ready': [503],
                   'https://am:8443/am/config/upgrade/upgrade.htm?' + UPGRADE.split('?')[1]: [(200, b'true')]})
    rest(fake, base_url='https://am:8443/am', validate_certs=False, ca_path='/etc/ca.pem').run()
    for _url, kwargs in fake.calls:
        assert kwargs['ca_path'] == '/etc/ca.pem'
        assert kwargs['validate_certs'] is False


def test_custom_ready_url():
    ready = 'http://127.0.0.1:8080/am/json/serverinfo/version'
    fake = FakeAM({ready: [200]})
    result = rest(fake, ready_url=ready).run()
    assert result['ready_url'] == ready and result['changed'] is False
