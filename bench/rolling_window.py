# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rolling-window benchmark of the AM site upgrade on the lab, at several site sizes.

For each size (default 3 and 9 AM servers per site, real Tomcat 10 JVMs; 9 is the lab's limit per
site and means 18 JVMs, as the other site must take the traffic; 10 per site did not get ready
within lab/up's bounds on a 2-core machine) the lab is brought up with two sites of that many
servers and no vIDM nodes, and the first site is upgraded under the load probe. For
every node it sets the seconds the load balancer had the node out of its pool (sampled on
HAProxy's runtime API by the probe) next to the bare deploy+ready time the node itself spent (stop
Tomcat, swap the war, start, ready, summed over every tomcat_war step as the module measured it).
Out of pool minus deploy+ready is what a node waits: the site leaves traffic as a whole, so a node
also waits for the others. The orchestration overhead per node is (wall time - the nodes' summed
deploy+ready) / nodes: drain, SSH round trips, the configuration and schema steps, the checks and
the health-check rise. Also records client requests sent and failed.

Results go to `<results>/am_site_roll.json` with the machine they were taken on. The lab is left
as it was found: down, or up again with its default sizes.
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


def record_runs(path, record, runs):
    """Write the record with the time, the machine and the runs to path (JSON), and print the runs."""
    record = dict(record, taken=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                  machine=machine(), runs=runs)
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(record, handle, indent=2, sort_keys=True)
        handle.write('\n')
    header = ('nodes', 'wall (s)', 'work (s)', 'orchestration/node (s)', 'out of pool max (s)', 'failed/requests')
    print('%5s %9s %11s %22s %20s %16s' % header)
    for run in runs:
        print('%5d %9.1f %11.1f %22.2f %20.1f %10d/%d'
              % (run['nodes'], run['wall_seconds'], run['node_work_seconds'], run['orchestration_seconds_per_node'],
                 run['out_of_pool_seconds']['max'], run['requests_failed'], run['requests_total']))
    print('-> %s' % path)


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


def measure(nodes_per_site):
    os.environ.update(LAB_AM_SITES='2', LAB_AM_NODES=str(nodes_per_site), LAB_VIDM_NODES='0')
    demo.lab('up', '--reset')
    nodes = demo.lab_nodes()
    probe_out = os.path.join(demo.ROOT, 'build', 'bench-probe.json')
    probe = demo.start_probe(probe_out)
    try:
        rc, wall, deploys = roll(SITE)
    finally:
        probe_result = demo.stop_probe(probe, probe_out)
    if rc:
        raise SystemExit('bench: the playbook failed at %d nodes per site (exit %d)' % (nodes_per_site, rc))
    per_node = {}
    for name in sorted(name for name, (_address, site) in nodes.items() if site == SITE):
        out_of_pool = probe_result['backends'][SITE][name]['out_of_pool_seconds']
        deploy = deploys[name]
        per_node[name] = {'out_of_pool_seconds': round(out_of_pool, 3), 'deploy_ready_seconds': round(deploy, 3),
                          'waiting_seconds': round(out_of_pool - deploy, 3)}
    node_work = sum(node['deploy_ready_seconds'] for node in per_node.values())
    out_of_pool = [node['out_of_pool_seconds'] for node in per_node.values()]
    return {
        'nodes': nodes_per_site,
        'site': SITE,
        'wall_seconds': round(wall, 3),
        'node_work_seconds': round(node_work, 3),
        'orchestration_seconds_per_node': round((wall - node_work) / nodes_per_site, 3),
        'out_of_pool_seconds': {'min': min(out_of_pool), 'max': max(out_of_pool),
                                'mean': round(sum(out_of_pool) / len(out_of_pool), 3)},
        'per_node': per_node,
        'requests_total': probe_result['requests_total'],
        'requests_failed': probe_result['requests_failed'],
        'latency_ms': probe_result.get('latency_ms'),
    }


def run_benchmark(description, measure, default_sizes, record):
    """Parse --results and --sizes, measure each size on the lab, leave the lab as it was found (down,
    or up again with its default sizes) and write the runs to <results>/<record's benchmark>.json."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('--results', default=os.path.join(demo.ROOT, 'bench', 'results'))
    parser.add_argument('--sizes', default=default_sizes, help='nodes, comma-separated (default %s)' % default_sizes)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(',')]
    os.makedirs(args.results, exist_ok=True)

    was_up = demo.lab_is_up()
    lab_environment = dict(os.environ)
    try:
        runs = [measure(size) for size in sizes]
    finally:
        os.environ.clear()
        os.environ.update(lab_environment)
        if was_up:
            demo.lab('up', '--reset')
        else:
            demo.lab('down')
    record_runs(os.path.join(args.results, record['benchmark'] + '.json'), record, runs)


def main():
    # 9 servers per site is the lab's limit (LAB_AM_NODES).
    run_benchmark(__doc__.splitlines()[0], measure, '3,9', {'benchmark': 'am_site_roll'})


if __name__ == '__main__':
    main()
