#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


DOCUMENTATION = r'''
---
module: vm_snapshot
short_description: Create, revert and remove snapshots of several vSphere VMs at once
version_added: 0.2.0
description:
  - Manages the snapshots of every VM in O(vms) on a vCenter, for example the database and the
    VMware Identity Manager nodes before an upgrade.
  - The VMs are handled in parallel. The module starts the task of every VM that needs one, then
    waits for all of them under one bound, O(timeout). A timeout fails the task and names the VMs
    whose task still runs; vCenter carries on with those tasks.
  - A snapshot is found by O(name), by O(snapshot_id), or by both. Snapshot names need not be unique
    in vSphere. When several snapshots of a VM carry O(name), the task fails and lists their ids,
    unless O(snapshot_id) picks one.
  - With O(state=present) a VM that already has one snapshot named O(name) is left alone
    (C(changed=false)). A new snapshot becomes a child of the VM's current snapshot.
  - Every VM named in O(vms) must exist. The task fails before any change and names every unknown VM.
  - Tasks are polled on C(info.state) and C(info.error) only.
author:
  - idmops.lifecycle maintainers (@idmops)
requirements:
  - pyVmomi
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Reports in RV(changes) what each VM would get. No task is started.
  diff_mode:
    support: full
    details:
      - The snapshot tree of each VM before and after, one line per snapshot, the current one marked C(*).
  platform:
    platforms: vmware
options:
  hostname:
    description:
      - vCenter host name or address. Falls back to E(VMWARE_HOST).
    type: str
    required: true
  username:
    description:
      - vCenter user. Falls back to E(VMWARE_USER).
    type: str
    required: true
  password:
    description:
      - Password of O(username). Falls back to E(VMWARE_PASSWORD).
    type: str
    required: true
  port:
    description:
      - vCenter HTTPS port. Falls back to E(VMWARE_PORT).
    type: int
    default: 443
  validate_certs:
    description:
      - Check the vCenter certificate. Falls back to E(VMWARE_VALIDATE_CERTS).
      - Set V(false) only for a lab or simulator with a self-signed certificate.
    type: bool
    default: true
  connect_timeout:
    description:
      - Seconds for the connection to vCenter and each request on it.
    type: int
    default: 30
  vms:
    description:
      - Names of the VMs. Each name must match exactly one VM.
    type: list
    elements: str
    required: true
  state:
    description:
      - V(present) creates the snapshot O(name) on every VM that has none by that name.
      - V(absent) removes the snapshot O(name) (or O(snapshot_id)) where it exists.
      - V(revert) reverts every VM to that snapshot. It always reports a change, because a revert
        discards whatever changed since the snapshot.
      - V(remove_all) removes every snapshot of every VM that has one.
    type: str
    choices: [present, absent, revert, remove_all]
    default: present
  name:
    description:
      - Name of the snapshot. Required with O(state=present). With O(state=absent) or
        O(state=revert), O(name) or O(snapshot_id) is required.
    type: str
  description:
    description:
      - Description of a new snapshot.
    type: str
    default: ''
  snapshot_id:
    description:
      - The numeric id of the snapshot (RV(snapshots) lists them). Picks one of several snapshots with
        the same name. Ids are per VM, so this is mostly useful with a single VM.
    type: int
  remove_children:
    description:
      - With O(state=absent), also remove every snapshot below the removed one. With V(false) its
        children move up to its parent.
    type: bool
    default: false
  memory:
    description:
      - With O(state=present), include the VM's memory in the snapshot.
      - A powered-off VM has no memory to include; the task fails for it.
      - If vCenter stored no memory file for the new snapshot (as a simulator does), the task warns.
    type: bool
    default: false
  quiesce:
    description:
      - With O(state=present), quiesce the guest file systems first. This needs VMware Tools
        running in the guest; the task fails, naming the VM and its tools status, when they do not run.
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for all snapshot tasks together.
    type: int
    default: 600
'''

EXAMPLES = r'''
- name: Snapshot the database and the Identity Manager nodes before the upgrade
  idmops.lifecycle.vm_snapshot:
    hostname: "{{ vcenter_host }}"
    username: "{{ vcenter_user }}"
    password: "{{ vcenter_password }}"
    vms: [vidm-db, vidm1, vidm2, vidm3]
    name: before-upgrade-3.3.7
    description: taken by idmops.lifecycle before the vIDM upgrade
    state: present

- name: Go back to it when the upgrade failed
  idmops.lifecycle.vm_snapshot:
    hostname: "{{ vcenter_host }}"
    username: "{{ vcenter_user }}"
    password: "{{ vcenter_password }}"
    vms: [vidm-db, vidm1, vidm2, vidm3]
    name: before-upgrade-3.3.7
    state: revert

- name: Drop it once the upgrade is verified
  idmops.lifecycle.vm_snapshot:
    hostname: "{{ vcenter_host }}"
    username: "{{ vcenter_user }}"
    password: "{{ vcenter_password }}"
    vms: [vidm-db, vidm1, vidm2, vidm3]
    name: before-upgrade-3.3.7
    state: absent
'''

RETURN = r'''
changes:
  description: What was done (or, in check mode, would be done) per VM; VMs left alone are absent.
  returned: always
  type: dict
  sample: {"vidm1": "create snapshot before-upgrade", "vidm2": "remove snapshot before-upgrade (id 3)"}
snapshots:
  description:
    - The snapshot tree of each VM after the task (before it, in check mode).
    - C(current) is the id of the current snapshot or null. Each snapshot has C(name), C(id),
      C(moid), C(description), C(create_time), C(state), C(quiesced), C(current), C(path) (names
      from the root, joined by C(/)) and C(children).
  returned: always
  type: dict
  sample: {"vidm1": {"current": 1, "snapshots": [{"name": "before-upgrade", "id": 1, "children": []}]}}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idmops.lifecycle.plugins.module_utils._vsphere import (
    Connection, VSphereError, all_vms, find_snapshot, find_vms, require_pyvmomi, retrieve, subtree,
    tree_dict, tree_lines, vsphere_argument_spec, wait_tasks, walk, snapshot_roots,
)


def argument_spec():
    spec = vsphere_argument_spec()
    spec.update(
        vms=dict(type='list', elements='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent', 'revert', 'remove_all']),
        name=dict(type='str'),
        description=dict(type='str', default=''),
        snapshot_id=dict(type='int'),
        remove_children=dict(type='bool', default=False),
        memory=dict(type='bool', default=False),
        quiesce=dict(type='bool', default=False),
        timeout=dict(type='int', default=600),
    )
    return spec


VM_PATHS = ['snapshot', 'runtime.powerState', 'guest.toolsRunningStatus']


def check_params(p):
    if not p['vms']:
        raise VSphereError('vms must name at least one VM')
    if p['timeout'] <= 0:
        raise VSphereError('timeout must be positive, got %s' % p['timeout'])
    if p['state'] == 'present' and not p['name']:
        raise VSphereError('state=present needs name')
    if p['state'] in ('absent', 'revert') and not p['name'] and p['snapshot_id'] is None:
        raise VSphereError('state=%s needs name or snapshot_id' % p['state'])
    if p['state'] != 'present':
        for option in ('memory', 'quiesce'):
            if p[option]:
                raise VSphereError('%s=true only applies to state=present' % option)


def plan(p, vm_name, props):
    """``(action, target node or None, description)`` for one VM, or ``None`` when nothing is to do."""
    info = props.get('snapshot')
    state = p['state']
    if state == 'remove_all':
        count = len(list(walk(snapshot_roots(info))))
        return ('remove_all', None, 'remove all %d snapshots' % count) if count else None
    node = find_snapshot(info, vm_name, p['name'], p['snapshot_id'])
    if state == 'present':
        if node is not None:
            return None
        if p['snapshot_id'] is not None:
            raise VSphereError('VM %s has no snapshot with id %s named %r; snapshot_id cannot pick a new snapshot'
                               % (vm_name, p['snapshot_id'], p['name']))
        power = str(props.get('runtime.powerState'))
        if p['memory'] and power != 'poweredOn':
            raise VSphereError('memory=true needs a powered-on VM: %s is %s' % (vm_name, power))
        tools = str(props.get('guest.toolsRunningStatus'))
        if p['quiesce'] and tools != 'guestToolsRunning':
            raise VSphereError('quiesce=true needs VMware Tools running in the guest: %s reports %s'
                               % (vm_name, tools))
        return ('create', None, 'create snapshot %s' % p['name'])
    if state == 'absent':
        if node is None:
            return None
        extra = ' and its %d descendants' % (len(subtree(node)) - 1) if p['remove_children'] else ''
        return ('remove', node, 'remove snapshot %s (id %s)%s' % (node.name, node.id, extra))
    if node is None:
        raise VSphereError('VM %s has no snapshot %s to revert to' % (vm_name, describe(p)))
    return ('revert', node, 'revert to snapshot %s (id %s)' % (node.name, node.id))


def describe(p):
    parts = []
    if p['name']:
        parts.append('named %r' % p['name'])
    if p['snapshot_id'] is not None:
        parts.append('with id %s' % p['snapshot_id'])
    return ' '.join(parts)


def start(p, vm, action, node):
    if action == 'create':
        return vm.CreateSnapshot_Task(name=p['name'], description=p['description'],
                                      memory=p['memory'], quiesce=p['quiesce'])
    if action == 'remove':
        return node.snapshot.RemoveSnapshot_Task(removeChildren=p['remove_children'], consolidate=True)
    if action == 'revert':
        return node.snapshot.RevertToSnapshot_Task()
    return vm.RemoveAllSnapshots_Task()


def memory_warnings(si, p, vms, names, after):
    """Warn for each new snapshot vCenter stored without a memory file although memory=true."""
    warnings = []
    layouts = retrieve(si, [vms[n] for n in names], ['layoutEx.snapshot'])
    for name in names:
        node = find_snapshot(after[name], name, p['name'])
        layout = [s for s in layouts.get(vms[name], {}).get('layoutEx.snapshot') or []
                  if node is not None and s.key == node.snapshot]
        if not layout or all(getattr(s, 'memoryKey', -1) in (None, -1) for s in layout):
            warnings.append('memory=true: vCenter stored no memory file for snapshot %s of %s '
                            '(the server did not capture memory)' % (p['name'], name))
    return warnings


def run(module, connection_factory=None):
    p = module.params
    check_params(p)
    names = list(dict.fromkeys(p['vms']))
    result = dict(changed=False, changes={}, snapshots={})
    with (connection_factory or Connection)(p) as conn:
        si = conn.si
        vms = find_vms(all_vms(si), names)
        props = retrieve(si, [vms[n] for n in names], VM_PATHS)
        before = dict((n, props[vms[n]].get('snapshot')) for n in names)
        plans = {}
        for name in names:
            step = plan(p, name, props[vms[name]])
            if step is not None:
                plans[name] = step
        result['changes'] = dict((n, plans[n][2]) for n in plans)
        result['changed'] = bool(plans)
        after = before
        if plans and not module.check_mode:
            tasks = dict((n, start(p, vms[n], plans[n][0], plans[n][1])) for n in plans)
            errors = wait_tasks(si, tasks, p['timeout'])
            now = retrieve(si, [vms[n] for n in names], ['snapshot'])
            after = dict((n, now[vms[n]].get('snapshot')) for n in names)
            failed = dict((n, e) for n, e in errors.items() if e)
            if failed:
                result['snapshots'] = dict((n, tree_dict(after[n])) for n in names)
                raise TaskFailed('snapshot tasks failed: %s' % '; '.join(
                    '%s (%s): %s' % (n, plans[n][2], failed[n]) for n in sorted(failed)), result)
            created = [n for n in plans if plans[n][0] == 'create']
            if p['memory'] and created:
                for warning in memory_warnings(si, p, vms, created, after):
                    module.warn(warning)
        result['snapshots'] = dict((n, tree_dict(after[n])) for n in names)
        if module._diff:
            result['diff'] = dict(
                before=''.join('%s:\n%s' % (n, ''.join('  %s\n' % line for line in tree_lines(before[n])))
                               for n in names),
                after=''.join('%s:\n%s' % (n, ''.join('  %s\n' % line for line in tree_lines(after[n])))
                              for n in names) if not module.check_mode else
                '(check mode: %s)\n' % ('; '.join('%s: %s' % (n, result['changes'][n]) for n in plans) or 'no change'),
            )
    return result


class TaskFailed(VSphereError):
    def __init__(self, msg, result):
        super().__init__(msg)
        self.result = result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    require_pyvmomi(module)
    try:
        result = run(module)
    except TaskFailed as exc:
        module.fail_json(msg=str(exc), **exc.result)
    except VSphereError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
