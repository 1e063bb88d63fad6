#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


DOCUMENTATION = r'''
---
module: tomcat_war
short_description: Deploy a war into a Tomcat CATALINA_BASE deterministically and wait until it is ready
version_added: 0.1.0
description:
  - Deploys the war O(src) as C(<catalina_base>/webapps/<context>.war) on the Tomcat host.
  - Idempotence is by content. The sha256 of O(src) is compared with the sha256 of the
    deployed war. When they are equal nothing is stopped, copied or removed.
  - When they differ, and O(restart=true), Tomcat is stopped. The war is then copied to a
    temporary file in C(webapps/) and renamed over the deployed war (atomic on one file
    system). The exploded directory C(webapps/<context>/) and the work directory
    C(work/Catalina/<host>/<context>/) are removed, and Tomcat is started. The module does
    not rely on Tomcat's autodeploy, which notices a changed war only every few seconds.
  - With O(restart=true) the module makes sure Tomcat runs when it returns. If the right war
    is already deployed but Tomcat is stopped, Tomcat is started and the task reports a
    change.
  - With O(restart=false) Tomcat is neither stopped nor started. If Tomcat runs, only the war
    is swapped and Tomcat's autodeploy redeploys it. The exploded and work directories are
    then left to Tomcat, because removing them under a running Tomcat races its redeploy.
    If Tomcat is stopped, they are removed as with O(restart=true).
  - When O(readiness_url) is set, the module waits until that URL answers one of
    O(readiness_status). It waits after a deploy and also when nothing changed. The wait is
    bounded by O(readiness_timeout). On a timeout the task fails and names the URL, the
    timeout and the last status or error seen. The new war stays deployed; nothing is rolled
    back.
  - With O(control=catalina), C(catalina.sh start) runs in its own session with stdin from
    C(/dev/null). Tomcat writes to C(CATALINA_OUT), which defaults to C(logs/catalina.out).
    The JVM does not hold the Ansible connection open.
author:
  - idmops.lifecycle maintainers (@idmops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports the plan in RV(actions) and RV(msg). Nothing is stopped, started, copied or
        removed, and the readiness URL is not polled.
  diff_mode:
    support: full
    details:
      - The war path and its sha256, before and after.
  platform:
    platforms: posix
options:
  src:
    description:
      - Path of the war on the Tomcat host (the target, not the controller).
      - It must be a readable zip archive. Copy it to the host first, for example with
        M(ansible.builtin.copy).
    type: path
    required: true
  catalina_base:
    description:
      - The Tomcat instance directory (C(CATALINA_BASE)).
      - It must contain C(conf/server.xml) and C(webapps/).
    type: path
    required: true
  context:
    description:
      - Name of the web application, which is the war's file name in C(webapps/) without C(.war).
      - Defaults to the base name of O(src) without C(.war). V(/path/am.war) gives V(am). Set it
        when the war file name carries a version, for example V(am-8.1.0.war).
      - V(ROOT) deploys the application at C(/). Tomcat's V(a#b) form for the path C(/a/b) is accepted.
      - Must not contain slashes or C(..) and must not end in C(.war).
    type: str
  host:
    description:
      - Name of the Tomcat engine host. The work directory is C(work/Catalina/<host>/<context>/).
    type: str
    default: localhost
  restart:
    description:
      - Stop Tomcat before the war is swapped and start it afterwards. Also start a stopped
        Tomcat when the right war is already deployed.
      - With V(false), Tomcat is never stopped or started. See the description for what
        happens to the exploded directory then.
      - With V(false) and a running Tomcat, the previous version keeps serving until
        autodeploy notices the new war, which by default takes up to about 10 seconds. A
        O(readiness_url) that the previous version also answers can pass before the new
        version is deployed. Point it at something only the new version serves.
    type: bool
    default: true
  tomcat_state:
    description:
      - What state Tomcat is left in, with O(restart=true).
      - V(started) runs Tomcat when the module returns, stopping it only to swap a changed war.
      - V(stopped) stops a running Tomcat (even when the war is unchanged), swaps the war when it
        differs, and leaves Tomcat stopped, for steps that need the application down, such as
        M(idmops.lifecycle.am_config_upgrade). O(readiness_url) cannot be used with it.
      - V(restarted) stops a running Tomcat, swaps the war when it differs, and starts Tomcat. It
        always reports a change; use it when something outside the war changed, for example after
        M(idmops.lifecycle.am_wizard_cleanup) edited the exploded application.
    type: str
    choices: [started, stopped, restarted]
    default: started
  control:
    description:
      - How Tomcat is stopped, started and seen to run.
      - V(catalina) runs C(<catalina_home>/bin/catalina.sh) with C(CATALINA_HOME), C(CATALINA_BASE)
        and C(CATALINA_PID) set. Stopping runs C(catalina.sh stop <stop_timeout> -force). Tomcat is
        seen to run when O(pid_file) names a live process whose command line mentions catalina.
      - V(systemd) runs C(systemctl stop|start <service_name>). Tomcat is seen to run when
        C(systemctl is-active) succeeds.
    type: str
    choices: [catalina, systemd]
    default: catalina
  catalina_home:
    description:
      - The Tomcat installation directory (C(CATALINA_HOME)) that holds C(bin/catalina.sh).
      - Used with O(control=catalina). C(bin/catalina.sh) is only checked when O(restart=true).
    type: path
    default: /usr/share/tomcat10
  pid_file:
    description:
      - The PID file that C(catalina.sh) writes and reads (exported as C(CATALINA_PID)).
      - Defaults to C(<catalina_base>/temp/catalina.pid). Used with O(control=catalina).
      - A PID file naming a dead process, or a process that is not Tomcat, is treated as stale
        and is removed before Tomcat is started.
    type: path
  service_name:
    description:
      - The systemd unit that runs this Tomcat. Used with O(control=systemd).
    type: str
    default: tomcat10
  stop_timeout:
    description:
      - Seconds that C(catalina.sh stop) waits for a clean shutdown before it kills the JVM.
        C(catalina.sh -force) may then wait up to 5 more seconds for the kill.
      - Used with O(control=catalina). With O(control=systemd) the unit's C(TimeoutStopSec) applies.
    type: int
    default: 60
  readiness_url:
    description:
      - An http or https URL on the Tomcat host that answers one of O(readiness_status) when the
        application is ready, for example V(http://127.0.0.1:8080/am/json/health/ready).
      - Redirects are followed. Proxy settings from the environment apply, as with M(ansible.builtin.uri).
      - When not set, the module only checks that Tomcat's process runs after a start.
    type: str
  readiness_timeout:
    description:
      - Upper bound, in seconds, of the readiness wait. Each probe request also times out after
        at most 10 seconds, so the wait can exceed this bound by one request.
    type: int
    default: 300
  readiness_status:
    description:
      - HTTP status codes that mean ready.
    type: list
    elements: int
    default: [200]
  validate_certs:
    description:
      - Validate the TLS certificate of an https O(readiness_url).
    type: bool
    default: true
  wait_sleep:
    description:
      - Seconds between two readiness probes.
      - From the collection's shared wait option group.
    type: float
    default: 1.0
  backup:
    description:
      - Before a different war replaces the deployed one, keep a copy of the deployed war as
        C(<catalina_base>/backups/<context>.war.<YYYYmmddTHHMMSS>.bak). The copy is outside
        C(webapps/), so Tomcat never deploys it.
      - The path is returned in RV(backup_file). Old backups are never removed.
    type: bool
    default: false
notes:
  - The module runs on the Tomcat host. It needs permission to write C(webapps/) and C(work/)
    and to control Tomcat, which usually means become.
  - A new war gets mode C(0644) and, when the module runs as root, the owner and group of
    C(webapps/). A replaced war's mode, owner and group are kept. SELinux contexts are not managed.
  - Bad input fails before anything changes. This covers O(src) missing, unreadable or not a
    zip, O(catalina_base) missing or without C(conf/server.xml) or C(webapps/), and a
    C(catalina.sh) that is missing or not executable.
seealso:
  - name: Tomcat deployer how-to
    description: How Tomcat deploys wars found in appBase, and when it redeploys them.
    link: https://tomcat.apache.org/tomcat-10.1-doc/deployer-howto.html
'''

EXAMPLES = r'''
- name: Deploy AM into its own Tomcat and wait until it reports ready
  idmops.lifecycle.tomcat_war:
    src: /opt/am/staging/am-8.1.0.war
    context: am
    catalina_base: /opt/am/tomcat
    readiness_url: http://127.0.0.1:8080/am/json/health/ready
    readiness_timeout: 600
    backup: true
  register: am_deploy

- name: Show what changed
  ansible.builtin.debug:
    msg: "{{ am_deploy.checksum_before }} -> {{ am_deploy.checksum_after }}, backup {{ am_deploy.backup_file }}"

- name: Deploy the ROOT application into a systemd-managed Debian Tomcat
  idmops.lifecycle.tomcat_war:
    src: /srv/artifacts/portal.war
    context: ROOT
    catalina_base: /var/lib/tomcat10
    control: systemd
    service_name: tomcat10
    readiness_url: https://portal.example.com:8443/
    readiness_status: [200, 302]

- name: Only swap the war, leave Tomcat running and its autodeploy at work
  idmops.lifecycle.tomcat_war:
    src: /srv/artifacts/reports.war
    catalina_base: /var/lib/tomcat10
    restart: false
'''

RETURN = r'''
context:
  description: The context name used.
  returned: always
  type: str
  sample: am
deployed:
  description: Path of the deployed war.
  returned: always
  type: str
  sample: /opt/am/tomcat/webapps/am.war
checksum_before:
  description: sha256 of the deployed war before the task, or null when there was none.
  returned: always
  type: str
  sample: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
checksum_after:
  description:
    - sha256 of O(src), which is the deployed war after the task.
    - In check mode, this is the checksum that would be deployed.
  returned: always
  type: str
  sample: fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9
backup_file:
  description: Path of the backup of the previous war, or null when none was made.
  returned: always
  type: str
  sample: /opt/am/tomcat/backups/am.war.20240501T101500.bak
restarted:
  description:
    - Whether Tomcat was started by this task, after a stop or from stopped.
    - In check mode, whether it would be.
  returned: always
  type: bool
  sample: true
ready_seconds:
  description: Seconds until O(readiness_url) answered, or null when it was not polled.
  returned: always
  type: float
  sample: 3.214
deploy_seconds:
  description:
    - Seconds the task spent changing the server, from the backup or stop to readiness (or to the start when
      O(readiness_url) is not set); null when nothing changed or in check mode.
  returned: always
  type: float
  sample: 5.871
actions:
  description: The steps taken in order, or in check mode the steps that would be taken.
  returned: always
  type: list
  elements: str
  sample:
    - stop Tomcat (/usr/share/tomcat10/bin/catalina.sh stop 60 -force)
    - install /opt/am/staging/am-8.1.0.war as /opt/am/tomcat/webapps/am.war (sha256 2c26... -> fcde...)
    - remove /opt/am/tomcat/webapps/am
    - start Tomcat (/usr/share/tomcat10/bin/catalina.sh start)
msg:
  description: A one-line summary. In check mode, it starts with C(would:).
  returned: always
  type: str
  sample: "stop Tomcat (...); install ...; start Tomcat (...)"
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idmops.lifecycle.plugins.module_utils._tomcat import (
    CatalinaControl,
    HttpReadiness,
    SystemdControl,
    TomcatError,
    WarDeployment,
    catalina_script,
    check_catalina_base,
    check_war,
    default_context,
    validate_context,
    validate_name,
)
from ansible_collections.idmops.lifecycle.plugins.module_utils._wait import WAIT_ARGUMENT_SPEC


def argument_spec():
    return dict(
        src=dict(type='path', required=True),
        catalina_base=dict(type='path', required=True),
        context=dict(type='str'),
        host=dict(type='str', default='localhost'),
        restart=dict(type='bool', default=True),
        tomcat_state=dict(type='str', choices=['started', 'stopped', 'restarted'], default='started'),
        control=dict(type='str', choices=['catalina', 'systemd'], default='catalina'),
        catalina_home=dict(type='path', default='/usr/share/tomcat10'),
        pid_file=dict(type='path'),
        service_name=dict(type='str', default='tomcat10'),
        stop_timeout=dict(type='int', default=60),
        readiness_url=dict(type='str'),
        readiness_timeout=dict(type='int', default=300),
        readiness_status=dict(type='list', elements='int', default=[200]),
        validate_certs=dict(type='bool', default=True),
        wait_sleep=dict(WAIT_ARGUMENT_SPEC['wait_sleep']),
        backup=dict(type='bool', default=False),
    )


def build_deployment(module):
    """Check every input (changing nothing) and return the WarDeployment to run."""
    p = module.params
    for option in ('stop_timeout', 'readiness_timeout'):
        if p[option] < 0:
            raise TomcatError('%s must be zero or positive, got %s' % (option, p[option]))
    if p['wait_sleep'] <= 0:
        raise TomcatError('wait_sleep must be positive, got %s' % p['wait_sleep'])
    if p['tomcat_state'] != 'started' and not p['restart']:
        raise TomcatError('tomcat_state=%s needs restart=true: with restart=false Tomcat is never stopped or started'
                          % p['tomcat_state'])
    if p['tomcat_state'] == 'stopped' and p['readiness_url']:
        raise TomcatError('readiness_url cannot be used with tomcat_state=stopped: Tomcat is left stopped')
    if not p['readiness_status']:
        raise TomcatError('readiness_status must name at least one HTTP status')
    context = validate_context(p['context'] if p['context'] is not None else default_context(p['src']))
    validate_name(p['host'], 'host')
    check_war(p['src'])
    check_catalina_base(p['catalina_base'])

    if p['control'] == 'systemd':
        control = SystemdControl(module.run_command, p['service_name'],
                                 systemctl=module.get_bin_path('systemctl', required=True))
    else:
        if p['restart']:
            catalina_script(p['catalina_home'])
        pid_file = p['pid_file'] or os.path.join(p['catalina_base'], 'temp', 'catalina.pid')
        control = CatalinaControl(module.run_command, p['catalina_home'], p['catalina_base'],
                                  pid_file, p['stop_timeout'])

    readiness = None
    if p['readiness_url']:
        readiness = HttpReadiness(p['readiness_url'], p['readiness_status'], p['readiness_timeout'],
                                  p['wait_sleep'], validate_certs=p['validate_certs'])

    return WarDeployment(p['src'], p['catalina_base'], context, control, host=p['host'],
                         restart=p['restart'], readiness=readiness, backup=p['backup'],
                         check_mode=module.check_mode, tomcat_state=p['tomcat_state'])


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        result = build_deployment(module).run()
    except TomcatError as exc:
        result = dict(exc.result)
        if not module._diff:
            result.pop('diff', None)
        module.fail_json(msg=str(exc), **result)
    if not module._diff:
        result.pop('diff', None)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
