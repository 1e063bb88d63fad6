# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""Edits of an exploded web application: remove libraries and servlets from WEB-INF.

The ``web.xml`` edit is XML-aware but minimal. expat parses the file and reports the byte
offsets of the elements to remove; exactly those bytes (plus the indentation and line break
of lines they fill alone) are cut, and every other byte of the file stays as it was:
namespaces, comments, the XML declaration, other servlets, order and formatting. The result
is parsed again and compared, element by element, with the original tree minus the removed
elements before anything is written.
"""

from __future__ import annotations

import os
import tempfile
import xml.etree.ElementTree as ET
from xml.parsers import expat


# PingAM 8.1: used only by the install and upgrade wizards, removed after an upgrade for security.
DEFAULT_LIBRARIES = ('click-extras-2.3.0.jar', 'click-nodeps-2.3.0.jar', 'velocity-1.7-p1.jar')
DEFAULT_SERVLET = 'click-servlet'


class WebappError(Exception):
    """An error to report; ``param`` names the offending module option when there is one."""

    def __init__(self, msg, param=None, **result):
        super().__init__(msg)
        self.param = param
        self.result = result


# --- inputs ---------------------------------------------------------------------------------------

def check_webapp(path):
    """``(web_xml, lib_dir)`` of the exploded web application at ``path``; WebappError naming ``path``."""
    if not os.path.isdir(path):
        raise WebappError('path: %s is not a directory (the exploded web application root is expected)' % path,
                          param='path')
    web_inf = os.path.join(path, 'WEB-INF')
    web_xml = os.path.join(web_inf, 'web.xml')
    if not os.path.isfile(web_xml):
        raise WebappError('path: %s has no WEB-INF/web.xml; is it the root of an exploded web application?' % path,
                          param='path')
    return web_xml, os.path.join(web_inf, 'lib')


def check_library_names(names):
    """Each name must be a plain file name inside WEB-INF/lib."""
    for name in names:
        if not name or name in ('.', '..') or '/' in name or '\\' in name or '\0' in name:
            raise WebappError('libraries: %r is not a plain file name in WEB-INF/lib' % (name,), param='libraries')
    return list(dict.fromkeys(names))  # without repeats, in order


def check_servlet_name(name):
    if not name or not name.strip():
        raise WebappError('servlet_name must not be empty', param='servlet_name')
    return name.strip()


# --- locating elements by byte offset -------------------------------------------------------------------

def _local(name):
    return name.rsplit(' ', 1)[-1]


def tag_end(data, index):
    """Offset just after the tag that starts at ``data[index] == '<'`` (quotes in attributes honoured)."""
    quote = None
    i = index + 1
    length = len(data)
    while i < length:
        c = data[i:i + 1]
        if quote:
            if c == quote:
                quote = None
        elif c in (b'"', b"'"):
            quote = c
        elif c == b'>':
            return i + 1
        i += 1
    raise WebappError('unterminated tag at byte %d' % index)


class _EntityDeclared(Exception):
    pass


def scan(data, servlet_name):
    """Parse ``data`` (bytes) and locate the servlet's elements.

    Returns a dict with ``root`` (local name of the document element), ``servlets`` and
    ``mappings`` (lists of dicts with ``start``/``end`` byte offsets of the whole element and
    what it holds) and ``references`` (line numbers of other ``servlet-name`` elements naming the
    servlet, for example in a ``filter-mapping``). Raises WebappError with expat's message and
    line on malformed XML.
    """
    if data[:2] in (b'\xff\xfe', b'\xfe\xff') or data[:4] in (b'\x00\x00\xfe\xff', b'\xff\xfe\x00\x00'):
        raise WebappError('web.xml is UTF-16 or UTF-32 encoded; only ASCII-compatible encodings such as UTF-8 '
                          'are supported')
    parser = expat.ParserCreate(namespace_separator=' ')
    parser.buffer_text = True
    stack = []
    found = {'root': None, 'servlets': [], 'mappings': [], 'references': []}

    def start(name, attrs):
        local = _local(name)
        if not stack:
            found['root'] = local
        node = {'local': local, 'start': parser.CurrentByteIndex, 'line': parser.CurrentLineNumber,
                'text': [], 'children': {}}
        stack.append(node)

    def end(name):
        node = stack.pop()
        index = parser.CurrentByteIndex
        if data[index:index + 2] == b'</':
            node['end'] = tag_end(data, index)
        else:  # an empty element <x/>: the end event points at its start tag
            node['end'] = tag_end(data, node['start'])
        text = ''.join(node['text']).strip()
        if stack:
            stack[-1]['children'].setdefault(node['local'], []).append(text)
        if node['local'] == 'servlet-name' and text == servlet_name and len(stack) >= 1:
            parent = stack[-1]
            parent.setdefault('names_servlet', True)
            if not (len(stack) == 2 and parent['local'] in ('servlet', 'servlet-mapping')):
                found['references'].append({'line': node['line'], 'element': parent['local']})
        if len(stack) == 1 and node['local'] in ('servlet', 'servlet-mapping') and node.get('names_servlet'):
            item = {'start': node['start'], 'end': node['end'], 'line': node['line']}
            if node['local'] == 'servlet':
                item['servlet_class'] = (node['children'].get('servlet-class') or [None])[0]
                found['servlets'].append(item)
            else:
                item['url_patterns'] = node['children'].get('url-pattern', [])
                found['mappings'].append(item)

    def characters(text):
        if stack:
            stack[-1]['text'].append(text)

    def entity_decl(*args):
        raise _EntityDeclared()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.EntityDeclHandler = entity_decl
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise WebappError('web.xml is not well-formed XML: %s (line %s, column %s)'
                          % (expat.ErrorString(exc.code), exc.lineno, exc.offset + 1),
                          line=exc.lineno, column=exc.offset + 1)
    except _EntityDeclared:
        raise WebappError('web.xml declares entities in its DOCTYPE; refusing to edit it')
    return found


def _widen(data, start, end):
    """Widen ``[start, end)`` to whole lines when the element fills its lines alone."""
    line_start = data.rfind(b'\n', 0, start) + 1
    line_end = data.find(b'\n', end)
    if line_end == -1:
        line_end = len(data) - 1
    if not data[line_start:start].strip() and not data[end:line_end + 1].strip():
        return line_start, line_end + 1
    return start, end


def remove_ranges(data, ranges):
    """``data`` without the given byte ranges (widened to whole lines where they fill them)."""
    pieces = []
    position = 0
    for start, end in sorted(_widen(data, s, e) for s, e in ranges):
        if start < position:
            raise WebappError('overlapping elements to remove at byte %d' % start)
        pieces.append(data[position:start])
        position = end
    pieces.append(data[position:])
    return b''.join(pieces)


# --- verification ---------------------------------------------------------------------------------------------

def _tree(data):
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True, insert_pis=True))
    parser.feed(data)
    return parser.close()


def _canonical(element):
    return ET.canonicalize(ET.tostring(element, encoding='unicode'), with_comments=True, strip_text=True,
                           rewrite_prefixes=True)


def _direct_children_to_remove(root, servlet_name):
    doomed = []
    for child in list(root):
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions
        local = child.tag.rsplit('}', 1)[-1]
        if local not in ('servlet', 'servlet-mapping'):
            continue
        for grandchild in child:
            if isinstance(grandchild.tag, str) and grandchild.tag.rsplit('}', 1)[-1] == 'servlet-name' and \
                    (grandchild.text or '').strip() == servlet_name:
                doomed.append(child)
                break
    return doomed


def verify_edit(before, after, servlet_name):
    """Check that ``after`` is ``before`` minus exactly the servlet's elements (WebappError otherwise)."""
    expected = _tree(before)
    for child in _direct_children_to_remove(expected, servlet_name):
        expected.remove(child)
    try:
        got = _tree(after)
    except ET.ParseError as exc:
        raise WebappError('internal error: the edited web.xml does not parse (%s); nothing was written' % exc)
    if _canonical(got) != _canonical(expected):
        raise WebappError('internal error: the edited web.xml differs from the original in more than the removed '
                          'elements; nothing was written')
    if before[:_prolog_end(before)] != after[:_prolog_end(after)]:
        raise WebappError('internal error: the edit changed the prolog of web.xml; nothing was written')


def _prolog_end(data):
    parser = expat.ParserCreate()
    offsets = []

    def start(name, attrs):
        if not offsets:
            offsets.append(parser.CurrentByteIndex)
    parser.StartElementHandler = start
    parser.Parse(data, True)
    return offsets[0]


# --- the plan ---------------------------------------------------------------------------------------------------

def plan_web_xml(data, servlet_name):
    """``(new_data, found)`` for removing the servlet's ``servlet`` and ``servlet-mapping`` elements.

    ``new_data`` is ``data`` itself when there is nothing to remove.
    """
    found = scan(data, servlet_name)
    ranges = [(item['start'], item['end']) for item in found['servlets'] + found['mappings']]
    if not ranges:
        return data, found
    new_data = remove_ranges(data, ranges)
    left = scan(new_data, servlet_name)
    if left['servlets'] or left['mappings']:
        raise WebappError('internal error: servlet %s still present after the edit; nothing was written'
                          % servlet_name)
    verify_edit(data, new_data, servlet_name)
    return new_data, found


def plan_libraries(lib_dir, names):
    """``(present, absent)``: paths to remove and names not found. WebappError for a directory in the way."""
    present, absent = [], []
    for name in names:
        path = os.path.join(lib_dir, name)
        if os.path.islink(path) or os.path.isfile(path):
            present.append(path)
        elif os.path.exists(path):
            raise WebappError('libraries: %s is not a file; refusing to remove it' % path, param='libraries')
        else:
            absent.append(name)
    return present, absent


def decode_for_diff(data):
    return data.decode('utf-8', 'replace')


class CleanupPlan(object):
    """What ``am_wizard_cleanup`` removes from one exploded web application; ``apply`` does it."""

    def __init__(self, path, libraries, servlet_name):
        self.web_xml, self.lib_dir = check_webapp(path)
        names = check_library_names(libraries)
        self.servlet_name = check_servlet_name(servlet_name)
        try:
            with open(self.web_xml, 'rb') as handle:
                self.before = handle.read()
        except (IOError, OSError) as exc:
            raise WebappError('cannot read %s: %s' % (self.web_xml, exc.strerror or exc))
        self.after, self.found = plan_web_xml(self.before, self.servlet_name)
        self.remove, self.absent = plan_libraries(self.lib_dir, names)
        self.references = scan(self.after, self.servlet_name)['references'] if self.web_xml_changes \
            else self.found['references']

    @property
    def web_xml_changes(self):
        return self.after != self.before

    @property
    def changed(self):
        return self.web_xml_changes or bool(self.remove)

    def diff(self):
        diff = []
        if self.web_xml_changes:
            diff.append(dict(before_header=self.web_xml, after_header=self.web_xml,
                             before=decode_for_diff(self.before), after=decode_for_diff(self.after)))
        if self.remove:
            diff.append(dict(before_header=self.lib_dir, after_header=self.lib_dir,
                             before=''.join(os.path.basename(path) + '\n' for path in self.remove), after=''))
        return diff

    def summary(self, check_mode):
        parts = []
        if self.remove:
            parts.append('%d %s from WEB-INF/lib' % (len(self.remove), 'library' if len(self.remove) == 1
                                                     else 'libraries'))
        elements = []
        for key, word in (('servlets', 'servlet'), ('mappings', 'mapping')):
            count = len(self.found[key])
            if count:
                elements.append('%d %s%s' % (count, word, '' if count == 1 else 's'))
        if elements:
            parts.append('%s of %s from web.xml' % (' and '.join(elements), self.servlet_name))
        if not parts:
            return 'nothing to remove: no %s in web.xml and none of the libraries in WEB-INF/lib' % self.servlet_name
        return '%sremoved %s' % ('would: ' if check_mode else '', '; '.join(parts))

    def result(self, check_mode):
        return dict(
            changed=self.changed, web_xml=self.web_xml, removed_libraries=list(self.remove),
            absent_libraries=list(self.absent),
            removed_servlets=[dict(line=s['line'], servlet_class=s['servlet_class']) for s in self.found['servlets']],
            removed_mappings=[dict(line=m['line'], url_patterns=m['url_patterns']) for m in self.found['mappings']],
            remaining_references=list(self.references), backup_file=None, diff=self.diff(),
            msg=self.summary(check_mode))

    def apply(self, atomic_move, backup_local=None):
        """Write web.xml (atomically, through ``atomic_move(tmp, dest)``), then remove the libraries.

        Returns the backup path from ``backup_local(path)`` when one is given and web.xml changes.
        """
        backup_file = None
        if self.web_xml_changes:
            if backup_local is not None:
                backup_file = backup_local(self.web_xml)
            fd, tmp = tempfile.mkstemp(prefix='.web.xml.', dir=os.path.dirname(self.web_xml))
            try:
                with os.fdopen(fd, 'wb') as handle:
                    handle.write(self.after)
                atomic_move(tmp, self.web_xml)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        for path in self.remove:
            os.unlink(path)
        return backup_file
