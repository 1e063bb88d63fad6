#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


DOCUMENTATION = r'''
---
module: vm_snapshot_info
short_description: Read the snapshot tree of several vSphere VMs
version_added: 0.2.0
description:
  - Returns the snapshot tree of every VM in O(vms), nested as in vSphere, with the current
    snapshot marked.
  - Every VM named in O(vms) must exist. The task fails and names every unknown VM.
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
      - Only reads.
  diff_mode:
    support: none
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
'''

EXAMPLES = r'''
- name: Read the snapshots of the Identity Manager nodes
  idmops.lifecycle.vm_snapshot_info:
    hostname: "{{ vcenter_host }}"
    username: "{{ vcenter_user }}"
    password: "{{ vcenter_password }}"
    vms: [vidm1, vidm2, vidm3]
  register: vidm_snapshots
'''

RETURN = r'''
snapshots:
  description:
    - The snapshot tree of each VM. C(current) is the id of the current snapshot or null.
    - Each snapshot has C(name), C(id), C(moid), C(description), C(create_time), C(state),
      C(quiesced), C(current), C(path) (names from the root, joined by C(/)) and C(children).
  returned: always
  type: dict
  sample: {"vidm1": {"current": 2, "snapshots": [{"name": "base", "id": 1, "children": [{"name": "pre", "id": 2}]}]}}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idmops.lifecycle.plugins.module_utils._vsphere import (
    Connection, VSphereError, all_vms, find_vms, require_pyvmomi, retrieve, tree_dict, vsphere_argument_spec,
)


def run(params, connection_factory=None):
    names = list(dict.fromkeys(params['vms']))
    if not names:
        raise VSphereError('vms must name at least one VM')
    with (connection_factory or Connection)(params) as conn:
        vms = find_vms(all_vms(conn.si), names)
        props = retrieve(conn.si, [vms[n] for n in names], ['snapshot'])
        return dict(changed=False, snapshots=dict((n, tree_dict(props[vms[n]].get('snapshot'))) for n in names))


def main():
    spec = vsphere_argument_spec()
    spec.update(vms=dict(type='list', elements='str', required=True))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    require_pyvmomi(module)
    try:
        result = run(module.params)
    except VSphereError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
