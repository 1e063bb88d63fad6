# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""F5 BIG-IP LTM through iControl REST (basic authentication).

* ``GET /mgmt/tm/ltm/pool/~<partition>~<pool>/members/~<partition>~<member>``: ``session``
  (``user-enabled``, ``monitor-enabled`` or ``user-disabled``) and ``state`` (``up``, ``down``,
  ``unchecked``, ``user-down``).
* ``PATCH`` of the same path: enabled is ``session=user-enabled, state=user-up``; drained (no new
  sessions, existing ones continue) is ``session=user-disabled, state=user-up``; disabled (forced
  offline) is ``session=user-disabled, state=user-down``.
* ``GET .../members/~<partition>~<member>/stats``: ``serverside.curConns`` of the member.
* ``GET/PATCH /mgmt/tm/ltm/pool/~<partition>~<pool>``: the pool's ``monitor`` (e.g.
  ``/Common/http and /Common/tcp``); ``none`` detaches every monitor.

A member is named as BIG-IP names it, usually ``address:port`` (``10.0.0.11:443``).
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.base import LBError, MemberState, PoolBackend
from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.http import JSONClient, LBHTTPError


API = '/mgmt/tm/ltm/pool'
NO_MONITOR = 'none'

TO_F5 = {
    'enabled': dict(session='user-enabled', state='user-up'),
    'drained': dict(session='user-disabled', state='user-up'),
    'disabled': dict(session='user-disabled', state='user-down'),
}
UP_STATES = ('up', 'unchecked')


def admin_state_from(session, state):
    if state == 'user-down':
        return 'disabled'
    if session == 'user-disabled':
        return 'drained'
    return 'enabled'


def _find_counter(node, name):
    """Depth-first search of a stats answer (``entries`` / ``nestedStats``) for ``name``'s value."""
    if isinstance(node, dict):
        if name in node and isinstance(node[name], dict) and 'value' in node[name]:
            return node[name]['value']
        for value in node.values():
            found = _find_counter(value, name)
            if found is not None:
                return found
    return None


class F5Backend(PoolBackend):
    """``pool`` and ``member`` are names in ``partition`` (default ``Common``)."""

    name = 'f5'

    def __init__(self, client, partition='Common'):
        self.client = client
        self.partition = partition or 'Common'

    @classmethod
    def from_params(cls, params):
        return cls(JSONClient.from_params(params), partition=params.get('partition'))

    def describe(self, pool, member):
        return "F5 pool '/%s/%s' member '%s'" % (self.partition, pool, member)

    def _name(self, name):
        return quote('~%s~%s' % (self.partition, name), safe='~:')

    def _pool_path(self, pool):
        return '%s/%s' % (API, self._name(pool))

    def _member_path(self, pool, member):
        return '%s/members/%s' % (self._pool_path(pool), self._name(member))

    def _request(self, method, path, pool, member=None, body=None):
        try:
            return self.client.request(method, path, body) or {}
        except LBHTTPError as exc:
            if exc.status != 404:
                raise
            if member is None:
                raise LBError('pool=%r: BIG-IP has no pool of that name in partition %r (%s)'
                              % (pool, self.partition, exc))
        # a 404 for a member: tell an unknown pool from an unknown member
        self._request('GET', self._pool_path(pool), pool)
        raise LBError('member=%r: BIG-IP pool /%s/%s has no member of that name' % (member, self.partition, pool))

    def get_member(self, pool, member):
        data = self._request('GET', self._member_path(pool, member), pool, member)
        stats = self._request('GET', self._member_path(pool, member) + '/stats', pool, member)
        conns = _find_counter(stats, 'serverside.curConns')
        session, state = data.get('session', ''), data.get('state', '')
        return MemberState(admin_state_from(session, state), state, int(conns or 0), raw=dict(
            session=session, state=state, address=data.get('address')))

    def is_member_up(self, state):
        return state.admin_state == 'enabled' and state.operational_status in UP_STATES

    def describe_sessions(self, state):
        return '%d current connection(s)' % state.current_sessions

    def set_admin_state(self, pool, member, state):
        if state not in TO_F5:
            raise LBError('state must be one of %s, got %r' % (', '.join(TO_F5), state))
        self._request('PATCH', self._member_path(pool, member), pool, member, body=dict(TO_F5[state]))

    def get_monitors(self, pool):
        monitor = (self._request('GET', self._pool_path(pool), pool).get('monitor') or '').strip()
        if monitor in ('', NO_MONITOR):
            return []
        if monitor.startswith('min '):  # "min 1 of { /Common/http /Common/tcp }" stays one rule
            return [monitor]
        return [part.strip() for part in monitor.split(' and ') if part.strip()]

    def monitors_enabled(self, pool):
        return bool(self.get_monitors(pool))

    def set_monitors(self, pool, enabled, paths=None):
        wanted = ' and '.join(paths or []) if enabled else NO_MONITOR
        if enabled and not paths:
            raise LBError('F5 pool %r: give the monitors to restore (monitor_paths)' % (pool,))
        self._request('PATCH', self._pool_path(pool), pool, body=dict(monitor=wanted))
