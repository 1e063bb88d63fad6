# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Give a VM on the lab's vcsim a second snapshot with an existing name (vm_snapshot refuses to)."""

from __future__ import annotations

import os
import sys
import time

from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl


def main():
    port, vm_name, snap_name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    si = SmartConnect(host='127.0.0.1', port=port, user='lab', pwd=os.environ['VCSIM_PASSWORD'],
                      disableSslCertValidation=True)
    try:
        view = si.content.viewManager.CreateContainerView(si.content.rootFolder, [vim.VirtualMachine], True)
        vm = [v for v in view.view if v.name == vm_name][0]
        task = vm.CreateSnapshot_Task(name=snap_name, description='duplicate', memory=False, quiesce=False)
        pc = si.content.propertyCollector
        PC = vmodl.query.PropertyCollector
        spec = PC.FilterSpec(objectSet=[PC.ObjectSpec(obj=task)],
                             propSet=[PC.PropertySpec(type=vim.Task, pathSet=['info.state'])])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            res = pc.RetrievePropertiesEx([spec], PC.RetrieveOptions())
            state = res.objects[0].propSet[0].val
            if state in ('success', 'error'):
                print(state)
                return 0 if state == 'success' else 1
            time.sleep(0.2)
        return 1
    finally:
        Disconnect(si)


if __name__ == '__main__':
    sys.exit(main())
