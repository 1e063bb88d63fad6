# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""vCenter access for the VM snapshot modules, with pyVmomi.

One connection option group (``vsphere_argument_spec``), VMs found by name, the snapshot tree of
a VM read and walked (nested and sibling branches), a snapshot found by name or id with duplicate
detection, and a task wait that polls ``info.state``/``info.error`` with a bound.

Properties are read with ``RetrievePropertiesEx`` and an unset property (``snapshot`` of a VM
without snapshots) reads as ``None``; tasks are polled on the two paths ``info.state`` and
``info.error`` only, never as a whole ``info`` (pyVmomi's ``WaitForTask`` reads all of it).
"""

from __future__ import annotations

import time
import traceback

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.idmops.lifecycle.plugins.module_utils._wait import WaitTimeout, wait_until

PYVMOMI_IMPORT_ERROR = None
try:
    from pyVmomi import vim, vmodl  # noqa: F401 pylint: disable=unused-import
    from pyVim.connect import Disconnect, SmartConnect
except ImportError:
    PYVMOMI_IMPORT_ERROR = traceback.format_exc()
    vim = vmodl = SmartConnect = Disconnect = None


def vsphere_argument_spec():
    """The vCenter connection options every vSphere module of this collection takes."""
    return dict(
        hostname=dict(type='str', required=True, fallback=(env_fallback, ['VMWARE_HOST'])),
        username=dict(type='str', required=True, fallback=(env_fallback, ['VMWARE_USER'])),
        password=dict(type='str', required=True, no_log=True, fallback=(env_fallback, ['VMWARE_PASSWORD'])),
        port=dict(type='int', default=443, fallback=(env_fallback, ['VMWARE_PORT'])),
        validate_certs=dict(type='bool', default=True, fallback=(env_fallback, ['VMWARE_VALIDATE_CERTS'])),
        connect_timeout=dict(type='int', default=30),
    )


class VSphereError(Exception):
    """A vCenter call or a lookup failed; the message says what and where."""


def require_pyvmomi(module):
    if PYVMOMI_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib('pyVmomi'), exception=PYVMOMI_IMPORT_ERROR)


def fault_message(fault):
    """A readable message for a vmodl fault (or any exception)."""
    msg = getattr(fault, 'msg', None) or getattr(fault, 'localizedMessage', None)
    name = type(fault).__name__
    if msg:
        return '%s: %s' % (name, msg)
    return name if not str(fault) else '%s: %s' % (name, fault)


class Connection:
    """A logged-in vCenter session; use as a context manager so it always logs out."""

    def __init__(self, params, connect=None, disconnect=None):
        self.params = params
        self._connect = connect or SmartConnect
        self._disconnect = disconnect or Disconnect
        self.si = None

    @property
    def where(self):
        return '%s:%s' % (self.params['hostname'], self.params['port'])

    def __enter__(self):
        p = self.params
        if p['connect_timeout'] <= 0:
            raise VSphereError('connect_timeout must be positive, got %s' % p['connect_timeout'])
        try:
            self.si = self._connect(host=p['hostname'], user=p['username'], pwd=p['password'], port=p['port'],
                                    disableSslCertValidation=not p['validate_certs'],
                                    connectionPoolTimeout=p['connect_timeout'])
        except Exception as exc:  # pylint: disable=broad-except
            if vim is not None and isinstance(exc, vim.fault.InvalidLogin):
                raise VSphereError('login to vCenter %s as %s failed: invalid user name or password'
                                   % (self.where, p['username']))
            text = str(exc)
            hint = ''
            if 'CERTIFICATE_VERIFY_FAILED' in text:
                hint = ' (the server certificate is not trusted; validate_certs=false skips the check)'
            raise VSphereError('cannot connect to vCenter %s: %s%s' % (self.where, fault_message(exc), hint))
        return self

    def __exit__(self, *exc):
        if self.si is not None:
            try:
                self._disconnect(self.si)
            except Exception:  # pylint: disable=broad-except
                pass
        return False


def retrieve(si, objects, paths):
    """``{obj: {path: value}}`` for the given managed objects, with ``RetrievePropertiesEx``.

    An unset property is absent from the answer (read it with ``.get``).
    """
    objects = list(objects)
    if not objects:
        return {}
    pc = si.content.propertyCollector
    PC = vmodl.query.PropertyCollector
    types_ = {}
    for obj in objects:
        types_.setdefault(type(obj), obj)
    spec = PC.FilterSpec(
        objectSet=[PC.ObjectSpec(obj=obj, skip=False) for obj in objects],
        propSet=[PC.PropertySpec(type=t, pathSet=list(paths), all=False) for t in types_],
    )
    out = dict((obj, {}) for obj in objects)
    result = pc.RetrievePropertiesEx([spec], PC.RetrieveOptions())
    while result is not None:
        for content in result.objects or []:
            props = out.setdefault(content.obj, {})
            for prop in content.propSet or []:
                props[prop.name] = prop.val
        token = getattr(result, 'token', None)
        result = pc.ContinueRetrievePropertiesEx(token) if token else None
    return out


def all_vms(si):
    """``[(name, vm)]`` of every VM in the inventory."""
    content = si.content
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    try:
        vms = list(view.view)
    finally:
        view.Destroy()
    props = retrieve(si, vms, ['name'])
    return [(props.get(vm, {}).get('name'), vm) for vm in vms]


def find_vms(inventory, names):
    """``{name: vm}`` for ``names`` from ``[(name, vm)]``; fails naming every unknown or ambiguous name."""
    by_name = {}
    for name, vm in inventory:
        by_name.setdefault(name, []).append(vm)
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise VSphereError('no VM named %s in the inventory' % ', '.join(sorted(set(unknown))))
    ambiguous = sorted(set(n for n in names if len(by_name[n]) > 1))
    if ambiguous:
        raise VSphereError('more than one VM is named %s: %s' % (
            ', '.join(ambiguous),
            '; '.join('%s: %s' % (n, ', '.join(moid(vm) for vm in by_name[n])) for n in ambiguous)))
    return dict((n, by_name[n][0]) for n in names)


def moid(obj):
    return getattr(obj, '_moId', None) or str(obj)


def walk(nodes, parent=None, depth=0):
    """Pre-order walk of a snapshot tree list: yields ``(node, parent_node, depth)``."""
    for node in nodes or []:
        yield node, parent, depth
        yield from walk(node.childSnapshotList, node, depth + 1)


def snapshot_roots(info):
    """The root list of a ``vim.vm.SnapshotInfo`` (``None`` for a VM without snapshots)."""
    return list(info.rootSnapshotList or []) if info is not None else []


def current_ref(info):
    return getattr(info, 'currentSnapshot', None) if info is not None else None


def _iso(value):
    if value is None:
        return None
    return value.isoformat() if hasattr(value, 'isoformat') else str(value)


def tree_dict(info):
    """The snapshot tree as plain data: ``{'current': id or None, 'snapshots': [nested dicts]}``."""
    current = current_ref(info)

    def node_dict(node, path):
        here = path + [node.name]
        return dict(
            name=node.name,
            id=node.id,
            moid=moid(node.snapshot),
            description=node.description or '',
            create_time=_iso(node.createTime),
            state=str(node.state) if node.state is not None else None,
            quiesced=bool(node.quiesced),
            current=current is not None and node.snapshot == current,
            path='/'.join(here),
            children=[node_dict(child, here) for child in node.childSnapshotList or []],
        )

    roots = snapshot_roots(info)
    current_id = None
    for node, dummy_parent, dummy_depth in walk(roots):
        if current is not None and node.snapshot == current:
            current_id = node.id
    return dict(current=current_id, snapshots=[node_dict(node, []) for node in roots])


def tree_lines(info):
    """One line per snapshot, indented by depth, ``*`` marking the current one (for diffs)."""
    current = current_ref(info)
    lines = []
    for node, dummy_parent, depth in walk(snapshot_roots(info)):
        mark = ' *' if current is not None and node.snapshot == current else ''
        lines.append('%s%s (id %s)%s' % ('  ' * depth, node.name, node.id, mark))
    return lines


def find_snapshot(info, vm_name, name=None, snapshot_id=None):
    """The tree node named ``name`` and/or with id ``snapshot_id``, or ``None``.

    Several snapshots with the name and no ``snapshot_id`` is an error naming their ids.
    """
    matches = []
    for node, parent, depth in walk(snapshot_roots(info)):
        if snapshot_id is not None and node.id != snapshot_id:
            continue
        if name is not None and node.name != name:
            continue
        matches.append(node)
    if len(matches) > 1:
        raise VSphereError('VM %s has %d snapshots named %r (ids %s): set snapshot_id to pick one'
                           % (vm_name, len(matches), name, ', '.join(str(n.id) for n in matches)))
    return matches[0] if matches else None


def parent_of(info, target):
    for node, parent, depth in walk(snapshot_roots(info)):
        if node.snapshot == target.snapshot:
            return parent
    return None


def subtree(node):
    return [n for n, dummy_parent, dummy_depth in walk([node])]


TASK_DONE = ('success', 'error')


def wait_tasks(si, tasks, timeout, sleep=0.5, read=None, clock=time.monotonic, pause=time.sleep):
    """Wait for every task of ``{key: task}`` under one deadline; ``{key: error message or None}``.

    Polls only ``info.state`` and ``info.error``. A timeout raises ``VSphereError`` naming the
    keys still running.
    """
    read = read or retrieve
    states = dict((key, None) for key in tasks)
    errors = {}

    def probe():
        pending = [key for key in tasks if states[key] not in TASK_DONE]
        props = read(si, [tasks[key] for key in pending], ['info.state', 'info.error'])
        for key in pending:
            got = props.get(tasks[key], {})
            state = got.get('info.state')
            states[key] = str(state) if state is not None else None
            if states[key] == 'error':
                err = got.get('info.error')
                errors[key] = fault_message(getattr(err, 'fault', None) or err) if err is not None else 'task failed'
        still = sorted(key for key in tasks if states[key] not in TASK_DONE)
        return not still, still

    try:
        wait_until(probe, timeout, sleep=sleep, description='vCenter tasks', clock=clock, pause=pause)
    except WaitTimeout as exc:
        raise VSphereError('tasks still running after %ss for %s' % (timeout, ', '.join(map(str, exc.last or []))))
    return dict((key, errors.get(key)) for key in tasks)
