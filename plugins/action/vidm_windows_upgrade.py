# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of idmops.lifecycle.vidm_windows_upgrade (documentation in plugins/modules/).

The same controller-side driver as vidm_connector_upgrade, with the VMware Identity Manager for
Windows node upgrade of plugins/module_utils/_windows_upgrade.py.
"""

from __future__ import annotations

from ansible_collections.idmops.lifecycle.plugins.action.vidm_connector_upgrade import WindowsUpgradeAction
from ansible_collections.idmops.lifecycle.plugins.module_utils._windows_upgrade import (
    WINDOWS_NODE_ARGUMENT_SPEC,
    WINDOWS_NODE_REQUIRED_IF,
    WindowsNodeUpgrade,
)


class ActionModule(WindowsUpgradeAction):
    ARGUMENT_SPEC = WINDOWS_NODE_ARGUMENT_SPEC
    REQUIRED_IF = WINDOWS_NODE_REQUIRED_IF
    UPGRADE = WindowsNodeUpgrade
