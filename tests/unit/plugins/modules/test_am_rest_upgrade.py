# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/modules/am_rest_upgrade.py: arguments, check mode, results.

HTTP is faked at ``_am_rest.open_url``.
"""

from __future__ import annotations

import io
import urllib.error

import pytest

from ansible_collections.idmops.lifecycle.plugins.module_utils import _am_rest
from ansible_collections.idmops.lifecycle.plugins.modules import am_rest_upgrade
from ansible_collections.idmops.lifecycle.tests.unit.plugins.modules.utils import run_main


BASE = 'http://127.0.0.1:8080/am'
READY = BASE + '/json/health/ready'
UPGRADE = BASE + '/config/upgrade/upgrade.htm?actionLink=doUpgrade&actionLink=saveReport&acceptLicense=true'


class FakeResponse:
    def __init__(self, status, body):
        self.status, self.body = status, body

    def getcode(self):
        return self.status

    def read(self):
        return self.body

    def close(self):
        pass


class FakeAM:
    """An AM that is ready or not and answers the upgrade with a fixed body."""

    def __init__(self, ready=False, body=b'true'):
        self.ready = ready
        self.body = body
        self.calls = []

    def __call__(self, url, **kwargs):
        self.calls.append(url)
        if url == READY:
            if self.ready:
                return FakeResponse(200, b'')
            raise urllib.error.HTTPError(url, 503, 'Service Unavailable', {}, io.BytesIO(b''))
        if url == UPGRADE:
            if self.body == b'true':
                self.ready = True
            return FakeResponse(200, self.body)
        raise AssertionError('unexpected URL %s' % url)


@pytest.fixture
def am(monkeypatch):
    fake = FakeAM()
    monkeypatch.setattr(_am_rest, 'open_url', fake)
    return fake


def run_module(args):
    return run_main(am_rest_upgrade.main, args)


def test_upgrade_then_unchanged(am):
    result, failed = run_module(dict(base_url=BASE + '/'))
    assert not failed, result['msg']
    assert result['changed'] is True
    assert (result['status'], result['body'], result['url']) == (200, 'true', UPGRADE)
    assert am.calls == [READY, UPGRADE]
    result, failed = run_module(dict(base_url=BASE))
    assert not failed
    assert result['changed'] is False and result['ready_before'] is True
    assert am.calls == [READY, UPGRADE, READY]


def test_false_body_fails(am):
    am.body = b'false\n'
    result, failed = run_module(dict(base_url=BASE))
    assert failed
    assert "HTTP 200 with body 'false\\n'" in result['msg']
    assert result['status'] == 200 and result['body'] == 'false\n'


def test_check_mode(am):
    result, failed = run_module(dict(base_url=BASE, _ansible_check_mode=True))
    assert not failed
    assert result['changed'] is True and result['msg'].startswith('would GET')
    assert am.calls == [READY]


def test_wait_ready(am):
    result, failed = run_module(dict(base_url=BASE, wait_ready=True, ready_timeout=5, wait_sleep=0.1))
    assert not failed
    assert result['ready_seconds'] is not None
    assert am.calls == [READY, UPGRADE, READY]


@pytest.mark.parametrize('args, words', [
    (dict(base_url='am.example.com/am'), 'base_url must be an http'),
    (dict(base_url=BASE, timeout=0), 'timeout must be positive'),
    (dict(), 'missing required arguments: base_url'),
])
def test_bad_arguments(am, args, words):
    result, failed = run_module(args)
    assert failed and words in result['msg']
    assert am.calls == []
