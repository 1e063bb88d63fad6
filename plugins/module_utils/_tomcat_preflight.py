# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""Checks of a Tomcat installation before PingAM 8.1 is deployed into it.

Three checks, each with a name used in ``failed_checks``:

``tomcat_version``
    The Tomcat major version, from ``lib/catalina.jar`` (``ServerInfo.properties``,
    ``server.number``) or, failing that, from ``bin/version.sh``.
``encoded_slash``
    The system property ``org.apache.tomcat.util.buf.UDecoder.ALLOW_ENCODED_SLASH``, removed in
    Tomcat 10, in ``conf/catalina.properties`` or a ``setenv.sh``. Its Tomcat 10 replacement is the
    ``encodedSolidusHandling`` attribute of the HTTP Connectors. The check can fix this: remove the
    property, and when it was ``true`` set ``encodedSolidusHandling="decode"`` on every HTTP
    Connector that does not set the attribute yet.
``javax_references``
    ``javax.servlet`` and ``javax.websocket`` in text files, in jar/war entries and in the
    constant pools of class files under the paths given to scan.

Edits are minimal: only the property's lines or tokens go, and the attribute is inserted into
the Connector's start tag, located by byte offset with expat. Every other byte stays.
"""

from __future__ import annotations

import io
import os
import re
import xml.etree.ElementTree as ET
import zipfile
from xml.parsers import expat

from ansible_collections.idmops.lifecycle.plugins.module_utils._webapp import tag_end


PROPERTY = 'org.apache.tomcat.util.buf.UDecoder.ALLOW_ENCODED_SLASH'
ATTRIBUTE = 'encodedSolidusHandling'
SERVER_INFO = 'org/apache/catalina/util/ServerInfo.properties'
CHECKS = ('tomcat_version', 'encoded_slash', 'javax_references')

ARCHIVE_EXTENSIONS = ('.jar', '.war', '.ear', '.zip')
# Entries of archives read as text. Files on disk are read as text when they hold no NUL byte.
TEXT_ENTRY_EXTENSIONS = ('.xml', '.jsp', '.jspf', '.jspx', '.tld', '.properties', '.groovy', '.js', '.java',
                         '.txt', '.conf', '.json', '.yaml', '.yml', '.sh', '.MF')
TEXT_RE = re.compile(r'javax[./](servlet|websocket)\b')
CLASS_PATTERNS = ((b'javax/servlet/', 'javax.servlet'), (b'javax/websocket/', 'javax.websocket'),
                  (b'javax.servlet.', 'javax.servlet'), (b'javax.websocket.', 'javax.websocket'))
ENTRY_RE = re.compile(r'(^|/)javax/(servlet|websocket)/')
NESTED_ARCHIVE_LIMIT = 64 * 1024 * 1024


class PreflightError(Exception):
    """An error to report; ``param`` names the offending module option when there is one."""

    def __init__(self, msg, param=None, **result):
        super().__init__(msg)
        self.param = param
        self.result = result


# --- inputs -----------------------------------------------------------------------------------------------

def check_dirs(catalina_home, catalina_base):
    if not os.path.isdir(catalina_home):
        raise PreflightError('catalina_home: %s is not a directory' % catalina_home, param='catalina_home')
    if not (os.path.isdir(os.path.join(catalina_home, 'lib')) or os.path.isdir(os.path.join(catalina_home, 'bin'))):
        raise PreflightError('catalina_home: %s has neither lib/ nor bin/; is it a Tomcat installation?'
                             % catalina_home, param='catalina_home')
    server_xml = os.path.join(catalina_base, 'conf', 'server.xml')
    if not os.path.isfile(server_xml):
        raise PreflightError('catalina_base: %s has no conf/server.xml' % catalina_base, param='catalina_base')
    return server_xml


def default_setenv_files(catalina_home, catalina_base):
    """The setenv.sh that catalina.sh sources: CATALINA_BASE's if it exists, else CATALINA_HOME's."""
    for root in (catalina_base, catalina_home):
        path = os.path.join(root, 'bin', 'setenv.sh')
        if os.path.isfile(path):
            return [path]
    return []


def check_paths(paths, param):
    for path in paths:
        if not os.path.exists(path):
            raise PreflightError('%s: %s does not exist' % (param, path), param=param)
    return list(dict.fromkeys(paths))


def read_bytes(path):
    with open(path, 'rb') as handle:
        return handle.read()


# --- version --------------------------------------------------------------------------------------------

def parse_properties(text):
    """Logical entries of a Java properties text: ``[(key, value, first_line, last_line)]`` (1-based).

    Follows java.util.Properties for what matters here: ``#``/``!`` comments, continuation lines
    ending in an odd number of backslashes, and ``=``, ``:`` or blanks between key and value.
    Escapes other than a continuation are kept as they are.
    """
    entries = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        first = i
        stripped = lines[i].lstrip(' \t\f')
        if not stripped or stripped[0] in '#!':
            i += 1
            continue
        logical = stripped
        while _continues(logical) and i + 1 < len(lines):
            i += 1
            logical = logical[:-1] + lines[i].lstrip(' \t\f')
        if _continues(logical):
            logical = logical[:-1]
        key, value = _split_property(logical)
        entries.append((key, value, first + 1, i + 1))
        i += 1
    return entries


def _continues(line):
    count = len(line) - len(line.rstrip('\\'))
    return count % 2 == 1


def _split_property(logical):
    key = []
    i = 0
    while i < len(logical):
        c = logical[i]
        if c == '\\' and i + 1 < len(logical):
            key.append(logical[i + 1])
            i += 2
            continue
        if c in '=: \t\f':
            break
        key.append(c)
        i += 1
    rest = logical[i:].lstrip(' \t\f')
    if rest[:1] in ('=', ':'):
        rest = rest[1:].lstrip(' \t\f')
    return ''.join(key), rest


def version_from_jar(path):
    """``server.number`` (or the version in ``server.info``) from catalina.jar, or None."""
    try:
        with zipfile.ZipFile(path) as archive:
            text = archive.read(SERVER_INFO).decode('iso-8859-1')
    except (IOError, OSError, KeyError, zipfile.BadZipfile):
        return None
    values = dict((k, v) for k, v, _first, _last in parse_properties(text))
    if re.match(r'^\d+\.\d+', values.get('server.number', '')):
        return values['server.number'].strip()
    match = re.search(r'/(\d+\.\d+[\w.-]*)', values.get('server.info', ''))
    return match.group(1) if match else None


def version_from_output(text):
    """The version in ``version.sh`` output (``Server number:  10.1.60.0``), or None."""
    match = re.search(r'^Server number:\s*(\d+\.\d+\S*)', text, re.MULTILINE)
    if match:
        return match.group(1)
    match = re.search(r'^Server version:[^/\n]*/(\d+\.\d+[^\s(]*)', text, re.MULTILINE)
    return match.group(1) if match else None


def major_of(version):
    return int(version.split('.', 1)[0])


def tomcat_version(catalina_home, catalina_base, run_command):
    """``(version, source)``; ``(None, reason)`` when it cannot be found."""
    jar = os.path.join(catalina_home, 'lib', 'catalina.jar')
    version = version_from_jar(jar)
    if version:
        return version, jar
    script = os.path.join(catalina_home, 'bin', 'version.sh')
    if os.path.isfile(script) and os.access(script, os.X_OK):
        rc, out, err = run_command([script], environ_update=dict(CATALINA_HOME=catalina_home,
                                                                 CATALINA_BASE=catalina_base, LC_ALL='C'))
        version = version_from_output(out or '')
        if version:
            return version, script
        return None, '%s gave no version (rc=%s)' % (script, rc)
    return None, 'no version in %s and no executable %s' % (jar, script)


# --- the removed system property --------------------------------------------------------------------------------

_SHELL_RE = re.compile(r'(?P<token>-D' + re.escape(PROPERTY) +
                       r'(?:=(?P<value>"[^"\n]*"|\'[^\'\n]*\'|[^\s"\'`;)]*))?)(?=[\s"\'`;)]|$)')


def property_in_properties(text):
    """Occurrences of the property in a catalina.properties text."""
    return [dict(line=first, last_line=last, value=value, text=text.splitlines()[first - 1].strip())
            for key, value, first, last in parse_properties(text) if key == PROPERTY]


def remove_from_properties(text, occurrences):
    lines = text.splitlines(True)
    doomed = set()
    for occurrence in occurrences:
        doomed.update(range(occurrence['line'] - 1, occurrence['last_line']))
    return ''.join(line for index, line in enumerate(lines) if index not in doomed)


def property_in_shell(text):
    """``-D<property>[=value]`` tokens on lines of a shell script that are not comments."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith('#'):
            continue
        for match in _SHELL_RE.finditer(line):
            value = match.group('value')
            if value is None:
                value = ''
            elif value[:1] in ('"', "'"):
                value = value[1:-1]
            found.append(dict(line=number, value=value, text=line.strip()))
    return found


def remove_from_shell(text):
    """The script without the property's tokens (and the blank that separated each from its neighbour)."""
    out = []
    for line in text.splitlines(True):
        if line.lstrip().startswith('#'):
            out.append(line)
            continue
        while True:
            match = _SHELL_RE.search(line)
            if not match:
                break
            start, end = match.span('token')
            if start > 0 and line[start - 1] in ' \t':
                while start > 0 and line[start - 1] in ' \t':
                    start -= 1
            else:
                while end < len(line) and line[end] in ' \t':
                    end += 1
            line = line[:start] + line[end:]
        out.append(line)
    return ''.join(out)


def effective_value(properties_hits, shell_hits):
    """What Tomcat 9 would have used: catalina.properties wins (Tomcat sets its entries as system
    properties at startup), else the last ``-D`` seen. None when the property is not set."""
    if properties_hits:
        return properties_hits[-1]['value']
    if shell_hits:
        return shell_hits[-1]['value']
    return None


def is_true(value):
    return value is not None and value.strip().lower() == 'true'  # Boolean.parseBoolean


# --- server.xml connectors -------------------------------------------------------------------------------------

class _EntityDeclared(Exception):
    pass


def parse_connectors(data):
    """``<Connector>`` start tags of server.xml: ``[{start, end, line, attrs}]`` with byte offsets."""
    parser = expat.ParserCreate()
    connectors = []

    def start(name, attrs):
        if name == 'Connector':
            index = parser.CurrentByteIndex
            connectors.append(dict(start=index, end=tag_end(data, index), line=parser.CurrentLineNumber,
                                   attrs=dict(attrs)))

    def entity_decl(*args):
        raise _EntityDeclared()

    parser.StartElementHandler = start
    parser.EntityDeclHandler = entity_decl
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise PreflightError('server.xml is not well-formed XML: %s (line %s, column %s)'
                             % (expat.ErrorString(exc.code), exc.lineno, exc.offset + 1),
                             line=exc.lineno, column=exc.offset + 1)
    except _EntityDeclared:
        raise PreflightError('server.xml declares entities in its DOCTYPE (for example to include other files); '
                             'its Connectors cannot be read reliably')
    return connectors


def is_http_connector(attrs):
    protocol = attrs.get('protocol', 'HTTP/1.1')
    return protocol == 'HTTP/1.1' or 'http11' in protocol.lower()


def describe_connector(connector):
    attrs = connector['attrs']
    return dict(line=connector['line'], port=attrs.get('port'), address=attrs.get('address'),
                protocol=attrs.get('protocol', 'HTTP/1.1'), http=is_http_connector(attrs),
                encoded_solidus_handling=attrs.get(ATTRIBUTE))


def insert_attribute(data, connector, name, value):
    """``data`` with ``name="value"`` added at the end of the connector's start tag, in its style."""
    start, end = connector['start'], connector['end']
    tag = data[start:end]
    close = len(tag) - (2 if tag.endswith(b'/>') else 1)
    body = tag[:close]
    trimmed = body.rstrip()
    attribute = ('%s="%s"' % (name, value)).encode('ascii')
    if b'\n' in trimmed:
        last_line = trimmed[trimmed.rfind(b'\n') + 1:]
        indent = last_line[:len(last_line) - len(last_line.lstrip())]
        new_body = trimmed + b'\n' + indent + attribute + body[len(trimmed):]
    else:
        new_body = trimmed + b' ' + attribute + body[len(trimmed):]
    return data[:start] + new_body + tag[close:] + data[end:]


def set_connector_attribute(data, targets, name, value):
    """Add the attribute to the target connectors (from the end, so offsets stay valid) and verify.

    The targets are the HTTP Connectors without the attribute; the result is parsed again and must
    equal the original with the attribute set on exactly those Connectors.
    """
    new = data
    for connector in sorted(targets, key=lambda c: c['start'], reverse=True):
        new = insert_attribute(new, connector, name, value)
    _verify_connector_edit(data, new, name, value)
    return new


def _verify_connector_edit(before, after, name, value):
    old = parse_connectors(before)
    new = parse_connectors(after)
    if len(old) != len(new):
        raise PreflightError('internal error: the server.xml edit changed the number of Connectors; nothing was '
                             'written')
    for a, b in zip(old, new):
        expected = dict(a['attrs'])
        if is_http_connector(expected) and name not in expected:
            expected[name] = value
        if b['attrs'] != expected:
            raise PreflightError('internal error: the server.xml edit changed a Connector unexpectedly (line %s); '
                                 'nothing was written' % a['line'])
    tree_before = _tree(before)
    for element in tree_before.iter('Connector'):
        if is_http_connector(element.attrib) and element.get(name) is None:
            element.set(name, value)
    if _canonical(tree_before) != _canonical(_tree(after)):
        raise PreflightError('internal error: the server.xml edit changed more than the Connectors; nothing was '
                             'written')


def _tree(data):
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True, insert_pis=True))
    parser.feed(data)
    return parser.close()


def _canonical(element):
    return ET.canonicalize(ET.tostring(element, encoding='unicode'), with_comments=True, strip_text=True)


# --- javax references -------------------------------------------------------------------------------------------

class JavaxScanner(object):
    """Finds ``javax.servlet`` / ``javax.websocket`` in files, archive entries and class files."""

    def __init__(self, max_findings=200, class_references=True, max_file_size=16 * 1024 * 1024):
        self.max_findings = max_findings
        self.class_references = class_references
        self.max_file_size = max_file_size
        self.findings = []
        self.count = 0
        self.errors = []
        self.files = 0

    def _add(self, finding):
        self.count += 1
        if len(self.findings) < self.max_findings:
            self.findings.append(finding)

    def scan(self, paths):
        for path in paths:
            if os.path.isdir(path):
                for root, dirs, files in os.walk(path):
                    dirs.sort()
                    for name in sorted(files):
                        self.scan_file(os.path.join(root, name))
            else:
                self.scan_file(path)
        return self

    def scan_file(self, path):
        if os.path.islink(path) and not os.path.exists(path):
            return
        if not os.path.isfile(path):
            return
        self.files += 1
        lower = path.lower()
        try:
            if lower.endswith(ARCHIVE_EXTENSIONS):
                with zipfile.ZipFile(path) as archive:
                    self.scan_archive(archive, path, '')
            elif lower.endswith('.class'):
                if self.class_references:
                    self.scan_class(read_bytes(path), path, None)
            elif os.path.getsize(path) <= self.max_file_size:
                data = read_bytes(path)
                if b'\0' not in data[:8192]:
                    self.scan_text(data, path, None)
        except (IOError, OSError, EOFError, ValueError, NotImplementedError, RuntimeError, zipfile.BadZipfile) as exc:
            self.errors.append('%s: %s' % (path, getattr(exc, 'strerror', None) or exc))

    def scan_archive(self, archive, path, prefix):
        for info in archive.infolist():
            name = info.filename
            if name.endswith('/'):
                continue
            entry = prefix + name
            match = ENTRY_RE.search(name)
            if match:
                self._add(dict(kind='archive_entry', path=path, entry=entry, line=None,
                               match='javax.' + match.group(2), text=None))
                continue
            lower = name.lower()
            if lower.endswith(ARCHIVE_EXTENSIONS) and info.file_size <= NESTED_ARCHIVE_LIMIT:
                try:
                    with zipfile.ZipFile(io.BytesIO(archive.read(info))) as nested:
                        self.scan_archive(nested, path, entry + '!/')
                except zipfile.BadZipfile:
                    self.errors.append('%s: %s is not a valid archive' % (path, entry))
            elif lower.endswith('.class'):
                if self.class_references:
                    self.scan_class(archive.read(info), path, entry)
            elif name.endswith(TEXT_ENTRY_EXTENSIONS) and info.file_size <= self.max_file_size:
                self.scan_text(archive.read(info), path, entry)

    def scan_class(self, data, path, entry):
        for needle, package in CLASS_PATTERNS:
            if needle in data:
                self._add(dict(kind='class_reference', path=path, entry=entry, line=None, match=package, text=None))
                return

    def scan_text(self, data, path, entry):
        for number, line in enumerate(data.decode('utf-8', 'replace').splitlines(), 1):
            match = TEXT_RE.search(line)
            if match:
                snippet = line.strip()
                self._add(dict(kind='text', path=path, entry=entry, line=number,
                               match='javax.' + match.group(1),
                               text=snippet if len(snippet) <= 200 else snippet[:197] + '...'))


# --- the preflight -----------------------------------------------------------------------------------------------

class Preflight(object):
    """Runs the checks and, with ``fix``, plans the edits for the encoded slash property.

    ``files`` provides ``write(path, data)`` (atomic, keeping owner and mode) and ``backup(path)``.
    """

    def __init__(self, p, run_command):
        self.p = p
        self.run_command = run_command
        self.warnings = []

    def run(self, files, check_mode):
        p = self.p
        home = p['catalina_home']
        base = p['catalina_base'] or home
        server_xml = check_dirs(home, base)
        if p['required_major'] < 1:
            raise PreflightError('required_major must be a positive Tomcat major version, got %s'
                                 % p['required_major'], param='required_major')
        if p['max_findings'] < 0:
            raise PreflightError('max_findings must be zero or positive', param='max_findings')
        setenv = check_paths(p['setenv_files'], 'setenv_files') if p['setenv_files'] is not None \
            else default_setenv_files(home, base)
        scan_paths = check_paths(p['scan_paths'], 'scan_paths')

        result = dict(changed=False, catalina_home=home, catalina_base=base, backup_files=[])
        checks = {}

        version, source = tomcat_version(home, base, self.run_command)
        major = major_of(version) if version else None
        result.update(tomcat_version=version, tomcat_major=major, version_source=source if version else None)
        if version is None:
            checks['tomcat_version'] = dict(passed=False, detail='cannot determine the Tomcat version: %s' % source)
        else:
            checks['tomcat_version'] = dict(
                passed=major == p['required_major'],
                detail='Tomcat %s (from %s), required major version %s' % (version, source, p['required_major']))

        encoded, edits = self._encoded_slash(base, server_xml, setenv)
        result['encoded_slash'] = encoded

        scanner = JavaxScanner(max_findings=p['max_findings'], class_references=p['scan_class_files'])
        scanner.scan(scan_paths)
        for error in scanner.errors:
            self.warnings.append('scan: %s' % error)
        result['javax_references'] = scanner.findings
        result['javax_reference_count'] = scanner.count
        result['scanned_files'] = scanner.files
        if scan_paths:
            checks['javax_references'] = dict(
                passed=scanner.count == 0,
                detail='%d reference%s to javax.servlet or javax.websocket in %d file%s scanned%s' % (
                    scanner.count, '' if scanner.count == 1 else 's', scanner.files,
                    '' if scanner.files == 1 else 's',
                    '' if scanner.count <= len(scanner.findings) else ' (first %d listed)' % len(scanner.findings)))
        else:
            checks['javax_references'] = dict(passed=True, detail='no scan_paths given; nothing scanned')

        occurrences = encoded['occurrences']
        if not occurrences:
            checks['encoded_slash'] = dict(passed=True, detail='%s is not set' % PROPERTY)
        elif not p['fix']:
            checks['encoded_slash'] = dict(passed=False, detail='%s is set in %s; Tomcat 10 ignores it%s' % (
                PROPERTY, ', '.join(sorted(set('%s:%s' % (o['path'], o['line']) for o in occurrences))),
                '; set encodedSolidusHandling="decode" on the HTTP Connectors instead' if encoded['maps_to'] else ''))
        else:
            checks['encoded_slash'] = dict(passed=True, detail='%s%s' % (
                'would be ' if check_mode else '', 'fixed: ' + '; '.join(edit['summary'] for edit in edits)))

        if p['fix'] and edits:
            result['changed'] = True
            result['diff'] = [dict(before_header=e['path'], after_header=e['path'], before=e['before_text'],
                                   after=e['after_text']) for e in edits]
            result['fixed'] = [e['summary'] for e in edits]
            if not check_mode:
                # server.xml first: if it cannot be written, the property stays and Tomcat 10 behaves as before.
                for edit in sorted(edits, key=lambda e: e['path'] != server_xml):
                    if p['backup']:
                        result['backup_files'].append(files.backup(edit['path']))
                    files.write(edit['path'], edit['after'])
        else:
            result['fixed'] = []

        result['checks'] = checks
        result['failed_checks'] = [name for name in CHECKS if not checks[name]['passed']]
        result['msg'] = self._summary(result, check_mode)
        return result

    def _encoded_slash(self, base, server_xml, setenv):
        properties_path = os.path.join(base, 'conf', 'catalina.properties')
        occurrences = []
        edits = []
        properties_hits = []
        shell_hits = []
        originals = {}

        if os.path.isfile(properties_path):
            data = read_bytes(properties_path)
            text = data.decode('iso-8859-1')  # the encoding java.util.Properties reads
            properties_hits = property_in_properties(text)
            for hit in properties_hits:
                occurrences.append(dict(((k, v) for k, v in hit.items() if k != 'last_line'),
                                        path=properties_path, kind='catalina.properties'))
            if properties_hits:
                new_text = remove_from_properties(text, properties_hits)
                originals[properties_path] = (data, new_text.encode('iso-8859-1'), text, new_text)
        for path in setenv:
            data = read_bytes(path)
            text = data.decode('utf-8', 'surrogateescape')
            hits = property_in_shell(text)
            shell_hits.extend(hits)
            for hit in hits:
                occurrences.append(dict(hit, path=path, kind='setenv'))
            if hits:
                new_text = remove_from_shell(text)
                originals[path] = (data, new_text.encode('utf-8', 'surrogateescape'), text, new_text)

        value = effective_value(properties_hits, shell_hits)
        maps_to = 'decode' if is_true(value) else None

        server_data = read_bytes(server_xml)
        connectors = parse_connectors(server_data)
        described = [describe_connector(c) for c in connectors]
        targets = [c for c in connectors if is_http_connector(c['attrs']) and ATTRIBUTE not in c['attrs']]
        if maps_to:
            for connector in connectors:
                current = connector['attrs'].get(ATTRIBUTE)
                if is_http_connector(connector['attrs']) and current is not None and current != maps_to:
                    self.warnings.append(
                        'server.xml line %s: the Connector sets %s="%s", which already took precedence over %s=%s; '
                        'it is kept' % (connector['line'], ATTRIBUTE, current, PROPERTY, value))
            if not [c for c in connectors if is_http_connector(c['attrs'])]:
                self.warnings.append(
                    '%s=%s but server.xml has no HTTP Connector to carry %s' % (PROPERTY, value, ATTRIBUTE))
        encoded = dict(occurrences=occurrences, effective_value=value, maps_to=maps_to, connectors=described)

        if self.p['fix'] and occurrences:
            if maps_to and targets:
                new_server = set_connector_attribute(server_data, targets, ATTRIBUTE, maps_to)
                edits.append(dict(path=server_xml, before=server_data, after=new_server,
                                  before_text=server_data.decode('utf-8', 'replace'),
                                  after_text=new_server.decode('utf-8', 'replace'),
                                  summary='%s: %s="%s" on the HTTP Connector%s at line%s %s' % (
                                      server_xml, ATTRIBUTE, maps_to, '' if len(targets) == 1 else 's',
                                      '' if len(targets) == 1 else 's',
                                      ', '.join(str(c['line']) for c in targets))))
            for path, (data, new_data, text, new_text) in originals.items():
                lines = sorted(set(o['line'] for o in occurrences if o['path'] == path))
                lines = [str(line) for line in lines]
                edits.append(dict(path=path, before=data, after=new_data, before_text=text, after_text=new_text,
                                  summary='%s: removed %s (line%s %s)' % (path, PROPERTY, '' if len(lines) == 1
                                                                          else 's', ', '.join(lines))))
        return encoded, edits

    def _summary(self, result, check_mode):
        failed = result['failed_checks']
        parts = []
        if result['fixed']:
            parts.append('%s the encoded slash property' % ('would fix' if check_mode else 'fixed'))
        if failed:
            parts.append('failed checks: %s' % ', '.join(failed))
        else:
            parts.append('all checks passed')
        return 'Tomcat %s: %s' % (result['tomcat_version'] or '(unknown version)', '; '.join(parts))
