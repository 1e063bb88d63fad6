# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A strict stand-in for one VMware Identity Manager (vIDM 3.3.x) Linux appliance node.

What it models, and from where
------------------------------
The public "Upgrading VMware Identity Manager 3.3.x" guide (online upgrade, offline upgrade,
"Upgrading VMware Identity Manager in a cluster") and the VMware KB articles on pgpool in
vIDM clusters, as summarised in /work/shared/reference/domain-facts.md, sections
"vIDM appliance (Linux SVA)" and "Health":

* ``/usr/local/horizon/update/updatemgr.hzn updateinstaller | check | update`` (online upgrade;
  ``update`` refuses unless a ``check`` found an update) writing lines to
  ``/opt/vmware/var/log/update.log``;
* ``/usr/local/horizon/update/updateOffline.hzn -f <bundle>`` (offline upgrade);
* ``vamicli version --appliance`` printing ``Version - 3.3.7.0 Build 21173100``;
* the upgrade needs 4 GB free on ``/`` (``df -P -k /`` stand-in at ``usr/bin/df``);
* "Restart the virtual appliance" after the update: ``reboot`` or ``shutdown -r <when>`` stand-ins
  at ``usr/sbin`` that change the boot id (``var/lib/vidm-sim/boot_id``, which the lab mounts over
  ``/proc/sys/kernel/random/boot_id`` so ``ansible.builtin.reboot`` sees a new boot); anything
  else (halt, power-off) is refused, so a misdirected command can never stop a real machine;
* the node health API ``GET /SAAS/API/1.0/REST/system/health/heartbeat`` (``ok``) and
  ``GET /SAAS/API/1.0/REST/system/health`` (a JSON object whose values are the strings
  ``"true"``, ``"false"``, ``"unknown"`` or a number/version as a string);
* pgpool: ``psql -h localhost -p 9999 -U pgpool postgres -c "show pool_nodes"`` with the
  password of ``/usr/local/etc/pgpool.pwd``; ``/usr/local/etc/pgpool.conf`` (``delegate_IP``);
* the database type in ``/usr/local/horizon/conf/runtime-config.properties``
  (``datastore.jdbc.url=jdbc:postgresql://...`` or ``jdbc:sqlserver://...``).

Chosen here, not public [U]: the exact wording of ``updatemgr.hzn check`` (``Update available:
<version> Build <build>`` / ``No update available``), every option of ``updateOffline.hzn`` other
than ``-f`` (rejected), the log line format, and the exit codes (0 ok, 1 error, 2 usage).

The update itself is a state change: ``update`` (or ``updateOffline.hzn``) installs the new
version, which takes ``update_seconds``, and stops the node's services until the appliance is
restarted: from then the HTTP service answers 503, ``updatemgr.hzn check`` says a reboot is
required and ``vamicli`` reports the old version. The reboot takes ``reboot_seconds`` (after the
install finished); afterwards both report the new version. ``fail_update`` makes ``update`` and
``updateOffline.hzn`` fail after their checks, leaving the node on its version and serving (a
failed package installation). Not modelled: the SSH session dropping during the reboot.

State: ``$VIDM_SIM_ROOT/var/lib/vidm-sim/state.json`` (see ``DEFAULT_STATE``). ``--install ROOT``
lays the commands out under ROOT at their real relative paths and writes the state and the
configuration files. ``--serve --root ROOT --listen 127.0.0.1:PORT`` runs the node HTTP service.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import stat
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE_RELPATH = 'var/lib/vidm-sim/state.json'
LOG_RELPATH = 'opt/vmware/var/log/update.log'
RUNTIME_CONFIG_RELPATH = 'usr/local/horizon/conf/runtime-config.properties'
PGPOOL_CONF_RELPATH = 'usr/local/etc/pgpool.conf'
PGPOOL_PWD_RELPATH = 'usr/local/etc/pgpool.pwd'
COMMANDS = {
    'updatemgr': 'usr/local/horizon/update/updatemgr.hzn',
    'updateoffline': 'usr/local/horizon/update/updateOffline.hzn',
    'vamicli': 'usr/sbin/vamicli',
    'psql': 'opt/vmware/vpostgres/current/bin/psql',
    'df': 'usr/bin/df',
    'reboot': 'usr/sbin/reboot',
    'shutdown': 'usr/sbin/shutdown',
}
BOOT_ID_RELPATH = 'var/lib/vidm-sim/boot_id'

DEFAULT_STATE = {
    'version': '3.3.6.0', 'build': '19203469',
    'target_version': '3.3.7.0', 'target_build': '21173100',
    'free_mb': 8192,
    'update_seconds': 3,
    'db_type': 'postgresql',
    'offline_bundle_sha256': '',
    'pgpool_password': 'pgpool-secret',
    'hostname': 'vidm1.example.com',
    'pool_nodes': [
        ['0', 'vidm1.example.com', '5432', 'up', '0.333333', 'primary'],
        ['1', 'vidm2.example.com', '5432', 'up', '0.333333', 'standby'],
        ['2', 'vidm3.example.com', '5432', 'up', '0.333333', 'standby'],
    ],
    'delegate_ip': '10.0.0.50',
    'peers': 3,
    'never_green': False,
    'fail_update': False,
    'checked_update': None,
    'reboot_seconds': 2,
    'down_until': 0,
    'pending_version': None,
    'reboot_pending': False,
    'rebooting': False,
    'boots': 1,
    'runs': [],
}


class SimError(Exception):
    pass


def root_dir():
    root = os.environ.get('VIDM_SIM_ROOT')
    if not root:
        raise SimError('VIDM_SIM_ROOT is not set')
    return root


def load_state(root):
    with open(os.path.join(root, STATE_RELPATH)) as handle:
        state = json.load(handle)
    # the simulated reboot ends: the pending version becomes the node's version
    if state['rebooting'] and time.time() >= state['down_until']:
        if state['pending_version']:
            state['version'], state['build'] = state['pending_version']
        state['pending_version'] = None
        state['reboot_pending'] = state['rebooting'] = False
        save_state(root, state)
    return state


def node_down(state):
    """Why the node's services do not answer, or None when they do."""
    if state['rebooting'] or time.time() < state['down_until']:
        return 'node rebooting' if state['rebooting'] else 'update running'
    if state['reboot_pending']:
        return 'update installed, services stopped until the appliance is restarted'
    return None


def save_state(root, state):
    path = os.path.join(root, STATE_RELPATH)
    tmp = path + '.tmp'
    with open(tmp, 'w') as handle:
        json.dump(state, handle, indent=2, sort_keys=True)
    os.replace(tmp, path)


def log(root, message):
    path = os.path.join(root, LOG_RELPATH)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    stamp = datetime.datetime.now().strftime('%Y-%m-%d %H:%M:%S')
    with open(path, 'a') as handle:
        handle.write('%s INFO %s\n' % (stamp, message))


def record(root, state, argv):
    state['runs'].append(argv)
    save_state(root, state)


def start_update(root, state, how):
    if state['fail_update']:
        state['checked_update'] = None
        save_state(root, state)
        log(root, 'Update (%s) to %s Build %s: ERROR package installation failed; node left on %s'
            % (how, state['target_version'], state['target_build'], state['version']))
        print('Error: update failed: package installation failed (see %s)' % ('/' + LOG_RELPATH), file=sys.stderr)
        return 1
    state['pending_version'] = [state['target_version'], state['target_build']]
    state['reboot_pending'] = True
    state['down_until'] = time.time() + float(state['update_seconds'])
    state['checked_update'] = None
    save_state(root, state)
    log(root, 'Update (%s) from %s Build %s to %s Build %s installed; reboot required'
        % (how, state['version'], state['build'], state['target_version'], state['target_build']))
    print('Update installed: %s Build %s. Reboot required.' % (state['target_version'], state['target_build']))
    return 0


def cmd_updatemgr(argv):
    usage = 'usage: updatemgr.hzn updateinstaller | check | update'
    if len(argv) != 1 or argv[0] not in ('updateinstaller', 'check', 'update'):
        print(usage, file=sys.stderr)
        return 2
    root = root_dir()
    state = load_state(root)
    record(root, state, ['updatemgr.hzn'] + argv)
    sub = argv[0]
    if sub == 'updateinstaller':
        log(root, 'updateinstaller: update installer is current')
        print('Update installer is current.')
        return 0
    current = (state['pending_version'] or [state['version'], state['build']])
    if sub == 'check':
        if state['reboot_pending']:
            log(root, 'check: update installed, reboot pending')
            print('Update installed, reboot required.')
            state['checked_update'] = None
        elif current[0] != state['target_version']:
            state['checked_update'] = state['target_version']
            log(root, 'check: update available %s Build %s' % (state['target_version'], state['target_build']))
            print('Update available: %s Build %s' % (state['target_version'], state['target_build']))
        else:
            state['checked_update'] = None
            log(root, 'check: no update available')
            print('No update available')
        save_state(root, state)
        return 0
    if not state.get('checked_update'):
        log(root, 'update: ERROR no update found; run check first')
        print('Error: no update found; run "updatemgr.hzn check" first', file=sys.stderr)
        return 1
    if state['free_mb'] < 4096:
        log(root, 'update: ERROR not enough free space on /')
        print('Error: not enough free space on / (%d MB, 4096 MB needed)' % state['free_mb'], file=sys.stderr)
        return 1
    return start_update(root, state, 'online')


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def cmd_updateoffline(argv):
    usage = 'usage: updateOffline.hzn -f <bundle>'
    if len(argv) != 2 or argv[0] != '-f':
        print(usage, file=sys.stderr)
        return 2
    root = root_dir()
    state = load_state(root)
    record(root, state, ['updateOffline.hzn'] + argv)
    bundle = argv[1]
    if not os.path.isfile(bundle):
        print('Error: bundle %s not found' % bundle, file=sys.stderr)
        return 1
    if sha256_of(bundle) != state['offline_bundle_sha256']:
        log(root, 'offline: ERROR bundle %s is not a valid update bundle' % bundle)
        print('Error: %s is not a valid update bundle (checksum)' % bundle, file=sys.stderr)
        return 1
    if state['free_mb'] < 4096:
        print('Error: not enough free space on /', file=sys.stderr)
        return 1
    return start_update(root, state, 'offline')


def cmd_vamicli(argv):
    if argv != ['version', '--appliance']:
        print('usage: vamicli version --appliance', file=sys.stderr)
        return 2
    state = load_state(root_dir())
    print('Version - %s Build %s' % (state['version'], state['build']))
    return 0


def cmd_reboot(argv, name='reboot'):
    """``reboot`` or ``shutdown -r <when> [message]``: a new boot id, the node down for
    ``reboot_seconds`` after any running install, then the pending version."""
    if name == 'shutdown':
        if len(argv) < 2 or argv[0] != '-r' or not (argv[1] == 'now' or argv[1].lstrip('+').isdigit()):
            print('shutdown (vidm sim): only "shutdown -r <now|+m|0> [message]" is modelled; '
                  'halt and power-off are refused', file=sys.stderr)
            return 2
    elif argv:
        print('reboot (vidm sim): no options are modelled', file=sys.stderr)
        return 2
    root = root_dir()
    state = load_state(root)
    record(root, state, [name] + argv)
    state['rebooting'] = True
    state['down_until'] = max(time.time(), state['down_until']) + float(state['reboot_seconds'])
    state['boots'] += 1
    save_state(root, state)
    write_boot_id(root, state)
    log(root, 'reboot %d requested (%s)' % (state['boots'], ' '.join([name] + argv)))
    return 0


def write_boot_id(root, state):
    digest = hashlib.sha256(('%s/%d' % (root, state['boots'])).encode()).hexdigest()
    boot_id = '%s-%s-%s-%s-%s\n' % (digest[:8], digest[8:12], digest[12:16], digest[16:20], digest[20:32])
    # In place, not by rename: the lab bind-mounts this very file over /proc/sys/kernel/random/boot_id.
    with open(os.path.join(root, BOOT_ID_RELPATH), 'w') as handle:
        handle.write(boot_id)


def cmd_df(argv):
    if argv not in (['-P', '-k', '/'], ['-Pk', '/']):
        print('df (vidm sim): only "df -P -k /" is modelled', file=sys.stderr)
        return 2
    state = load_state(root_dir())
    avail = int(state['free_mb']) * 1024
    size = 20 * 1024 * 1024
    print('Filesystem     1024-blocks    Used Available Capacity Mounted on')
    print('/dev/sda4      %11d %7d %9d %7d%% /' % (size, size - avail, avail, 100 * (size - avail) // size))
    return 0


def cmd_psql(argv):
    parser = argparse.ArgumentParser(prog='psql', add_help=False)
    parser.add_argument('-h', dest='host')
    parser.add_argument('-p', dest='port')
    parser.add_argument('-U', dest='user')
    parser.add_argument('-d', dest='dbname')
    parser.add_argument('-c', dest='command')
    parser.add_argument('-A', action='store_true')
    parser.add_argument('-t', action='store_true')
    parser.add_argument('-w', action='store_true')
    parser.add_argument('-F', dest='sep', default='|')
    parser.add_argument('db', nargs='?')
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        return 2
    root = root_dir()
    state = load_state(root)
    if args.host not in ('localhost', '127.0.0.1') or args.port != '9999' or args.user != 'pgpool':
        print('psql: error: connection refused (pgpool listens on localhost:9999 for user pgpool)', file=sys.stderr)
        return 2
    password = os.environ.get('PGPASSWORD')
    passfile = os.environ.get('PGPASSFILE')
    if password is None and passfile and os.path.isfile(passfile):
        with open(passfile) as handle:
            for line in handle:
                parts = line.rstrip('\n').split(':', 4)
                if len(parts) == 5 and parts[3] in ('*', 'pgpool'):
                    password = parts[4]
                    break
    if password != state['pgpool_password']:
        print('psql: error: FATAL:  password authentication failed for user "pgpool"', file=sys.stderr)
        return 2
    if (args.command or '').strip().rstrip(';').lower() != 'show pool_nodes':
        print('ERROR:  only "show pool_nodes" is modelled', file=sys.stderr)
        return 1
    header = ['node_id', 'hostname', 'port', 'status', 'lb_weight', 'role']
    rows = state['pool_nodes']
    if args.A:
        if not args.t:
            print(args.sep.join(header))
        for row in rows:
            print(args.sep.join(row))
        if not args.t:
            print('(%d rows)' % len(rows))
        return 0
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    if not args.t:
        print(' ' + ' | '.join(h.center(w) for h, w in zip(header, widths)))
        print('-' + '-+-'.join('-' * w for w in widths) + '-')
    for row in rows:
        print(' ' + ' | '.join(c.ljust(w) for c, w in zip(row, widths)))
    if not args.t:
        print('(%d rows)' % len(rows))
    return 0


def health_document(state):
    green = not state['never_green']
    flag = 'true' if green else 'false'
    return {
        'AllOk': flag,
        'DatabaseConnectionOk': 'true',
        'DatabaseStatus': 'Connected',
        'ElasticsearchServiceOk': flag,
        'ElasticsearchUnassignedShards': '0' if green else '5',
        'EhCacheClusterPeers': str(state['peers']),
        'MessagingConnectionOk': 'true',
        'AnalyticsConnectionOk': flag,
        'FederationBrokerOk': 'unknown',
        'BuildVersion': '%s Build %s' % (state['version'], state['build']),
        'hostName': state['hostname'],
    }


class Handler(BaseHTTPRequestHandler):
    root = None

    def log_message(self, fmt, *args):  # pylint: disable=arguments-differ
        sys.stderr.write('vidm-appliance-sim: %s\n' % (fmt % args))

    def send(self, status, body, ctype='application/json'):
        data = body.encode()
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # pylint: disable=invalid-name
        path = self.path.split('?', 1)[0]
        if path not in ('/SAAS/API/1.0/REST/system/health/heartbeat', '/SAAS/API/1.0/REST/system/health'):
            self.send(404, json.dumps({'errors': [{'code': 'not.found', 'message': path}]}))
            return
        state = load_state(self.root)
        down = node_down(state)
        if down:
            self.send(503, 'Service Unavailable (%s)' % down, 'text/plain')
            return
        if path.endswith('/heartbeat'):
            self.send(200, 'ok', 'text/plain')
            return
        self.send(200, json.dumps(health_document(state)))

    def do_POST(self):  # pylint: disable=invalid-name
        self.send(405, json.dumps({'errors': [{'code': 'method.not.allowed'}]}))

    do_PUT = do_DELETE = do_POST


WRAPPER = '''#!/bin/sh
VIDM_SIM_ROOT=%(root)s exec %(python)s %(sim)s %(command)s "$@"
'''


def install(root, overrides):
    root = os.path.abspath(root)
    state = dict(DEFAULT_STATE)
    state.update(overrides)
    os.makedirs(os.path.dirname(os.path.join(root, STATE_RELPATH)), exist_ok=True)
    save_state(root, state)
    sim = os.path.abspath(__file__)
    for command, rel in COMMANDS.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as handle:
            handle.write(WRAPPER % dict(root=root, python=sys.executable, sim=sim, command=command))
        os.chmod(path, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    files = {
        RUNTIME_CONFIG_RELPATH: (
            'datastore.jdbc.url=jdbc:postgresql://%s:5432/saas?stringtype=unspecified\n' % state['delegate_ip']
            if state['db_type'] == 'postgresql' else
            'datastore.jdbc.url=jdbc:sqlserver://sql.example.com:1433;DatabaseName=saas\n'),
        PGPOOL_CONF_RELPATH: ''.join(
            "backend_hostname%s = '%s'\nbackend_port%s = %s\n" % (r[0], r[1], r[0], r[2])
            for r in state['pool_nodes']) + "delegate_IP = '%s'\n" % state['delegate_ip'],
        PGPOOL_PWD_RELPATH: state['pgpool_password'] + '\n',
    }
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as handle:
            handle.write(text)
    os.chmod(os.path.join(root, PGPOOL_PWD_RELPATH), stat.S_IRUSR | stat.S_IWUSR)
    os.makedirs(os.path.dirname(os.path.join(root, LOG_RELPATH)), exist_ok=True)
    write_boot_id(root, state)


def serve(root, listen, port_file=None):
    host, port = listen.rsplit(':', 1)
    Handler.root = os.path.abspath(root)
    server = ThreadingHTTPServer((host, int(port)), Handler)
    if port_file:
        with open(port_file, 'w') as handle:
            handle.write('%d\n' % server.server_address[1])
    print('port=%d' % server.server_address[1], flush=True)
    server.serve_forever()


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    handlers = {'updatemgr': cmd_updatemgr, 'updateoffline': cmd_updateoffline, 'vamicli': cmd_vamicli,
                'psql': cmd_psql, 'df': cmd_df, 'reboot': cmd_reboot,
                'shutdown': lambda args: cmd_reboot(args, 'shutdown')}
    if argv and argv[0] in handlers:
        try:
            return handlers[argv[0]](argv[1:])
        except SimError as exc:
            print('vidm-appliance-sim: %s' % exc, file=sys.stderr)
            return 1
    parser = argparse.ArgumentParser(description='vIDM appliance node simulator')
    parser.add_argument('--install', metavar='ROOT')
    parser.add_argument('--set', action='append', default=[], metavar='KEY=JSON',
                        help='state override for --install or --root (JSON value)')
    parser.add_argument('--serve', action='store_true')
    parser.add_argument('--root')
    parser.add_argument('--listen', default='127.0.0.1:0')
    parser.add_argument('--port-file')
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.set:
        key, _sep, value = item.partition('=')
        if key not in DEFAULT_STATE:
            parser.error('unknown state key %s' % key)
        overrides[key] = json.loads(value)
    if args.install:
        install(args.install, overrides)
        return 0
    if args.root and overrides and not args.serve:
        state = load_state(args.root)
        state.update(overrides)
        save_state(args.root, state)
        return 0
    if args.serve and args.root:
        serve(args.root, args.listen, args.port_file)
        return 0
    parser.error('give --install ROOT, --root ROOT --set KEY=JSON, or --serve --root ROOT')
    return 2


if __name__ == '__main__':
    sys.exit(main())
