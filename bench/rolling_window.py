# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rolling-window benchmark of the AM site upgrade on the lab.

Upgrades the lab's first site under the load probe. For every node it sets the seconds the load
balancer had the node out of its pool (sampled on HAProxy's runtime API by the probe) next to
the bare deploy+ready time the node itself spent (stop Tomcat, swap the war, start, ready,
summed over every tomcat_war step as the module measured it). The difference is what the
orchestration costs per node: the site leaves traffic as a whole, so a node also waits for the
others, plus drain, SSH round trips, the configuration and schema steps, and the health-check
rise. Also records client requests sent and failed, and the playbook's wall time.

Results go to `<results>/am_site_roll.json` with the machine they were taken on.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tools'))

import demo  # noqa: E402  pylint: disable=wrong-import-position  # the lab and probe plumbing is shared

SITE = demo.SITES[0]
ONELINE_RESULT = re.compile(r'^(?P<host>\S+) \| (?P<status>CHANGED|SUCCESS) => (?P<result>\{.*\})$', re.MULTILINE)


def machine():
    with open('/proc/meminfo', encoding='utf-8') as handle:
        mem_kib = int(handle.readline().split()[1])
    versions = subprocess.run([os.path.join(demo.ROOT, '.venv', 'bin', 'ansible-playbook'), '--version'],
                              stdout=subprocess.PIPE, text=True, check=True).stdout.splitlines()[0]
    return {'cpus': os.cpu_count(), 'memory_gib': round(mem_kib / 1024 / 1024, 1), 'kernel': platform.release(),
            'python': platform.python_version(), 'ansible': versions}


def roll(site):
    """Upgrade one site with one JSON result per line; return (rc, wall seconds, {host: deploy seconds})."""
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK='ansible.builtin.oneline')
    started = time.monotonic()
    result = subprocess.run(demo.upgrade_command(site), cwd=demo.ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, check=False)
    wall = time.monotonic() - started
    deploys = {}
    for match in ONELINE_RESULT.finditer(result.stdout):
        module_result = json.loads(match['result'])
        if module_result.get('deploy_seconds') is not None:
            deploys[match['host']] = deploys.get(match['host'], 0.0) + module_result['deploy_seconds']
    if result.returncode:
        sys.stdout.write(result.stdout)
    return result.returncode, wall, deploys


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--results', default=os.path.join(demo.ROOT, 'bench', 'results'))
    args = parser.parse_args()
    os.makedirs(args.results, exist_ok=True)

    started_lab = not demo.lab_is_up()
    try:
        demo.lab('up', '--reset')
        nodes = demo.lab_nodes()
        probe_out = os.path.join(demo.ROOT, 'build', 'bench-probe.json')
        probe = demo.start_probe(probe_out)
        try:
            rc, wall, deploys = roll(SITE)
        finally:
            probe_result = demo.stop_probe(probe, probe_out)
    finally:
        if started_lab:
            demo.lab('down')
    if rc:
        raise SystemExit('bench: the playbook failed (exit %d)' % rc)

    per_node = {}
    for name in sorted(name for name, (_address, site) in nodes.items() if site == SITE):
        out_of_pool = probe_result['backends'][SITE][name]['out_of_pool_seconds']
        deploy = deploys[name]
        per_node[name] = {'out_of_pool_seconds': round(out_of_pool, 3), 'deploy_ready_seconds': round(deploy, 3),
                          'orchestration_seconds': round(out_of_pool - deploy, 3)}
    record = {
        'benchmark': 'am_site_roll',
        'site': SITE,
        'taken': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        'machine': machine(),
        'nodes': per_node,
        'wall_seconds': round(wall, 3),
        'requests_total': probe_result['requests_total'],
        'requests_failed': probe_result['requests_failed'],
        'latency_ms': probe_result.get('latency_ms'),
    }
    path = os.path.join(args.results, 'am_site_roll.json')
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(record, handle, indent=2, sort_keys=True)
        handle.write('\n')

    print('%-6s %18s %20s %22s' % ('node', 'out of pool (s)', 'deploy+ready (s)', 'orchestration (s)'))
    for name, node in per_node.items():
        print('%-6s %18.2f %20.2f %22.2f'
              % (name, node['out_of_pool_seconds'], node['deploy_ready_seconds'], node['orchestration_seconds']))
    print('requests %d, failed %d, wall %.1f s -> %s'
          % (record['requests_total'], record['requests_failed'], wall, path))


if __name__ == '__main__':
    main()
