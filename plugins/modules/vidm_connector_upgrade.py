#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the work is done by the action plugin of the same name (plugins/action/).

from __future__ import annotations


DOCUMENTATION = r'''
---
module: vidm_connector_upgrade
short_description: Upgrade the Windows VMware Identity Manager connector, rebooting only when needed
version_added: 0.1.0
description:
  - Upgrades the VMware Identity Manager (Workspace ONE Access) connector on a Windows server by running
    the new installer over the old one, as the vendor documents; configuration and activation are kept.
  - An action plugin. It runs on the controller and drives modules of the C(ansible.windows) collection on
    the host (M(ansible.windows.win_reg_stat), M(ansible.windows.win_stat), M(ansible.windows.win_get_url),
    M(ansible.windows.win_command), M(ansible.windows.win_service_info) and the
    M(ansible.windows.win_reboot) action), so the host needs only WinRM or PSRP.
  - Reads the installed connector version (O(version_registry_key), O(version_registry_value)) and the JRE
    version (the product version of C(bin\java.exe) under O(jre_path)). When the connector is at
    O(target_version) nothing is done (C(changed=false)). A newer installed version fails (the installer
    does not downgrade).
  - Stages the installer at O(installer_path), downloading it from O(installer_url) when the file there
    does not have the sha256 O(checksum). A mismatch fails before anything is installed.
  - Runs the installer silently with O(installer_arguments). Exit code 0 is success, 3010 success with a
    reboot required; any other exit code fails, naming the code and the installer log.
  - The WinRM connection may drop while the installer runs. The plugin then reconnects and polls until the
    installer process is gone (C(tasklist.exe)), bounded by O(install_timeout), and reads the outcome from
    the registry; a pending file rename (C(PendingFileRenameOperations)) then stands for exit code 3010.
  - Reboots only when the installer replaced the JRE (the runbook says the reboot points C(JAVA_HOME) at the new
    JRE) or returned 3010, then waits until the service O(service_name) is running (bounded by
    O(service_timeout)) and checks the version once more.
  - Before the upgrade, turn STARTTLS off on every Active Directory over IWA directory
    (M(idmops.lifecycle.vidm_directory)); the role C(idmops.lifecycle.vidm_connector_upgrade) does that, takes
    a snapshot and upgrades connectors one at a time so that directory sync keeps a running connector.
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
      - Reads the versions, the service and the staged installer and reports the plan in RV(plan); nothing is
        downloaded, installed or rebooted.
  diff_mode:
    support: full
    details:
      - The connector and JRE versions before and after.
  platform:
    platforms: windows
options:
  target_version:
    description:
      - The connector version the installer installs, such as V(19.03.0.1). The upgrade is done when the
        installed version differs, and fails when the installer leaves another version.
    type: str
    required: true
  installer_arguments:
    description:
      - Arguments of the InstallShield installer. V({log}) is replaced by O(log_path).
      - The default runs it silently (C(/s), Windows Installer C(/qn)), with C(REBOOT=ReallySuppress) so that
        the installer returns 3010 instead of rebooting on its own, and a verbose log.
    type: str
    default: '/s /v"/qn REBOOT=ReallySuppress /l*v \"{log}\""'
  service_name:
    description:
      - Name of the connector's Windows service ([U] "IDM Connector" in the runbook text).
    type: str
    default: IDM Connector
  version_registry_key:
    description:
      - Registry key whose O(version_registry_value) holds the installed connector version ([U], the
        Programs and Features entry).
    type: str
    default: HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\VMware Identity Manager Connector
  jre_path:
    description:
      - The JRE the connector installer manages ([U]); its version is that of C(bin\java.exe).
    type: str
    default: C:\Program Files\VMware\VMware Identity Manager\Connector\jre
notes:
  - Requires the C(ansible.windows) collection on the controller.
  - The service is only waited for, not started; the installer and the boot start it.
seealso:
  - module: idmops.lifecycle.vidm_directory
  - module: idmops.lifecycle.vidm_windows_upgrade
  - module: ansible.windows.win_reboot
  - name: Upgrading the VMware Identity Manager connector (VMware docs)
    description: Snapshot, STARTTLS off on AD over IWA, run the new installer, reboot if the JRE was upgraded.
    link: https://docs.vmware.com/en/VMware-Workspace-ONE-Access/19.03/vidm-install-connector-windows/GUID-upgrading-connector.html
'''

EXAMPLES = r'''
- name: Upgrade the connector to 19.03.0.1
  idmops.lifecycle.vidm_connector_upgrade:
    target_version: 19.03.0.1
    installer_url: https://media.example.com/vidm/VMware_Identity_Manager_Connector_19.03.0.1_Installer.exe
    installer_path: C:\Temp\VMware_Identity_Manager_Connector_19.03.0.1_Installer.exe
    checksum: sha256:4f3c9a4e1b2d0c5a6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5
  register: connector

- name: Show whether the host was rebooted and why
  ansible.builtin.debug:
    msg: "{{ connector.reboot_reasons }}"
'''

RETURN = r'''
version_before:
  description: The connector version read before the task (null when none is installed).
  returned: always
  type: str
  sample: 19.03.0.0
version_after:
  description: The connector version after the task (in check mode, the target).
  returned: success
  type: str
  sample: 19.03.0.1
target_version:
  description: O(target_version).
  returned: always
  type: str
before:
  description: C(version) and C(jre_version) before the task.
  returned: always
  type: dict
  sample: {version: 19.03.0.0, jre_version: 8.0.2020.8}
after:
  description: C(version) and C(jre_version) after the task.
  returned: success and not check mode
  type: dict
  sample: {version: 19.03.0.1, jre_version: 8.0.2820.8}
jre_changed:
  description: Whether the installer replaced the JRE.
  returned: when the installer ran
  type: bool
installer_rc:
  description:
    - The installer's exit code (not C(rc), which Ansible would read as the task's own).
    - Null when the connection dropped during the install; the outcome was then read from the host.
  returned: always
  type: int
  sample: 3010
connection_dropped:
  description: Whether the WinRM connection dropped while the installer ran.
  returned: always
  type: bool
connection_error:
  description: The error of the dropped connection.
  returned: when RV(connection_dropped) is true
  type: str
rebooted:
  description: Whether the host was rebooted.
  returned: always
  type: bool
reboot_reasons:
  description: Why the host was rebooted (JRE replaced, exit code 3010, pending reboot).
  returned: always
  type: list
  elements: str
  sample: ['the JRE changed from 8.0.2020.8 to 8.0.2820.8']
service_state:
  description: The state of O(service_name) as M(ansible.windows.win_service_info) reports it (V(started) when running).
  returned: success
  type: str
  sample: started
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
  sample: connector upgraded from 19.03.0.0 to 19.03.0.1 and rebooted (the JRE changed from 8.0.2020.8 to 8.0.2820.8)
'''
