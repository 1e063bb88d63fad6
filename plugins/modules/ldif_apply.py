#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


DOCUMENTATION = r'''
---
module: ldif_apply
short_description: Apply an LDIF file to an LDAP server idempotently, like ldapmodify but comparing first
version_added: 0.1.0
description:
  - Parses the LDIF in O(src) or O(content), then applies its records in order to the LDAP server
    O(server_uri) with the Python library ldap3. Before each record is applied, the entry is read and
    compared with the record, and only what is missing is sent.
  - The whole LDIF is parsed before the server is contacted. A syntax error fails the task with the
    line number and nothing is applied.
  - >-
    Supported LDIF (RFC 2849) is C(version: 1), comments (also folded ones), folded lines (a line that
    starts with one space continues the previous line), base64 values (C(attr:: ...)), content records
    and change records with C(changetype) V(add), V(delete), V(modify), V(modrdn) or V(moddn).
    Modify records take C(add:), C(delete:) and C(replace:) operations separated by C(-) lines.
  - Not supported, and rejected with the line number, are URL values (C(attr:< file://...)), C(control:)
    lines and C(increment:) operations (an increment cannot be applied idempotently).
  - >-
    B(Content records) (no C(changetype), as C(ldapadd) reads them) and C(changetype: add) records are
    adds. When the entry does not exist it is added. When it exists with all the given values, the record
    is skipped (RV(results[].reason=exists)). When it exists but lacks some of the given values, the record
    is reported as skipped with RV(results[].reason=exists_differs), and the entry is not changed unless
    O(ensure_values=true). Then the missing values are added (single-valued attributes are replaced). Values
    the entry has beyond the record's are never removed.
  - B(Modify records.) The operation C(add) sends only the values the entry lacks. The operation C(delete)
    with values sends only the values the entry has. The operation C(delete) without values is sent only when
    the attribute has values. The operation C(replace) is sent only when the values differ from the given ones.
    A record whose operations are all in effect is skipped. A modify of an entry that does not exist fails
    (noSuchObject, rc 32).
  - B(Delete records) of an entry that does not exist are skipped.
  - B(Modrdn and moddn records) are skipped when the entry already has its new DN and the old one is gone.
  - >-
    B(Value comparison.) A value is present when the entry has the same bytes, or, for C(objectClass), the same
    name in any case. Otherwise an LDAP compare request is sent, so that the server's matching rules
    apply (C(cn: Foo) equals C(cn: foo), C(surname) is C(sn)). Under C(cn=config), OpenLDAP's C({n}) ordering
    prefixes are ignored.
  - >-
    B(Schema, OpenDJ and PingDS style.) This is C(dn: cn=schema), C(changetype: modify), C(add: attributeTypes)
    or C(add: objectClasses), as in the LDIF files that Ping Identity AM ships under
    C(WEB-INF/template/ldif/opendj/). Each definition is compared by OID with the server's subschema subentry
    (C(subschemaSubentry) of the root DSE). Definitions whose OID the server knows are not sent again, and a
    record whose definitions are all known is skipped. The same applies to C(ldapSyntaxes) and C(dITContentRules).
  - >-
    B(Schema, OpenLDAP style.) OpenLDAP does not accept schema changes through C(cn=schema) or C(cn=Subschema).
    It answers C(invalidAttributeSyntax) (rc 21) or C(noSuchObject) (rc 32), and the module adds a hint to that
    error. To load the same definitions into slapd, write them as the add of a schema entry
    C(cn=<name>,cn=schema,cn=config) with C(objectClass: olcSchemaConfig) and C(olcAttributeTypes) and
    C(olcObjectClasses) values, and bind over C(ldapi://) with O(sasl_mechanism=EXTERNAL) as root (or as any
    identity allowed to write C(cn=config)). See the examples.
  - Such an entry is found with or without the C({n}) prefix that slapd gives its name (C(cn=am) is stored as
    C(cn={4}am)). Its definitions are compared by OID with the whole server schema. When all are defined, the
    record is skipped, even when another schema entry defines them. When the entry exists and some definitions
    are missing, this is reported as V(exists_differs) and they are added only with O(ensure_values=true).
    When the entry does not exist but some of its definitions are defined elsewhere, the record fails before
    anything is sent, because slapd would reject the whole entry with a duplicate definition (rc 80).
  - Definitions are compared by OID only. A definition that changed its text under the same OID is not
    updated. Definitions whose OID is a name or an OID macro are compared by their names.
  - Records are applied in order, one LDAP request per record at most. Without O(continue_on_error), the first
    failed record stops the run. The records after it are reported with status V(not_run). With
    O(continue_on_error=true) (like C(ldapmodify -c)), every record is tried. Then the task fails at the end when
    a record failed and O(fail_on_error=true), the default.
  - Records applied before a failure stay applied. LDAP has no transaction across records.
author:
  - idmops.lifecycle maintainers (@idmops)
requirements:
  - >-
    ldap3 (Python library) on the host that runs the module, usually the controller (C(delegate_to: localhost))
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - The server is read, never written. RV(results) shows the plan (V(would_apply) or V(skipped)).
        Records that depend on earlier records of the same run, such as an entry added and then modified,
        are planned as if the earlier ones had been applied.
  diff_mode:
    support: full
    details:
      - One before/after pair per record that changes or would change. Only the attributes concerned are
        shown. Values of password attributes are shown as C(<hidden>).
  platform:
    platforms: posix
options:
  src:
    description:
      - >-
        Path of the LDIF file on the host that runs the module (with C(delegate_to: localhost), the controller).
      - Mutually exclusive with O(content).
    type: path
  content:
    description:
      - The LDIF as a string.
      - Mutually exclusive with O(src).
    type: str
  server_uri:
    description:
      - The LDAP server, as V(ldap://host:port), V(ldaps://host:port) or V(ldapi://<url-encoded socket path>)
        (for example V(ldapi://%2Fvar%2Frun%2Fslapd%2Fldapi); V(ldapi:///var/run/slapd/ldapi) is accepted too).
      - The port defaults to 389 for ldap and 636 for ldaps.
    type: str
    required: true
  start_tls:
    description:
      - Send the StartTLS extended operation on an V(ldap://) connection before the bind.
      - Not with V(ldaps://) or V(ldapi://).
    type: bool
    default: false
  ca_file:
    description:
      - PEM file of the CA certificates to trust for V(ldaps://) and O(start_tls). Without it, the system's
        default trust store is used.
    type: path
  validate_certs:
    description:
      - Verify the server certificate (chain and host name) for V(ldaps://) and O(start_tls).
      - The host name is checked against the host of O(server_uri), so a certificate for an IP address must
        carry that address as a subject alternative name.
      - Set to V(false) only for throw-away test servers.
    type: bool
    default: true
  bind_dn:
    description:
      - DN for a simple bind. Needs O(bind_password) or O(bind_password_file).
      - Without O(bind_dn) and O(sasl_mechanism), the bind is anonymous.
    type: str
  bind_password:
    description:
      - Password for O(bind_dn).
      - Mutually exclusive with O(bind_password_file).
    type: str
  bind_password_file:
    description:
      - File that holds the password for O(bind_dn), on the host that runs the module. One trailing newline
        is removed.
    type: path
  sasl_mechanism:
    description:
      - SASL mechanism for the bind. V(EXTERNAL) over V(ldapi://) binds as the identity of the process
        (for slapd, C(gidNumber=<gid>+uidNumber=<uid>,cn=peercred,cn=external,cn=auth)).
      - Mutually exclusive with O(bind_dn).
    type: str
    choices: [EXTERNAL]
  continue_on_error:
    description:
      - Try every record even when one fails, like C(ldapmodify -c). Failed records are reported in
        RV(results).
      - With V(false), the run stops at the first failed record.
      - A broken connection always stops the run.
    type: bool
    default: false
  fail_on_error:
    description:
      - With O(continue_on_error=true), fail the task at the end when any record failed.
      - With V(false) the task succeeds. Each failed record then shows in RV(results), in RV(counts) and
        as a warning. Use this for LDIFs where some failures are expected.
      - Without O(continue_on_error), a failed record always fails the task.
    type: bool
    default: true
  ensure_values:
    description:
      - When an add or content record names an entry that exists but lacks some of the record's values, add
        those values (replace them for single-valued attributes). Also add the missing definitions to an
        OpenLDAP schema entry that exists.
      - With V(false) such records are reported as skipped with reason V(exists_differs) and not changed.
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for the connection to open and for each answer of the server.
    type: int
    default: 30
notes:
  - >-
    The module runs where ldap3 is installed and talks to the server over the network (or the local
    ldapi socket). For a remote server, run it on the controller with C(delegate_to: localhost).
  - Compared values must be readable by the bind identity. When an access control hides an attribute, the
    compare request still decides presence. When that is refused too, the value is treated as missing.
  - A simple bind over V(ldap://) without O(start_tls) sends the password in clear text.
  - >-
    Like every module argument, O(content) is echoed in the task result (C(invocation)). For an LDIF that
    holds passwords, use O(src) or set C(no_log: true) on the task. Diffs never show password values.
  - Tested against OpenLDAP slapd 2.5. The OpenDJ style C(cn=schema) path follows the public
    LDIF and server documentation. It was tested against a fake server, not a real OpenDJ or PingDS.
seealso:
  - name: RFC 2849, The LDAP Data Interchange Format
    description: The LDIF syntax this module reads.
    link: https://www.rfc-editor.org/rfc/rfc2849
  - name: RFC 4512, LDAP directory information models
    description: Schema definitions and the subschema subentry.
    link: https://www.rfc-editor.org/rfc/rfc4512
'''

EXAMPLES = r'''
- name: Apply AM's identity store schema to PingDS (OpenDJ style cn=schema), skipping what is defined
  idmops.lifecycle.ldif_apply:
    src: /opt/am/staging/opendj_retry_limit_node_count.ldif
    server_uri: ldaps://ds.example.com:1636
    ca_file: /etc/pki/ds-ca.pem
    bind_dn: uid=admin
    bind_password_file: /etc/idmops/ds-admin.pw
    continue_on_error: true
  delegate_to: localhost
  register: am_schema

- name: The same definitions for OpenLDAP, as a schema entry under cn=schema,cn=config, as root over ldapi
  idmops.lifecycle.ldif_apply:
    server_uri: ldapi://%2Fvar%2Frun%2Fslapd%2Fldapi
    sasl_mechanism: EXTERNAL
    content: |
      dn: cn=am-retry-limit,cn=schema,cn=config
      objectClass: olcSchemaConfig
      cn: am-retry-limit
      olcAttributeTypes: ( 1.3.6.1.4.1.32473.1.1.1 NAME 'retryLimitNodeCount'
        EQUALITY caseIgnoreMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
      olcObjectClasses: ( 1.3.6.1.4.1.32473.1.2.1 NAME 'retryLimitNodeCountAux'
        SUP top AUXILIARY MAY retryLimitNodeCount )

- name: Entries and changes, over StartTLS, reporting the plan first
  idmops.lifecycle.ldif_apply:
    src: "{{ playbook_dir }}/files/people.ldif"
    server_uri: ldap://ldap.example.com:389
    start_tls: true
    ca_file: /etc/ssl/certs/example-ca.pem
    bind_dn: cn=admin,dc=example,dc=com
    bind_password: "{{ vault_ldap_admin_password }}"
  delegate_to: localhost
  check_mode: true
  diff: true
  register: plan

- name: Show the records that would change
  ansible.builtin.debug:
    msg: "{{ plan.results | selectattr('status', 'equalto', 'would_apply') | map(attribute='dn') | list }}"
'''

RETURN = r'''
results:
  description:
    - One item per LDIF record, in order.
  returned: always
  type: list
  elements: dict
  contains:
    dn:
      description: The record's DN as written in the LDIF.
      type: str
      sample: uid=alice,ou=people,dc=example,dc=com
    changetype:
      description: V(add) (also for content records), V(modify), V(delete), V(modrdn) or V(moddn).
      type: str
      sample: add
    line:
      description: Line number of the record's C(dn:) line.
      type: int
      sample: 12
    status:
      description:
        - V(applied) (sent and accepted), V(skipped) (already in effect, or V(exists_differs)), V(failed),
          V(would_apply) (check mode), or V(not_run) (after a failure without O(continue_on_error)).
      type: str
      sample: applied
    reason:
      description:
        - A keyword for the outcome. Skipped records have V(exists), V(exists_differs), V(values_present),
          V(schema_defined), V(absent) or V(already_renamed). Applied records have V(added), V(modified),
          V(values_added), V(deleted) or V(renamed). Failed records have V(server_error) (the server refused
          the request), V(client_error) (ldap3 refused to build it), V(no_such_object), V(target_exists),
          V(schema_conflict), V(schema_unreadable), V(read_refused) or V(connection_error).
      type: str
      sample: exists_differs
    message:
      description: What happened, for people. Failed records carry the server's answer.
      type: str
      sample: "entry exists but lacks values of mail (1); not changed (ensure_values=true adds them)"
    rc:
      description: The LDAP result code of the request sent for the record, or of the failure. Null when nothing was sent.
      type: int
      sample: 0
counts:
  description: How many records ended in each status, and V(total).
  returned: always
  type: dict
  sample: {applied: 2, skipped: 3, failed: 1, would_apply: 0, not_run: 0, total: 6}
msg:
  description: A one-line summary. On failure it names the first failed record.
  returned: always
  type: str
  sample: "6 records: 2 applied, 3 skipped, 1 failed"
line:
  description: The line of the LDIF syntax error.
  returned: when the LDIF does not parse
  type: int
  sample: 42
rc:
  description: The LDAP result code of a failed bind (49 for invalid credentials), else null.
  returned: when the connection or bind failed
  type: int
  sample: 49
'''

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.idmops.lifecycle.plugins.module_utils._ldif import LDIFError, parse_ldif
from ansible_collections.idmops.lifecycle.plugins.module_utils._ldap import (
    HAS_LDAP3,
    LDAP3_IMPORT_ERROR,
    LdapError,
    LdifApplier,
    connect,
)


def argument_spec():
    return dict(
        src=dict(type='path'),
        content=dict(type='str'),
        server_uri=dict(type='str', required=True),
        start_tls=dict(type='bool', default=False),
        ca_file=dict(type='path'),
        validate_certs=dict(type='bool', default=True),
        bind_dn=dict(type='str'),
        bind_password=dict(type='str', no_log=True),
        bind_password_file=dict(type='path', no_log=False),
        sasl_mechanism=dict(type='str', choices=['EXTERNAL']),
        continue_on_error=dict(type='bool', default=False),
        fail_on_error=dict(type='bool', default=True),
        ensure_values=dict(type='bool', default=False),
        timeout=dict(type='int', default=30),
    )


MODULE_OPTIONS = dict(
    mutually_exclusive=[
        ('src', 'content'),
        ('bind_password', 'bind_password_file'),
        ('sasl_mechanism', 'bind_dn'),
        ('sasl_mechanism', 'bind_password'),
        ('sasl_mechanism', 'bind_password_file'),
    ],
    required_one_of=[('src', 'content')],
    required_by={'bind_password': 'bind_dn', 'bind_password_file': 'bind_dn'},
    supports_check_mode=True,
)


class InputError(Exception):
    pass


def read_records(params):
    """The parsed LDIF of ``src`` or ``content``; raises LDIFError or InputError."""
    if params['src'] is not None:
        try:
            with open(params['src'], 'rb') as handle:
                data = handle.read()
        except (IOError, OSError) as exc:
            raise InputError('cannot read src %s: %s' % (params['src'], exc))
        try:
            return parse_ldif(data)
        except LDIFError as exc:
            exc.args = ('%s: %s' % (params['src'], exc.args[0]),)
            raise
    return parse_ldif(params['content'])


def read_password(params):
    if params['bind_password_file'] is None:
        return params['bind_password']
    try:
        with open(params['bind_password_file'], 'r') as handle:
            password = handle.read()
    except (IOError, OSError) as exc:
        raise InputError('cannot read bind_password_file %s: %s' % (params['bind_password_file'], exc))
    if password.endswith('\n'):
        password = password[:-1]
        if password.endswith('\r'):
            password = password[:-1]
    if not password:
        raise InputError('bind_password_file %s is empty' % params['bind_password_file'])
    return password


def summary(counts, check_mode):
    parts = []
    for status in ('applied', 'would_apply', 'skipped', 'failed', 'not_run'):
        if counts.get(status):
            parts.append('%d %s' % (counts[status], status.replace('_', ' ')))
    text = '%d record%s' % (counts['total'], '' if counts['total'] == 1 else 's')
    if parts:
        text += ': ' + ', '.join(parts)
    if check_mode:
        text += ' (check mode)'
    return text


def run_module(module):
    p = module.params
    if p['timeout'] <= 0:
        module.fail_json(msg='timeout must be positive, got %s' % p['timeout'])
    empty = dict(results=[], counts=dict(applied=0, skipped=0, failed=0, would_apply=0, not_run=0, total=0))
    try:
        records = read_records(p)
        password = read_password(p)
    except LDIFError as exc:
        module.fail_json(msg=str(exc), line=exc.line, **empty)
    except InputError as exc:
        module.fail_json(msg=str(exc), **empty)

    if not records:
        module.exit_json(changed=False, msg='the LDIF holds no records', **empty)

    try:
        directory = connect(p['server_uri'], start_tls=p['start_tls'], ca_file=p['ca_file'],
                            validate_certs=p['validate_certs'], bind_dn=p['bind_dn'], bind_password=password,
                            sasl_mechanism=p['sasl_mechanism'], timeout=p['timeout'])
    except LdapError as exc:
        module.fail_json(msg=str(exc), rc=exc.rc, **empty)

    try:
        outcome = LdifApplier(directory, check_mode=module.check_mode,
                              continue_on_error=p['continue_on_error'],
                              ensure_values=p['ensure_values']).run(records)
    finally:
        directory.close()

    result = dict(changed=outcome['changed'], results=outcome['results'], counts=outcome['counts'],
                  msg=summary(outcome['counts'], module.check_mode))
    if module._diff:
        result['diff'] = outcome['diff']
    failed = [r for r in outcome['results'] if r['status'] == 'failed']
    if failed:
        first = failed[0]
        detail = 'line %s (%s): %s' % (first['line'], first['dn'], first['message'])
        if not p['continue_on_error'] or p['fail_on_error']:
            result['msg'] = '%s; first failure at %s' % (result['msg'], detail)
            module.fail_json(**result)
        for item in failed:
            module.warn('LDIF record at line %s (%s) failed: %s' % (item['line'], item['dn'], item['message']))
    module.exit_json(**result)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), **MODULE_OPTIONS)
    if not HAS_LDAP3:
        module.fail_json(msg=missing_required_lib('ldap3'), exception=LDAP3_IMPORT_ERROR)
    if module.params['src'] is not None and not os.path.isfile(module.params['src']):
        module.fail_json(msg='src %s does not exist or is not a file' % module.params['src'])
    run_module(module)


if __name__ == '__main__':
    main()
