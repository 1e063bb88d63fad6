# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A ``WindowsHost`` for unit tests, backed by the simulated Windows host of the integration tests.

The simulator's core (tests/simulators/windows_host/.../module_utils/_winsim.py) is loaded by
path and called in-process: the module arguments go through ``ArgumentSpecValidator`` with the
simulated module's spec (an unknown or wrongly typed argument fails the test), connection faults
come out as ``HostLost`` and vIDM notifications are recorded in ``Sim.vidm``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import pathlib

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.idmops.lifecycle.plugins.module_utils._windows_upgrade import HostLost, WindowsHost

SIM = (pathlib.Path(__file__).resolve().parents[3] / 'simulators' / 'windows_host' / 'collections' / 'ansible_collections'
       / 'ansible' / 'windows' / 'plugins' / 'module_utils' / '_winsim.py')
_spec = importlib.util.spec_from_file_location('winsim_core', SIM)
winsim = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(winsim)

CONNECTOR_KEY = 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\VMware Identity Manager Connector'
JAVA = 'C:\\Program Files\\VMware\\VMware Identity Manager\\Connector\\jre\\bin\\java.exe'
VIDM_KEY = 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\VMware Identity Manager'
OLD_JRE = '8.0.2020.8'
NEW_JRE = '8.0.2820.8'


class Clock:
    """``clock`` and ``sleep`` for wait_until: sleeping moves the clock, nothing waits."""

    def __init__(self):
        self.now = 0.0
        self.slept = 0

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += max(seconds, 0.01)
        self.slept += 1


class Sim:
    """One simulated host in ``tmp_path``; ``host`` is the WindowsHost the upgrade code gets."""

    def __init__(self, tmp_path, **state):
        self.tmp = tmp_path
        self.vidm = []
        self.calls = []
        self.state = winsim.new_state(hostname='conn1.example.com', vidm=dict(url='http://vidm.invalid', connectors={}))
        self.state.update(state)
        self.h = winsim.Host(self.state, str(tmp_path / 'root'), notify=self._notify)
        self.host = WindowsHost(call=self.call, reboot=self.reboot, fetch=self.fetch)

    def _notify(self, url, host, up, version=None):
        self.vidm.append((host, 'up' if up else 'down', version))

    def call(self, name, args, secret=False):
        namespace, dummy, short = name.rpartition('.')
        assert namespace == 'ansible.windows', name
        validation = ArgumentSpecValidator(winsim.SPECS[short]).validate(dict(args))
        assert not validation.error_messages, validation.error_messages
        self.calls.append((short, dict(args), secret))
        try:
            self.h.before_command()
            result = self.h.call(short, validation.validated_parameters)
            self.h.after_command()
        except winsim.Unreachable as exc:
            raise HostLost(str(exc))
        return result

    def reboot(self, args):
        return self.h.reboot(args)

    def fetch(self, args):
        source = self.h.local(args['src'])
        dest = pathlib.Path(args['dest'])
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(pathlib.Path(source).read_bytes())
        return dict(changed=True, dest=str(dest))

    def installer(self, name='connector.exe', **desc):
        """An installer file (JSON description) on the controller side; (file URL, sha256)."""
        path = self.tmp / name
        path.write_text(json.dumps(desc))
        return path.as_uri(), hashlib.sha256(path.read_bytes()).hexdigest()

    def commands(self):
        return [args.get('cmd') for short, args, secret in self.calls if short == 'win_command']


def connector_sim(tmp_path, version='19.03.0.0', jre=OLD_JRE, **state):
    sim = Sim(tmp_path, **state)
    sim.state['registry'][CONNECTOR_KEY.lower()] = dict(displayversion=version)
    sim.state['file_versions'][JAVA.lower()] = jre
    sim.state['services']['IDM Connector'] = dict(state='started', start_mode='auto', username='LocalSystem')
    sim.state['vidm']['connectors']['IDM Connector'] = 'conn1.example.com'
    return sim


def connector_installer(sim, version='19.03.0.1', jre=OLD_JRE, **extra):
    return sim.installer('connector.exe', version=version, registry_key=CONNECTOR_KEY, registry_value='DisplayVersion',
                         service='IDM Connector', file_versions={JAVA: jre}, **extra)


def node_sim(tmp_path):
    """A VMware Identity Manager for Windows node at 19.03.0.0 with the export script in its support folder."""
    sim = Sim(tmp_path, hostname='vidm1.example.com')
    sim.state['registry'][VIDM_KEY.lower()] = dict(displayversion='19.03.0.0')
    sim.state['services']['VMware Identity Manager'] = dict(state='started', start_mode='auto', username='LocalSystem')
    script = tmp_path / 'root' / 'C' / 'VMware' / 'VMwareIdentityManager' / 'support' / 'migrateEmbeddedConnector.bat'
    script.parent.mkdir(parents=True)
    script.write_text('@echo off\n')
    return sim


def node_installer(sim, version='19.03.0.1'):
    return sim.installer('vidm.exe', version=version, registry_key=VIDM_KEY, registry_value='DisplayVersion',
                         service='VMware Identity Manager')
