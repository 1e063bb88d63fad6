# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vm_snapshot and vm_snapshot_info through main(), with vCenter replaced at the client boundary."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.idmops.lifecycle.plugins.modules import vm_snapshot, vm_snapshot_info
from ansible_collections.idmops.lifecycle.tests.unit.plugins.modules.utils import exit_result, fail_result

CONN = dict(hostname='vc.example', username='admin', password='s3cret', validate_certs=False)


def node(name, sid, children=()):
    return SimpleNamespace(name=name, id=sid, snapshot=FakeSnapshot(sid), description='', createTime=None,
                           state='poweredOn', quiesced=False, childSnapshotList=list(children))


class FakeSnapshot:
    def __init__(self, sid):
        self._moId = 'snapshot-%d' % sid
        self.calls = []

    def RemoveSnapshot_Task(self, **kwargs):
        self.calls.append(('remove', kwargs))
        return 'task-remove-%s' % self._moId

    def RevertToSnapshot_Task(self):
        self.calls.append(('revert', {}))
        return 'task-revert-%s' % self._moId


class FakeVM:
    def __init__(self, name, roots=(), power='poweredOn', tools='guestToolsRunning'):
        self.name = name
        self.calls = []
        self.props = {'runtime.powerState': power, 'guest.toolsRunningStatus': tools}
        if roots:
            self.props['snapshot'] = SimpleNamespace(rootSnapshotList=list(roots), currentSnapshot=roots[0].snapshot)

    def CreateSnapshot_Task(self, **kwargs):
        self.calls.append(('create', kwargs))
        return 'task-create-%s' % self.name

    def RemoveAllSnapshots_Task(self):
        self.calls.append(('remove_all', {}))
        return 'task-remove-all-%s' % self.name


@pytest.fixture
def vcenter(monkeypatch):
    """Two VMs; vm1 has base(1) with child(2), vm2 none. ``state.task_errors`` fails chosen VMs' tasks."""
    state = SimpleNamespace(vms={'vm1': FakeVM('vm1', [node('base', 1, [node('child', 2)])]),
                                 'vm2': FakeVM('vm2')},
                            task_errors={}, waited=[])

    class FakeConnection:
        def __init__(self, params):
            self.si = 'si'

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def retrieve(si, objects, paths):
        return dict((vm, dict(vm.props)) for vm in objects)

    def wait_tasks(si, tasks, timeout):
        state.waited.append((dict(tasks), timeout))
        return dict((k, state.task_errors.get(k)) for k in tasks)

    for mod in (vm_snapshot, vm_snapshot_info):
        monkeypatch.setattr(mod, 'Connection', FakeConnection)
        monkeypatch.setattr(mod, 'all_vms', lambda si: list(state.vms.items()))
        monkeypatch.setattr(mod, 'retrieve', retrieve)
    monkeypatch.setattr(vm_snapshot, 'wait_tasks', wait_tasks)
    return state


def args(**over):
    a = dict(CONN)
    a.update(over)
    return a


def test_present_starts_only_missing_and_waits_all_together(vcenter):
    result = exit_result(vm_snapshot.main, args(vms=['vm1', 'vm2'], name='child', timeout=30))
    assert result['changed'] is True
    assert result['changes'] == {'vm2': 'create snapshot child'}
    assert vcenter.vms['vm2'].calls == [('create', dict(name='child', description='', memory=False, quiesce=False))]
    assert vcenter.vms['vm1'].calls == []
    assert vcenter.waited == [({'vm2': 'task-create-vm2'}, 30)]
    assert result['snapshots']['vm1']['snapshots'][0]['children'][0]['name'] == 'child'


def test_present_existing_everywhere_is_unchanged(vcenter):
    vcenter.vms['vm2'] = FakeVM('vm2', [node('base', 1)])
    result = exit_result(vm_snapshot.main, args(vms=['vm1', 'vm2'], name='base'))
    assert result['changed'] is False and vcenter.waited == []


def test_check_mode_starts_nothing(vcenter):
    result = exit_result(vm_snapshot.main, args(vms=['vm1', 'vm2'], name='new', _ansible_check_mode=True,
                                                _ansible_diff=True))
    assert result['changed'] is True and set(result['changes']) == {'vm1', 'vm2'}
    assert vcenter.vms['vm1'].calls == [] and vcenter.vms['vm2'].calls == [] and vcenter.waited == []
    assert 'base (id 1) *' in result['diff']['before']


def test_unknown_vms_fail_before_any_task(vcenter):
    result = fail_result(vm_snapshot.main, args(vms=['vm1', 'ghost', 'phantom'], name='x'))
    assert result['msg'] == 'no VM named ghost, phantom in the inventory'
    assert vcenter.vms['vm1'].calls == []


def test_duplicate_names_fail_listing_ids_unless_snapshot_id(vcenter):
    vcenter.vms['vm2'] = FakeVM('vm2', [node('base', 1, [node('base', 4)])])
    result = fail_result(vm_snapshot.main, args(vms=['vm2'], name='base', state='revert'))
    assert "2 snapshots named 'base' (ids 1, 4)" in result['msg']
    exit_result(vm_snapshot.main, args(vms=['vm2'], name='base', snapshot_id=4, state='revert'))
    inner = vcenter.vms['vm2'].props['snapshot'].rootSnapshotList[0].childSnapshotList[0]
    assert inner.snapshot.calls == [('revert', {})]


def test_absent_with_children(vcenter):
    result = exit_result(vm_snapshot.main, args(vms=['vm1', 'vm2'], name='base', state='absent',
                                                remove_children=True))
    assert result['changes'] == {'vm1': 'remove snapshot base (id 1) and its 1 descendants'}
    base = vcenter.vms['vm1'].props['snapshot'].rootSnapshotList[0]
    assert base.snapshot.calls == [('remove', dict(removeChildren=True, consolidate=True))]


def test_absent_missing_is_unchanged(vcenter):
    assert exit_result(vm_snapshot.main, args(vms=['vm1'], name='nope', state='absent'))['changed'] is False


def test_revert_to_missing_fails(vcenter):
    result = fail_result(vm_snapshot.main, args(vms=['vm1', 'vm2'], name='base', state='revert'))
    assert result['msg'] == "VM vm2 has no snapshot named 'base' to revert to"


def test_remove_all_only_where_there_are_snapshots(vcenter):
    result = exit_result(vm_snapshot.main, args(vms=['vm1', 'vm2'], state='remove_all'))
    assert result['changes'] == {'vm1': 'remove all 2 snapshots'}
    assert vcenter.vms['vm1'].calls == [('remove_all', {})] and vcenter.vms['vm2'].calls == []


def test_task_error_fails_naming_vm(vcenter):
    vcenter.task_errors['vm2'] = 'InsufficientResourcesFault: no space'
    result = fail_result(vm_snapshot.main, args(vms=['vm1', 'vm2'], name='x'))
    assert result['msg'] == 'snapshot tasks failed: vm2 (create snapshot x): InsufficientResourcesFault: no space'
    assert 'vm1' in result['snapshots']


def test_quiesce_without_tools_fails(vcenter):
    vcenter.vms['vm2'].props['guest.toolsRunningStatus'] = 'guestToolsNotRunning'
    result = fail_result(vm_snapshot.main, args(vms=['vm2'], name='q', quiesce=True))
    assert result['msg'] == 'quiesce=true needs VMware Tools running in the guest: vm2 reports guestToolsNotRunning'


def test_memory_on_powered_off_vm_fails(vcenter):
    vcenter.vms['vm2'].props['runtime.powerState'] = 'poweredOff'
    result = fail_result(vm_snapshot.main, args(vms=['vm2'], name='m', memory=True))
    assert result['msg'] == 'memory=true needs a powered-on VM: vm2 is poweredOff'


@pytest.mark.parametrize('over, msg', [
    (dict(state='present'), 'state=present needs name'),
    (dict(state='absent'), 'state=absent needs name or snapshot_id'),
    (dict(state='remove_all', memory=True), 'memory=true only applies to state=present'),
    (dict(name='x', timeout=0), 'timeout must be positive, got 0'),
])
def test_bad_options(vcenter, over, msg):
    assert fail_result(vm_snapshot.main, args(vms=['vm1'], **over))['msg'] == msg


def test_info_returns_tree_per_vm(vcenter):
    result = exit_result(vm_snapshot_info.main, args(vms=['vm1', 'vm2']))
    assert result['changed'] is False
    assert result['snapshots']['vm1']['current'] == 1
    assert result['snapshots']['vm1']['snapshots'][0]['children'][0]['path'] == 'base/child'
    assert result['snapshots']['vm2'] == {'current': None, 'snapshots': []}
