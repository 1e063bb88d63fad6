# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/_ldif.py: the LDIF parser and the DN and schema helpers."""

from __future__ import annotations

import base64

import pytest

from ansible_collections.idmops.lifecycle.plugins.module_utils._ldif import (
    LDIFError,
    Modification,
    is_numeric_oid,
    normalize_dn,
    parent_dn,
    parse_ldif,
    rdn_of,
    rdn_values,
    render_line,
    schema_names,
    schema_oid,
    single_value,
    split_dn,
    strip_ordering,
    value_bytes,
    value_text,
)


def syntax_error(text):
    with pytest.raises(LDIFError) as info:
        parse_ldif(text)
    return info.value


# --- content records --------------------------------------------------------------------------

def test_content_record_is_an_add_with_attributes_in_order():
    records = parse_ldif('dn: uid=alice,ou=people,dc=example,dc=com\n'
                         'objectClass: inetOrgPerson\n'
                         'objectClass: top\n'
                         'uid: alice\n'
                         'cn: Alice\n'
                         'CN: Alice L.\n')
    assert len(records) == 1
    record = records[0]
    assert record.dn == 'uid=alice,ou=people,dc=example,dc=com'
    assert record.changetype == 'add'
    assert record.content is True
    assert record.line == 1
    assert record.attrs == [('objectClass', ['inetOrgPerson', 'top']), ('uid', ['alice']),
                            ('cn', ['Alice', 'Alice L.'])]
    assert record.attr_dict()['cn'] == ('cn', ['Alice', 'Alice L.'])


def test_several_records_version_comments_and_line_numbers():
    text = ('version: 1\n'
            '# a comment\n'
            '#  that is folded\n'
            '  over two lines\n'
            '\n'
            'dn: dc=example,dc=com\n'
            'objectClass: domain\n'
            'dc: example\n'
            '\n'
            '\n'
            '# between records\n'
            'dn: ou=people,dc=example,dc=com\n'
            '# inside a record\n'
            'objectClass: organizationalUnit\n'
            'ou: people\n')
    records = parse_ldif(text)
    assert [r.dn for r in records] == ['dc=example,dc=com', 'ou=people,dc=example,dc=com']
    assert [r.line for r in records] == [6, 12]
    assert records[1].attrs == [('objectClass', ['organizationalUnit']), ('ou', ['people'])]


def test_version_on_the_line_before_the_first_dn():
    records = parse_ldif('version: 1\ndn: dc=example,dc=com\ndc: example\n')
    assert records[0].attrs == [('dc', ['example'])]


def test_folded_lines_are_joined_without_the_leading_space():
    records = parse_ldif('dn: cn=a,\n'
                         ' dc=example,dc=com\n'
                         'description: one two\n'
                         '  three\n'
                         'desc\n'
                         ' ription: x\n')
    assert records[0].dn == 'cn=a,dc=example,dc=com'
    assert records[0].attrs == [('description', ['one two three', 'x'])]


def test_crlf_line_endings():
    records = parse_ldif('dn: cn=a,dc=example,dc=com\r\ncn: a\r\n\r\ndn: cn=b,dc=example,dc=com\r\ncn: b\r\n')
    assert [r.attrs for r in records] == [[('cn', ['a'])], [('cn', ['b'])]]


def test_base64_values_text_and_binary():
    binary = b'\x00\xff\x10'
    text = ('dn:: %s\n' % base64.b64encode('cn=Müller,dc=example,dc=com'.encode()).decode()
            + 'cn:: %s\n' % base64.b64encode('Müller'.encode()).decode()
            + 'jpegPhoto:: %s\n' % base64.b64encode(binary).decode()
            + 'description:: %s\n' % base64.b64encode(b' leading space').decode())
    record = parse_ldif(text)[0]
    assert record.dn == 'cn=Müller,dc=example,dc=com'
    assert record.attrs == [('cn', ['Müller']), ('jpegPhoto', [binary]), ('description', [' leading space'])]


def test_folded_base64_value():
    encoded = base64.b64encode(b'a fairly long value that is folded').decode()
    record = parse_ldif('dn: cn=a,dc=x\ndescription:: %s\n %s\n' % (encoded[:10], encoded[10:]))[0]
    assert record.attrs == [('description', ['a fairly long value that is folded'])]


def test_utf8_bytes_input_and_bom():
    record = parse_ldif('\ufeffdn: cn=ä,dc=x\ncn: ä\n'.encode('utf-8'))[0]
    assert record.dn == 'cn=ä,dc=x'


def test_empty_and_comment_only_streams_have_no_records():
    assert parse_ldif('') == []
    assert parse_ldif('# nothing\n\n# at all\n') == []
    assert parse_ldif('version: 1\n') == []


def test_value_may_be_empty_and_keeps_trailing_spaces():
    record = parse_ldif('dn: cn=a,dc=x\ndescription:\nsn: x  \n')[0]
    assert record.attrs == [('description', ['']), ('sn', ['x  '])]


def test_attribute_options_and_numeric_oids():
    record = parse_ldif('dn: cn=a,dc=x\nuserCertificate;binary:: AAE=\n2.5.4.3: a\ncn;lang-en: a\n')[0]
    assert [name for name, _v in record.attrs] == ['userCertificate;binary', '2.5.4.3', 'cn;lang-en']


def test_whitespace_only_line_between_records_separates():
    records = parse_ldif('dn: cn=a,dc=x\ncn: a\n\n   \ndn: cn=b,dc=x\ncn: b\n')
    assert len(records) == 2


# --- change records ---------------------------------------------------------------------------

def test_changetype_add_and_delete():
    records = parse_ldif('dn: cn=a,dc=x\nchangetype: add\nobjectClass: person\ncn: a\nsn: a\n\n'
                         'dn: cn=b,dc=x\nchangetype: delete\n')
    assert records[0].changetype == 'add' and records[0].content is False
    assert records[0].attrs[0] == ('objectClass', ['person'])
    assert records[1].changetype == 'delete'


def test_modify_operations_with_and_without_values():
    record = parse_ldif('dn: cn=schema\n'
                        'changetype: modify\n'
                        'add: attributeTypes\n'
                        "attributeTypes: ( 1.2.3 NAME 'a' )\n"
                        "attributeTypes: ( 1.2.4 NAME 'b' )\n"
                        '-\n'
                        'delete: description\n'
                        '-\n'
                        'delete: mail\n'
                        'mail: old@example.com\n'
                        '-\n'
                        'replace: sn\n'
                        'sn: New\n'
                        '-\n'
                        'replace: telephoneNumber\n'
                        '-\n')[0]
    assert record.changetype == 'modify'
    assert record.mods == [
        Modification('add', 'attributeTypes', ["( 1.2.3 NAME 'a' )", "( 1.2.4 NAME 'b' )"]),
        Modification('delete', 'description', []),
        Modification('delete', 'mail', ['old@example.com']),
        Modification('replace', 'sn', ['New']),
        Modification('replace', 'telephoneNumber', []),
    ]
    assert record.mods[0].line == 3


def test_modify_last_dash_may_be_left_out():
    record = parse_ldif('dn: cn=a,dc=x\nchangetype: modify\nreplace: sn\nsn: b\n')[0]
    assert record.mods == [Modification('replace', 'sn', ['b'])]


def test_modify_value_attribute_matches_case_insensitively_with_options():
    record = parse_ldif('dn: cn=a,dc=x\nchangetype: modify\nadd: CN;lang-de\ncn;LANG-DE: x\n-\n')[0]
    assert record.mods[0].values == ['x']


@pytest.mark.parametrize('changetype', ['modrdn', 'moddn', 'MODRDN'])
def test_modrdn(changetype):
    record = parse_ldif('dn: uid=a,ou=people,dc=x\nchangetype: %s\nnewrdn: uid=b\ndeleteoldrdn: 0\n'
                        'newsuperior: ou=staff,dc=x\n' % changetype)[0]
    assert record.changetype == changetype.lower()
    assert (record.newrdn, record.deleteoldrdn, record.newsuperior) == ('uid=b', False, 'ou=staff,dc=x')


def test_modrdn_without_newsuperior_and_base64_newrdn():
    record = parse_ldif('dn: cn=a,dc=x\nchangetype: modrdn\nnewrdn:: %s\ndeleteoldrdn: 1\n'
                        % base64.b64encode('cn=ä'.encode()).decode())[0]
    assert (record.newrdn, record.deleteoldrdn, record.newsuperior) == ('cn=ä', True, None)


# --- syntax errors ------------------------------------------------------------------------------

@pytest.mark.parametrize('text, line, fragment', [
    ('cn: a\n', 1, "must start with 'dn:'"),
    ('dn: cn=a,dc=x\ncn: a\n\nobjectClass: x\n', 4, "must start with 'dn:'"),
    ('dn: cn=a,dc=x\nno colon here\n', 2, "expected 'attribute: value'"),
    ('dn: cn=a,dc=x\n: value\n', 2, 'missing attribute name'),
    ('dn: cn=a,dc=x\nbad name: v\n', 2, 'invalid attribute description'),
    ('dn: cn=a,dc=x\njpegPhoto:< file:///tmp/photo.jpg\n', 2, 'URL values'),
    ('dn: cn=a,dc=x\ncn:: !!!notbase64\n', 2, 'invalid base64'),
    ('dn: cn=a,dc=x\ncontrol: 1.2.840.113556.1.4.805 true\nchangetype: delete\n', 2, 'controls'),
    ('dn: cn=a,dc=x\nchangetype: rename\n', 2, 'unknown changetype'),
    ('dn: cn=a,dc=x\nchangetype: delete\ncn: a\n', 3, 'takes no further lines'),
    ('dn: cn=a,dc=x\nchangetype: modify\n', 1, 'at least one operation'),
    ('dn: cn=a,dc=x\nchangetype: modify\nadd: mail\nsn: x\n', 4, 'does not match'),
    ('dn: cn=a,dc=x\nchangetype: modify\nadd: mail\n-\n', 3, 'needs at least one value'),
    ('dn: cn=a,dc=x\nchangetype: modify\nincrement: uidNumber\nuidNumber: 1\n-\n', 3, 'increment'),
    ('dn: cn=a,dc=x\nchangetype: modify\nmail: x\n', 3, "expected 'add:', 'delete:' or 'replace:'"),
    ('dn: cn=a,dc=x\nchangetype: modify\n-\n', 3, "'-' without an operation"),
    ('dn: cn=a,dc=x\nchangetype: modify\nreplace: bad name\n', 3, 'invalid attribute description'),
    ('dn: cn=a,dc=x\nchangetype: modrdn\ndeleteoldrdn: 1\n', 1, 'needs newrdn'),
    ('dn: cn=a,dc=x\nchangetype: modrdn\nnewrdn: cn=b\n', 1, 'needs deleteoldrdn'),
    ('dn: cn=a,dc=x\nchangetype: modrdn\nnewrdn: cn=b\ndeleteoldrdn: yes\n', 4, 'must be 0 or 1'),
    ('dn: cn=a,dc=x\nchangetype: modrdn\nnewrdn: cn=b,dc=x\ndeleteoldrdn: 1\n', 3, 'single RDN'),
    ('dn: cn=a,dc=x\nchangetype: modrdn\nnewrdn: cn=b\ndeleteoldrdn: 1\nsn: x\n', 5, 'unexpected'),
    ('dn: cn=a,dc=x\nchangetype: modrdn\nnewrdn: cn=b\nnewrdn: cn=c\ndeleteoldrdn: 1\n', 4, 'twice'),
    ('dn: cn=a,dc=x\n', 1, 'at least one attribute'),
    ('dn: cn=a,dc=x\nchangetype: add\n', 1, 'at least one attribute'),
    ('dn: cn=a,dc=x\ncn: a\nchangetype: add\n', 3, 'must directly follow'),
    ('dn: cn=a,dc=x\ncn: a\ndn: cn=b,dc=x\n', 3, 'second'),
    ('dn: cn=a,dc=x\ncn: a\n-\n', 3, "'-' is only allowed"),
    ('dn:\ncn: a\n', 1, 'empty dn'),
    ('dn: not a dn\ncn: a\n', 1, 'invalid dn'),
    ('dn: cn=a,,dc=x\ncn: a\n', 1, 'invalid dn'),
    ('version: 2\ndn: cn=a\ncn: a\n', 1, 'unsupported LDIF version'),
    ('dn: cn=a,dc=x\ncn: a\n\nversion: 1\n', 4, "'version:' may only appear once"),
    ('\n continued\n', 2, 'continuation line'),
])
def test_syntax_errors_name_the_line(text, line, fragment):
    error = syntax_error(text)
    assert error.line == line
    assert fragment in str(error)
    assert str(error).startswith('LDIF syntax error at line %d: ' % line)


def test_syntax_error_in_a_later_record_fails_the_whole_stream():
    text = 'dn: cn=a,dc=x\ncn: a\n\n' * 3 + 'dn: cn=b,dc=x\nchangetype: modify\nadd: cn\nsn: x\n'
    error = syntax_error(text)
    assert error.line == 13


def test_invalid_utf8_names_the_line():
    error = syntax_error(b'dn: cn=a,dc=x\ncn: \xff\n')
    assert error.line == 2
    assert 'UTF-8' in str(error)


# --- DN helpers -------------------------------------------------------------------------------

def test_split_dn_honours_escapes_and_quotes():
    assert split_dn('cn=Doe\\, John,ou=people, dc=example') == ['cn=Doe\\, John', 'ou=people', 'dc=example']
    assert split_dn('cn="a,b",dc=x') == ['cn="a,b"', 'dc=x']
    for bad in ('cn=a,,dc=x', 'cn=a\\', 'cn="a,dc=x'):
        with pytest.raises(ValueError):
            split_dn(bad)


def test_normalize_dn():
    assert normalize_dn('CN=Alice , OU=People,dc=Example') == 'cn=alice,ou=people,dc=example'
    assert normalize_dn('cn={4}AM,cn=schema,cn=config', strip_ordering=True) == 'cn=am,cn=schema,cn=config'
    assert normalize_dn('cn={4}am,cn=schema,cn=config') == 'cn={4}am,cn=schema,cn=config'
    assert normalize_dn('sn=b+cn=a,dc=x') == normalize_dn('cn=a+sn=b,dc=x')
    assert normalize_dn('olcDatabase={1}mdb,cn=config', True) == 'olcdatabase=mdb,cn=config'


def test_parent_rdn_and_rdn_values():
    assert parent_dn('uid=a,ou=people,dc=x') == 'ou=people,dc=x'
    assert parent_dn('dc=x') == ''
    assert rdn_of('uid=a,ou=people,dc=x') == 'uid=a'
    assert rdn_values('cn=Doe\\, John+sn=Doe') == [('cn', 'Doe, John'), ('sn', 'Doe')]
    assert rdn_values('cn=\\4D\\C3\\BCller') == [('cn', 'Müller')]


# --- schema helpers ----------------------------------------------------------------------------

def test_schema_oid_ignores_ordering_prefix_and_spacing():
    assert schema_oid("( 1.3.6.1.4.1.32473.1.1.1 NAME 'x' )") == '1.3.6.1.4.1.32473.1.1.1'
    assert schema_oid("{12}( 1.2.3 NAME 'x' )") == '1.2.3'
    assert schema_oid("  (1.2.3 NAME 'x')") == '1.2.3'
    assert schema_oid("(1.2.3)") == '1.2.3'
    assert schema_oid("( OLcfgAt:1 NAME 'x' )") == 'olcfgat:1'
    assert schema_oid(b"( 1.2.3 NAME 'x' )") == '1.2.3'
    assert schema_oid('not a definition') is None
    assert schema_oid('()') is None
    assert schema_oid(b'\xff') is None


def test_schema_names_and_single_value():
    assert schema_names("( 1.2 NAME 'retryLimitNodeCount' DESC 'x' )") == ['retrylimitnodecount']
    assert schema_names("( 2.5.4.4 NAME ( 'sn' 'surname' ) SUP name )") == ['sn', 'surname']
    assert schema_names("( 1.2 DESC 'no name' )") == []
    assert single_value("( 1.2 NAME 'a' SINGLE-VALUE )")
    assert single_value("( 1.2 NAME 'a' SINGLE-VALUE)")
    assert not single_value("( 1.2 NAME 'a' )")
    assert is_numeric_oid('1.2.3') and not is_numeric_oid('olcfgat:1') and not is_numeric_oid('')


def test_value_helpers_and_rendering():
    assert value_bytes('ä') == 'ä'.encode()
    assert value_bytes(b'\x00') == b'\x00'
    assert value_text(b'abc') == 'abc'
    assert value_text(b'\xff') is None
    assert strip_ordering('{3}( 1.2 )') == '( 1.2 )'
    assert render_line('cn', 'Müller') == 'cn: Müller'
    assert render_line('cn', '') == 'cn:'
    assert render_line('description', ' lead') == 'description:: %s' % base64.b64encode(b' lead').decode()
    assert render_line('jpegPhoto', b'\xff\x00') == 'jpegPhoto:: /wA='
    assert render_line('x', 'a\nb').startswith('x:: ')
