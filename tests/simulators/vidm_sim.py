# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stateful, strict simulator of the VMware Identity Manager (Workspace ONE Access) admin REST API.

What it models, and from which public documentation:

* Authentication (VMware "Workspace ONE Access API" guide, OAuth2 client credentials and the
  system login): ``POST /SAAS/auth/oauthtoken?grant_type=client_credentials`` with HTTP Basic
  client_id:secret and a form content type, answering ``access_token``/``expires_in``;
  ``POST /SAAS/API/1.0/REST/auth/system/login`` with ``{"username","password","issueToken"}``,
  answering ``{"sessionToken"}``, sent back as ``HZN <token>`` (``Bearer`` is accepted too).
  Bad secrets and credentials answer 401; expired tokens answer 401.
* Media types ``application/vnd.vmware.horizon.manager.<x>+json`` (``application/json`` is
  accepted too, as newer releases do). A body with a missing or wrong Content-Type answers 415,
  an Accept header that names neither answers 406, a body field the resource does not have 400.
* Directories (``/SAAS/jersey/manager/api/connectormanagement/directoryconfigs``): list, one,
  and ``PUT`` of the detail document (the verb is an assumption); AD over IWA and AD over LDAP
  carry ``useStartTls`` (for IWA an assumption).
* Connector instances with ``host`` and ``version`` (the field name is an assumption),
  ``POST .../connectorinstances/{id}/associatedirectory?idp=<idp id>``.
* Identity providers ``GET /SAAS/jersey/manager/api/identityProviders`` (``WorkspaceIDP__1`` ...).
* The Sync Connectors list of 19.03 ("Configuring High Availability for Directory Sync",
  VMware Identity Manager 19.03 docs): an ordered failover list per directory, empty on
  existing directories (the original connector then syncs), only with every connector at
  19.03.0.0 or later. Its endpoint is an ASSUMPTION (not publicly documented):
  ``GET``/``PUT .../directoryconfigs/{id}/syncconnectors`` with ``{"items":[{"instanceId"}]}``.
* ``POST .../directoryconfigs/{id}/syncprofile/sync`` and the sync log
  ``GET .../directoryconfigs/{id}/syncexecutions`` (newest first), recording the connector that
  ran: the first connector of the list that is up.

Control endpoints (no authentication), for tests: ``POST /_sim/expire-tokens`` (now, or with
``?after=N`` once N more authenticated requests were answered: a token expiring mid-run),
``POST /_sim/connectors/<host or id>/down`` and ``.../up[?version=V]`` (a connector service
stopping and running again, after an upgrade with its new version),
``POST /_sim/connectors?host=H&version=V[&instanceId=I]`` (adds a connector instance),
``POST /_sim/fail-next?status=503&count=N`` (the next N API calls, not logins, answer that),
``GET /_sim/requests`` (methods and paths seen; never headers or bodies),
``GET /_sim/connector-events`` (every down and up, in order) and ``GET /_sim/sync-gaps``: each
moment at which a directory's non-empty Sync Connectors list had no connector up (checked on
every down/up and every change of a list), so that a test can assert there was none.

Not modelled: the real sync (no users or groups), sync safeguards and schedules, paging,
any other resource. ``python3 vidm_sim.py [--port 0] [--port-file F] [--client-secret-file F]`` prints
``port=<n>``.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API = '/SAAS/jersey/manager/api'
CM = API + '/connectormanagement'
VENDOR = 'application/vnd.vmware.horizon.manager.'
MEDIA = dict(
    directory_list='connector.management.directory.list',
    directory='connector.management.directory.details',
    connector_list='connector.management.connector.list',
    associate='connector.management.connector.associate.directory',
    idp_list='identityprovider.list',
    sync_connectors='connector.management.directory.sync.connectors',
    sync='connector.management.directory.sync.profile.sync',
    sync_executions='connector.management.directory.sync.execution.list',
)
MIN_SYNC_CONNECTOR_VERSION = (19, 3, 0, 0)


def version_tuple(text):
    parts = [int(''.join(c for c in p if c.isdigit()) or 0) for p in str(text).split('.')]
    if parts[0] >= 2000:
        parts[0] -= 2000
    return tuple(parts + [0] * (4 - len(parts)))


def seed():
    directories = {}
    for did, name, dtype, tls in (
            ('d-iwa-corp', 'corp.example.com', 'ACTIVE_DIRECTORY_IWA', True),
            ('d-iwa-emea', 'emea.example.com', 'ACTIVE_DIRECTORY_IWA', True),
            ('d-iwa-lab', 'lab.example.com', 'ACTIVE_DIRECTORY_IWA', False),
            ('d-ldap-partners', 'partners.example.com', 'ACTIVE_DIRECTORY_LDAP', True),
            ('d-local', 'System Directory', 'LOCAL_DIRECTORY', None)):
        d = dict(directoryId=did, name=name, type=dtype, domains=[name] if '.' in name else [],
                 syncConfigurationEnabled=dtype != 'LOCAL_DIRECTORY')
        if tls is not None:
            d['useStartTls'] = tls
            d['sslCertificate'] = '-----BEGIN CERTIFICATE-----\nMIIsim\n-----END CERTIFICATE-----' if tls else None
        directories[did] = d
    connectors = {}
    for cid, host, version in (('c-1', 'connector1.example.com', '19.03.0.1'),
                               ('c-2', 'connector2.example.com', '19.03.0.1'),
                               ('c-3', 'connector3.example.com', '20.10.0.0')):
        connectors[cid] = dict(instanceId=cid, host=host, version=version, up=True)
    idps = {
        'idp-1': dict(id='idp-1', name='WorkspaceIDP__1', connectors=['c-1'],
                      directories=['d-iwa-corp', 'd-iwa-emea']),
        'idp-2': dict(id='idp-2', name='WorkspaceIDP__2', connectors=['c-2'], directories=['d-ldap-partners']),
        'idp-3': dict(id='idp-3', name='WorkspaceIDP__3', connectors=['c-1'], directories=['d-iwa-lab']),
    }
    # Existing directories have an empty list; d-ldap-partners was created after the upgrade.
    sync_connectors = {'d-iwa-corp': [], 'd-iwa-emea': [], 'd-iwa-lab': [], 'd-ldap-partners': ['c-2']}
    return directories, connectors, idps, sync_connectors


class State:
    def __init__(self, args):
        self.lock = threading.RLock()
        self.clients = {args.client_id: args.client_secret}
        self.users = {args.username: args.password}
        self.token_ttl = args.token_ttl
        self.tokens = {}
        self.directories, self.connectors, self.idps, self.sync_connectors = seed()
        self.executions = {}
        self.fail_next = []
        self.requests = []
        self.expire_after = None
        self.connector_events = []
        self.sync_gaps = []

    def record_gaps(self, cause):
        """Note every directory whose failover list has connectors but none of them up."""
        for did, ids in sorted(self.sync_connectors.items()):
            if ids and not any(self.connectors[c]['up'] for c in ids):
                self.sync_gaps.append(dict(time=time.time(), directoryId=did, name=self.directories[did]['name'],
                                           connectors=[self.connectors[c]['host'] for c in ids], cause=cause))

    def expire_all(self):
        for token in self.tokens:
            self.tokens[token] = 0

    def issue(self):
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.time() + self.token_ttl
        return token


class SimError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def vendor(name):
    return VENDOR + MEDIA[name] + '+json'


class Handler(BaseHTTPRequestHandler):
    server_version = 'vidm-sim/1'
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):  # quiet, and never a header
        sys.stderr.write('vidm-sim: %s\n' % (fmt % args))

    @property
    def state(self):
        return self.server.state

    def _reply(self, status, body=None, media='application/json'):
        raw = b''
        if body is not None:
            raw = (body if isinstance(body, str) else json.dumps(body)).encode('utf-8')
        self.send_response(status)
        if raw:
            self.send_header('Content-Type', media)
        self.send_header('Content-Length', str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _body(self):
        length = int(self.headers.get('Content-Length') or 0)
        return self.rfile.read(length) if length else b''

    def _dispatch(self, method):
        url = urllib.parse.urlsplit(self.path)
        path, query = url.path, dict(urllib.parse.parse_qsl(url.query))
        raw = self._body()
        with self.state.lock:
            self.state.requests.append('%s %s' % (method, path))
            try:
                if path.startswith('/_sim/'):
                    return self._reply(*self._control(method, path, query))
                if self.state.fail_next and not path.startswith(('/SAAS/auth/', '/SAAS/API/1.0/REST/auth/')):
                    status = self.state.fail_next.pop(0)
                    return self._reply(status, {'errors': [{'code': 'sim.injected', 'message': 'injected failure'}]})
                status, body, media = self._route(method, path, query, raw)
                return self._reply(status, body, media)
            except SimError as exc:
                return self._reply(exc.status, {'errors': [{'code': str(exc.status), 'message': exc.message}]})

    def do_GET(self):
        self._dispatch('GET')

    def do_POST(self):
        self._dispatch('POST')

    def do_PUT(self):
        self._dispatch('PUT')

    def do_DELETE(self):
        self._dispatch('DELETE')

    # --- control ---------------------------------------------------------------------------

    def _control(self, method, path, query):
        st = self.state
        if method == 'POST' and path == '/_sim/expire-tokens':
            if 'after' in query:
                st.expire_after = int(query['after'])
                return 200, {'expire_after': st.expire_after}
            st.expire_all()
            return 200, {'expired': len(st.tokens)}
        if method == 'POST' and path == '/_sim/fail-next':
            st.fail_next.extend([int(query.get('status', 503))] * int(query.get('count', 1)))
            return 200, {'pending': len(st.fail_next)}
        if method == 'GET' and path == '/_sim/requests':
            return 200, {'items': st.requests}
        if method == 'GET' and path == '/_sim/connector-events':
            return 200, {'items': st.connector_events}
        if method == 'GET' and path == '/_sim/sync-gaps':
            return 200, {'items': st.sync_gaps}
        if method == 'POST' and path == '/_sim/connectors':
            cid = query.get('instanceId') or 'c-%d' % (len(st.connectors) + 1)
            st.connectors[cid] = dict(instanceId=cid, host=query['host'], version=query.get('version', '19.03.0.0'), up=True)
            return 200, self._connector_view(st.connectors[cid])
        parts = path.split('/')
        if method == 'POST' and len(parts) == 5 and parts[2] == 'connectors' and parts[4] in ('up', 'down'):
            conn = self._connector(parts[3])
            conn['up'] = parts[4] == 'up'
            if conn['up'] and query.get('version'):
                conn['version'] = query['version']
            st.connector_events.append(dict(time=time.time(), host=conn['host'], up=conn['up'], version=conn['version']))
            st.record_gaps('%s %s' % (conn['host'], parts[4]))
            return 200, self._connector_view(conn)
        return 404, {'errors': [{'message': 'no control endpoint %s %s' % (method, path)}]}

    # --- auth and media -----------------------------------------------------------------------

    def _authenticate(self):
        st = self.state
        if st.expire_after is not None:
            if st.expire_after <= 0:
                st.expire_all()
                st.expire_after = None
            else:
                st.expire_after -= 1
        value = self.headers.get('Authorization') or ''
        scheme, dummy, token = value.partition(' ')
        if scheme not in ('Bearer', 'HZN') or not token:
            raise SimError(401, 'authentication required')
        expires = self.state.tokens.get(token)
        if expires is None:
            raise SimError(401, 'invalid token')
        if time.time() >= expires:
            raise SimError(401, 'token expired')

    def _accept(self, name):
        accept = self.headers.get('Accept') or ''
        offered = [a.split(';')[0].strip() for a in accept.split(',') if a.strip()]
        if not any(a in (vendor(name), 'application/json') for a in offered):
            raise SimError(406, 'Accept must be %s or application/json, got %r' % (vendor(name), accept))

    def _json_body(self, raw, name, allowed, required=()):
        ctype = (self.headers.get('Content-Type') or '').split(';')[0].strip()
        if ctype not in (vendor(name), 'application/json'):
            raise SimError(415, 'Content-Type must be %s or application/json, got %r' % (vendor(name), ctype))
        try:
            body = json.loads(raw.decode('utf-8'))
        except ValueError:
            raise SimError(400, 'body is not JSON')
        if not isinstance(body, dict):
            raise SimError(400, 'body must be a JSON object')
        unknown = sorted(set(body) - set(allowed))
        if unknown:
            raise SimError(400, 'unknown field(s): %s' % ', '.join(unknown))
        missing = [k for k in required if k not in body]
        if missing:
            raise SimError(400, 'missing field(s): %s' % ', '.join(missing))
        return body

    # --- resources ------------------------------------------------------------------------------

    def _directory(self, did):
        d = self.state.directories.get(did)
        if d is None:
            raise SimError(404, 'no directory %s' % did)
        return d

    def _connector(self, key):
        for conn in self.state.connectors.values():
            if key in (conn['instanceId'], conn['host']):
                return conn
        raise SimError(404, 'no connector instance %s' % key)

    @staticmethod
    def _connector_view(conn):
        return dict(instanceId=conn['instanceId'], host=conn['host'], version=conn['version'],
                    status='UP' if conn['up'] else 'DOWN')

    def _idp_of(self, did):
        for idp in self.state.idps.values():
            if did in idp['directories']:
                return idp
        return None

    def _route(self, method, path, query, raw):
        st = self.state
        if path == '/SAAS/auth/oauthtoken':
            if method != 'POST':
                raise SimError(405, 'POST only')
            if query.get('grant_type') != 'client_credentials':
                raise SimError(400, 'grant_type must be client_credentials')
            ctype = (self.headers.get('Content-Type') or '').split(';')[0].strip()
            if ctype != 'application/x-www-form-urlencoded':
                raise SimError(415, 'Content-Type must be application/x-www-form-urlencoded')
            scheme, dummy, creds = (self.headers.get('Authorization') or '').partition(' ')
            try:
                client_id, dummy, secret = base64.b64decode(creds).decode('utf-8').partition(':')
            except Exception:  # pylint: disable=broad-except
                client_id, secret = None, None
            if scheme != 'Basic' or client_id not in st.clients or st.clients[client_id] != secret:
                raise SimError(401, 'invalid client credentials')
            return 200, dict(access_token=st.issue(), token_type='Bearer', expires_in=st.token_ttl,
                             refresh_token=secrets.token_urlsafe(8), scope='admin'), 'application/json'
        if path == '/SAAS/API/1.0/REST/auth/system/login':
            if method != 'POST':
                raise SimError(405, 'POST only')
            ctype = (self.headers.get('Content-Type') or '').split(';')[0].strip()
            if ctype != 'application/json':
                raise SimError(415, 'Content-Type must be application/json')
            try:
                body = json.loads(raw.decode('utf-8'))
            except ValueError:
                raise SimError(400, 'body is not JSON')
            if set(body) - {'username', 'password', 'issueToken'}:
                raise SimError(400, 'unknown field(s)')
            if st.users.get(body.get('username')) != body.get('password') or body.get('password') is None:
                raise SimError(401, 'invalid credentials')
            return 200, dict(sessionToken=st.issue()), 'application/json'

        self._authenticate()
        parts = path[len(CM):].strip('/').split('/') if path.startswith(CM + '/') else None

        if path == API + '/identityProviders' and method == 'GET':
            self._accept('idp_list')
            out = []
            for idp in st.idps.values():
                out.append(dict(id=idp['id'], name=idp['name'],
                                directoryConfigurations=[dict(directoryId=d, name=st.directories[d]['name'])
                                                         for d in idp['directories']],
                                connectors=[dict(instanceId=c, host=st.connectors[c]['host'])
                                            for c in idp['connectors']]))
            return 200, {'items': out}, vendor('idp_list')

        if parts == ['directoryconfigs'] and method == 'GET':
            self._accept('directory_list')
            return 200, {'items': [copy.deepcopy(d) for d in st.directories.values()]}, vendor('directory_list')

        if parts == ['connectorinstances'] and method == 'GET':
            self._accept('connector_list')
            return 200, {'items': [self._connector_view(c) for c in st.connectors.values()]}, vendor('connector_list')

        if parts and len(parts) == 3 and parts[0] == 'connectorinstances' and parts[2] == 'associatedirectory':
            if method != 'POST':
                raise SimError(405, 'POST only')
            conn = st.connectors.get(parts[1])
            if conn is None:
                raise SimError(404, 'no connector instance %s' % parts[1])
            idp = st.idps.get(query.get('idp', ''))
            if idp is None:
                raise SimError(400, 'idp query parameter must name an identity provider')
            body = self._json_body(raw, 'associate',
                                   ('directoryId', 'directoryBindPassword', 'usedForAuthentication', 'bindToAD'),
                                   ('directoryId', 'directoryBindPassword'))
            if body['directoryId'] not in idp['directories']:
                raise SimError(400, 'directory %s is not served by %s' % (body['directoryId'], idp['name']))
            if not body['directoryBindPassword']:
                raise SimError(400, 'directoryBindPassword is empty')
            if parts[1] not in idp['connectors']:
                idp['connectors'].append(parts[1])
            return 200, {'instanceId': parts[1], 'idp': idp['id'], 'directoryId': body['directoryId']}, vendor('associate')

        if parts and parts[0] == 'directoryconfigs' and len(parts) >= 2:
            d = self._directory(parts[1])
            rest = parts[2:]
            if not rest and method == 'GET':
                self._accept('directory')
                return 200, copy.deepcopy(d), vendor('directory')
            if not rest and method == 'PUT':
                self._accept('directory')
                body = self._json_body(raw, 'directory', list(d), ())
                for key in ('directoryId', 'type'):
                    if key in body and body[key] != d[key]:
                        raise SimError(400, '%s cannot change' % key)
                if 'useStartTls' in body and not isinstance(body['useStartTls'], bool):
                    raise SimError(400, 'useStartTls must be a boolean')
                d.update(body)
                if d.get('useStartTls') is False:
                    d['sslCertificate'] = None
                return 200, copy.deepcopy(d), vendor('directory')
            if rest == ['syncconnectors'] and method == 'GET':
                self._accept('sync_connectors')
                return 200, self._sync_view(d['directoryId']), vendor('sync_connectors')
            if rest == ['syncconnectors'] and method == 'PUT':
                self._accept('sync_connectors')
                body = self._json_body(raw, 'sync_connectors', ('items',), ('items',))
                old = [c['instanceId'] for c in st.connectors.values()
                       if version_tuple(c['version']) < MIN_SYNC_CONNECTOR_VERSION]
                if old:
                    raise SimError(400, 'Sync Connectors need every connector at 19.03.0.0 or later: %s' % ', '.join(old))
                idp = self._idp_of(d['directoryId'])
                wanted = []
                for entry in body['items'] or []:
                    if not isinstance(entry, dict) or set(entry) != {'instanceId'}:
                        raise SimError(400, 'each item must be {"instanceId": ...}')
                    cid = entry['instanceId']
                    if cid not in st.connectors:
                        raise SimError(400, 'no connector instance %s' % cid)
                    if idp is None or cid not in idp['connectors']:
                        raise SimError(400, 'connector %s is not associated with the directory\'s identity provider' % cid)
                    if cid in wanted:
                        raise SimError(400, 'connector %s listed twice' % cid)
                    wanted.append(cid)
                st.sync_connectors[d['directoryId']] = wanted
                st.record_gaps('Sync Connectors list of %s set' % d['name'])
                return 200, self._sync_view(d['directoryId']), vendor('sync_connectors')
            if rest == ['syncprofile', 'sync'] and method == 'POST':
                self._json_body(raw, 'sync', ('ignoreSafeguards',), ())
                return 200, self._run_sync(d), vendor('sync')
            if rest == ['syncexecutions'] and method == 'GET':
                self._accept('sync_executions')
                return 200, {'items': list(reversed(st.executions.get(d['directoryId'], [])))}, vendor('sync_executions')
        raise SimError(404, 'no resource %s %s' % (method, path))

    def _sync_view(self, did):
        return {'items': [dict(instanceId=c, host=self.state.connectors[c]['host'])
                          for c in self.state.sync_connectors.get(did, [])]}

    def _run_sync(self, d):
        st = self.state
        did = d['directoryId']
        candidates = list(st.sync_connectors.get(did) or [])
        if not candidates:
            idp = self._idp_of(did)
            candidates = idp['connectors'][:1] if idp else []   # the original connector, no fallback
        ran, tried = None, []
        for cid in candidates:
            tried.append(cid)
            if st.connectors[cid]['up']:
                ran = cid
                break
        log = st.executions.setdefault(did, [])
        execution = dict(executionId='%s-%d' % (did, len(log) + 1), startTime=int(time.time() * 1000),
                         connectorInstanceId=ran, connectorHost=st.connectors[ran]['host'] if ran else None,
                         triedConnectors=tried, status='COMPLETED' if ran else 'FAILED')
        log.append(execution)
        return execution


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--port-file')
    parser.add_argument('--client-id', default='ansible')
    parser.add_argument('--client-secret', default='sim-client-secret')
    parser.add_argument('--client-secret-file', help='read the client secret from this file (keeps it off ps)')
    parser.add_argument('--username', default='admin')
    parser.add_argument('--password', default='sim-admin-password')
    parser.add_argument('--token-ttl', type=int, default=3600)
    args = parser.parse_args(argv)
    if args.client_secret_file:
        with open(args.client_secret_file, encoding='utf-8') as secret:
            args.client_secret = secret.read().strip()
    server = ThreadingHTTPServer(('127.0.0.1', args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    port = server.server_address[1]
    print('port=%d' % port, flush=True)
    if args.port_file:
        with open(args.port_file + '.tmp', 'w') as f:
            f.write('%d\n' % port)
        os.replace(args.port_file + '.tmp', args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
