# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A strict stand-in for the part of F5 BIG-IP iControl REST that ``lb_pool_member`` uses.

Models, from the public iControl REST API reference (clouddocs.f5.com, "ltm pool",
"ltm pool members", "Authentication / mgmt/shared/authn/login") and F5 K13310 (enable, disable,
force offline a pool member):

* ``GET``/``PATCH /mgmt/tm/ltm/pool/~<partition>~<pool>``: ``name``, ``partition``,
  ``fullPath``, ``loadBalancingMode``, ``monitor`` (e.g. ``/Common/https``; PATCH ``none``
  detaches every monitor, and the property is then absent from a GET).
* ``GET``/``PATCH /mgmt/tm/ltm/pool/~<partition>~<pool>/members/~<partition>~<member>``:
  ``session`` and ``state``. A PATCH takes ``session`` user-enabled | user-disabled and ``state``
  user-up | user-down; a GET shows ``session`` monitor-enabled (user-enabled on a pool without
  monitor) or user-disabled, and ``state`` up (unchecked without monitor) or user-down.
* ``GET .../members/~<partition>~<member>/stats``: ``entries`` -> ``nestedStats`` -> ``entries``
  with ``serverside.curConns`` ``{"value": n}``.
* ``POST /mgmt/shared/authn/login`` ``{"username", "password", "loginProviderName": "tmos"}``
  -> ``{"token": {"token": ...}}``, then accepted as ``X-F5-Auth-Token``.

Strict: basic authentication or a token (401 otherwise), other methods 405, unknown paths,
pools, members 404, a PATCH without ``Content-Type: application/json`` 415, unknown fields or
values 400. Errors come back in the iControl shape (``code``, ``message``, ``errorStack``).

Not from the documentation, for tests only (no authentication):

* ``POST /_sim/sessions`` ``{"pool": name, "member": name, "sessions": n}`` sets the member's
  ``serverside.curConns`` (pool and member in partition Common).
* ``GET /_sim/state``: every pool as stored.

    python3 f5_sim.py [--user admin] [--password secret]

listens on 127.0.0.1 on a free port and prints that port on the first line of its output. It
holds pool ``/Common/vidm_pool`` (monitor ``/Common/https``) with members ``10.0.0.11:443`` and
``10.0.0.12:443``.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


POOL_PATCH_FIELDS = {'monitor', 'description', 'loadBalancingMode', 'minActiveMembers', 'slowRampTime'}
MEMBER_PATCH_FIELDS = {'session', 'state', 'description', 'ratio', 'connectionLimit', 'priorityGroup'}
SESSIONS = ('user-enabled', 'user-disabled')
STATES = ('user-up', 'user-down')
LB_MODES = ('round-robin', 'least-connections-member', 'ratio-member')

NAME = r'~([^~/]+)~([^~/]+)'
POOL_RE = re.compile(r'^/mgmt/tm/ltm/pool/%s$' % NAME)
MEMBER_RE = re.compile(r'^/mgmt/tm/ltm/pool/%s/members/%s(/stats)?$' % (NAME, NAME))
LOGIN = '/mgmt/shared/authn/login'


def default_pools():
    members = {}
    for name in ('10.0.0.11:443', '10.0.0.12:443'):
        members[name] = {'name': name, 'partition': 'Common', 'fullPath': '/Common/%s' % name,
                         'address': name.split(':', maxsplit=1)[0], 'session': 'user-enabled', 'state': 'user-up',
                         'ratio': 1, 'connectionLimit': 0, 'priorityGroup': 0}
    return {('Common', 'vidm_pool'): {'name': 'vidm_pool', 'partition': 'Common', 'fullPath': '/Common/vidm_pool',
                                      'loadBalancingMode': 'round-robin', 'monitor': '/Common/https',
                                      'members': members}}


class Sim:
    def __init__(self, user, password):
        self.lock = threading.Lock()
        self.pools = default_pools()
        self.sessions = {}
        self.tokens = set()
        self.user = user
        self.password = password
        self.auth = 'Basic ' + base64.b64encode(('%s:%s' % (user, password)).encode()).decode()


def member_view(pool, member):
    shown = dict(member)
    shown['kind'] = 'tm:ltm:pool:members:membersstate'
    monitored = bool(pool.get('monitor'))
    shown['session'] = 'user-disabled' if member['session'] == 'user-disabled' else (
        'monitor-enabled' if monitored else 'user-enabled')
    shown['state'] = 'user-down' if member['state'] == 'user-down' else ('up' if monitored else 'unchecked')
    return shown


class Handler(BaseHTTPRequestHandler):
    server_version = 'F5Sim/1.0'
    sim = None

    def log_message(self, fmt, *args):
        sys.stderr.write('f5_sim: %s\n' % (fmt % args))

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json; charset=UTF-8')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status, text):
        self._send(status, {'code': status, 'message': text, 'errorStack': [], 'apiError': 3})

    def _body(self):
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''
        try:
            body = json.loads(raw or b'null')
        except ValueError:
            return None, 'Found invalid JSON body in the request.'
        if not isinstance(body, dict):
            return None, 'Found invalid JSON body in the request.'
        return body, None

    def _json_type(self):
        ctype = (self.headers.get('Content-Type') or '').split(';')[0].strip().lower()
        if ctype != 'application/json':
            self._error(415, 'Content-Type must be application/json, got %r' % ctype)
            return False
        return True

    def _authorized(self):
        token = self.headers.get('X-F5-Auth-Token')
        if (token and token in self.sim.tokens) or self.headers.get('Authorization') == self.sim.auth:
            return True
        self._error(401, 'Authorization failed: no user authentication header or token detected. '
                         'Uri:http://localhost:8100%s' % urlsplit(self.path).path)
        return False

    def _route(self, method):
        path = urlsplit(self.path).path
        if path.startswith('/_sim/'):
            return self._control(method, path)
        if path == LOGIN:
            return self._login(method)
        pool_match = POOL_RE.match(path)
        member_match = MEMBER_RE.match(path)
        if not pool_match and not member_match:
            return self._error(404, 'Public URI path not registered: %s' % path)
        stats = bool(member_match and member_match.group(5))
        allowed = ('GET',) if stats else ('GET', 'PATCH')
        if method not in allowed:
            return self._error(405, 'Method %s is not supported on %s' % (method, path))
        if not self._authorized():
            return None
        groups = [unquote(g) for g in (pool_match or member_match).groups()[:4] if g]
        with self.sim.lock:
            pool = self.sim.pools.get((groups[0], groups[1]))
            if pool is None:
                return self._error(404, '01020036:3: The requested Pool (/%s/%s) was not found.' % tuple(groups[:2]))
            if pool_match:
                return self._pool(method, pool)
            member = pool['members'].get(groups[3]) if groups[2] == groups[0] else None
            if member is None:
                return self._error(404, '01020036:3: The requested Pool Member (/%s/%s /%s/%s) was not found.'
                                   % tuple(groups))
            if stats:
                return self._stats(path, pool, member)
            return self._member(method, pool, member)

    def _pool(self, method, pool):
        if method == 'PATCH':
            if not self._json_type():
                return None
            body, problem = self._body()
            if problem:
                return self._error(400, problem)
            unknown = sorted(set(body) - POOL_PATCH_FIELDS)
            if unknown:
                return self._error(400, 'One or more properties must be specified: unknown property %s'
                                   % ', '.join(unknown))
            if 'monitor' in body:
                monitor = body['monitor']
                if not isinstance(monitor, str) or not (monitor == 'none' or all(
                        part.strip().startswith('/') for part in monitor.split(' and '))):
                    return self._error(400, '01070734:3: Configuration error: invalid monitor rule %r' % (monitor,))
            if 'loadBalancingMode' in body and body['loadBalancingMode'] not in LB_MODES:
                return self._error(400, 'invalid loadBalancingMode %r' % body['loadBalancingMode'])
            for key, value in body.items():
                if key == 'monitor' and value == 'none':
                    pool.pop('monitor', None)
                else:
                    pool[key] = value
        shown = {k: v for k, v in pool.items() if k != 'members'}
        shown['kind'] = 'tm:ltm:pool:poolstate'
        return self._send(200, shown)

    def _member(self, method, pool, member):
        if method == 'PATCH':
            if not self._json_type():
                return None
            body, problem = self._body()
            if problem:
                return self._error(400, problem)
            unknown = sorted(set(body) - MEMBER_PATCH_FIELDS)
            if unknown:
                return self._error(400, 'unknown property %s' % ', '.join(unknown))
            if 'session' in body and body['session'] not in SESSIONS:
                return self._error(400, 'invalid property value "session":"%s"' % body['session'])
            if 'state' in body and body['state'] not in STATES:
                return self._error(400, 'invalid property value "state":"%s"' % body['state'])
            member.update(body)
        return self._send(200, member_view(pool, member))

    def _stats(self, path, pool, member):
        conns = self.sim.sessions.get((pool['fullPath'], member['name']), 0)
        view = member_view(pool, member)
        self_link = 'https://localhost%s' % path
        return self._send(200, {'kind': 'tm:ltm:pool:members:membersstats', 'selfLink': self_link, 'entries': {
            self_link: {'nestedStats': {'entries': {
                'serverside.curConns': {'value': conns},
                'serverside.totConns': {'value': 0},
                'status.availabilityState': {'description': 'offline' if view['state'] == 'user-down' else 'available'},
                'status.enabledState': {'description': 'disabled' if view['session'] == 'user-disabled' else 'enabled'},
                'nodeName': {'description': '/%s/%s' % (member['partition'], member['address'])},
            }}},
        }})

    def _login(self, method):
        if method != 'POST':
            return self._error(405, 'Method %s is not supported on %s' % (method, LOGIN))
        if not self._json_type():
            return None
        body, problem = self._body()
        if problem:
            return self._error(400, problem)
        if body.get('username') != self.sim.user or body.get('password') != self.sim.password:
            return self._error(401, 'Authentication failed.')
        token = secrets.token_hex(16)
        with self.sim.lock:
            self.sim.tokens.add(token)
        return self._send(200, {'username': body['username'], 'token': {'token': token, 'timeout': 1200}})

    def _control(self, method, path):
        if path == '/_sim/state' and method == 'GET':
            with self.sim.lock:
                return self._send(200, {'/%s/%s' % key: pool for key, pool in self.sim.pools.items()})
        if path != '/_sim/sessions':
            return self._error(404, 'no such control request')
        if method != 'POST':
            return self._error(405, 'POST only')
        body, problem = self._body()
        if problem:
            return self._error(400, problem)
        with self.sim.lock:
            pool = self.sim.pools.get(('Common', body.get('pool')))
            if pool is None or body.get('member') not in pool['members']:
                return self._error(404, 'unknown pool or member %r/%r' % (body.get('pool'), body.get('member')))
            self.sim.sessions[(pool['fullPath'], body['member'])] = int(body.get('sessions', 0))
        return self._send(200, {'sessions': int(body.get('sessions', 0))})

    def do_GET(self):
        self._route('GET')

    def do_PATCH(self):
        self._route('PATCH')

    def do_POST(self):
        self._route('POST')

    def do_PUT(self):
        self._route('PUT')

    def do_DELETE(self):
        self._route('DELETE')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--user', default='admin')
    parser.add_argument('--password', default='secret')
    args = parser.parse_args(argv)
    handler = type('BoundHandler', (Handler,), {'sim': Sim(args.user, args.password)})
    server = ThreadingHTTPServer(('127.0.0.1', 0), handler)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
