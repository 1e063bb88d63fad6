# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the am_wizard_cleanup module: check mode, diff, backup, failures."""

from __future__ import annotations

import os

import pytest

from ansible_collections.idmops.lifecycle.plugins.modules import am_wizard_cleanup
from ansible_collections.idmops.lifecycle.tests.unit.plugins.modules.utils import run_main


WEB_XML = b'''<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="5.0">
    <!-- kept -->
    <servlet>
        <servlet-name>click-servlet</servlet-name>
        <servlet-class>org.apache.click.ClickServlet</servlet-class>
    </servlet>
    <servlet-mapping>
        <servlet-name>click-servlet</servlet-name>
        <url-pattern>*.htm</url-pattern>
    </servlet-mapping>
    <filter-mapping>
        <filter-name>f</filter-name>
        <servlet-name>click-servlet</servlet-name>
    </filter-mapping>
</web-app>
'''

CLEAN_XML = b'''<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="5.0">
    <!-- kept -->
    <filter-mapping>
        <filter-name>f</filter-name>
        <servlet-name>click-servlet</servlet-name>
    </filter-mapping>
</web-app>
'''

LIBRARIES = ['click-extras-2.3.0.jar', 'click-nodeps-2.3.0.jar', 'velocity-1.7-p1.jar']


def run(args, check_mode=False, diff=False):
    return run_main(am_wizard_cleanup.main, args, check_mode=check_mode, diff=diff)[0]


@pytest.fixture
def webapp(tmp_path):
    lib = tmp_path / 'am' / 'WEB-INF' / 'lib'
    lib.mkdir(parents=True)
    for name in LIBRARIES + ['openam-core.jar']:
        (lib / name).write_bytes(b'PK\x05\x06' + b'\0' * 18)
    web_xml = tmp_path / 'am' / 'WEB-INF' / 'web.xml'
    web_xml.write_bytes(WEB_XML)
    web_xml.chmod(0o640)
    return tmp_path / 'am'


def listing(webapp):
    return sorted(os.listdir(str(webapp / 'WEB-INF' / 'lib'))), (webapp / 'WEB-INF' / 'web.xml').read_bytes()


def test_defaults_are_the_runbook_list():
    spec = am_wizard_cleanup.argument_spec()
    assert spec['libraries']['default'] == LIBRARIES
    assert spec['servlet_name']['default'] == 'click-servlet'


def test_check_mode_changes_nothing(webapp):
    before = listing(webapp)
    result = run(dict(path=str(webapp), backup=True), check_mode=True, diff=True)
    assert result['changed'] and result['msg'].startswith('would: ')
    assert result['backup_file'] is None
    assert result['diff'][0]['after'] == CLEAN_XML.decode()
    assert listing(webapp) == before


def test_apply_with_backup_then_idempotent(webapp):
    result = run(dict(path=str(webapp), backup=True))
    assert result['changed'] and 'diff' not in result
    assert listing(webapp) == (['openam-core.jar'], CLEAN_XML)
    assert oct(os.stat(str(webapp / 'WEB-INF' / 'web.xml')).st_mode & 0o777) == '0o640'
    with open(result['backup_file'], 'rb') as handle:
        assert handle.read() == WEB_XML
    assert result['remaining_references'] == [{'line': 6, 'element': 'filter-mapping'}]
    assert any('filter-mapping' in warning for warning in result['warnings'])

    again = run(dict(path=str(webapp), backup=True))
    assert not again['changed'] and again['backup_file'] is None


def test_broken_xml_fails_and_changes_nothing(webapp):
    (webapp / 'WEB-INF' / 'web.xml').write_bytes(WEB_XML.replace(b'</servlet>', b'</servlet-mapping>'))
    before = listing(webapp)
    result = run(dict(path=str(webapp)))
    assert result['failed'] and 'mismatched tag' in result['msg']
    assert result['line'] == 7
    assert listing(webapp) == before


def test_bad_library_name_fails(webapp):
    before = listing(webapp)
    result = run(dict(path=str(webapp), libraries=['click-extras-2.3.0.jar', '../web.xml']))
    assert result['failed'] and result['msg'].startswith('libraries: ')
    assert listing(webapp) == before


def test_custom_servlet_and_no_libraries(webapp):
    before = listing(webapp)
    result = run(dict(path=str(webapp), libraries=[], servlet_name='other'))
    assert not result['changed'] and result['msg'].startswith('nothing to remove')
    assert listing(webapp) == before
