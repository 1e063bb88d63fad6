# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""Apply parsed LDIF records (``_ldif.Record``) to an LDAP server idempotently, with ldap3.

The path of one run (``LdifApplier.run``):

1. ``connect()`` opens the connection (ldap://, ldaps://, ldapi://, optional StartTLS) and
   binds; every failure here (unreachable, TLS verification, bad credentials) raises
   ``LdapError`` before anything was read or written;
2. for each record, a plan is made from what the server holds (reads only): ``skip`` (the
   change is already in effect), ``apply`` (one add, modify, delete or modify DN request,
   reduced to what is missing) or ``fail`` (it cannot succeed, e.g. a modify of a missing entry);
3. the planned request is sent, unless in check mode. Check mode keeps an overlay of the
   entries that earlier records would have added, changed, renamed or deleted, so the plan of
   a whole stream is right also when later records depend on earlier ones.

Comparison rules, in short (the module documentation has them in full):

* values: the same bytes, or (``objectClass``) the same text ignoring case, or an LDAP
  compare request says so (the server's matching rules: ``cn: Foo`` equals ``cn: foo``);
  under ``cn=config`` ``{n}`` ordering prefixes are ignored;
* schema definitions (``attributeTypes``, ``objectClasses``, ``ldapSyntaxes``,
  ``dITContentRules`` and their OpenLDAP ``olc*`` forms): by OID against the server's
  subschema subentry (``subschemaSubentry`` of the root DSE). A definition whose OID the
  server knows is never sent again, whatever its text says;
* OpenLDAP schema entries ``cn=<name>,cn=schema,cn=config`` are found with or without their
  ``{n}`` prefix.

``Directory`` wraps the ldap3 connection with the few reads and writes the applier needs, so
tests can use ldap3's MOCK_SYNC strategy or a fake.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import traceback
from urllib.parse import quote, unquote, urlsplit

from ansible_collections.idmops.lifecycle.plugins.module_utils._ldif import (
    is_numeric_oid,
    normalize_dn,
    parent_dn,
    rdn_of,
    render_line,
    schema_names,
    schema_oid,
    single_value,
    split_dn,
    strip_ordering,
    value_bytes,
    value_text,
)

try:
    import ldap3
    from ldap3.core import exceptions as ldap3_exceptions
except ImportError:
    HAS_LDAP3 = False
    LDAP3_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_LDAP3 = True
    LDAP3_IMPORT_ERROR = None


DEFAULT_PORTS = {'ldap': 389, 'ldaps': 636}
OPENLDAP_SCHEMA_BASE = 'cn=schema,cn=config'

# Attributes that hold schema definitions, compared by OID, and the subschema attribute
# whose definitions they are compared with.
SCHEMA_KINDS = {
    'attributetypes': 'attributeTypes',
    'olcattributetypes': 'attributeTypes',
    'objectclasses': 'objectClasses',
    'olcobjectclasses': 'objectClasses',
    'ldapsyntaxes': 'ldapSyntaxes',
    'olcldapsyntaxes': 'ldapSyntaxes',
    'ditcontentrules': 'dITContentRules',
    'olcditcontentrules': 'dITContentRules',
}
SUBSCHEMA_ATTRIBUTES = ['attributeTypes', 'objectClasses', 'ldapSyntaxes', 'dITContentRules']

SECRET_ATTRIBUTES = frozenset(('userpassword', 'authpassword', 'olcrootpw', 'unicodepwd',
                               'sambantpassword', 'sambalmpassword', 'olcdbacredentials'))
HIDDEN = '<hidden>'

# LDAP result codes used by name.
RC_SUCCESS = 0
RC_COMPARE_FALSE = 5
RC_COMPARE_TRUE = 6
RC_NO_SUCH_ATTRIBUTE = 16
RC_NO_SUCH_OBJECT = 32
RC_INVALID_CREDENTIALS = 49
RC_ALREADY_EXISTS = 68

STATUSES = ('applied', 'skipped', 'failed', 'would_apply', 'not_run')


class LdapError(Exception):
    """The connection could not be opened or bound, or broke during the run."""

    def __init__(self, msg, rc=None):
        super().__init__(msg)
        self.rc = rc


class OperationError(Exception):
    """A read the planner needed was refused by the server."""

    def __init__(self, rc, description, message=''):
        text = description if rc is None else '%s (rc=%s)' % (description, rc)
        if message:
            text += ': %s' % message
        super().__init__(text)
        self.rc = rc
        self.description = description
        self.server_message = message


# --- connection ---------------------------------------------------------------------------

class ServerTarget:
    """A parsed ``server_uri``: ``scheme`` (ldap, ldaps, ldapi), ``host``/``port`` or ``path``."""

    __slots__ = ('scheme', 'host', 'port', 'path', 'uri')

    def __init__(self, scheme, host=None, port=None, path=None, uri=None):
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.uri = uri

    def __repr__(self):
        return 'ServerTarget(%r, host=%r, port=%r, path=%r)' % (self.scheme, self.host, self.port, self.path)


def parse_server_uri(uri):
    """Parse ``ldap://host[:port][/]``, ``ldaps://...`` or ``ldapi://<url-encoded socket path>``."""
    if not uri or '://' not in uri:
        raise LdapError('server_uri must look like ldap://host:port, ldaps://host:port or '
                        'ldapi://%%2Fpath%%2Fto%%2Fsocket, got %r' % uri)
    scheme = uri.split('://', 1)[0].lower()
    if scheme == 'ldapi':
        rest = uri.split('://', 1)[1]
        if rest.startswith('/'):
            # ldapi:///path/to/socket (not encoded) is accepted too
            path = rest
        else:
            path = unquote(rest.rstrip('/'))
        if not path:
            raise LdapError('server_uri %r names no socket path (ldapi://%%2Fvar%%2Frun%%2Fslapd%%2Fldapi)' % uri)
        return ServerTarget('ldapi', path=path, uri=uri)
    if scheme not in DEFAULT_PORTS:
        raise LdapError('server_uri scheme must be ldap, ldaps or ldapi, got %r' % scheme)
    parts = urlsplit(uri)
    if parts.path not in ('', '/') or parts.query or parts.fragment:
        raise LdapError('server_uri %r must not have a path, query or fragment (LDAP URL search parts are not used)' % uri)
    if parts.username or parts.password:
        raise LdapError('server_uri must not carry credentials; use bind_dn and bind_password')
    try:
        port = parts.port
    except ValueError:
        raise LdapError('server_uri %r has an invalid port' % uri)
    if not parts.hostname:
        raise LdapError('server_uri %r names no host' % uri)
    return ServerTarget(scheme, host=parts.hostname, port=port or DEFAULT_PORTS[scheme], uri=uri)


def _is_ip_address(host):
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return True
        except (OSError, ValueError):
            continue
    return False


def _find_cause(exc, kind):
    """The first exception of ``kind`` in ``exc``, its class (ldap3 mixes the cause in) or its chain."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, kind):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def describe_connect_error(exc, target, timeout, where=None):
    """A one-line explanation of an exception raised while opening a connection (or StartTLS)."""
    text = str(exc)
    where = where or target.uri
    if _find_cause(exc, ssl.SSLCertVerificationError) is not None or 'CERTIFICATE_VERIFY_FAILED' in text:
        return ('TLS certificate verification failed for %s (%s). Give the CA certificate that signed the '
                "server's certificate with ca_file, or (not recommended) set validate_certs=false"
                % (where, _clean(text)))
    if (HAS_LDAP3 and _find_cause(exc, ldap3_exceptions.LDAPCertificateError) is not None) or "doesn't match" in text:
        names = _CERT_NAME_RE.findall(text)
        if names:
            shown = ['%s:%s' % ('IP' if kind.startswith('IP') else kind, name) for kind, name in names]
            detail = 'the certificate names %s' % ', '.join(shown)
        else:
            detail = _clean(text)
        return "TLS certificate of %s does not match the host name %r (%s)" % (where, target.host, detail)
    if _find_cause(exc, ConnectionRefusedError) is not None or 'Connection refused' in text:
        return 'cannot connect to %s: connection refused (is the server running and listening there?)' % where
    if _find_cause(exc, FileNotFoundError) is not None or 'No such file' in text:
        return 'cannot connect to %s: socket %s does not exist' % (where, target.path)
    if _find_cause(exc, socket.timeout) is not None or 'timed out' in text:
        return 'cannot connect to %s: timed out after %s seconds' % (where, timeout)
    if _find_cause(exc, ssl.SSLError) is not None:
        return 'TLS handshake with %s failed: %s' % (where, _clean(text))
    return 'cannot connect to %s: %s' % (where, _clean(text))


_CERT_NAME_RE = re.compile(r"\('(DNS|IP Address)', '([^']+)'\)")
_TUPLE_REPR_RE = re.compile(r"""^\(\s*(['"])(.*)\1\s*,?\s*\)$""", re.DOTALL)


def _clean(text):
    """ldap3 nests the cause's text in tuple reprs, ``("('reason',)",)``: keep the reason."""
    text = text.strip()
    while True:
        match = _TUPLE_REPR_RE.match(text)
        if not match:
            return text
        text = match.group(2).strip()


def connect(server_uri, start_tls=False, ca_file=None, validate_certs=True, bind_dn=None,
            bind_password=None, sasl_mechanism=None, timeout=30):
    """Open and bind an ldap3 connection; return a ``Directory``. Raises ``LdapError``."""
    if not HAS_LDAP3:
        raise LdapError('the ldap3 Python library is required')
    target = parse_server_uri(server_uri)
    if target.scheme == 'ldaps' and start_tls:
        raise LdapError('start_tls cannot be combined with an ldaps:// server_uri (TLS is already on)')
    if target.scheme == 'ldapi' and start_tls:
        raise LdapError('start_tls is not used with ldapi:// (a local socket)')
    if sasl_mechanism:
        if sasl_mechanism.upper() != 'EXTERNAL':
            raise LdapError('sasl_mechanism must be EXTERNAL, got %r' % sasl_mechanism)
        if target.scheme != 'ldapi':
            raise LdapError('sasl_mechanism=EXTERNAL is supported over ldapi:// only (client certificates are not supported)')
        if bind_dn or bind_password:
            raise LdapError('sasl_mechanism cannot be combined with bind_dn or bind_password')
    if bind_dn and bind_password in (None, ''):
        raise LdapError('bind_dn %r needs bind_password or bind_password_file (an empty password is an '
                        'unauthenticated bind, which servers treat as anonymous)' % bind_dn)
    if bind_password and not bind_dn:
        raise LdapError('bind_password needs bind_dn')
    if ca_file and not os.path.isfile(ca_file):
        raise LdapError('ca_file %s does not exist or is not a file' % ca_file)

    tls = None
    if target.scheme == 'ldaps' or start_tls:
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED if validate_certs else ssl.CERT_NONE,
                        ca_certs_file=ca_file or None,
                        sni=None if _is_ip_address(target.host) else target.host)
    if target.scheme == 'ldapi':
        server = ldap3.Server('ldapi://' + quote(target.path, safe=''), get_info=ldap3.NONE,
                              connect_timeout=timeout)
    else:
        server = ldap3.Server(target.host, port=target.port, use_ssl=target.scheme == 'ldaps', tls=tls,
                              get_info=ldap3.NONE, connect_timeout=timeout)

    options = dict(raise_exceptions=False, auto_bind=ldap3.AUTO_BIND_NONE, auto_referrals=False,
                   receive_timeout=timeout, check_names=False, read_only=False)
    if sasl_mechanism:
        # ldap3 sends no credentials for EXTERNAL only with '' (None fails against slapd)
        conn = ldap3.Connection(server, authentication=ldap3.SASL, sasl_mechanism=ldap3.EXTERNAL,
                                sasl_credentials='', **options)
        who = 'SASL EXTERNAL'
    elif bind_dn:
        conn = ldap3.Connection(server, user=bind_dn, password=bind_password, authentication=ldap3.SIMPLE, **options)
        who = bind_dn
    else:
        conn = ldap3.Connection(server, authentication=ldap3.ANONYMOUS, **options)
        who = 'anonymous'

    try:
        conn.open()
    except ldap3_exceptions.LDAPException as exc:
        raise LdapError(describe_connect_error(exc, target, timeout))
    except (OSError, ssl.SSLError) as exc:
        raise LdapError(describe_connect_error(exc, target, timeout))
    try:
        if start_tls:
            try:
                conn.start_tls()
            except ldap3_exceptions.LDAPException as exc:
                if 'startTLS failed' in str(exc):
                    raise LdapError('StartTLS on %s was refused by the server: %s' % (target.uri, _clean(str(exc))))
                raise LdapError(describe_connect_error(exc, target, timeout, where='%s (StartTLS)' % target.uri))
        try:
            bound = conn.bind()
        except ldap3_exceptions.LDAPException as exc:
            raise LdapError('bind as %s on %s failed: %s' % (who, target.uri, _clean(str(exc))))
        if not bound:
            result = conn.result or {}
            rc = result.get('result')
            msg = 'bind as %s on %s failed: %s (rc=%s)' % (who, target.uri, result.get('description') or conn.last_error, rc)
            if result.get('message'):
                msg += ': %s' % result['message']
            if rc == RC_INVALID_CREDENTIALS:
                msg += '. Check bind_dn and the password'
            raise LdapError(msg, rc=rc)
    except LdapError:
        _quiet_unbind(conn)
        raise
    return Directory(conn, target=target, who=who)


def _quiet_unbind(conn):
    try:
        conn.unbind()
    except Exception:  # pylint: disable=broad-except
        pass


# --- directory access -------------------------------------------------------------------------

class Directory:
    """The reads and writes the applier needs, over one bound ldap3 connection.

    Reads raise ``OperationError`` for a refusal other than noSuchObject; writes return
    ``(rc, description, message)``. A broken connection raises ``LdapError``.
    """

    def __init__(self, conn, target=None, who=None):
        self.conn = conn
        self.target = target
        self.who = who
        self._root_dse = None

    def close(self):
        _quiet_unbind(self.conn)

    def _call(self, method, *args, **kwargs):
        try:
            return getattr(self.conn, method)(*args, **kwargs)
        except ldap3_exceptions.LDAPCommunicationError as exc:
            raise LdapError('connection to %s broke: %s' % (self.target.uri if self.target else 'the server', _clean(str(exc))))
        except ldap3_exceptions.LDAPSessionTerminatedByServerError as exc:
            raise LdapError('the server ended the session: %s' % _clean(str(exc)))
        except ldap3_exceptions.LDAPException as exc:
            # ldap3 refused to build the request (e.g. an add without objectClass)
            raise OperationError(None, 'ldap3 did not send the request', _clean(str(exc)))

    def _last(self):
        result = self.conn.result or {}
        return result.get('result'), result.get('description') or '', result.get('message') or ''

    def search(self, base, scope, flt, attributes):
        """``[(dn, {attribute: [bytes]})]``; ``None`` when ``base`` does not exist."""
        scopes = {'base': ldap3.BASE, 'one': ldap3.LEVEL}
        self._call('search', base, flt, search_scope=scopes[scope], attributes=attributes,
                   dereference_aliases=ldap3.DEREF_NEVER)
        rc, description, message = self._last()
        if rc == RC_NO_SUCH_OBJECT:
            return None
        if rc != RC_SUCCESS:
            raise OperationError(rc, description, message)
        found = []
        for item in self.conn.response or []:
            if item.get('type') != 'searchResEntry':
                continue
            raw = item.get('raw_attributes') or {}
            found.append((item.get('dn'), dict((name, list(values)) for name, values in raw.items())))
        return found

    def read(self, dn, attributes):
        """``(server dn, {attribute: [bytes]})`` of one entry, or ``None`` when it does not exist."""
        found = self.search(dn, 'base', '(objectClass=*)', attributes or ['1.1'])
        if not found:
            return None
        return found[0]

    def compare(self, dn, attr, value):
        """True or False per the server's matching rules, ``None`` when it cannot tell."""
        self._call('compare', dn, attr, value)
        rc = self._last()[0]
        if rc == RC_COMPARE_TRUE:
            return True
        if rc in (RC_COMPARE_FALSE, RC_NO_SUCH_ATTRIBUTE):
            return False
        return None

    def root_dse(self):
        if self._root_dse is None:
            found = self.search('', 'base', '(objectClass=*)',
                                ['subschemaSubentry', 'configContext', 'vendorName', 'vendorVersion', 'namingContexts'])
            self._root_dse = found[0][1] if found else {}
        return self._root_dse

    def read_subschema(self):
        """``(dn, {attribute: [bytes]})`` of the subschema subentry."""
        dse = self.root_dse()
        dns = [value_text(v) for v in _get(dse, 'subschemaSubentry')] or ['cn=schema', 'cn=Subschema']
        last_error = None
        for dn in dns:
            try:
                found = self.search(dn, 'base', '(objectClass=subschema)', SUBSCHEMA_ATTRIBUTES)
            except OperationError as exc:
                last_error = exc
                continue
            if found:
                return found[0]
        if last_error is not None:
            raise last_error
        raise OperationError(RC_NO_SUCH_OBJECT, 'noSuchObject', 'no subschema subentry found (tried %s)' % ', '.join(dns))

    def is_openldap(self):
        dse = self.root_dse()
        return bool(_get(dse, 'configContext')) or any(b'openldap' in v.lower() for v in _get(dse, 'vendorName'))

    def add(self, dn, attrs):
        self._call('add', dn, attributes=dict((name, list(values)) for name, values in attrs))
        return self._last()

    def modify(self, dn, changes):
        self._call('modify', dn, ldap3_changes(changes))
        return self._last()

    def delete(self, dn):
        self._call('delete', dn)
        return self._last()

    def modify_dn(self, dn, newrdn, deleteoldrdn, newsuperior):
        self._call('modify_dn', dn, newrdn, delete_old_dn=deleteoldrdn, new_superior=newsuperior)
        return self._last()


def _get(raw, attr):
    """Values of ``attr`` in a ``{name: [values]}`` dict, name compared case-insensitively."""
    for name, values in raw.items():
        if name.lower() == attr.lower():
            return values
    return []


def ldap3_changes(changes):
    """ldap3's modify dict from ``[(op, attr, values)]``, keeping the order of the operations.

    ldap3 takes a dict keyed by attribute and sends all operations of one key together. When an
    attribute comes back after another one (delete: a / add: b / add: a), the later use gets a
    key that differs only in case, which the server reads as the same attribute, so the order of
    the request is the order of the LDIF.
    """
    ops = {'add': ldap3.MODIFY_ADD, 'delete': ldap3.MODIFY_DELETE, 'replace': ldap3.MODIFY_REPLACE}
    result = {}
    last_attr = last_key = None
    for op, attr, values in changes:
        key = last_key if attr == last_attr else _unused_case_variant(attr, result)
        result.setdefault(key, []).append((ops[op], [value_bytes(v) for v in values]))
        last_attr, last_key = attr, key
    return result


def _unused_case_variant(attr, used):
    if attr not in used:
        return attr
    candidates = [attr.lower(), attr.upper(), attr.swapcase()]
    candidates += [attr[:i] + attr[i].swapcase() + attr[i + 1:] for i in range(len(attr))]
    candidates += [attr[:i].swapcase() + attr[i:] for i in range(2, len(attr))]
    for candidate in candidates:
        if candidate not in used:
            return candidate
    raise LdapError('attribute %s is used too often in one modify record; split the record' % attr)


# --- schema -----------------------------------------------------------------------------------

def schema_kind(attr):
    """The subschema attribute that ``attr`` holds definitions of, or None."""
    return SCHEMA_KINDS.get(attr.split(';', 1)[0].lower())


class Subschema:
    """Definitions known to the server, by OID, plus attribute aliases and single-valuedness."""

    def __init__(self, dn=None, raw=None, error=None):
        self.dn = dn
        self.error = error
        self.available = error is None
        self.oids = dict((kind, {}) for kind in SUBSCHEMA_ATTRIBUTES)
        self.names = dict((kind, {}) for kind in SUBSCHEMA_ATTRIBUTES)
        self.single = set()
        for kind in SUBSCHEMA_ATTRIBUTES:
            for value in _get(raw or {}, kind):
                self.learn(kind, value)

    def learn(self, kind, definition):
        text = value_text(definition) if not isinstance(definition, str) else definition
        oid = schema_oid(text)
        if oid is None:
            return
        self.oids[kind][oid] = strip_ordering(text.strip())
        for name in schema_names(text):
            self.names[kind].setdefault(name, oid)
        if kind == 'attributeTypes' and single_value(text):
            self.single.add(oid)

    def defines(self, kind, definition):
        """Whether the server already has a definition with the OID of ``definition``.

        A definition whose OID is a name or an OID macro (not numeric) is matched by its NAMEs.
        """
        oid = schema_oid(definition)
        if oid is None:
            return False
        if oid in self.oids[kind]:
            return True
        if not is_numeric_oid(oid):
            return oid in self.names[kind] or any(name in self.names[kind] for name in schema_names(definition))
        return False

    def attr_key(self, attr):
        """A key under which aliases of one attribute (sn, surname, 2.5.4.4) compare equal."""
        base, _sep, options = attr.partition(';')
        base = base.lower()
        key = self.names['attributeTypes'].get(base, base)
        if options:
            key += ';' + ';'.join(sorted(o.lower() for o in options.split(';') if o))
        return key

    def is_single_valued(self, attr):
        return self.attr_key(attr.partition(';')[0]) in self.single


# --- entries ----------------------------------------------------------------------------------

class Entry:
    """An entry as the planner sees it: ``dn`` (server spelling) and values by attribute key."""

    def __init__(self, dn, raw, keyfunc, virtual=False):
        self.dn = dn
        self.keyfunc = keyfunc
        self.virtual = virtual  # only in the check-mode overlay, not on the server
        self.source = None      # check mode: the server DN of an entry an earlier record renamed
        self.attrs = {}
        for name, values in (raw or {}).items():
            self.set(name, values, merge=True)

    def set(self, name, values, merge=False):
        key = self.keyfunc(name)
        values = [value_bytes(v) for v in values]
        if merge and key in self.attrs:
            self.attrs[key] = (self.attrs[key][0], self.attrs[key][1] + values)
        elif values:
            self.attrs[key] = (self.attrs[key][0] if key in self.attrs else name, values)
        else:
            self.attrs.pop(key, None)

    def values(self, name):
        return list(self.attrs.get(self.keyfunc(name), (name, []))[1])

    def copy(self):
        other = Entry(self.dn, {}, self.keyfunc, virtual=self.virtual)
        other.source = self.source
        other.attrs = dict((k, (n, list(v))) for k, (n, v) in self.attrs.items())
        return other


def is_secret(attr):
    base = attr.split(';', 1)[0].lower()
    return base in SECRET_ATTRIBUTES or 'password' in base


def render_entry(dn, attrs):
    """Readable LDIF text of ``dn`` and ``[(attr, [values])]``, secrets hidden."""
    lines = ['dn: %s' % dn]
    for attr, values in attrs:
        for value in values:
            lines.append('%s: %s' % (attr, HIDDEN) if is_secret(attr) else render_line(attr, value))
    return '\n'.join(lines) + '\n'


# --- planning and applying ----------------------------------------------------------------------

class Plan:
    """What to do with one record: ``action`` is 'apply', 'skip' or 'fail'.

    For 'apply', ``request`` is ``(operation, args...)`` for ``Directory`` and ``effect`` is a
    callable run after the request succeeded (or, in check mode, instead of it) to keep the
    applier's view of the server current.
    """

    __slots__ = ('action', 'reason', 'message', 'rc', 'request', 'before', 'after', 'effect', 'hint')

    def __init__(self, action, reason, message, rc=None, request=None, before=None, after=None,
                 effect=None, hint=None):
        self.action = action
        self.reason = reason
        self.message = message
        self.rc = rc
        self.request = request
        self.before = before
        self.after = after
        self.effect = effect
        self.hint = hint


def skip(reason, message):
    return Plan('skip', reason, message)


def fail(reason, message, rc=None):
    return Plan('fail', reason, message, rc=rc)


class LdifApplier:
    """Plan and apply a list of ``Record`` against a ``Directory``; see the module docstring.

    ``run()`` returns ``results`` (one dict per record), ``changed``, ``counts``, ``diff``
    (a list of before/after dicts, one per record that changes or would change) and
    ``failed`` (how many records failed).
    """

    def __init__(self, directory, check_mode=False, continue_on_error=False, ensure_values=False):
        self.directory = directory
        self.check_mode = check_mode
        self.continue_on_error = continue_on_error
        self.ensure_values = ensure_values
        self._schema = None
        self._schema_children = None
        self._overlay = {}  # check mode: normalized dn -> Entry (virtual or changed) or None (deleted)

    # --- the run ---------------------------------------------------------------------------

    def run(self, records):
        results = []
        diffs = []
        stop = None
        for record in records:
            result = dict(dn=record.dn, changetype=record.changetype, line=record.line)
            if stop is not None:
                result.update(status='not_run', reason='not_run', rc=None,
                              message='not attempted: %s' % stop)
                results.append(result)
                continue
            try:
                plan = self.plan(record)
                self.execute(plan)
            except LdapError as exc:
                plan = fail('connection_error', str(exc), rc=exc.rc)
                stop = 'the connection failed at line %s' % record.line
            except OperationError as exc:
                plan = fail('read_refused', 'reading the entry failed: %s' % exc, rc=exc.rc)
            result.update(self._result_fields(plan))
            results.append(result)
            if result['status'] in ('applied', 'would_apply') and (plan.before is not None or plan.after is not None):
                diffs.append(dict(before_header='%s (line %s)' % (record.dn, record.line),
                                  after_header='%s (line %s)' % (record.dn, record.line),
                                  before=plan.before or '', after=plan.after or ''))
            if result['status'] == 'failed' and stop is None and not self.continue_on_error:
                stop = 'stopped after the failure at line %s (continue_on_error=false)' % record.line
        counts = dict((status, 0) for status in STATUSES)
        for result in results:
            counts[result['status']] += 1
        counts['total'] = len(results)
        changed = counts['applied'] > 0 or counts['would_apply'] > 0
        return dict(results=results, changed=changed, counts=counts, diff=diffs, failed=counts['failed'])

    def _result_fields(self, plan):
        if plan.action == 'skip':
            return dict(status='skipped', reason=plan.reason, message=plan.message, rc=None)
        if plan.action == 'fail':
            return dict(status='failed', reason=plan.reason, message=plan.message, rc=plan.rc)
        if self.check_mode:
            return dict(status='would_apply', reason=plan.reason, message='would: %s' % plan.message, rc=None)
        return dict(status='applied', reason=plan.reason, message=plan.message, rc=plan.rc)

    def execute(self, plan):
        """Send the planned request (not in check mode); turn a refusal into a failed plan."""
        if plan.action != 'apply':
            return
        if self.check_mode:
            if plan.effect is not None:
                plan.effect()
            return
        operation = plan.request[0]
        try:
            rc, description, message = getattr(self.directory, operation)(*plan.request[1:])
        except OperationError as exc:
            plan.action, plan.reason, plan.rc = 'fail', 'client_error', exc.rc
            plan.message = '%s not sent: %s' % (operation, exc)
            return
        plan.rc = rc
        if rc == RC_SUCCESS:
            if plan.effect is not None:
                plan.effect()
            return
        text = '%s refused by the server: %s (rc=%s)' % (operation, description, rc)
        if message:
            text += ': %s' % message
        if plan.hint:
            text += '. %s' % plan.hint
        plan.action, plan.reason, plan.message = 'fail', 'server_error', text

    # --- shared lookups ------------------------------------------------------------------------

    @property
    def schema(self):
        if self._schema is None:
            try:
                dn, raw = self.directory.read_subschema()
                self._schema = Subschema(dn, raw)
            except OperationError as exc:
                self._schema = Subschema(error='cannot read the server schema: %s' % exc)
        return self._schema

    def _new_entry(self, dn, raw, virtual=False):
        return Entry(dn, raw, self.schema.attr_key, virtual=virtual)

    def read(self, dn, attributes):
        """The entry at ``dn`` (check-mode overlay first), or None. Under cn=config, an RDN
        written without its ``{n}`` prefix finds the entry that has one."""
        ndn = normalize_dn(dn)
        if ndn in self._overlay:
            known = self._overlay[ndn]
            if known is None or known.virtual:
                return known.copy() if known is not None else None
            found = self._read_server(known.source or known.dn, attributes)
            if found is None:
                return None
            found.dn = known.dn
            found.source = known.source
            for key, (name, values) in known.attrs.items():
                found.attrs[key] = (name, list(values))
            return found
        return self._read_server(dn, attributes)

    def _read_server(self, dn, attributes):
        found = self.directory.read(dn, attributes)
        if found is None and _under_config(dn):
            actual = self._find_ordered(dn)
            if actual is not None:
                found = self.directory.read(actual, attributes)
        if found is None:
            return None
        server_dn, raw = found
        return self._new_entry(server_dn or dn, raw)

    def _find_ordered(self, dn):
        """The DN of the cn=config entry ``dn`` names without (or with other) ``{n}`` prefixes."""
        try:
            parent = parent_dn(dn)
        except ValueError:
            return None
        if not parent:
            return None
        wanted = normalize_dn(dn, strip_ordering=True)
        for child_dn, _raw in self.directory.search(parent, 'one', '(objectClass=*)', ['1.1']) or []:
            if normalize_dn(child_dn, strip_ordering=True) == wanted:
                return child_dn
        return None

    def _remember(self, dn, entry):
        """Check mode: record what an earlier record did to ``dn`` (None: deleted)."""
        self._overlay[normalize_dn(dn)] = entry

    def _present(self, entry, attr, value, originals):
        """Whether ``entry`` holds ``value`` in ``attr`` (see the module docstring)."""
        wanted = value_bytes(value)
        current = entry.values(attr)
        if wanted in current:
            return True
        text = value_text(wanted)
        base = attr.split(';', 1)[0].lower()
        if text is not None and base == 'objectclass' and text.lower() in [(value_text(v) or '').lower() for v in current]:
            return True
        if text is not None and _under_config(entry.dn):
            stripped = _squash(strip_ordering(text))
            if stripped in [_squash(strip_ordering(value_text(v) or '')) for v in current]:
                return True
        if entry.virtual or not originals:
            return False
        return self.directory.compare(entry.dn, attr, wanted) is True

    # --- plans per changetype ----------------------------------------------------------------------

    def plan(self, record):
        if record.changetype == 'add':
            if _is_schema_child(record.dn) and any(schema_kind(name) for name, _v in record.attrs):
                return self._plan_schema_entry(record)
            return self._plan_add(record)
        if record.changetype == 'modify':
            return self._plan_modify(record)
        if record.changetype == 'delete':
            return self._plan_delete(record)
        return self._plan_modrdn(record)

    def _plan_add(self, record):
        entry = self.read(record.dn, [name for name, _v in record.attrs])
        if entry is None:
            after = render_entry(record.dn, record.attrs)

            def effect():
                self._remember(record.dn, self._new_entry(record.dn, dict(record.attrs), virtual=True))
            return Plan('apply', 'added', 'entry added', request=('add', record.dn, record.attrs),
                        before='', after=after, effect=effect)

        missing = []
        for name, values in record.attrs:
            lacking = [v for v in values if not self._present(entry, name, v, True)]
            if lacking:
                missing.append((name, lacking))
        if not missing:
            return skip('exists', 'entry exists with all given values')
        summary = ', '.join('%s (%d)' % (name, len(values)) for name, values in missing)
        if not self.ensure_values:
            return skip('exists_differs', 'entry exists but lacks values of %s; not changed '
                                          '(ensure_values=true adds them)' % summary)
        changes = []
        for name, values in missing:
            if self.schema.is_single_valued(name):
                changes.append(('replace', name, dict(record.attrs)[name]))
            else:
                changes.append(('add', name, values))
        return self._modify_plan(entry.dn, entry, changes, 'values_added',
                                 'added missing values to the existing entry: %s' % summary)

    def _plan_schema_entry(self, record):
        """An OpenLDAP schema entry (cn=<name>,cn=schema,cn=config), compared by OID."""
        schema = self.schema
        if not schema.available:
            return fail('schema_unreadable', schema.error)
        definitions = [(name, schema_kind(name), value) for name, values in record.attrs
                       if schema_kind(name) for value in values]
        missing = [(name, kind, value) for name, kind, value in definitions if not schema.defines(kind, value)]
        existing = self._schema_child(record.dn)
        total = len(definitions)
        if existing is None:
            if not missing:
                return skip('schema_defined', 'all %d definitions are already defined on the server '
                                              '(in other schema entries); entry not added' % total)
            if len(missing) != total:
                known = [schema_oid(v) for name, kind, v in definitions if (name, kind, v) not in missing]
                return fail('schema_conflict',
                            '%d of %d definitions are already defined on the server (OIDs %s); adding the entry '
                            'would fail with a duplicate definition. Remove them from this entry, or add the '
                            'missing ones to the schema entry that holds the others'
                            % (total - len(missing), total, ', '.join(known)))

            def effect():
                self._learn(definitions)
                self._schema_children = None
                self._remember(record.dn, self._new_entry(record.dn, dict(record.attrs), virtual=True))
            return Plan('apply', 'added', 'schema entry added with %d definitions' % total,
                        request=('add', record.dn, record.attrs), before='',
                        after=render_entry(record.dn, record.attrs), effect=effect)

        actual_dn, entry = existing
        if not missing:
            return skip('schema_defined', 'schema entry %s exists; all %d definitions are defined' % (actual_dn, total))
        oids = ', '.join(schema_oid(v) for _n, _k, v in missing)
        if not self.ensure_values:
            return skip('exists_differs', 'schema entry %s exists but %d of %d definitions are not defined '
                                          '(OIDs %s); not changed (ensure_values=true adds them)'
                        % (actual_dn, len(missing), total, oids))
        changes = []
        for name, _kind, value in missing:
            if changes and changes[-1][1] == name:
                changes[-1][2].append(value)
            else:
                changes.append(('add', name, [value]))
        return self._modify_plan(actual_dn, entry, changes, 'values_added',
                                 'added %d missing definitions to schema entry %s (OIDs %s)'
                                 % (len(missing), actual_dn, oids))

    def _schema_child(self, dn):
        if self._schema_children is None:
            children = {}
            attributes = ['cn'] + ['olc' + kind[0].upper() + kind[1:] for kind in SUBSCHEMA_ATTRIBUTES]
            for child_dn, raw in self.directory.search(OPENLDAP_SCHEMA_BASE, 'one', '(objectClass=*)', attributes) or []:
                children[normalize_dn(child_dn, strip_ordering=True)] = (child_dn, self._new_entry(child_dn, raw))
            self._schema_children = children
        wanted = normalize_dn(dn, strip_ordering=True)
        overlay = self._overlay.get(normalize_dn(dn), False)
        if overlay is None:
            return None
        if overlay is not False:
            return overlay.dn, overlay.copy()
        return self._schema_children.get(wanted)

    def _learn(self, definitions):
        for _name, kind, value in definitions:
            self.schema.learn(kind, value)

    def _plan_modify(self, record):
        names = []
        for mod in record.mods:
            if mod.attr.lower() not in [n.lower() for n in names]:
                names.append(mod.attr)
        entry = self.read(record.dn, names)
        schema_mods = [mod for mod in record.mods if schema_kind(mod.attr)]
        if schema_mods and not self.schema.available:
            return fail('schema_unreadable', self.schema.error)
        hint = self._schema_hint(record.dn) if schema_mods else None
        if entry is None:
            if schema_mods and len(schema_mods) == len(record.mods) and all(
                    mod.op == 'add' and all(self.schema.defines(schema_kind(mod.attr), v) for v in mod.values)
                    for mod in schema_mods):
                return skip('schema_defined', 'all %d definitions are already defined on the server'
                            % sum(len(m.values) for m in schema_mods))
            message = 'entry does not exist (noSuchObject)'
            if hint:
                message += '. %s' % hint
            return fail('no_such_object', message, rc=RC_NO_SUCH_OBJECT)

        work = entry.copy()
        touched = set()
        changes = []
        definitions = []
        for mod in record.mods:
            key = self.schema.attr_key(mod.attr)
            originals = key not in touched
            kind = schema_kind(mod.attr)
            if mod.op == 'add':
                if kind:
                    needed = [v for v in mod.values if not self.schema.defines(kind, v)]
                    definitions.extend((mod.attr, kind, v) for v in needed)
                else:
                    needed = [v for v in mod.values if not self._present(work, mod.attr, v, originals)]
                if needed:
                    changes.append(('add', mod.attr, needed))
                    work.set(mod.attr, work.values(mod.attr) + [value_bytes(v) for v in needed])
                    touched.add(key)
            elif mod.op == 'delete':
                current = work.values(mod.attr)
                if not mod.values:
                    if current:
                        changes.append(('delete', mod.attr, []))
                        work.set(mod.attr, [])
                        touched.add(key)
                    continue
                present = [v for v in mod.values if self._present(work, mod.attr, v, originals)]
                if present:
                    changes.append(('delete', mod.attr, present))
                    work.set(mod.attr, _without(current, present))
                    touched.add(key)
            else:  # replace
                current = work.values(mod.attr)
                if len(set(value_bytes(v) for v in mod.values)) == len(set(current)) and all(
                        self._present(work, mod.attr, v, originals) for v in mod.values):
                    continue
                changes.append(('replace', mod.attr, list(mod.values)))
                work.set(mod.attr, list(mod.values))
                touched.add(key)
        if not changes:
            return skip('values_present', 'all %d operations are already in effect' % len(record.mods))
        done = sum(1 for _c in changes)
        return self._modify_plan(entry.dn, entry, changes, 'modified',
                                 'entry modified (%d of %d operations needed)' % (done, len(record.mods)),
                                 definitions=definitions, hint=hint)

    def _modify_plan(self, dn, entry, changes, reason, message, definitions=None, hint=None):
        after_entry = entry.copy()
        shown = []
        for op, attr, values in changes:
            if attr.lower() not in [a.lower() for a in shown]:
                shown.append(attr)
            current = after_entry.values(attr)
            if op == 'add':
                after_entry.set(attr, current + [value_bytes(v) for v in values])
            elif op == 'delete':
                after_entry.set(attr, _without(current, values) if values else [])
            else:
                after_entry.set(attr, values)
        before = render_entry(dn, [(a, entry.values(a)) for a in shown])
        after = render_entry(dn, [(a, after_entry.values(a)) for a in shown])
        definitions = definitions or []

        def effect():
            if definitions:
                self._learn(definitions)
                self._schema_children = None
            if self.check_mode:
                self._remember(dn, after_entry)
        return Plan('apply', reason, message, request=('modify', dn, changes), before=before, after=after,
                    effect=effect, hint=hint)

    def _schema_hint(self, dn):
        ndn = normalize_dn(dn)
        if ndn in ('cn=schema', normalize_dn(self.schema.dn or 'cn=subschema')) and self.directory.is_openldap():
            return ('OpenLDAP does not take schema changes through %s: add the definitions as an entry '
                    'cn=<name>,cn=schema,cn=config with olcAttributeTypes/olcObjectClasses instead' % dn)
        return None

    def _plan_delete(self, record):
        entry = self.read(record.dn, ['*'])
        if entry is None:
            return skip('absent', 'entry does not exist')
        before = render_entry(entry.dn, list(entry.attrs.values()))

        def effect():
            self._remember(record.dn, None)
            if entry.dn != record.dn:
                self._remember(entry.dn, None)
        return Plan('apply', 'deleted', 'entry deleted', request=('delete', entry.dn), before=before, after='',
                    effect=effect)

    def _plan_modrdn(self, record):
        new_parent = record.newsuperior if record.newsuperior is not None else parent_dn(record.dn)
        new_dn = record.newrdn + (',' + new_parent if new_parent else '')
        old = self.read(record.dn, ['1.1'])
        same_place = normalize_dn(new_dn) == normalize_dn(record.dn)
        new = None if same_place else self.read(new_dn, ['1.1'])
        if old is None:
            if new is not None:
                return skip('already_renamed', 'entry is already at %s' % new.dn)
            return fail('no_such_object', 'neither %s nor %s exists (noSuchObject)' % (record.dn, new_dn),
                        rc=RC_NO_SUCH_OBJECT)
        if same_place and old.dn == new_dn:
            return skip('already_renamed', 'entry is already named %s' % new_dn)
        if new is not None:
            return fail('target_exists', 'both %s and %s exist; not renamed (entryAlreadyExists)' % (old.dn, new.dn),
                        rc=RC_ALREADY_EXISTS)

        def effect():
            if self.check_mode:
                moved = old.copy()
                moved.source = old.source or old.dn
                moved.dn = new_dn
                self._remember(record.dn, None)
                self._remember(new_dn, self._new_entry(new_dn, {}, virtual=True) if old.virtual else moved)
        superior = record.newsuperior if record.newsuperior else None
        return Plan('apply', 'renamed', 'entry renamed to %s' % new_dn,
                    request=('modify_dn', old.dn, record.newrdn, record.deleteoldrdn, superior),
                    before='dn: %s\n' % old.dn, after='dn: %s\n' % new_dn, effect=effect)


def _under_config(dn):
    ndn = normalize_dn(dn)
    return ndn == 'cn=config' or ndn.endswith(',cn=config')


def _is_schema_child(dn):
    try:
        rdns = split_dn(dn)
    except ValueError:
        return False
    return len(rdns) == 3 and normalize_dn(','.join(rdns[1:])) == OPENLDAP_SCHEMA_BASE and rdn_of(dn).lower().startswith('cn=')


def _squash(text):
    return ' '.join(text.split())


def _without(current, removed):
    """``current`` minus ``removed`` (exact bytes, else text ignoring case), for diffs and check mode."""
    remaining = list(current)
    for value in removed:
        wanted = value_bytes(value)
        if wanted in remaining:
            remaining.remove(wanted)
            continue
        text = (value_text(wanted) or '').lower()
        for candidate in remaining:
            if (value_text(candidate) or '').lower() == text:
                remaining.remove(candidate)
                break
    return remaining
