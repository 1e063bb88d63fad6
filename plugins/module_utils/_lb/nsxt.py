# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""VMware NSX-T load balancer through the Policy API (basic authentication).

* ``GET /policy/api/v1/infra/lb-pools/<pool>``: the pool, with ``members`` (``display_name``,
  ``ip_address``, ``port``, ``admin_state`` ENABLED | DISABLED | GRACEFUL_DISABLED),
  ``active_monitor_paths`` and ``_revision``.
* ``PATCH`` of the same path with the whole ``members`` list (or ``active_monitor_paths``) and the
  ``_revision`` that was read: a stale revision is answered with HTTP 412, and the
  read-modify-write is then retried (``MAX_ATTEMPTS`` in all).
* ``GET /policy/api/v1/infra/lb-services/<svc>/lb-pools/<pool>/statistics?source=realtime``:
  ``results[].statistics.members[]`` with ``ip_address``, ``port`` and
  ``statistics.current_sessions``; read only when ``nsxt_lb_service`` is given.

A member is named by its ``display_name``, or as ``ip_address:port``.
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.base import LBError, MemberState, PoolBackend
from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.http import JSONClient, LBHTTPError


API = '/policy/api/v1/infra'
MAX_ATTEMPTS = 5

TO_NSXT = {'enabled': 'ENABLED', 'drained': 'GRACEFUL_DISABLED', 'disabled': 'DISABLED'}
FROM_NSXT = dict((v, k) for k, v in TO_NSXT.items())


def _seg(value):
    return quote(str(value), safe='')


class NSXTBackend(PoolBackend):
    """``pool`` is a Policy API pool id, ``member`` a member's ``display_name`` or ``ip:port``."""

    name = 'nsxt'

    def __init__(self, client, lb_service=None, max_attempts=MAX_ATTEMPTS):
        self.client = client
        self.lb_service = lb_service
        self.max_attempts = max_attempts

    @classmethod
    def from_params(cls, params):
        return cls(JSONClient.from_params(params), lb_service=params.get('nsxt_lb_service'))

    def describe(self, pool, member):
        return "NSX-T pool '%s' member '%s'" % (pool, member)

    def _pool_path(self, pool):
        return '%s/lb-pools/%s' % (API, _seg(pool))

    def _get_pool(self, pool):
        try:
            return self.client.request('GET', self._pool_path(pool)) or {}
        except LBHTTPError as exc:
            if exc.status == 404:
                raise LBError('pool=%r: NSX-T has no load-balancer pool with that id (%s)' % (pool, exc))
            raise

    @staticmethod
    def _find(data, pool, member):
        members = data.get('members') or []
        for index, item in enumerate(members):
            if item.get('display_name') == member or '%s:%s' % (item.get('ip_address'), item.get('port')) == member:
                return index, item
        known = ', '.join(sorted(str(m.get('display_name') or m.get('ip_address')) for m in members))
        raise LBError('member=%r: NSX-T pool %r has no member with that display_name or ip:port (its members: %s)'
                      % (member, pool, known or 'none'))

    def _sessions(self, pool, item):
        if not self.lb_service:
            return 0, False
        path = '%s/lb-services/%s/lb-pools/%s/statistics?source=realtime' % (API, _seg(self.lb_service), _seg(pool))
        data = self.client.request('GET', path) or {}
        total = 0
        for result in data.get('results') or []:
            for stat in (result.get('statistics') or {}).get('members') or []:
                if stat.get('ip_address') == item.get('ip_address') and \
                        str(stat.get('port', '')) == str(item.get('port', '')):
                    total += int((stat.get('statistics') or {}).get('current_sessions') or 0)
        return total, True

    def get_member(self, pool, member):
        data = self._get_pool(pool)
        _index, item = self._find(data, pool, member)
        nsxt_state = item.get('admin_state', 'ENABLED')
        if nsxt_state not in FROM_NSXT:
            raise LBError('%s: unknown admin_state %r' % (self.describe(pool, member), nsxt_state))
        sessions, known = self._sessions(pool, item)
        return MemberState(FROM_NSXT[nsxt_state], nsxt_state, sessions, raw=dict(
            ip_address=item.get('ip_address'), port=item.get('port'), revision=data.get('_revision'),
            sessions_known=known))

    def is_member_up(self, state):
        """The Policy API pool object has no health status: ENABLED is as far as it tells."""
        return state.admin_state == 'enabled'

    def _patch_pool(self, pool, what, change):
        """Read the pool, apply ``change(data)`` -> body or ``None``, PATCH with ``_revision``; retry on 412."""
        for _attempt in range(self.max_attempts):
            data = self._get_pool(pool)
            body = change(data)
            if body is None:
                return
            body['_revision'] = data.get('_revision')
            try:
                self.client.request('PATCH', self._pool_path(pool), body)
                return
            except LBHTTPError as exc:
                if exc.status != 412:
                    raise
        raise LBError('NSX-T pool %r changed under us while setting %s: HTTP 412 (stale _revision) %d times in a '
                      'row; giving up' % (pool, what, self.max_attempts))

    def set_admin_state(self, pool, member, state):
        if state not in TO_NSXT:
            raise LBError('state must be one of %s, got %r' % (', '.join(TO_NSXT), state))

        def change(data):
            index, _item = self._find(data, pool, member)
            members = [dict(m) for m in data.get('members') or []]
            members[index]['admin_state'] = TO_NSXT[state]
            return dict(members=members)

        self._patch_pool(pool, "member %r admin_state=%s" % (member, TO_NSXT[state]), change)

    def get_monitors(self, pool):
        return list(self._get_pool(pool).get('active_monitor_paths') or [])

    def monitors_enabled(self, pool):
        return bool(self.get_monitors(pool))

    def set_monitors(self, pool, enabled, paths=None):
        wanted = list(paths or []) if enabled else []
        if enabled and not wanted:
            raise LBError('NSX-T pool %r: give the monitor paths to restore (monitor_paths)' % (pool,))
        self._patch_pool(pool, 'active_monitor_paths', lambda data: dict(active_monitor_paths=wanted))
