# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A strict stand-in for the part of the VMware NSX-T Policy API that ``lb_pool_member`` uses.

Models, from the public NSX-T Data Center REST API reference (Policy > Networking > Network
Services > Load Balancing: "LBPool", "LBPoolMember", "Read LBPool", "Create or update a LBPool
(PATCH)", "Get LBPool statistics for a LBService"):

* ``GET`` and ``PATCH /policy/api/v1/infra/lb-pools/<pool-id>``: the LBPool with ``id``,
  ``display_name``, ``members`` (``display_name``, ``ip_address``, ``port``, ``admin_state``
  ENABLED | DISABLED | GRACEFUL_DISABLED, ``weight``, ``backup_member``,
  ``max_concurrent_connections``), ``active_monitor_paths``, ``_revision`` ... A PATCH merges the
  top-level fields given (``members`` replaces the whole list). A PATCH whose ``_revision`` is
  not the current one is answered 412; every accepted write increments ``_revision``.
* ``GET /policy/api/v1/infra/lb-services/<svc>/lb-pools/<pool-id>/statistics[?source=realtime|cached]``:
  ``{"results": [{"statistics": {"pool_id", "members": [{"ip_address", "port",
  "statistics": {"current_sessions", ...}}]}, "enforcement_point_path"}]}``.

Strict: basic authentication (401 without it or with a wrong one), other methods 405, unknown
paths, pools, services 404, a PATCH without ``Content-Type: application/json`` 415, a body that is
not a JSON object, an unknown field or a bad ``admin_state`` 400. Errors come back in the NSX-T
error shape (``httpStatus``, ``error_code``, ``module_name``, ``error_message``).

Not from the documentation, for tests only (no authentication):

* ``POST /_sim/sessions`` ``{"pool": id, "member": display_name, "sessions": n}`` sets the
  member's current sessions.
* ``POST /_sim/conflicts`` ``{"count": n}``: the next n PATCHes are answered 412 (a concurrent writer).
* ``GET /_sim/state``: every pool as stored.

    python3 nsxt_sim.py [--user admin] [--password secret] [--state pools.json]

listens on 127.0.0.1 on a free port and prints that port on the first line of its output.
Without ``--state`` it holds pool ``vidm-pool`` (members ``vidm1`` 10.0.0.11:443, ``vidm2``
10.0.0.12:443, monitor ``/infra/lb-monitor-profiles/default-https-lb-monitor``) attached to
load-balancer service ``vidm-lb``.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


POOL_FIELDS = {
    'id', 'display_name', 'description', 'resource_type', 'tags', 'members', 'member_group',
    'active_monitor_paths', 'passive_monitor_path', 'algorithm', 'min_active_members',
    'snat_translation', 'tcp_multiplexing_enabled', 'tcp_multiplexing_number', '_revision',
}
MEMBER_FIELDS = {'display_name', 'ip_address', 'port', 'admin_state', 'weight', 'backup_member',
                 'max_concurrent_connections'}
ADMIN_STATES = ('ENABLED', 'DISABLED', 'GRACEFUL_DISABLED')

POOL_RE = re.compile(r'^/policy/api/v1/infra/lb-pools/([^/]+)$')
STATS_RE = re.compile(r'^/policy/api/v1/infra/lb-services/([^/]+)/lb-pools/([^/]+)/statistics$')


def default_state():
    return {
        'services': {'vidm-lb': ['vidm-pool']},
        'pools': {
            'vidm-pool': {
                'id': 'vidm-pool', 'display_name': 'vidm-pool', 'resource_type': 'LBPool',
                'algorithm': 'ROUND_ROBIN', 'min_active_members': 1,
                'active_monitor_paths': ['/infra/lb-monitor-profiles/default-https-lb-monitor'],
                'members': [
                    {'display_name': 'vidm1', 'ip_address': '10.0.0.11', 'port': '443', 'admin_state': 'ENABLED',
                     'weight': 1, 'backup_member': False},
                    {'display_name': 'vidm2', 'ip_address': '10.0.0.12', 'port': '443', 'admin_state': 'ENABLED',
                     'weight': 1, 'backup_member': False},
                ],
                '_revision': 0,
            },
        },
    }


class Sim:
    def __init__(self, state, user, password):
        self.lock = threading.Lock()
        self.state = state
        self.sessions = {}  # (pool, display_name) -> n
        self.conflicts = 0
        self.auth = 'Basic ' + base64.b64encode(('%s:%s' % (user, password)).encode()).decode()


class Handler(BaseHTTPRequestHandler):
    server_version = 'NSXSim/1.0'
    sim = None

    def log_message(self, fmt, *args):  # quiet; errors still go to stderr through send_error
        sys.stderr.write('nsxt_sim: %s\n' % (fmt % args))

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status, text, code=None):
        names = {400: 'BAD_REQUEST', 401: 'UNAUTHORIZED', 404: 'NOT_FOUND', 405: 'METHOD_NOT_ALLOWED',
                 412: 'PRECONDITION_FAILED', 415: 'UNSUPPORTED_MEDIA_TYPE'}
        self._send(status, {'httpStatus': names.get(status, str(status)), 'error_code': code or status,
                            'module_name': 'nsx-sim', 'error_message': text})

    def _body(self):
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''
        try:
            body = json.loads(raw or b'null')
        except ValueError:
            return None, 'the body is not JSON'
        if not isinstance(body, dict):
            return None, 'the body must be a JSON object'
        return body, None

    def _authorized(self):
        if self.headers.get('Authorization') != self.sim.auth:
            self._error(401, 'The credentials were incorrect or the account specified has been locked.', 403)
            return False
        return True

    def _route(self, method):
        url = urlsplit(self.path)
        path = url.path
        if path.startswith('/_sim/'):
            return self._control(method, path)
        pool_match = POOL_RE.match(path)
        stats_match = STATS_RE.match(path)
        if not pool_match and not stats_match:
            return self._error(404, 'The requested URI: %s could not be found.' % path, 219)
        allowed = ('GET', 'PATCH') if pool_match else ('GET',)
        if method not in allowed:
            return self._error(405, 'Method %s is not allowed on %s' % (method, path))
        if not self._authorized():
            return None
        if stats_match:
            query = parse_qs(url.query)
            if set(query) - {'source', 'enforcement_point_path'} or \
                    query.get('source', ['realtime'])[0] not in ('realtime', 'cached'):
                return self._error(400, 'Invalid query parameters %s' % url.query)
            return self._stats(unquote(stats_match.group(1)), unquote(stats_match.group(2)))
        pool_id = unquote(pool_match.group(1))
        if method == 'GET':
            return self._get_pool(pool_id)
        return self._patch_pool(pool_id)

    def _get_pool(self, pool_id):
        with self.sim.lock:
            pool = self.sim.state['pools'].get(pool_id)
            if pool is None:
                return self._error(404, 'The path=[/infra/lb-pools/%s] is invalid' % pool_id, 500012)
            return self._send(200, copy.deepcopy(pool))

    def _patch_pool(self, pool_id):
        ctype = (self.headers.get('Content-Type') or '').split(';')[0].strip().lower()
        if ctype != 'application/json':
            return self._error(415, 'Content-Type must be application/json, got %r' % ctype)
        body, problem = self._body()
        if problem:
            return self._error(400, problem)
        unknown = sorted(set(body) - POOL_FIELDS)
        if unknown:
            return self._error(400, 'Field(s) %s are not allowed in LBPool' % ', '.join(unknown), 255)
        members = body.get('members')
        if members is not None:
            if not isinstance(members, list):
                return self._error(400, 'members must be a list')
            for member in members:
                if not isinstance(member, dict):
                    return self._error(400, 'each member must be an object')
                unknown = sorted(set(member) - MEMBER_FIELDS)
                if unknown:
                    return self._error(400, 'Field(s) %s are not allowed in LBPoolMember' % ', '.join(unknown), 255)
                if not member.get('ip_address'):
                    return self._error(400, 'LBPoolMember ip_address is required')
                if member.get('admin_state', 'ENABLED') not in ADMIN_STATES:
                    return self._error(400, 'Invalid admin_state %r' % member.get('admin_state'))
        monitors = body.get('active_monitor_paths')
        if monitors is not None and (not isinstance(monitors, list) or
                                     not all(isinstance(m, str) and m.startswith('/infra/') for m in monitors)):
            return self._error(400, 'active_monitor_paths must be a list of /infra/... paths')
        with self.sim.lock:
            pool = self.sim.state['pools'].get(pool_id)
            if pool is None:
                return self._error(404, 'The path=[/infra/lb-pools/%s] is invalid' % pool_id, 500012)
            if self.sim.conflicts > 0:
                self.sim.conflicts -= 1
                return self._error(412, 'The object was modified by somebody else', 602)
            if '_revision' in body and body['_revision'] != pool['_revision']:
                return self._error(412, 'The object LBPool/%s was modified by somebody else (revision %s, given %s)'
                                   % (pool_id, pool['_revision'], body['_revision']), 602)
            for key, value in body.items():
                if key not in ('_revision', 'id', 'resource_type'):
                    pool[key] = copy.deepcopy(value)
            pool['_revision'] += 1
        self.send_response(200)
        self.send_header('Content-Length', '0')
        self.end_headers()
        return None

    def _stats(self, service, pool_id):
        with self.sim.lock:
            if service not in self.sim.state['services']:
                return self._error(404, 'LBService/%s not found' % service, 500012)
            if pool_id not in self.sim.state['services'][service] or pool_id not in self.sim.state['pools']:
                return self._error(404, 'LBPool/%s is not attached to LBService/%s' % (pool_id, service), 500012)
            pool = self.sim.state['pools'][pool_id]
            members = [{
                'ip_address': m['ip_address'], 'port': m.get('port', ''),
                'statistics': {'current_sessions': self.sim.sessions.get((pool_id, m.get('display_name')), 0),
                               'total_sessions': 0, 'bytes_in': 0, 'bytes_out': 0},
            } for m in pool.get('members') or []]
            total = sum(m['statistics']['current_sessions'] for m in members)
        return self._send(200, {'results': [{
            'enforcement_point_path': '/infra/sites/default/enforcement-points/default',
            'statistics': {'pool_id': pool_id, 'members': members,
                           'statistics': {'current_sessions': total}},
        }]})

    def _control(self, method, path):
        if path == '/_sim/state' and method == 'GET':
            with self.sim.lock:
                return self._send(200, copy.deepcopy(self.sim.state))
        if method != 'POST' or path not in ('/_sim/sessions', '/_sim/conflicts'):
            return self._error(405 if path in ('/_sim/sessions', '/_sim/conflicts', '/_sim/state') else 404,
                               'no such control request')
        body, problem = self._body()
        if problem:
            return self._error(400, problem)
        with self.sim.lock:
            if path == '/_sim/conflicts':
                self.sim.conflicts = int(body.get('count', 0))
                return self._send(200, {'conflicts': self.sim.conflicts})
            pool = self.sim.state['pools'].get(body.get('pool'))
            names = [m.get('display_name') for m in (pool or {}).get('members') or []]
            if pool is None or body.get('member') not in names:
                return self._error(404, 'unknown pool or member %r/%r' % (body.get('pool'), body.get('member')))
            self.sim.sessions[(body['pool'], body['member'])] = int(body.get('sessions', 0))
            return self._send(200, {'sessions': self.sim.sessions[(body['pool'], body['member'])]})

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
    parser.add_argument('--state', help='JSON file with "pools" and "services" (see default_state)')
    args = parser.parse_args(argv)
    state = default_state()
    if args.state:
        with open(args.state, encoding='utf-8') as handle:
            state = json.load(handle)
    handler = type('BoundHandler', (Handler,), {'sim': Sim(state, args.user, args.password)})
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
