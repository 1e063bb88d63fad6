# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/modules/lb_pool_member.py and the state machine in _lb/base.py.

Two fakes:

* ``FakeBackend`` is a ``PoolBackend`` with scripted session counts and statuses, driven with a
  fake clock, for the waiting logic (drain success and timeout, wait for UP).
* ``FakeHAProxy`` speaks the HAProxy runtime API on a real UNIX socket (one command per
  connection, answers in the 2.6 formats) and keeps admin state bits the way HAProxy does, so
  ``main()`` runs end to end through the real ``HAProxyBackend`` and transport.
"""

from __future__ import annotations

import functools
import socket
import threading

import pytest

from ansible_collections.idmops.lifecycle.plugins.module_utils._lb import base
from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.base import (
    LBError,
    MemberState,
    PoolBackend,
    ensure_member_state,
)
from ansible_collections.idmops.lifecycle.plugins.modules import lb_pool_member
from ansible_collections.idmops.lifecycle.tests.unit.plugins.modules.utils import exit_result, fail_result


# --- fakes ---------------------------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.pauses = []

    def clock(self):
        return self.now

    def pause(self, seconds):
        self.pauses.append(seconds)
        self.now += seconds


class FakeBackend(PoolBackend):
    """One member. ``sessions`` and ``statuses`` are consumed one per ``get_member`` after a
    change (the last value repeats); ``set_admin_state`` records calls."""

    name = 'fake'

    def __init__(self, admin_state='enabled', status='UP', sessions=(0,), statuses=None, pool='p', member='m'):
        self.admin_state = admin_state
        self.status = status
        self.sessions = list(sessions)
        self.statuses = list(statuses) if statuses else None
        self.pool = pool
        self.member = member
        self.reads = 0
        self.sets = []

    @classmethod
    def from_params(cls, params):
        raise AssertionError('not used')

    def _next(self, values):
        return values.pop(0) if len(values) > 1 else values[0]

    def get_member(self, pool, member):
        if pool != self.pool:
            raise LBError('pool=%r: unknown' % pool)
        if member != self.member:
            raise LBError('member=%r: unknown in %r' % (member, pool))
        self.reads += 1
        status = self.status
        if self.statuses and self.admin_state == 'enabled':
            status = self._next(self.statuses)
        return MemberState(self.admin_state, status, self._next(self.sessions))

    def set_admin_state(self, pool, member, state):
        self.sets.append((pool, member, state))
        self.admin_state = state
        self.status = {'enabled': 'UP', 'drained': 'DRAIN', 'disabled': 'MAINT'}[state]


def ensure(backend, state, clock=None, **kwargs):
    clock = clock or FakeClock()
    return ensure_member_state(backend, 'p', 'm', state, clock=clock.clock, pause=clock.pause, **kwargs)


# --- ensure_member_state: changes, idempotence, check mode ---------------------------------------

@pytest.mark.parametrize('before, after', [
    ('enabled', 'drained'), ('enabled', 'disabled'), ('drained', 'enabled'),
    ('drained', 'disabled'), ('disabled', 'enabled'), ('disabled', 'drained'),
])
def test_change(before, after):
    backend = FakeBackend(admin_state=before)
    result = ensure(backend, after)
    assert result['changed'] is True
    assert result['previous_state'] == before
    assert result['state'] == after
    assert result['member']['admin_state'] == after
    assert result['diff'] == dict(before=dict(state=before), after=dict(state=after))
    assert backend.sets == [('p', 'm', after)]


@pytest.mark.parametrize('state', ['enabled', 'drained', 'disabled'])
def test_idempotent(state):
    backend = FakeBackend(admin_state=state, status={'enabled': 'UP', 'drained': 'DRAIN', 'disabled': 'MAINT'}[state])
    result = ensure(backend, state)
    assert result['changed'] is False
    assert result['previous_state'] == result['state'] == state
    assert result['waited_seconds'] == 0.0
    assert backend.sets == []


@pytest.mark.parametrize('before, after, changed', [
    ('enabled', 'drained', True), ('drained', 'drained', False), ('enabled', 'disabled', True),
    ('disabled', 'enabled', True),
])
def test_check_mode_touches_nothing_and_does_not_wait(before, after, changed):
    backend = FakeBackend(admin_state=before, sessions=(5,), status='DOWN')
    clock = FakeClock()
    result = ensure(backend, after, clock=clock, check_mode=True)
    assert result['changed'] is changed
    assert result['previous_state'] == before
    assert result['state'] == after
    assert result['member']['admin_state'] == before  # what the LB says now
    assert result['member']['current_sessions'] == 5
    assert backend.sets == []
    assert backend.reads == 1
    assert clock.pauses == []
    assert result['waited_seconds'] == 0.0


# --- drain --------------------------------------------------------------------------------------

def test_drain_waits_until_sessions_reach_zero():
    backend = FakeBackend(sessions=(3, 3, 2, 1, 0))  # 1st read is before the change
    clock = FakeClock()
    result = ensure(backend, 'drained', clock=clock, drain_timeout=30, wait_sleep=2)
    assert result['changed'] is True
    assert result['member']['current_sessions'] == 0
    # after the change: read 3 (verify), then polls see 2, 1, 0 with two pauses of 2s in between
    assert clock.pauses == [2, 2]
    assert result['waited_seconds'] == 4.0
    assert result['state'] == 'drained'


def test_drain_timeout_fails_names_member_and_count_and_leaves_drained():
    backend = FakeBackend(sessions=(4, 4, 3, 2))
    clock = FakeClock()
    with pytest.raises(LBError) as exc:
        ensure(backend, 'drained', clock=clock, drain_timeout=10, wait_sleep=3)
    msg = str(exc.value)
    assert msg == ("Timed out after drain_timeout=10s: pool 'p' member 'm' still has 2 current session(s) "
                   "(status 'DRAIN'). It is left drained, so it takes no new sessions.")
    assert backend.admin_state == 'drained'
    assert backend.sets == [('p', 'm', 'drained')]  # never re-enabled
    assert exc.value.result['changed'] is True
    assert exc.value.result['previous_state'] == 'enabled'
    assert exc.value.result['state'] == 'drained'
    assert exc.value.result['member']['current_sessions'] == 2
    assert exc.value.result['waited_seconds'] == 10.0
    assert clock.pauses == [3, 3, 3, 1]  # the last pause is cut to the deadline


def test_drain_timeout_when_already_drained_reports_unchanged():
    backend = FakeBackend(admin_state='drained', status='DRAIN', sessions=(1,))
    with pytest.raises(LBError) as exc:
        ensure(backend, 'drained', drain_timeout=2, wait_sleep=1)
    assert '1 current session(s)' in str(exc.value)
    assert exc.value.result['changed'] is False
    assert backend.sets == []


def test_idempotent_drain_still_waits_for_sessions():
    backend = FakeBackend(admin_state='drained', status='DRAIN', sessions=(2, 2, 1, 0))  # 1st read: before
    clock = FakeClock()
    result = ensure(backend, 'drained', clock=clock, drain_timeout=60, wait_sleep=5)
    assert result['changed'] is False
    assert result['waited_seconds'] == 10.0
    assert result['member']['current_sessions'] == 0
    assert backend.sets == []


def test_drain_timeout_zero_does_not_wait():
    backend = FakeBackend(sessions=(7,))
    clock = FakeClock()
    result = ensure(backend, 'drained', clock=clock, drain_timeout=0)
    assert result['changed'] is True
    assert result['member']['current_sessions'] == 7
    assert result['waited_seconds'] == 0.0
    assert clock.pauses == []


def test_drain_is_not_governed_by_wait():
    backend = FakeBackend(sessions=(1, 1, 1, 0))  # before, verify, 2 polls
    clock = FakeClock()
    result = ensure(backend, 'drained', clock=clock, wait=False, drain_timeout=5, wait_sleep=1)
    assert result['waited_seconds'] == 1.0


def test_disable_never_waits():
    backend = FakeBackend(sessions=(9,))
    clock = FakeClock()
    result = ensure(backend, 'disabled', clock=clock, drain_timeout=300)
    assert clock.pauses == []
    assert result['member']['current_sessions'] == 9


# --- enable and wait for UP ------------------------------------------------------------------------

def test_enable_waits_for_up():
    backend = FakeBackend(admin_state='disabled', status='MAINT', statuses=('UP 1/3', 'UP 1/3', 'UP'))
    clock = FakeClock()
    result = ensure(backend, 'enabled', clock=clock, wait_timeout=30, wait_sleep=0.5)
    assert result['changed'] is True
    assert result['member']['operational_status'] == 'UP'
    assert clock.pauses == [0.5]
    assert result['waited_seconds'] == 0.5


def test_enable_wait_false_returns_at_once():
    backend = FakeBackend(admin_state='disabled', status='MAINT', statuses=('DOWN',))
    clock = FakeClock()
    result = ensure(backend, 'enabled', clock=clock, wait=False)
    assert result['member']['operational_status'] == 'DOWN'
    assert clock.pauses == []


def test_enable_wait_timeout_names_status_and_leaves_enabled():
    backend = FakeBackend(admin_state='drained', status='DRAIN', statuses=('DOWN',))
    clock = FakeClock()
    with pytest.raises(LBError) as exc:
        ensure(backend, 'enabled', clock=clock, wait_timeout=5, wait_sleep=2)
    assert str(exc.value) == ("Timed out after wait_timeout=5s: pool 'p' member 'm' is enabled but not UP "
                              "(last seen: status 'DOWN', 0 current session(s)).")
    assert exc.value.result['changed'] is True
    assert exc.value.result['state'] == 'enabled'
    assert backend.admin_state == 'enabled'


def test_already_enabled_still_waits_for_up():
    backend = FakeBackend(admin_state='enabled', statuses=('DOWN', 'DOWN', 'DOWN', 'UP'))  # 1st read: before
    clock = FakeClock()
    result = ensure(backend, 'enabled', clock=clock, wait_sleep=1)
    assert result['changed'] is False
    assert result['waited_seconds'] == 2.0


# --- errors -----------------------------------------------------------------------------------------

def test_unknown_member_is_an_error_without_change():
    backend = FakeBackend()
    with pytest.raises(LBError, match="member='x'") as exc:
        ensure_member_state(backend, 'p', 'x', 'drained')
    assert exc.value.result is None
    assert backend.sets == []


def test_bad_state_is_refused():
    with pytest.raises(LBError, match='state must be one of enabled, drained, disabled'):
        ensure(FakeBackend(), 'ready')


def test_change_not_taken_is_an_error():
    class Stubborn(FakeBackend):
        def set_admin_state(self, pool, member, state):
            self.sets.append((pool, member, state))

    backend = Stubborn(admin_state='enabled')
    with pytest.raises(LBError) as exc:
        ensure(backend, 'disabled')
    assert str(exc.value) == "pool 'p' member 'm': the load balancer accepted the change to disabled but now reports admin state enabled"
    assert exc.value.result['changed'] is True


def test_member_state_validates_admin_state():
    with pytest.raises(ValueError):
        MemberState('up', 'UP', 0)
    assert MemberState('enabled', 'UP', '3').current_sessions == 3


# --- main(): a fake HAProxy on a real UNIX socket -----------------------------------------------------

SERVERS_STATE_HEADER = (
    '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight '
    'srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state '
    'srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port '
    'srv_check_addr srv_agent_addr srv_agent_port'
)
STAT_FIELDS = ('pxname', 'svname', 'qcur', 'qmax', 'scur', 'smax', 'slim', 'stot', 'bin', 'bout', 'dreq', 'dresp',
               'ereq', 'econ', 'eresp', 'wretr', 'wredis', 'status', 'weight', 'act', 'bck', 'chkfail', 'chkdown',
               'lastchg', 'downtime', 'qlimit', 'pid', 'iid', 'sid', 'throttle', 'lbtot', 'tracked', 'type', 'rate',
               'rate_lim', 'rate_max', 'check_status', 'check_code', 'check_duration')


class FakeHAProxy:
    """Admin state bits as HAProxy 2.6 keeps them: ready clears FMAINT|FDRAIN, drain sets FDRAIN
    and clears FMAINT, maint sets FMAINT and clears FDRAIN."""

    def __init__(self, path, level='admin'):
        self.level = level
        self.backends = {'app': {'s1': dict(bits=0, scur=0), 's2': dict(bits=0, scur=0)}}
        self.commands = []
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(8)
        self.listener.settimeout(0.1)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self):
        self._stop.set()
        self.thread.join(3)
        self.listener.close()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _addr = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                data = b''
                while not data.endswith(b'\n'):
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                command = data.decode().strip()
                self.commands.append(command)
                conn.sendall(self.answer(command).encode())

    @staticmethod
    def status(server):
        if server['bits'] & 0x01:
            return 'MAINT'
        if server['bits'] & 0x08:
            return 'DRAIN'
        return 'UP'

    def answer(self, command):
        words = command.split()
        if words[:3] == ['show', 'servers', 'state'] and len(words) == 4:
            servers = self.backends.get(words[3])
            if servers is None:
                return "Can't find backend.\n\n"
            lines = ['1', SERVERS_STATE_HEADER]
            for sid, (name, srv) in enumerate(sorted(servers.items()), start=1):
                lines.append('3 %s %d %s 127.0.0.1 %d %d 1 1 5 15 3 4 6 0 0 0 - 8080 - 0 0 - - 0'
                             % (words[3], sid, name, 0 if srv['bits'] & 0x01 else 2, srv['bits']))
            return '\n'.join(lines) + '\n\n'
        if words[:2] == ['show', 'stat'] and len(words) == 5:
            lines = ['# ' + ','.join(STAT_FIELDS) + ',']
            for be_name, servers in sorted(self.backends.items()):
                for sid, (name, srv) in enumerate(sorted(servers.items()), start=1):
                    if words[2] == '3' and words[4] in ('-1', str(sid)):
                        values = dict(pxname=be_name, svname=name, qcur='0', scur=str(srv['scur']),
                                      status=self.status(srv), check_status='L7OK')
                        lines.append(','.join(values.get(f, '') for f in STAT_FIELDS) + ',')
            return '\n'.join(lines) + '\n\n'
        if words[:2] == ['set', 'server'] and len(words) == 5 and words[3] == 'state':
            if self.level != 'admin':
                return 'Permission denied\n\n'
            be_name, _sep, srv_name = words[2].partition('/')
            if be_name not in self.backends:
                return 'No such backend.\n\n'
            srv = self.backends[be_name].get(srv_name)
            if srv is None:
                return 'No such server.\n\n'
            if words[4] == 'ready':
                srv['bits'] &= ~0x09
            elif words[4] == 'drain':
                srv['bits'] = (srv['bits'] & ~0x01) | 0x08
            elif words[4] == 'maint':
                srv['bits'] = (srv['bits'] & ~0x08) | 0x01
            else:
                return "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n"
            return '\n'
        return 'Unknown command: %r\n\n' % command


@pytest.fixture
def haproxy(tmp_path):
    fake = FakeHAProxy(str(tmp_path / 'admin.sock'))
    fake.path = str(tmp_path / 'admin.sock')
    yield fake
    fake.close()


def run_module(args, expect=exit_result):
    return expect(lb_pool_member.main, args)


def args(haproxy, **kwargs):
    values = dict(backend='haproxy', haproxy_socket=haproxy.path, pool='app', member='s1', state='drained',
                  wait_sleep=0.01)
    values.update(kwargs)
    return values


def test_main_round_trip(haproxy):
    result = run_module(args(haproxy, state='drained'))
    assert result['changed'] is True
    assert (result['previous_state'], result['state']) == ('enabled', 'drained')
    assert result['member'] == dict(admin_state='drained', operational_status='DRAIN', current_sessions=0,
                                    raw=result['member']['raw'])
    assert result['member']['raw']['admin_flags'] == ['FDRAIN']
    assert 'diff' not in result
    assert haproxy.backends['app']['s1']['bits'] == 0x08
    assert 'set server app/s1 state drain' in haproxy.commands

    assert run_module(args(haproxy, state='drained'))['changed'] is False

    result = run_module(args(haproxy, state='disabled'))
    assert (result['changed'], result['previous_state'], result['member']['operational_status']) == (True, 'drained', 'MAINT')
    assert haproxy.backends['app']['s1']['bits'] == 0x01

    result = run_module(args(haproxy, state='enabled'))
    assert (result['changed'], result['previous_state'], result['member']['operational_status']) == (True, 'disabled', 'UP')
    assert haproxy.backends['app']['s1']['bits'] == 0
    assert run_module(args(haproxy, state='enabled'))['changed'] is False


def test_main_check_mode_sends_no_set(haproxy):
    result = run_module(args(haproxy, state='disabled', _ansible_check_mode=True, _ansible_diff=True))
    assert result['changed'] is True
    assert (result['previous_state'], result['state']) == ('enabled', 'disabled')
    assert result['diff'] == dict(before=dict(state='enabled'), after=dict(state='disabled'))
    assert haproxy.backends['app']['s1']['bits'] == 0
    assert not [c for c in haproxy.commands if c.startswith('set ')]


def test_main_diff_mode(haproxy):
    result = run_module(args(haproxy, state='drained', _ansible_diff=True))
    assert result['diff'] == dict(before=dict(state='enabled'), after=dict(state='drained'))


def test_main_drain_timeout_fails_and_leaves_drained(haproxy, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(lb_pool_member, 'ensure_member_state',
                        functools.partial(base.ensure_member_state, clock=clock.clock, pause=clock.pause))
    haproxy.backends['app']['s1']['scur'] = 3
    result = run_module(args(haproxy, state='drained', drain_timeout=20, wait_sleep=5), expect=fail_result)
    assert result['msg'] == ("Timed out after drain_timeout=20s: HAProxy backend 'app' server 's1' still has "
                             "3 current session(s) (status 'DRAIN'). It is left drained, so it takes no new sessions.")
    assert result['changed'] is True
    assert (result['previous_state'], result['state']) == ('enabled', 'drained')
    assert result['member']['current_sessions'] == 3
    assert result['waited_seconds'] == 20.0
    assert haproxy.backends['app']['s1']['bits'] == 0x08
    assert clock.pauses == [5, 5, 5, 5]


@pytest.mark.parametrize('kwargs, message', [
    (dict(pool='nope'), "pool='nope': HAProxy (haproxy_socket=%s) has no backend of that name (it answered \"Can't find backend.\")"),
    (dict(member='s9'), "member='s9': HAProxy backend 'app' has no server of that name (its servers: s1, s2)"),
    (dict(member='s1 s2'), "member='s1 s2' is not a valid HAProxy name"),
])
def test_main_unknown_names_fail_without_change(haproxy, kwargs, message):
    result = run_module(args(haproxy, **kwargs), expect=fail_result)
    assert result['msg'].startswith(message.replace('%s', haproxy.path))
    assert result['changed'] is False
    assert not [c for c in haproxy.commands if c.startswith('set ')]


def test_main_permission_denied_fails_without_change(haproxy):
    haproxy.level = 'operator'
    result = run_module(args(haproxy, state='disabled'), expect=fail_result)
    assert result['msg'] == ("HAProxy (haproxy_socket=%s) refused 'set server app/s1 state maint': Permission denied. "
                             'The stats socket must be declared with "level admin".' % haproxy.path)
    assert result['changed'] is False
    assert haproxy.backends['app']['s1']['bits'] == 0


def test_main_missing_socket(tmp_path):
    path = str(tmp_path / 'missing.sock')
    result = run_module(dict(backend='haproxy', haproxy_socket=path, pool='app', member='s1', state='enabled'),
                        expect=fail_result)
    assert result['msg'].startswith('cannot connect to HAProxy admin socket haproxy_socket=%s: no such file' % path)
    assert result['changed'] is False


@pytest.mark.parametrize('bad, message', [
    (dict(haproxy_socket=None), 'backend is haproxy but any of the following are missing: haproxy_socket, haproxy_address'),
    (dict(haproxy_address='127.0.0.1:1'), 'parameters are mutually exclusive: haproxy_socket|haproxy_address'),
    (dict(state='ready'), 'value of state must be one of: enabled, drained, disabled, got: ready'),
    (dict(backend='nginx'), 'value of backend must be one of: f5, haproxy, nsxt, got: nginx'),
    (dict(drain_timeout=-1), 'drain_timeout must be 0 or more, got -1'),
    (dict(wait_timeout=-5), 'wait_timeout must be 0 or more, got -5'),
    (dict(wait_sleep=0), 'wait_sleep must be more than 0, got 0.0'),
    (dict(timeout=-1), 'timeout must be more than 0, got -1.0'),
    (dict(pool=None), 'missing required arguments: pool'),
])
def test_main_bad_input(haproxy, bad, message):
    values = args(haproxy)
    values.update(bad)
    values = {k: v for k, v in values.items() if v is not None}
    result = run_module(values, expect=fail_result)
    assert message in result['msg']
    assert haproxy.commands == []
