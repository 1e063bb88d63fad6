# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the java_secret_key module: argument handling, check mode and results.

The end-to-end cases run the real keytool (and the Java probe when a JDK is present) in tmp_path.
"""

from __future__ import annotations

import os
import shutil
import stat

import pytest

from ansible.module_utils import basic

from ansible_collections.idmops.lifecycle.plugins.modules import java_secret_key
from ansible_collections.idmops.lifecycle.tests.unit.plugins.modules.utils import run_main


def run(args, check_mode=False, diff=False):
    return run_main(java_secret_key.main, args, check_mode=check_mode, diff=diff)[0]


def test_every_password_option_is_no_log():
    spec = java_secret_key.argument_spec()
    for name, option in spec.items():
        if name.endswith('password'):
            assert option.get('no_log') is True, name
        if name.endswith('password_file'):
            assert option['type'] == 'path' and option.get('no_log') is False, name


def test_spec_defaults_follow_the_runbook():
    spec = java_secret_key.argument_spec()
    assert spec['alias']['default'] == 'directenctest'
    assert (spec['key_algorithm']['default'], spec['key_size']['default']) == ('AES', 256)
    assert spec['key_size']['choices'] == [128, 192, 256]
    assert spec['store_type']['default'] == 'JCEKS'
    assert spec['regenerate']['default'] == 'never'


@pytest.mark.parametrize('args, message', [
    (dict(), 'one of the following is required: store_password, store_password_file'),
    (dict(store_password='changeit', store_password_file='/x'), 'mutually exclusive'),
    (dict(store_password='changeit', key_size=512), 'key_size'),
    (dict(store_password='changeit', regenerate='sometimes'), 'regenerate'),
    (dict(store_password='changeit', source_alias='x'), 'source_alias'),
])
def test_bad_arguments_fail(tmp_path, args, message):
    args = dict(args, path=str(tmp_path / 'ks.jceks'))
    result = run(args)
    assert result['failed'] and message in result['msg']
    assert os.listdir(str(tmp_path)) == []


def test_missing_password_file_names_the_option(tmp_path):
    result = run(dict(path=str(tmp_path / 'ks.jceks'), store_password_file=str(tmp_path / 'missing')))
    assert result['failed'] and result['msg'].startswith('store_password_file: cannot read')
    assert os.listdir(str(tmp_path)) == []


def test_missing_keytool_names_the_option(tmp_path):
    result = run(dict(path=str(tmp_path / 'ks.jceks'), store_password='changeit', keytool='no-such-keytool-here'))
    assert result['failed'] and result['msg'].startswith('keytool: cannot find no-such-keytool-here')


def test_a_password_read_from_a_file_is_masked(tmp_path, monkeypatch):
    (tmp_path / 'storepass').write_text('file-secret-123\n')
    seen = {}
    real_init = basic.AnsibleModule.__init__

    def spy_init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        seen['module'] = self
    monkeypatch.setattr(basic.AnsibleModule, '__init__', spy_init)
    run(dict(path=str(tmp_path / 'ks.jceks'), store_password_file=str(tmp_path / 'storepass'),
             keytool='no-such-keytool-here'))
    assert 'file-secret-123' in seen['module'].no_log_values


needs_keytool = pytest.mark.skipif(shutil.which('keytool') is None, reason='keytool is not installed')


@needs_keytool
def test_create_check_mode_then_real_then_idempotent(tmp_path):
    path = str(tmp_path / 'ks.jceks')
    args = dict(path=path, store_password='changeit', inspection='keytool')
    check = run(args, check_mode=True, diff=True)
    assert check['changed'] and check['action'] == 'create' and not os.path.exists(path)
    assert check['diff']['before'] == {}

    created = run(args)
    assert created['changed'] and created['entry_type'] == 'SecretKeyEntry'
    assert 'diff' not in created  # only with --diff
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    again = run(args)
    assert not again['changed'] and again['action'] == 'none'
    assert again['key_size'] is None and again['inspection'] == 'keytool'


@needs_keytool
def test_mode_of_an_existing_keystore(tmp_path):
    path = str(tmp_path / 'ks.p12')
    args = dict(path=path, store_type='PKCS12', store_password='changeit', inspection='keytool')
    run(args)
    check = run(dict(args, mode='0640'), check_mode=True)
    assert check['changed'] and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    result = run(dict(args, mode='0640'), diff=True)
    assert result['changed'] and result['action'] == 'none'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert result['diff']['after']['mode'] == '0640'


@needs_keytool
def test_wrong_password_changes_nothing(tmp_path):
    path = str(tmp_path / 'ks.jceks')
    run(dict(path=path, store_password='changeit', inspection='keytool'))
    with open(path, 'rb') as handle:
        before = handle.read()
    result = run(dict(path=path, store_password='not-the-password', regenerate='always', inspection='keytool'))
    assert result['failed'] and result['msg'].startswith('store_password: ')
    assert 'password was incorrect' in result['msg']
    with open(path, 'rb') as handle:
        assert handle.read() == before
    assert sorted(os.listdir(str(tmp_path))) == ['ks.jceks']
