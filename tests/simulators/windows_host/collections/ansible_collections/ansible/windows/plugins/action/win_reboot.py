# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only stand-in for the ansible.windows.win_reboot action on a simulated host.

The real action runs shutdown.exe and waits for the host to come back; here the host's state
(module_utils/_winsim.py) goes through a boot at once: services stop and start again, the boot
count grows and the pending file renames are done.
"""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase

from ansible_collections.ansible.windows.plugins.module_utils._winsim import Host


class ActionModule(ActionBase):
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        with Host.open(os.environ['WINSIM_STATE_DIR'], self._play_context.remote_addr) as host:
            result.update(host.reboot(dict(self._task.args), check_mode=self._task.check_mode))
        return result
