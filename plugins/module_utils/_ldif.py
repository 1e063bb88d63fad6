# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""LDIF (RFC 2849) parsing and the few DN and schema helpers that need no LDAP library.

``parse_ldif(text)`` returns a list of ``Record`` objects, or raises ``LDIFError`` naming the
line of the first problem. It reads the whole stream before anything is sent to a server,
so a syntax error anywhere means nothing is applied.

Supported: ``version: 1``; comments (``#``) including folded comments; folded lines (a line
that starts with one space continues the previous one); base64 values (``attr:: ...``,
also for ``dn::``, ``newrdn::`` and ``newsuperior::``); content records (treated as adds,
like ``ldapadd``) and change records with ``changetype: add|delete|modify|modrdn|moddn``;
modify operations ``add:``, ``delete:`` and ``replace:`` separated by ``-`` lines (the
``-`` after the last operation of a record may be left out, as ``ldapmodify`` allows).

Rejected with a clear message: URL values (``attr:< file://...``), ``control:`` lines,
``increment:`` operations (not idempotent), content lines in a change record and
change lines in a content record.

Values are ``str`` when they are valid UTF-8 (plain values always are) and ``bytes``
otherwise (a base64 value that decodes to binary data). ``value_bytes`` gives the bytes of
either form.
"""

from __future__ import annotations

import base64
import binascii
import re


CHANGETYPES = ('add', 'delete', 'modify', 'modrdn', 'moddn')
MODIFY_OPS = ('add', 'delete', 'replace')

# An attribute description: a name (or numeric OID) and options, e.g. userCertificate;binary.
_ATTR_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9\-.]*(;[A-Za-z0-9\-]+)*$')
_ORDERING_PREFIX_RE = re.compile(r'^\{-?\d+\}')
_NUMERIC_OID_RE = re.compile(r'^[0-9]+(\.[0-9]+)*$')


class LDIFError(Exception):
    """A syntax error in an LDIF stream; ``line`` is the 1-based physical line number."""

    def __init__(self, msg, line=None):
        self.line = line
        self.reason = msg
        if line is not None:
            msg = 'LDIF syntax error at line %d: %s' % (line, msg)
        else:
            msg = 'LDIF syntax error: %s' % msg
        super().__init__(msg)


class Modification:
    """One operation of a modify record: ``op`` (add, delete, replace), ``attr`` and ``values``.

    ``values`` may be empty for ``delete`` (remove the attribute) and ``replace`` (remove all values).
    """

    __slots__ = ('op', 'attr', 'values', 'line')

    def __init__(self, op, attr, values=None, line=None):
        self.op = op
        self.attr = attr
        self.values = list(values or [])
        self.line = line

    def __repr__(self):
        return 'Modification(%r, %r, %r)' % (self.op, self.attr, self.values)

    def __eq__(self, other):
        return (isinstance(other, Modification) and
                (self.op, self.attr.lower(), self.values) == (other.op, other.attr.lower(), other.values))

    __hash__ = None


class Record:
    """One LDIF record.

    ``changetype`` is one of ``CHANGETYPES``; a content record (no changetype line) has
    ``changetype='add'`` and ``content=True``. ``attrs`` (add) is a list of
    ``(attribute, [values])`` in the order first seen, one item per attribute (names
    compared case-insensitively). ``mods`` (modify) is a list of ``Modification``.
    ``newrdn``, ``deleteoldrdn`` and ``newsuperior`` belong to modrdn/moddn.
    ``line`` is the line number of the record's ``dn:`` line.
    """

    __slots__ = ('dn', 'changetype', 'line', 'content', 'attrs', 'mods', 'newrdn',
                 'deleteoldrdn', 'newsuperior')

    def __init__(self, dn, changetype, line=None, content=False, attrs=None, mods=None,
                 newrdn=None, deleteoldrdn=None, newsuperior=None):
        self.dn = dn
        self.changetype = changetype
        self.line = line
        self.content = content
        self.attrs = attrs if attrs is not None else []
        self.mods = mods if mods is not None else []
        self.newrdn = newrdn
        self.deleteoldrdn = deleteoldrdn
        self.newsuperior = newsuperior

    def __repr__(self):
        return 'Record(%r, %r, line=%r)' % (self.dn, self.changetype, self.line)

    def attr_dict(self):
        """The add attributes as ``{lowercased name: (name, [values])}``."""
        return dict((name.lower(), (name, list(values))) for name, values in self.attrs)


# --- values ---------------------------------------------------------------------------------

def value_bytes(value):
    """The bytes of a value given as ``str`` (UTF-8) or ``bytes``."""
    if isinstance(value, bytes):
        return value
    return value.encode('utf-8')


def value_text(value):
    """A value as ``str`` when it is UTF-8 text, else ``None``."""
    if isinstance(value, str):
        return value
    try:
        return value.decode('utf-8')
    except UnicodeDecodeError:
        return None


def _decode_base64(text, line, what):
    compact = ''.join(text.split())
    try:
        raw = base64.b64decode(compact.encode('ascii'), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise LDIFError('invalid base64 value for %s' % what, line)
    try:
        return raw.decode('utf-8')
    except UnicodeDecodeError:
        return raw


# --- lines --------------------------------------------------------------------------------

def _logical_lines(text):
    """Yield blocks (records) as lists of ``(line_number, logical_line)``.

    Unfolds continuation lines, drops comments (and their continuations) and splits blocks
    on empty lines.
    """
    block = []
    current = None      # [line_number, text] of the logical line being built, or None
    in_comment = False  # the last logical line was a comment (its continuations are dropped)
    physical = text.split('\n')
    if physical and physical[-1] == '':
        physical.pop()
    for number, line in enumerate(physical, 1):
        if line.endswith('\r'):
            line = line[:-1]
        if line.startswith(' '):
            if in_comment:
                continue
            if current is None:
                if line.strip() == '':
                    # whitespace alone where no line can be continued: a separator
                    if block:
                        yield block
                        block = []
                    continue
                raise LDIFError('continuation line (starting with a space) without a line to continue', number)
            current[1] += line[1:]
            continue
        if current is not None:
            block.append(tuple(current))
            current = None
        in_comment = False
        if line == '':
            if block:
                yield block
                block = []
            continue
        if line.startswith('#'):
            in_comment = True
            continue
        current = [number, line]
    if current is not None:
        block.append(tuple(current))
    if block:
        yield block


def _split_line(number, line):
    """Split ``attr: value`` / ``attr:: base64`` into ``(attr, value)``; value is str or bytes."""
    if ':' not in line:
        raise LDIFError("expected 'attribute: value', found %r" % _shorten(line), number)
    attr, rest = line.split(':', 1)
    if not attr:
        raise LDIFError('missing attribute name before ":"', number)
    if not _ATTR_RE.match(attr):
        raise LDIFError('invalid attribute description %r' % _shorten(attr), number)
    if rest.startswith(':'):
        return attr, _decode_base64(rest[1:], number, attr)
    if rest.startswith('<'):
        raise LDIFError('URL values (%s:< %s) are not supported: put the value inline or base64-encode it (%s:: ...)'
                        % (attr, rest[1:].strip(), attr), number)
    return attr, rest.lstrip(' ')


def _shorten(text, limit=60):
    return text if len(text) <= limit else text[:limit] + '...'


def _text_of(value, number, what):
    text = value_text(value)
    if text is None:
        raise LDIFError('%s must be UTF-8 text' % what, number)
    return text


# --- records --------------------------------------------------------------------------------

def parse_ldif(text):
    """Parse an LDIF stream (``str`` or UTF-8 ``bytes``) into a list of ``Record``."""
    if isinstance(text, bytes):
        try:
            text = text.decode('utf-8')
        except UnicodeDecodeError as exc:
            line = text[:exc.start].count(b'\n') + 1
            raise LDIFError('not valid UTF-8 (use base64 "attr:: ..." for binary values)', line)
    if text.startswith('\ufeff'):
        text = text[1:]
    records = []
    first = True
    for block in _logical_lines(text):
        if first:
            first = False
            number, line = block[0]
            if line.lower().startswith('version:'):
                version = line.split(':', 1)[1].strip()
                if version != '1':
                    raise LDIFError('unsupported LDIF version %r (only 1 is supported)' % version, number)
                block = block[1:]
                if not block:
                    continue
        records.append(_parse_record(block))
    return records


def _parse_record(block):
    number, line = block[0]
    attr, dn = _split_line(number, line)
    if attr.lower() != 'dn':
        if attr.lower() == 'version':
            raise LDIFError("'version:' may only appear once, at the start of the stream", number)
        raise LDIFError("a record must start with 'dn:', found %r" % _shorten(line), number)
    dn = _text_of(dn, number, 'dn').strip()
    if not dn:
        raise LDIFError('empty dn: the root DSE cannot be changed with this module', number)
    _check_dn(dn, number)
    dn_line = number
    rest = block[1:]

    if rest and _split_line(*rest[0])[0].lower() == 'control':
        raise LDIFError('LDAP controls in LDIF (control:) are not supported', rest[0][0])

    if rest and _split_line(*rest[0])[0].lower() == 'changetype':
        number, line = rest[0]
        changetype = _text_of(_split_line(number, line)[1], number, 'changetype').strip().lower()
        if changetype not in CHANGETYPES:
            raise LDIFError('unknown changetype %r (expected one of %s)' % (changetype, ', '.join(CHANGETYPES)), number)
        body = rest[1:]
        if changetype == 'add':
            return Record(dn, 'add', dn_line, attrs=_parse_attrs(body, dn_line, change=True))
        if changetype == 'delete':
            if body:
                raise LDIFError('a delete record takes no further lines', body[0][0])
            return Record(dn, 'delete', dn_line)
        if changetype == 'modify':
            return Record(dn, 'modify', dn_line, mods=_parse_mods(body, dn_line))
        return _parse_modrdn(dn, changetype, dn_line, body)
    return Record(dn, 'add', dn_line, content=True, attrs=_parse_attrs(rest, dn_line, change=False))


def _check_dn(dn, number):
    try:
        rdns = split_dn(dn)
    except ValueError as exc:
        raise LDIFError('invalid dn %r: %s' % (_shorten(dn), exc), number)
    for rdn in rdns:
        if '=' not in rdn:
            raise LDIFError('invalid dn %r: RDN %r has no "="' % (_shorten(dn), rdn), number)


def _parse_attrs(lines, dn_line, change):
    attrs = []
    index = {}
    for number, line in lines:
        if line.strip() == '-':
            raise LDIFError("'-' is only allowed between operations of a modify record", number)
        attr, value = _split_line(number, line)
        key = attr.lower()
        if key == 'changetype':
            raise LDIFError("'changetype:' must directly follow the dn: line", number)
        if key == 'dn':
            raise LDIFError("a second 'dn:' in one record (records are separated by an empty line)", number)
        if key == 'control':
            raise LDIFError('LDAP controls in LDIF (control:) are not supported', number)
        if key not in index:
            index[key] = len(attrs)
            attrs.append((attr, []))
        attrs[index[key]][1].append(value)
    if not attrs:
        raise LDIFError('an %s record needs at least one attribute' % ('add' if change else 'entry'), dn_line)
    return attrs


def _parse_mods(lines, dn_line):
    mods = []
    current = None
    for number, line in lines:
        if line.rstrip() == '-':
            if current is None:
                raise LDIFError("'-' without an operation before it", number)
            _finish_mod(current)
            mods.append(current)
            current = None
            continue
        attr, value = _split_line(number, line)
        if current is None:
            op = attr.lower()
            if op == 'increment':
                raise LDIFError('increment: is not supported (it cannot be applied idempotently)', number)
            if op not in MODIFY_OPS:
                raise LDIFError("expected 'add:', 'delete:' or 'replace:' in a modify record, found %r" % _shorten(line), number)
            target = _text_of(value, number, 'attribute name').strip()
            if not target or not _ATTR_RE.match(target):
                raise LDIFError('invalid attribute description %r after %s:' % (target, op), number)
            current = Modification(op, target, line=number)
            continue
        if attr.lower() != current.attr.lower():
            raise LDIFError("attribute %r does not match the operation '%s: %s' (missing '-' line?)"
                            % (attr, current.op, current.attr), number)
        current.values.append(value)
    if current is not None:
        _finish_mod(current)
        mods.append(current)
    if not mods:
        raise LDIFError('a modify record needs at least one operation', dn_line)
    return mods


def _finish_mod(mod):
    if mod.op == 'add' and not mod.values:
        raise LDIFError("'add: %s' needs at least one value" % mod.attr, mod.line)


def _parse_modrdn(dn, changetype, dn_line, lines):
    found = {}
    for number, line in lines:
        attr, value = _split_line(number, line)
        key = attr.lower()
        if key not in ('newrdn', 'deleteoldrdn', 'newsuperior'):
            raise LDIFError("unexpected %r in a %s record (expected newrdn, deleteoldrdn, newsuperior)" % (attr, changetype), number)
        if key in found:
            raise LDIFError('%s appears twice' % key, number)
        found[key] = (number, _text_of(value, number, key).strip())
    if 'newrdn' not in found:
        raise LDIFError('a %s record needs newrdn:' % changetype, dn_line)
    if 'deleteoldrdn' not in found:
        raise LDIFError('a %s record needs deleteoldrdn: 0 or 1' % changetype, dn_line)
    number, newrdn = found['newrdn']
    if '=' not in newrdn or len(_split_dn_checked(newrdn, number)) != 1:
        raise LDIFError('newrdn %r must be a single RDN like cn=name' % newrdn, number)
    number, flag = found['deleteoldrdn']
    if flag not in ('0', '1'):
        raise LDIFError('deleteoldrdn must be 0 or 1, found %r' % flag, number)
    newsuperior = None
    if 'newsuperior' in found:
        number, newsuperior = found['newsuperior']
        if newsuperior:
            _check_dn(newsuperior, number)
    return Record(dn, changetype, dn_line, newrdn=newrdn, deleteoldrdn=flag == '1',
                  newsuperior=newsuperior)


def _split_dn_checked(dn, number):
    try:
        return split_dn(dn)
    except ValueError as exc:
        raise LDIFError('invalid dn %r: %s' % (_shorten(dn), exc), number)


# --- DNs ------------------------------------------------------------------------------------

def split_dn(dn):
    """Split a DN string into its RDN strings, honouring backslash escapes and quotes."""
    rdns = []
    current = []
    escaped = False
    quoted = False
    for char in dn:
        if escaped:
            current.append(char)
            escaped = False
        elif char == '\\':
            current.append(char)
            escaped = True
        elif char == '"':
            current.append(char)
            quoted = not quoted
        elif char in ',;' and not quoted:
            rdns.append(''.join(current).strip())
            current = []
        else:
            current.append(char)
    if escaped:
        raise ValueError('ends with a lone backslash')
    if quoted:
        raise ValueError('unbalanced quote')
    rdns.append(''.join(current).strip())
    if any(not rdn for rdn in rdns):
        raise ValueError('empty RDN')
    return rdns


def _normalize_rdn(rdn, strip_ordering=False):
    parts = []
    for ava in rdn.split('+'):
        attr, _sep, value = ava.partition('=')
        value = value.strip()
        if strip_ordering:
            value = _ORDERING_PREFIX_RE.sub('', value)
        parts.append('%s=%s' % (attr.strip().lower(), value.lower()))
    return '+'.join(sorted(parts))


def normalize_dn(dn, strip_ordering=False):
    """A comparable form of a DN: lower case, no spaces around separators.

    With ``strip_ordering``, ``{n}`` prefixes of RDN values (OpenLDAP cn=config) are removed.
    Not a full RFC 4514 normalization (escaped and hex forms of one character compare
    unequal), which is enough for the DNs of one LDIF stream and one server.
    """
    try:
        rdns = split_dn(dn)
    except ValueError:
        return dn.strip().lower()
    return ','.join(_normalize_rdn(rdn, strip_ordering) for rdn in rdns)


def parent_dn(dn):
    """The parent DN (as written), or '' for a single-RDN DN."""
    rdns = split_dn(dn)
    return ','.join(rdns[1:])


def rdn_of(dn):
    return split_dn(dn)[0]


def rdn_values(rdn):
    """``[(attribute, value)]`` of an RDN (multi-valued RDNs give several pairs)."""
    pairs = []
    for ava in rdn.split('+'):
        attr, _sep, value = ava.partition('=')
        pairs.append((attr.strip(), _unescape_dn_value(value.strip())))
    return pairs


def _unescape_dn_value(value):
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return value[1:-1]
    out = bytearray()
    i = 0
    while i < len(value):
        char = value[i]
        if char == '\\' and i + 1 < len(value):
            pair = value[i + 1:i + 3]
            if len(pair) == 2 and all(c in '0123456789abcdefABCDEF' for c in pair):
                out.append(int(pair, 16))
                i += 3
                continue
            out.extend(value[i + 1].encode('utf-8'))
            i += 2
            continue
        out.extend(char.encode('utf-8'))
        i += 1
    return out.decode('utf-8', 'replace')


def strip_ordering(value):
    """Remove an OpenLDAP ``{n}`` ordering prefix from a ``str`` value."""
    return _ORDERING_PREFIX_RE.sub('', value)


# --- schema definitions -----------------------------------------------------------------------

def schema_oid(definition):
    """The OID (first token after '(') of an RFC 4512 definition, lower case, or None.

    An OpenLDAP ``{n}`` prefix is ignored. The OID may be numeric or a name/macro such as
    ``OLcfgAt:1``; see ``is_numeric_oid``.
    """
    text = value_text(definition) if not isinstance(definition, str) else definition
    if text is None:
        return None
    text = strip_ordering(text.strip()).strip()
    if not text.startswith('('):
        return None
    tokens = text[1:].replace(')', ' ) ').split()
    if not tokens or tokens[0] == ')':
        return None
    return tokens[0].lower()


def schema_names(definition):
    """The NAME(s) of an RFC 4512 definition, lower case (``NAME 'a'`` or ``NAME ( 'a' 'b' )``)."""
    text = value_text(definition) if not isinstance(definition, str) else definition
    if text is None:
        return []
    match = re.search(r"\sNAME\s+(\(\s*(?:'[^']*'\s*)+\)|'[^']*')", text, re.IGNORECASE)
    if not match:
        return []
    return [name.lower() for name in re.findall(r"'([^']*)'", match.group(1))]


def is_numeric_oid(oid):
    return bool(oid) and bool(_NUMERIC_OID_RE.match(oid))


def single_value(definition):
    """True when an attributeTypes definition says SINGLE-VALUE."""
    text = value_text(definition) if not isinstance(definition, str) else definition
    return bool(text) and re.search(r'\sSINGLE-VALUE(\s|\))', text, re.IGNORECASE) is not None


# --- rendering --------------------------------------------------------------------------------

_SAFE_INIT = re.compile(r'^[^\x00\n\r :<]')
_SAFE = re.compile(r'^[^\x00-\x08\x0a-\x1f\x7f]*$')


def render_line(attr, value):
    """One line ``attr: value`` for humans (diffs), or ``attr:: base64`` for binary values.

    UTF-8 text is shown as is, also when RFC 2849 would base64-encode it (non-ASCII); values
    with control characters, a leading space, colon or '<', or a trailing space are base64.
    """
    text = value_text(value)
    if text is not None and (text == '' or (_SAFE_INIT.match(text) and _SAFE.match(text) and not text.endswith(' '))):
        return '%s: %s' % (attr, text) if text else '%s:' % attr
    return '%s:: %s' % (attr, base64.b64encode(value_bytes(value)).decode('ascii'))
