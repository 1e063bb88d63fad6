# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/_tomcat_preflight.py (the tomcat_preflight module's backend)."""

from __future__ import annotations

import io
import os
import zipfile

import pytest

from ansible_collections.idmops.lifecycle.plugins.module_utils import _tomcat_preflight as tp
from ansible_collections.idmops.lifecycle.plugins.module_utils._tomcat_preflight import (
    PROPERTY,
    JavaxScanner,
    Preflight,
    PreflightError,
    effective_value,
    insert_attribute,
    is_http_connector,
    parse_connectors,
    parse_properties,
    property_in_properties,
    property_in_shell,
    remove_from_properties,
    remove_from_shell,
    set_connector_attribute,
    tomcat_version,
    version_from_jar,
    version_from_output,
)


# bin/version.sh of Debian's tomcat10 package (10.1.60), as printed on the build host.
VERSION_SH_OUTPUT = '''Server version: Apache Tomcat/10.1.60 (Debian)
Server built:   Sep 20 2026 11:06:01 UTC
Server number:  10.1.60.0
OS Name:        Linux
OS Version:     6.18.44-fc-v669
Architecture:   amd64
JVM Version:    17.0.21.1+2-1-deb12u1-Debian
JVM Vendor:     Debian
APR loaded:     false
'''


# --- properties ---------------------------------------------------------------------------------------------

def test_parse_properties_like_java():
    text = ('# comment\n'
            '! also a comment\n'
            'a=1\n'
            'b : 2\n'
            'c 3\n'
            '  d=four \\\n'
            '     continued\n'
            'e\\=x=5\n'
            'f=ends with two backslashes\\\\\n'
            'g=7\n')
    entries = parse_properties(text)
    assert entries == [
        ('a', '1', 3, 3), ('b', '2', 4, 4), ('c', '3', 5, 5), ('d', 'four continued', 6, 7),
        ('e=x', '5', 8, 8), ('f', 'ends with two backslashes\\\\', 9, 9), ('g', '7', 10, 10)]


def test_property_removed_with_its_continuation_lines_only():
    text = ('# keep\n'
            'tomcat.util.scan.StandardJarScanFilter.jarsToSkip=a.jar\n'
            + PROPERTY + ' = \\\n'
            '    true\n'
            'other=1\n')
    hits = property_in_properties(text)
    assert [(h['line'], h['last_line'], h['value']) for h in hits] == [(3, 4, 'true')]
    assert remove_from_properties(text, hits) == ('# keep\n'
                                                  'tomcat.util.scan.StandardJarScanFilter.jarsToSkip=a.jar\n'
                                                  'other=1\n')


def test_commented_property_is_not_an_occurrence():
    assert property_in_properties('#' + PROPERTY + '=true\n') == []


# --- shell ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('line, value', [
    ('CATALINA_OPTS="$CATALINA_OPTS -D%s=true"' % PROPERTY, 'true'),
    ("JAVA_OPTS='-D%s=TRUE -Xmx1g'" % PROPERTY, 'TRUE'),
    ('CATALINA_OPTS="-D%s=\\"true\\""' % PROPERTY, '\\'),
    ('export CATALINA_OPTS="$CATALINA_OPTS -D%s"' % PROPERTY, ''),
    ('CATALINA_OPTS=-D%s=false' % PROPERTY, 'false'),
])
def test_shell_occurrences(line, value):
    hits = property_in_shell('#!/bin/sh\n' + line + '\n')
    assert [(h['line'], h['value']) for h in hits] == [(2, value)]


def test_shell_ignores_comments_and_longer_names():
    text = ('# CATALINA_OPTS="-D%s=true"\n' % PROPERTY
            + '   # -D%s=true\n' % PROPERTY
            + 'CATALINA_OPTS="-D%s.OTHER=true"\n' % PROPERTY)
    assert property_in_shell(text) == []


@pytest.mark.parametrize('before, after', [
    ('CATALINA_OPTS="$CATALINA_OPTS -D{p}=true -Xmx1g"\n', 'CATALINA_OPTS="$CATALINA_OPTS -Xmx1g"\n'),
    ('CATALINA_OPTS="-D{p}=true -Xmx1g"\n', 'CATALINA_OPTS="-Xmx1g"\n'),
    ('CATALINA_OPTS="-D{p}=true"\n', 'CATALINA_OPTS=""\n'),
    ('JAVA_OPTS="$JAVA_OPTS -D{p}=true -D{p}=false"\n', 'JAVA_OPTS="$JAVA_OPTS"\n'),
    ('# -D{p}=true\nexport X\n', '# -D{p}=true\nexport X\n'),
])
def test_remove_from_shell(before, after):
    assert remove_from_shell(before.format(p=PROPERTY)) == after.format(p=PROPERTY)


def test_effective_value_catalina_properties_wins():
    assert effective_value([{'value': 'false'}], [{'value': 'true'}]) == 'false'
    assert effective_value([], [{'value': 'false'}, {'value': 'true'}]) == 'true'
    assert effective_value([], []) is None


# --- version ---------------------------------------------------------------------------------------------------------

def make_jar(path, entries):
    with zipfile.ZipFile(str(path), 'w') as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return str(path)


def test_version_from_jar(tmp_path):
    jar = make_jar(tmp_path / 'catalina.jar', {tp.SERVER_INFO: '# licence\nserver.info=Apache Tomcat/9.0.85\n'
                                                               'server.number=9.0.85.0\n'})
    assert version_from_jar(jar) == '9.0.85.0'
    jar = make_jar(tmp_path / 'info-only.jar', {tp.SERVER_INFO: 'server.info=Apache Tomcat/10.1.18\n'})
    assert version_from_jar(jar) == '10.1.18'
    assert version_from_jar(make_jar(tmp_path / 'empty.jar', {'x': ''})) is None
    (tmp_path / 'bad.jar').write_bytes(b'not a zip')
    assert version_from_jar(str(tmp_path / 'bad.jar')) is None
    assert version_from_jar(str(tmp_path / 'missing.jar')) is None


def test_version_from_version_sh_output():
    assert version_from_output(VERSION_SH_OUTPUT) == '10.1.60.0'
    assert version_from_output('Server version: Apache Tomcat/9.0.85\n') == '9.0.85'
    assert version_from_output('Error: JAVA_HOME is not defined\n') is None


def test_real_catalina_jar_if_installed():
    jar = '/usr/share/tomcat10/lib/catalina.jar'
    if not os.path.exists(jar):
        pytest.skip('tomcat10 is not installed')
    assert version_from_jar(jar).startswith('10.')


def test_tomcat_version_falls_back_to_version_sh(tmp_path):
    home = tmp_path / 'home'
    (home / 'bin').mkdir(parents=True)
    script = home / 'bin' / 'version.sh'
    script.write_text('#!/bin/sh\n')
    script.chmod(0o755)
    calls = []

    def run_command(argv, environ_update=None):
        calls.append((argv, environ_update))
        return 0, VERSION_SH_OUTPUT, ''
    assert tomcat_version(str(home), '/base', run_command) == ('10.1.60.0', str(script))
    assert calls[0][1]['CATALINA_BASE'] == '/base'
    version, reason = tomcat_version(str(tmp_path), '/base', run_command)
    assert version is None and 'no executable' in reason


# --- server.xml --------------------------------------------------------------------------------------------------------

SERVER_XML = b'''<?xml version="1.0" encoding="UTF-8"?>
<Server port="8005" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <!-- <Connector port="8081" protocol="HTTP/1.1"/> -->
    <Connector port="8080" protocol="HTTP/1.1" connectionTimeout="20000" redirectPort="8443"/>
    <Connector port="8443" protocol="org.apache.coyote.http11.Http11NioProtocol"
               SSLEnabled="true" relaxedQueryChars="[]|{}>"
               >
        <SSLHostConfig><Certificate certificateKeystoreFile="conf/ks.p12"/></SSLHostConfig>
    </Connector>
    <Connector port="8009" protocol="AJP/1.3" secretRequired="false" />
    <Connector port="8888" encodedSolidusHandling="passthrough"/>
    <Engine name="Catalina" defaultHost="localhost"/>
  </Service>
</Server>
'''


def test_parse_connectors():
    connectors = parse_connectors(SERVER_XML)
    assert [c['line'] for c in connectors] == [5, 6, 11, 12]
    assert [is_http_connector(c['attrs']) for c in connectors] == [True, True, False, True]
    assert connectors[1]['attrs']['relaxedQueryChars'] == '[]|{}>'
    assert SERVER_XML[connectors[1]['start']:connectors[1]['end']].endswith(b'\n               >')


def test_set_attribute_on_http_connectors_without_it():
    connectors = parse_connectors(SERVER_XML)
    targets = [c for c in connectors if is_http_connector(c['attrs']) and 'encodedSolidusHandling' not in c['attrs']]
    after = set_connector_attribute(SERVER_XML, targets, 'encodedSolidusHandling', 'decode')
    expected = SERVER_XML.replace(
        b'redirectPort="8443"/>', b'redirectPort="8443" encodedSolidusHandling="decode"/>').replace(
        b'relaxedQueryChars="[]|{}>"\n               >',
        b'relaxedQueryChars="[]|{}>"\n               encodedSolidusHandling="decode"\n               >')
    assert after == expected


def test_insert_attribute_styles():
    data = b'<Server><Connector port="1" /></Server>'
    connector = parse_connectors(data)[0]
    assert insert_attribute(data, connector, 'a', 'b') == b'<Server><Connector port="1" a="b" /></Server>'
    data = b'<Server><Connector port="1"></Connector></Server>'
    assert insert_attribute(data, parse_connectors(data)[0], 'a', 'b') == \
        b'<Server><Connector port="1" a="b"></Connector></Server>'


def test_verification_catches_other_changes(monkeypatch):
    connectors = parse_connectors(SERVER_XML)
    targets = [c for c in connectors if is_http_connector(c['attrs']) and 'encodedSolidusHandling' not in c['attrs']]
    real_insert = tp.insert_attribute

    def sloppy(data, connector, name, value):
        return real_insert(data, connector, name, value).replace(b'shutdown="SHUTDOWN"', b'shutdown="SHUTDOWX"')  # same length
    monkeypatch.setattr(tp, 'insert_attribute', sloppy)
    with pytest.raises(PreflightError, match='changed more than the Connectors'):
        set_connector_attribute(SERVER_XML, targets, 'encodedSolidusHandling', 'decode')


def test_verification_catches_a_missed_connector():
    connectors = parse_connectors(SERVER_XML)
    with pytest.raises(PreflightError, match='changed a Connector unexpectedly .line 6.'):
        set_connector_attribute(SERVER_XML, connectors[:1], 'encodedSolidusHandling', 'decode')


def test_server_xml_errors():
    with pytest.raises(PreflightError, match=r'not well-formed XML: mismatched tag \(line 1, column 20\)') as info:
        parse_connectors(b'<Server><Service></Server>')
    assert info.value.result['line'] == 1
    with pytest.raises(PreflightError, match='declares entities'):
        parse_connectors(b'<!DOCTYPE Server [<!ENTITY c SYSTEM "c.xml">]><Server>&c;</Server>')


# --- javax scan --------------------------------------------------------------------------------------------------------------

def jar_bytes(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def scan_tree(tmp_path):
    root = tmp_path / 'scan'
    (root / 'lib').mkdir(parents=True)
    (root / 'Node.java').write_text('package x;\n\nimport javax.servlet.http.HttpServletRequest;\n'
                                    'import javax.xml.parsers.DocumentBuilder;\n')
    (root / 'jakarta.groovy').write_text('import jakarta.servlet.http.HttpServletRequest\n')
    (root / 'lib' / 'servlet-api.jar').write_bytes(jar_bytes([('javax/servlet/Servlet.class', b'\xca\xfe')]))
    (root / 'lib' / 'node.jar').write_bytes(jar_bytes([('com/x/A.class', b'\xca\xfe..javax/websocket/Session..')]))
    (root / 'app.war').write_bytes(jar_bytes([
        ('WEB-INF/lib/inner.jar', jar_bytes([('javax/servlet/http/HttpServlet.class', b'')])),
        ('WEB-INF/web.xml', '<web-app>\n<listener-class>javax.servlet.X</listener-class>\n</web-app>\n'),
    ]))
    (root / 'Loose.class').write_bytes(b'\xca\xfe\xba\xbe javax/servlet/Filter')
    (root / 'binary.dat').write_bytes(b'\0javax.servlet')
    (root / 'broken.jar').write_bytes(b'PK not really')
    return root


def test_scanner_finds_every_kind(scan_tree):
    scanner = JavaxScanner().scan([str(scan_tree)])
    found = [(f['kind'], os.path.basename(f['path']), f['entry'], f['line'], f['match']) for f in scanner.findings]
    assert found == [
        ('class_reference', 'Loose.class', None, None, 'javax.servlet'),
        ('text', 'Node.java', None, 3, 'javax.servlet'),
        ('archive_entry', 'app.war', 'WEB-INF/lib/inner.jar!/javax/servlet/http/HttpServlet.class', None,
         'javax.servlet'),
        ('text', 'app.war', 'WEB-INF/web.xml', 2, 'javax.servlet'),
        ('class_reference', 'node.jar', 'com/x/A.class', None, 'javax.websocket'),
        ('archive_entry', 'servlet-api.jar', 'javax/servlet/Servlet.class', None, 'javax.servlet'),
    ]
    assert scanner.count == 6
    assert scanner.findings[1]['text'] == 'import javax.servlet.http.HttpServletRequest;'
    assert len(scanner.errors) == 1 and 'broken.jar' in scanner.errors[0]


def test_scanner_options(scan_tree):
    scanner = JavaxScanner(max_findings=2, class_references=False).scan([str(scan_tree)])
    assert scanner.count == 4 and len(scanner.findings) == 2
    assert all(f['kind'] != 'class_reference' for f in scanner.findings)


def test_scanner_single_file(scan_tree):
    scanner = JavaxScanner().scan([str(scan_tree / 'jakarta.groovy')])
    assert scanner.count == 0 and scanner.files == 1


# --- the whole preflight -------------------------------------------------------------------------------------------------

class Files(object):
    def __init__(self):
        self.written = []

    def write(self, path, data):
        self.written.append(path)
        with open(path, 'wb') as handle:
            handle.write(data)

    def backup(self, path):
        return path + '.bak'


def make_tomcat(tmp_path, major=10, properties=None, setenv=None):
    home = tmp_path / 'home'
    (home / 'lib').mkdir(parents=True)
    (home / 'bin').mkdir()
    make_jar(home / 'lib' / 'catalina.jar', {tp.SERVER_INFO: 'server.number=%d.0.1.0\n' % major})
    base = tmp_path / 'base'
    (base / 'conf').mkdir(parents=True)
    (base / 'bin').mkdir()
    (base / 'conf' / 'server.xml').write_bytes(SERVER_XML)
    if properties is not None:
        (base / 'conf' / 'catalina.properties').write_text(properties)
    if setenv is not None:
        (base / 'bin' / 'setenv.sh').write_text(setenv)
    return home, base


def params(home, base, **overrides):
    p = dict(catalina_home=str(home), catalina_base=str(base), required_major=10, setenv_files=None, scan_paths=[],
             scan_class_files=True, max_findings=200, fix=False, backup=False, fail_on_findings=False)
    p.update(overrides)
    return p


def no_command(*args, **kwargs):
    raise AssertionError('no command expected')


def snapshot(root):
    out = {}
    for dirpath, _dirs, files in os.walk(str(root)):
        for name in files:
            with open(os.path.join(dirpath, name), 'rb') as handle:
                out[os.path.join(dirpath, name)] = handle.read()
    return out


def test_clean_tomcat_passes(tmp_path):
    home, base = make_tomcat(tmp_path, properties='a=1\n')
    result = Preflight(params(home, base), no_command).run(Files(), check_mode=False)
    assert result['failed_checks'] == [] and not result['changed']
    assert result['tomcat_major'] == 10
    assert result['msg'] == 'Tomcat 10.0.1.0: all checks passed'


def test_wrong_major_fails_the_version_check(tmp_path):
    home, base = make_tomcat(tmp_path, major=9)
    result = Preflight(params(home, base), no_command).run(Files(), check_mode=False)
    assert result['failed_checks'] == ['tomcat_version']
    result = Preflight(params(home, base, required_major=9), no_command).run(Files(), check_mode=False)
    assert result['failed_checks'] == []


def test_report_only_changes_nothing(tmp_path):
    home, base = make_tomcat(tmp_path, properties=PROPERTY + '=true\n',
                             setenv='CATALINA_OPTS="-D%s=true"\n' % PROPERTY)
    before = snapshot(tmp_path)
    files = Files()
    result = Preflight(params(home, base), no_command).run(files, check_mode=False)
    assert result['failed_checks'] == ['encoded_slash'] and not result['changed']
    assert result['encoded_slash']['maps_to'] == 'decode'
    assert [o['kind'] for o in result['encoded_slash']['occurrences']] == ['catalina.properties', 'setenv']
    assert files.written == [] and snapshot(tmp_path) == before


@pytest.mark.parametrize('check_mode', [True, False])
def test_fix(tmp_path, check_mode):
    home, base = make_tomcat(tmp_path, properties='x=1\n' + PROPERTY + '=true\ny=2\n',
                             setenv='CATALINA_OPTS="$CATALINA_OPTS -D%s=true"\n' % PROPERTY)
    before = snapshot(tmp_path)
    files = Files()
    result = Preflight(params(home, base, fix=True, backup=True), no_command).run(files, check_mode=check_mode)
    assert result['changed'] and result['failed_checks'] == []
    assert len(result['diff']) == 3 and len(result['fixed']) == 3
    if check_mode:
        assert files.written == [] and snapshot(tmp_path) == before and result['backup_files'] == []
        return
    server_xml = str(base / 'conf' / 'server.xml')
    assert files.written[0] == server_xml  # the Connectors first
    assert result['backup_files'] == [p + '.bak' for p in files.written]
    assert (base / 'conf' / 'catalina.properties').read_text() == 'x=1\ny=2\n'
    assert (base / 'bin' / 'setenv.sh').read_text() == 'CATALINA_OPTS="$CATALINA_OPTS"\n'
    assert (base / 'conf' / 'server.xml').read_bytes().count(b'encodedSolidusHandling="decode"') == 2
    again = Preflight(params(home, base, fix=True), no_command).run(Files(), check_mode=False)
    assert not again['changed'] and again['failed_checks'] == []


def test_false_only_removes_the_property(tmp_path):
    home, base = make_tomcat(tmp_path, properties=PROPERTY + '=false\n')
    files = Files()
    result = Preflight(params(home, base, fix=True), no_command).run(files, check_mode=False)
    assert result['encoded_slash']['maps_to'] is None
    assert files.written == [str(base / 'conf' / 'catalina.properties')]
    assert (base / 'conf' / 'server.xml').read_bytes() == SERVER_XML


def test_explicit_attribute_is_kept_with_a_warning(tmp_path):
    home, base = make_tomcat(tmp_path, properties=PROPERTY + '=true\n')
    preflight = Preflight(params(home, base), no_command)
    preflight.run(Files(), check_mode=False)
    assert any('encodedSolidusHandling="passthrough"' in w for w in preflight.warnings)


def test_setenv_defaults_to_home_when_base_has_none(tmp_path):
    home, base = make_tomcat(tmp_path)
    (home / 'bin' / 'setenv.sh').write_text('JAVA_OPTS="-D%s=true"\n' % PROPERTY)
    result = Preflight(params(home, base), no_command).run(Files(), check_mode=False)
    assert result['encoded_slash']['occurrences'][0]['path'] == str(home / 'bin' / 'setenv.sh')


@pytest.mark.parametrize('overrides, option', [
    (dict(required_major=0), 'required_major'),
    (dict(max_findings=-1), 'max_findings'),
    (dict(scan_paths=['/nonexistent/path']), 'scan_paths'),
    (dict(setenv_files=['/nonexistent/setenv.sh']), 'setenv_files'),
])
def test_bad_input_names_the_option(tmp_path, overrides, option):
    home, base = make_tomcat(tmp_path)
    with pytest.raises(PreflightError) as info:
        Preflight(params(home, base, **overrides), no_command).run(Files(), check_mode=False)
    assert info.value.param == option and str(info.value).startswith(option)


def test_bad_directories(tmp_path):
    home, base = make_tomcat(tmp_path)
    with pytest.raises(PreflightError, match='^catalina_home: '):
        Preflight(params(tmp_path / 'nope', base), no_command).run(Files(), check_mode=False)
    with pytest.raises(PreflightError, match='^catalina_base: '):
        Preflight(params(home, tmp_path), no_command).run(Files(), check_mode=False)


def test_broken_server_xml_changes_nothing(tmp_path):
    home, base = make_tomcat(tmp_path, properties=PROPERTY + '=true\n')
    (base / 'conf' / 'server.xml').write_bytes(b'<Server>\n<Service>\n</Server>\n')
    before = snapshot(tmp_path)
    with pytest.raises(PreflightError, match='line 3'):
        Preflight(params(home, base, fix=True), no_command).run(Files(), check_mode=False)
    assert snapshot(tmp_path) == before
