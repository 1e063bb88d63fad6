# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""One client for the VMware Identity Manager (Workspace ONE Access) admin REST API.

Every vIDM module builds its connection with ``VidmClient.from_module(module)`` and so shares
one place for authentication (OAuth2 client credentials or system login), TLS, timeouts,
bounded retries with backoff, vendor media types and errors (``VidmError`` with the status
and the body of the answer). Secrets never appear in an error message.
"""

from __future__ import annotations

import base64
import json
import socket
import time
import urllib.error
import urllib.parse

from ansible.module_utils.urls import open_url


API = '/SAAS/jersey/manager/api'
TOKEN_PATH = '/SAAS/auth/oauthtoken?grant_type=client_credentials'
LOGIN_PATH = '/SAAS/API/1.0/REST/auth/system/login'
VENDOR_PREFIX = 'application/vnd.vmware.horizon.manager.'

# The vendor media type names (between the prefix and "+json") used per resource. Those not
# confirmed by public documentation are assumptions, stated in the module documentation.
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

VIDM_ARGUMENT_SPEC = dict(
    base_url=dict(type='str', required=True, aliases=['host']),
    auth_method=dict(type='str', choices=['client_credentials', 'system'], default='client_credentials'),
    client_id=dict(type='str'),
    client_secret=dict(type='str', no_log=True),
    username=dict(type='str'),
    password=dict(type='str', no_log=True),
    validate_certs=dict(type='bool', default=True),
    ca_path=dict(type='path'),
    timeout=dict(type='int', default=30),
    retries=dict(type='int', default=3),
    media_type=dict(type='str', choices=['vendor', 'json'], default='vendor'),
)

VIDM_REQUIRED_IF = [
    ('auth_method', 'client_credentials', ('client_id', 'client_secret')),
    ('auth_method', 'system', ('username', 'password')),
]

# A token is renewed this many seconds before the expiry the server announced.
EXPIRY_SKEW = 30
# A system login session token whose expiry cannot be read is kept this long.
DEFAULT_SESSION_SECONDS = 1800
BODY_LIMIT = 2000


class VidmError(Exception):
    """A failed call: ``status`` (None without an HTTP answer), ``body`` (text, shortened), ``url``."""

    def __init__(self, message, status=None, body=None, method=None, url=None):
        self.status = status
        self.body = body
        self.method = method
        self.url = url
        super().__init__(message)

    def to_result(self):
        return dict(status=self.status, body=self.body, url=self.url, method=self.method)


def vidm_argument_spec(**extra):
    """The shared connection options plus a module's own ``extra`` options."""
    spec = dict((key, dict(value)) for key, value in VIDM_ARGUMENT_SPEC.items())
    spec.update(extra)
    return spec


def normalize_base_url(value):
    """``https://host[:port]`` from a host name or a URL; a trailing slash is dropped."""
    value = (value or '').strip()
    if not value:
        raise VidmError('base_url (host) must not be empty')
    if '://' not in value:
        value = 'https://' + value
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme not in ('http', 'https') or not parsed.netloc:
        raise VidmError('base_url must be an http or https URL or a host name, got %r' % value)
    return value.rstrip('/')


def version_tuple(version):
    """A comparable tuple for a connector version such as ``19.03.0.1`` or ``2018.8.1.0``.

    Connector releases before 19.03 were numbered by year (``2017.12.1.0``, ``2018.8.1.0``);
    a leading year above 2000 is read as its last two digits so that it sorts before 19.03.
    Missing parts count as 0; a version that is not dotted numbers raises ``ValueError``.
    """
    text = str(version or '').strip()
    if not text:
        raise ValueError('empty version')
    parts = []
    for part in text.split('.'):
        digits = ''
        for char in part:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            raise ValueError('not a version: %r' % text)
        parts.append(int(digits))
    if parts[0] >= 2000:
        parts[0] -= 2000
    while len(parts) < 4:
        parts.append(0)
    return tuple(parts)


def version_at_least(version, minimum):
    """Whether ``version`` is ``minimum`` or later; an unreadable version is not."""
    try:
        return version_tuple(version) >= version_tuple(minimum)
    except ValueError:
        return False


def _jwt_expiry(token):
    """The ``exp`` claim of a JWT, or None."""
    try:
        payload = token.split('.')[1]
        payload += '=' * (-len(payload) % 4)
        return float(json.loads(base64.urlsafe_b64decode(payload.encode('ascii')))['exp'])
    except Exception:  # pylint: disable=broad-except
        return None


class VidmClient:
    """Calls to one vIDM service with a cached token, renewed on expiry and once on a 401."""

    def __init__(self, base_url, auth_method='client_credentials', client_id=None, client_secret=None,
                 username=None, password=None, validate_certs=True, ca_path=None, timeout=30,
                 retries=3, media_type='vendor', backoff=1.0, max_backoff=10.0,
                 opener=open_url, sleep=time.sleep, clock=time.time):
        if auth_method not in ('client_credentials', 'system'):
            raise VidmError('auth_method must be client_credentials or system, got %r' % (auth_method,))
        if auth_method == 'client_credentials' and not (client_id and client_secret):
            raise VidmError('auth_method=client_credentials needs client_id and client_secret')
        if auth_method == 'system' and not (username and password):
            raise VidmError('auth_method=system needs username and password')
        if timeout <= 0:
            raise VidmError('timeout must be positive, got %s' % timeout)
        if retries < 0:
            raise VidmError('retries must be zero or positive, got %s' % retries)
        self.base_url = normalize_base_url(base_url)
        self.auth_method = auth_method
        self.client_id = client_id
        self._client_secret = client_secret
        self.username = username
        self._password = password
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.retries = retries
        self.media_type = media_type
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._open = opener
        self._sleep = sleep
        self._clock = clock
        self._token = None
        self._token_expires = 0.0
        self.logins = 0

    @classmethod
    def from_module(cls, module):
        p = module.params
        return cls(p['base_url'], auth_method=p['auth_method'], client_id=p['client_id'],
                   client_secret=p['client_secret'], username=p['username'], password=p['password'],
                   validate_certs=p['validate_certs'], ca_path=p['ca_path'], timeout=p['timeout'],
                   retries=p['retries'], media_type=p['media_type'])

    # --- media types -------------------------------------------------------------------------

    def media(self, name):
        """The media type to send for the resource ``name`` (a key of MEDIA or a raw vendor name)."""
        if self.media_type == 'json':
            return 'application/json'
        return VENDOR_PREFIX + MEDIA.get(name, name) + '+json'

    # --- authentication ------------------------------------------------------------------------

    def _authorization(self):
        if self._token is None or self._clock() >= self._token_expires - EXPIRY_SKEW:
            self.login()
        return self._token

    def invalidate(self):
        self._token = None
        self._token_expires = 0.0

    def login(self):
        """Get a new token (client credentials or system login) and cache it with its expiry."""
        self.invalidate()
        self.logins += 1
        if self.auth_method == 'client_credentials':
            basic = base64.b64encode(('%s:%s' % (self.client_id, self._client_secret)).encode('utf-8')).decode('ascii')
            headers = {'Authorization': 'Basic ' + basic, 'Accept': 'application/json',
                       'Content-Type': 'application/x-www-form-urlencoded'}
            status, answer = self._send('POST', TOKEN_PATH, headers, b'', what='OAuth2 token request')
            token = answer.get('access_token') if isinstance(answer, dict) else None
            if not token:
                raise VidmError('the OAuth2 token answer has no access_token', status=status, method='POST',
                                url=self.base_url + TOKEN_PATH)
            try:
                lifetime = float(answer.get('expires_in') or DEFAULT_SESSION_SECONDS)
            except (TypeError, ValueError):
                lifetime = DEFAULT_SESSION_SECONDS
            self._token = 'Bearer ' + token
            self._token_expires = self._clock() + lifetime
        else:
            body = json.dumps(dict(username=self.username, password=self._password, issueToken='true')).encode('utf-8')
            headers = {'Accept': 'application/json', 'Content-Type': 'application/json'}
            status, answer = self._send('POST', LOGIN_PATH, headers, body, what='system login')
            token = answer.get('sessionToken') if isinstance(answer, dict) else None
            if not token:
                raise VidmError('the system login answer has no sessionToken', status=status, method='POST',
                                url=self.base_url + LOGIN_PATH)
            self._token = 'HZN ' + token
            self._token_expires = _jwt_expiry(token) or (self._clock() + DEFAULT_SESSION_SECONDS)
        return self._token

    # --- calls -----------------------------------------------------------------------------------

    def request(self, method, path, media=None, body=None, content_media=None, query=None):
        """Call ``path`` (under the service root) and return the decoded JSON answer, or None.

        ``media`` names the Accept type, ``content_media`` the Content-Type of ``body``
        (default: ``media``). A 401 drops the token and the call is made once more with a new one.
        """
        if query:
            path = path + ('&' if '?' in path else '?') + urllib.parse.urlencode(query)
        data = None
        headers = {'Accept': self.media(media) if media else 'application/json'}
        if body is not None:
            data = json.dumps(body).encode('utf-8')
            headers['Content-Type'] = self.media(content_media or media) if (content_media or media) else 'application/json'
        for attempt in (1, 2):
            headers['Authorization'] = self._authorization()
            try:
                return self._send(method, path, headers, data)[1]
            except VidmError as exc:
                if exc.status == 401 and attempt == 1:
                    self.invalidate()
                    continue
                raise
        raise AssertionError('unreachable')  # pragma: no cover

    def get(self, path, media=None, query=None):
        return self.request('GET', path, media=media, query=query)

    def put(self, path, body, media=None):
        return self.request('PUT', path, media=media, body=body)

    def post(self, path, body=None, media=None, content_media=None, query=None):
        return self.request('POST', path, media=media, body=body, content_media=content_media, query=query)

    def _send(self, method, path, headers, data, what=None):
        """One call with bounded retries on connection errors and 5xx; ``(status, decoded JSON or None)``."""
        url = self.base_url + path
        label = what or '%s %s' % (method, path)
        attempt = 0
        while True:
            status, body, error = None, None, None
            try:
                response = self._open(url, method=method, headers=dict(headers), data=data,
                                      validate_certs=self.validate_certs, ca_path=self.ca_path,
                                      timeout=self.timeout, follow_redirects='none')
                try:
                    status = response.getcode()
                    raw = response.read()
                finally:
                    response.close()
                return status, _decode(raw, label, status, method, url)
            except urllib.error.HTTPError as exc:
                status = exc.code
                try:
                    body = _text(exc.read())
                except Exception:  # pylint: disable=broad-except
                    body = None
                exc.close()
                if status < 500:
                    raise VidmError('%s failed: HTTP %s%s' % (label, status, _said(body)),
                                    status=status, body=body, method=method, url=url)
                error = 'HTTP %s%s' % (status, _said(body))
            except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as exc:
                reason = getattr(exc, 'reason', exc)
                error = 'connection error: %s' % (reason,)
            if attempt >= self.retries:
                raise VidmError('%s failed after %d attempt(s): %s' % (label, attempt + 1, error),
                                status=status, body=body, method=method, url=url)
            self._sleep(min(self.backoff * (2 ** attempt), self.max_backoff))
            attempt += 1


def _text(raw):
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode('utf-8', 'replace')
    return raw[:BODY_LIMIT]


def _said(body):
    return ': %s' % body.strip() if body and body.strip() else ''


def _decode(raw, label, status, method, url):
    text = raw.decode('utf-8', 'replace') if isinstance(raw, bytes) else (raw or '')
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise VidmError('%s answered HTTP %s with a body that is not JSON' % (label, status),
                        status=status, body=text[:BODY_LIMIT], method=method, url=url)


def items(answer):
    """The ``items`` list of a list answer (an empty list when there is none)."""
    if isinstance(answer, dict):
        return list(answer.get('items') or [])
    if isinstance(answer, list):
        return answer
    return []


# --- directories ----------------------------------------------------------------------------------

IWA = 'ACTIVE_DIRECTORY_IWA'
DIRECTORIES = API + '/connectormanagement/directoryconfigs'


def list_directories(client):
    return items(client.get(DIRECTORIES, media='directory_list'))


def find_directory(directories, key):
    """The directory whose name or directoryId is ``key``; VidmError naming the known ones otherwise."""
    for d in directories:
        if key in (d.get('name'), d.get('directoryId')):
            return d
    raise VidmError('no directory named %r; known: %s' % (key, ', '.join(sorted(str(d.get('name')) for d in directories))))


def set_start_tls(client, directories, wanted, force=False, check_mode=False):
    """Set ``useStartTls`` to ``wanted`` on each of ``directories`` (list entries of list_directories).

    Refuses (before any change) to turn STARTTLS on for AD-over-IWA directories unless ``force``.
    Returns one result per directory: directoryId, name, type, before, after, changed.
    """
    if wanted and not force:
        iwa = [d.get('name') for d in directories if d.get('type') == IWA]
        if iwa:
            raise VidmError('refusing to turn STARTTLS on for Active Directory over IWA directories (%s): the '
                            'connector does not support STARTTLS with IWA; set force=true to do it anyway'
                            % ', '.join(iwa))
    results = []
    for d in directories:
        did = d['directoryId']
        detail = client.get('%s/%s' % (DIRECTORIES, urllib.parse.quote(did, safe='')), media='directory')
        if not isinstance(detail, dict) or 'useStartTls' not in detail:
            raise VidmError('directory %r (%s) has no STARTTLS setting' % (d.get('name'), d.get('type')))
        before = bool(detail['useStartTls'])
        changed = before != wanted
        if changed and not check_mode:
            detail['useStartTls'] = wanted
            detail = client.put('%s/%s' % (DIRECTORIES, urllib.parse.quote(did, safe='')), detail, media='directory')
            if not isinstance(detail, dict) or bool(detail.get('useStartTls')) != wanted:
                raise VidmError('directory %r still has useStartTls=%s after the update'
                                % (d.get('name'), None if not isinstance(detail, dict) else detail.get('useStartTls')))
        results.append(dict(directoryId=did, name=d.get('name'), type=d.get('type'),
                            before=dict(useStartTls=before), after=dict(useStartTls=wanted), changed=changed))
    return results


# --- connectors and the Sync Connectors list --------------------------------------------------------

CONNECTORS = API + '/connectormanagement/connectorinstances'
IDPS = API + '/identityProviders'
MIN_SYNC_CONNECTOR_VERSION = '19.03.0.0'
SYNC_DIRECTORY_TYPES = ('ACTIVE_DIRECTORY_IWA', 'ACTIVE_DIRECTORY_LDAP')


def _dir_path(did, *rest):
    return '/'.join((DIRECTORIES, urllib.parse.quote(did, safe='')) + rest)


def list_connectors(client):
    return items(client.get(CONNECTORS, media='connector_list'))


def list_idps(client):
    return items(client.get(IDPS, media='idp_list', query=dict(onlyEnabledAdapters='true')))


def old_connectors(connectors, minimum=MIN_SYNC_CONNECTOR_VERSION):
    """``host (version)`` of each connector older than ``minimum`` (an unreadable version counts as older)."""
    return ['%s (%s)' % (c.get('host'), c.get('version')) for c in connectors
            if not version_at_least(c.get('version'), minimum)]


def idp_of(idps, directory):
    for idp in idps:
        for conf in idp.get('directoryConfigurations') or []:
            if directory.get('directoryId') in (conf.get('directoryId'),) or conf.get('name') == directory.get('name'):
                return idp
    return None


def get_sync_connectors(client, did):
    """The instance IDs of the directory's Sync Connectors list, in failover order."""
    return [e.get('instanceId') for e in items(client.get(_dir_path(did, 'syncconnectors'), media='sync_connectors'))]


def put_sync_connectors(client, did, instance_ids):
    body = dict(items=[dict(instanceId=i) for i in instance_ids])
    return [e.get('instanceId') for e in items(client.put(_dir_path(did, 'syncconnectors'), body, media='sync_connectors'))]


def associate(client, instance_id, idp_id, directory_id, bind_password):
    body = dict(directoryId=directory_id, directoryBindPassword=bind_password, usedForAuthentication=True, bindToAD=True)
    return client.post('%s/%s/associatedirectory' % (CONNECTORS, urllib.parse.quote(instance_id, safe='')), body,
                       media='associate', query=dict(idp=idp_id))


def collisions(lists):
    """Groups of directories whose non-empty failover lists are the same, in the same order.

    ``lists`` maps a directory name to its ordered list of connector hosts. Such directories
    sync through the same connector and fall back to the same one, against the documented practice.
    """
    groups = {}
    for name, hosts in lists.items():
        if hosts:
            groups.setdefault(tuple(hosts), []).append(name)
    return [dict(connectors=list(hosts), directories=sorted(names))
            for hosts, names in sorted(groups.items()) if len(names) > 1]


def sync_lists(client, directories, hosts_by_id):
    """Directory name -> ordered connector hosts, for every directory that can have the list."""
    out = {}
    for d in directories:
        if d.get('type') in SYNC_DIRECTORY_TYPES:
            out[d['name']] = [hosts_by_id.get(i, i) for i in get_sync_connectors(client, d['directoryId'])]
    return out


def sync_executions(client, did):
    return items(client.get(_dir_path(did, 'syncexecutions'), media='sync_executions'))


def trigger_sync(client, did):
    return client.post(_dir_path(did, 'syncprofile', 'sync'), dict(ignoreSafeguards=False), media='sync')
