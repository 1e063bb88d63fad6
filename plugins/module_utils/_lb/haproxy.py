# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""HAProxy through its runtime API (the stats socket, ``level admin``), UNIX or TCP.

Commands used, all present in HAProxy 2.0 .. 3.x (checked against 2.6):

* ``show servers state <backend>``: ``srv_admin_state`` bits give the administrative state
  (FMAINT 0x01 forced maintenance, FDRAIN 0x08 forced drain, the others inherited or from
  configuration), ``srv_op_state`` the operational one.
* ``show stat <be_id> 4 <srv_id>``: one CSV row with ``status`` (``UP``, ``UP 1/3``, ``DOWN``,
  ``DRAIN``, ``MAINT``, ``MAINT (via be/srv)``, ``no check`` ...), ``scur`` and ``qcur``.
* ``set server <backend>/<server> state ready|drain|maint``: answers nothing on success.

The runtime API has no status codes: errors come back as text (``No such server.``,
``No such backend.``, ``Can't find backend.``, ``Permission denied`` ...). A command whose
answer is not what that command produces on success is treated as an error.
"""

from __future__ import annotations

import csv
import errno
import re
import socket

from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.base import (
    LBError,
    MemberState,
    PoolBackend,
)


# srv_admin_state bits (include/haproxy/server-t.h, enum srv_admin)
ADMIN_FLAGS = (
    ('FMAINT', 0x01),  # forced into maintenance (CLI "maint", "disable server", config "disabled")
    ('IMAINT', 0x02),  # maintenance inherited from a tracked server
    ('CMAINT', 0x04),  # "disabled" in the configuration (stays set after "ready")
    ('FDRAIN', 0x08),  # forced into drain (CLI "drain")
    ('IDRAIN', 0x10),  # drain inherited from a tracked server
    ('RMAINT', 0x20),  # maintenance because the address does not resolve
    ('HMAINT', 0x40),  # FQDN set from the CLI (not a maintenance state)
)
FLAG = dict(ADMIN_FLAGS)
MAINT_MASK = FLAG['FMAINT'] | FLAG['IMAINT'] | FLAG['RMAINT']
DRAIN_MASK = FLAG['FDRAIN'] | FLAG['IDRAIN']

# srv_op_state values (enum srv_state)
OP_STATES = {0: 'STOPPED', 1: 'STARTING', 2: 'RUNNING', 3: 'STOPPING'}

# module state -> "set server ... state <x>"
HAPROXY_STATE = {'enabled': 'ready', 'drained': 'drain', 'disabled': 'maint'}

# show stat "type" filter: 1 frontends, 2 backends, 4 servers
STAT_TYPE_SERVERS = 4

# HAProxy accepts letters, digits, '.', ':', '_' and '-' in proxy and server names. Anything else
# could also split or chain runtime API commands (spaces, ';', newlines), so it is refused.
NAME_RE = re.compile(r'^[A-Za-z0-9._:-]+$')

UNKNOWN_BACKEND_REPLIES = ('No such backend.', "Can't find backend.", 'No such proxy.')
UNKNOWN_SERVER_REPLIES = ('No such server.',)
PERMISSION_REPLIES = ('Permission denied',)

MAX_REPLY_BYTES = 64 * 1024 * 1024


class HAProxyReplyError(LBError):
    """HAProxy answered a command with an error text instead of the expected output."""

    def __init__(self, msg, reply, result=None):
        super().__init__(msg, result=result)
        self.reply = reply


def admin_flag_names(bits):
    """``9`` -> ``['FMAINT', 'FDRAIN']``; unknown bits are shown in hex."""
    names = [name for name, bit in ADMIN_FLAGS if bits & bit]
    rest = bits & ~sum(bit for _name, bit in ADMIN_FLAGS)
    if rest:
        names.append('0x%x' % rest)
    return names


def admin_state_from_flags(bits):
    """The state the runtime API controls: forced maintenance wins over forced drain.

    Inherited or resolution maintenance (IMAINT, RMAINT) and inherited drain (IDRAIN) are not
    something ``set server ... state`` can set or clear, so they do not count here; they show
    in the operational status instead (e.g. ``MAINT (via be/s1)``).
    """
    if bits & FLAG['FMAINT']:
        return 'disabled'
    if bits & FLAG['FDRAIN']:
        return 'drained'
    return 'enabled'


def parse_address(address):
    """``host:port`` or ``[v6]:port`` -> ``(host, port)``; raises ``ValueError``."""
    host, sep, port = (address or '').strip().rpartition(':')
    if not sep or not host:
        raise ValueError('expected host:port, got %r' % (address,))
    if host.startswith('[') and host.endswith(']'):
        host = host[1:-1]
    elif ':' in host:
        raise ValueError('IPv6 addresses must be written [address]:port, got %r' % (address,))
    if not host:
        raise ValueError('expected host:port, got %r' % (address,))
    try:
        port_number = int(port)
    except ValueError:
        raise ValueError('port must be a number, got %r in %r' % (port, address))
    if not 0 < port_number < 65536:
        raise ValueError('port must be between 1 and 65535, got %d in %r' % (port_number, address))
    return host, port_number


def _first_line(text):
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ''


def parse_servers_state(reply):
    """Parse ``show servers state [<backend>]`` into a list of dicts keyed by the header names.

    Raises ``HAProxyReplyError`` when the reply is not a servers-state dump (i.e. an error text).
    """
    lines = [line for line in reply.splitlines() if line.strip()]
    if len(lines) < 2 or not lines[0].strip().isdigit() or not lines[1].startswith('#'):
        raise HAProxyReplyError('not a "show servers state" answer', reply)
    version = int(lines[0].strip())
    header = lines[1].lstrip('#').split()
    servers = []
    for line in lines[2:]:
        if line.startswith('#'):
            continue
        values = line.split()
        row = dict(zip(header, values))
        row['_version'] = version
        servers.append(row)
    return servers


def parse_show_stat(reply):
    """Parse ``show stat`` CSV into a list of dicts keyed by the header names.

    Raises ``HAProxyReplyError`` when the reply is not a stat dump.
    """
    lines = [line for line in reply.splitlines() if line.strip()]
    if not lines or not lines[0].startswith('# pxname,'):
        raise HAProxyReplyError('not a "show stat" answer', reply)
    header = lines[0][2:].split(',')
    rows = []
    for values in csv.reader(lines[1:]):
        rows.append(dict(zip(header, values)))
    return rows


def _int(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class HAProxyRuntimeAPI:
    """One command per connection to the HAProxy stats socket (non-interactive mode)."""

    def __init__(self, socket_path=None, address=None, timeout=5.0):
        if bool(socket_path) == bool(address):
            raise LBError('exactly one of haproxy_socket or haproxy_address is required for backend=haproxy')
        self.socket_path = socket_path
        self.address = address
        self.timeout = timeout
        if address:
            try:
                self.host, self.port = parse_address(address)
            except ValueError as exc:
                raise LBError('haproxy_address=%r is not valid: %s' % (address, exc))

    @property
    def endpoint(self):
        """The option and value that name this socket, for error messages."""
        if self.socket_path:
            return 'haproxy_socket=%s' % self.socket_path
        return 'haproxy_address=%s' % self.address

    def _connect(self):
        if self.socket_path:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(self.timeout)
                sock.connect(self.socket_path)
            except BaseException:
                sock.close()
                raise
            return sock
        return socket.create_connection((self.host, self.port), timeout=self.timeout)

    def _connect_error(self, exc):
        if isinstance(exc, socket.timeout):
            return 'no answer from HAProxy admin socket %s within timeout=%ss' % (self.endpoint, self.timeout)
        if isinstance(exc, socket.gaierror):
            return 'cannot resolve the host of %s: %s' % (self.endpoint, exc.strerror or exc)
        reason = {
            errno.ENOENT: 'no such file (is HAProxy running, and is this its "stats socket" path?)',
            errno.EACCES: 'permission denied (the socket file needs read/write access for this user; '
                          'use become or the socket\'s "user"/"group"/"mode" settings)',
            errno.EPERM: 'permission denied',
            errno.ECONNREFUSED: 'connection refused (is HAProxy running with a "stats socket" there?)',
            errno.ENOTSOCK: 'not a socket',
            errno.ENOTDIR: 'a parent of the path is not a directory',
            errno.EHOSTUNREACH: 'host unreachable',
            errno.ENETUNREACH: 'network unreachable',
        }.get(getattr(exc, 'errno', None), exc.strerror or str(exc))
        return 'cannot connect to HAProxy admin socket %s: %s' % (self.endpoint, reason)

    def execute(self, command):
        """Send one command, return the whole answer as text. Raises ``LBError`` on I/O errors."""
        if '\n' in command or '\r' in command:
            raise LBError('refusing to send a multi-line command to HAProxy: %r' % (command,))
        try:
            sock = self._connect()
        except (OSError, socket.timeout) as exc:
            raise LBError(self._connect_error(exc))
        try:
            sock.sendall(command.encode('utf-8') + b'\n')
            chunks = []
            size = 0
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                chunks.append(data)
                size += len(data)
                if size > MAX_REPLY_BYTES:
                    raise LBError('answer to %r from %s exceeds %d bytes' % (command, self.endpoint, MAX_REPLY_BYTES))
        except socket.timeout:
            raise LBError('HAProxy admin socket %s did not finish answering %r within timeout=%ss'
                          % (self.endpoint, command, self.timeout))
        except OSError as exc:
            raise LBError('error talking to HAProxy admin socket %s while sending %r: %s'
                          % (self.endpoint, command, exc.strerror or exc))
        finally:
            sock.close()
        return b''.join(chunks).decode('utf-8', errors='replace')


class HAProxyBackend(PoolBackend):
    """``pool`` is an HAProxy backend, ``member`` one of its servers."""

    name = 'haproxy'

    def __init__(self, api):
        self.api = api

    @classmethod
    def from_params(cls, params):
        return cls(HAProxyRuntimeAPI(
            socket_path=params.get('haproxy_socket'),
            address=params.get('haproxy_address'),
            timeout=params.get('timeout') or 5.0,
        ))

    def describe(self, pool, member):
        return "HAProxy backend '%s' server '%s'" % (pool, member)

    @staticmethod
    def _validate(pool, member):
        for option, value in (('pool', pool), ('member', member)):
            if not value or not NAME_RE.match(value):
                raise LBError('%s=%r is not a valid HAProxy name: only letters, digits, ".", ":", "_" and "-" '
                              'are allowed' % (option, value))

    def _refused(self, command, reply, pool, member):
        """Turn an error text from HAProxy into an ``LBError`` that names the right option."""
        text = _first_line(reply) or '(empty answer)'
        if text in UNKNOWN_BACKEND_REPLIES:
            msg = 'pool=%r: HAProxy (%s) has no backend of that name (it answered %r)' % (pool, self.api.endpoint, text)
        elif text in UNKNOWN_SERVER_REPLIES:
            msg = 'member=%r: HAProxy backend %r has no server of that name (it answered %r)' % (member, pool, text)
        elif text.startswith(PERMISSION_REPLIES):
            msg = ('HAProxy (%s) refused %r: %s. The stats socket must be declared with "level admin".'
                   % (self.api.endpoint, command, text))
        else:
            msg = 'HAProxy (%s) refused %r: %s' % (self.api.endpoint, command, text)
        return HAProxyReplyError(msg, reply)

    def _servers_state(self, pool, member):
        command = 'show servers state %s' % pool
        reply = self.api.execute(command)
        try:
            servers = parse_servers_state(reply)
        except HAProxyReplyError:
            raise self._refused(command, reply, pool, member)
        for row in servers:
            if row.get('be_name') == pool and row.get('srv_name') == member:
                return row
        known = sorted(row.get('srv_name', '?') for row in servers)
        shown = ', '.join(known[:20]) + (', ...' if len(known) > 20 else '')
        raise LBError('member=%r: HAProxy backend %r has no server of that name (its servers: %s)'
                      % (member, pool, shown or 'none'))

    def _stat_row(self, pool, member, state_row):
        command = 'show stat %s %d %s' % (state_row.get('be_id', pool), STAT_TYPE_SERVERS, state_row.get('srv_id', '-1'))
        reply = self.api.execute(command)
        try:
            rows = parse_show_stat(reply)
        except HAProxyReplyError:
            raise self._refused(command, reply, pool, member)
        for row in rows:
            if row.get('pxname') == pool and row.get('svname') == member:
                return row
        raise LBError('%s is listed by "show servers state" but missing from %r (removed meanwhile?)'
                      % (self.describe(pool, member), command))

    def get_member(self, pool, member):
        self._validate(pool, member)
        state_row = self._servers_state(pool, member)
        stat = self._stat_row(pool, member, state_row)
        bits = _int(state_row.get('srv_admin_state'))
        op_state = _int(state_row.get('srv_op_state'), None)
        return MemberState(
            admin_state=admin_state_from_flags(bits),
            operational_status=stat.get('status', ''),
            current_sessions=_int(stat.get('scur')),
            raw=dict(
                srv_admin_state=bits,
                admin_flags=admin_flag_names(bits),
                srv_op_state=op_state,
                op_state=OP_STATES.get(op_state, str(op_state)),
                queued_sessions=_int(stat.get('qcur')),
                weight=_int(state_row.get('srv_uweight'), None),
                check_status=stat.get('check_status', ''),
                address=stat.get('addr', ''),
            ),
        )

    def set_admin_state(self, pool, member, state):
        self._validate(pool, member)
        if state not in HAPROXY_STATE:
            raise LBError('state must be one of %s, got %r' % (', '.join(HAPROXY_STATE), state))
        command = 'set server %s/%s state %s' % (pool, member, HAPROXY_STATE[state])
        reply = self.api.execute(command)
        if reply.strip():
            raise self._refused(command, reply, pool, member)

    def is_member_up(self, state):
        """UP with health checks passed (``UP``, not ``UP 1/3``), or ``no check`` when unchecked."""
        bits = state.raw.get('srv_admin_state', 0)
        return (state.admin_state == 'enabled' and not bits & (MAINT_MASK | DRAIN_MASK)
                and state.operational_status in ('UP', 'no check'))

    def describe_status(self, state):
        text = 'status %r' % (state.operational_status,)
        if state.raw.get('check_status'):
            text += ' (check %s)' % state.raw['check_status']
        return text

    def sessions_remaining(self, state):
        return state.current_sessions + state.raw.get('queued_sessions', 0)

    def describe_sessions(self, state):
        text = '%d current session(s)' % state.current_sessions
        queued = state.raw.get('queued_sessions', 0)
        if queued:
            text += ' and %d queued' % queued
        return text
