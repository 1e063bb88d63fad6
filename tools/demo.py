# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`: upgrade both of the lab's AM sites, 7.5.0 -> 8.1.0, under a steady client load.

Brings the lab up (or back to its first version when it is already up), starts the load probe
through HAProxy, runs playbooks/am_site_upgrade.yml for site 1 (its clients go to site 2), then
for site 2, runs both a second time to show they change nothing, and writes a report. Exits
non-zero when a request failed, a node is not on the new version, or a second run changed
something. Stops the lab again only when it started it.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB_DIR = os.environ.get('LAB_DIR', os.path.join(ROOT, 'build', 'lab'))
INVENTORY = os.path.join(LAB_DIR, 'inventory.yml')
FRONTEND_URL = 'http://127.0.0.1:18080/am/json/serverinfo/version'
ADMIN_SOCKET = os.path.join(LAB_DIR, 'haproxy', 'admin.sock')
SITES = ('am_site1', 'am_site2')
SITE_VARS = os.path.join(ROOT, 'lab', 'site-upgrade-vars.yml')
FROM_VERSION = '7.5.0'
TO_VERSION = '8.1.0'
PROBE_START_TIMEOUT = 30
RECAP_LINE = re.compile(r'^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)'
                        r'\s+failed=(?P<failed>\d+)', re.MULTILINE)


def lab(command, *args):
    subprocess.run([os.path.join(ROOT, 'lab', command)] + list(args), check=True)


def lab_is_up():
    return subprocess.run([os.path.join(ROOT, 'lab', 'status')], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False).returncode == 0


def lab_nodes():
    """Node name -> (address, site) of every AM server, as Ansible reads the lab's inventory."""
    listing = subprocess.run([os.path.join(ROOT, '.venv', 'bin', 'ansible-inventory'), '-i', INVENTORY, '--list'],
                             stdout=subprocess.PIPE, check=True, text=True)
    inventory = json.loads(listing.stdout)
    hostvars = inventory['_meta']['hostvars']
    return {name: (hostvars[name]['ansible_host'], site) for site in SITES for name in inventory[site]['hosts']}


def node_version(address):
    request = urllib.request.Request('http://%s:8080/am/json/serverinfo/version' % address,
                                     headers={'Accept-API-Version': 'resource=1.0'})
    with urllib.request.urlopen(request, timeout=5) as response:  # nosec: lab address only
        return json.load(response)['version']


def start_probe(out_path, url=FRONTEND_URL, backends=SITES):
    ready_file = out_path + '.ready'
    if os.path.exists(ready_file):
        os.unlink(ready_file)
    probe = subprocess.Popen([sys.executable, os.path.join(ROOT, 'lab', 'probe.py'), '--url', url,
                              '--out', out_path, '--ready-file', ready_file, '--haproxy-socket', ADMIN_SOCKET,
                              '--backend', ','.join(backends), '--max-seconds', '1800'])
    deadline = time.monotonic() + PROBE_START_TIMEOUT
    while not os.path.exists(ready_file):
        if probe.poll() is not None or time.monotonic() > deadline:
            probe.kill()
            raise SystemExit('demo: the load probe did not start within %ss' % PROBE_START_TIMEOUT)
        time.sleep(0.1)
    return probe


def stop_probe(probe, out_path):
    probe.send_signal(signal.SIGTERM)
    probe.wait(timeout=60)
    with open(out_path, encoding='utf-8') as handle:
        return json.load(handle)


def upgrade_command(site):
    """ansible-playbook command line that upgrades one of the lab's sites."""
    return [os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook'), '-i', INVENTORY,
            os.path.join(ROOT, 'playbooks', 'am_site_upgrade.yml'),
            '-e', '@' + SITE_VARS, '-e', 'am_site_upgrade_site=%s' % site]


def run_playbook(site, env=None):
    """Upgrade one site; return (exit code, {host: changed count}, output) and echo the output."""
    result = subprocess.run(upgrade_command(site), cwd=ROOT, stdout=subprocess.PIPE, env=env,
                            stderr=subprocess.STDOUT, text=True, check=False)
    sys.stdout.write(result.stdout)
    changed = {match['host']: int(match['changed']) for match in RECAP_LINE.finditer(result.stdout)}
    return result.returncode, changed, result.stdout


def merge_timeline(report_dir, probe_out):
    """One HTML page of every site's run and the probe's failed requests; returns its path."""
    runs = sorted(glob.glob(os.path.join(report_dir, 'am_site_upgrade-*.json')))
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, 'build', 'collections'))
    result = subprocess.run([sys.executable, '-m', 'ansible_collections.idmops.lifecycle.plugins.plugin_utils._report',
                             '--probe', probe_out, '--out', os.path.join(report_dir, 'demo'), *runs],
                            env=env, stdout=subprocess.PIPE, text=True, check=True)
    return next(line for line in result.stdout.splitlines() if line.endswith('.html'))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--report', default=os.path.join(ROOT, 'build', 'demo-report.json'))
    args = parser.parse_args()
    os.makedirs(os.path.dirname(args.report), exist_ok=True)

    started_lab = not lab_is_up()
    try:
        lab('up', '--reset')
        nodes = lab_nodes()
        before = {name: node_version(address) for name, (address, _site) in nodes.items()}

        probe_out = os.path.join(os.path.dirname(args.report), 'demo-probe.json')
        # The upgrade_report callback records each run's phases per host; merged with the probe below.
        report_dir = os.path.join(os.path.dirname(args.report), 'upgrade-report')
        shutil.rmtree(report_dir, ignore_errors=True)
        report_env = dict(os.environ, ANSIBLE_CALLBACKS_ENABLED='idmops.lifecycle.upgrade_report',
                          ANSIBLE_UPGRADE_REPORT_DIR=report_dir)
        probe = start_probe(probe_out)
        wall_started = time.monotonic()
        first_rc = 0
        try:
            for site in SITES:
                first_rc = run_playbook(site, report_env)[0]
                if first_rc:
                    break
        finally:
            wall_seconds = time.monotonic() - wall_started
            probe_result = stop_probe(probe, probe_out)
        timeline = merge_timeline(report_dir, probe_out)
        after = {name: node_version(address) for name, (address, _site) in nodes.items()}
        second_rc, second_changed = 0, {}
        for site in SITES:
            rc, changed, _output = run_playbook(site)
            second_rc = second_rc or rc
            second_changed.update(changed)
    finally:
        if started_lab:
            lab('down')

    # A server is out of its own site's pool; as a backup of the other site it is never drained.
    backends = probe_result['backends']
    report = {
        'from_version': FROM_VERSION,
        'to_version': TO_VERSION,
        'nodes': {name: {'version_before': before[name], 'version_after': after[name],
                         'out_of_pool_seconds': round(backends[nodes[name][1]][name]['out_of_pool_seconds'], 3)}
                  for name in sorted(nodes)},
        'requests_total': probe_result['requests_total'],
        'requests_failed': probe_result['requests_failed'],
        'latency_ms': probe_result.get('latency_ms'),
        'wall_seconds': round(wall_seconds, 3),
        'playbook_rc': first_rc,
        'second_run_rc': second_rc,
        'second_run_changed': second_changed,
    }
    with open(args.report, 'w', encoding='utf-8') as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
        handle.write('\n')

    print('\nDemo: AM sites %s, %s -> %s under load' % (', '.join(SITES), FROM_VERSION, TO_VERSION))
    for name, node in report['nodes'].items():
        print('  %-6s %s -> %s   out of pool %.1f s'
              % (name, node['version_before'], node['version_after'], node['out_of_pool_seconds']))
    print('  requests: %d sent, %d failed; wall time %.1f s'
          % (report['requests_total'], report['requests_failed'], report['wall_seconds']))
    print('  second run: changed=%s' % (sum(second_changed.values()),))
    print('  report: %s' % args.report)
    print('  timeline (one lane per node): %s' % timeline)

    problems = []
    if first_rc or second_rc:
        problems.append('the playbook failed (exit %s, second run exit %s)' % (first_rc, second_rc))
    if report['requests_failed']:
        problems.append('%d requests failed during the roll' % report['requests_failed'])
    problems.extend('%s runs %s, not %s' % (name, node['version_after'], TO_VERSION)
                    for name, node in report['nodes'].items() if node['version_after'] != TO_VERSION)
    problems.extend('the second run changed %d task(s) on %s' % (count, host)
                    for host, count in second_changed.items() if count)
    if problems:
        raise SystemExit('demo FAILED: ' + '; '.join(problems))


if __name__ == '__main__':
    main()
