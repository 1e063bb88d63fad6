#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


DOCUMENTATION = r'''
---
module: vidm_sync_connectors
short_description: Set the ordered Sync Connectors (directory sync failover) list of VMware Identity Manager directories
version_added: 0.1.0
description:
  - Since 19.03, each directory of VMware Identity Manager (Workspace ONE Access) on premises has a
    Sync Connectors list. The service syncs users and groups through the first connector of the list
    and, when it is unavailable, through the next one, and so on.
  - The module makes each directory's list exactly the connectors given in O(directories[].connectors),
    in that order, by connector host name. It is idempotent; a list already right is not written.
  - A connector that is not yet associated with the directory's identity provider (its
    C(WorkspaceIDP__<n>)) is associated first, with O(directory_bind_password).
  - The feature needs every connector of the service at version 19.03.0.0 or later. The module fails,
    listing the older connectors, before anything changes. Connector versions from before 19.03 were
    numbered by year (such as C(2018.8.1.0)) and are read as older.
  - Every directory of the service whose list is, after the task, the same connectors in the same order
    as another directory's is reported in RV(collisions), with a warning. Such directories sync through
    the same connector and fall back to the same one, which the vendor advises against.
  - With O(sync=true), a sync of each directory is started and the sync log is read until the new
    execution shows which connector ran (bounded by O(sync_timeout)). The task fails when the sync
    failed or ran on a connector that is not in the list; a fail-over to a later connector is reported
    in RV(directories[].sync) (C(failover)) with a warning.
author:
  - idmops.lifecycle maintainers (@idmops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - idmops.lifecycle.vidm
attributes:
  check_mode:
    support: full
    details:
      - Reads everything and reports the associations and lists that would be written; nothing is
        associated, written or synced.
  diff_mode:
    support: full
    details:
      - The list of connector hosts per directory name, before and after.
  platform:
    platforms: all
options:
  directories:
    description:
      - The wanted lists, one entry per directory.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The directory name or directory ID.
        type: str
        required: true
      connectors:
        description:
          - Host names of the connector instances, in failover order. An empty list empties the list
            (the original connector then syncs, without fail-over).
        type: list
        elements: str
        required: true
  directory_bind_password:
    description:
      - The bind password of the directory's bind account, sent when a connector is associated
        with the directory. Required only when an association is needed.
    type: str
  sync:
    description:
      - Start a sync of each directory in O(directories) after the lists are set, and verify from the
        sync log which connector ran.
    type: bool
    default: false
  sync_timeout:
    description:
      - Seconds to wait for each sync to appear finished in the sync log.
    type: int
    default: 300
  wait_sleep:
    description:
      - Seconds between two reads of the sync log.
      - From the collection's shared wait option group.
    type: float
    default: 1.0
notes:
  - "Assumptions, not publicly documented: the list is read and written at
    C(/SAAS/jersey/manager/api/connectormanagement/directoryconfigs/<id>/syncconnectors) with
    C(GET) and C(PUT) of C({\"items\": [{\"instanceId\": ...}]}) and the media type
    C(application/vnd.vmware.horizon.manager.connector.management.directory.sync.connectors+json);
    connector instances carry their version in C(version); the sync log
    (C(GET .../directoryconfigs/<id>/syncexecutions), newest first) names the connector that ran in
    C(connectorInstanceId) and the outcome in C(status)."
  - The sync is started with C(ignoreSafeguards=false), so the directory's sync safeguards apply.
seealso:
  - module: idmops.lifecycle.vidm_sync_connectors_info
  - name: Configuring high availability for directory sync (VMware docs)
    description: The Sync Connectors list, its requirements and best practices.
    link: https://docs.vmware.com/en/VMware-Workspace-ONE-Access/19.03/identitymanager-connector-win/GUID-configuring-ha-directory-sync.html
'''

EXAMPLES = r'''
- name: Sync each directory through its own connector first, with a different fail-over order
  idmops.lifecycle.vidm_sync_connectors:
    base_url: https://vidm.example.com
    client_id: ansible
    client_secret: "{{ vidm_client_secret }}"
    directory_bind_password: "{{ ad_bind_password }}"
    directories:
      - name: corp.example.com
        connectors: [connector1.example.com, connector2.example.com]
      - name: emea.example.com
        connectors: [connector2.example.com, connector1.example.com]
    sync: true
  register: sync_lists

- name: Show which connector synced each directory
  ansible.builtin.debug:
    msg: "{{ sync_lists.directories | map(attribute='sync') | list }}"
'''

RETURN = r'''
directories:
  description: One entry per directory of O(directories).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The directory name.
      type: str
    directoryId:
      description: The directory ID.
      type: str
    idp:
      description: The name of the directory's identity provider.
      type: str
    before:
      description: The connector hosts of the list before the task.
      type: list
      elements: str
    after:
      description: The connector hosts of the list after the task (in check mode, what it would be).
      type: list
      elements: str
    associated:
      description: Connector hosts associated with the identity provider by this task (or that would be).
      type: list
      elements: str
    changed:
      description: Whether the list or the associations changed (or would).
      type: bool
    sync:
      description:
        - With O(sync=true) and not in check mode, the sync log entry of the sync started by the task.
        - C(connector) is the host that ran, C(status) the outcome, C(failover) whether it was not the first of the list.
      type: dict
      sample: {executionId: d-1, connector: connector2.example.com, status: COMPLETED, failover: true}
collisions:
  description: Groups of directories of the service with the same non-empty list in the same order.
  returned: always
  type: list
  elements: dict
  sample: [{connectors: [connector1.example.com, connector2.example.com], directories: [corp.example.com, emea.example.com]}]
msg:
  description: A one-line summary.
  returned: always
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idmops.lifecycle.plugins.module_utils._vidm import (
    VIDM_REQUIRED_IF,
    VidmClient,
    VidmError,
    associate,
    collisions,
    find_directory,
    get_sync_connectors,
    idp_of,
    list_connectors,
    list_directories,
    list_idps,
    old_connectors,
    put_sync_connectors,
    sync_executions,
    sync_lists,
    trigger_sync,
    vidm_argument_spec,
)
from ansible_collections.idmops.lifecycle.plugins.module_utils._wait import WAIT_ARGUMENT_SPEC, WaitTimeout, wait_until


def argument_spec():
    return vidm_argument_spec(
        directories=dict(type='list', elements='dict', required=True, options=dict(
            name=dict(type='str', required=True),
            connectors=dict(type='list', elements='str', required=True),
        )),
        directory_bind_password=dict(type='str', no_log=True),
        sync=dict(type='bool', default=False),
        sync_timeout=dict(type='int', default=300),
        wait_sleep=dict(WAIT_ARGUMENT_SPEC['wait_sleep']),
    )


def plan(module, client):
    """Check everything and return (plans, connectors, directories) without changing anything."""
    p = module.params
    connectors = list_connectors(client)
    old = old_connectors(connectors)
    if old:
        raise VidmError('the Sync Connectors list needs every connector at 19.03.0.0 or later; older: %s' % ', '.join(old))
    by_host = dict((c.get('host'), c) for c in connectors)
    directories = list_directories(client)
    idps = list_idps(client)
    plans, seen = [], set()
    for entry in p['directories']:
        d = find_directory(directories, entry['name'])
        if d['directoryId'] in seen:
            raise VidmError('directory %r is listed twice' % d['name'])
        seen.add(d['directoryId'])
        hosts = entry['connectors']
        if len(set(hosts)) != len(hosts):
            raise VidmError('directory %r lists a connector twice: %s' % (d['name'], ', '.join(hosts)))
        unknown = [h for h in hosts if h not in by_host]
        if unknown:
            raise VidmError('unknown connector host(s) for %r: %s; known: %s'
                            % (d['name'], ', '.join(unknown), ', '.join(sorted(str(h) for h in by_host))))
        idp = idp_of(idps, d)
        if idp is None:
            raise VidmError('directory %r has no identity provider' % d['name'])
        on_idp = set(c.get('instanceId') for c in idp.get('connectors') or [])
        missing = [h for h in hosts if by_host[h]['instanceId'] not in on_idp]
        if missing and not p['directory_bind_password']:
            raise VidmError('connector(s) %s must be associated with %s for %r: directory_bind_password is required'
                            % (', '.join(missing), idp.get('name'), d['name']))
        plans.append(dict(directory=d, idp=idp, hosts=hosts, missing=missing,
                          ids=[by_host[h]['instanceId'] for h in hosts]))
    return plans, connectors, directories


def verify_sync(client, d, ids, hosts_by_id, timeout, sleep):
    did = d['directoryId']
    known = set(e.get('executionId') for e in sync_executions(client, did))
    trigger_sync(client, did)

    def probe():
        new = [e for e in sync_executions(client, did) if e.get('executionId') not in known]
        done = bool(new) and new[0].get('status') not in ('RUNNING', 'STARTED', 'QUEUED', None)
        return done, (new[0] if new else None)

    try:
        execution = wait_until(probe, timeout, sleep, 'the sync of %s in the sync log' % d['name'])[0]
    except WaitTimeout as exc:
        raise VidmError(str(exc))
    ran = execution.get('connectorInstanceId')
    result = dict(executionId=execution.get('executionId'), connector=hosts_by_id.get(ran, ran),
                  status=execution.get('status'), failover=bool(ids) and ran != ids[0])
    if execution.get('status') != 'COMPLETED':
        raise VidmError('the sync of %r ended %s (connector %s)' % (d['name'], execution.get('status'), result['connector']))
    if ids and ran not in ids:
        raise VidmError('the sync of %r ran on %s, which is not in its Sync Connectors list' % (d['name'], result['connector']))
    return result


def run(module, client):
    p = module.params
    if p['sync_timeout'] < 0 or p['wait_sleep'] <= 0:
        raise VidmError('sync_timeout must be zero or positive and wait_sleep positive')
    plans, connectors, directories = plan(module, client)
    hosts_by_id = dict((c.get('instanceId'), c.get('host')) for c in connectors)
    ids_by_host = dict((h, i) for i, h in hosts_by_id.items())
    results, warnings, done = [], [], set()
    for pl in plans:
        d = pl['directory']
        before_ids = get_sync_connectors(client, d['directoryId'])
        change = before_ids != pl['ids']
        pl['missing'] = [h for h in pl['missing'] if (pl['idp']['id'], h) not in done]
        done.update((pl['idp']['id'], h) for h in pl['missing'])
        if not module.check_mode:
            for host in pl['missing']:
                associate(client, ids_by_host[host], pl['idp']['id'], d['directoryId'], p['directory_bind_password'])
            if change:
                after_ids = put_sync_connectors(client, d['directoryId'], pl['ids'])
                if after_ids != pl['ids']:
                    raise VidmError('the Sync Connectors list of %r is %s after the update'
                                    % (d['name'], [hosts_by_id.get(i, i) for i in after_ids]))
        results.append(dict(name=d['name'], directoryId=d['directoryId'], idp=pl['idp'].get('name'),
                            before=[hosts_by_id.get(i, i) for i in before_ids], after=list(pl['hosts']),
                            associated=list(pl['missing']), changed=change or bool(pl['missing'])))
    lists = sync_lists(client, directories, hosts_by_id)
    for r in results:
        lists[r['name']] = r['after']
    found = collisions(lists)
    for c in found:
        warnings.append('directories %s have the same Sync Connectors list in the same order (%s): they sync through '
                        'the same connector and fall back to the same one'
                        % (', '.join(c['directories']), ', '.join(c['connectors'])))
    if p['sync'] and not module.check_mode:
        for pl, r in zip(plans, results):
            r['sync'] = verify_sync(client, pl['directory'], pl['ids'], hosts_by_id, p['sync_timeout'], p['wait_sleep'])
            if r['sync']['failover']:
                warnings.append('the sync of %s failed over to %s' % (r['name'], r['sync']['connector']))
    changed = [r['name'] for r in results if r['changed']]
    verb = 'would set' if module.check_mode else 'set'
    msg = ('%s the Sync Connectors of %s' % (verb, ', '.join(changed))) if changed else 'Sync Connectors lists already set'
    result = dict(changed=bool(changed), directories=results, collisions=found, msg=msg)
    if module._diff:
        result['diff'] = dict(before=dict((r['name'], r['before']) for r in results),
                              after=dict((r['name'], r['after']) for r in results))
    return result, warnings


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, required_if=VIDM_REQUIRED_IF)
    try:
        result, warnings = run(module, VidmClient.from_module(module))
    except VidmError as exc:
        module.fail_json(msg=str(exc), **exc.to_result())
    for warning in warnings:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
