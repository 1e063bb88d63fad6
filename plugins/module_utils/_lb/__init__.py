# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""Registry of load-balancer backends: the ``backend`` option of ``lb_pool_member`` picks one.

NSX-T and F5 register here later, each as a ``PoolBackend`` subclass in its own file.
"""

from __future__ import annotations

from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.base import LBError
from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.haproxy import HAProxyBackend


BACKENDS = {
    HAProxyBackend.name: HAProxyBackend,
}


def backend_from_params(params):
    """Build the backend selected by ``params['backend']`` from the module parameters."""
    name = params.get('backend')
    try:
        cls = BACKENDS[name]
    except KeyError:
        raise LBError('backend=%r is not supported; choose one of %s' % (name, ', '.join(sorted(BACKENDS))))
    return cls.from_params(params)
