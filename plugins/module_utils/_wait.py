# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""One polling helper and one option group for every module that waits.

Drain waits, readiness waits and health waits all go through ``wait_until`` so that
each waiting step has a stated bound and its timeout appears in the error message.
"""

from __future__ import annotations

import time


WAIT_ARGUMENT_SPEC = dict(
    wait=dict(type='bool', default=True),
    wait_timeout=dict(type='int', default=300),
    wait_sleep=dict(type='float', default=1.0),
)


class WaitTimeout(Exception):
    """The condition was not met within the bound; ``last`` is the final observation."""

    def __init__(self, description, timeout, last=None):
        self.description = description
        self.timeout = timeout
        self.last = last
        detail = '' if last is None else ' (last seen: %s)' % (last,)
        super().__init__('timed out after %ss waiting for %s%s' % (timeout, description, detail))


def wait_until(probe, timeout, sleep=1.0, description='condition', clock=time.monotonic, pause=time.sleep):
    """Call ``probe()`` until it returns ``(True, observation)`` or ``timeout`` seconds pass.

    ``probe`` returns ``(done, observation)``; the observation is kept so a timeout can say
    what was last seen. Returns ``(observation, seconds_waited)``.
    """
    if timeout < 0:
        raise ValueError('timeout must be zero or positive, got %r' % (timeout,))
    started = clock()
    deadline = started + timeout
    while True:
        done, observation = probe()
        now = clock()
        if done:
            return observation, now - started
        if now >= deadline:
            raise WaitTimeout(description, timeout, observation)
        pause(min(sleep, max(deadline - now, 0)))
