# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rolling-window benchmark of the vIDM cluster upgrade on the lab at several cluster sizes.

For each size (default 3, 10 and 30 simulated vIDM appliance nodes, each a network-namespace host
reached over SSH) the lab is brought up with that many nodes and one AM node, and
playbooks/vidm_cluster_upgrade.yml upgrades the cluster under the load probe. Recorded per size:
the playbook's wall time; the work the nodes themselves spend, which is serial by the runbook
(each node is down for the simulated update and restart, one node after the other); the
orchestration overhead per node, (wall time - node work) / nodes, which is what Ansible, SSH, the
health gates, the pool changes and the snapshots add; each node's time out of the pool (sampled
by the probe on HAProxy's runtime API); and the client requests sent and failed (failures are
expected only while the node that stays in the pool upgrades).

Results go to `<results>/vidm_cluster_roll.json` with the machine they were taken on. The lab is
left as it was found: down, or up again with its default sizes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'tools'))
sys.path.insert(0, HERE)

import demo  # noqa: E402  pylint: disable=wrong-import-position  # the lab and probe plumbing is shared
from rolling_window import run_benchmark  # noqa: E402  pylint: disable=wrong-import-position

FRONTEND_URL = 'http://127.0.0.1:18081/SAAS/API/1.0/REST/system/health/heartbeat'
UPDATE_SECONDS = 3
RESTART_SECONDS = 2          # the appliance simulator's reboot_seconds
TARGET = '3.3.7.0'


def lab_env(nodes):
    return dict(os.environ, LAB_VIDM_NODES=str(nodes), LAB_AM_SITES='1', LAB_AM_NODES='1',
                LAB_VIDM_UPDATE_SECONDS=str(UPDATE_SECONDS))


def measure(nodes):
    env = lab_env(nodes)
    subprocess.run([os.path.join(demo.ROOT, 'lab', 'up'), '--reset'], env=env, check=True)
    probe_out = os.path.join(demo.ROOT, 'build', 'bench-vidm-probe.json')
    probe = demo.start_probe(probe_out, url=FRONTEND_URL, backends=('vidm',))
    try:
        started = time.monotonic()
        result = subprocess.run([os.path.join(demo.ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', demo.INVENTORY,
                                 os.path.join(demo.ROOT, 'playbooks', 'vidm_cluster_upgrade.yml'),
                                 '-e', 'vidm_cluster_upgrade_target_version=%s' % TARGET, '-f', '50'],
                                cwd=demo.ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        wall = time.monotonic() - started
    finally:
        probe_result = demo.stop_probe(probe, probe_out)
    if result.returncode:
        sys.stdout.write(result.stdout[-6000:])
        raise SystemExit('bench: the playbook failed at %d nodes (exit %d)' % (nodes, result.returncode))
    out_of_pool = [server['out_of_pool_seconds'] for server in probe_result['backends']['vidm'].values()]
    node_work = nodes * (UPDATE_SECONDS + RESTART_SECONDS)
    return {
        'nodes': nodes,
        'wall_seconds': round(wall, 3),
        'node_work_seconds': node_work,
        'orchestration_seconds_per_node': round((wall - node_work) / nodes, 3),
        'out_of_pool_seconds': {'min': round(min(out_of_pool), 3), 'max': round(max(out_of_pool), 3),
                                'mean': round(sum(out_of_pool) / len(out_of_pool), 3)},
        'requests_total': probe_result['requests_total'],
        'requests_failed': probe_result['requests_failed'],
    }


def main():
    run_benchmark(__doc__.splitlines()[0], measure, '3,10,30',
                  {'benchmark': 'vidm_cluster_roll',
                   'simulated_node_work': {'update_seconds': UPDATE_SECONDS, 'restart_seconds': RESTART_SECONDS}})


if __name__ == '__main__':
    main()
