#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


DOCUMENTATION = r'''
---
module: vidm_health
short_description: Wait until a VMware Identity Manager (Workspace ONE Access) node reports healthy
version_added: 0.1.0
description:
  - Polls C(GET /SAAS/API/1.0/REST/system/health/heartbeat) (which must answer C(ok)) and
    C(GET /SAAS/API/1.0/REST/system/health) of O(url) until the node is green or O(timeout) passes.
  - Green means C(AllOk) is C("true"), the search service (C(ElasticsearchServiceOk), or
    C(OpenSearchServiceOk) on releases that have it) is C("true") and its unassigned shards are C("0")
    (unless O(check_search=false)), and C(EhCacheClusterPeers) equals O(expected_peers) when given.
  - Every value of the health document is a string (C("true"), C("false"), C("unknown"), or a number).
  - On a timeout the task fails; the message names the timeout and each failing field with its last
    value, and RV(failing) holds them.
  - The module only reads; it never reports a change.
author:
  - idmops.lifecycle maintainers (@idmops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - The node is polled in check mode too, since nothing changes.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  url:
    description:
      - Base URL of the node, for example V(https://vidm1.example.com).
    type: str
    required: true
  timeout:
    description:
      - Upper bound, in seconds, of the wait. V(0) probes once.
    type: int
    default: 600
  wait_sleep:
    description:
      - Seconds between two probes. From the collection's shared wait option group.
    type: float
    default: 1.0
  request_timeout:
    description:
      - Timeout of one HTTP request, in seconds.
    type: int
    default: 10
  expected_peers:
    description:
      - The number of cluster nodes C(EhCacheClusterPeers) must report.
    type: int
  check_search:
    description:
      - Require the Elasticsearch/OpenSearch service OK and no unassigned shards.
    type: bool
    default: true
  validate_certs:
    description:
      - Validate the TLS certificate of an https O(url).
    type: bool
    default: true
seealso:
  - module: idmops.lifecycle.vidm_appliance_upgrade
'''

EXAMPLES = r'''
- name: Wait up to 20 minutes for the upgraded node, a three-node cluster
  idmops.lifecycle.vidm_health:
    url: "https://{{ inventory_hostname }}"
    timeout: 1200
    expected_peers: 3
  delegate_to: localhost
'''

RETURN = r'''
health:
  description: The last health document (every value a string).
  returned: success
  type: dict
  sample: {"AllOk": "true", "ElasticsearchServiceOk": "true", "BuildVersion": "3.3.7.0 Build 21173100"}
build_version:
  description: C(BuildVersion) of the health document, or null.
  returned: success
  type: str
  sample: 3.3.7.0 Build 21173100
waited_seconds:
  description: Seconds until the node was green.
  returned: success
  type: float
  sample: 12.5
failing:
  description: Failing fields and their last values (C(heartbeat) when the node did not answer).
  returned: failure
  type: dict
  sample: {"AllOk": "false", "ElasticsearchUnassignedShards": "5"}
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idmops.lifecycle.plugins.module_utils._vidm_appliance import (
    ApplianceError,
    make_fetch,
    wait_healthy,
)
from ansible_collections.idmops.lifecycle.plugins.module_utils._wait import WAIT_ARGUMENT_SPEC


def argument_spec():
    return dict(
        url=dict(type='str', required=True),
        timeout=dict(type='int', default=600),
        wait_sleep=dict(WAIT_ARGUMENT_SPEC['wait_sleep']),
        request_timeout=dict(type='int', default=10),
        expected_peers=dict(type='int'),
        check_search=dict(type='bool', default=True),
        validate_certs=dict(type='bool', default=True),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    fetch = make_fetch(params['url'], params['validate_certs'], params['request_timeout'])
    try:
        doc, seconds = wait_healthy(fetch, params['timeout'], params['wait_sleep'],
                                    expected_peers=params['expected_peers'], check_search=params['check_search'])
    except ApplianceError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    module.exit_json(changed=False, health=doc, build_version=doc.get('BuildVersion'),
                     waited_seconds=round(seconds, 3))


if __name__ == '__main__':
    main()
