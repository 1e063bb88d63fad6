# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/_webapp.py (the am_wizard_cleanup module's backend)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.idmops.lifecycle.plugins.module_utils._webapp import (
    DEFAULT_LIBRARIES,
    CleanupPlan,
    WebappError,
    check_library_names,
    plan_libraries,
    plan_web_xml,
    remove_ranges,
    scan,
    verify_edit,
)


SERVLET = (b'    <servlet>\n'
           b'        <servlet-name>click-servlet</servlet-name>\n'
           b'        <servlet-class>org.apache.click.ClickServlet</servlet-class>\n'
           b'    </servlet>\n')
MAPPING = (b'    <servlet-mapping>\n'
           b'        <servlet-name>click-servlet</servlet-name>\n'
           b'        <url-pattern>*.htm</url-pattern>\n'
           b'    </servlet-mapping>\n')
OTHER_SERVLET = (b'    <servlet>\n'
                 b'        <servlet-name>AMSetupServlet</servlet-name>\n'
                 b'        <servlet-class>com.sun.identity.setup.AMSetupServlet</servlet-class>\n'
                 b'    </servlet>\n')
OTHER_MAPPING = (b'    <servlet-mapping>\n'
                 b'        <servlet-name>AMSetupServlet</servlet-name>\n'
                 b'        <url-pattern>/setup/*</url-pattern>\n'
                 b'    </servlet-mapping>\n')

JAKARTA_OPEN = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
                b'<!-- Copyright notice -->\n'
                b'<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee"\n'
                b'         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"\n'
                b'         version="5.0">\n')


def document(*parts, opening=JAKARTA_OPEN, closing=b'</web-app>\n'):
    return opening + b''.join(parts) + closing


def test_removes_exactly_the_servlet_and_mapping_lines():
    before = document(OTHER_SERVLET, b'    <!-- wizard -->\n', SERVLET, OTHER_MAPPING, MAPPING)
    after, found = plan_web_xml(before, 'click-servlet')
    assert after == document(OTHER_SERVLET, b'    <!-- wizard -->\n', OTHER_MAPPING)
    assert [s['servlet_class'] for s in found['servlets']] == ['org.apache.click.ClickServlet']
    assert [m['url_patterns'] for m in found['mappings']] == [['*.htm']]
    assert found['servlets'][0]['line'] == 11


def test_nothing_to_remove_returns_the_same_bytes():
    before = document(OTHER_SERVLET, OTHER_MAPPING)
    after, found = plan_web_xml(before, 'click-servlet')
    assert after is before
    assert found['servlets'] == [] and found['mappings'] == []


def test_every_mapping_of_the_servlet_goes():
    second = MAPPING.replace(b'*.htm', b'/config/*')
    before = document(SERVLET, MAPPING, OTHER_MAPPING, second)
    after, found = plan_web_xml(before, 'click-servlet')
    assert after == document(OTHER_MAPPING)
    assert [m['url_patterns'] for m in found['mappings']] == [['*.htm'], ['/config/*']]


def test_crlf_line_endings_are_kept():
    before = document(OTHER_SERVLET, SERVLET, MAPPING).replace(b'\n', b'\r\n')
    after, _found = plan_web_xml(before, 'click-servlet')
    assert after == document(OTHER_SERVLET).replace(b'\n', b'\r\n')


def test_element_sharing_a_line_is_cut_alone():
    before = document(b'    <display-name>AM</display-name>' + SERVLET.strip() + b'<!-- keep -->\n', OTHER_MAPPING)
    after, _found = plan_web_xml(before, 'click-servlet')
    assert after == document(b'    <display-name>AM</display-name><!-- keep -->\n', OTHER_MAPPING)


def test_last_line_without_newline():
    before = document(SERVLET, closing=b'</web-app>')
    after, _found = plan_web_xml(before, 'click-servlet')
    assert after == document(closing=b'</web-app>')


def test_blanks_around_the_name_are_ignored():
    before = document(SERVLET.replace(b'>click-servlet<', b'>\n            click-servlet\n        <'))
    after, found = plan_web_xml(before, 'click-servlet')
    assert after == document() and len(found['servlets']) == 1


def test_javaee_namespace_with_prefix():
    opening = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
               b'<j:web-app xmlns:j="http://xmlns.jcp.org/xml/ns/javaee" version="4.0">\n')
    prefixed = SERVLET.replace(b'<', b'<j:').replace(b'<j:/', b'</j:')
    keep = OTHER_MAPPING.replace(b'<', b'<j:').replace(b'<j:/', b'</j:')
    before = document(prefixed, keep, opening=opening, closing=b'</j:web-app>\n')
    after, _found = plan_web_xml(before, 'click-servlet')
    assert after == document(keep, opening=opening, closing=b'</j:web-app>\n')


def test_servlet_2_3_doctype_without_namespace():
    opening = (b'<?xml version="1.0" encoding="ISO-8859-1"?>\n'
               b'<!DOCTYPE web-app PUBLIC "-//Sun Microsystems, Inc.//DTD Web Application 2.3//EN" '
               b'"http://java.sun.com/dtd/web-app_2_3.dtd">\n'
               b'<web-app>\n'
               b'    <!-- Gr\xfc\xdfe, encoded in ISO-8859-1 -->\n')
    before = document(SERVLET, MAPPING, OTHER_MAPPING, opening=opening)
    after, _found = plan_web_xml(before, 'click-servlet')
    assert after == document(OTHER_MAPPING, opening=opening)  # the Latin-1 bytes are untouched


def test_nested_servlet_names_are_references_not_removed():
    filter_mapping = (b'    <filter-mapping>\n'
                      b'        <filter-name>f</filter-name>\n'
                      b'        <servlet-name>click-servlet</servlet-name>\n'
                      b'    </filter-mapping>\n')
    before = document(SERVLET, filter_mapping)
    after, found = plan_web_xml(before, 'click-servlet')
    assert after == document(filter_mapping)
    assert found['references'] == [{'line': 12, 'element': 'filter-mapping'}]
    assert scan(after, 'click-servlet')['references'] == [{'line': 8, 'element': 'filter-mapping'}]


def test_only_direct_children_of_the_root_are_removed():
    # A <servlet> inside some other element is not a declaration of the web application.
    odd = b'    <extension>\n' + SERVLET.replace(b'    ', b'        ') + b'    </extension>\n'
    before = document(odd)
    after, found = plan_web_xml(before, 'click-servlet')
    assert after is before and found['servlets'] == []


def test_malformed_xml_reports_line_and_column():
    before = document(SERVLET.replace(b'</servlet>', b'</servlet-mapping>'))
    with pytest.raises(WebappError, match=r'not well-formed XML: mismatched tag \(line 9, column 7\)') as info:
        plan_web_xml(before, 'click-servlet')
    assert info.value.result == {'line': 9, 'column': 7}


def test_not_xml_at_all():
    with pytest.raises(WebappError, match='not well-formed'):
        plan_web_xml(b'this is not xml\n', 'click-servlet')


def test_unbound_namespace_prefix_is_an_error():
    with pytest.raises(WebappError, match='unbound prefix'):
        plan_web_xml(b'<x:web-app></x:web-app>', 'click-servlet')


def test_entity_declarations_are_refused():
    before = (b'<?xml version="1.0"?>\n<!DOCTYPE web-app [ <!ENTITY a "aaaaaaaaaa"> ]>\n'
              b'<web-app>&a;</web-app>\n')
    with pytest.raises(WebappError, match='declares entities'):
        plan_web_xml(before, 'click-servlet')


def test_utf16_is_refused():
    with pytest.raises(WebappError, match='UTF-16'):
        plan_web_xml('<web-app/>'.encode('utf-16'), 'click-servlet')


def test_verify_edit_catches_a_wrong_cut():
    before = document(OTHER_SERVLET, SERVLET)
    with pytest.raises(WebappError, match='differs from the original'):
        verify_edit(before, document(SERVLET), 'click-servlet')
    with pytest.raises(WebappError, match='does not parse'):
        verify_edit(before, document(OTHER_SERVLET)[:-5], 'click-servlet')
    verify_edit(before, document(OTHER_SERVLET), 'click-servlet')


def test_verify_edit_sees_lost_comments():
    before = document(b'    <!-- keep me -->\n', SERVLET)
    with pytest.raises(WebappError, match='differs from the original'):
        verify_edit(before, document(), 'click-servlet')


def test_remove_ranges_refuses_overlaps():
    with pytest.raises(WebappError, match='overlapping'):
        remove_ranges(b'0123456789', [(1, 5), (3, 7)])


@pytest.mark.parametrize('name', ['', '.', '..', 'lib/x.jar', '../web.xml', 'a\\b.jar'])
def test_library_names_must_be_plain(name):
    with pytest.raises(WebappError, match='^libraries: ') as info:
        check_library_names([name])
    assert info.value.param == 'libraries'


def test_library_names_without_repeats():
    assert check_library_names(['a.jar', 'b.jar', 'a.jar']) == ['a.jar', 'b.jar']


def test_plan_libraries(tmp_path):
    (tmp_path / 'a.jar').write_bytes(b'PK')
    (tmp_path / 'link.jar').symlink_to(tmp_path / 'gone.jar')  # a dangling link is removed too
    (tmp_path / 'dir.jar').mkdir()
    present, absent = plan_libraries(str(tmp_path), ['a.jar', 'b.jar', 'link.jar'])
    assert present == [str(tmp_path / 'a.jar'), str(tmp_path / 'link.jar')] and absent == ['b.jar']
    with pytest.raises(WebappError, match='is not a file'):
        plan_libraries(str(tmp_path), ['dir.jar'])


# --- the whole plan on a directory ------------------------------------------------------------------------------

def make_webapp(root, web_xml):
    lib = root / 'am' / 'WEB-INF' / 'lib'
    lib.mkdir(parents=True)
    for name in DEFAULT_LIBRARIES + ('am-core.jar',):
        (lib / name).write_bytes(b'PK\x05\x06' + b'\0' * 18)
    (root / 'am' / 'WEB-INF' / 'web.xml').write_bytes(web_xml)
    return root / 'am'


def rename(src, dest):
    os.rename(src, dest)


def test_plan_and_apply(tmp_path):
    webapp = make_webapp(tmp_path, document(OTHER_SERVLET, SERVLET, MAPPING))
    plan = CleanupPlan(str(webapp), list(DEFAULT_LIBRARIES), 'click-servlet')
    result = plan.result(check_mode=True)
    assert result['changed'] and result['msg'].startswith('would: removed 3 libraries from WEB-INF/lib; '
                                                          '1 servlet and 1 mapping of click-servlet from web.xml')
    assert [d['before_header'] for d in result['diff']] == [str(webapp / 'WEB-INF' / 'web.xml'),
                                                            str(webapp / 'WEB-INF' / 'lib')]
    assert result['diff'][1]['before'] == ''.join(n + '\n' for n in DEFAULT_LIBRARIES)

    backups = []

    def backup(path):
        backups.append(path + '.bak')
        return path + '.bak'
    assert plan.apply(rename, backup) == str(webapp / 'WEB-INF' / 'web.xml') + '.bak'
    assert sorted(os.listdir(str(webapp / 'WEB-INF' / 'lib'))) == ['am-core.jar']
    assert (webapp / 'WEB-INF' / 'web.xml').read_bytes() == document(OTHER_SERVLET)
    assert sorted(os.listdir(str(webapp / 'WEB-INF'))) == ['lib', 'web.xml']  # no temporary file left

    again = CleanupPlan(str(webapp), list(DEFAULT_LIBRARIES), 'click-servlet')
    assert not again.changed and again.diff() == []
    assert again.result(False)['absent_libraries'] == list(DEFAULT_LIBRARIES)
    assert again.result(False)['msg'].startswith('nothing to remove')


def test_broken_web_xml_fails_before_anything_is_removed(tmp_path):
    webapp = make_webapp(tmp_path, b'<web-app><servlet></web-app>')
    with pytest.raises(WebappError, match='line 1'):
        CleanupPlan(str(webapp), list(DEFAULT_LIBRARIES), 'click-servlet')
    assert len(os.listdir(str(webapp / 'WEB-INF' / 'lib'))) == 4


def test_path_checks(tmp_path):
    with pytest.raises(WebappError, match='^path: .* is not a directory'):
        CleanupPlan(str(tmp_path / 'missing'), [], 'click-servlet')
    with pytest.raises(WebappError, match='^path: .* has no WEB-INF/web.xml'):
        CleanupPlan(str(tmp_path), [], 'click-servlet')
    webapp = make_webapp(tmp_path, document())
    with pytest.raises(WebappError, match='^servlet_name must not be empty'):
        CleanupPlan(str(webapp), [], '  ')


def test_only_libraries_when_web_xml_is_clean(tmp_path):
    webapp = make_webapp(tmp_path, document(OTHER_SERVLET))
    plan = CleanupPlan(str(webapp), ['velocity-1.7-p1.jar'], 'click-servlet')
    result = plan.result(False)
    assert result['msg'] == 'removed 1 library from WEB-INF/lib'
    assert len(result['diff']) == 1
    assert plan.apply(rename, None) is None
    assert not (webapp / 'WEB-INF' / 'lib' / 'velocity-1.7-p1.jar').exists()
