# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/_keystore.py (the java_secret_key module's backend).

Parsers run against keytool output captured on a real JDK (fixtures/java_secret_key/). The
policy runs against an in-memory keystore double. The last tests run the real keytool and java
when they are installed.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess

import pytest

from ansible_collections.idmops.lifecycle.plugins.module_utils import _keystore
from ansible_collections.idmops.lifecycle.plugins.module_utils._keystore import (
    InspectionUnavailable,
    JavaInspector,
    Keytool,
    KeystoreError,
    SecretKeyTask,
    check_keystore_file,
    default_java,
    detect_store_type,
    differences,
    find_entry,
    find_java,
    find_keytool,
    keytool_error,
    parse_list_verbose,
    parse_probe_output,
    read_password_file,
    resolve_parameters,
    secret_values,
)


FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures', 'java_secret_key')


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding='utf-8') as handle:
        return handle.read()


# --- parsing real keytool output -------------------------------------------------------------------------

def test_parse_jceks_listing_with_three_entry_types():
    listing = parse_list_verbose(fixture('list_v_jceks_mixed.jdk17.txt'))
    assert listing['store_type'] == 'JCEKS'
    assert listing['provider'] == 'SunJCE'
    assert [(e['alias'], e['entry_type']) for e in listing['entries']] == [
        ('directenctest', 'SecretKeyEntry'), ('signing', 'PrivateKeyEntry'), ('trusted', 'trustedCertEntry')]
    # The certificate's own "Valid from" lines must not overwrite the entry's creation date.
    assert listing['entries'][1]['creation_date'] == 'Nov 24, 2026'


@pytest.mark.parametrize('name', ['list_v_pkcs12_secret.jdk17.txt', 'list_v_pkcs12_secret.jdk25.txt'])
def test_parse_pkcs12_listing_jdk17_and_jdk25(name):
    listing = parse_list_verbose(fixture(name))
    assert listing['store_type'] == 'PKCS12'
    assert listing['entries'] == [{'alias': 'directenctest', 'entry_type': 'SecretKeyEntry',
                                   'creation_date': 'Nov 24, 2026'}]


def test_keytool_shows_no_algorithm_or_size_for_secret_keys():
    # The reason the Java probe exists: nothing about the key beyond its entry type.
    text = fixture('list_v_pkcs12_secret.jdk17.txt')
    assert 'AES' not in text and '256' not in text


def test_parse_empty_keystore():
    assert parse_list_verbose(fixture('list_v_pkcs12_empty.jdk17.txt'))['entries'] == []


def test_localized_output_is_refused_not_read_as_empty():
    with pytest.raises(KeystoreError, match='unexpected keytool -list output'):
        parse_list_verbose(fixture('list_v_pkcs12_secret_de.jdk17.txt'))


def test_truncated_listing_is_refused():
    text = fixture('list_v_jceks_mixed.jdk17.txt')
    truncated = text[:text.index('Alias name: trusted')]
    with pytest.raises(KeystoreError, match='states 3 entries but 2 could be read'):
        parse_list_verbose(truncated)


def test_error_output_is_not_a_listing():
    with pytest.raises(KeystoreError):
        parse_list_verbose(fixture('err_wrong_password_jceks.jdk17.txt'))


def test_find_entry_ignores_case():
    listing = parse_list_verbose(fixture('list_v_jceks_mixed.jdk17.txt'))
    assert find_entry(listing, 'DirectEncTest')['alias'] == 'directenctest'
    assert find_entry(listing, 'missing') is None


@pytest.mark.parametrize('name, kind, text', [
    ('err_wrong_password_jceks.jdk17.txt', 'wrong_password', 'password was incorrect'),
    ('err_wrong_password_pkcs12.jdk17.txt', 'wrong_password', 'Failed PKCS12 integrity checking'),
    ('err_invalid_format.jdk17.txt', 'format', 'Invalid keystore format'),
    ('err_alias_exists.jdk17.txt', 'exists', 'alias <directenctest> already exists'),
])
def test_keytool_errors_are_classified(name, kind, text):
    got_kind, message = keytool_error(fixture(name))
    assert got_kind == kind
    assert text in message
    assert '\tat java.base' not in message  # the stack trace is left out


def test_unknown_keytool_error_keeps_its_text():
    assert keytool_error('keytool error: java.lang.Exception: something new\n') == (
        'other', 'java.lang.Exception: something new')


# --- inputs --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('content, expected', [
    (b'changeit\n', 'changeit'),
    (b'changeit\r\n', 'changeit'),
    (b'changeit', 'changeit'),
    (b'first line\nsecond line\n', 'first line'),
    (b' spaced \n', ' spaced '),
    ('pässwörd\n'.encode('utf-8'), 'pässwörd'),
])
def test_password_file_is_read_like_keytool(tmp_path, content, expected):
    path = tmp_path / 'pw'
    path.write_bytes(content)
    assert read_password_file(str(path), 'store_password_file') == expected


@pytest.mark.parametrize('content, message', [
    (b'', 'first line of .* is empty'),
    (b'\nsecond\n', 'first line of .* is empty'),
    (b'\xff\xfe\n', 'not UTF-8'),
])
def test_bad_password_file_names_the_option(tmp_path, content, message):
    path = tmp_path / 'pw'
    path.write_bytes(content)
    with pytest.raises(KeystoreError, match='^key_password_file: .*' + message) as info:
        read_password_file(str(path), 'key_password_file')
    assert info.value.param == 'key_password_file'


def test_missing_password_file_names_the_option(tmp_path):
    with pytest.raises(KeystoreError, match='^store_password_file: cannot read'):
        read_password_file(str(tmp_path / 'nope'), 'store_password_file')


@pytest.mark.parametrize('head, expected', [
    (b'\xce\xce\xce\xce\x00\x00\x00\x02', 'JCEKS'),
    (b'\xfe\xed\xfe\xed\x00\x00\x00\x02', 'JKS'),
    (b'\x30\x82\x01\x9f\x02\x01\x03', 'PKCS12'),
    (b'', 'empty'),
    (b'hello', None),
])
def test_detect_store_type(tmp_path, head, expected):
    path = tmp_path / 'ks'
    path.write_bytes(head)
    assert detect_store_type(str(path)) == expected


def test_check_keystore_file_refuses_other_types(tmp_path):
    path = tmp_path / 'ks'
    path.write_bytes(b'\x30\x82\x01\x9f')
    with pytest.raises(KeystoreError, match='store_type: .* is a PKCS12 keystore but store_type is JCEKS'):
        check_keystore_file(str(path), 'JCEKS', 'path', 'store_type')
    path.write_bytes(b'\xfe\xed\xfe\xed')
    with pytest.raises(KeystoreError, match='JKS keystore, which cannot hold secret keys'):
        check_keystore_file(str(path), None, 'source_path', 'source_store_type')
    with pytest.raises(KeystoreError, match='^path: .* is a directory'):
        check_keystore_file(str(tmp_path), None, 'path', 'store_type')


def base_params(**overrides):
    params = dict(path='/nonexistent/ks.jceks', alias='directenctest', key_algorithm='AES', key_size=256,
                  store_type='JCEKS', store_password=None, store_password_file=None, key_password=None,
                  key_password_file=None, state='present', regenerate='never', source_path=None,
                  source_alias=None, source_store_type=None, source_store_password=None,
                  source_store_password_file=None, source_key_password=None, source_key_password_file=None,
                  inspection='auto', java=None, keytool='keytool', backup=False)
    params.update(overrides)
    return params


def test_resolve_defaults_key_and_source_passwords_to_the_store_password():
    r = resolve_parameters(base_params(store_password='storepass', source_path='/src.jceks'))
    assert r['key_password'] == 'storepass' and r['key_password_param'] == 'store_password'
    assert r['source_store_password'] == 'storepass'
    assert r['source_key_password'] == 'storepass'
    assert r['source_alias'] == 'directenctest'
    assert secret_values(r) == {'storepass'}


def test_resolve_reads_password_files(tmp_path):
    (tmp_path / 'sp').write_text('from-file\n')
    (tmp_path / 'kp').write_text('key-file\n')
    r = resolve_parameters(base_params(store_password_file=str(tmp_path / 'sp'),
                                       key_password_file=str(tmp_path / 'kp')))
    assert (r['store_password'], r['key_password']) == ('from-file', 'key-file')
    assert r['key_password_param'] == 'key_password_file'


@pytest.mark.parametrize('overrides, option', [
    (dict(store_type='PKCS12', store_password='storepass', key_password='other'), 'key_password'),
    (dict(store_password='storepass', alias=' spaced'), 'alias'),
    (dict(store_password='storepass', alias=''), 'alias'),
    (dict(store_password='two\nlines'), 'store_password'),
    (dict(), 'store_password'),
    (dict(store_password='storepass', state='absent', source_path='/src'), 'source_path'),
])
def test_resolve_rejects_bad_input_naming_the_option(overrides, option):
    with pytest.raises(KeystoreError) as info:
        resolve_parameters(base_params(**overrides))
    assert info.value.param == option
    assert str(info.value).startswith(option)


def test_find_keytool(tmp_path):
    assert find_keytool('keytool', lambda name: '/usr/bin/keytool') == '/usr/bin/keytool'
    with pytest.raises(KeystoreError, match='^keytool: cannot find keytool on PATH'):
        find_keytool('keytool', lambda name: None)
    with pytest.raises(KeystoreError, match='^keytool: .* is not an executable file'):
        find_keytool(str(tmp_path / 'keytool'), lambda name: None)


def test_java_is_taken_from_the_keytool_runtime(tmp_path):
    bindir = tmp_path / 'jdk' / 'bin'
    bindir.mkdir(parents=True)
    for name in ('keytool', 'java'):
        (bindir / name).write_text('#!/bin/sh\n')
        (bindir / name).chmod(0o755)
    link = tmp_path / 'keytool'
    link.symlink_to(bindir / 'keytool')
    assert default_java(str(link), lambda name: '/usr/bin/java') == str(bindir / 'java')
    assert default_java(str(tmp_path / 'elsewhere'), lambda name: '/usr/bin/java') == '/usr/bin/java'
    assert find_java(None, str(link), 'keytool', lambda name: None) is None
    assert find_java(None, '/x/keytool', 'auto', lambda name: None) is None
    with pytest.raises(KeystoreError, match='^inspection=java'):
        find_java(None, '/x/keytool', 'java', lambda name: None)
    with pytest.raises(KeystoreError, match='^java: '):
        find_java(str(tmp_path / 'nojava'), '/x/keytool', 'auto', lambda name: None)


# --- keytool command lines: passwords in private files only ---------------------------------------------------

class RecordingRunner(object):
    """A run_command double that records argv and the password files as they were during the call."""

    def __init__(self, outputs=None):
        self.calls = []
        self.outputs = list(outputs or [])

    def __call__(self, argv, environ_update=None, **kwargs):
        files = {}
        for arg in argv[1:]:
            if isinstance(arg, str) and os.path.isfile(arg):
                st = os.stat(arg)
                with open(arg, encoding='utf-8') as handle:
                    files[arg] = (handle.read(), stat.S_IMODE(st.st_mode),
                                  stat.S_IMODE(os.stat(os.path.dirname(arg)).st_mode))
        self.calls.append(dict(argv=list(argv), env=dict(environ_update or {}), files=files))
        return self.outputs.pop(0) if self.outputs else (0, '', '')


def test_keytool_passwords_never_on_argv(tmp_path):
    runner = RecordingRunner()
    keytool = Keytool(runner, '/usr/bin/keytool', tmpdir=str(tmp_path))
    keytool.genseckey('/ks.jceks', 'JCEKS', 'store-secret', 'directenctest', 'AES', 256, 'key-secret')
    call = runner.calls[0]
    assert not any('secret' in arg for arg in call['argv'])
    assert call['argv'][:4] == ['/usr/bin/keytool', '-J-Duser.language=en', '-J-Duser.country=US',
                                '-J-Dfile.encoding=UTF-8']
    storepass = call['argv'][call['argv'].index('-storepass:file') + 1]
    keypass = call['argv'][call['argv'].index('-keypass:file') + 1]
    assert call['files'][storepass] == ('store-secret', 0o600, 0o700)
    assert call['files'][keypass] == ('key-secret', 0o600, 0o700)
    assert call['env']['LC_ALL'] == 'C'
    for arg in ('-genseckey', '-keyalg', 'AES', '-keysize', '256', '-storetype', 'JCEKS'):
        assert arg in call['argv']
    # The private directory is gone afterwards.
    assert os.listdir(str(tmp_path)) == []


def test_pkcs12_gets_no_key_password(tmp_path):
    runner = RecordingRunner()
    Keytool(runner, 'keytool', tmpdir=str(tmp_path)).genseckey('/ks.p12', 'PKCS12', 'store-secret', 'a', 'AES',
                                                               128, 'store-secret')
    assert '-keypass:file' not in runner.calls[0]['argv']


def test_import_entry_command_line(tmp_path):
    runner = RecordingRunner()
    Keytool(runner, 'keytool', tmpdir=str(tmp_path)).import_entry(
        dict(path='/src.jceks', store_type='JCEKS', store_password='s1', alias='directenctest', key_password='k1'),
        dict(path='/dst.p12', store_type='PKCS12', store_password='s2', alias='directenctest', key_password='s2'))
    call = runner.calls[0]
    argv = call['argv']
    assert '-noprompt' in argv  # keytool would otherwise prompt before overwriting, and fail without a tty
    assert argv[argv.index('-srcalias') + 1] == 'directenctest'
    assert '-srckeypass:file' in argv and '-destkeypass:file' not in argv
    assert sorted(content for content, _mode, _dmode in call['files'].values()) == ['k1', 's1', 's2']
    assert not any(arg in ('s1', 's2', 'k1') for arg in argv)


def test_keytool_failure_is_classified(tmp_path):
    runner = RecordingRunner([(1, fixture('err_wrong_password_pkcs12.jdk17.txt'), '')])
    with pytest.raises(KeystoreError, match='keystore password is wrong') as info:
        Keytool(runner, 'keytool', tmpdir=str(tmp_path)).list('/ks.p12', 'PKCS12', 'x')
    assert info.value.result['error_kind'] == 'wrong_password'
    assert os.listdir(str(tmp_path)) == []


# --- the Java probe -------------------------------------------------------------------------------------------

PROBE_OK = ('idmops-probe=1\nentry=SecretKeyEntry\nalgorithm=AES\nsize=256\n'
            'fingerprint=' + 'ab' * 32 + '\n')


def test_probe_output_needs_the_marker():
    assert parse_probe_output('error: unable to find compiler\n') is None
    assert parse_probe_output('Picked up JAVA_TOOL_OPTIONS: -Xmx1g\n' + PROBE_OK)['size'] == '256'


def test_inspector_reads_probe_output(tmp_path):
    runner = RecordingRunner([(0, PROBE_OK, '')])
    entry = JavaInspector(runner, '/jdk/bin/java', tmpdir=str(tmp_path)).inspect(
        '/ks.jceks', 'JCEKS', 'store-secret', 'directenctest', 'key-secret')
    assert entry == {'entry_type': 'SecretKeyEntry', 'key_algorithm': 'AES', 'key_size': 256,
                     'fingerprint': 'ab' * 32}
    call = runner.calls[0]
    assert not any('secret' in arg for arg in call['argv'])
    source = [arg for arg in call['argv'] if arg.endswith('.java')][0]
    assert 'class IdmopsSecretKeyProbe' in call['files'][source][0]
    assert os.listdir(str(tmp_path)) == []


def test_inspector_unavailable_without_compiler(tmp_path):
    runner = RecordingRunner([(1, '', 'error: unable to find javac compiler\n')])
    with pytest.raises(InspectionUnavailable, match='jdk.compiler'):
        JavaInspector(runner, '/jre/bin/java', tmpdir=str(tmp_path)).inspect('/ks', 'JCEKS', 'x', 'a', 'x')


def test_inspector_key_password_error(tmp_path):
    out = ('idmops-probe=1\nerror_stage=key\nerror=java.security.UnrecoverableKeyException: Given final block not '
           'properly padded\n')
    with pytest.raises(KeystoreError, match='key password is wrong') as info:
        JavaInspector(RecordingRunner([(3, out, '')]), 'java', str(tmp_path)).inspect('/ks', 'JCEKS', 'x', 'a', 'y')
    assert info.value.result['error_kind'] == 'key_password'


def test_inspector_store_password_error(tmp_path):
    out = ('idmops-probe=1\nerror_stage=store\nerror=java.io.IOException: Keystore was tampered with, or password '
           'was incorrect\n')
    with pytest.raises(KeystoreError) as info:
        JavaInspector(RecordingRunner([(2, out, '')]), 'java', str(tmp_path)).inspect('/ks', 'JCEKS', 'x', 'a', 'y')
    assert info.value.result['error_kind'] == 'wrong_password'


# --- the policy, against an in-memory keystore ----------------------------------------------------------------

class FakeStores(object):
    """A keytool double whose keystores are JSON after the JCEKS magic, so copies and renames just work."""

    def __init__(self, password='store-pass'):
        self.password = password
        self.calls = []
        self.counter = 0

    def _read_file(self, path):
        if not os.path.exists(path):
            return {}
        with open(path, 'rb') as handle:
            return json.loads(handle.read()[4:].decode())

    def _write_file(self, path, entries):
        with open(path, 'wb') as handle:
            handle.write(b'\xce\xce\xce\xce' + json.dumps(entries, sort_keys=True).encode())

    def put(self, path, alias, entry_type='SecretKeyEntry', algorithm='AES', size=256, material=None):
        self.counter += 1
        entries = self._read_file(path)
        entries[alias] = dict(entry_type=entry_type, algorithm=algorithm, size=size,
                              material=material or 'material-%d' % self.counter)
        self._write_file(path, entries)

    def _load(self, path, password):
        if password != self.password:
            raise KeystoreError('keytool -list on %s failed: the keystore password is wrong' % path,
                                error_kind='wrong_password')
        return self._read_file(path)

    # the Keytool interface
    def list(self, path, store_type, store_password):
        self.calls.append(('list', path))
        entries = self._load(path, store_password)
        return {'store_type': store_type, 'provider': 'fake',
                'entries': [dict(alias=a, entry_type=e['entry_type'], creation_date='today')
                            for a, e in entries.items()]}

    def genseckey(self, path, store_type, store_password, alias, algorithm, size, key_password):
        self.calls.append(('genseckey', path))
        assert alias not in self._load(path, store_password)
        self.put(path, alias, algorithm=algorithm, size=size)

    def import_entry(self, source, dest):
        self.calls.append(('import', dest['path']))
        entry = self._load(source['path'], source['store_password'])[source['alias']]
        entries = self._load(dest['path'], dest['store_password'])
        entries[dest['alias']] = entry
        self._write_file(dest['path'], entries)

    def delete(self, path, store_type, store_password, alias):
        self.calls.append(('delete', path))
        entries = self._load(path, store_password)
        del entries[alias]
        self._write_file(path, entries)

    def writes(self):
        return [c for c in self.calls if c[0] != 'list']


class FakeInspector(object):
    def __init__(self, stores, unavailable=False):
        self.stores = stores
        self.unavailable = unavailable

    def inspect(self, path, store_type, store_password, alias, key_password):
        if self.unavailable:
            raise InspectionUnavailable('no compiler')
        entry = self.stores._load(path, store_password).get(alias)
        if entry is None:
            return None
        return {'entry_type': 'SecretKeyEntry', 'key_algorithm': entry['algorithm'], 'key_size': entry['size'],
                'fingerprint': 'fp-' + entry['material']}


class FakeFiles(object):
    def __init__(self):
        self.backups = []

    def atomic_replace(self, src, dest):
        os.rename(src, dest)

    def backup(self, path):
        target = path + '.bak'
        shutil.copy2(path, target)
        self.backups.append(target)
        return target


def make_task(tmp_path, stores, inspector='java', check_mode=False, **overrides):
    params = base_params(path=str(tmp_path / 'ks.jceks'), store_password='store-pass', **overrides)
    if inspector == 'java':
        inspector = FakeInspector(stores)
    resolved = resolve_parameters(params)
    return SecretKeyTask(resolved, stores, inspector, FakeFiles(), check_mode=check_mode)


def test_create_new_keystore(tmp_path):
    stores = FakeStores()
    result = make_task(tmp_path, stores).run()
    path = str(tmp_path / 'ks.jceks')
    assert result['changed'] and result['action'] == 'create'
    assert result['key_algorithm'] == 'AES' and result['key_size'] == 256
    assert result['diff']['before'] == {}
    assert result['diff']['after']['fingerprint'] == result['fingerprint']
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # Created on a copy in a private directory next to the keystore, which is gone afterwards.
    assert stores.writes()[0][1] != path
    assert os.path.dirname(os.path.dirname(stores.writes()[0][1])) == str(tmp_path)
    assert sorted(os.listdir(str(tmp_path))) == ['ks.jceks']


def test_check_mode_creates_nothing(tmp_path):
    stores = FakeStores()
    result = make_task(tmp_path, stores, check_mode=True).run()
    assert result['changed'] and result['msg'].startswith('would: ')
    assert stores.writes() == []
    assert os.listdir(str(tmp_path)) == []


def test_missing_directory_names_path(tmp_path):
    with pytest.raises(KeystoreError, match='^path: the directory'):
        make_task(tmp_path / 'missing', FakeStores()).run()


def test_short_password_for_new_keystore_changes_nothing(tmp_path):
    stores = FakeStores(password='short')
    params = base_params(path=str(tmp_path / 'ks.jceks'), store_password='short')
    task = SecretKeyTask(resolve_parameters(params), stores, FakeInspector(stores), FakeFiles())
    with pytest.raises(KeystoreError, match='^store_password must be at least 6'):
        task.run()
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize('regenerate, size, expect', [
    ('never', 256, 'none'),
    ('never', 128, 'none'),
    ('fail', 256, 'none'),
    ('fail', 128, 'fail'),
    ('full_idempotence', 256, 'none'),
    ('full_idempotence', 128, 'replace'),
    ('always', 256, 'replace'),
])
def test_regenerate_policy(tmp_path, regenerate, size, expect):
    stores = FakeStores()
    path = str(tmp_path / 'ks.jceks')
    stores.put(path, 'directenctest', size=size, material='old')
    with open(path, 'rb') as handle:
        before = handle.read()
    task = make_task(tmp_path, stores, regenerate=regenerate)
    if expect == 'fail':
        with pytest.raises(KeystoreError, match='regenerate=fail: .* key_size is 128, wanted 256'):
            task.run()
        assert stores.writes() == []
        with open(path, 'rb') as handle:
            assert handle.read() == before
        return
    result = task.run()
    assert result['action'] == expect
    assert result['changed'] == (expect != 'none')
    if expect == 'none':
        assert stores.writes() == []
        assert result['fingerprint'] == 'fp-old'
        assert bool(task.warnings) == (size != 256)
    else:
        assert result['fingerprint'] != 'fp-old'
        assert result['key_size'] == 256


@pytest.mark.parametrize('regenerate', ['fail', 'full_idempotence'])
def test_unknown_keys_cannot_be_compared(tmp_path, regenerate):
    stores = FakeStores()
    stores.put(str(tmp_path / 'ks.jceks'), 'directenctest')
    task = make_task(tmp_path, stores, inspector=None, regenerate=regenerate)
    with pytest.raises(KeystoreError, match='cannot be compared') as info:
        task.run()
    assert info.value.param == 'regenerate'


def test_auto_inspection_falls_back_with_a_warning(tmp_path):
    stores = FakeStores()
    stores.put(str(tmp_path / 'ks.jceks'), 'directenctest')
    task = make_task(tmp_path, stores, inspector=FakeInspector(stores, unavailable=True))
    result = task.run()
    assert not result['changed'] and result['inspection'] == 'keytool' and result['key_size'] is None
    assert 'no compiler' in task.warnings[0]


def test_inspection_java_fails_when_the_probe_cannot_run(tmp_path):
    stores = FakeStores()
    stores.put(str(tmp_path / 'ks.jceks'), 'directenctest')
    task = make_task(tmp_path, stores, inspector=FakeInspector(stores, unavailable=True), inspection='java')
    with pytest.raises(KeystoreError, match='^inspection=java'):
        task.run()


@pytest.mark.parametrize('entry_type', ['PrivateKeyEntry', 'trustedCertEntry'])
@pytest.mark.parametrize('state, regenerate', [('present', 'always'), ('absent', 'never')])
def test_other_entry_types_are_never_touched(tmp_path, entry_type, state, regenerate):
    stores = FakeStores()
    stores.put(str(tmp_path / 'ks.jceks'), 'directenctest', entry_type=entry_type)
    task = make_task(tmp_path, stores, state=state, regenerate=regenerate)
    with pytest.raises(KeystoreError, match='^alias: .* holds a %s' % entry_type):
        task.run()
    assert stores.writes() == []


def test_wrong_store_password_names_the_option(tmp_path):
    stores = FakeStores(password='the-right-one')
    stores.put(str(tmp_path / 'ks.jceks'), 'directenctest')
    with pytest.raises(KeystoreError, match='^store_password: ') as info:
        make_task(tmp_path, stores).run()
    assert info.value.param == 'store_password'


def test_import_from_source_and_compare_material(tmp_path):
    stores = FakeStores()
    source = str(tmp_path / 'site.jceks')
    stores.put(source, 'directenctest', material='site')
    result = make_task(tmp_path, stores, source_path=source, regenerate='fail').run()
    assert result['action'] == 'import' and result['fingerprint'] == 'fp-site'
    again = make_task(tmp_path, stores, source_path=source, regenerate='fail').run()
    assert not again['changed']


def test_source_mismatch_fails_or_reimports(tmp_path):
    stores = FakeStores()
    source = str(tmp_path / 'site.jceks')
    stores.put(source, 'directenctest', material='site')
    stores.put(str(tmp_path / 'ks.jceks'), 'directenctest', material='local')
    with pytest.raises(KeystoreError, match='key material differs'):
        make_task(tmp_path, stores, source_path=source, regenerate='fail').run()
    result = make_task(tmp_path, stores, source_path=source, regenerate='full_idempotence', backup=True).run()
    assert result['action'] == 'reimport' and result['fingerprint'] == 'fp-site'
    assert result['backup_file'].endswith('.bak')
    assert result['diff']['before']['fingerprint'] == 'fp-local'


def test_source_of_the_wrong_size_is_refused(tmp_path):
    stores = FakeStores()
    source = str(tmp_path / 'site.jceks')
    stores.put(source, 'directenctest', size=128)
    with pytest.raises(KeystoreError, match='^source_path: the source key .* is AES-128'):
        make_task(tmp_path, stores, source_path=source).run()
    assert stores.writes() == []


def test_missing_source_alias(tmp_path):
    stores = FakeStores()
    source = str(tmp_path / 'site.jceks')
    stores.put(source, 'other')
    with pytest.raises(KeystoreError, match='^source_alias: '):
        make_task(tmp_path, stores, source_path=source).run()


def test_absent(tmp_path):
    stores = FakeStores()
    path = str(tmp_path / 'ks.jceks')
    stores.put(path, 'directenctest')
    stores.put(path, 'keep-me')
    check = make_task(tmp_path, stores, state='absent', check_mode=True).run()
    assert check['changed'] and stores.writes() == []
    result = make_task(tmp_path, stores, state='absent').run()
    assert result['changed'] and result['action'] == 'remove'
    assert result['diff'] == {'before': {'alias': 'directenctest', 'entry_type': 'SecretKeyEntry'}, 'after': {}}
    assert not make_task(tmp_path, stores, state='absent').run()['changed']
    assert sorted(os.listdir(str(tmp_path))) == ['ks.jceks']


def test_differences_is_none_when_unknown():
    assert differences({'key_algorithm': None, 'key_size': None}, {'key_algorithm': 'AES', 'key_size': 256},
                       False) is None
    assert differences({'key_algorithm': 'aes', 'key_size': 256}, {'key_algorithm': 'AES', 'key_size': 256},
                       False) == []


# --- the real keytool and java -----------------------------------------------------------------------------------

KEYTOOL = shutil.which('keytool')
needs_keytool = pytest.mark.skipif(KEYTOOL is None, reason='keytool is not installed')


def run_command(argv, environ_update=None, **kwargs):
    env = dict(os.environ)
    env.update(environ_update or {})
    proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def real_java():
    if KEYTOOL is None:
        return None
    java = default_java(KEYTOOL, shutil.which)
    if not java:
        return None
    rc, out, err = run_command([java, '--list-modules'])
    return java if 'jdk.compiler' in out else None


@needs_keytool
def test_real_keytool_roundtrip(tmp_path):
    keytool = Keytool(run_command, KEYTOOL, tmpdir=str(tmp_path))
    ks = str(tmp_path / 'ks.p12')
    keytool.genseckey(ks, 'PKCS12', 'changeit', 'directenctest', 'AES', 192, 'changeit')
    listing = keytool.list(ks, 'PKCS12', 'changeit')
    assert find_entry(listing, 'directenctest')['entry_type'] == 'SecretKeyEntry'
    with pytest.raises(KeystoreError) as info:
        keytool.list(ks, 'PKCS12', 'wrong-password')
    assert info.value.result['error_kind'] == 'wrong_password'
    with pytest.raises(KeystoreError) as info:
        keytool.genseckey(ks, 'PKCS12', 'changeit', 'directenctest', 'AES', 192, 'changeit')
    assert info.value.result['error_kind'] == 'exists'
    assert detect_store_type(ks) == 'PKCS12'
    assert sorted(os.listdir(str(tmp_path))) == ['ks.p12']


@pytest.mark.skipif(real_java() is None, reason='no JDK with jdk.compiler next to keytool')
def test_real_probe_reads_size_and_fingerprint(tmp_path):
    keytool = Keytool(run_command, KEYTOOL, tmpdir=str(tmp_path))
    src = str(tmp_path / 'src.jceks')
    dst = str(tmp_path / 'dst.p12')
    keytool.genseckey(src, 'JCEKS', 'changeit', 'directenctest', 'AES', 256, 'entry-pass')
    keytool.import_entry(
        dict(path=src, store_type='JCEKS', store_password='changeit', alias='directenctest', key_password='entry-pass'),
        dict(path=dst, store_type='PKCS12', store_password='other-pass', alias='directenctest',
             key_password='other-pass'))
    inspector = JavaInspector(run_command, real_java(), tmpdir=str(tmp_path))
    a = inspector.inspect(src, 'JCEKS', 'changeit', 'directenctest', 'entry-pass')
    b = inspector.inspect(dst, 'PKCS12', 'other-pass', 'directenctest', 'other-pass')
    assert a['key_algorithm'] == b['key_algorithm'] == 'AES'
    assert a['key_size'] == b['key_size'] == 256
    assert a['fingerprint'] == b['fingerprint'] and len(a['fingerprint']) == 64
    assert inspector.inspect(src, 'JCEKS', 'changeit', 'absent', 'entry-pass') is None
    with pytest.raises(KeystoreError) as info:
        inspector.inspect(src, 'JCEKS', 'changeit', 'directenctest', 'wrong-pass')
    assert info.value.result['error_kind'] == 'key_password'
    # The reported fingerprint is SHA-256 over the domain string, a zero byte and the key: never the key.
    assert _keystore.FINGERPRINT_DOMAIN in _keystore.PROBE_SOURCE
