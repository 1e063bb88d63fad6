# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the vIDM REST simulator (tests/simulators/vidm_sim.py), over HTTP on 127.0.0.1.

The script is imported by path and served in a thread for each test, so every test starts
from the seeded state.
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import os
import threading
import urllib.error
import urllib.request

import pytest


SIM = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..', 'simulators', 'vidm_sim.py'))
CM = '/SAAS/jersey/manager/api/connectormanagement'
V = 'application/vnd.vmware.horizon.manager.'


def load_sim():
    spec = importlib.util.spec_from_file_location('vidm_sim_under_test', SIM)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sim = load_sim()


@pytest.fixture
def base():
    args = argparse.Namespace(client_id='ansible', client_secret='s3', username='admin', password='pw', token_ttl=3600)
    server = sim.ThreadingHTTPServer(('127.0.0.1', 0), sim.Handler)
    server.daemon_threads = True
    server.state = sim.State(args)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d' % server.server_address[1]
    server.shutdown()
    server.server_close()


def call(url, method='GET', headers=None, body=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        exc.close()
        return exc.code, json.loads(raw) if raw else None


def token(base, secret='s3'):
    basic = base64.b64encode(('ansible:' + secret).encode()).decode()
    return call(base + '/SAAS/auth/oauthtoken?grant_type=client_credentials', 'POST',
                {'Authorization': 'Basic ' + basic, 'Content-Type': 'application/x-www-form-urlencoded'}, b'')


def auth(base, media, content=None):
    headers = {'Authorization': 'Bearer ' + token(base)[1]['access_token'], 'Accept': V + media + '+json'}
    if content:
        headers['Content-Type'] = V + content + '+json'
    return headers


def test_bad_secret_and_bad_login_are_401(base):
    assert token(base, 'wrong')[0] == 401
    assert token(base)[0] == 200
    status, body = call(base + '/SAAS/API/1.0/REST/auth/system/login', 'POST', {'Content-Type': 'application/json'},
                        {'username': 'admin', 'password': 'nope', 'issueToken': 'true'})
    assert status == 401 and 'nope' not in json.dumps(body)


def test_missing_and_expired_tokens_are_401(base):
    assert call(base + CM + '/directoryconfigs', headers={'Accept': 'application/json'})[0] == 401
    headers = auth(base, 'connector.management.directory.list')
    assert call(base + CM + '/directoryconfigs', headers=headers)[0] == 200
    call(base + '/_sim/expire-tokens', 'POST')
    assert call(base + CM + '/directoryconfigs', headers=headers)[0] == 401


def test_media_types_and_fields_are_strict(base):
    url = base + CM + '/directoryconfigs/d-iwa-corp'
    assert call(url, headers=auth(base, 'wrong.type'))[0] == 406
    headers = auth(base, 'connector.management.directory.details')
    assert call(url, 'PUT', dict(headers, **{'Content-Type': 'text/plain'}), {'useStartTls': False})[0] == 415
    assert call(url, 'PUT', dict(headers, **{'Content-Type': V + 'connector.management.directory.details+json'}),
                {'useStartTls': False, 'bogus': 1})[0] == 400
    status, body = call(url, 'PUT', dict(headers, **{'Content-Type': 'application/json'}), {'useStartTls': False})
    assert status == 200 and body['useStartTls'] is False
    assert call(url, headers=headers)[1]['useStartTls'] is False


def test_sync_runs_on_first_up_connector_and_fails_over(base):
    h = auth(base, 'connector.management.connector.associate.directory', 'connector.management.connector.associate.directory')
    assert call(base + CM + '/connectorinstances/c-2/associatedirectory?idp=idp-1', 'POST', h,
                {'directoryId': 'd-iwa-corp', 'directoryBindPassword': 'b'})[0] == 200
    h = auth(base, 'connector.management.directory.sync.connectors', 'connector.management.directory.sync.connectors')
    url = base + CM + '/directoryconfigs/d-iwa-corp/syncconnectors'
    assert call(url, 'PUT', h, {'items': [{'instanceId': 'c-3'}]})[0] == 400   # not on the IdP
    assert call(url, 'PUT', h, {'items': [{'instanceId': 'c-1'}, {'instanceId': 'c-2'}]})[0] == 200
    sync = auth(base, 'connector.management.directory.sync.profile.sync', 'connector.management.directory.sync.profile.sync')
    assert call(base + CM + '/directoryconfigs/d-iwa-corp/syncprofile/sync', 'POST', sync, {})[1]['connectorInstanceId'] == 'c-1'
    call(base + '/_sim/connectors/connector1.example.com/down', 'POST')
    assert call(base + CM + '/directoryconfigs/d-iwa-corp/syncprofile/sync', 'POST', sync, {})[1]['connectorInstanceId'] == 'c-2'
    log = call(base + CM + '/directoryconfigs/d-iwa-corp/syncexecutions',
               headers=auth(base, 'connector.management.directory.sync.execution.list'))[1]['items']
    assert [e['connectorInstanceId'] for e in log] == ['c-2', 'c-1']


def test_old_connector_blocks_the_list(base):
    call(base + '/_sim/connectors?host=old.example.com&version=2018.8.1.0', 'POST')
    h = auth(base, 'connector.management.directory.sync.connectors', 'connector.management.directory.sync.connectors')
    status, body = call(base + CM + '/directoryconfigs/d-ldap-partners/syncconnectors', 'PUT', h,
                        {'items': [{'instanceId': 'c-2'}]})
    assert status == 400 and '19.03' in body['errors'][0]['message']


def test_fail_next_spares_logins(base):
    call(base + '/_sim/fail-next?status=503&count=1', 'POST')
    headers = auth(base, 'connector.management.directory.list')
    assert call(base + CM + '/directoryconfigs', headers=headers)[0] == 503
    assert call(base + CM + '/directoryconfigs', headers=headers)[0] == 200
