#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


DOCUMENTATION = r'''
---
module: tomcat_preflight
short_description: Check (and partly fix) a Tomcat installation before PingAM 8.1 is deployed into it
version_added: 0.1.0
description:
  - PingAM 8.1 runs in Apache Tomcat 10 and no longer in 8.5 or 9. The upgrade guide lists what
    changes with Tomcat 10. This module reports those points for one Tomcat, each as a named check.
    A failed check is listed in RV(failed_checks).
  - C(tomcat_version) - the Tomcat major version must be O(required_major). The version is read
    from C(server.number) in C(org/apache/catalina/util/ServerInfo.properties) inside
    C(<catalina_home>/lib/catalina.jar), so a C(ServerInfo.properties) that hides the version in
    C(lib/) does not mislead it. When the jar has no version, C(<catalina_home>/bin/version.sh) is
    run and its C(Server number) line is read.
  - C(encoded_slash) - the system property C(org.apache.tomcat.util.buf.UDecoder.ALLOW_ENCODED_SLASH)
    was removed in Tomcat 10 and is ignored there. The module looks for it in
    C(<catalina_base>/conf/catalina.properties) and in O(setenv_files), as C(-D...) on lines that
    are not comments. Its replacement is the attribute C(encodedSolidusHandling) of the HTTP
    Connectors in C(conf/server.xml). C(ALLOW_ENCODED_SLASH=true) maps to
    C(encodedSolidusHandling="decode"). Any other value maps to Tomcat's default, C(reject), so the
    attribute is left unset.
  - With O(fix=true) the C(encoded_slash) check fixes what it found. It removes the property (the
    whole entry from C(catalina.properties), the C(-D) token from a C(setenv.sh) line). When the
    property was C(true), it also adds C(encodedSolidusHandling="decode") to every HTTP Connector
    (protocol C(HTTP/1.1) or an C(Http11*Protocol) class, not AJP) that does not set the attribute
    yet. A Connector that already sets it keeps its value, because that value already took
    precedence under Tomcat 9. Every other byte of the files stays as it was. The edited
    C(server.xml) is parsed again and compared with the original before it is written.
  - C(javax_references) - AM 8.1 is a Jakarta EE 9 application. Custom code, scripts and
    configuration must use C(jakarta.servlet) and C(jakarta.websocket) instead of C(javax.servlet)
    and C(javax.websocket). Other C(javax) packages such as C(javax.xml) are fine. The module
    scans O(scan_paths). Text files are reported with file and line. Jar, war, ear and zip archives,
    including archives nested in them, are reported with the entry that bundles a C(javax/servlet/)
    or C(javax/websocket/) class. With O(scan_class_files), a class file whose constant pool refers
    to those packages is also reported, for example a custom authentication node compiled against
    the Servlet 4 API. The C(javax_references) and C(tomcat_version) checks are never fixed.
  - By default the module only reports (O(fail_on_findings=false)), so that a play can collect the
    findings of every node before it decides.
author:
  - idmops.lifecycle maintainers (@idmops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Runs every check and reports what O(fix=true) would change. Nothing is written.
  diff_mode:
    support: full
    details:
      - With O(fix=true), each changed file before and after.
  platform:
    platforms: posix
options:
  catalina_home:
    description:
      - The Tomcat installation directory (C(CATALINA_HOME)), which holds C(lib/catalina.jar) and C(bin/).
      - For example V(/usr/share/tomcat10) on Debian, or V(/opt/tomcat).
    type: path
    required: true
  catalina_base:
    description:
      - The Tomcat instance directory (C(CATALINA_BASE)), which holds C(conf/server.xml) and
        C(conf/catalina.properties). Defaults to O(catalina_home).
    type: path
  required_major:
    description:
      - The Tomcat major version AM needs. AM 8.1 supports Tomcat 10.x only, so the version must
        have exactly this major number.
    type: int
    default: 10
  setenv_files:
    description:
      - Shell files that set Tomcat's JVM options, searched for C(-Dorg.apache.tomcat.util.buf.UDecoder.ALLOW_ENCODED_SLASH).
      - Defaults to the C(setenv.sh) that C(catalina.sh) sources. That is C(<catalina_base>/bin/setenv.sh)
        when it exists, otherwise C(<catalina_home>/bin/setenv.sh).
      - Set it to add files such as Debian's C(/etc/default/tomcat10). Every file listed must exist.
    type: list
    elements: path
  scan_paths:
    description:
      - Files and directories to scan for C(javax.servlet) and C(javax.websocket). Directories are
        walked without following symbolic links to directories.
      - For example the custom scripts, the AM configuration directory, and the C(WEB-INF/lib) of a
        customised AM war. Without it, the C(javax_references) check passes and nothing is scanned.
      - Every path listed must exist.
    type: list
    elements: path
    default: []
  scan_class_files:
    description:
      - Also read class files (in archives and on disk) and report those that refer to C(javax.servlet) or
        C(javax.websocket). With V(false), archives are only listed and text files read.
    type: bool
    default: true
  max_findings:
    description:
      - How many C(javax) findings are returned in RV(javax_references). All are counted in
        RV(javax_reference_count).
    type: int
    default: 200
  fix:
    description:
      - Fix the C(encoded_slash) check. See the description. The other checks are only reported.
    type: bool
    default: false
  backup:
    description:
      - With O(fix=true), keep a copy of each file before it is changed, next to it, named like
        C(server.xml.<pid>.<date>@<time>~). The paths are returned in RV(backup_files).
    type: bool
    default: false
  fail_on_findings:
    description:
      - Fail the task when RV(failed_checks) is not empty. The whole report is still returned.
      - With O(fix=true), the fix is applied first. A fixed check does not count as failed.
    type: bool
    default: false
notes:
  - Bad input fails before anything changes. This covers a missing O(catalina_home), a O(catalina_base)
    without C(conf/server.xml), a C(server.xml) that is not well-formed XML (with the parser's line),
    and a missing path in O(setenv_files) or O(scan_paths).
  - Files are replaced atomically and keep their owner, group and mode. C(server.xml) is written
    before the property is removed.
  - Tomcat reads these files at startup. Restart it after a fix.
  - Where the property is set in several places, the value Tomcat 9 used is taken as follows.
    C(catalina.properties) wins, because Tomcat sets its entries as system properties at startup.
    Otherwise the last C(-D) found in O(setenv_files), in the order given, wins.
  - A C(server.xml) that declares entities in its DOCTYPE, for example to include other files, is refused.
seealso:
  - name: Tomcat 10.1 HTTP Connector
    description: The encodedSolidusHandling attribute.
    link: https://tomcat.apache.org/tomcat-10.1-doc/config/http.html
  - name: PingAM 8.1 upgrade guide
    description: Upgrade Tomcat, the javax to jakarta changes and the removed system property.
    link: https://docs.pingidentity.com/pingam/8.1/upgrade/upgrade-am.html
'''

EXAMPLES = r'''
- name: Report only, for every AM node, before the upgrade window
  idmops.lifecycle.tomcat_preflight:
    catalina_home: /usr/share/tomcat10
    catalina_base: /opt/am/tomcat
    scan_paths:
      - /opt/am/custom
      - /opt/am/tomcat/webapps/am/WEB-INF/lib
  register: preflight

- name: Show what would stop the upgrade
  ansible.builtin.debug:
    msg: "{{ preflight.failed_checks }}: {{ preflight.checks }}"
  when: preflight.failed_checks | length > 0

- name: Move ALLOW_ENCODED_SLASH to the Connectors and fail on anything left
  idmops.lifecycle.tomcat_preflight:
    catalina_home: /usr/share/tomcat10
    catalina_base: /var/lib/tomcat10
    setenv_files:
      - /var/lib/tomcat10/bin/setenv.sh
      - /etc/default/tomcat10
    fix: true
    backup: true
    fail_on_findings: true
'''

RETURN = r'''
tomcat_version:
  description: The Tomcat version found, or null.
  returned: always
  type: str
  sample: 10.1.60.0
tomcat_major:
  description: Its major number, or null.
  returned: always
  type: int
  sample: 10
version_source:
  description: Where the version was read, C(lib/catalina.jar) or C(bin/version.sh), or null.
  returned: always
  type: str
  sample: /usr/share/tomcat10/lib/catalina.jar
checks:
  description: Every check by name, with C(passed) and a one-line C(detail).
  returned: always
  type: dict
  sample:
    tomcat_version: {passed: true, detail: "Tomcat 10.1.60.0 (from /usr/share/tomcat10/lib/catalina.jar), required major version 10"}
    encoded_slash: {passed: false, detail: "org.apache.tomcat.util.buf.UDecoder.ALLOW_ENCODED_SLASH is set in ..."}
    javax_references: {passed: true, detail: "0 references to javax.servlet or javax.websocket in 12 files scanned"}
failed_checks:
  description: Names of the checks that failed (after a fix), in the order tomcat_version, encoded_slash, javax_references.
  returned: always
  type: list
  elements: str
  sample: [encoded_slash]
encoded_slash:
  description: What the C(encoded_slash) check found.
  returned: always
  type: dict
  contains:
    occurrences:
      description: Each place the property is set, with C(path), C(line), C(value), C(text) and C(kind) (C(catalina.properties) or C(setenv)).
      type: list
      elements: dict
      sample: [{path: /opt/am/tomcat/bin/setenv.sh, line: 3, value: "true", kind: setenv, text: 'CATALINA_OPTS="..."'}]
    effective_value:
      description: The value Tomcat 9 would have used, or null when the property is not set.
      type: str
      sample: "true"
    maps_to:
      description: The C(encodedSolidusHandling) value it maps to, V(decode), or null for Tomcat's default.
      type: str
      sample: decode
    connectors:
      description: The Connectors of C(server.xml) before any fix, with C(line), C(port), C(address), C(protocol),
        C(http) and C(encoded_solidus_handling).
      type: list
      elements: dict
      sample: [{line: 4, port: "8080", address: 127.0.0.1, protocol: HTTP/1.1, http: true, encoded_solidus_handling: null}]
fixed:
  description: One line per file changed by O(fix=true) (in check mode, that would be changed).
  returned: always
  type: list
  elements: str
  sample: ['/opt/am/tomcat/conf/server.xml: encodedSolidusHandling="decode" on the HTTP Connector at line 4']
backup_files:
  description: Backups made with O(backup=true).
  returned: always
  type: list
  elements: str
  sample: [/opt/am/tomcat/conf/server.xml.4242.2024-05-01@10:15:00~]
javax_references:
  description:
    - The first O(max_findings) references found. C(kind) is V(text), V(archive_entry) or V(class_reference). C(path)
      is the file. C(entry) is the archive entry (nested archives joined with C(!/)). C(line) and C(text) are
      given for text.
  returned: always
  type: list
  elements: dict
  sample:
    - {kind: text, path: /opt/am/custom/setenv-extra.sh, line: 7, entry: null, match: javax.servlet, text: "import javax.servlet.http.*"}
    - {kind: archive_entry, path: /opt/am/custom/lib/servlet-api-4.0.jar, entry: javax/servlet/Servlet.class, line: null,
       match: javax.servlet, text: null}
javax_reference_count:
  description: How many references were found in all.
  returned: always
  type: int
  sample: 2
scanned_files:
  description: How many files under O(scan_paths) were looked at.
  returned: always
  type: int
  sample: 12
msg:
  description: A one-line summary.
  returned: always
  type: str
  sample: "Tomcat 10.1.60.0: failed checks: encoded_slash"
'''

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idmops.lifecycle.plugins.module_utils._tomcat_preflight import (
    Preflight,
    PreflightError,
)


def argument_spec():
    return dict(
        catalina_home=dict(type='path', required=True),
        catalina_base=dict(type='path'),
        required_major=dict(type='int', default=10),
        setenv_files=dict(type='list', elements='path'),
        scan_paths=dict(type='list', elements='path', default=[]),
        scan_class_files=dict(type='bool', default=True),
        max_findings=dict(type='int', default=200),
        fix=dict(type='bool', default=False),
        backup=dict(type='bool', default=False),
        fail_on_findings=dict(type='bool', default=False),
    )


class ModuleFiles(object):
    """Atomic writes and backups the AnsibleModule way."""

    def __init__(self, module):
        self.module = module

    def write(self, path, data):
        fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=os.path.dirname(path))
        try:
            with os.fdopen(fd, 'wb') as handle:
                handle.write(data)
            self.module.atomic_move(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def backup(self, path):
        return self.module.backup_local(path)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    preflight = Preflight(module.params, module.run_command)
    try:
        result = preflight.run(ModuleFiles(module), module.check_mode)
    except PreflightError as exc:
        module.fail_json(msg=str(exc), **exc.result)
    except (IOError, OSError) as exc:
        module.fail_json(msg='%s: %s' % (exc.filename or 'error', exc.strerror or exc))
    for warning in preflight.warnings:
        module.warn(warning)
    if not module._diff:
        result.pop('diff', None)
    if module.params['fail_on_findings'] and result['failed_checks']:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
