# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/modules/ldif_apply.py: arguments, inputs, exit and fail paths, check mode, diff.

The server is faked at the ``connect`` boundary: ``ldif_apply.connect`` is replaced and returns
``MiniDirectory``, a small in-memory directory with the ``_ldap.Directory`` interface. The
planning itself is tested in tests/unit/plugins/module_utils/test_ldap_apply.py.
"""

from __future__ import annotations

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idmops.lifecycle.plugins.module_utils._ldap import LdapError
from ansible_collections.idmops.lifecycle.plugins.modules import ldif_apply
from ansible_collections.idmops.lifecycle.tests.unit.plugins.modules.utils import exit_result, fail_result


class MiniDirectory:
    """Entries by lower-cased DN; values compared exactly. Enough for the module's paths."""

    def __init__(self):
        self.entries = {'dc=example,dc=com': {'objectClass': [b'domain'], 'dc': [b'example']}}
        self.writes = []
        self.closed = False

    def read(self, dn, attributes):
        attrs = self.entries.get(dn.lower())
        if attrs is None:
            return None
        return dn, dict((k, list(v)) for k, v in attrs.items())

    def search(self, base, scope, flt, attributes):
        found = self.read(base, attributes)
        return [found] if found and scope == 'base' else ([] if found else None)

    def compare(self, dn, attr, value):
        return False

    def read_subschema(self):
        return 'cn=Subschema', {}

    def is_openldap(self):
        return True

    def add(self, dn, attrs):
        self.writes.append(('add', dn))
        if 'ou=missing' in dn.lower():
            return 32, 'noSuchObject', ''
        self.entries[dn.lower()] = dict((a, [v.encode() if isinstance(v, str) else v for v in vs]) for a, vs in attrs)
        return 0, 'success', ''

    def modify(self, dn, changes):
        self.writes.append(('modify', dn))
        return 0, 'success', ''

    def delete(self, dn):
        self.writes.append(('delete', dn))
        self.entries.pop(dn.lower(), None)
        return 0, 'success', ''

    def close(self):
        self.closed = True


@pytest.fixture
def module_env(monkeypatch):
    env = dict(directory=MiniDirectory(), connect_calls=[], connect_errors=[])

    def fake_connect(server_uri, **kwargs):
        env['connect_calls'].append(dict(kwargs, server_uri=server_uri))
        if env['connect_errors']:
            raise env['connect_errors'][0]
        return env['directory']
    monkeypatch.setattr(ldif_apply, 'connect', fake_connect)
    return env


def run(args, expect='exit'):
    base = dict(server_uri='ldap://127.0.0.1:3389', bind_dn='cn=admin,dc=example,dc=com', bind_password='pw')
    base.update(args)
    base = dict((k, v) for k, v in base.items() if v is not None)  # None: leave the option out
    if expect == 'exit':
        return exit_result(ldif_apply.main, base)
    return fail_result(ldif_apply.main, base)


ENTRY = 'dn: ou=people,dc=example,dc=com\nobjectClass: organizationalUnit\nou: people\n'
BAD = 'dn: uid=x,ou=missing,dc=example,dc=com\nobjectClass: person\ncn: x\nsn: x\n'


def test_argument_spec_matches_the_documentation():
    import yaml
    doc = yaml.safe_load(ldif_apply.DOCUMENTATION)
    spec = ldif_apply.argument_spec()
    assert set(doc['options']) == set(spec)
    for name, option in spec.items():
        assert doc['options'][name]['type'] == option['type'], name
        assert doc['options'][name].get('default') == option.get('default'), name
        assert doc['options'][name].get('choices') == option.get('choices'), name
    assert spec['bind_password']['no_log'] is True


def test_applies_content_and_reports(module_env):
    result = run(dict(content=ENTRY))
    assert result['changed'] is True
    assert result['results'] == [dict(dn='ou=people,dc=example,dc=com', changetype='add', line=1, status='applied',
                                      reason='added', message='entry added', rc=0)]
    assert result['counts'] == dict(applied=1, skipped=0, failed=0, would_apply=0, not_run=0, total=1)
    assert result['msg'] == '1 record: 1 applied'
    assert 'diff' not in result
    assert module_env['directory'].closed is True
    call = module_env['connect_calls'][0]
    assert call == dict(server_uri='ldap://127.0.0.1:3389', start_tls=False, ca_file=None, validate_certs=True,
                        bind_dn='cn=admin,dc=example,dc=com', bind_password='pw', sasl_mechanism=None, timeout=30)
    again = run(dict(content=ENTRY))
    assert again['changed'] is False
    assert again['results'][0]['status'] == 'skipped'


def test_src_file_diff_and_check_mode(module_env, tmp_path):
    src = tmp_path / 'people.ldif'
    src.write_text(ENTRY)
    result = run(dict(src=str(src), _ansible_check_mode=True, _ansible_diff=True))
    assert result['changed'] is True
    assert result['results'][0]['status'] == 'would_apply'
    assert result['msg'] == '1 record: 1 would apply (check mode)'
    assert result['diff'] == [dict(before_header='ou=people,dc=example,dc=com (line 1)',
                                   after_header='ou=people,dc=example,dc=com (line 1)', before='',
                                   after='dn: ou=people,dc=example,dc=com\nobjectClass: organizationalUnit\nou: people\n')]
    assert module_env['directory'].writes == []


def test_syntax_error_fails_with_line_before_connecting(module_env, tmp_path):
    src = tmp_path / 'bad.ldif'
    src.write_text(ENTRY + '\ndn: cn=x,dc=example,dc=com\nchangetype: modify\nadd: mail\nsn: x\n')
    result = run(dict(src=str(src)), expect='fail')
    assert result['msg'] == "%s: LDIF syntax error at line 8: attribute 'sn' does not match the operation 'add: mail' (missing '-' line?)" % src
    assert result['line'] == 8
    assert module_env['connect_calls'] == []
    content = run(dict(content='cn: x\n'), expect='fail')
    assert content['msg'].startswith('LDIF syntax error at line 1: ')


def test_src_missing_and_mutually_exclusive(module_env, tmp_path):
    assert 'does not exist' in run(dict(src=str(tmp_path / 'nope.ldif')), expect='fail')['msg']
    assert 'mutually exclusive' in run(dict(src='/x', content=ENTRY), expect='fail')['msg']
    assert 'one of the following is required' in run(dict(), expect='fail')['msg']
    assert module_env['connect_calls'] == []


def test_password_file_strips_one_newline(module_env, tmp_path):
    secret = tmp_path / 'pw'
    secret.write_text('s3cret \n')
    run(dict(content=ENTRY, bind_password=None, bind_password_file=str(secret)))
    assert module_env['connect_calls'][0]['bind_password'] == 's3cret '


def test_password_file_problems(module_env, tmp_path):
    empty = tmp_path / 'empty'
    empty.write_text('\n')
    assert 'is empty' in run(dict(content=ENTRY, bind_password=None, bind_password_file=str(empty)), expect='fail')['msg']
    missing = run(dict(content=ENTRY, bind_password=None, bind_password_file=str(tmp_path / 'none')), expect='fail')
    assert missing['msg'].startswith('cannot read bind_password_file')
    assert 'mutually exclusive' in run(dict(content=ENTRY, bind_password_file=str(empty)), expect='fail')['msg']
    assert module_env['connect_calls'] == []


def test_sasl_external_excludes_bind_dn(module_env):
    result = run(dict(content=ENTRY, sasl_mechanism='EXTERNAL'), expect='fail')
    assert 'mutually exclusive' in result['msg']
    ok = run(dict(content=ENTRY, sasl_mechanism='EXTERNAL', bind_dn=None, bind_password=None,
                  server_uri='ldapi://%2Frun%2Fldapi'))
    assert ok['changed'] is True
    assert module_env['connect_calls'][0]['sasl_mechanism'] == 'EXTERNAL'


def test_connection_failure_is_a_clear_failure(module_env):
    module_env['connect_errors'].append(LdapError('bind as cn=admin,dc=example,dc=com on ldap://127.0.0.1:3389 failed: '
                                                  'invalidCredentials (rc=49). Check bind_dn and the password', rc=49))
    result = run(dict(content=ENTRY), expect='fail')
    assert result['msg'].startswith('bind as cn=admin')
    assert result['rc'] == 49
    assert result['results'] == []
    assert 'changed' not in result or result['changed'] is False


def test_stop_at_first_failure_fails_the_task(module_env):
    result = run(dict(content=BAD + '\n' + ENTRY), expect='fail')
    assert [r['status'] for r in result['results']] == ['failed', 'not_run']
    assert result['changed'] is False
    assert result['msg'].startswith('2 records: 1 failed, 1 not run; first failure at line 1 (uid=x,ou=missing,dc=example,dc=com): '
                                    'add refused by the server: noSuchObject (rc=32)')


def test_continue_on_error_fails_at_the_end(module_env):
    result = run(dict(content=BAD + '\n' + ENTRY, continue_on_error=True), expect='fail')
    assert [r['status'] for r in result['results']] == ['failed', 'applied']
    assert result['changed'] is True


def test_continue_on_error_without_fail_on_error_warns(module_env, monkeypatch):
    warnings = []
    monkeypatch.setattr(AnsibleModule, 'warn', lambda self, msg: warnings.append(msg))
    result = run(dict(content=BAD + '\n' + ENTRY, continue_on_error=True, fail_on_error=False))
    assert [r['status'] for r in result['results']] == ['failed', 'applied']
    assert result['changed'] is True
    assert warnings == ['LDIF record at line 1 (uid=x,ou=missing,dc=example,dc=com) failed: '
                        'add refused by the server: noSuchObject (rc=32)']


def test_empty_ldif_changes_nothing_and_does_not_connect(module_env):
    result = run(dict(content='# only a comment\n'))
    assert result['changed'] is False
    assert result['msg'] == 'the LDIF holds no records'
    assert module_env['connect_calls'] == []


def test_timeout_must_be_positive(module_env):
    assert 'timeout must be positive' in run(dict(content=ENTRY, timeout=0), expect='fail')['msg']


def test_missing_ldap3(module_env, monkeypatch):
    monkeypatch.setattr(ldif_apply, 'HAS_LDAP3', False)
    monkeypatch.setattr(ldif_apply, 'LDAP3_IMPORT_ERROR', 'Traceback: ImportError')
    result = run(dict(content=ENTRY), expect='fail')
    assert 'ldap3' in result['msg']
    assert result['exception'] == 'Traceback: ImportError'
