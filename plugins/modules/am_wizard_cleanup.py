#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


DOCUMENTATION = r'''
---
module: am_wizard_cleanup
short_description: Remove PingAM's install and upgrade wizard libraries and click servlet from a deployed AM
version_added: 0.1.0
description:
  - After an upgrade to PingAM 8.1, the runbook removes the libraries that only the install and
    upgrade wizards use, for security. These are C(click-extras-2.3.0.jar), C(click-nodeps-2.3.0.jar)
    and C(velocity-1.7-p1.jar) in C(WEB-INF/lib). It also removes the C(click-servlet) servlet and
    its C(*.htm) mapping from C(WEB-INF/web.xml). This module does both in the exploded web
    application O(path).
  - The C(web.xml) edit is XML-aware and minimal. An XML parser finds the C(<servlet>) and every
    C(<servlet-mapping>) whose C(<servlet-name>) is O(servlet_name), as direct children of the
    document element, in any namespace or none. Exactly those elements are cut out. A line that
    held only the element goes with it. Every other byte of the file stays as it was, including
    the XML declaration, the namespaces, comments, other servlets, order and indentation.
  - Every mapping of the servlet is removed, not only C(*.htm). Tomcat refuses to start a web
    application with a mapping to a servlet that is not declared.
  - The edited C(web.xml) is parsed again before it is written. Its tree must equal the original
    tree minus the removed elements, comments included and whitespace aside. Otherwise the task
    fails and nothing changes.
  - Other C(<servlet-name>) references to the servlet, for example in a C(<filter-mapping>), are
    left in place and reported in RV(remaining_references) and as a warning.
  - Idempotent. When the libraries and elements are gone, nothing changes.
author:
  - idmops.lifecycle maintainers (@idmops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports what would be removed. Nothing is written or removed.
  diff_mode:
    support: full
    details:
      - C(web.xml) before and after, and the list of libraries removed from C(WEB-INF/lib).
  platform:
    platforms: posix
options:
  path:
    description:
      - The root of the exploded AM web application, the directory that contains C(WEB-INF/), for
        example V(/opt/am/tomcat/webapps/am).
    type: path
    required: true
  libraries:
    description:
      - File names in C(WEB-INF/lib) to remove. Names only, no paths.
      - A name that is not there is not an error; it is listed in RV(absent_libraries).
    type: list
    elements: str
    default: [click-extras-2.3.0.jar, click-nodeps-2.3.0.jar, velocity-1.7-p1.jar]
  servlet_name:
    description:
      - The C(<servlet-name>) of the servlet to remove together with all its mappings. Blanks around
        the name in C(web.xml) are ignored.
    type: str
    default: click-servlet
  backup:
    description:
      - Before C(web.xml) is changed, keep a copy next to it, named like
        C(web.xml.<pid>.<date>@<time>~). The path is returned in RV(backup_file).
      - The libraries are not backed up. They are part of the AM war file.
    type: bool
    default: false
notes:
  - Bad input fails before anything changes. This covers a O(path) without C(WEB-INF/web.xml), a
    C(web.xml) that is not well-formed XML (the parser's message and line are returned), a library
    name with a slash, and a directory where a library is expected.
  - C(web.xml) is replaced atomically and keeps its owner, group and mode. It is written before the
    libraries are removed.
  - Tomcat deploys the exploded directory from C(am.war) again when the war changes. Run this module
    after every deployment of a new war, or clean the war before deploying it. A running Tomcat
    reloads the application when C(web.xml) changes, so prefer to run it while Tomcat is stopped.
  - Document type declarations that declare entities are refused.
  - C(web.xml) in UTF-16 or UTF-32 is not supported.
seealso:
  - name: PingAM 8.1 upgrade guide
    description: The upgrade wizard section lists the libraries and the click-servlet mappings to remove.
    link: https://docs.pingidentity.com/pingam/8.1/upgrade/upgrade-am.html
'''

EXAMPLES = r'''
- name: Remove the wizard libraries and servlet after the upgrade
  idmops.lifecycle.am_wizard_cleanup:
    path: /opt/am/tomcat/webapps/am
    backup: true
  register: wizard_cleanup

- name: Restart AM when something was removed
  ansible.builtin.debug:
    msg: "removed {{ wizard_cleanup.removed_libraries | length }} libraries and {{ wizard_cleanup.removed_mappings }}"
  when: wizard_cleanup is changed

- name: Check only (for a compliance report)
  idmops.lifecycle.am_wizard_cleanup:
    path: /opt/am/tomcat/webapps/am
  check_mode: true
  register: wizard_leftovers
  failed_when: wizard_leftovers is changed
'''

RETURN = r'''
web_xml:
  description: Path of the deployment descriptor.
  returned: always
  type: str
  sample: /opt/am/tomcat/webapps/am/WEB-INF/web.xml
removed_libraries:
  description: Libraries removed (in check mode, that would be removed), as paths.
  returned: always
  type: list
  elements: str
  sample: [/opt/am/tomcat/webapps/am/WEB-INF/lib/click-extras-2.3.0.jar]
absent_libraries:
  description: Names from O(libraries) that were not in C(WEB-INF/lib).
  returned: always
  type: list
  elements: str
  sample: [velocity-1.7-p1.jar]
removed_servlets:
  description: The C(<servlet>) elements removed, with their line in the original C(web.xml) and their class.
  returned: always
  type: list
  elements: dict
  sample: [{line: 118, servlet_class: org.apache.click.ClickServlet}]
removed_mappings:
  description: The C(<servlet-mapping>) elements removed, with their line and URL patterns.
  returned: always
  type: list
  elements: dict
  sample: [{line: 245, url_patterns: ["*.htm"]}]
remaining_references:
  description:
    - Elements other than the removed ones that still name the servlet (left unchanged).
    - C(line) is the line of the C(<servlet-name>) in the new C(web.xml); C(element) is the element that holds it.
  returned: always
  type: list
  elements: dict
  sample: [{line: 80, element: filter-mapping}]
backup_file:
  description: The backup of C(web.xml), or null when none was made.
  returned: always
  type: str
  sample: /opt/am/tomcat/webapps/am/WEB-INF/web.xml.4242.2024-05-01@10:15:00~
msg:
  description: A one-line summary. In check mode, it starts with C(would:) when something would change.
  returned: always
  type: str
  sample: removed 3 libraries from WEB-INF/lib; 1 servlet and 1 mapping of click-servlet from web.xml
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idmops.lifecycle.plugins.module_utils._webapp import (
    DEFAULT_LIBRARIES,
    DEFAULT_SERVLET,
    CleanupPlan,
    WebappError,
)


def argument_spec():
    return dict(
        path=dict(type='path', required=True),
        libraries=dict(type='list', elements='str', default=list(DEFAULT_LIBRARIES)),
        servlet_name=dict(type='str', default=DEFAULT_SERVLET),
        backup=dict(type='bool', default=False),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    try:
        plan = CleanupPlan(p['path'], p['libraries'], p['servlet_name'])
        result = plan.result(module.check_mode)
        if plan.changed and not module.check_mode:
            result['backup_file'] = plan.apply(module.atomic_move, module.backup_local if p['backup'] else None)
    except WebappError as exc:
        module.fail_json(msg=str(exc), **exc.result)
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot change %s: %s' % (exc.filename or p['path'], exc.strerror or exc))
    for reference in result['remaining_references']:
        module.warn('line %s of %s: a <%s> still names %s and was left unchanged'
                    % (reference['line'], result['web_xml'], reference['element'], plan.servlet_name))
    if not module._diff:
        result.pop('diff', None)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
