#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


DOCUMENTATION = r'''
---
module: am_rest_upgrade
short_description: Upgrade a deployed AM's configuration over REST (config/upgrade/upgrade.htm)
version_added: 0.1.0
description:
  - Starts the upgrade of a running, newly deployed PingAM the way the AM upgrade guide describes
    in "Upgrade over REST". It sends
    C(GET <base_url>/config/upgrade/upgrade.htm?actionLink=doUpgrade&actionLink=saveReport&acceptLicense=true).
    This runs the same upgrade as the upgrade wizard and brings the configuration, including its
    version number, up to date.
  - The upgrade succeeded only when AM answers HTTP 200 with the body C(true). Surrounding
    whitespace is ignored. Any other answer fails the task with the HTTP status and the body.
    This covers another status, another body such as C(false), and a redirect, which is not
    followed and is reported with its C(Location).
  - A failure after an HTTP 2xx answer (for example the body C(false)) is reported as changed,
    because AM may have started the upgrade. Other failures are reported as unchanged.
  - Idempotence rule. Before the upgrade, O(ready_url) is requested once. If it answers HTTP 200,
    AM runs on a current configuration and the task reports no change without calling the upgrade
    endpoint. Any other answer, or no answer, means the upgrade is called.
  - This rule rests on an assumption about AM that is not in its documentation. A newly deployed
    AM whose configuration still needs the upgrade serves only the upgrader and does not report
    ready on C(/json/health/ready), while an upgraded AM does. If your AM reports ready before
    its upgrade, set O(ready_url) to something only an upgraded AM answers with 200.
  - The runbook restarts AM (or its container) after the REST upgrade. The module does not do
    that; run M(idmops.lifecycle.tomcat_war) with O(idmops.lifecycle.tomcat_war#module:tomcat_state=restarted)
    afterwards. O(wait_ready) can wait for readiness right after the call, but defaults to V(false)
    because the restart follows.
author:
  - idmops.lifecycle maintainers (@idmops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - O(ready_url) is requested, which only reads. The upgrade endpoint is not called. The task
        reports whether it would be called.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  base_url:
    description:
      - The AM deployment URL, for example V(http://am1.example.com:8080/am). A trailing slash is ignored.
      - The request goes from the host the task runs on. Run it with
        C(delegate_to) or on the AM host itself, as the network allows.
    type: str
    required: true
  ready_url:
    description:
      - The URL whose HTTP 200 means that AM runs on a current configuration (see the idempotence rule).
      - Defaults to C(<base_url>/json/health/ready).
    type: str
  validate_certs:
    description:
      - Validate TLS certificates of https URLs.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of CA certificates to validate https URLs with, instead of the system's.
    type: path
  timeout:
    description:
      - Seconds to wait for the answer of the upgrade request. AM answers only when the upgrade is
        done, so allow for the whole upgrade.
    type: int
    default: 600
  wait_ready:
    description:
      - After the upgrade answered C(true), wait until O(ready_url) answers HTTP 200.
    type: bool
    default: false
  ready_timeout:
    description:
      - Upper bound in seconds of the O(wait_ready) wait. Each probe also times out after at most 10 seconds.
    type: int
    default: 300
  wait_sleep:
    description:
      - Seconds between two readiness probes. From the collection's shared wait option group.
    type: float
    default: 1.0
notes:
  - The upgrade endpoint needs no credentials. The runbook says to suspend external network access
    to the container until the upgrade is complete. After it, AM blocks the upgrader.
  - Proxy settings from the environment apply, as with M(ansible.builtin.uri).
seealso:
  - name: PingAM 8.1 upgrade guide, Upgrade over REST
    description: The upgrade request, its answer, and the restart that follows.
    link: https://docs.pingidentity.com/pingam/8.1/upgrade/upgrade-server.html
  - module: idmops.lifecycle.am_config_upgrade
  - module: idmops.lifecycle.tomcat_war
'''

EXAMPLES = r'''
- name: Upgrade AM's configuration over REST on the node itself
  idmops.lifecycle.am_rest_upgrade:
    base_url: http://127.0.0.1:8080/am
  register: am_rest

- name: Restart AM after the REST upgrade, as the runbook says
  idmops.lifecycle.tomcat_war:
    src: /opt/am/staging/am-8.1.0.war
    context: am
    catalina_base: /opt/am/tomcat
    tomcat_state: restarted
    readiness_url: http://127.0.0.1:8080/am/json/health/ready
  when: am_rest is changed

- name: Upgrade over https with a private CA and wait until AM is ready
  idmops.lifecycle.am_rest_upgrade:
    base_url: https://am.example.com:8443/am
    ca_path: /etc/pki/idm/ca.pem
    wait_ready: true
    ready_timeout: 600
'''

RETURN = r'''
url:
  description: The upgrade URL requested, or in check mode the URL that would be requested.
  returned: always
  type: str
  sample: http://127.0.0.1:8080/am/config/upgrade/upgrade.htm?actionLink=doUpgrade&actionLink=saveReport&acceptLicense=true
ready_url:
  description: The URL used for the idempotence check and O(wait_ready).
  returned: always
  type: str
  sample: http://127.0.0.1:8080/am/json/health/ready
ready_before:
  description: Whether O(ready_url) answered HTTP 200 before the upgrade, in which case nothing was called.
  returned: always
  type: bool
status:
  description: HTTP status of the upgrade request, null when it was not sent.
  returned: always
  type: int
  sample: 200
body:
  description: Body of the upgrade answer (at most 2000 characters), null when it was not sent.
  returned: always
  type: str
  sample: "true"
ready_seconds:
  description: Seconds until O(ready_url) answered HTTP 200 after the upgrade, null when not waited for.
  returned: always
  type: float
msg:
  description: A one-line summary. In check mode, it starts with C(would) when the upgrade would be called.
  returned: always
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idmops.lifecycle.plugins.module_utils._am_rest import AmRestError, RestUpgrade
from ansible_collections.idmops.lifecycle.plugins.module_utils._wait import WAIT_ARGUMENT_SPEC


def argument_spec():
    return dict(
        base_url=dict(type='str', required=True),
        ready_url=dict(type='str'),
        validate_certs=dict(type='bool', default=True),
        ca_path=dict(type='path'),
        timeout=dict(type='int', default=600),
        wait_ready=dict(type='bool', default=False),
        ready_timeout=dict(type='int', default=300),
        wait_sleep=dict(WAIT_ARGUMENT_SPEC['wait_sleep']),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    p = module.params
    try:
        upgrade = RestUpgrade(p['base_url'], ready_url=p['ready_url'], validate_certs=p['validate_certs'],
                              ca_path=p['ca_path'], timeout=p['timeout'], wait_ready=p['wait_ready'],
                              ready_timeout=p['ready_timeout'], wait_sleep=p['wait_sleep'],
                              check_mode=module.check_mode)
        result = upgrade.run()
    except AmRestError as exc:
        module.fail_json(msg=str(exc), **exc.result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
