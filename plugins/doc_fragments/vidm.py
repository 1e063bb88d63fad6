# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Connection options of every vIDM (Workspace ONE Access) module."""

    DOCUMENTATION = r'''
options:
  base_url:
    description:
      - The vIDM service, as V(https://vidm.example.com) or a host name (then V(https://) is used).
      - The module calls the admin REST API under C(/SAAS).
    type: str
    required: true
    aliases: [host]
  auth_method:
    description:
      - V(client_credentials) gets an OAuth2 token with
        C(POST /SAAS/auth/oauthtoken?grant_type=client_credentials) and HTTP Basic
        O(client_id):O(client_secret); the token is sent as C(Bearer).
      - V(system) logs in with C(POST /SAAS/API/1.0/REST/auth/system/login) as O(username) and
        O(password); the session token is sent as C(HZN <token>).
      - The token is kept for the task and renewed before it expires, and once more when the
        service answers 401.
    type: str
    choices: [client_credentials, system]
    default: client_credentials
  client_id:
    description:
      - The OAuth2 client ID (a service client with the admin scope). Required with O(auth_method=client_credentials).
    type: str
  client_secret:
    description:
      - The OAuth2 shared secret of O(client_id). Required with O(auth_method=client_credentials).
    type: str
  username:
    description:
      - The local admin user for O(auth_method=system).
    type: str
  password:
    description:
      - The password of O(username). Required with O(auth_method=system).
    type: str
  validate_certs:
    description:
      - Validate the service's TLS certificate.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of CA certificates to validate the service's certificate with.
    type: path
  timeout:
    description:
      - Seconds each HTTP request may take.
    type: int
    default: 30
  retries:
    description:
      - How many times a request is repeated after a connection error or an HTTP 5xx answer, with an
        exponential backoff starting at 1 second (at most 10 seconds between two attempts). V(0) never repeats.
      - Every request is repeated, including a sync trigger, which the service may then have received twice.
    type: int
    default: 3
  media_type:
    description:
      - V(vendor) sends the vendor media types C(application/vnd.vmware.horizon.manager.<resource>+json).
      - V(json) sends C(application/json), which newer releases also accept.
      - The vendor names of some resources are not publicly documented; the module's notes list
        the ones that are assumptions.
    type: str
    choices: [vendor, json]
    default: vendor
notes:
  - Options can be set once for every vIDM module of a play with C(module_defaults) and the
    action group C(group/idmops.lifecycle.lifecycle).
'''
