# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only stand-in for ansible.windows.win_stat on a simulated host (module_utils/_winsim.py)."""

from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils._winsim import run_module

if __name__ == '__main__':
    run_module('win_stat')
