#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


DOCUMENTATION = r"""
---
module: lb_pool_member
short_description: Enable, drain or disable one member of a load-balancer pool
version_added: 0.1.0
description:
  - Sets the administrative state of one existing member (server) of one existing pool
    (backend) on a load balancer, then waits for the condition that state is for.
  - V(enabled) puts the member back in rotation and, with O(wait=true), waits until the load
    balancer reports it operationally UP (health checks passed).
  - V(drained) stops new sessions from going to the member and waits up to O(drain_timeout)
    seconds for its current sessions to end. On timeout the task fails and the member is left
    drained.
  - V(disabled) puts the member in maintenance. Existing sessions are not cut by this module.
  - The module never creates or deletes pools or members. An unknown pool or member is an error.
  - Waiting happens also when the member already was in the requested state, so a task that
    reports C(ok) still guarantees the condition (no sessions left, or UP).
  - For O(backend=haproxy) the module talks to the HAProxy runtime API (the C(stats socket),
    declared with C(level admin)) over a UNIX socket or TCP, on the host the task runs on.
    Use C(delegate_to) to reach the load balancer host.
  - For O(backend=nsxt) the module uses the NSX-T Policy API
    (C(/policy/api/v1/infra/lb-pools/<pool>)), for O(backend=f5) the BIG-IP iControl REST API
    (C(/mgmt/tm/ltm/pool/~<partition>~<pool>/members/~<partition>~<member>)), both over HTTPS
    with basic authentication from the host the task runs on.
  - O(monitors) detaches the pool's health monitors, or attaches them again (NSX-T and F5 only),
    as the vIDM cluster upgrade runbook asks while nodes are upgraded.
author:
  - idmops.lifecycle maintainers (@idmops)
options:
  backend:
    description:
      - The kind of load balancer.
    type: str
    required: true
    choices: [haproxy, nsxt, f5]
  pool:
    description:
      - The pool that holds the member. For HAProxy, the name of a C(backend) (or C(listen)) section.
      - For HAProxy only letters, digits, C(.), C(:), C(_) and C(-) are accepted.
      - For NSX-T the pool's id in the Policy API, for F5 the pool's name in O(partition).
    type: str
    required: true
  member:
    description:
      - The member of O(pool). For HAProxy, the name of a C(server) line in that backend.
      - For HAProxy only letters, digits, C(.), C(:), C(_) and C(-) are accepted.
      - For NSX-T the member's C(display_name), or C(ip_address:port).
      - For F5 the member's name, usually C(address:port).
      - Required with O(state).
    type: str
  state:
    description:
      - For NSX-T V(enabled), V(drained) and V(disabled) are C(admin_state) C(ENABLED),
        C(GRACEFUL_DISABLED) and C(DISABLED).
      - For F5 V(enabled) is C(session=user-enabled, state=user-up), V(drained)
        C(session=user-disabled) (existing connections continue), V(disabled)
        C(session=user-disabled, state=user-down) (forced offline).
      - One of O(state) and O(monitors) is required.
      - V(enabled) takes new sessions (HAProxy C(set server ... state ready)).
      - V(drained) takes no new sessions, existing ones continue (HAProxy C(state drain)).
      - V(disabled) is maintenance (HAProxy C(state maint)).
      - Only the state forced through the runtime API counts. For HAProxy a server that is in
        maintenance only because it tracks a server in maintenance, or because its address does
        not resolve, is V(enabled) here; RV(member.operational_status) shows the rest
        (for example C(MAINT (via be/s1))).
    type: str
    choices: [enabled, drained, disabled]
  drain_timeout:
    description:
      - With O(state=drained), seconds to wait for the member's current sessions to reach 0.
        For HAProxy, sessions queued for that server count too. For NSX-T, the realtime
        C(current_sessions) of the member in the statistics of O(nsxt_lb_service) (required then).
        For F5, the member's C(serverside.curConns).
      - V(0) sets the state and does not wait.
      - When the sessions do not end in time the task fails with the number of sessions left,
        and the member stays drained.
      - Not affected by O(wait); O(wait_sleep) paces the polling.
    type: int
    default: 300
  wait:
    description:
      - With O(state=enabled), wait until the load balancer reports the member operationally UP.
        For HAProxy that is status C(UP) with health checks passed (not C(UP 1/3), which is what
        HAProxy shows right after leaving maintenance), or C(no check) for a server without checks.
        For F5 the member's C(state) C(up) or C(unchecked). For NSX-T the pool object has no
        health status, so this only confirms C(admin_state=ENABLED).
      - Draining is controlled by O(drain_timeout), not by this option.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds O(wait) waits before the task fails. The member stays enabled.
    type: int
    default: 300
  wait_sleep:
    description:
      - Seconds between two polls of the load balancer while waiting for UP or for a drain.
    type: float
    default: 1.0
  haproxy_socket:
    description:
      - Path of an HAProxy admin UNIX socket (C(stats socket /path level admin)).
      - Mutually exclusive with O(haproxy_address). One of them is required when O(backend=haproxy).
      - The user running the module needs read and write access to the socket file.
    type: path
  haproxy_address:
    description:
      - C(host:port) of an HAProxy admin TCP socket (C(stats socket ipv4@127.0.0.1:9999 level admin)).
        Write IPv6 addresses as C([address]:port).
      - Mutually exclusive with O(haproxy_socket).
      - The runtime API has no authentication or encryption; keep such a socket on loopback.
    type: str
  timeout:
    description:
      - Socket timeout in seconds for connecting to the load balancer and for each answer.
    type: float
    default: 5.0
  api_url:
    description:
      - Base URL of the NSX-T Manager or BIG-IP, for example C(https://nsx.example.com).
      - Required when O(backend=nsxt) or O(backend=f5).
    type: str
  api_user:
    description:
      - User for basic authentication. Required when O(backend=nsxt) or O(backend=f5).
    type: str
  api_password:
    description:
      - Password of O(api_user). Required when O(backend=nsxt) or O(backend=f5).
    type: str
  validate_certs:
    description:
      - Verify the TLS certificate of O(api_url). Only turn off for a lab.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA certificates to trust for O(api_url).
    type: path
  nsxt_lb_service:
    description:
      - Id of the NSX-T load-balancer service the pool is attached to, for the realtime pool
        statistics (the member's current sessions).
      - Required with O(backend=nsxt), O(state=drained) and O(drain_timeout) above 0.
    type: str
  partition:
    description:
      - F5 partition of the pool and member.
    type: str
    default: Common
  monitors:
    description:
      - V(disabled) detaches every health monitor from O(pool); RV(previous_monitors) says which
        were attached, to give back as O(monitor_paths).
      - V(enabled) attaches O(monitor_paths); without O(monitor_paths) it only checks that some
        monitor is attached.
      - Handled before O(state) when both are given. Only for O(backend=nsxt) and O(backend=f5).
    type: str
    choices: [enabled, disabled]
  monitor_paths:
    description:
      - The monitors to attach with O(monitors=enabled). For NSX-T the
        C(active_monitor_paths), for F5 monitor names such as C(/Common/http) (joined with C(and)).
    type: list
    elements: str
extends_documentation_fragment:
  - action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads the member's state, reports what would change, sets nothing and does not wait.
  diff_mode:
    support: full
  platform:
    platforms: posix
notes:
  - NSX-T changes are a read-modify-write of the pool guarded by its C(_revision); a concurrent
    change (HTTP 412) makes the module read again, up to 5 times.
  - HAProxy 2.6 was used to test this module. Runtime API commands used are
    C(show servers state), C(show stat) and C(set server ... state), all in HAProxy 2.0 and later.
  - Changes made through the HAProxy runtime API are lost when HAProxy restarts, unless
    C(server-state-file) is configured.
  - A server whose weight was set to 0 shows as C(DRAIN) in HAProxy while its administrative
    state is V(enabled); this module does not change weights, so waiting for UP would time out.
seealso:
  - name: HAProxy management guide, runtime API
    description: The commands this module sends.
    link: https://docs.haproxy.org/2.6/management.html#9.3
  - name: NSX-T Policy API, LBPool
    description: The pool object and its members.
    link: https://developer.broadcom.com/xapis/nsx-t-data-center-rest-api/latest/
  - name: F5 iControl REST, ltm pool members
    description: The member C(session) and C(state) properties.
    link: https://clouddocs.f5.com/api/icontrol-rest/
"""

EXAMPLES = r"""
- name: Drain am1 from the site pool, waiting up to 10 minutes for its sessions to end
  idmops.lifecycle.lb_pool_member:
    backend: haproxy
    haproxy_socket: /run/haproxy/admin.sock
    pool: am_site1
    member: am1
    state: drained
    drain_timeout: 600
  delegate_to: lb1.example.com
  register: am1_drain

- name: Put am1 back and wait until its health checks pass
  idmops.lifecycle.lb_pool_member:
    backend: haproxy
    haproxy_address: 127.0.0.1:9999
    pool: am_site1
    member: am1
    state: enabled
    wait_timeout: 120
    wait_sleep: 2
  delegate_to: lb1.example.com

- name: Restore whatever state am1 had before the drain
  idmops.lifecycle.lb_pool_member:
    backend: haproxy
    haproxy_socket: /run/haproxy/admin.sock
    pool: am_site1
    member: am1
    state: "{{ am1_drain.previous_state }}"
  delegate_to: lb1.example.com

- name: Maintenance without waiting for sessions
  idmops.lifecycle.lb_pool_member:
    backend: haproxy
    haproxy_socket: /run/haproxy/admin.sock
    pool: am_site1
    member: am2
    state: disabled
  delegate_to: lb1.example.com

- name: Read the current state only (check mode never changes anything)
  idmops.lifecycle.lb_pool_member:
    backend: haproxy
    haproxy_socket: /run/haproxy/admin.sock
    pool: am_site1
    member: am3
    state: enabled
  check_mode: true
  delegate_to: lb1.example.com
  register: am3

- name: Drain a vIDM node from an NSX-T pool
  idmops.lifecycle.lb_pool_member:
    backend: nsxt
    api_url: https://nsx.example.com
    api_user: admin
    api_password: "{{ nsx_password }}"
    nsxt_lb_service: vidm-lb
    pool: vidm-pool
    member: vidm2
    state: drained
  delegate_to: localhost

- name: Health monitors off on the F5 pool (runbook step 3)
  idmops.lifecycle.lb_pool_member:
    backend: f5
    api_url: https://bigip.example.com
    api_user: admin
    api_password: "{{ f5_password }}"
    pool: vidm_pool
    monitors: disabled
  delegate_to: localhost
  register: vidm_monitors

- name: Health monitors back on
  idmops.lifecycle.lb_pool_member:
    backend: f5
    api_url: https://bigip.example.com
    api_user: admin
    api_password: "{{ f5_password }}"
    pool: vidm_pool
    monitors: enabled
    monitor_paths: "{{ vidm_monitors.previous_monitors }}"
  delegate_to: localhost
"""

RETURN = r"""
previous_state:
  description: The administrative state before the task, one of V(enabled), V(drained), V(disabled). Use it to restore.
  returned: success or after the member was found
  type: str
  sample: enabled
state:
  description:
    - The administrative state after the task (in check mode, the state it would have).
  returned: success or after the member was found
  type: str
  sample: drained
member:
  description: What the load balancer reported last about the member (in check mode, before any change).
  returned: success or after the member was found
  type: dict
  contains:
    admin_state:
      description: V(enabled), V(drained) or V(disabled).
      type: str
      sample: drained
    operational_status:
      description:
        - The load balancer's own status word. For HAProxy the C(status) column of C(show stat),
          for example C(UP), C(UP 1/3), C(DOWN), C(DOWN 1/2), C(DRAIN), C(MAINT),
          C(MAINT (via be/s1)), C(NOLB), C(no check).
      type: str
      sample: DRAIN
    current_sessions:
      description: Sessions the member is serving now (HAProxy C(scur)).
      type: int
      sample: 0
    raw:
      description:
        - A few backend-specific details, not a stable interface. For HAProxy
          C(srv_admin_state), C(admin_flags) (names of its bits, for example C(FDRAIN)),
          C(srv_op_state), C(op_state), C(queued_sessions), C(weight), C(check_status), C(address).
      type: dict
      sample:
        srv_admin_state: 8
        admin_flags: [FDRAIN]
        srv_op_state: 2
        op_state: RUNNING
        queued_sessions: 0
        weight: 1
        check_status: L7OK
        address: 10.213.0.11:8080
previous_monitors:
  description: With O(monitors), the monitors attached before the task (give them back as O(monitor_paths)).
  returned: when O(monitors) is set
  type: list
  elements: str
  sample: [/infra/lb-monitor-profiles/default-http-lb-monitor]
monitors:
  description: With O(monitors), the monitors attached after the task (in check mode, before).
  returned: when O(monitors) is set
  type: list
  elements: str
  sample: []
waited_seconds:
  description: Seconds spent waiting for the drain to finish or for the member to be UP; 0 when not waiting.
  returned: success or after the member was found
  type: float
  sample: 12.5
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idmops.lifecycle.plugins.module_utils._lb import BACKENDS, backend_from_params, ensure_monitors
from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.base import ADMIN_STATES, LBError, ensure_member_state
from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.http import HTTP_ARGUMENT_SPEC
from ansible_collections.idmops.lifecycle.plugins.module_utils._wait import WAIT_ARGUMENT_SPEC


def main():
    argument_spec = dict(
        backend=dict(type='str', required=True, choices=sorted(BACKENDS)),
        pool=dict(type='str', required=True),
        member=dict(type='str'),
        state=dict(type='str', choices=list(ADMIN_STATES)),
        drain_timeout=dict(type='int', default=300),
        haproxy_socket=dict(type='path'),
        haproxy_address=dict(type='str'),
        timeout=dict(type='float', default=5.0),
        nsxt_lb_service=dict(type='str'),
        partition=dict(type='str', default='Common'),
        monitors=dict(type='str', choices=['enabled', 'disabled']),
        monitor_paths=dict(type='list', elements='str'),
    )
    argument_spec.update(WAIT_ARGUMENT_SPEC)
    argument_spec.update(HTTP_ARGUMENT_SPEC)
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[('haproxy_socket', 'haproxy_address')],
        required_if=[
            ('backend', 'haproxy', ('haproxy_socket', 'haproxy_address'), True),
            ('backend', 'nsxt', ('api_url', 'api_user', 'api_password')),
            ('backend', 'f5', ('api_url', 'api_user', 'api_password')),
        ],
        required_one_of=[('state', 'monitors')],
        required_by=dict(state='member'),
        supports_check_mode=True,
    )
    p = module.params
    for option, minimum in (('drain_timeout', 0), ('wait_timeout', 0)):
        if p[option] < minimum:
            module.fail_json(msg='%s must be 0 or more, got %s' % (option, p[option]))
    for option in ('wait_sleep', 'timeout'):
        if not p[option] > 0:
            module.fail_json(msg='%s must be more than 0, got %s' % (option, p[option]))

    if p['backend'] == 'nsxt' and p['state'] == 'drained' and p['drain_timeout'] > 0 and not p['nsxt_lb_service']:
        module.fail_json(msg='nsxt_lb_service is required to wait for a drain (state=drained, drain_timeout > 0): '
                             'the current sessions are in the statistics of that load-balancer service')

    result = dict(changed=False)
    try:
        backend = backend_from_params(p)
        if p['monitors']:
            result.update(ensure_monitors(backend, p['pool'], p['monitors'], p['monitor_paths'],
                                          check_mode=module.check_mode))
        if p['state']:
            monitor_changed = result['changed']
            result.update(ensure_member_state(
                backend, p['pool'], p['member'], p['state'],
                check_mode=module.check_mode,
                drain_timeout=p['drain_timeout'],
                wait=p['wait'], wait_timeout=p['wait_timeout'], wait_sleep=p['wait_sleep'],
            ))
            result['changed'] = result['changed'] or monitor_changed
    except LBError as exc:
        failed = dict(result, **(exc.result or {}))
        if not module._diff:
            failed.pop('diff', None)
        module.fail_json(msg=str(exc), **failed)

    if not module._diff:
        result.pop('diff', None)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
