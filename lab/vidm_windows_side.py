"""The vIDM service side of the lab that cannot run here: the admin REST API and the Windows hosts.

The vIDM REST API is tests/simulators/vidm_sim.py on 127.0.0.1 (its seeded directories and
connectors connector1..3.example.com); the Windows connectors and a vIDM for Windows node are
simulated Windows hosts (tests/simulators/windows_host), reached with the test-only
``ansible.windows.winsim`` connection. A simulated Windows host is a state file, not a process: the
REST simulator is the only process this part starts, recorded by PID and stopped by it.

Jobs on these hosts need the test-only ansible.windows collection first in ANSIBLE_COLLECTIONS_PATH
and WINSIM_STATE_DIR: ``task_env.yml`` holds both, the way AWX's "Extra Environment Variables"
would, and ``survey_answers.yml`` answers the survey questions that have no default (the installer
release). Standard library only, like labctl.
"""

import hashlib
import json
import os
import secrets
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VIDM_API_SIMULATOR = REPO / 'tests' / 'simulators' / 'vidm_sim.py'
WINSIM = REPO / 'tests' / 'simulators' / 'windows_host'
WINSIM_CTL = WINSIM / 'winsim_ctl.py'
VIDM_API_ADDRESS = ('127.0.0.1', 18443)
VIDM_API_CLIENT_ID = 'idmops-lab'

OLD_JRE = '8.0.2020.8'
NEW_JRE = '8.0.2820.8'
# The hosts the REST simulator seeds as connectors, as they start: connector1 already has the new
# JRE (upgrade without a reboot), the others get it (reboot).
CONNECTORS = {
    'connector1.example.com': ('19.03.0.1', NEW_JRE),
    'connector2.example.com': ('19.03.0.1', OLD_JRE),
    'connector3.example.com': ('20.10.0.0', OLD_JRE),
}
CONNECTOR_TARGET = '20.10.0.1'
WINDOWS_NODES = {'vidmwin1.example.com': '19.03.0.0'}
WINDOWS_NODE_TARGET = '19.03.0.1'
# The seeded directories' failover lists: no two alike (no collision), every connector in two.
SYNC_LISTS = {
    'corp.example.com': ['connector1.example.com', 'connector2.example.com'],
    'emea.example.com': ['connector2.example.com', 'connector1.example.com'],
    'lab.example.com': ['connector3.example.com', 'connector1.example.com'],
    'partners.example.com': ['connector2.example.com', 'connector3.example.com'],
}


class VidmWindowsSide:
    def __init__(self, lab, labctl):
        """``labctl``: the labctl module, whose process and file helpers this part uses too."""
        self.labctl = labctl
        self.dir = lab.dir / 'vidm-windows'
        self.hosts_dir = self.dir / 'hosts'
        self.media_dir = self.dir / 'media'
        self.exports_dir = self.dir / 'exports'
        self.client_secret = self.dir / 'vidm-api-client.secret'
        self.secrets_file = self.dir / 'secrets.json'
        self.port_file = self.dir / 'vidm-api.port'
        self.log_file = self.dir / 'vidm-api.log'
        self.pidfile = lab.pids / 'vidm-api.pid'
        self.job_templates_dir = lab.dir / 'job_templates'

    @property
    def url(self):
        return f'http://{VIDM_API_ADDRESS[0]}:{VIDM_API_ADDRESS[1]}'

    def api_pid(self):
        pid = self.labctl.read_pid(self.pidfile)
        if self.labctl.alive(pid) and str(VIDM_API_SIMULATOR) in self.labctl.cmdline(pid):
            return pid
        return None

    def up(self, reset):
        """Start the REST simulator (again, from its seed, on reset) and (re)create the Windows hosts
        with it; returns a line for the log when something started."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if not self.client_secret.exists():
            self.labctl.write_atomic(self.client_secret, secrets.token_urlsafe(24), mode=0o600)
        if not self.secrets_file.exists():
            self.labctl.write_atomic(self.secrets_file, json.dumps({
                'bind_password': secrets.token_urlsafe(18), 'export_password': secrets.token_urlsafe(18)}), mode=0o600)
        started = self.start_api(reset)
        # A fresh simulator knows the seeded connector versions only: the hosts start again with it.
        if started or any(not self.state_file(h).exists() for h in (*CONNECTORS, *WINDOWS_NODES)):
            self.create_hosts()
        self.write_media()
        self.write_job_template_files()
        return f'vIDM REST API simulator started: {self.url} (client {VIDM_API_CLIENT_ID})' if started else None

    def start_api(self, reset):
        pid = self.api_pid()
        if pid and not reset:
            return False
        if pid:
            self.labctl.stop_pid(pid, 'the vIDM REST API simulator')
        if self.labctl.tcp_open(*VIDM_API_ADDRESS, timeout=0.3):
            raise self.labctl.LabError(f'{VIDM_API_ADDRESS[0]}:{VIDM_API_ADDRESS[1]} is already in use by another '
                                       'process; the lab vIDM REST API simulator needs it')
        self.port_file.unlink(missing_ok=True)
        self.labctl.start_process(
            [sys.executable, str(VIDM_API_SIMULATOR), '--port', str(VIDM_API_ADDRESS[1]),
             '--port-file', str(self.port_file), '--client-id', VIDM_API_CLIENT_ID,
             '--client-secret-file', str(self.client_secret)],
            'the vIDM REST API simulator', self.log_file, self.pidfile,
            lambda: (self.port_file.exists(), f'no {self.port_file} yet'), 15, 'the vIDM REST API simulator')
        return True

    def down(self):
        pid = self.api_pid()
        if pid:
            self.labctl.stop_pid(pid, 'the vIDM REST API simulator')
        self.pidfile.unlink(missing_ok=True)

    def state_file(self, host):
        return self.hosts_dir / f'{host}.json'

    def create_hosts(self):
        self.hosts_dir.mkdir(parents=True, exist_ok=True)
        for host, (version, jre) in CONNECTORS.items():
            self.labctl.run([sys.executable, str(WINSIM_CTL), 'init', str(self.hosts_dir), host, 'connector',
                             '--version', version, '--jre', jre, '--vidm-url', self.url])
        for host, version in WINDOWS_NODES.items():
            self.labctl.run([sys.executable, str(WINSIM_CTL), 'init', str(self.hosts_dir), host, 'vidm',
                             '--version', version, '--install-dir', str(self.install_dir(host))])

    def install_dir(self, host):
        return self.hosts_dir / host / 'VMware'

    def write_media(self):
        """The simulated installers: connector CONNECTOR_TARGET with NEW_JRE, vIDM for Windows
        WINDOWS_NODE_TARGET exiting with 3010 (restart needed)."""
        self.media_dir.mkdir(parents=True, exist_ok=True)
        self.labctl.run([sys.executable, str(WINSIM_CTL), 'installer', str(self.media_dir / 'connector.exe'), 'connector',
                         '--version', CONNECTOR_TARGET, '--jre', NEW_JRE])
        self.labctl.run([sys.executable, str(WINSIM_CTL), 'installer', str(self.media_dir / 'vidm.exe'), 'vidm',
                         '--version', WINDOWS_NODE_TARGET, '--rc', '3010'])

    def checksum(self, name):
        return hashlib.sha256((self.media_dir / name).read_bytes()).hexdigest()

    def write_job_template_files(self):
        self.job_templates_dir.mkdir(parents=True, exist_ok=True)
        q = json.dumps
        answers = [
            '# Written by lab/up: answers to the survey questions that have no default (the release).',
            f'vidm_connector_upgrade_version: {q(CONNECTOR_TARGET)}',
            f'vidm_connector_upgrade_checksum: {q(self.checksum("connector.exe"))}',
            f'vidm_connector_upgrade_installer_url: {q((self.media_dir / "connector.exe").as_uri())}',
            f'vidm_windows_upgrade_version: {q(WINDOWS_NODE_TARGET)}',
            f'vidm_windows_upgrade_checksum: {q(self.checksum("vidm.exe"))}',
            f'vidm_windows_upgrade_installer_url: {q((self.media_dir / "vidm.exe").as_uri())}',
            '',
        ]
        self.labctl.write_atomic(self.job_templates_dir / 'survey_answers.yml', '\n'.join(answers))
        collections = os.pathsep.join([str(WINSIM / 'collections'), str(REPO / 'build' / 'collections')])
        env = [
            '# Written by lab/up: the environment of a job on the lab, as AWX\'s "Extra Environment Variables":',
            '# the test-only ansible.windows collection first (the simulated Windows hosts), and their state.',
            f'ANSIBLE_COLLECTIONS_PATH: {q(collections)}',
            f'WINSIM_STATE_DIR: {q(str(self.hosts_dir))}',
            '',
        ]
        self.labctl.write_atomic(self.job_templates_dir / 'task_env.yml', '\n'.join(env))

    def inventory_vars(self):
        """Lines of the inventory's all.vars: what the vIDM API and vIDM for Windows credentials inject."""
        q = json.dumps
        lines = [
            f'    vidm_url: {q(self.url)}',
            f'    vidm_client_id: {q(VIDM_API_CLIENT_ID)}',
            f'    vidm_client_secret: {q(self.file_lookup(self.client_secret))}',
        ]
        for role in ('vidm_sync_ha', 'vidm_connector_upgrade'):
            lines += [f'    {role}_vidm_{name}: "{{{{ vidm_{name} }}}}"' for name in ('url', 'client_id', 'client_secret')]
        lines += [
            f'    vidm_sync_ha_bind_password: {q(self.file_lookup(self.secrets_file, "bind_password"))}',
            '    vidm_sync_ha_directories:',
            *[f'      - {{name: {q(name)}, connectors: {q(hosts)}}}' for name, hosts in SYNC_LISTS.items()],
        ]
        return lines

    @staticmethod
    def file_lookup(path, key=None):
        """The Jinja expression of a secret read from a file at run time (the inventory holds no secret)."""
        lookup = f"lookup('ansible.builtin.file', '{path}')"
        return '{{ ' + (f'({lookup} | from_json).{key}' if key else lookup) + ' }}'

    def inventory_groups(self, python):
        """Lines of the inventory's children: the simulated Windows hosts."""
        q = json.dumps
        common = ['        ansible_connection: ansible.windows.winsim',
                  f'        ansible_python_interpreter: {q(python)}']
        lines = ['    vidm_connectors:', '      vars:', *common,
                 "        # The lab's hosts install and restart in moments: poll often.",
                 '        vidm_connector_upgrade_wait_sleep: 0.2',
                 '      hosts:', *[f'        {host}: {{}}' for host in CONNECTORS]]
        lines += ['    vidm_windows:', '      vars:', *common,
                  '        vidm_windows_upgrade_wait_sleep: 0.2',
                  f'        vidm_windows_upgrade_export_password: {q(self.file_lookup(self.secrets_file, "export_password"))}',
                  f'        vidm_windows_upgrade_export_dest: "{self.exports_dir}/{{{{ inventory_hostname }}}}"',
                  '      hosts:']
        for host in WINDOWS_NODES:
            lines += [f'        {host}:', f'          vidm_windows_upgrade_install_dir: {q(str(self.install_dir(host)))}']
        return lines

    def status(self):
        """(report, problems)."""
        pid = self.api_pid()
        hosts = {}
        for host in (*CONNECTORS, *WINDOWS_NODES):
            try:
                state = json.loads(self.state_file(host).read_text())
            except (OSError, ValueError):
                hosts[host] = None
                continue
            # A simulated host has one uninstall entry: its product's.
            versions = [v['displayversion'] for v in state.get('registry', {}).values() if 'displayversion' in v]
            hosts[host] = {'version': versions[0] if versions else None, 'boot_count': state.get('boot_count')}
        problems = [] if pid else ['vIDM REST API simulator not running']
        problems += [f'{host}: no simulated Windows host state' for host, entry in hosts.items() if entry is None]
        return {'vidm_api': {'pid': pid, 'url': self.url}, 'windows_hosts': hosts}, problems
