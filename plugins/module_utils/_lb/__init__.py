# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""Registry of load-balancer backends: the ``backend`` option of ``lb_pool_member`` picks one.

Each is a ``PoolBackend`` subclass in its own file. ``ensure_monitors`` is the health-monitor
counterpart of ``base.ensure_member_state`` (runbook: monitors off while a node is upgraded).
"""

from __future__ import annotations

from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.base import LBError
from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.f5 import F5Backend
from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.haproxy import HAProxyBackend
from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.nsxt import NSXTBackend


BACKENDS = {
    HAProxyBackend.name: HAProxyBackend,
    NSXTBackend.name: NSXTBackend,
    F5Backend.name: F5Backend,
}


def backend_from_params(params):
    """Build the backend selected by ``params['backend']`` from the module parameters."""
    name = params.get('backend')
    try:
        cls = BACKENDS[name]
    except KeyError:
        raise LBError('backend=%r is not supported; choose one of %s' % (name, ', '.join(sorted(BACKENDS))))
    return cls.from_params(params)


def ensure_monitors(backend, pool, monitors, monitor_paths=None, check_mode=False):
    """Detach (``disabled``) or re-attach (``enabled``) the health monitors of ``pool``.

    Returns ``changed``, ``previous_monitors`` (what was attached before: give it back as
    ``monitor_paths`` to restore) and ``monitors`` (attached after). ``enabled`` without
    ``monitor_paths`` only succeeds when monitors are attached already.
    """
    if not hasattr(backend, 'get_monitors'):
        raise LBError('monitors: the %s backend does not support turning health monitors off and on'
                      % (backend.name,))
    previous = backend.get_monitors(pool)
    if monitors == 'disabled':
        wanted = []
    elif monitor_paths:
        wanted = list(monitor_paths)
    elif previous:
        wanted = previous
    else:
        raise LBError('monitors=enabled: pool %r has no health monitor attached; give monitor_paths '
                      '(the previous_monitors of the task that disabled them)' % (pool,))
    changed = previous != wanted
    if changed and not check_mode:
        backend.set_monitors(pool, bool(wanted), wanted)
    return dict(changed=changed, previous_monitors=previous, monitors=wanted if not check_mode else previous)
