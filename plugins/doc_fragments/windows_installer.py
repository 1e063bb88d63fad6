# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options of the Windows installer upgrades (vidm_connector_upgrade, vidm_windows_upgrade)."""

    DOCUMENTATION = r'''
options:
  installer_path:
    description:
      - Where the installer is (or is staged) on the Windows host, such as
        V(C:\\Temp\\VMware_Identity_Manager_Connector_19.03.0.1_Installer.exe) for the connector.
    type: str
    required: true
  installer_url:
    description:
      - URL the host downloads the installer from (M(ansible.windows.win_get_url)) when O(installer_path) does
        not exist or has another sha256. Without it, the installer must already be at O(installer_path).
    type: str
  checksum:
    description:
      - The sha256 of the installer (64 hex digits, optionally prefixed with V(sha256:)).
    type: str
    required: true
  validate_certs:
    description:
      - Whether the download from O(installer_url) verifies the server's TLS certificate.
    type: bool
    default: true
  log_path:
    description:
      - The installer's log file on the host. Defaults to O(installer_path) with the extension C(.log).
    type: str
  version_registry_value:
    description:
      - Registry value of O(version_registry_key) with the installed version.
    type: str
    default: DisplayVersion
  install_timeout:
    description:
      - Seconds to wait for the installer to finish after the WinRM connection dropped during the install.
    type: int
    default: 3600
  service_timeout:
    description:
      - Seconds to wait for O(service_name) to be running after the install (and the reboot).
    type: int
    default: 600
  reboot_timeout:
    description:
      - Seconds the reboot may take, passed to M(ansible.windows.win_reboot).
    type: int
    default: 1200
  wait_sleep:
    description:
      - Seconds between two polls of the host.
      - From the collection's shared wait option group.
    type: float
    default: 1.0
'''
