#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the work is done by the action plugin of the same name (plugins/action/).

from __future__ import annotations


DOCUMENTATION = r'''
---
module: vidm_windows_upgrade
short_description: Upgrade one VMware Identity Manager for Windows node, exporting the embedded connector first
version_added: 0.1.0
description:
  - Upgrades VMware Identity Manager for Windows on one node of a cluster by running the new installer
    silently, as the vendor's upgrade steps describe, one node at a time.
  - An action plugin. It runs on the controller and drives modules of the C(ansible.windows) collection on
    the host, so the host needs only WinRM or PSRP.
  - When O(export_config=true) (the default), first saves the embedded-connector configuration for export.
    It runs O(export_command) with O(export_password) on its standard input (never on a command line; the
    call is C(no_log)), finds the newest C(*.enc) file the export wrote into C(<install_dir>\VMwareIdentityManager)
    (named C(cluster-host-domain-conn-timestamp.enc)) and fetches it to O(export_dest) on the controller
    with M(ansible.builtin.fetch). Nothing is installed when the export fails.
  - Stages the installer at O(installer_path) (downloaded from O(installer_url) when its sha256 is not
    O(checksum)), runs it silently with O(installer_arguments) (install directory O(install_dir), CEIP
    choice O(ceip)), accepts exit codes 0 and 3010, survives the WinRM connection dropping during the
    install, and reboots only on 3010 (or a pending reboot after a dropped connection).
  - With O(service_account=domain_user), the service then runs as O(service_username) with
    O(service_password), set through M(ansible.windows.win_service) (C(no_log)) rather than as an installer
    property on a command line, and is restarted.
  - Waits until O(service_name) is running and checks that the installed version is O(target_version).
    When the node is already at O(target_version) nothing is done (C(changed=false)).
  - The SQL Server steps after the upgrade (re-enable AlwaysOn availability groups, remove C(db_owner))
    are optional tasks of the role C(idmops.lifecycle.vidm_windows_upgrade).
author:
  - idmops.lifecycle maintainers (@idmops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - idmops.lifecycle.windows_installer
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details:
      - Reads the version, the service and the staged installer and reports the plan in RV(plan); nothing is
        exported, downloaded, installed or rebooted.
  diff_mode:
    support: full
    details:
      - The installed version before and after.
  platform:
    platforms: windows
options:
  target_version:
    description:
      - The VMware Identity Manager version the installer installs, such as V(19.03.0.1).
    type: str
    required: true
  installer_arguments:
    description:
      - Arguments of the InstallShield installer. V({install_dir}) is replaced by O(install_dir), V({ceip}) by
        V(1) or V(0) (O(ceip)), V({log}) by O(log_path).
      - The names of the Windows Installer properties (C(INSTALLDIR), C(CEIP_OPTIN)) are assumptions [U];
        change them here when the release uses others.
    type: str
    default: '/s /v"/qn REBOOT=ReallySuppress INSTALLDIR=\"{install_dir}\" CEIP_OPTIN={ceip} /l*v \"{log}\""'
  install_dir:
    description:
      - The directory VMware Identity Manager is installed in (the C(VMwareIdentityManager) folder is below it).
    type: str
    default: C:\VMware
  ceip:
    description:
      - Whether the node joins VMware's Customer Experience Improvement Program.
    type: bool
    default: false
  service_name:
    description:
      - Name of the VMware Identity Manager Windows service [U].
    type: str
    default: VMware Identity Manager
  version_registry_key:
    description:
      - Registry key whose O(version_registry_value) holds the installed version [U].
    type: str
    default: HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\VMware Identity Manager
  service_account:
    description:
      - V(domain_user) runs the service as O(service_username), needed for Integrated Windows Authentication,
        Kerberos with the company's KDC and Horizon directory sync. V(local_system) leaves the installer's
        default, the local system account.
    type: str
    choices: [local_system, domain_user]
    default: local_system
  service_username:
    description:
      - The domain account, in the form C(DOMAIN\Username). Required with O(service_account=domain_user).
    type: str
  service_password:
    description:
      - The password of O(service_username). Required with O(service_account=domain_user).
    type: str
  export_config:
    description:
      - Export the embedded-connector configuration before the upgrade. Set it to V(false) when the node did not
        use the embedded connector or its configuration was exported already.
    type: bool
    default: true
  export_password:
    description:
      - The password that protects the configuration-package file; needed again when the Windows connector
        imports it. Required with O(export_config=true).
    type: str
  export_command:
    description:
      - The command that runs the migration script, which reads the password from its standard input [U].
        V({install_dir}) is replaced by O(install_dir).
      - The installer of the new release places the script in C(<install_dir>\VMwareIdentityManager\support);
        copy it there from the new media first when the old release has none.
    type: str
    default: '"{install_dir}\VMwareIdentityManager\support\migrateEmbeddedConnector.bat" export'
  export_dest:
    description:
      - Directory on the controller the C(.enc) file is fetched to. Required with O(export_config=true).
    type: path
notes:
  - Requires the C(ansible.windows) collection on the controller.
  - Upgrade the nodes of a cluster one at a time; expect some downtime of the node being upgraded.
seealso:
  - module: idmops.lifecycle.vidm_connector_upgrade
  - name: Upgrading VMware Identity Manager for Windows (VMware docs)
    description: Embedded-connector export, installer, service account, post-upgrade SQL Server steps.
    link: https://docs.vmware.com/en/VMware-Identity-Manager/3.3/vidm-windows-upgrade/GUID-upgrading-windows.html
'''

EXAMPLES = r'''
- name: Upgrade this node, keeping the embedded-connector configuration
  idmops.lifecycle.vidm_windows_upgrade:
    target_version: 19.03.0.1
    installer_path: C:\Temp\VMware-Identity-Manager-19.03.0.1.exe
    installer_url: https://media.example.com/vidm/VMware-Identity-Manager-19.03.0.1.exe
    checksum: "{{ vidm_windows_installer_sha256 }}"
    install_dir: D:\VMware
    service_account: domain_user
    service_username: CORP\svc-vidm
    service_password: "{{ vault_vidm_service_password }}"
    export_password: "{{ vault_vidm_export_password }}"
    export_dest: "{{ playbook_dir }}/exports/{{ inventory_hostname }}"
  register: node
'''

RETURN = r'''
version_before:
  description: The version read before the task.
  returned: always
  type: str
  sample: 19.03.0.0
version_after:
  description: The version after the task (in check mode, the target).
  returned: success
  type: str
target_version:
  description: O(target_version).
  returned: always
  type: str
before:
  description: C(version) before the task.
  returned: always
  type: dict
after:
  description: C(version) after the task.
  returned: success and not check mode
  type: dict
export_file:
  description: Path on the controller of the fetched configuration-package file; null when nothing was exported.
  returned: always
  type: str
  sample: /srv/exports/vidm1/cluster-vidm1-example-com-conn-20250101120000.enc
service_account:
  description: The account the service was set to run as.
  returned: when O(service_account=domain_user) and the installer ran
  type: str
installer_rc:
  description:
    - The installer's exit code (not C(rc), which Ansible would read as the task's own).
    - Null when the connection dropped during the install; the outcome was then read from the host.
  returned: always
  type: int
connection_dropped:
  description: Whether the WinRM connection dropped while the installer ran.
  returned: always
  type: bool
rebooted:
  description: Whether the host was rebooted.
  returned: always
  type: bool
reboot_reasons:
  description: Why the host was rebooted.
  returned: always
  type: list
  elements: str
service_state:
  description: The state of O(service_name) (V(started) when running).
  returned: success
  type: str
log_path:
  description: The installer's log on the host.
  returned: always
  type: str
plan:
  description: In check mode, the steps the task would take.
  returned: check mode, when an upgrade is due
  type: list
  elements: str
msg:
  description: A one-line summary, or the reason of a failure.
  returned: always
  type: str
'''
