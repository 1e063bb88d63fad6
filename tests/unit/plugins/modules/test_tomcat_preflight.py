# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the tomcat_preflight module: results, check mode, diff, fail_on_findings."""

from __future__ import annotations

import os
import zipfile

import pytest

from ansible_collections.idmops.lifecycle.plugins.modules import tomcat_preflight
from ansible_collections.idmops.lifecycle.tests.unit.plugins.modules.utils import run_main


PROPERTY = 'org.apache.tomcat.util.buf.UDecoder.ALLOW_ENCODED_SLASH'
SERVER_XML = b'''<?xml version="1.0" encoding="UTF-8"?>
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="8080" protocol="HTTP/1.1"/>
    <Engine name="Catalina" defaultHost="localhost"/>
  </Service>
</Server>
'''


def run(args, check_mode=False, diff=False):
    return run_main(tomcat_preflight.main, args, check_mode=check_mode, diff=diff)[0]


@pytest.fixture
def tomcat(tmp_path):
    home = tmp_path / 'home'
    (home / 'lib').mkdir(parents=True)
    with zipfile.ZipFile(str(home / 'lib' / 'catalina.jar'), 'w') as jar:
        jar.writestr('org/apache/catalina/util/ServerInfo.properties', 'server.number=10.1.60.0\n')
    base = tmp_path / 'base'
    (base / 'conf').mkdir(parents=True)
    (base / 'conf' / 'server.xml').write_bytes(SERVER_XML)
    (base / 'conf' / 'server.xml').chmod(0o640)
    (base / 'conf' / 'catalina.properties').write_text('a=1\n%s=true\n' % PROPERTY)
    return dict(catalina_home=str(home), catalina_base=str(base))


def test_report_only(tomcat):
    result = run(tomcat)
    assert not result['changed'] and result['failed_checks'] == ['encoded_slash']
    assert result['tomcat_version'] == '10.1.60.0' and 'diff' not in result


def test_fail_on_findings_returns_the_report(tomcat):
    result = run(dict(tomcat, fail_on_findings=True))
    assert result['failed'] and result['failed_checks'] == ['encoded_slash']
    assert result['msg'] == 'Tomcat 10.1.60.0: failed checks: encoded_slash'
    assert 'checks' in result and 'encoded_slash' in result


def test_fix_check_mode_then_real(tomcat):
    server_xml = os.path.join(tomcat['catalina_base'], 'conf', 'server.xml')
    check = run(dict(tomcat, fix=True), check_mode=True, diff=True)
    assert check['changed'] and len(check['diff']) == 2
    with open(server_xml, 'rb') as handle:
        assert handle.read() == SERVER_XML

    result = run(dict(tomcat, fix=True, backup=True, fail_on_findings=True))
    assert result['changed'] and result['failed_checks'] == [] and 'failed' not in result
    with open(server_xml, 'rb') as handle:
        assert handle.read() == SERVER_XML.replace(b'protocol="HTTP/1.1"/>',
                                                   b'protocol="HTTP/1.1" encodedSolidusHandling="decode"/>')
    assert oct(os.stat(server_xml).st_mode & 0o777) == '0o640'
    assert len(result['backup_files']) == 2 and all(os.path.exists(p) for p in result['backup_files'])

    again = run(dict(tomcat, fix=True))
    assert not again['changed']


def test_bad_input(tomcat, tmp_path):
    result = run(dict(tomcat, scan_paths=[str(tmp_path / 'missing')]))
    assert result['failed'] and result['msg'].startswith('scan_paths: ')
    result = run(dict(catalina_home=tomcat['catalina_home']))
    assert result['failed'] and result['msg'].startswith('catalina_base: ')  # home has no conf/server.xml
    result = run(dict(tomcat, required_major='ten'))
    assert result['failed'] and 'required_major' in result['msg']
