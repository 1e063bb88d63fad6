#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


DOCUMENTATION = r'''
---
module: vidm_sync_connectors_info
short_description: Read the Sync Connectors lists and connector instances of VMware Identity Manager
version_added: 0.1.0
description:
  - Returns, for each Active Directory directory (over IWA or LDAP), its identity provider and its
    Sync Connectors list (connector hosts in failover order), the connector instances of the service
    with their versions, and the directories whose lists collide (the same connectors in the same order).
  - See M(idmops.lifecycle.vidm_sync_connectors) for the assumptions about the API.
author:
  - idmops.lifecycle maintainers (@idmops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - idmops.lifecycle.vidm
attributes:
  check_mode:
    support: full
    details:
      - Only reads.
  diff_mode:
    support: none
  platform:
    platforms: all
options:
  directories:
    description:
      - Only these directories (names or IDs). All Active Directory directories by default.
    type: list
    elements: str
seealso:
  - module: idmops.lifecycle.vidm_sync_connectors
'''

EXAMPLES = r'''
- name: Read the Sync Connectors lists
  idmops.lifecycle.vidm_sync_connectors_info:
    base_url: https://vidm.example.com
    client_id: ansible
    client_secret: "{{ vidm_client_secret }}"
  register: vidm_sync
'''

RETURN = r'''
directories:
  description: One entry per directory.
  returned: always
  type: list
  elements: dict
  sample: [{name: corp.example.com, directoryId: 3fa2, type: ACTIVE_DIRECTORY_IWA, idp: WorkspaceIDP__1,
            sync_connectors: [connector1.example.com, connector2.example.com]}]
connectors:
  description: The connector instances of the service.
  returned: always
  type: list
  elements: dict
  sample: [{instanceId: c-1, host: connector1.example.com, version: 19.03.0.1, sync_connectors_capable: true}]
collisions:
  description: Groups of directories with the same non-empty list in the same order.
  returned: always
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idmops.lifecycle.plugins.module_utils._vidm import (
    MIN_SYNC_CONNECTOR_VERSION,
    SYNC_DIRECTORY_TYPES,
    VIDM_REQUIRED_IF,
    VidmClient,
    VidmError,
    collisions,
    find_directory,
    idp_of,
    list_connectors,
    list_directories,
    list_idps,
    sync_lists,
    version_at_least,
    vidm_argument_spec,
)


def run(module, client):
    connectors = list_connectors(client)
    hosts_by_id = dict((c.get('instanceId'), c.get('host')) for c in connectors)
    directories = list_directories(client)
    idps = list_idps(client)
    lists = sync_lists(client, directories, hosts_by_id)
    if module.params['directories']:
        selected = [find_directory(directories, key) for key in module.params['directories']]
    else:
        selected = [d for d in directories if d.get('type') in SYNC_DIRECTORY_TYPES]
    out = []
    for d in selected:
        idp = idp_of(idps, d)
        out.append(dict(name=d.get('name'), directoryId=d.get('directoryId'), type=d.get('type'),
                        idp=idp.get('name') if idp else None, sync_connectors=lists.get(d.get('name'), [])))
    return dict(changed=False, directories=out, collisions=collisions(lists),
                connectors=[dict(instanceId=c.get('instanceId'), host=c.get('host'), version=c.get('version'),
                                 sync_connectors_capable=version_at_least(c.get('version'), MIN_SYNC_CONNECTOR_VERSION))
                            for c in connectors])


def main():
    module = AnsibleModule(argument_spec=vidm_argument_spec(directories=dict(type='list', elements='str')),
                           supports_check_mode=True, required_if=VIDM_REQUIRED_IF)
    try:
        result = run(module, VidmClient.from_module(module))
    except VidmError as exc:
        module.fail_json(msg=str(exc), **exc.to_result())
    module.exit_json(**result)


if __name__ == '__main__':
    main()
