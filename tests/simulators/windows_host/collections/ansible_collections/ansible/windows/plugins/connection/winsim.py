# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only connection to a simulated Windows host (module_utils/_winsim.py)."""

from __future__ import annotations

DOCUMENTATION = """
    name: winsim
    short_description: Run modules locally against a simulated Windows host, dropping like WinRM
    description:
        - The local connection, with the simulated host's name (C(ansible_host)) in C(WINSIM_HOST) for the
          modules, and with the faults of the host's state file in C(WINSIM_STATE_DIR) raised as
          AnsibleConnectionFailure, as a WinRM connection does when the host goes away.
    author: idmops.lifecycle maintainers
    options:
        become_success_timeout:
            type: int
            default: 10
            description: As for the local connection.
            vars:
                - name: ansible_local_become_success_timeout
        become_strip_preamble:
            type: bool
            default: true
            description: As for the local connection.
            vars:
                - name: ansible_local_become_strip_preamble
    extends_documentation_fragment:
        - connection_pipelining
"""

import os

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.connection.local import Connection as LocalConnection

from ansible_collections.ansible.windows.plugins.module_utils._winsim import Host, Unreachable


class Connection(LocalConnection):
    transport = 'ansible.windows.winsim'

    def exec_command(self, cmd, in_data=None, sudoable=True):
        name = self._play_context.remote_addr
        state_dir = os.environ['WINSIM_STATE_DIR']
        os.environ['WINSIM_HOST'] = name
        try:
            with Host.open(state_dir, name) as host:
                host.before_command()
            answer = super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
            with Host.open(state_dir, name) as host:
                host.after_command()
        except Unreachable as exc:
            raise AnsibleConnectionFailure(str(exc))
        return answer
