#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


DOCUMENTATION = r'''
---
module: vidm_cluster_info
short_description: Database type, pgpool primary and delegate IP of a VMware Identity Manager appliance cluster
version_added: 0.1.0
description:
  - Reads, on one vIDM appliance node, what the cluster upgrade procedure needs to decide which
    node stays in the load balancer.
  - The database type comes from C(datastore.jdbc.url) in O(runtime_config)
    (C(jdbc:postgresql:) is the internal PostgreSQL, C(jdbc:sqlserver:) is MS SQL).
  - With the internal PostgreSQL, C(show pool_nodes) is asked of pgpool through C(psql) on
    O(pgpool_port); the node with C(role=primary) is the primary. The password is read from
    O(pgpool_password_file) and given to C(psql) in a temporary C(PGPASSFILE), never on the command line.
  - The delegate (virtual) IP is C(delegate_IP) of O(pgpool_conf).
author:
  - idmops.lifecycle maintainers (@idmops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Only reads, so it runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  runtime_config:
    description:
      - Path of the appliance's runtime configuration.
    type: path
    default: /usr/local/horizon/conf/runtime-config.properties
  pgpool_conf:
    description:
      - Path of the pgpool configuration.
    type: path
    default: /usr/local/etc/pgpool.conf
  pgpool_password_file:
    description:
      - File holding the pgpool user's password (its first line).
    type: path
    default: /usr/local/etc/pgpool.pwd
  psql_path:
    description:
      - Path of C(psql).
    type: path
    default: /opt/vmware/vpostgres/current/bin/psql
  pgpool_host:
    description:
      - Host pgpool listens on.
    type: str
    default: localhost
  pgpool_port:
    description:
      - Port pgpool listens on.
    type: int
    default: 9999
  pgpool_user:
    description:
      - The pgpool user.
    type: str
    default: pgpool
seealso:
  - module: idmops.lifecycle.vidm_appliance_upgrade
'''

EXAMPLES = r'''
- name: Which node is the pgpool primary
  idmops.lifecycle.vidm_cluster_info:
  register: vidm_cluster

- name: Keep only the primary in the pool
  ansible.builtin.debug:
    msg: "{{ vidm_cluster.primary.hostname }}"
  when: vidm_cluster.database_type == 'postgresql'
'''

RETURN = r'''
database_type:
  description: V(postgresql) (internal, pgpool) or V(mssql).
  returned: always
  type: str
  sample: postgresql
jdbc_url:
  description: C(datastore.jdbc.url) of the runtime configuration.
  returned: always
  type: str
  sample: jdbc:postgresql://10.0.0.50:5432/saas?stringtype=unspecified
pool_nodes:
  description: Rows of C(show pool_nodes) (empty with MS SQL).
  returned: always
  type: list
  elements: dict
primary:
  description: The C(show pool_nodes) row with C(role=primary), or null with MS SQL.
  returned: always
  type: dict
  sample: {"node_id": "0", "hostname": "vidm1.example.com", "port": "5432", "status": "up", "role": "primary"}
delegate_ip:
  description: C(delegate_IP) of the pgpool configuration, or null.
  returned: always
  type: str
  sample: 10.0.0.50
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idmops.lifecycle.plugins.module_utils._vidm_appliance import (
    ApplianceError,
    cluster_info,
)


def argument_spec():
    return dict(
        runtime_config=dict(type='path', default='/usr/local/horizon/conf/runtime-config.properties'),
        pgpool_conf=dict(type='path', default='/usr/local/etc/pgpool.conf'),
        pgpool_password_file=dict(type='path', default='/usr/local/etc/pgpool.pwd', no_log=False),
        psql_path=dict(type='path', default='/opt/vmware/vpostgres/current/bin/psql'),
        pgpool_host=dict(type='str', default='localhost'),
        pgpool_port=dict(type='int', default=9999),
        pgpool_user=dict(type='str', default='pgpool'),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)

    def run(argv, environ):
        return module.run_command(argv, environ_update=environ)

    try:
        result = cluster_info(run, module.params, tmpdir=module.tmpdir)
    except ApplianceError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    except OSError as exc:
        module.fail_json(msg='%s: %s' % (getattr(exc, 'filename', None) or os.strerror(exc.errno or 0), exc))
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
