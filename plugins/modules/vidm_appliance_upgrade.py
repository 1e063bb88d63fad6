#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


DOCUMENTATION = r'''
---
module: vidm_appliance_upgrade
short_description: Upgrade one VMware Identity Manager (Workspace ONE Access) Linux appliance node
version_added: 0.1.0
description:
  - Upgrades the vIDM appliance the task runs on to O(target_version), online from the update
    repository or offline from an update bundle, as the "Upgrading VMware Identity Manager" guide
    describes.
  - The installed version is read with C(vamicli version --appliance). When it is already
    O(target_version) or newer, nothing runs and the task reports no change.
  - Before anything runs, the free space on O(free_space_path) (C(df -P -k)) must be at least
    O(min_free_mb); the guide asks for 4 GB on C(/).
  - O(source=online) runs C(updatemgr.hzn updateinstaller), C(check), C(update) and C(check) again.
    The version the repository offers must be O(target_version).
  - O(source=offline) checks the sha256 of O(bundle) against O(checksum) first (a mismatch fails
    with nothing run), then runs C(updateOffline.hzn -f <bundle>).
  - The node must be rebooted afterwards; RV(reboot_required) says so. The module does not reboot.
    Wait for the node with M(idmops.lifecycle.vidm_health) after the reboot.
  - In a cluster, upgrade one node at a time, the node kept in the load balancer first (internal
    PostgreSQL - the pgpool primary, see M(idmops.lifecycle.vidm_cluster_info)).
author:
  - idmops.lifecycle maintainers (@idmops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the version and the free space and checks the bundle, then reports the plan in RV(plan)
        and RV(msg). No update command runs.
  diff_mode:
    support: full
    details:
      - The appliance version before and after.
  platform:
    platforms: posix
options:
  target_version:
    description:
      - The appliance version to reach, as C(vamicli) prints it, for example V(3.3.7.0).
    type: str
    required: true
  source:
    description:
      - V(online) uses the update repository configured on the appliance.
      - V(offline) installs O(bundle).
    type: str
    choices: [online, offline]
    default: online
  bundle:
    description:
      - Path of the offline update bundle on the appliance. Required with O(source=offline).
    type: path
  checksum:
    description:
      - Expected sha256 (hex) of O(bundle). Required with O(source=offline).
    type: str
  min_free_mb:
    description:
      - Free space, in MB, that O(free_space_path) must have before the upgrade starts.
    type: int
    default: 4096
  free_space_path:
    description:
      - The file system whose free space is checked.
    type: path
    default: /
  log_dir:
    description:
      - When set, a copy of O(update_log) is kept there as C(update-<UTC stamp>.log) after an upgrade
        (also after a failed one).
    type: path
  update_log:
    description:
      - The appliance's update log.
    type: path
    default: /opt/vmware/var/log/update.log
  updatemgr_path:
    description:
      - Path of C(updatemgr.hzn).
    type: path
    default: /usr/local/horizon/update/updatemgr.hzn
  update_offline_path:
    description:
      - Path of C(updateOffline.hzn).
    type: path
    default: /usr/local/horizon/update/updateOffline.hzn
  vamicli_path:
    description:
      - Path of C(vamicli).
    type: path
    default: /usr/sbin/vamicli
  df_path:
    description:
      - Path of C(df).
    type: path
    default: /bin/df
notes:
  - Take snapshots of the database and of the nodes before the upgrade; the module does not.
  - For 3.3.7 the online path is documented for a single node; use O(source=offline) in a cluster.
  - The options of C(updateOffline.hzn) other than C(-f) are not documented publicly and are not used.
seealso:
  - module: idmops.lifecycle.vidm_health
  - module: idmops.lifecycle.vidm_cluster_info
'''

EXAMPLES = r'''
- name: Upgrade the node offline from a staged bundle
  idmops.lifecycle.vidm_appliance_upgrade:
    target_version: 3.3.7.0
    source: offline
    bundle: /var/tmp/identity-manager-3.3.7.0-21173100-updaterepo.zip
    checksum: "{{ vidm_bundle_sha256 }}"
    log_dir: /var/log/idmops
  register: vidm_upgrade

- name: Reboot when the upgrade asks for it
  ansible.builtin.reboot:
    reboot_timeout: 1800
  when: vidm_upgrade.reboot_required
'''

RETURN = r'''
version:
  description: The appliance version before the task.
  returned: always
  type: str
  sample: 3.3.6.0
build:
  description: The appliance build before the task.
  returned: always
  type: str
  sample: "19203469"
target_version:
  description: O(target_version).
  returned: always
  type: str
  sample: 3.3.7.0
plan:
  description: The steps to run (empty when the node is at the target).
  returned: always
  type: list
  elements: str
  sample: [updatemgr.hzn updateinstaller, updatemgr.hzn check, updatemgr.hzn update, updatemgr.hzn check]
steps:
  description: The commands run, with C(cmd), C(rc), C(stdout), C(stderr).
  returned: always
  type: list
  elements: dict
free_mb:
  description: Free MB found on O(free_space_path).
  returned: when an upgrade was planned
  type: int
  sample: 8192
reboot_required:
  description: Whether the node must be rebooted to finish the upgrade.
  returned: always
  type: bool
  sample: true
log_file:
  description: The copy of the update log in O(log_dir), or null.
  returned: always
  type: str
  sample: /var/log/idmops/update-20261124T171500.log
msg:
  description: A one-line summary.
  returned: always
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idmops.lifecycle.plugins.module_utils._vidm_appliance import (
    ApplianceError,
    keep_log,
    upgrade,
)


def argument_spec():
    return dict(
        target_version=dict(type='str', required=True),
        source=dict(type='str', choices=['online', 'offline'], default='online'),
        bundle=dict(type='path'),
        checksum=dict(type='str'),
        min_free_mb=dict(type='int', default=4096),
        free_space_path=dict(type='path', default='/'),
        log_dir=dict(type='path'),
        update_log=dict(type='path', default='/opt/vmware/var/log/update.log'),
        updatemgr_path=dict(type='path', default='/usr/local/horizon/update/updatemgr.hzn'),
        update_offline_path=dict(type='path', default='/usr/local/horizon/update/updateOffline.hzn'),
        vamicli_path=dict(type='path', default='/usr/sbin/vamicli'),
        df_path=dict(type='path', default='/bin/df'),
    )


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[('source', 'offline', ('bundle', 'checksum'))],
        supports_check_mode=True,
    )
    params = module.params

    def run(argv):
        return module.run_command(argv, environ_update=dict(LC_ALL='C'))

    try:
        result = upgrade(run, params, check_mode=module.check_mode)
    except ApplianceError as exc:
        details = dict(exc.details)
        if details.get('steps'):
            details['log_file'] = keep_log(params['update_log'], params['log_dir'])
        module.fail_json(msg=str(exc), **details)
    diff = result.pop('diff', None)
    result['log_file'] = None
    if result['changed'] and not module.check_mode:
        result['log_file'] = keep_log(params['update_log'], params['log_dir'])
    if diff and module._diff:
        result['diff'] = diff
    module.exit_json(**result)


if __name__ == '__main__':
    main()
