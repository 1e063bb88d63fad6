# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""_vsphere: tree walk, lookups with duplicates, task wait (objects stand in for pyVmomi's)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.idmops.lifecycle.plugins.module_utils import _vsphere
from ansible_collections.idmops.lifecycle.plugins.module_utils._vsphere import VSphereError


def node(name, sid, children=(), description=''):
    return SimpleNamespace(name=name, id=sid, snapshot=SimpleNamespace(_moId='snapshot-%d' % sid),
                           description=description, createTime=None, state='poweredOn', quiesced=False,
                           childSnapshotList=list(children))


def tree():
    """base(1) > child(2) > grandchild(3); base > sibling(4); second root other(5) > base(6)."""
    grandchild = node('grandchild', 3)
    child = node('child', 2, [grandchild])
    sibling = node('sibling', 4)
    base = node('base', 1, [child, sibling])
    dup = node('base', 6)
    other = node('other', 5, [dup])
    return SimpleNamespace(rootSnapshotList=[base, other], currentSnapshot=grandchild.snapshot)


def test_walk_is_preorder_over_nested_and_sibling_branches():
    walked = [(n.name, p.name if p else None, d) for n, p, d in _vsphere.walk(tree().rootSnapshotList)]
    assert walked == [('base', None, 0), ('child', 'base', 1), ('grandchild', 'child', 2),
                      ('sibling', 'base', 1), ('other', None, 0), ('base', 'other', 1)]


def test_walk_of_no_snapshots():
    assert list(_vsphere.walk(_vsphere.snapshot_roots(None))) == []


def test_tree_dict_nests_and_marks_current():
    data = _vsphere.tree_dict(tree())
    assert data['current'] == 3
    base = data['snapshots'][0]
    assert [c['name'] for c in base['children']] == ['child', 'sibling']
    grandchild = base['children'][0]['children'][0]
    assert grandchild['current'] is True and grandchild['path'] == 'base/child/grandchild'
    assert base['current'] is False and base['moid'] == 'snapshot-1'
    assert _vsphere.tree_dict(None) == {'current': None, 'snapshots': []}


def test_tree_lines_indent_and_mark():
    assert _vsphere.tree_lines(tree())[:3] == ['base (id 1)', '  child (id 2)', '    grandchild (id 3) *']


def test_find_unique_name():
    assert _vsphere.find_snapshot(tree(), 'vm1', 'sibling').id == 4
    assert _vsphere.find_snapshot(tree(), 'vm1', 'missing') is None


def test_find_duplicate_name_fails_listing_ids():
    with pytest.raises(VSphereError, match=r"vm1 has 2 snapshots named 'base' \(ids 1, 6\).*snapshot_id"):
        _vsphere.find_snapshot(tree(), 'vm1', 'base')


def test_snapshot_id_picks_one_of_the_duplicates():
    assert _vsphere.find_snapshot(tree(), 'vm1', 'base', 6).id == 6
    assert _vsphere.find_snapshot(tree(), 'vm1', None, 2).name == 'child'
    assert _vsphere.find_snapshot(tree(), 'vm1', 'child', 3) is None


def test_parent_and_subtree():
    t = tree()
    child = _vsphere.find_snapshot(t, 'vm1', 'child')
    assert _vsphere.parent_of(t, child).name == 'base'
    assert [n.name for n in _vsphere.subtree(t.rootSnapshotList[0])] == ['base', 'child', 'grandchild', 'sibling']


def test_find_vms_lists_every_unknown_name():
    inventory = [('am1', 'vm-1'), ('vidm1', 'vm-2')]
    assert _vsphere.find_vms(inventory, ['vidm1']) == {'vidm1': 'vm-2'}
    with pytest.raises(VSphereError, match='no VM named nope, zzz in the inventory'):
        _vsphere.find_vms(inventory, ['zzz', 'am1', 'nope'])


def test_find_vms_refuses_ambiguous_vm_names():
    inventory = [('am1', SimpleNamespace(_moId='vm-1')), ('am1', SimpleNamespace(_moId='vm-9'))]
    with pytest.raises(VSphereError, match='more than one VM is named am1: am1: vm-1, vm-9'):
        _vsphere.find_vms(inventory, ['am1'])


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def reader(script):
    """A stand-in for ``retrieve`` that answers task states from ``script`` (one dict per poll)."""
    calls = []

    def read(si, objects, paths):
        assert paths == ['info.state', 'info.error']
        calls.append(list(objects))
        answer = script[min(len(calls), len(script)) - 1]
        return dict((obj, answer.get(obj, {'info.state': 'running'})) for obj in objects)
    read.calls = calls
    return read


def test_wait_tasks_all_succeed_and_polls_only_pending():
    clock = Clock()
    read = reader([{'t1': {'info.state': 'success'}},
                   {'t2': {'info.state': 'success'}}])
    result = _vsphere.wait_tasks(None, {'vm1': 't1', 'vm2': 't2'}, 10, sleep=1, read=read,
                                 clock=clock, pause=clock.sleep)
    assert result == {'vm1': None, 'vm2': None}
    assert read.calls == [['t1', 't2'], ['t2']]


def test_wait_tasks_reports_error_message():
    fault = SimpleNamespace(msg='snapshot hierarchy is too deep')
    read = reader([{'t1': {'info.state': 'error', 'info.error': SimpleNamespace(fault=fault)},
                    't2': {'info.state': 'success'}}])
    result = _vsphere.wait_tasks(None, {'vm1': 't1', 'vm2': 't2'}, 10, read=read)
    assert result['vm2'] is None
    assert 'snapshot hierarchy is too deep' in result['vm1']


def test_wait_tasks_timeout_names_running_tasks():
    clock = Clock()
    read = reader([{'t1': {'info.state': 'success'}}])
    with pytest.raises(VSphereError, match=r'tasks still running after 5s for vm2'):
        _vsphere.wait_tasks(None, {'vm1': 't1', 'vm2': 't2'}, 5, sleep=1, read=read, clock=clock, pause=clock.sleep)
    assert clock.now == 5


def params(**over):
    p = dict(hostname='vc.example', username='admin', password='s3cret', port=443, validate_certs=True,
             connect_timeout=30)
    p.update(over)
    return p


def test_connection_passes_options_and_logs_out():
    seen = {}

    def connect(**kwargs):
        seen.update(kwargs)
        return 'si'
    out = []
    with _vsphere.Connection(params(validate_certs=False), connect=connect, disconnect=out.append) as conn:
        assert conn.si == 'si'
    assert seen['disableSslCertValidation'] is True and seen['port'] == 443 and seen['pwd'] == 's3cret'
    assert out == ['si']


def test_connection_bad_login_is_clear_and_hides_password():
    def connect(**kwargs):
        raise _vsphere.vim.fault.InvalidLogin()
    with pytest.raises(VSphereError) as err:
        with _vsphere.Connection(params(), connect=connect):
            pass
    assert 'vc.example:443 as admin failed: invalid user name or password' in str(err.value)
    assert 's3cret' not in str(err.value)


def test_connection_certificate_hint():
    def connect(**kwargs):
        raise OSError('[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed')
    with pytest.raises(VSphereError, match='validate_certs=false'):
        with _vsphere.Connection(params(), connect=connect):
            pass
