# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/_ldap.py.

The applier (planning, idempotence, check mode, continue-on-error, schema by OID) runs against
``FakeDirectory``: a strict in-memory server that answers like slapd where it matters (rc 20
for a value that exists, 68 for an entry that exists, 32 for a missing one, 80 for a duplicate
schema definition, ``{n}`` prefixes on cn=schema,cn=config children that a base search without
the prefix does not find). ``Directory`` and ``ldap3_changes`` run on ldap3's MOCK_SYNC
strategy; ``connect`` runs on patched ldap3 classes.
"""

from __future__ import annotations

import socket
import ssl

import pytest

ldap3 = pytest.importorskip('ldap3')

from ansible_collections.idmops.lifecycle.plugins.module_utils import _ldap  # noqa: E402
from ansible_collections.idmops.lifecycle.plugins.module_utils._ldap import (  # noqa: E402
    Directory,
    LdapError,
    LdifApplier,
    OperationError,
    Subschema,
    connect,
    describe_connect_error,
    ldap3_changes,
    parse_server_uri,
    render_entry,
)
from ansible_collections.idmops.lifecycle.plugins.module_utils._ldif import (  # noqa: E402
    normalize_dn,
    parse_ldif,
    schema_oid,
    split_dn,
)


CASE_EXACT = ('userpassword',)
BASE_SCHEMA = {
    'attributeTypes': [
        "( 2.5.4.3 NAME ( 'cn' 'commonName' ) SUP name )",
        "( 2.5.4.4 NAME ( 'sn' 'surname' ) SUP name )",
        "( 0.9.2342.19200300.100.1.3 NAME ( 'mail' 'rfc822Mailbox' ) )",
        "( 2.5.4.13 NAME 'description' )",
        "( 2.16.840.1.113730.3.1.241 NAME 'displayName' SINGLE-VALUE )",
        "( 0.9.2342.19200300.100.1.1 NAME ( 'uid' 'userid' ) )",
        "( 2.5.4.35 NAME 'userPassword' )",
    ],
    'objectClasses': [
        "( 2.5.6.6 NAME 'person' SUP top STRUCTURAL MUST ( sn $ cn ) )",
        "( 2.16.840.1.113730.3.2.2 NAME 'inetOrgPerson' SUP organizationalPerson STRUCTURAL )",
    ],
}


class FakeDirectory:
    """An in-memory LDAP server with the ``Directory`` interface (see the module docstring)."""

    def __init__(self, openldap=True, schema_dn='cn=Subschema', schema=None, refuse_schema=False):
        self.entries = {}  # normalized dn -> [dn, {attr: [bytes]}]
        self.writes = []
        self.reads = 0
        self.compares = 0
        self.openldap = openldap
        self.schema_dn = schema_dn
        self.refuse_schema = refuse_schema
        self.break_on = None
        self.schema = dict((k, list(v)) for k, v in (schema or BASE_SCHEMA).items())
        self._seq = {}

    # -- helpers for tests
    def put(self, dn, attrs):
        self.entries[normalize_dn(dn)] = [dn, dict((k, [_b(v) for v in vs]) for k, vs in attrs.items())]

    def get(self, dn):
        found = self.entries.get(normalize_dn(dn))
        return None if found is None else found[1]

    def values(self, dn, attr):
        return [v.decode() for v in _attr(self.get(dn) or {}, attr)]

    def _key(self, attr):
        base = attr.split(';')[0].lower()
        for definition in self.schema['attributeTypes']:
            names = [n.lower() for n in _names(definition)]
            if base in names:
                return names[0]
        return base

    def _match(self, attr, a, b):
        if self._key(attr) in CASE_EXACT:
            return a == b
        return a.lower() == b.lower()

    # -- Directory interface
    def search(self, base, scope, flt, attributes):
        self.reads += 1
        if self.break_on == 'read':
            raise LdapError('connection to ldap://fake broke: socket closed')
        nbase = normalize_dn(base)
        if scope == 'base':
            found = self.entries.get(nbase)
            if found is None:
                return None
            return [(found[0], self._select(found[1], attributes))]
        if nbase not in self.entries:
            return None
        children = []
        for ndn, (dn, attrs) in sorted(self.entries.items()):
            if ndn.endswith(',' + nbase) and ndn.count(',') == nbase.count(',') + 1:
                children.append((dn, self._select(attrs, attributes)))
        return children

    def _select(self, attrs, attributes):
        if attributes == ['*']:
            return dict((k, list(v)) for k, v in attrs.items())
        wanted = set(self._key(a) for a in attributes if a != '1.1')
        return dict((k, list(v)) for k, v in attrs.items() if self._key(k) in wanted)

    def read(self, dn, attributes):
        found = self.search(dn, 'base', '(objectClass=*)', attributes or ['1.1'])
        return found[0] if found else None

    def compare(self, dn, attr, value):
        self.compares += 1
        attrs = self.get(dn)
        if attrs is None:
            return None
        current = _attr(attrs, attr, self._key)
        if not current:
            return False
        return any(self._match(attr, v.decode('utf-8', 'replace'), value.decode('utf-8', 'replace')) for v in current)

    def read_subschema(self):
        if self.refuse_schema:
            raise OperationError(50, 'insufficientAccessRights', 'no read access to cn=Subschema')
        return self.schema_dn, dict((k, [_b(v) for v in vs]) for k, vs in self.schema.items())

    def is_openldap(self):
        return self.openldap

    def _result(self, rc, description='', message=''):
        if rc == 0:
            return 0, 'success', ''
        return rc, description, message

    def _write(self, *call):
        self.writes.append(call)
        if self.break_on == 'write':
            raise LdapError('connection to ldap://fake broke: socket closed')

    def add(self, dn, attrs):
        self._write('add', dn, [(a, list(v)) for a, v in attrs])
        ndn = normalize_dn(dn)
        rdns = split_dn(dn)
        if normalize_dn(','.join(rdns[1:])) == 'cn=schema,cn=config':
            return self._add_schema(dn, attrs)
        if ndn in self.entries:
            return self._result(68, 'entryAlreadyExists')
        parent = normalize_dn(','.join(rdns[1:]))
        if len(rdns) > 2 and parent not in self.entries:
            return self._result(32, 'noSuchObject')
        self.put(dn, dict((a, list(v)) for a, v in attrs))
        return self._result(0)

    def _add_schema(self, dn, attrs):
        known = set(schema_oid(d) for defs in self.schema.values() for d in defs)
        for attr, values in attrs:
            for value in values:
                if attr.lower().startswith('olc') and schema_oid(_s(value)) in known:
                    return self._result(80, 'other', '%s: Duplicate attributeType: "%s"' % (attr, schema_oid(_s(value))))
        rdns = split_dn(dn)
        for child, _attrs in self.entries.values():
            if normalize_dn(child, True) == normalize_dn(dn, True):
                return self._result(68, 'entryAlreadyExists')
        seq = self._seq.setdefault('schema', 0)
        self._seq['schema'] = seq + 1
        attr, _sep, value = rdns[0].partition('=')
        actual = '%s={%d}%s,%s' % (attr, seq, value, ','.join(rdns[1:]))
        stored = {}
        for name, values in attrs:
            if name.lower().startswith('olc'):
                values = ['{%d}%s' % (i, _s(v)) for i, v in enumerate(values)]
            stored[name] = list(values)
            self._learn(name, values)
        stored['cn'] = ['{%d}%s' % (seq, value)]
        self.put(actual, stored)
        return self._result(0)

    def _learn(self, attr, values):
        kind = {'olcattributetypes': 'attributeTypes', 'attributetypes': 'attributeTypes',
                'olcobjectclasses': 'objectClasses', 'objectclasses': 'objectClasses'}.get(attr.lower())
        if kind:
            self.schema[kind].extend(_s(v).split('}', 1)[-1] if _s(v).startswith('{') else _s(v) for v in values)

    def modify(self, dn, changes):
        self._write('modify', dn, [(op, a, list(v)) for op, a, v in changes])
        ndn = normalize_dn(dn)
        if ndn == normalize_dn(self.schema_dn) or ndn == 'cn=schema':
            if self.openldap:
                return self._result(21 if ndn != 'cn=schema' else 32, 'invalidAttributeSyntax' if ndn != 'cn=schema' else 'noSuchObject')
        if ndn not in self.entries:
            return self._result(32, 'noSuchObject')
        attrs = dict((k, list(v)) for k, v in self.entries[ndn][1].items())
        for op, attr, values in changes:
            name = next((k for k in attrs if self._key(k) == self._key(attr)), attr)
            current = attrs.get(name, [])
            values = [_b(v) for v in values]
            if op == 'add':
                for value in values:
                    if any(self._match(attr, c.decode(), value.decode()) for c in current):
                        return self._result(20, 'attributeOrValueExists')
                attrs[name] = current + values
                self._learn(attr, values)
            elif op == 'delete':
                if not values:
                    if not current:
                        return self._result(16, 'noSuchAttribute')
                    attrs.pop(name, None)
                    continue
                for value in values:
                    match = [c for c in current if self._match(attr, c.decode(), value.decode())]
                    if not match:
                        return self._result(16, 'noSuchAttribute')
                    current.remove(match[0])
                attrs[name] = current
            else:
                attrs[name] = values
            if not attrs.get(name):
                attrs.pop(name, None)
        self.entries[ndn][1] = attrs
        return self._result(0)

    def delete(self, dn):
        self._write('delete', dn)
        ndn = normalize_dn(dn)
        if ndn not in self.entries:
            return self._result(32, 'noSuchObject')
        if any(k.endswith(',' + ndn) for k in self.entries):
            return self._result(66, 'notAllowedOnNonLeaf')
        del self.entries[ndn]
        return self._result(0)

    def modify_dn(self, dn, newrdn, deleteoldrdn, newsuperior):
        self._write('modify_dn', dn, newrdn, deleteoldrdn, newsuperior)
        ndn = normalize_dn(dn)
        if ndn not in self.entries:
            return self._result(32, 'noSuchObject')
        parent = newsuperior if newsuperior is not None else ','.join(split_dn(dn)[1:])
        new_dn = newrdn + (',' + parent if parent else '')
        if normalize_dn(new_dn) in self.entries:
            return self._result(68, 'entryAlreadyExists')
        _old, attrs = self.entries.pop(ndn)
        self.entries[normalize_dn(new_dn)] = [new_dn, attrs]
        return self._result(0)


def _b(value):
    return value if isinstance(value, bytes) else value.encode('utf-8')


def _s(value):
    return value.decode('utf-8') if isinstance(value, bytes) else value


def _names(definition):
    import re
    match = re.search(r"NAME\s+(\(([^)]*)\)|'[^']*')", definition)
    return re.findall(r"'([^']*)'", match.group(1)) if match else []


def _attr(attrs, attr, keyfunc=None):
    keyfunc = keyfunc or (lambda a: a.lower())
    for name, values in attrs.items():
        if keyfunc(name) == keyfunc(attr):
            return values
    return []


@pytest.fixture
def server():
    fake = FakeDirectory()
    fake.put('dc=example,dc=com', {'objectClass': ['domain'], 'dc': ['example']})
    fake.put('ou=people,dc=example,dc=com', {'objectClass': ['organizationalUnit'], 'ou': ['people']})
    fake.put('cn=config', {'objectClass': ['olcGlobal'], 'cn': ['config']})
    fake.put('cn=schema,cn=config', {'objectClass': ['olcSchemaConfig'], 'cn': ['schema']})
    fake.put('cn={0}core,cn=schema,cn=config', {'objectClass': ['olcSchemaConfig'], 'cn': ['{0}core'],
                                                'olcAttributeTypes': ['{0}' + d for d in BASE_SCHEMA['attributeTypes']]})
    fake._seq['schema'] = 1
    return fake


def apply(server, text, **options):
    return LdifApplier(server, **options).run(parse_ldif(text))


def statuses(outcome):
    return [(r['status'], r['reason']) for r in outcome['results']]


ALICE = ('dn: uid=alice,ou=people,dc=example,dc=com\n'
         'objectClass: inetOrgPerson\n'
         'uid: alice\n'
         'cn: Alice\n'
         'sn: Liddell\n'
         'mail: alice@example.com\n'
         'userPassword: {SSHA}abc\n')

SCHEMA_ENTRY = ('dn: cn=am,cn=schema,cn=config\n'
                'objectClass: olcSchemaConfig\n'
                'cn: am\n'
                "olcAttributeTypes: ( 1.3.6.1.4.1.32473.1.1.1 NAME 'retryLimitNodeCount' "
                'SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )\n'
                "olcAttributeTypes: ( 1.3.6.1.4.1.32473.1.1.2 NAME 'amDeviceProfiles' "
                'SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )\n'
                "olcObjectClasses: ( 1.3.6.1.4.1.32473.1.2.1 NAME 'amAux' SUP top AUXILIARY "
                'MAY ( retryLimitNodeCount $ amDeviceProfiles ) )\n')

OPENDJ_SCHEMA = ('dn: cn=schema\n'
                 'changetype: modify\n'
                 'add: attributeTypes\n'
                 "attributeTypes: ( 1.3.6.1.4.1.32473.1.1.1 NAME 'retryLimitNodeCount' "
                 'SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 X-ORIGIN \'OpenAM\' )\n'
                 '-\n'
                 'add: objectClasses\n'
                 "objectClasses: ( 1.3.6.1.4.1.32473.1.2.1 NAME 'amAux' SUP top AUXILIARY "
                 'MAY ( retryLimitNodeCount ) X-ORIGIN \'OpenAM\' )\n')


# --- adds -------------------------------------------------------------------------------------------

def test_add_new_entry_then_second_run_skips(server):
    first = apply(server, ALICE)
    assert statuses(first) == [('applied', 'added')]
    assert first['changed'] is True
    assert first['results'][0]['rc'] == 0
    assert server.values('uid=alice,ou=people,dc=example,dc=com', 'mail') == ['alice@example.com']
    server.writes = []
    second = apply(server, ALICE)
    assert statuses(second) == [('skipped', 'exists')]
    assert second['changed'] is False
    assert server.writes == []


def test_existing_entry_compared_with_matching_rules(server):
    apply(server, ALICE)
    server.writes = []
    same = ALICE.replace('cn: Alice', 'cn: ALICE').replace('objectClass: inetOrgPerson', 'objectclass: INETORGPERSON')
    outcome = apply(server, same.replace('sn: Liddell', 'surname: liddell'))
    assert statuses(outcome) == [('skipped', 'exists')]
    assert server.writes == []
    assert server.compares >= 1


def test_existing_entry_lacking_values_is_reported_not_changed(server):
    apply(server, ALICE)
    server.writes = []
    outcome = apply(server, ALICE + 'mail: a2@example.com\ndescription: new\n')
    result = outcome['results'][0]
    assert (result['status'], result['reason']) == ('skipped', 'exists_differs')
    assert 'mail (1)' in result['message'] and 'description (1)' in result['message']
    assert outcome['changed'] is False
    assert server.writes == []


def test_ensure_values_adds_missing_and_replaces_single_valued(server):
    apply(server, ALICE + 'displayName: Old\n')
    server.writes = []
    outcome = apply(server, ALICE + 'mail: a2@example.com\ndisplayName: New\n', ensure_values=True)
    assert statuses(outcome) == [('applied', 'values_added')]
    assert server.writes == [('modify', 'uid=alice,ou=people,dc=example,dc=com',
                              [('add', 'mail', ['a2@example.com']), ('replace', 'displayName', ['New'])])]
    assert server.values('uid=alice,ou=people,dc=example,dc=com', 'mail') == ['alice@example.com', 'a2@example.com']
    assert server.values('uid=alice,ou=people,dc=example,dc=com', 'displayName') == ['New']
    diff = outcome['diff'][0]
    assert diff['before'] == 'dn: uid=alice,ou=people,dc=example,dc=com\nmail: alice@example.com\ndisplayName: Old\n'
    assert diff['after'] == ('dn: uid=alice,ou=people,dc=example,dc=com\nmail: alice@example.com\n'
                             'mail: a2@example.com\ndisplayName: New\n')
    assert statuses(apply(server, ALICE + 'mail: a2@example.com\ndisplayName: New\n', ensure_values=True)) == [
        ('skipped', 'exists')]


def test_add_refused_by_server_is_failed_with_rc(server):
    outcome = apply(server, 'dn: uid=x,ou=missing,dc=example,dc=com\nobjectClass: person\ncn: x\nsn: x\n')
    result = outcome['results'][0]
    assert (result['status'], result['reason'], result['rc']) == ('failed', 'server_error', 32)
    assert 'add refused by the server: noSuchObject (rc=32)' in result['message']
    assert outcome['changed'] is False
    assert outcome['diff'] == []


def test_diff_of_add_hides_passwords(server):
    outcome = apply(server, ALICE)
    assert outcome['diff'][0]['before'] == ''
    assert 'userPassword: <hidden>' in outcome['diff'][0]['after']
    assert '{SSHA}abc' not in outcome['diff'][0]['after']
    assert outcome['diff'][0]['before_header'] == 'uid=alice,ou=people,dc=example,dc=com (line 1)'


# --- modify -----------------------------------------------------------------------------------------

MODIFY = ('dn: uid=alice,ou=people,dc=example,dc=com\n'
          'changetype: modify\n'
          'add: mail\n'
          'mail: ALICE@example.com\n'
          'mail: a3@example.com\n'
          '-\n'
          'delete: description\n'
          '-\n'
          'delete: mail\n'
          'mail: gone@example.com\n'
          '-\n'
          'replace: sn\n'
          'sn: Liddell\n'
          '-\n')


def test_modify_sends_only_what_is_missing_then_skips(server):
    apply(server, ALICE)
    server.writes = []
    outcome = apply(server, MODIFY)
    assert statuses(outcome) == [('applied', 'modified')]
    assert server.writes == [('modify', 'uid=alice,ou=people,dc=example,dc=com', [('add', 'mail', ['a3@example.com'])])]
    assert 'entry modified (1 of 4 operations needed)' == outcome['results'][0]['message']
    server.writes = []
    again = apply(server, MODIFY)
    assert statuses(again) == [('skipped', 'values_present')]
    assert server.writes == []


def test_modify_delete_and_replace_when_needed(server):
    apply(server, ALICE + 'description: one\ndescription: two\n')
    server.writes = []
    text = ('dn: uid=alice,ou=people,dc=example,dc=com\nchangetype: modify\n'
            'delete: description\n-\n'
            'delete: mail\nmail: ALICE@EXAMPLE.COM\n-\n'
            'replace: sn\nsn: Pleasance\n-\n'
            'replace: cn\ncn: alice\n-\n')
    outcome = apply(server, text)
    assert statuses(outcome) == [('applied', 'modified')]
    assert server.writes[0][2] == [('delete', 'description', []), ('delete', 'mail', ['ALICE@EXAMPLE.COM']),
                                   ('replace', 'sn', ['Pleasance'])]
    assert server.values('uid=alice,ou=people,dc=example,dc=com', 'sn') == ['Pleasance']
    assert server.get('uid=alice,ou=people,dc=example,dc=com').get('description') is None
    assert statuses(apply(server, text)) == [('skipped', 'values_present')]


def test_replace_with_no_values_removes_attribute_once(server):
    apply(server, ALICE + 'description: x\n')
    text = 'dn: uid=alice,ou=people,dc=example,dc=com\nchangetype: modify\nreplace: description\n-\n'
    assert statuses(apply(server, text)) == [('applied', 'modified')]
    assert statuses(apply(server, text)) == [('skipped', 'values_present')]


def test_modify_of_missing_entry_fails_without_sending(server):
    outcome = apply(server, 'dn: uid=nobody,ou=people,dc=example,dc=com\nchangetype: modify\nadd: mail\nmail: x\n')
    result = outcome['results'][0]
    assert (result['status'], result['reason'], result['rc']) == ('failed', 'no_such_object', 32)
    assert server.writes == []


def test_modify_same_attribute_twice_keeps_order(server):
    apply(server, ALICE)
    server.writes = []
    text = ('dn: uid=alice,ou=people,dc=example,dc=com\nchangetype: modify\n'
            'delete: mail\nmail: alice@example.com\n-\n'
            'add: description\ndescription: d\n-\n'
            'add: mail\nmail: alice@example.com\n-\n')
    outcome = apply(server, text)
    assert statuses(outcome) == [('applied', 'modified')]
    assert server.writes[0][2] == [('delete', 'mail', ['alice@example.com']), ('add', 'description', ['d']),
                                   ('add', 'mail', ['alice@example.com'])]


# --- delete and modrdn --------------------------------------------------------------------------------

def test_delete_then_absent_is_skipped(server):
    apply(server, ALICE)
    text = 'dn: uid=alice,ou=people,dc=example,dc=com\nchangetype: delete\n'
    outcome = apply(server, text)
    assert statuses(outcome) == [('applied', 'deleted')]
    assert outcome['diff'][0]['after'] == ''
    assert 'mail: alice@example.com' in outcome['diff'][0]['before']
    assert statuses(apply(server, text)) == [('skipped', 'absent')]


def test_delete_of_non_leaf_fails_with_server_rc(server):
    apply(server, ALICE)
    outcome = apply(server, 'dn: ou=people,dc=example,dc=com\nchangetype: delete\n')
    assert outcome['results'][0]['status'] == 'failed'
    assert outcome['results'][0]['rc'] == 66


def test_modrdn_then_already_renamed(server):
    apply(server, ALICE)
    text = ('dn: uid=alice,ou=people,dc=example,dc=com\nchangetype: modrdn\nnewrdn: uid=alicia\n'
            'deleteoldrdn: 1\n')
    outcome = apply(server, text)
    assert statuses(outcome) == [('applied', 'renamed')]
    assert server.writes[-1] == ('modify_dn', 'uid=alice,ou=people,dc=example,dc=com', 'uid=alicia', True, None)
    assert statuses(apply(server, text)) == [('skipped', 'already_renamed')]


def test_moddn_with_newsuperior(server):
    apply(server, ALICE + '\ndn: ou=staff,dc=example,dc=com\nobjectClass: organizationalUnit\nou: staff\n')
    text = ('dn: uid=alice,ou=people,dc=example,dc=com\nchangetype: moddn\nnewrdn: uid=alice\n'
            'deleteoldrdn: 0\nnewsuperior: ou=staff,dc=example,dc=com\n')
    assert statuses(apply(server, text)) == [('applied', 'renamed')]
    assert server.get('uid=alice,ou=staff,dc=example,dc=com') is not None
    assert statuses(apply(server, text)) == [('skipped', 'already_renamed')]


def test_modrdn_failures(server):
    text = ('dn: uid=ghost,ou=people,dc=example,dc=com\nchangetype: modrdn\nnewrdn: uid=ghost2\ndeleteoldrdn: 1\n')
    assert statuses(apply(server, text)) == [('failed', 'no_such_object')]
    apply(server, ALICE + '\n' + ALICE.replace('alice', 'bob'))
    clash = ('dn: uid=alice,ou=people,dc=example,dc=com\nchangetype: modrdn\nnewrdn: uid=bob\ndeleteoldrdn: 1\n')
    outcome = apply(server, clash)
    assert statuses(outcome) == [('failed', 'target_exists')]
    assert outcome['results'][0]['rc'] == 68


# --- schema: OpenLDAP schema entries -------------------------------------------------------------------

def test_schema_entry_added_then_skipped_by_oid(server):
    outcome = apply(server, SCHEMA_ENTRY)
    assert statuses(outcome) == [('applied', 'added')]
    assert server.get('cn={1}am,cn=schema,cn=config') is not None
    server.writes = []
    again = apply(server, SCHEMA_ENTRY)
    assert statuses(again) == [('skipped', 'schema_defined')]
    assert 'cn={1}am,cn=schema,cn=config exists; all 3 definitions are defined' in again['results'][0]['message']
    assert server.writes == []


def test_schema_entry_defined_elsewhere_is_skipped(server):
    text = ('dn: cn=copy-of-core,cn=schema,cn=config\nobjectClass: olcSchemaConfig\ncn: copy-of-core\n'
            'olcAttributeTypes: {0}' + BASE_SCHEMA['attributeTypes'][0] + '\n')
    outcome = apply(server, text)
    assert statuses(outcome) == [('skipped', 'schema_defined')]
    assert 'other schema entries' in outcome['results'][0]['message']


def test_schema_entry_partly_defined_elsewhere_fails_before_sending(server):
    text = SCHEMA_ENTRY.replace('cn: am', 'cn: am2').replace('cn=am,', 'cn=am2,')
    apply(server, SCHEMA_ENTRY.replace("olcAttributeTypes: ( 1.3.6.1.4.1.32473.1.1.2 NAME 'amDeviceProfiles' "
                                       'SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )\n', '')
                              .replace(' $ amDeviceProfiles', ''))
    server.writes = []
    outcome = apply(server, text)
    result = outcome['results'][0]
    assert (result['status'], result['reason']) == ('failed', 'schema_conflict')
    assert '1.3.6.1.4.1.32473.1.1.1' in result['message']
    assert server.writes == []


def test_existing_schema_entry_lacking_definitions(server):
    partial = SCHEMA_ENTRY.replace("olcAttributeTypes: ( 1.3.6.1.4.1.32473.1.1.2 NAME 'amDeviceProfiles' "
                                   'SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )\n', '').replace(' $ amDeviceProfiles', '')
    apply(server, partial)
    server.writes = []
    outcome = apply(server, SCHEMA_ENTRY)
    assert statuses(outcome) == [('skipped', 'exists_differs')]
    assert '1 of 3 definitions are not defined (OIDs 1.3.6.1.4.1.32473.1.1.2)' in outcome['results'][0]['message']
    assert server.writes == []
    fixed = apply(server, SCHEMA_ENTRY, ensure_values=True)
    assert statuses(fixed) == [('applied', 'values_added')]
    assert server.writes[0][1] == 'cn={1}am,cn=schema,cn=config'
    # by OID only: the object class is defined (its MAY list differs) and is not sent again
    assert [(op, attr) for op, attr, _v in server.writes[0][2]] == [('add', 'olcAttributeTypes')]
    assert statuses(apply(server, SCHEMA_ENTRY)) == [('skipped', 'schema_defined')]


def test_modify_of_schema_child_found_without_ordering_prefix(server):
    apply(server, SCHEMA_ENTRY)
    text = ('dn: cn=am,cn=schema,cn=config\nchangetype: modify\nadd: olcAttributeTypes\n'
            "olcAttributeTypes: ( 1.3.6.1.4.1.32473.1.1.1 NAME 'retryLimitNodeCount' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )\n"
            "olcAttributeTypes: ( 1.3.6.1.4.1.32473.1.1.3 NAME 'amNew' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )\n")
    server.writes = []
    outcome = apply(server, text)
    assert statuses(outcome) == [('applied', 'modified')]
    assert server.writes[0][1] == 'cn={1}am,cn=schema,cn=config'
    assert [v for _op, _a, values in server.writes[0][2] for v in values] == [
        "( 1.3.6.1.4.1.32473.1.1.3 NAME 'amNew' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )"]
    assert statuses(apply(server, text)) == [('skipped', 'values_present')]


def test_config_values_compared_without_ordering_prefix(server):
    server.put('olcDatabase={1}mdb,cn=config', {'olcDatabase': ['{1}mdb'],
                                                'olcAccess': ['{0}to * by * read', '{1}to attrs=userPassword by self write']})
    text = ('dn: olcDatabase=mdb,cn=config\nchangetype: modify\nadd: olcAccess\n'
            'olcAccess: to attrs=userPassword  by self write\n')
    outcome = apply(server, text)
    assert statuses(outcome) == [('skipped', 'values_present')]


# --- schema: OpenDJ style cn=schema ----------------------------------------------------------------------

def test_opendj_style_schema_modify_skips_known_oids():
    server = FakeDirectory(openldap=False, schema_dn='cn=schema')
    server.put('cn=schema', {'objectClass': ['subschema'], 'cn': ['schema']})
    first = apply(server, OPENDJ_SCHEMA)
    assert statuses(first) == [('applied', 'modified')]
    assert [op for op, _a, _v in server.writes[0][2]] == ['add', 'add']
    server.writes = []
    second = apply(server, OPENDJ_SCHEMA)
    assert statuses(second) == [('skipped', 'values_present')]
    assert server.writes == []


def test_opendj_style_schema_partly_known_sends_only_the_new_definition():
    server = FakeDirectory(openldap=False, schema_dn='cn=schema')
    server.put('cn=schema', {'objectClass': ['subschema'], 'cn': ['schema']})
    server.schema['attributeTypes'].append("( 1.3.6.1.4.1.32473.1.1.1 NAME 'retryLimitNodeCount' X-SCHEMA-FILE '99-user.ldif' )")
    outcome = apply(server, OPENDJ_SCHEMA)
    assert statuses(outcome) == [('applied', 'modified')]
    assert server.writes[0][2] == [('add', 'objectClasses', [
        "objectClasses: ( 1.3.6.1.4.1.32473.1.2.1 NAME 'amAux' SUP top AUXILIARY MAY ( retryLimitNodeCount ) X-ORIGIN 'OpenAM' )"
        .split(': ', 1)[1]])]


def test_opendj_style_schema_on_openldap_known_is_skipped_unknown_fails_with_hint(server):
    apply(server, SCHEMA_ENTRY)
    known = apply(server, OPENDJ_SCHEMA)
    assert statuses(known) == [('skipped', 'schema_defined')]
    unknown = apply(server, OPENDJ_SCHEMA.replace('32473.1.1.1', '32473.1.1.77').replace('32473.1.2.1', '32473.1.2.77'))
    result = unknown['results'][0]
    assert (result['status'], result['reason'], result['rc']) == ('failed', 'no_such_object', 32)
    assert 'cn=<name>,cn=schema,cn=config' in result['message']
    server.put('cn=Subschema', {'objectClass': ['subschema'], 'cn': ['Subschema']})
    subschema = apply(server, OPENDJ_SCHEMA.replace('dn: cn=schema', 'dn: cn=Subschema').replace('32473.1.1.1', '32473.1.1.78'))
    result = subschema['results'][0]
    assert (result['status'], result['reason'], result['rc']) == ('failed', 'server_error', 21)
    assert result['message'].startswith('modify refused by the server: invalidAttributeSyntax (rc=21). OpenLDAP does not')
    # only the unknown attribute type was sent; the known object class was left out
    assert server.writes[-1][2] == [('add', 'attributeTypes', [
        "( 1.3.6.1.4.1.32473.1.1.78 NAME 'retryLimitNodeCount' SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 X-ORIGIN 'OpenAM' )"])]


def test_schema_unreadable_fails_schema_records_only():
    server = FakeDirectory(refuse_schema=True)
    server.put('dc=example,dc=com', {'objectClass': ['domain'], 'dc': ['example']})
    outcome = apply(server, OPENDJ_SCHEMA + '\ndn: cn=x,dc=example,dc=com\nobjectClass: person\ncn: x\nsn: x\n',
                    continue_on_error=True)
    assert statuses(outcome) == [('failed', 'schema_unreadable'), ('applied', 'added')]
    assert 'insufficientAccessRights' in outcome['results'][0]['message']


# --- a stream: continue on error, stop, check mode -------------------------------------------------------

STREAM = (ALICE + '\n'
          'dn: uid=bad,ou=nowhere,dc=example,dc=com\nobjectClass: person\ncn: bad\nsn: bad\n\n'
          + ALICE.replace('alice', 'bob'))


def test_stop_at_first_failure(server):
    outcome = apply(server, STREAM)
    assert statuses(outcome) == [('applied', 'added'), ('failed', 'server_error'), ('not_run', 'not_run')]
    assert outcome['counts'] == dict(applied=1, skipped=0, failed=1, would_apply=0, not_run=1, total=3)
    assert outcome['failed'] == 1
    assert 'line 9' in outcome['results'][2]['message']
    assert server.get('uid=bob,ou=people,dc=example,dc=com') is None


def test_continue_on_error_applies_the_others(server):
    outcome = apply(server, STREAM, continue_on_error=True)
    assert statuses(outcome) == [('applied', 'added'), ('failed', 'server_error'), ('applied', 'added')]
    assert outcome['changed'] is True
    assert server.get('uid=bob,ou=people,dc=example,dc=com') is not None


def test_broken_connection_stops_even_with_continue_on_error(server):
    server.break_on = 'write'
    outcome = apply(server, STREAM, continue_on_error=True)
    assert statuses(outcome) == [('failed', 'connection_error'), ('not_run', 'not_run'), ('not_run', 'not_run')]
    assert 'broke' in outcome['results'][0]['message']


def test_request_ldap3_will_not_build_is_a_failed_record(server):
    def refuse(*_args):
        raise OperationError(None, 'ldap3 did not send the request', 'objectClass attribute is mandatory')
    server.add = refuse
    outcome = apply(server, 'dn: cn=x,dc=example,dc=com\ncn: x\n')
    assert statuses(outcome) == [('failed', 'client_error')]
    assert outcome['results'][0]['message'] == ('add not sent: ldap3 did not send the request: '
                                                'objectClass attribute is mandatory')
    assert outcome['results'][0]['rc'] is None


def test_read_refused_is_a_failed_record(server):
    def refuse(*_args):
        raise OperationError(50, 'insufficientAccessRights', 'no read')
    server.search = refuse
    outcome = apply(server, ALICE)
    assert statuses(outcome) == [('failed', 'read_refused')]
    assert outcome['results'][0]['rc'] == 50


def test_check_mode_plans_and_writes_nothing(server):
    text = (ALICE + '\n' + MODIFY + '\n'
            'dn: uid=alice,ou=people,dc=example,dc=com\nchangetype: modrdn\nnewrdn: uid=alicia\ndeleteoldrdn: 1\n\n'
            'dn: uid=alicia,ou=people,dc=example,dc=com\nchangetype: modify\nadd: description\ndescription: x\n-\n\n'
            'dn: uid=alicia,ou=people,dc=example,dc=com\nchangetype: delete\n\n'
            'dn: uid=alicia,ou=people,dc=example,dc=com\nchangetype: delete\n\n'
            + SCHEMA_ENTRY + '\n' + SCHEMA_ENTRY.replace('cn=am,', 'cn=am-again,').replace('cn: am', 'cn: am-again'))
    outcome = apply(server, text, check_mode=True)
    assert statuses(outcome) == [('would_apply', 'added'), ('would_apply', 'modified'), ('would_apply', 'renamed'),
                                 ('would_apply', 'modified'), ('would_apply', 'deleted'), ('skipped', 'absent'),
                                 ('would_apply', 'added'), ('skipped', 'schema_defined')]
    assert outcome['results'][0]['message'] == 'would: entry added'
    assert outcome['changed'] is True
    assert outcome['counts']['would_apply'] == 6
    assert server.writes == []
    assert server.get('uid=alice,ou=people,dc=example,dc=com') is None
    assert len(outcome['diff']) == 6


def test_check_mode_on_existing_entries_matches_the_real_run(server):
    apply(server, ALICE)
    text = MODIFY + '\ndn: uid=alice,ou=people,dc=example,dc=com\nchangetype: modrdn\nnewrdn: uid=alicia\ndeleteoldrdn: 1\n\n' \
        'dn: uid=alicia,ou=people,dc=example,dc=com\nchangetype: modify\nadd: mail\nmail: a3@example.com\n'
    server.writes = []
    plan = apply(server, text, check_mode=True)
    assert server.writes == []
    real = apply(server, text)
    assert [r['reason'] for r in plan['results']] == [r['reason'] for r in real['results']]
    assert [r['status'] for r in real['results']] == ['applied', 'applied', 'skipped']


def test_check_mode_failure_is_reported(server):
    outcome = apply(server, 'dn: uid=x,ou=people,dc=example,dc=com\nchangetype: modify\nadd: mail\nmail: x\n',
                    check_mode=True)
    assert statuses(outcome) == [('failed', 'no_such_object')]


# --- Subschema ------------------------------------------------------------------------------------------

def test_subschema_aliases_and_single_value():
    schema = Subschema('cn=Subschema', dict((k, [v.encode() for v in vs]) for k, vs in BASE_SCHEMA.items()))
    assert schema.attr_key('surname') == schema.attr_key('SN') == '2.5.4.4'
    assert schema.attr_key('cn;lang-en') == '2.5.4.3;lang-en'
    assert schema.attr_key('unknownAttr') == 'unknownattr'
    assert schema.is_single_valued('displayName') and not schema.is_single_valued('mail')
    assert schema.defines('attributeTypes', "{3}( 2.5.4.3 NAME 'other' )")
    assert not schema.defines('attributeTypes', "( 9.9.9 NAME 'cn' )")
    assert schema.defines('attributeTypes', "( cnOid NAME 'cn' )")
    assert not schema.defines('attributeTypes', 'garbage')


def test_render_entry_base64_and_hidden():
    text = render_entry('cn=a', [('jpegPhoto', [b'\xff']), ('olcRootPW', [b'secret']), ('cn', [b'a'])])
    assert text == 'dn: cn=a\njpegPhoto:: /w==\nolcRootPW: <hidden>\ncn: a\n'


# --- server URIs and connecting ------------------------------------------------------------------------------

@pytest.mark.parametrize('uri, expected', [
    ('ldap://ldap.example.com', ('ldap', 'ldap.example.com', 389, None)),
    ('ldap://127.0.0.1:3389/', ('ldap', '127.0.0.1', 3389, None)),
    ('LDAPS://ds.example.com:1636', ('ldaps', 'ds.example.com', 1636, None)),
    ('ldaps://[::1]:636', ('ldaps', '::1', 636, None)),
    ('ldapi://%2Fvar%2Frun%2Fslapd%2Fldapi', ('ldapi', None, None, '/var/run/slapd/ldapi')),
    ('ldapi:///var/run/slapd/ldapi', ('ldapi', None, None, '/var/run/slapd/ldapi')),
])
def test_parse_server_uri(uri, expected):
    target = parse_server_uri(uri)
    assert (target.scheme, target.host, target.port, target.path) == expected


@pytest.mark.parametrize('uri, fragment', [
    ('ldap.example.com', 'must look like'),
    ('http://x', 'scheme must be'),
    ('ldap://x:notaport', 'invalid port'),
    ('ldap://x/dc=example?cn', 'must not have a path'),
    ('ldap://user:pw@x', 'must not carry credentials'),
    ('ldap://:389', 'names no host'),
    ('ldapi://', 'names no socket path'),
])
def test_parse_server_uri_errors(uri, fragment):
    with pytest.raises(LdapError, match=fragment):
        parse_server_uri(uri)


class FakeConnection:
    """Stands in for ldap3.Connection in connect() tests."""

    instances = []
    errors = {}  # step ('open', 'start_tls') -> exception to raise
    bind_result = {'result': 0, 'description': 'success', 'message': ''}

    def __init__(self, server, **kwargs):
        self.server = server
        self.kwargs = kwargs
        self.result = None
        self.calls = []
        self.last_error = None
        FakeConnection.instances.append(self)

    def open(self):
        self.calls.append('open')
        if 'open' in FakeConnection.errors:
            raise FakeConnection.errors['open']

    def start_tls(self):
        self.calls.append('start_tls')
        if 'start_tls' in FakeConnection.errors:
            raise FakeConnection.errors['start_tls']

    def bind(self):
        self.calls.append('bind')
        self.result = dict(FakeConnection.bind_result)
        return self.result['result'] == 0

    def unbind(self):
        self.calls.append('unbind')


class FakeServer:
    def __init__(self, host, **kwargs):
        self.host = host
        self.kwargs = kwargs


@pytest.fixture
def fake_ldap3(monkeypatch):
    FakeConnection.instances = []
    FakeConnection.errors = {}
    FakeConnection.bind_result = {'result': 0, 'description': 'success', 'message': ''}
    monkeypatch.setattr(_ldap.ldap3, 'Connection', FakeConnection)
    monkeypatch.setattr(_ldap.ldap3, 'Server', FakeServer)
    return FakeConnection


def test_connect_simple_bind_over_starttls_with_ca(fake_ldap3, tmp_path):
    ca = tmp_path / 'ca.pem'
    ca.write_text('x')
    directory = connect('ldap://ldap.example.com:3389', start_tls=True, ca_file=str(ca),
                        bind_dn='cn=admin,dc=example,dc=com', bind_password='pw', timeout=7)
    conn = fake_ldap3.instances[0]
    assert conn.calls == ['open', 'start_tls', 'bind']
    assert conn.kwargs['user'] == 'cn=admin,dc=example,dc=com'
    assert conn.kwargs['receive_timeout'] == 7 and conn.kwargs['raise_exceptions'] is False
    server = conn.server
    assert (server.host, server.kwargs['port'], server.kwargs['use_ssl']) == ('ldap.example.com', 3389, False)
    tls = server.kwargs['tls']
    assert tls.validate == ssl.CERT_REQUIRED and tls.ca_certs_file == str(ca) and tls.sni == 'ldap.example.com'
    assert isinstance(directory, Directory)


def test_connect_ldaps_without_validation_and_ip_has_no_sni(fake_ldap3):
    connect('ldaps://127.0.0.1:636', validate_certs=False, bind_dn='cn=a', bind_password='pw')
    tls = fake_ldap3.instances[0].server.kwargs['tls']
    assert tls.validate == ssl.CERT_NONE and tls.sni is None
    assert fake_ldap3.instances[0].server.kwargs['use_ssl'] is True


def test_connect_ldapi_sasl_external(fake_ldap3):
    connect('ldapi:///run/slapd/ldapi', sasl_mechanism='EXTERNAL')
    conn = fake_ldap3.instances[0]
    assert conn.server.host == 'ldapi://%2Frun%2Fslapd%2Fldapi'
    assert conn.kwargs['authentication'] == ldap3.SASL
    assert conn.kwargs['sasl_mechanism'] == ldap3.EXTERNAL
    assert conn.kwargs['sasl_credentials'] == ''


def test_connect_anonymous(fake_ldap3):
    connect('ldap://x')
    assert fake_ldap3.instances[0].kwargs['authentication'] == ldap3.ANONYMOUS


@pytest.mark.parametrize('kwargs, fragment', [
    (dict(server_uri='ldaps://x', start_tls=True), 'cannot be combined with an ldaps'),
    (dict(server_uri='ldapi:///s', start_tls=True), 'not used with ldapi'),
    (dict(server_uri='ldap://x', sasl_mechanism='EXTERNAL'), 'over ldapi:// only'),
    (dict(server_uri='ldapi:///s', sasl_mechanism='EXTERNAL', bind_dn='cn=a', bind_password='p'), 'cannot be combined'),
    (dict(server_uri='ldapi:///s', sasl_mechanism='GSSAPI'), 'must be EXTERNAL'),
    (dict(server_uri='ldap://x', bind_dn='cn=a'), 'needs bind_password'),
    (dict(server_uri='ldap://x', bind_password='p'), 'needs bind_dn'),
    (dict(server_uri='ldap://x', ca_file='/nonexistent/ca.pem'), 'ca_file /nonexistent/ca.pem does not exist'),
])
def test_connect_rejects_bad_combinations_before_connecting(fake_ldap3, kwargs, fragment):
    with pytest.raises(LdapError, match=fragment):
        connect(**kwargs)
    assert fake_ldap3.instances == []


def test_connect_bad_credentials(fake_ldap3):
    fake_ldap3.bind_result = {'result': 49, 'description': 'invalidCredentials', 'message': ''}
    with pytest.raises(LdapError) as info:
        connect('ldap://x:389', bind_dn='cn=admin,dc=example,dc=com', bind_password='wrong')
    assert info.value.rc == 49
    assert str(info.value) == ('bind as cn=admin,dc=example,dc=com on ldap://x:389 failed: invalidCredentials (rc=49). '
                               'Check bind_dn and the password')
    assert fake_ldap3.instances[0].calls == ['open', 'bind', 'unbind']


def _ldap3_error(cause):
    """An exception shaped like ldap3's: its class mixes LDAPSocketOpenError with the cause's class."""
    kind = type('LDAPSocketOpenError', (ldap3.core.exceptions.LDAPSocketOpenError, type(cause)), {})
    return kind(str(("('socket ssl wrapping error: %s',)" % cause,)))


def test_connect_unreachable(fake_ldap3):
    fake_ldap3.errors['open'] = _ldap3_error(ConnectionRefusedError(111, 'Connection refused'))
    with pytest.raises(LdapError, match=r'cannot connect to ldap://127.0.0.1:1: connection refused'):
        connect('ldap://127.0.0.1:1')


def test_connect_tls_verification_failure(fake_ldap3):
    fake_ldap3.errors['open'] = _ldap3_error(ssl.SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed'))
    with pytest.raises(LdapError) as info:
        connect('ldaps://127.0.0.1:636', bind_dn='cn=a', bind_password='p')
    assert str(info.value).startswith('TLS certificate verification failed for ldaps://127.0.0.1:636 (')
    assert 'ca_file' in str(info.value)


def test_connect_starttls_certificate_failure(fake_ldap3):
    fake_ldap3.errors['start_tls'] = type('LDAPStartTLSError', (ldap3.core.exceptions.LDAPStartTLSError, ssl.SSLCertVerificationError), {})(
        'wrap socket error: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed')
    with pytest.raises(LdapError, match=r'^TLS certificate verification failed for ldap://x \(StartTLS\) \(wrap socket error'):
        connect('ldap://x', start_tls=True)


def test_host_name_mismatch_names_the_certificate_names():
    text = ("socket ssl wrapping error: certificate {'subject': ((('commonName', 'localhost'),),), "
            "'subjectAltName': (('DNS', 'localhost'), ('IP Address', '127.0.0.1'))} doesn't match any name in ['127.0.0.2']")
    error = ldap3.core.exceptions.LDAPCertificateError(text)
    assert describe_connect_error(error, parse_server_uri('ldaps://127.0.0.2:636'), 5) == (
        "TLS certificate of ldaps://127.0.0.2:636 does not match the host name '127.0.0.2' "
        "(the certificate names DNS:localhost, IP:127.0.0.1)")


def test_connect_starttls_refused(fake_ldap3):
    fake_ldap3.errors['start_tls'] = ldap3.core.exceptions.LDAPStartTLSError('startTLS failed - protocolError')
    with pytest.raises(LdapError, match='StartTLS on ldap://x was refused by the server: startTLS failed - protocolError'):
        connect('ldap://x', start_tls=True)
    assert fake_ldap3.instances[0].calls == ['open', 'start_tls', 'unbind']


@pytest.mark.parametrize('cause, fragment', [
    (socket.timeout('timed out'), 'timed out after 5 seconds'),
    (FileNotFoundError(2, 'No such file or directory'), 'socket /tmp/nope does not exist'),
    (ldap3.core.exceptions.LDAPCertificateError("certificate doesn't match any name"), 'does not match the host name'),
    (ssl.SSLError(1, 'wrong version number'), 'TLS handshake'),
    (ValueError('odd'), 'cannot connect to'),
])
def test_describe_connect_error(cause, fragment):
    target = parse_server_uri('ldapi:///tmp/nope' if isinstance(cause, FileNotFoundError) else 'ldaps://h:1')
    assert fragment in describe_connect_error(cause, target, 5)


# --- Directory on ldap3's MOCK_SYNC strategy -------------------------------------------------------------------

@pytest.fixture
def mock_directory():
    server = ldap3.Server('mock', get_info=ldap3.NONE)
    conn = ldap3.Connection(server, user='cn=admin,dc=example,dc=com', password='pw',
                            client_strategy=ldap3.MOCK_SYNC, raise_exceptions=False, check_names=False)
    conn.strategy.add_entry('cn=admin,dc=example,dc=com', {'userPassword': 'pw', 'sn': 'admin'})
    conn.strategy.add_entry('dc=example,dc=com', {'objectClass': ['top', 'domain'], 'dc': 'example'})
    conn.bind()
    return Directory(conn, target=parse_server_uri('ldap://mock'))


def test_directory_read_write_compare_on_mock(mock_directory):
    directory = mock_directory
    assert directory.read('cn=nobody,dc=example,dc=com', ['cn']) is None
    rc = directory.add('cn=a,dc=example,dc=com', [('objectClass', ['person']), ('cn', ['a']), ('sn', [b'A'])])
    assert rc[0] == 0
    assert directory.add('cn=a,dc=example,dc=com', [('objectClass', ['person']), ('cn', ['a'])])[0] == 68
    with pytest.raises(OperationError, match='ldap3 did not send the request: objectClass attribute is mandatory'):
        directory.add('cn=c,dc=example,dc=com', [('cn', ['c'])])
    dn, raw = directory.read('cn=a,dc=example,dc=com', ['sn', 'cn'])
    assert dn == 'cn=a,dc=example,dc=com'
    assert raw['sn'] == [b'A']
    assert directory.compare('cn=a,dc=example,dc=com', 'sn', b'A') is True
    assert directory.compare('cn=a,dc=example,dc=com', 'description', b'x') is False
    assert directory.modify('cn=a,dc=example,dc=com', [('add', 'mail', ['x@example.com']),
                                                       ('replace', 'sn', ['B'])])[0] == 0
    assert directory.read('cn=a,dc=example,dc=com', ['mail', 'sn'])[1] == {'mail': [b'x@example.com'], 'sn': [b'B']}
    assert directory.modify('cn=zz,dc=example,dc=com', [('add', 'mail', ['x'])])[0] == 32
    assert directory.modify_dn('cn=a,dc=example,dc=com', 'cn=b', True, None)[0] == 0
    assert directory.read('cn=b,dc=example,dc=com', ['1.1']) is not None
    assert directory.delete('cn=b,dc=example,dc=com')[0] == 0
    assert directory.read('cn=b,dc=example,dc=com', ['1.1']) is None


def test_applier_end_to_end_on_mock(mock_directory, monkeypatch):
    monkeypatch.setattr(mock_directory, 'read_subschema',
                        lambda: ('cn=schema', dict((k, [v.encode() for v in vs]) for k, vs in BASE_SCHEMA.items())))
    text = 'dn: cn=m,dc=example,dc=com\nobjectClass: person\ncn: m\nsn: M\n'
    first = LdifApplier(mock_directory).run(parse_ldif(text))
    assert statuses(first) == [('applied', 'added')]
    second = LdifApplier(mock_directory).run(parse_ldif(text))
    assert statuses(second) == [('skipped', 'exists')]


def test_ldap3_changes_keeps_order_with_case_variants():
    changes = ldap3_changes([('delete', 'mail', ['a']), ('add', 'cn', ['b']), ('add', 'mail', ['a']),
                             ('replace', 'mail', [b'c'])])
    assert list(changes) == ['mail', 'cn', 'MAIL']
    assert changes['mail'] == [(ldap3.MODIFY_DELETE, [b'a'])]
    assert changes['cn'] == [(ldap3.MODIFY_ADD, [b'b'])]
    assert changes['MAIL'] == [(ldap3.MODIFY_ADD, [b'a']), (ldap3.MODIFY_REPLACE, [b'c'])]


def test_ldap3_changes_consecutive_same_attribute_share_a_key():
    changes = ldap3_changes([('delete', 'sn', ['a']), ('add', 'sn', ['b'])])
    assert changes == {'sn': [(ldap3.MODIFY_DELETE, [b'a']), (ldap3.MODIFY_ADD, [b'b'])]}
