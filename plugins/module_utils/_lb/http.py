# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""The one JSON-over-HTTPS client of the REST load-balancer backends (NSX-T, F5).

One place for the base URL, basic authentication, TLS (``validate_certs`` on by default,
``ca_path``), the timeout and errors: every failure is an ``LBHTTPError`` (an ``LBError``)
carrying the method, URL, HTTP status (``None`` when there was no answer) and the start of
the answer's body. The password is never part of a message.
"""

from __future__ import annotations

import json
import socket
import urllib.error

from ansible.module_utils.urls import open_url

from ansible_collections.idmops.lifecycle.plugins.module_utils._lb.base import LBError


BODY_SHOWN = 500

HTTP_ARGUMENT_SPEC = dict(
    api_url=dict(type='str'),
    api_user=dict(type='str'),
    api_password=dict(type='str', no_log=True),
    validate_certs=dict(type='bool', default=True),
    ca_path=dict(type='path'),
)


class LBHTTPError(LBError):
    """An HTTP request failed: ``status`` is the HTTP status or ``None``, ``body`` the answer."""

    def __init__(self, method, url, status, body, reason=None):
        self.method = method
        self.url = url
        self.status = status
        self.body = body or ''
        if status is None:
            msg = '%s %s failed: %s' % (method, url, reason)
        else:
            shown = self.body[:BODY_SHOWN] + ('...' if len(self.body) > BODY_SHOWN else '')
            msg = '%s %s answered HTTP %s%s' % (method, url, status, (': %s' % shown) if shown else '')
        super().__init__(msg)


class JSONClient:
    """JSON requests below ``base_url`` with basic authentication.

    ``opener`` is ``open_url`` (tests pass a stand-in with the same keywords).
    """

    def __init__(self, base_url, user, password, validate_certs=True, ca_path=None, timeout=10.0,
                 opener=open_url):
        if not base_url:
            raise LBError('api_url is required')
        self.base_url = base_url.rstrip('/')
        self.user = user
        self.password = password
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.opener = opener
        self.headers = {}

    @classmethod
    def from_params(cls, params, opener=open_url):
        return cls(params.get('api_url'), params.get('api_user'), params.get('api_password'),
                   validate_certs=params.get('validate_certs', True), ca_path=params.get('ca_path'),
                   timeout=params.get('timeout') or 10.0, opener=opener)

    def url(self, path):
        return self.base_url + path

    def request(self, method, path, body=None):
        """Send ``body`` (JSON) and return the decoded JSON answer (``None`` when empty)."""
        url = self.url(path)
        headers = dict(self.headers, Accept='application/json')
        data = None
        if body is not None:
            data = json.dumps(body).encode('utf-8')
            headers['Content-Type'] = 'application/json'
        kwargs = dict(method=method, data=data, headers=headers, timeout=self.timeout,
                      validate_certs=self.validate_certs, follow_redirects='none')
        if self.ca_path:
            kwargs['ca_path'] = self.ca_path
        if self.user is not None and 'X-F5-Auth-Token' not in self.headers:
            kwargs.update(url_username=self.user, url_password=self.password, force_basic_auth=True)
        try:
            response = self.opener(url, **kwargs)
        except urllib.error.HTTPError as exc:
            try:
                text = exc.read().decode('utf-8', 'replace')
            except Exception:  # pylint: disable=broad-except
                text = ''
            raise LBHTTPError(method, url, exc.code, text)
        except (urllib.error.URLError, socket.error, ValueError) as exc:
            raise LBHTTPError(method, url, None, '', reason=getattr(exc, 'reason', exc))
        try:
            text = response.read().decode('utf-8', 'replace')
        finally:
            response.close()
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise LBHTTPError(method, url, getattr(response, 'status', 200), text,
                              reason='the answer is not JSON')
