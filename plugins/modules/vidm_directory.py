#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


DOCUMENTATION = r'''
---
module: vidm_directory
short_description: Set the STARTTLS option of VMware Identity Manager directories
version_added: 0.1.0
description:
  - Sets C(useStartTls) on the named directories (O(directories)) or on every Active Directory over
    Integrated Windows Authentication directory of the service (O(all_iwa=true)), through the admin
    REST API of VMware Identity Manager (Workspace ONE Access).
  - Before a Windows connector is upgraded to 19.03 or later, STARTTLS must be off on every AD over IWA
    directory; the upgraded connector does not work with STARTTLS on IWA directories. The module
    therefore refuses to turn it on for an IWA directory unless O(force=true). The refusal happens
    before anything changes.
  - Idempotent; a directory that already has the wanted setting is not written.
  - Each directory is read with C(GET /SAAS/jersey/manager/api/connectormanagement/directoryconfigs/<id>)
    and written with C(PUT) of the same document with C(useStartTls) changed.
author:
  - idmops.lifecycle maintainers (@idmops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - idmops.lifecycle.vidm
attributes:
  check_mode:
    support: full
    details:
      - Reads the directories and reports what would change; nothing is written.
  diff_mode:
    support: full
    details:
      - C(useStartTls) per directory name, before and after.
  platform:
    platforms: all
options:
  directories:
    description:
      - Names (or directory IDs) of the directories to set. An unknown name fails before anything changes.
      - Exactly one of O(directories) and O(all_iwa) is required.
    type: list
    elements: str
  all_iwa:
    description:
      - Set every directory of type C(ACTIVE_DIRECTORY_IWA).
    type: bool
    default: false
  start_tls:
    description:
      - Whether the directories require STARTTLS.
      - Turning it on for an LDAP directory keeps the certificate already configured in the directory;
        the service may refuse it without one.
    type: bool
    required: true
  force:
    description:
      - Turn STARTTLS on for AD over IWA directories even though the connector does not support it.
    type: bool
    default: false
notes:
  - "Assumptions, not publicly documented: IWA directories carry C(useStartTls) like LDAP directories do;
    the detail document is updated with C(PUT); the vendor media types are
    C(application/vnd.vmware.horizon.manager.connector.management.directory.list+json) for the list and
    C(...connector.management.directory.details+json) for one directory (use O(media_type=json) otherwise)."
seealso:
  - name: Upgrade the Windows connector (VMware docs)
    description: Disable STARTTLS on AD over IWA directories before upgrading the connector.
    link: https://docs.vmware.com/en/VMware-Workspace-ONE-Access/19.03/vidm-install-connector-windows/GUID-upgrading-connector.html
'''

EXAMPLES = r'''
- name: Turn STARTTLS off on every AD over IWA directory before the connector upgrade
  idmops.lifecycle.vidm_directory:
    base_url: https://vidm.example.com
    client_id: ansible
    client_secret: "{{ vidm_client_secret }}"
    all_iwa: true
    start_tls: false

- name: Require STARTTLS on one LDAP directory, logging in as the local admin
  idmops.lifecycle.vidm_directory:
    base_url: vidm.example.com
    auth_method: system
    username: admin
    password: "{{ vidm_admin_password }}"
    directories: [partners.example.com]
    start_tls: true
'''

RETURN = r'''
directories:
  description: One entry per directory set, in the order handled.
  returned: always
  type: list
  elements: dict
  contains:
    directoryId:
      description: The directory ID.
      type: str
    name:
      description: The directory name.
      type: str
    type:
      description: The directory type, such as C(ACTIVE_DIRECTORY_IWA).
      type: str
    before:
      description: C(useStartTls) before the task.
      type: dict
    after:
      description: C(useStartTls) after the task (in check mode, what it would be).
      type: dict
    changed:
      description: Whether this directory was (or in check mode would be) changed.
      type: bool
  sample:
    - {directoryId: 3fa2, name: corp.example.com, type: ACTIVE_DIRECTORY_IWA,
       before: {useStartTls: true}, after: {useStartTls: false}, changed: true}
msg:
  description: A one-line summary.
  returned: always
  type: str
  sample: "set useStartTls=false on corp.example.com"
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idmops.lifecycle.plugins.module_utils._vidm import (
    IWA,
    VIDM_REQUIRED_IF,
    VidmClient,
    VidmError,
    find_directory,
    list_directories,
    set_start_tls,
    vidm_argument_spec,
)


def argument_spec():
    return vidm_argument_spec(
        directories=dict(type='list', elements='str'),
        all_iwa=dict(type='bool', default=False),
        start_tls=dict(type='bool', required=True),
        force=dict(type='bool', default=False),
    )


def run(module, client):
    p = module.params
    known = list_directories(client)
    if p['all_iwa']:
        targets = [d for d in known if d.get('type') == IWA]
    else:
        targets = []
        for key in p['directories']:
            d = find_directory(known, key)
            if d not in targets:
                targets.append(d)
    results = set_start_tls(client, targets, p['start_tls'], force=p['force'], check_mode=module.check_mode)
    changed = [r['name'] for r in results if r['changed']]
    verb = 'would set' if module.check_mode else 'set'
    msg = ('%s useStartTls=%s on %s' % (verb, str(p['start_tls']).lower(), ', '.join(changed))
           if changed else 'useStartTls already %s on %d directories' % (str(p['start_tls']).lower(), len(results)))
    result = dict(changed=bool(changed), directories=results, msg=msg)
    if module._diff:
        result['diff'] = dict(before=dict((r['name'], r['before']) for r in results),
                              after=dict((r['name'], r['after']) for r in results))
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_if=VIDM_REQUIRED_IF,
                           mutually_exclusive=[('directories', 'all_iwa')])
    if not module.params['all_iwa'] and not module.params['directories']:
        module.fail_json(msg='one of directories or all_iwa=true is required')
    try:
        result = run(module, VidmClient.from_module(module))
    except VidmError as exc:
        module.fail_json(msg=str(exc), **exc.to_result())
    module.exit_json(**result)


if __name__ == '__main__':
    main()
