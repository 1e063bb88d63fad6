# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Create and read simulated Windows hosts (see collections/.../module_utils/_winsim.py).

    winsim_ctl.py init STATE_DIR HOST connector --version V --jre J [--vidm-url U] [--quirk KEY=JSON ...]
    winsim_ctl.py init STATE_DIR HOST vidm --version V [--install-dir D] [--quirk KEY=JSON ...]
    winsim_ctl.py show STATE_DIR HOST
    winsim_ctl.py installer PATH connector --version V --jre J
    winsim_ctl.py installer PATH vidm --version V [--rc N]

A connector host has the connector's uninstall entry, its JRE (``java.exe`` product version) and
the service "IDM Connector", which tells the vIDM simulator at ``--vidm-url`` when it goes down
and up (as connector HOST). A vidm host has the VMware Identity Manager entry, its service and
the export script in ``<install-dir>/VMwareIdentityManager/support``. ``installer`` writes a simulated
installer (the JSON description the core's installer reads) that installs that kind at version V:
the connector with its JRE at J, vIDM for Windows exiting with N (3010: restart needed).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORE = os.path.join(HERE, 'collections', 'ansible_collections', 'ansible', 'windows', 'plugins', 'module_utils', '_winsim.py')
UNINSTALL = 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\'
CONNECTOR_KEY = UNINSTALL + 'VMware Identity Manager Connector'
VIDM_KEY = UNINSTALL + 'VMware Identity Manager'
JAVA = 'C:\\Program Files\\VMware\\VMware Identity Manager\\Connector\\jre\\bin\\java.exe'


def load_core():
    spec = importlib.util.spec_from_file_location('winsim_core', CORE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def init(args):
    core = load_core()
    state = core.new_state(hostname=args.host)
    if args.kind == 'connector':
        state['registry'][CONNECTOR_KEY.lower()] = dict(displayversion=args.version)
        state['file_versions'][JAVA.lower()] = args.jre
        state['services']['IDM Connector'] = dict(state='started', start_mode='auto', username='LocalSystem')
        state['vidm'] = dict(url=args.vidm_url, connectors={'IDM Connector': args.host})
    else:
        state['registry'][VIDM_KEY.lower()] = dict(displayversion=args.version)
        state['services']['VMware Identity Manager'] = dict(state='started', start_mode='auto', username='LocalSystem')
        support = os.path.join(args.install_dir, 'VMwareIdentityManager', 'support')
        os.makedirs(support, exist_ok=True)
        with open(os.path.join(support, 'migrateEmbeddedConnector.bat'), 'w') as f:
            f.write('@echo off\r\n')
    for quirk in args.quirk:
        key, dummy, value = quirk.partition('=')
        if key not in state['quirks']:
            sys.exit('winsim_ctl: unknown quirk %r (known: %s)' % (key, ', '.join(sorted(state['quirks']))))
        state['quirks'][key] = json.loads(value)
    os.makedirs(os.path.join(args.state_dir, args.host), exist_ok=True)
    with open(os.path.join(args.state_dir, args.host + '.json'), 'w') as f:
        json.dump(state, f, indent=1, sort_keys=True)


def write_installer(args):
    if args.kind == 'connector':
        description = dict(version=args.version, registry_key=CONNECTOR_KEY, registry_value='DisplayVersion',
                           service='IDM Connector', file_versions={JAVA: args.jre})
    else:
        description = dict(version=args.version, registry_key=VIDM_KEY, registry_value='DisplayVersion',
                           service='VMware Identity Manager')
    if args.rc is not None:
        description['rc'] = args.rc
    with open(args.path, 'w') as f:
        json.dump(description, f, sort_keys=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True)
    p_init = sub.add_parser('init')
    p_init.add_argument('state_dir')
    p_init.add_argument('host')
    p_init.add_argument('kind', choices=['connector', 'vidm'])
    p_init.add_argument('--version', required=True)
    p_init.add_argument('--jre', default='8.0.2020.8')
    p_init.add_argument('--vidm-url')
    p_init.add_argument('--install-dir', default='')
    p_init.add_argument('--quirk', action='append', default=[])
    p_show = sub.add_parser('show')
    p_show.add_argument('state_dir')
    p_show.add_argument('host')
    p_installer = sub.add_parser('installer')
    p_installer.add_argument('path')
    p_installer.add_argument('kind', choices=['connector', 'vidm'])
    p_installer.add_argument('--version', required=True)
    p_installer.add_argument('--jre', default='8.0.2820.8')
    p_installer.add_argument('--rc', type=int)
    args = parser.parse_args(argv)
    if args.command == 'init':
        init(args)
    elif args.command == 'installer':
        write_installer(args)
    else:
        with open(os.path.join(args.state_dir, args.host + '.json')) as f:
            sys.stdout.write(f.read())
    return 0


if __name__ == '__main__':
    sys.exit(main())
