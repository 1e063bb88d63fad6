# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""The load-balancer interface every backend implements, and the one state machine that uses it.

``PoolBackend`` is what a load balancer has to offer (read a member, set its administrative
state); ``ensure_member_state`` is what the ``lb_pool_member`` module does with it (compare,
change, wait, report). The module file only maps options onto ``ensure_member_state``.
"""

from __future__ import annotations

import abc
import time

from ansible_collections.idmops.lifecycle.plugins.module_utils._wait import WaitTimeout, wait_until


ADMIN_STATES = ('enabled', 'drained', 'disabled')


class LBError(Exception):
    """A load balancer refused, could not be reached, or does not know the pool or member.

    ``result`` carries what the module should still report when failing (``changed``,
    ``previous_state``, ...); it is ``None`` when nothing was changed.
    """

    def __init__(self, msg, result=None):
        super().__init__(msg)
        self.result = result


class MemberState:
    """What a load balancer says about one pool member.

    ``admin_state`` is one of ``ADMIN_STATES``: the state an operator (or this collection)
    put the member in. ``operational_status`` is the load balancer's own word for what is
    happening (for HAProxy e.g. ``UP``, ``UP 1/3``, ``DOWN``, ``DRAIN``, ``MAINT``,
    ``MAINT (via be/srv)``, ``no check``). ``current_sessions`` is the number of sessions the
    member is serving now. ``raw`` holds a few backend-specific details for the curious; it
    is not a stable interface.
    """

    __slots__ = ('admin_state', 'operational_status', 'current_sessions', 'raw')

    def __init__(self, admin_state, operational_status, current_sessions, raw=None):
        if admin_state not in ADMIN_STATES:
            raise ValueError('admin_state must be one of %s, got %r' % (', '.join(ADMIN_STATES), admin_state))
        self.admin_state = admin_state
        self.operational_status = operational_status
        self.current_sessions = int(current_sessions)
        self.raw = dict(raw or {})

    def to_dict(self):
        return dict(
            admin_state=self.admin_state,
            operational_status=self.operational_status,
            current_sessions=self.current_sessions,
            raw=dict(self.raw),
        )

    def __eq__(self, other):
        if not isinstance(other, MemberState):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __repr__(self):
        return 'MemberState(admin_state=%r, operational_status=%r, current_sessions=%r)' % (
            self.admin_state, self.operational_status, self.current_sessions)


class PoolBackend(abc.ABC):
    """One load balancer. Implementations never create or delete pools or members."""

    #: the value of the module's ``backend`` option that selects this class
    name = None

    @classmethod
    @abc.abstractmethod
    def from_params(cls, params):
        """Build an instance from the module parameters (connection options are per backend)."""

    @abc.abstractmethod
    def get_member(self, pool, member):
        """Return the ``MemberState`` of ``member`` in ``pool``.

        Raises ``LBError`` naming the pool (and member) when either is unknown.
        """

    @abc.abstractmethod
    def set_admin_state(self, pool, member, state):
        """Put ``member`` of ``pool`` into ``state``, one of ``ADMIN_STATES``. Raises ``LBError``."""

    def describe(self, pool, member):
        """How error messages name a member, e.g. ``HAProxy backend 'be' server 's1'``."""
        return "pool '%s' member '%s'" % (pool, member)

    def is_member_up(self, state):
        """True when the load balancer would send new sessions to the member (health checks passed)."""
        return state.admin_state == 'enabled' and state.operational_status == 'UP'

    def sessions_remaining(self, state):
        """Sessions still bound to a draining member; the drain is complete at 0."""
        return state.current_sessions

    def describe_sessions(self, state):
        return '%d current session(s)' % state.current_sessions

    def describe_status(self, state):
        return 'status %r' % (state.operational_status,)

    # Health monitor hooks: load balancers such as NSX-T and F5 detach monitors while a node is
    # upgraded. Backends that support it override both.
    def monitors_enabled(self, pool):
        raise NotImplementedError('%s does not support monitor toggling' % (self.name or type(self).__name__))

    def set_monitors(self, pool, enabled):
        raise NotImplementedError('%s does not support monitor toggling' % (self.name or type(self).__name__))


def _observe(state, backend):
    return '%s, %s' % (backend.describe_status(state), backend.describe_sessions(state))


def _wait_for_member(backend, pool, member, done, timeout, sleep, description, clock, pause):
    """Poll ``get_member`` through ``wait_until``; return ``(last_state, waited, timed_out)``."""
    seen = []

    def probe():
        seen.append(backend.get_member(pool, member))
        return done(seen[-1]), _observe(seen[-1], backend)

    started = clock()
    try:
        _observation, waited = wait_until(probe, timeout, sleep, description, clock=clock, pause=pause)
    except WaitTimeout:
        return seen[-1], clock() - started, True
    return seen[-1], waited, False


def ensure_member_state(backend, pool, member, state, check_mode=False, drain_timeout=300,
                        wait=True, wait_timeout=300, wait_sleep=1.0,
                        clock=time.monotonic, pause=time.sleep):
    """Bring ``member`` of ``pool`` into ``state`` and return the module result.

    * ``enabled``: set, then (when ``wait``) wait up to ``wait_timeout`` for the member to be UP.
    * ``drained``: set, then wait up to ``drain_timeout`` (0: do not wait) for its sessions to end;
      on timeout the member is left drained and ``LBError`` is raised with the session count.
    * ``disabled``: set, no wait.

    Waiting happens whether or not the state changed (the caller wants the condition, not just
    the command). Check mode only reads and never waits. Raises ``LBError``; when something was
    already changed, its ``result`` says so.
    """
    if state not in ADMIN_STATES:
        raise LBError('state must be one of %s, got %r' % (', '.join(ADMIN_STATES), state))
    who = backend.describe(pool, member)

    before = backend.get_member(pool, member)
    previous_state = before.admin_state
    changed = previous_state != state
    result = dict(
        changed=changed,
        previous_state=previous_state,
        state=state if check_mode else previous_state,
        member=before.to_dict(),
        waited_seconds=0.0,
        diff=dict(before=dict(state=previous_state), after=dict(state=state)),
    )
    if check_mode:
        return result

    current = before
    if changed:
        backend.set_admin_state(pool, member, state)
        current = backend.get_member(pool, member)
        result.update(state=current.admin_state, member=current.to_dict())
        if current.admin_state != state:
            raise LBError('%s: the load balancer accepted the change to %s but now reports admin state %s'
                          % (who, state, current.admin_state), result=result)

    if state == 'drained' and drain_timeout > 0:
        last, waited, timed_out = _wait_for_member(
            backend, pool, member, lambda s: backend.sessions_remaining(s) == 0, drain_timeout, wait_sleep,
            'the sessions of %s to drain' % who, clock, pause)
        result.update(member=last.to_dict(), state=last.admin_state, waited_seconds=round(waited, 3))
        if timed_out:
            raise LBError('Timed out after drain_timeout=%ss: %s still has %s (status %r). It is left %s, so it '
                          'takes no new sessions.' % (drain_timeout, who, backend.describe_sessions(last),
                                                      last.operational_status, last.admin_state),
                          result=result)

    elif state == 'enabled' and wait:
        last, waited, timed_out = _wait_for_member(
            backend, pool, member, backend.is_member_up, wait_timeout, wait_sleep,
            '%s to be UP' % who, clock, pause)
        result.update(member=last.to_dict(), state=last.admin_state, waited_seconds=round(waited, 3))
        if timed_out:
            raise LBError('Timed out after wait_timeout=%ss: %s is %s but not UP (last seen: %s).'
                          % (wait_timeout, who, last.admin_state, _observe(last, backend)),
                          result=result)

    return result
