# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""Upgrade a deployed AM's configuration over REST (``config/upgrade/upgrade.htm``).

The path of one upgrade (``RestUpgrade.run``):

1. probe ``ready_url`` once; HTTP 200 means AM runs on a current configuration, so there is
   nothing to upgrade (the module's idempotence rule, an assumption about AM: an AM waiting
   for its upgrade serves only the upgrader and does not report ready);
2. ``GET <base_url>/config/upgrade/upgrade.htm?actionLink=doUpgrade&actionLink=saveReport&acceptLicense=true``
   without following redirects; success only when it answers HTTP 200 with the body ``true``
   (surrounding whitespace ignored); anything else fails with the status and the body;
3. optionally wait for ``ready_url`` through ``_tomcat.HttpReadiness`` (and so ``_wait.wait_until``).
"""

from __future__ import annotations

import functools
import http.client
import socket
import urllib.error
import urllib.parse

from ansible.module_utils.urls import open_url, ConnectionError as UrlsConnectionError

from ansible_collections.idmops.lifecycle.plugins.module_utils._tomcat import HttpReadiness
from ansible_collections.idmops.lifecycle.plugins.module_utils._wait import WaitTimeout


UPGRADE_PATH = '/config/upgrade/upgrade.htm'
UPGRADE_QUERY = 'actionLink=doUpgrade&actionLink=saveReport&acceptLicense=true'
READY_PATH = '/json/health/ready'
MAX_BODY = 2000
READY_PROBE_TIMEOUT = 10


class AmRestError(Exception):
    """The REST upgrade failed; ``result`` holds the return values known so far."""

    def __init__(self, message, **result):
        super().__init__(message)
        result.pop('msg', None)  # the message is the exception's own
        self.result = result


def check_http_url(url, option):
    parsed = urllib.parse.urlsplit(url or '')
    if parsed.scheme not in ('http', 'https') or not parsed.netloc:
        raise AmRestError('%s must be an http:// or https:// URL, got %r' % (option, url))
    return url


def normalize_base_url(base_url):
    """``http://host:8080/am/`` -> ``http://host:8080/am``; no query or fragment allowed."""
    check_http_url(base_url, 'base_url')
    parsed = urllib.parse.urlsplit(base_url)
    if parsed.query or parsed.fragment:
        raise AmRestError('base_url must not carry a query or fragment, got %r' % base_url)
    return base_url.rstrip('/')


def upgrade_url(base_url):
    return '%s%s?%s' % (normalize_base_url(base_url), UPGRADE_PATH, UPGRADE_QUERY)


def default_ready_url(base_url):
    return normalize_base_url(base_url) + READY_PATH


def shorten(text, limit=MAX_BODY):
    return text if len(text) <= limit else '%s... (%d characters in all)' % (text[:limit], len(text))


class RestUpgrade:
    """One AM, one upgrade call: decide from readiness, then (unless check mode) call it."""

    def __init__(self, base_url, ready_url=None, validate_certs=True, ca_path=None, timeout=600,
                 wait_ready=False, ready_timeout=300, wait_sleep=1.0, check_mode=False, opener=None,
                 readiness_class=HttpReadiness):
        self.url = upgrade_url(base_url)
        self.ready_url = check_http_url(ready_url, 'ready_url') if ready_url else default_ready_url(base_url)
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.wait_ready = wait_ready
        self.ready_timeout = ready_timeout
        self.wait_sleep = wait_sleep
        self.check_mode = check_mode
        self.opener = opener if opener is not None else open_url
        self.readiness_class = readiness_class
        for option, value in (('timeout', timeout), ('ready_timeout', ready_timeout)):
            if value <= 0:
                raise AmRestError('%s must be positive, got %s' % (option, value))
        if wait_sleep <= 0:
            raise AmRestError('wait_sleep must be positive, got %s' % wait_sleep)
        self.result = dict(changed=False, url=self.url, ready_url=self.ready_url, ready_before=None,
                           status=None, body=None, ready_seconds=None)

    def _readiness(self, timeout):
        opener = functools.partial(self.opener, ca_path=self.ca_path) if self.ca_path else self.opener
        return self.readiness_class(self.ready_url, [200], timeout, self.wait_sleep,
                                    validate_certs=self.validate_certs, opener=opener)

    def call_upgrade(self):
        """``(status, body)`` of the upgrade GET; redirects are not followed, so they show as their status."""
        try:
            response = self.opener(self.url, method='GET', timeout=self.timeout, validate_certs=self.validate_certs,
                                   ca_path=self.ca_path, follow_redirects='none',
                                   headers={'Accept': 'text/plain, */*'})
            try:
                return response.getcode(), response.read().decode('utf-8', 'replace')
            finally:
                response.close()
        except urllib.error.HTTPError as exc:
            try:
                body = exc.read().decode('utf-8', 'replace') if exc.fp is not None else ''
            except (OSError, http.client.HTTPException):
                body = ''
            location = exc.headers.get('Location') if exc.headers is not None else None
            exc.close()
            if location:
                body = '%s[redirect to %s]' % (body + ' ' if body else '', location)
            return exc.code, body
        except urllib.error.URLError as exc:
            raise AmRestError('GET %s failed: %s' % (self.url, exc.reason), **self.result) from exc
        except (UrlsConnectionError, http.client.HTTPException, socket.timeout, OSError) as exc:
            raise AmRestError('GET %s failed: %s' % (self.url, exc), **self.result) from exc

    def run(self):
        ready, observation = self._readiness(READY_PROBE_TIMEOUT).probe()
        self.result['ready_before'] = ready
        if ready:
            self.result['msg'] = ('%s answers HTTP 200: AM runs on a current configuration, no upgrade needed'
                                  % self.ready_url)
            return self.result
        self.result['changed'] = True
        if self.check_mode:
            self.result['msg'] = 'would GET %s (%s: %s)' % (self.url, self.ready_url, observation)
            return self.result

        status, body = self.call_upgrade()
        self.result.update(status=status, body=shorten(body))
        if status != 200 or body.strip() != 'true':
            self.result['changed'] = status is not None and 200 <= status < 300
            raise AmRestError('upgrade over REST failed: GET %s answered HTTP %s with body %r (expected HTTP 200 '
                              'and the body "true")' % (self.url, status, shorten(body, 500)), **self.result)
        self.result['msg'] = 'GET %s answered true' % self.url
        if self.wait_ready:
            readiness = self._readiness(self.ready_timeout)
            try:
                self.result['ready_seconds'] = readiness.wait()
            except WaitTimeout as exc:
                raise AmRestError('the upgrade call answered true, but AM did not become ready: %s' % exc,
                                  **self.result) from exc
            self.result['msg'] += '; %s answered HTTP 200 after %ss' % (self.ready_url, self.result['ready_seconds'])
        return self.result
