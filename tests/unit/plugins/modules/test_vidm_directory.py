# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/modules/vidm_directory.py and vidm_sync_connectors.py (arguments and results).

The vIDM client is replaced by a small in-memory service.
"""

from __future__ import annotations

import pytest

from ansible_collections.idmops.lifecycle.plugins.module_utils import _vidm
from ansible_collections.idmops.lifecycle.plugins.modules import vidm_directory, vidm_sync_connectors
from ansible_collections.idmops.lifecycle.tests.unit.plugins.modules.utils import exit_result, fail_result

ARGS = dict(base_url='https://vidm.example.com', client_id='ansible', client_secret='s3cret')


class Service:
    def __init__(self):
        self.dirs = {'1': dict(directoryId='1', name='corp', type=_vidm.IWA, useStartTls=True),
                     '2': dict(directoryId='2', name='ldap', type='ACTIVE_DIRECTORY_LDAP', useStartTls=True)}
        self.connectors = [dict(instanceId='c1', host='h1', version='19.03.0.1'),
                           dict(instanceId='c2', host='h2', version='20.10.0.0')]
        self.sync = {'1': [], '2': ['c2']}
        self.idp_connectors = ['c1']
        self.writes = []

    def get(self, path, media=None, query=None):
        if path.endswith('/directoryconfigs'):
            return {'items': [dict(d) for d in self.dirs.values()]}
        if path.endswith('/connectorinstances'):
            return {'items': self.connectors}
        if path.endswith('/identityProviders'):
            return {'items': [dict(id='idp1', name='WorkspaceIDP__1',
                                   directoryConfigurations=[dict(directoryId='1'), dict(directoryId='2')],
                                   connectors=[dict(instanceId=c) for c in self.idp_connectors])]}
        if path.endswith('/syncconnectors'):
            return {'items': [dict(instanceId=i) for i in self.sync[path.split('/')[-2]]]}
        return dict(self.dirs[path.rsplit('/', 1)[1]])

    def put(self, path, body, media=None):
        self.writes.append(path)
        if path.endswith('/syncconnectors'):
            self.sync[path.split('/')[-2]] = [i['instanceId'] for i in body['items']]
            return body
        self.dirs[path.rsplit('/', 1)[1]].update(body)
        return body

    def post(self, path, body=None, media=None, query=None, content_media=None):
        self.writes.append(path)
        self.idp_connectors.append(path.split('/')[-2])


@pytest.fixture
def service(monkeypatch):
    svc = Service()
    monkeypatch.setattr(_vidm.VidmClient, 'from_module', classmethod(lambda cls, module: svc))
    return svc


def test_starttls_off_all_iwa_then_idempotent(service):
    result = exit_result(vidm_directory.main, dict(ARGS, all_iwa=True, start_tls=False), diff=True)
    assert result['changed'] and result['diff']['before'] == {'corp': {'useStartTls': True}}
    assert not service.dirs['1']['useStartTls'] and service.dirs['2']['useStartTls']
    assert not exit_result(vidm_directory.main, dict(ARGS, all_iwa=True, start_tls=False))['changed']


def test_check_mode_writes_nothing(service):
    result = exit_result(vidm_directory.main, dict(ARGS, directories=['corp'], start_tls=False), check_mode=True)
    assert result['changed'] and result['msg'].startswith('would set') and service.writes == []


def test_iwa_on_refused_unless_forced(service):
    service.dirs['1']['useStartTls'] = False
    assert 'refusing' in fail_result(vidm_directory.main, dict(ARGS, directories=['corp'], start_tls=True))['msg']
    assert exit_result(vidm_directory.main, dict(ARGS, directories=['corp'], start_tls=True, force=True))['changed']


def test_unknown_directory_and_missing_selection(service):
    assert 'no directory named' in fail_result(vidm_directory.main, dict(ARGS, directories=['x'], start_tls=False))['msg']
    assert 'one of directories' in fail_result(vidm_directory.main, dict(ARGS, start_tls=False))['msg']


def test_sync_connectors_associate_and_set(service):
    args = dict(ARGS, directory_bind_password='bind', directories=[dict(name='corp', connectors=['h2', 'h1'])])
    result = exit_result(vidm_sync_connectors.main, args)
    assert result['changed'] and result['directories'][0]['associated'] == ['h2']
    assert service.sync['1'] == ['c2', 'c1']
    assert not exit_result(vidm_sync_connectors.main, args)['changed']


def test_sync_connectors_need_bind_password_to_associate(service):
    args = dict(ARGS, directories=[dict(name='corp', connectors=['h2'])])
    assert 'directory_bind_password' in fail_result(vidm_sync_connectors.main, args)['msg']
    assert service.writes == []


def test_sync_connectors_reject_old_connectors(service):
    service.connectors.append(dict(instanceId='c3', host='old', version='2018.8.1.0'))
    args = dict(ARGS, directories=[dict(name='corp', connectors=['h1'])])
    assert 'old (2018.8.1.0)' in fail_result(vidm_sync_connectors.main, args)['msg']


def test_sync_connectors_report_collisions(service):
    args = dict(ARGS, directories=[dict(name='corp', connectors=['h1', 'h2'])], directory_bind_password='b')
    service.sync['2'] = ['c1', 'c2']
    result = exit_result(vidm_sync_connectors.main, args)
    assert result['collisions'] == [dict(connectors=['h1', 'h2'], directories=['corp', 'ldap'])]
    assert any('same Sync Connectors list' in w for w in result['warnings'])
