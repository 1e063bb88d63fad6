"""The idmops.lifecycle test lab: ``up``, ``down`` and ``status`` (see docs/lab.md).

AM nodes are network namespaces on a bridge, each with its own sshd, mount namespace (its own
``/opt/am``, and its site's shared ``/opt/am/site`` holding the configuration) and Tomcat running a stand-in AM webapp;
the nodes form AM sites, one HAProxy backend per site, each site the other's backup. A real
OpenLDAP slapd on the host is the identity store. Standard library only: this runs with
/usr/bin/python3 on a bare Debian machine.

Every process the lab starts is recorded by PID under ``<lab dir>/pids/`` and stopped by that PID;
Tomcat's PID is read from its ``CATALINA_PID`` file at stop time, because playbooks restart it.
"""

import argparse
import contextlib
import fcntl
import hashlib
import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import probe  # lab/probe.py, beside this file: its HAProxy runtime API client
import vidm_windows_side  # lab/vidm_windows_side.py: the vIDM REST API and the Windows hosts

REPO = Path(__file__).resolve().parent.parent
STANDIN_SRC = REPO / 'lab' / 'standin-am'

BRIDGE = 'idmlab0'
HOST_IP = '10.213.0.1'
# Fixed MACs: a node that is removed and added again keeps its MAC, so no neighbour cache goes stale.
BRIDGE_MAC = '02:49:44:00:00:01'
PREFIX_LEN = 24
NS_PREFIX = 'idmlab-'
NODE_MOUNT = Path('/opt/am')
# The site's directory, in every node of the site. The configuration is a directory inside it, not
# the mount point itself, so that an upgrade can swap it by rename as on a real server.
SITE_MOUNT = NODE_MOUNT / 'site'
CONFIG_MOUNT = SITE_MOUNT / 'config'
LAB_SETTINGS_NAME = 'lab.properties'         # /opt/am/lab.properties: switches the stand-in AM reads
MAX_SITES = 4
MAX_NODES = 9                                # per site

CATALINA_HOME = Path('/usr/share/tomcat10')
CATALINA_BASE = NODE_MOUNT / 'tomcat'
CATALINA_PID = CATALINA_BASE / 'temp' / 'catalina.pid'
TOMCAT_CONF_SRC = Path('/etc/tomcat10')
CATALINA_OPTS = '-Xms64m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true'
# For the short-lived JVM of `catalina.sh stop` (and start); heap options are in CATALINA_OPTS.
JAVA_OPTS = '-XX:+UseSerialGC -XX:TieredStopAtLevel=1'
TOMCAT_PORT = 8080
# keytool is a short-lived JVM too: a third less CPU with the C1 compiler only, which counts with six nodes.
KEYTOOL_JVM = ('-J-XX:TieredStopAtLevel=1', '-J-XX:+UseSerialGC')

FRONTEND = ('127.0.0.1', 18080)
ADMIN_TCP = ('127.0.0.1', 19999)

INITIAL_VERSION = '7.5.0'
# Stand-in builds: wars/am-<name>.war, with this baked into WEB-INF/classes/am-version.properties.
BUILDS = {
    '7.5.0': {'version': '7.5.0', 'revision': 'a1d3c5e7f9', 'date': '2024-March-28 10:43'},
    '8.1.0': {'version': '8.1.0', 'revision': 'b2e4d6f8a0', 'date': '2025-June-23 09:12'},
    # The fault scenario: reports 8.1.0, /json/health/ready never answers 200.
    '8.1.0-neverready': {'version': '8.1.0', 'revision': 'b2e4d6f8a0', 'date': '2025-June-23 09:12',
                         'ready': 'never'},
}
# The AM 8.1 upgrade wizard's libraries (WEB-INF/lib); the stand-in's click servlet goes into the second.
WIZARD_JARS = {'click-extras-2.3.0.jar': ('click-extras', '2.3.0'),
               'click-nodeps-2.3.0.jar': ('click-nodeps', '2.3.0'),
               'velocity-1.7-p1.jar': ('velocity', '1.7-p1')}
CLICK_JAR = 'click-nodeps-2.3.0.jar'
CLICK_PACKAGE = 'org/apache/click'
KEY_ALIAS = 'directenctest'
WAR_LAYOUT = 3

# OpenLDAP identity store on the host.
LDAP_PORT = 1389
LDAP_SUFFIX = 'dc=example,dc=com'
LDAP_ADMIN_DN = f'cn=admin,{LDAP_SUFFIX}'
LDAP_SCHEMAS = ('core', 'cosine', 'inetorgperson', 'nis')
LDAP_SCHEMA_DIR = Path('/etc/ldap/schema')
LDAP_PEERCRED_ROOT = 'gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth'
LDAP_USERS = (('demo', 'Demo', 'User'), ('alice', 'Alice', 'Archer'), ('bob', 'Bob', 'Baker'))
SLAPD = Path('/usr/sbin/slapd')

# Written by someone else; installed on the nodes at `up` when it exists.
AMUPGRADE_SIMULATOR = REPO / 'tests' / 'simulators' / 'amupgrade.py'

# vIDM appliance nodes: the appliance simulator's commands at their real paths, its node HTTP service.
VIDM_SIMULATOR = REPO / 'tests' / 'simulators' / 'vidm_appliance' / 'vidm_appliance_sim.py'
MAX_VIDM_NODES = 40
VIDM_HTTP_PORT = 80
VIDM_FRONTEND = ('127.0.0.1', 18081)
VIDM_BACKEND = 'vidm'
VIDM_HEARTBEAT = '/SAAS/API/1.0/REST/system/health/heartbeat'
VIDM_DELEGATE_IP = '10.213.0.100'
VIDM_DATABASES = ('postgresql', 'mssql')
# The appliance directories each vIDM node has of its own, bind-mounted from <node>/root.
VIDM_MOUNTS = ('usr/local/horizon', 'opt/vmware', 'usr/local/etc')
# Directories the simulator adds commands to (vamicli, reboot, shutdown, df), overlaid on the host's.
VIDM_OVERLAYS = ('usr/sbin', 'usr/bin')
BOOT_ID = Path('/proc/sys/kernel/random/boot_id')

# The vCenter simulator (lab/vcsim), with a VM per lab node.
VCSIM_BUILD = REPO / 'lab' / 'vcsim' / 'build.sh'
VCSIM_ADDRESS = ('127.0.0.1', 18989)
VCSIM_USER = 'lab'
VCSIM_START_TIMEOUT = 30
VCSIM_BUILD_TIMEOUT = 1200

# Debian packages the lab runs on; installed by `up` when missing.
PACKAGES = ('haproxy', 'tomcat10', 'openjdk-17-jdk-headless', 'openssh-server', 'openssh-client',
            'iproute2', 'util-linux', 'python3', 'slapd', 'ldap-utils',
            'python3-ldap3')   # ldif_apply on the nodes (/usr/bin/python3)

# Bounds of every wait, in seconds.
SSHD_START_TIMEOUT = 15
SLAPD_START_TIMEOUT = 15
TOMCAT_READY_TIMEOUT = 120
HAPROXY_UP_TIMEOUT = 30
STOP_TIMEOUT = 15

DEBIAN_ARCH = {'x86_64': 'amd64', 'aarch64': 'arm64'}
SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'


class LabError(Exception):
    """A failure with a message meant for the person running the lab."""


# ---------------------------------------------------------------------------------------------
# small helpers

def log(message):
    print(f'lab: {message}', flush=True)


def run(cmd, check=True, timeout=120, **kwargs):
    """Runs cmd (a list) and returns the CompletedProcess; output is captured as text."""
    kwargs.setdefault('stdin', subprocess.DEVNULL)
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
    except subprocess.TimeoutExpired as e:
        raise LabError(f'{shlex.join(cmd)} did not finish within {timeout}s') from e
    if check and result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise LabError(f'{shlex.join(cmd)} failed (exit {result.returncode}): {output}')
    return result


def write_if_changed(path, content, mode=0o644):
    """Writes in place (bind-mounted files keep their inode) only when the content differs."""
    path = Path(path)
    if path.exists() and path.read_text() == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w') as f:
        f.write(content)
    os.chmod(path, mode)
    return True


def write_atomic(path, data, mode=0o644):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def wait_until(probe, timeout, description, sleep=0.2):
    """Calls probe() -> (done, observation) until done; LabError names the bound and last observation."""
    deadline = time.monotonic() + timeout
    while True:
        done, observation = probe()
        if done:
            return observation
        if time.monotonic() >= deadline:
            raise LabError(f'timed out after {timeout}s waiting for {description}; last seen: {observation}')
        time.sleep(sleep)


def start_process(argv, what, log_path, pidfile, ready, timeout, waiting_for, env=None, sleep=0.05):
    """Starts argv in its own session, output appended to log_path, its PID recorded in pidfile (so that
    down stops it by PID), and waits until ready() -> (done, observation); LabError with the log's tail
    when it exits first. Returns the process."""
    with open(log_path, 'ab') as out:
        process = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                   start_new_session=True, cwd='/')
    write_atomic(pidfile, f'{process.pid}\n')

    def started():
        if process.poll() is not None:
            raise LabError(f'{what} exited with {process.returncode}; see {log_path}:\n{tail(log_path)}')
        return ready()
    wait_until(started, timeout, waiting_for, sleep=sleep)
    return process


def parallel(function, items):
    """Runs function over items in threads; re-raises the first failure after all have finished."""
    items = list(items)
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        futures = [pool.submit(function, item) for item in items]
    errors = [f.exception() for f in futures if f.exception()]
    if errors:
        if len(errors) > 1:
            raise LabError('; '.join(str(e) for e in errors))
        raise errors[0]
    return [f.result() for f in futures]


def tcp_open(host, port, timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_status(host, port, path, timeout=2.0):
    """GET without any proxy; returns (status, body) or (None, error text)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request('GET', path, headers={'Accept-API-Version': 'resource=1.0', 'Connection': 'close'})
        response = conn.getresponse()
        return response.status, response.read().decode(errors='replace')
    except OSError as e:
        return None, str(e) or type(e).__name__
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# processes: identified by PID, checked before being signalled

def read_pid(path):
    try:
        text = Path(path).read_text().strip()
        return int(text) if text else None
    except (FileNotFoundError, ValueError):
        return None


def alive(pid):
    """True for a running process (zombies count as gone)."""
    if not pid:
        return False
    try:
        with open(f'/proc/{pid}/stat') as f:
            state = f.read().rsplit(')', 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ('Z', 'X')


def cmdline(pid):
    try:
        return Path(f'/proc/{pid}/cmdline').read_bytes().decode(errors='replace').split('\0')
    except OSError:
        return []


def netns_id(path):
    try:
        st = os.stat(path)
        return st.st_dev, st.st_ino
    except OSError:
        return None


def in_netns(pid, ns):
    ns_id = netns_id(f'/run/netns/{ns}')
    return ns_id is not None and netns_id(f'/proc/{pid}/ns/net') == ns_id


def stop_pid(pid, what, timeout=STOP_TIMEOUT):
    """SIGTERM, wait up to timeout, then SIGKILL. Returns True if the process had been running."""
    return bool(stop_pids([pid], what, timeout))


def stop_pids(pids, what, timeout=STOP_TIMEOUT):
    """stop_pid for several processes at once; returns those that had been running."""
    running = [pid for pid in pids if alive(pid)]
    for pid in running:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in running) and time.monotonic() < deadline:
        time.sleep(0.1)
    stubborn = [pid for pid in running if alive(pid)]
    if stubborn:
        log(f'{what} (pid {" ".join(map(str, stubborn))}) ignored SIGTERM for {timeout}s: SIGKILL')
        for pid in stubborn:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in stubborn) and time.monotonic() < deadline:
            time.sleep(0.1)
    return running


# ---------------------------------------------------------------------------------------------
# the lab

class Site:
    """An AM site: its nodes, its HAProxy backend and its shared configuration directory."""

    def __init__(self, lab, index):
        self.lab = lab
        self.index = index
        self.name = f'site{index}'
        self.backend = f'am_site{index}'
        self.dir = lab.dir / 'sites' / self.name
        self.config = self.dir / CONFIG_MOUNT.name    # /opt/am/site/config in every node of the site
        self.version_file = self.config / 'global' / 'version.json'
        self.lock_file = self.config / '.am.lock'
        self.nodes = []

    def config_version(self):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            return json.loads(self.version_file.read_text()).get('version')
        return None

    def lock_holder(self):
        """(pid, alive) from .am.lock, or (None, False)."""
        pid = read_pid(self.lock_file)
        return pid, alive(pid)

    def reset_config(self):
        """The initial configuration (version INITIAL_VERSION), and no upgrade backups or staging.
        The site directory itself stays: running nodes have it bind-mounted."""
        self.dir.mkdir(parents=True, exist_ok=True)
        for child in self.dir.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        self.config.mkdir()
        for relative, document in self.render_config().items():
            path = self.config / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(document, indent=2) + '\n')

    def render_config(self):
        """An Amster-export-like tree: {relative path: JSON document}."""
        def entity(realm, entity_type, entity_id, data):
            return {'metadata': {'realm': realm, 'amsterVersion': INITIAL_VERSION, 'entityType': entity_type,
                                 'entityId': entity_id, 'pathParams': {}},
                    'data': dict(data, _id=entity_id)}
        site_url = f'http://{FRONTEND[0]}:{FRONTEND[1]}/am'
        tree = {
            'global/version.json': {'version': INITIAL_VERSION},
            'global/Platform/Platform.json': entity(None, 'Platform', 'Platform', {
                'locale': 'en_US', 'cookieDomains': [], 'platformHostname': FRONTEND[0]}),
            f'global/Sites/{self.name}.json': entity(None, 'Sites', self.name, {
                'url': site_url, 'secondaryURLs': [], 'servers': [n.name for n in self.nodes]}),
            'realms/root/IdRepository/OpenLDAP.json': entity('/', 'LDAPv3ForOpenDJ', 'OpenLDAP', {
                'ldapsettings': {
                    'sun-idrepo-ldapv3-config-ldap-server': [f'{HOST_IP}:{LDAP_PORT}'],
                    'sun-idrepo-ldapv3-config-organization_name': LDAP_SUFFIX,
                    'sun-idrepo-ldapv3-config-authid': LDAP_ADMIN_DN,
                    'sun-idrepo-ldapv3-config-authpw': None,
                    'sun-idrepo-ldapv3-config-connection-mode': 'LDAP',
                },
                'userconfig': {
                    'sun-idrepo-ldapv3-config-people-container-value': 'people',
                    'sun-idrepo-ldapv3-config-user-objectclass': [
                        'boundDevicesContainer', 'deviceProfilesContainer', 'inetorgperson', 'organizationalperson',
                        'person', 'top', 'webauthnDeviceProfilesContainer'],
                },
                'schemaconfig': {'sun-idrepo-ldapv3-config-load-schema': False},
            }),
            'realms/root/AuthTree/Example.json': entity('/', 'AuthTree', 'Example', {
                'entryNodeId': 'a1b2c3d4-0000-4000-8000-000000000001', 'nodes': {}, 'enabled': True}),
        }
        for n in self.nodes:
            tree[f'global/Servers/{n.name}.json'] = entity(None, 'Servers', n.name, {
                'url': f'http://{n.ip}:{TOMCAT_PORT}/am', 'siteName': self.name})
        return tree


class NamespaceHost:
    """A lab host: a network namespace on the bridge and an sshd in a mount and UTS namespace of its
    own, whose mounts (``mount_commands``) give the host its state directories. Subclasses add the
    services that run inside it (``stop_services`` before the namespace goes)."""

    def __init__(self, lab, name, ip, mac):
        self.lab = lab
        self.name = name
        self.ns = f'{NS_PREFIX}{name}'
        self.ip = ip
        self.mac = mac
        self.veth_host = f'{self.ns}-h'
        self.veth_peer = f'{self.ns}-n'
        self.dir = lab.dir / 'nodes' / name
        self.sshd_config = self.dir / 'sshd_config'
        self.host_key = self.dir / 'ssh_host_ed25519_key'
        self.hosts_file = self.dir / 'hosts'
        self.sshd_log = self.dir / 'sshd.log'
        self.sshd_pidfile = lab.pids / f'sshd-{name}.pid'

    def mount_commands(self):
        return [f'mount --bind {shlex.quote(str(self.hosts_file))} /etc/hosts']

    def stop_services(self):
        """Stops what runs in the host besides sshd (by PID)."""

    # -- identity of running processes

    def netns_exists(self):
        return Path(f'/run/netns/{self.ns}').exists()

    def sshd_pid(self):
        pid = read_pid(self.sshd_pidfile)
        if alive(pid) and os.path.realpath(f'/proc/{pid}/exe') == '/usr/sbin/sshd' and in_netns(pid, self.ns):
            return pid
        return None

    # -- network

    def create_netns(self):
        if not self.netns_exists():
            result = run(['ip', 'netns', 'add', self.ns], check=False)
            if result.returncode != 0:
                raise LabError(f'cannot create network namespace {self.ns}: {result.stderr.strip()}. '
                               'The lab needs root with CAP_SYS_ADMIN and CAP_NET_ADMIN '
                               '(a VM, or a privileged container).')

    def wire(self):
        """eth0 in the node (fixed MAC, the node's IP), its host end on the bridge; lo up."""
        if run(['ip', '-n', self.ns, 'link', 'show', 'eth0'], check=False).returncode != 0:
            run(['ip', 'link', 'del', self.veth_host], check=False)
            run(['ip', 'link', 'add', self.veth_host, 'type', 'veth',
                 'peer', 'name', self.veth_peer, 'address', self.mac])
            run(['ip', 'link', 'set', self.veth_peer, 'netns', self.ns])
            run(['ip', '-n', self.ns, 'link', 'set', self.veth_peer, 'name', 'eth0'])
        run(['ip', '-n', self.ns, 'addr', 'replace', f'{self.ip}/{PREFIX_LEN}', 'dev', 'eth0'])
        run(['ip', '-n', self.ns, 'link', 'set', 'lo', 'up'])
        run(['ip', '-n', self.ns, 'link', 'set', 'eth0', 'up'])
        run(['ip', 'link', 'set', self.veth_host, 'master', BRIDGE])
        run(['ip', 'link', 'set', self.veth_host, 'up'])

    # -- sshd

    def write_ssh_files(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        if not self.host_key.exists():
            run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', f'idmlab {self.name} host key',
                 '-f', str(self.host_key)])
        write_if_changed(self.sshd_config, self.render_sshd_config())
        write_if_changed(self.hosts_file, self.lab.render_hosts())

    def render_sshd_config(self):
        return '\n'.join([
            f'# Generated by lab/labctl.py for {self.name} ({self.ns}).',
            f'ListenAddress {self.ip}:22',
            f'HostKey {self.host_key}',
            'PidFile none',
            'UsePAM no',
            'StrictModes no',
            'PermitRootLogin prohibit-password',
            'PubkeyAuthentication yes',
            'PasswordAuthentication no',
            'KbdInteractiveAuthentication no',
            f'AuthorizedKeysFile {self.lab.authorized_keys}',
            'UseDNS no',
            'PrintMotd no',
            'X11Forwarding no',
            'MaxSessions 50',
            'MaxStartups 50:30:100',
            'AcceptEnv LANG LC_*',
            'Subsystem sftp /usr/lib/openssh/sftp-server',
            '',
        ])

    def start_sshd(self):
        pid = self.sshd_pid()
        if pid:
            return pid
        Path('/run/sshd').mkdir(mode=0o755, exist_ok=True)
        # Every mount must succeed before sshd starts: a session must never see the host's own files
        # where the node's belong (for a vIDM node: a real shutdown where the simulator's should be).
        script = ' && '.join([f'hostname {self.name}', *self.mount_commands(),
                              f'exec /usr/sbin/sshd -D -e -f {shlex.quote(str(self.sshd_config))}'])
        process = start_process(
            ['ip', 'netns', 'exec', self.ns, 'unshare', '--mount', '--uts', '--propagation', 'private',
             'sh', '-c', script],
            f'sshd of {self.name}', self.sshd_log, self.sshd_pidfile,
            lambda: (tcp_open(self.ip, 22), f'{self.ip}:22 not accepting connections'),
            SSHD_START_TIMEOUT, f'sshd of {self.name} on {self.ip}:22')
        return process.pid

    def enter(self, argv, env, what):
        """Runs argv inside the node (the sshd's mount, network and UTS namespaces)."""
        sshd = self.sshd_pid()
        if not sshd:
            raise LabError(f'sshd of {self.name} is not running; cannot enter the node to start {what}')
        return ['nsenter', '--target', str(sshd), '--mount', '--net', '--uts', '--', *argv], env

    # -- teardown

    def teardown(self):
        self.stop_services()
        pid = self.sshd_pid()
        if pid:
            stop_pid(pid, f'sshd of {self.name}')
        self.sshd_pidfile.unlink(missing_ok=True)
        if self.netns_exists():
            # Whatever else lives in the node: ansible's `sshd: root@notty` sessions, their children.
            for _attempt in range(3):
                leftovers = [int(p) for p in run(['ip', 'netns', 'pids', self.ns], check=False).stdout.split()]
                leftovers = [p for p in leftovers if p != os.getpid()]
                if not leftovers:
                    break
                stop_pids(leftovers, f'processes in {self.ns}', timeout=5)
            run(['ip', 'netns', 'del', self.ns], check=False)
        if Path(f'/sys/class/net/{self.veth_host}').exists():
            run(['ip', 'link', 'del', self.veth_host], check=False)
        if Path(f'/sys/class/net/{BRIDGE}').exists():
            run(['ip', 'neigh', 'flush', 'to', self.ip, 'dev', BRIDGE], check=False)


class Node(NamespaceHost):
    """An AM node: Tomcat with the stand-in AM in its own /opt/am, its site's /opt/am/site."""

    def __init__(self, lab, index, site=None):
        super().__init__(lab, f'am{index}', f'10.213.0.{10 + index}', f'02:49:44:00:00:{10 + index:02x}')
        self.index = index
        self.site = site                               # None for a node beyond the configured ones
        self.am = self.dir / 'am'                      # /opt/am inside the node
        self.tomcat = self.am / 'tomcat'               # CATALINA_BASE inside the node
        self.catalina_pid = self.tomcat / 'temp' / 'catalina.pid'
        self.keystore = self.am / 'security' / 'keystores' / 'keystore.jceks'
        self.storepass = self.am / 'security' / 'secrets' / 'storepass'
        self.lab_settings = self.am / LAB_SETTINGS_NAME
        self.tomcat_pidfile = lab.pids / f'tomcat-{self.name}.pid'

    def mount_commands(self):
        NODE_MOUNT.mkdir(parents=True, exist_ok=True)
        return [f'mount --bind {shlex.quote(str(self.am))} {NODE_MOUNT}',
                f'mount --bind {shlex.quote(str(self.site.dir))} {SITE_MOUNT}',
                *super().mount_commands()]

    def stop_services(self):
        self.stop_tomcat()

    def tomcat_pids(self):
        """Tomcat PIDs to stop: the CATALINA_PID file's (read now) and the one the lab started."""
        pids = []
        for path in (self.catalina_pid, self.tomcat_pidfile):
            pid = read_pid(path)
            if pid and pid not in pids and self.is_our_tomcat(pid):
                pids.append(pid)
        return pids

    def tomcat_pid(self):
        pid = read_pid(self.catalina_pid)
        return pid if self.is_our_tomcat(pid) else None

    def is_our_tomcat(self, pid):
        if not alive(pid):
            return False
        args = cmdline(pid)
        if 'org.apache.catalina.startup.Bootstrap' not in args or f'-Dcatalina.base={CATALINA_BASE}' not in args:
            return False
        return in_netns(pid, self.ns) if self.netns_exists() else True

    def has_site_mount(self, pid):
        """True when /opt/am/site in the process's mount namespace is its site's directory
        (not so for an sshd started by an older lab, or for a node that moved to another site)."""
        try:
            mounted = os.stat(f'/proc/{pid}/root{SITE_MOUNT}')
            config = os.stat(self.site.dir)
        except OSError:
            return False
        return (mounted.st_dev, mounted.st_ino) == (config.st_dev, config.st_ino)

    # -- files

    def write_files(self, fresh):
        """Node configuration; when fresh (the node was down) also its initial AM state."""
        for d in (self.dir, self.am / 'security' / 'keystores', self.am / 'security' / 'secrets',
                  self.am / SITE_MOUNT.name):
            d.mkdir(parents=True, exist_ok=True)
        os.chmod(self.am / 'security' / 'secrets', 0o700)
        write_if_changed(self.lab_settings, self.lab.render_lab_settings())
        self.write_ssh_files()
        if fresh or not (self.tomcat / 'conf' / 'server.xml').exists():
            self.reset_tomcat_base()
        if fresh or not self.keystore.exists():
            self.create_keystore()

    def reset_tomcat_base(self):
        """CATALINA_BASE as after a fresh install: Debian's conf, our server.xml, the initial war."""
        base = self.tomcat
        for sub in ('conf', 'webapps', 'work', 'temp'):
            shutil.rmtree(base / sub, ignore_errors=True)
        for sub in ('bin', 'logs', 'webapps', 'work', 'temp'):
            (base / sub).mkdir(parents=True, exist_ok=True)
        shutil.copytree(TOMCAT_CONF_SRC, base / 'conf', symlinks=False)
        write_atomic(base / 'conf' / 'server.xml', self.render_server_xml())
        write_atomic(base / 'bin' / 'setenv.sh', self.lab.render_setenv(), mode=0o755)
        self.deploy_initial_war()

    def deploy_initial_war(self):
        war = self.tomcat / 'webapps' / 'am.war'
        write_atomic(war, self.lab.war(INITIAL_VERSION).read_bytes())
        shutil.rmtree(self.tomcat / 'webapps' / 'am', ignore_errors=True)
        shutil.rmtree(self.tomcat / 'work' / 'Catalina' / 'localhost' / 'am', ignore_errors=True)

    def render_server_xml(self):
        return f'''<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by lab/labctl.py for {self.name}: HTTP on the node's address, shutdown port node-local. -->
<Server port="8005" address="127.0.0.1" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.startup.VersionLoggerListener" />
  <Listener className="org.apache.catalina.core.JreMemoryLeakPreventionListener" />
  <Listener className="org.apache.catalina.core.ThreadLocalLeakPreventionListener" />
  <Service name="Catalina">
    <Connector address="{self.ip}" port="{TOMCAT_PORT}" protocol="HTTP/1.1"
               connectionTimeout="20000" maxParameterCount="1000" />
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="true"
            autoDeploy="false" deployOnStartup="true" />
    </Engine>
  </Service>
</Server>
'''

    def create_keystore(self):
        """A new JCEKS keystore holding the AES-256 key directenctest; passwords only in files."""
        self.keystore.unlink(missing_ok=True)
        write_atomic(self.storepass, secrets.token_urlsafe(24), mode=0o600)
        run([str(self.lab.jdk_bin / 'keytool'), *KEYTOOL_JVM, '-genseckey', '-alias', KEY_ALIAS, '-keyalg', 'AES',
             '-keysize', '256', '-storetype', 'JCEKS', '-keystore', str(self.keystore),
             '-storepass:file', str(self.storepass), '-keypass:file', str(self.storepass)])
        os.chmod(self.keystore, 0o600)

    # -- Tomcat, started inside the node (the sshd's mount, network and UTS namespaces)

    def start_tomcat(self):
        env = {'PATH': SYSTEM_PATH, 'LANG': 'C.UTF-8', 'HOME': '/root',
               'JAVA_HOME': str(self.lab.jdk_home),
               'CATALINA_HOME': str(CATALINA_HOME), 'CATALINA_BASE': str(CATALINA_BASE),
               'CATALINA_PID': str(CATALINA_PID), 'CATALINA_OPTS': CATALINA_OPTS, 'JAVA_OPTS': JAVA_OPTS}
        # Not our Tomcat (checked by the caller): a stale PID file would make catalina.sh refuse to start.
        self.catalina_pid.unlink(missing_ok=True)
        argv, env = self.enter([str(CATALINA_HOME / 'bin' / 'catalina.sh'), 'start'], env, 'Tomcat')
        result = run(argv, check=False, env=env, cwd='/', start_new_session=True)
        pid = read_pid(self.catalina_pid)
        if result.returncode != 0 or not pid:
            raise LabError(f'catalina.sh start on {self.name} failed (exit {result.returncode}): '
                           f'{(result.stdout + result.stderr).strip()}')
        write_atomic(self.tomcat_pidfile, f'{pid}\n')
        return pid

    def stop_tomcat(self):
        stop_pids(self.tomcat_pids(), f'Tomcat of {self.name}')
        self.catalina_pid.unlink(missing_ok=True)
        self.tomcat_pidfile.unlink(missing_ok=True)

    def ready(self):
        status, body = http_status(self.ip, TOMCAT_PORT, '/am/json/health/ready')
        return status == 200, (status or body)

    def version(self):
        status, body = http_status(self.ip, TOMCAT_PORT, '/am/json/serverinfo/version')
        if status != 200:
            return None
        with contextlib.suppress(ValueError, AttributeError):
            return json.loads(body).get('version')
        return None

    def wait_ready(self):
        def probe():
            if not self.tomcat_pid():
                raise LabError(f'Tomcat of {self.name} exited; see {self.tomcat}/logs:\n'
                               f'{tail(self.tomcat / "logs" / "catalina.out")}')
            return self.ready()
        wait_until(probe, TOMCAT_READY_TIMEOUT, f'{self.name} http://{self.ip}:{TOMCAT_PORT}/am/json/health/ready '
                   f'(the reason is in {self.tomcat}/logs/localhost.*.log; `lab/up --reset` starts from the '
                   'initial state)', sleep=0.25)


class VidmNode(NamespaceHost):
    """A vIDM appliance node: the appliance simulator installed under <node>/root and mounted at
    the appliance's real paths, and the node's HTTP service (heartbeat, health) on port 80."""

    def __init__(self, lab, index):
        super().__init__(lab, f'vidm{index}', f'10.213.0.{100 + index}', f'02:49:44:00:01:{index:02x}')
        self.index = index
        self.root = self.dir / 'root'
        self.state_file = self.root / 'var' / 'lib' / 'vidm-sim' / 'state.json'
        self.boot_id = self.root / 'var' / 'lib' / 'vidm-sim' / 'boot_id'
        self.http_log = self.dir / 'http.log'
        self.http_pidfile = lab.pids / f'vidm-http-{self.name}.pid'

    def mount_commands(self):
        commands = []
        for relative in VIDM_MOUNTS:
            (Path('/') / relative).mkdir(parents=True, exist_ok=True)
            commands.append(f'mount --bind {shlex.quote(str(self.root / relative))} /{relative}')
        for relative in VIDM_OVERLAYS:
            lower = f'{self.root / relative}:/{relative}'
            commands.append(f'mount -t overlay idmlab-{self.name} -o lowerdir={shlex.quote(lower)} /{relative}')
        # The simulated reboot changes this file; ansible.builtin.reboot reads the kernel's.
        commands.append(f'mount --bind {shlex.quote(str(self.boot_id))} {BOOT_ID}')
        return commands + super().mount_commands()

    def stop_services(self):
        pid = self.http_pid()
        if pid:
            stop_pid(pid, f'vIDM HTTP service of {self.name}')
        self.http_pidfile.unlink(missing_ok=True)

    def state(self):
        with contextlib.suppress(OSError, ValueError):
            return json.loads(self.state_file.read_text())
        return None

    def install(self, overrides):
        """The simulator's initial appliance state, commands and configuration files under root/."""
        self.simulator('--install', overrides)

    def set_state(self, overrides):
        self.simulator('--root', overrides)

    def simulator(self, mode, overrides):
        sets = [arg for key, value in overrides.items() for arg in ('--set', f'{key}={json.dumps(value)}')]
        run([sys.executable, str(VIDM_SIMULATOR), mode, str(self.root), *sets])

    def http_pid(self):
        pid = read_pid(self.http_pidfile)
        if alive(pid) and str(VIDM_SIMULATOR) in cmdline(pid) and in_netns(pid, self.ns):
            return pid
        return None

    def start_http(self):
        if self.http_pid():
            return False
        argv, env = self.enter([sys.executable, str(VIDM_SIMULATOR), '--serve', '--root', str(self.root),
                                '--listen', f'{self.ip}:{VIDM_HTTP_PORT}'],
                               {'PATH': SYSTEM_PATH, 'LANG': 'C.UTF-8'}, 'the vIDM HTTP service')
        start_process(argv, f'the vIDM HTTP service of {self.name}', self.http_log, self.http_pidfile, self.ready,
                      SSHD_START_TIMEOUT, f'{self.name} http://{self.ip}{VIDM_HEARTBEAT}', env=env)
        return True

    def ready(self):
        status, body = http_status(self.ip, VIDM_HTTP_PORT, VIDM_HEARTBEAT)
        return status == 200, (status or body)


def tail(path, lines=15):
    try:
        return '\n'.join(Path(path).read_text(errors='replace').splitlines()[-lines:])
    except OSError as e:
        return f'({e})'


class Lab:
    def __init__(self):
        self.dir = Path(os.environ.get('LAB_DIR') or REPO / 'build' / 'lab').absolute()
        sites = os.environ.get('LAB_AM_SITES', '2')
        if not sites.isdigit() or not 1 <= int(sites) <= MAX_SITES:
            raise LabError(f'LAB_AM_SITES must be a number from 1 to {MAX_SITES}, not {sites!r}')
        count = os.environ.get('LAB_AM_NODES', '3')
        if not count.isdigit() or not 1 <= int(count) <= MAX_NODES:
            raise LabError(f'LAB_AM_NODES (nodes per site) must be a number from 1 to {MAX_NODES}, not {count!r}')
        check = os.environ.get('LAB_AM_CONFIG_CHECK', '1')
        if check not in ('0', '1'):
            raise LabError(f'LAB_AM_CONFIG_CHECK must be 0 or 1, not {check!r}')
        self.config_check = check == '1'
        vidm_count = os.environ.get('LAB_VIDM_NODES', '3')
        if not vidm_count.isdigit() or not 0 <= int(vidm_count) <= MAX_VIDM_NODES:
            raise LabError(f'LAB_VIDM_NODES must be a number from 0 to {MAX_VIDM_NODES}, not {vidm_count!r}')
        self.vidm_database = os.environ.get('LAB_VIDM_DATABASE', 'postgresql')
        if self.vidm_database not in VIDM_DATABASES:
            raise LabError(f'LAB_VIDM_DATABASE must be one of {", ".join(VIDM_DATABASES)}, not {self.vidm_database!r}')
        vcsim = os.environ.get('LAB_VCSIM', '1')
        if vcsim not in ('0', '1'):
            raise LabError(f'LAB_VCSIM must be 0 or 1, not {vcsim!r}')
        self.vcsim_enabled = vcsim == '1'
        self.pids = self.dir / 'pids'
        self.ssh_dir = self.dir / 'ssh'
        self.client_key = self.ssh_dir / 'id_ed25519'
        self.authorized_keys = self.ssh_dir / 'authorized_keys'
        self.cp_dir = self.dir / 'cp'
        self.wars_dir = self.dir / 'wars'
        self.build_dir = self.dir / 'standin-am'
        self.haproxy_dir = self.dir / 'haproxy'
        self.haproxy_cfg = self.haproxy_dir / 'haproxy.cfg'
        self.admin_sock = self.haproxy_dir / 'admin.sock'
        self.haproxy_pidfile = self.pids / 'haproxy.pid'
        self.inventory = self.dir / 'inventory.yml'
        self.marker = self.dir / '.idmlab'
        self.ldap_dir = self.dir / 'ldap'
        self.slapd_d = self.ldap_dir / 'slapd.d'
        self.ldap_data = self.ldap_dir / 'data'
        self.ldap_password = self.ldap_dir / 'admin.pw'
        self.ldapi_socket = self.ldap_dir / 'ldapi'
        self.slapd_log = self.ldap_dir / 'slapd.log'
        self.slapd_pidfile = self.pids / 'slapd.pid'
        self.amupgrade_home = self.dir / 'amupgrade'
        self.vcsim_dir = self.dir / 'vcsim'
        self.vcsim_password = self.vcsim_dir / 'password'
        self.vcsim_url_file = self.vcsim_dir / 'url'
        self.vcsim_log = self.vcsim_dir / 'vcsim.log'
        self.vcsim_pidfile = self.pids / 'vcsim.pid'
        self.vidm_pgpool_password = self.dir / 'vidm-pgpool.pw'
        self.vidm_nodes = [VidmNode(self, i) for i in range(1, int(vidm_count) + 1)]
        self.vidm_windows = vidm_windows_side.VidmWindowsSide(self, sys.modules[__name__])
        self.sites = [Site(self, s) for s in range(1, int(sites) + 1)]
        self.nodes = []
        for site in self.sites:
            site.nodes = [Node(self, (site.index - 1) * int(count) + i, site) for i in range(1, int(count) + 1)]
            self.nodes += site.nodes
        machine = os.uname().machine
        self.jdk_home = Path('/usr/lib/jvm') / f'java-17-openjdk-{DEBIAN_ARCH.get(machine, machine)}'
        if not self.jdk_home.exists() and shutil.which('javac'):
            self.jdk_home = Path(os.path.realpath(shutil.which('javac'))).parent.parent
        self.jdk_bin = self.jdk_home / 'bin'
        # ssh appends ~17 characters to a ControlPath while creating it; sun_path holds 107.
        if len(str(self.cp_dir)) > 45:
            raise LabError(f'LAB_DIR {self.dir} is too long for ssh ControlPath sockets under {self.cp_dir} '
                           '(at most 45 characters for <lab dir>/cp)')

    def war(self, build):
        return self.wars_dir / f'am-{build}.war'

    @property
    def ldapi_uri(self):
        return 'ldapi://' + urllib.parse.quote(str(self.ldapi_socket), safe='')

    @contextlib.contextmanager
    def locked(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / '.lock', 'w') as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log(f'waiting for another lab command holding {self.dir}/.lock')
                fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    @property
    def hosts(self):
        return self.nodes + self.vidm_nodes

    def existing_nodes(self):
        """Configured hosts plus any other idmlab-am*/idmlab-vidm* namespace or recorded host (e.g. of a
        larger count)."""
        indexes = {'am': {n.index for n in self.nodes}, 'vidm': {n.index for n in self.vidm_nodes}}
        names = run(['ip', 'netns', 'list'], check=False).stdout.split()
        for pattern in ('sshd-*.pid', 'tomcat-*.pid', 'vidm-http-*.pid'):
            names += [p.name[:-len('.pid')].rsplit('-', 1)[-1] for p in self.pids.glob(pattern)]
        for name in names:
            m = re.fullmatch(rf'(?:{NS_PREFIX})?(am|vidm)(\d+)', name)
            if m and int(m.group(2)) >= 1:
                indexes[m.group(1)].add(int(m.group(2)))
        return ([Node(self, i) for i in sorted(indexes['am'])]
                + [VidmNode(self, i) for i in sorted(indexes['vidm'])])

    # -- bridge ownership: one lab per machine; the bridge's alias names its LAB_DIR

    def bridge_exists(self):
        return Path(f'/sys/class/net/{BRIDGE}').exists()

    def bridge_owner(self):
        with contextlib.suppress(OSError):
            return Path(f'/sys/class/net/{BRIDGE}/ifalias').read_text().strip()
        return ''

    def check_owner(self):
        owner = self.bridge_owner()
        if self.bridge_exists() and owner and owner != str(self.dir):
            raise LabError(f'the lab on this machine belongs to LAB_DIR={owner}; '
                           f'run `LAB_DIR={owner} lab/down` first')

    def ensure_bridge(self):
        if not self.bridge_exists():
            run(['ip', 'link', 'add', BRIDGE, 'address', BRIDGE_MAC, 'type', 'bridge'])
        run(['ip', 'link', 'set', BRIDGE, 'alias', str(self.dir)])
        run(['ip', 'addr', 'replace', f'{HOST_IP}/{PREFIX_LEN}', 'dev', BRIDGE])
        run(['ip', 'link', 'set', BRIDGE, 'up'])

    # -- rendered files

    def render_hosts(self):
        lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback', f'{HOST_IP} idmlab-host']
        lines += [f'{n.ip} {n.name}' for n in self.hosts]
        return '\n'.join(lines) + '\n'

    def render_setenv(self):
        return '\n'.join([
            '# Written by the idmops lab (lab/labctl.py); catalina.sh sources it on every start and stop,',
            '# so playbooks that run catalina.sh get the same JVM and PID file as the lab.',
            f'JAVA_HOME="${{JAVA_HOME:-{self.jdk_home}}}"',
            f'CATALINA_PID="${{CATALINA_PID:-{CATALINA_PID}}}"',
            f'CATALINA_OPTS="${{CATALINA_OPTS:-{CATALINA_OPTS}}}"',
            f'JAVA_OPTS="${{JAVA_OPTS:-{JAVA_OPTS}}}"',
            '',
        ])

    def render_lab_settings(self):
        return ('# Written by lab/up (lab/labctl.py); read by the stand-in AM on every readiness check.\n'
                f'# config.version.check: ready only on a configuration of the war\'s major.minor '
                f'(LAB_AM_CONFIG_CHECK=1).\n'
                f'config.version.check={"true" if self.config_check else "false"}\n')

    def render_haproxy_cfg(self):
        backends = []
        for site in self.sites:
            servers = [f'    server {n.name} {n.ip}:{TOMCAT_PORT} check' for n in site.nodes]
            # The other sites' servers, under the same names: used when every server above is out.
            servers += [f'    server {n.name} {n.ip}:{TOMCAT_PORT} check backup'
                        for other in self.sites if other is not site for n in other.nodes]
            backends.append(f'''backend {site.backend}
    balance roundrobin
    option allbackups
    option httpchk GET /am/json/health/ready
    http-check expect status 200
    default-server inter 500 fall 2 rise 2
''' + '\n'.join(servers) + '\n')
        spread = (f'    use_backend am_site%[rand({len(self.sites)}),add(1)]\n' if len(self.sites) > 1 else '')
        if self.vidm_nodes:
            servers = '\n'.join(f'    server {n.name} {n.ip}:{VIDM_HTTP_PORT} check' for n in self.vidm_nodes)
            backends.append(f'''# The vIDM cluster: a node leaves the pool when its heartbeat stops answering 200.
frontend vidm_front
    bind {VIDM_FRONTEND[0]}:{VIDM_FRONTEND[1]}
    default_backend {VIDM_BACKEND}

backend {VIDM_BACKEND}
    balance roundrobin
    option httpchk GET {VIDM_HEARTBEAT}
    http-check expect status 200
    default-server inter 500 fall 2 rise 2
{servers}
''')
        return f'''# Generated by lab/labctl.py; rewritten by lab/up. No log target: the lab has no syslog.
global
    stats socket {self.admin_sock} mode 600 level admin
    stats socket ipv4@{ADMIN_TCP[0]}:{ADMIN_TCP[1]} level admin
    stats timeout 2m
    maxconn 2000

defaults
    mode http
    timeout connect 2s
    timeout client 630s
    timeout server 630s
    timeout http-request 10s
    timeout http-keep-alive 2s
    timeout queue 10s
    timeout check 2s
    retries 3
    option redispatch

# Every request goes to one site's backend at random; a backend whose own servers are all out
# (drained, down) sends its share to its backup servers, the other sites' nodes.
frontend am_front
    bind {FRONTEND[0]}:{FRONTEND[1]}
{spread}    default_backend {self.sites[0].backend}

''' + '\n'.join(backends)

    def render_inventory(self):
        q = json.dumps   # JSON strings are YAML strings
        common_args = ' '.join([
            '-o StrictHostKeyChecking=no', '-o UserKnownHostsFile=/dev/null', '-o LogLevel=ERROR',
            '-o ControlMaster=auto', '-o ControlPersist=60s', f'-o ControlPath={self.cp_dir}/%C'])
        lines = [
            '# Generated by lab/up (lab/labctl.py); rewritten on every up. See docs/lab.md.',
            'all:',
            '  hosts:',
            '    localhost:',
            '      ansible_connection: local',
            f'      ansible_python_interpreter: {q(str(REPO / ".venv" / "bin" / "python"))}',
            '  vars:',
            f'    am_war_dir: {q(str(self.wars_dir))}',
            '    am_wars:',
            f'      from: {q(str(self.war(INITIAL_VERSION)))}',
            f'      to: {q(str(self.war("8.1.0")))}',
            f'      faulty: {q(str(self.war("8.1.0-neverready")))}',
            f'    am_ldap_uri: {q(f"ldap://127.0.0.1:{LDAP_PORT}")}',
            f'    am_ldap_node_uri: {q(f"ldap://{HOST_IP}:{LDAP_PORT}")}',
            f'    am_ldap_ldapi_uri: {q(self.ldapi_uri)}',
            f'    am_ldap_base_dn: {q(LDAP_SUFFIX)}',
            f'    am_ldap_bind_dn: {q(LDAP_ADMIN_DN)}',
            f'    am_ldap_bind_password_file: {q(str(self.ldap_password))}',
        ]
        if self.amupgrade_installed():
            lines.append(f'    am_amupgrade_home: {q(str(self.amupgrade_home))}')
        if self.vcsim_enabled:
            lines += [
                f'    vcenter_hostname: {q(VCSIM_ADDRESS[0])}',
                f'    vcenter_port: {VCSIM_ADDRESS[1]}',
                f'    vcenter_username: {q(VCSIM_USER)}',
                f'    vcenter_password_file: {q(str(self.vcsim_password))}',
                '    vcenter_validate_certs: false',
            ]
        lines += self.vidm_windows.inventory_vars()

        def ssh(n):
            return [
                f'              ansible_host: {q(n.ip)}',
                '              ansible_user: root',
                f'              ansible_ssh_private_key_file: {q(str(self.client_key))}',
                f'              ansible_ssh_common_args: {q(common_args)}',
            ]
        lines += [
            '  children:',
            '    am:',
            '      vars:',
            '        ansible_python_interpreter: /usr/bin/python3',
            '        lb_backend: haproxy',
            f'        lb_haproxy_socket: {q(str(self.admin_sock))}',
            f'        am_catalina_base: {q(str(CATALINA_BASE))}',
            f'        am_config_dir: {q(str(CONFIG_MOUNT))}',
            "        # The lab's identity store is OpenLDAP: schema goes in as cn=config entries over ldapi as root.",
            f'        am_site_upgrade_ldap_uri: {q(self.ldapi_uri)}',
            '        am_site_upgrade_ldap_sasl_mechanism: EXTERNAL',
            '        am_site_upgrade_ldap_bind_dn: ""',
            '        am_site_upgrade_ldap_bind_password_file: ""',
            '        am_site_upgrade_schema_ldifs: [WEB-INF/template/ldif/openldap/am_devices_schema.ldif]',
            '      children:',
        ]
        for site in self.sites:
            lines += [f'        {site.backend}:', '          hosts:']
            for n in site.nodes:
                lines += [f'            {n.name}:', *ssh(n), f'              lb_pool: {site.backend}',
                          f'              lb_member: {n.name}', f'              am_site: {site.name}']
        if self.vidm_nodes:
            lines += [
                '    vidm:',
                '      vars:',
                '        ansible_python_interpreter: /usr/bin/python3',
                '        lb_backend: haproxy',
                f'        lb_haproxy_socket: {q(str(self.admin_sock))}',
                f'        lb_pool: {VIDM_BACKEND}',
                f'        vidm_frontend_url: {q(f"http://{VIDM_FRONTEND[0]}:{VIDM_FRONTEND[1]}")}',
                '        # The lab\'s nodes upgrade and restart in seconds: short waits, so a fault shows quickly.',
                '        vidm_cluster_upgrade_precheck_timeout: 10',
                '        vidm_cluster_upgrade_health_timeout: 60',
                '        vidm_cluster_upgrade_health_sleep: 0.5',
                '        vidm_cluster_upgrade_reboot_timeout: 120',
                '        vidm_cluster_upgrade_drain_timeout: 30',
                '        vidm_cluster_upgrade_enable_timeout: 30',
                '        vidm_cluster_upgrade_log_dir: /usr/local/horizon/idmops-logs',
                '      hosts:',
            ]
            for n in self.vidm_nodes:
                lines += [f'        {n.name}:', *[line[4:] for line in ssh(n)], f'          lb_member: {n.name}',
                          f'          vidm_node_url: {q(f"http://{n.ip}:{VIDM_HTTP_PORT}")}',
                          f'          vidm_vm_name: {n.name}']
        lines += self.vidm_windows.inventory_groups(str(REPO / '.venv' / 'bin' / 'python'))
        lines.append('')
        return '\n'.join(lines)

    # -- packages

    def ensure_packages(self):
        status = run(['dpkg-query', '-W', '-f', '${Package} ${Status}\n', *PACKAGES], check=False).stdout
        installed = {line.split()[0] for line in status.splitlines() if line.endswith(' install ok installed')}
        missing = [p for p in PACKAGES if p not in installed]
        if not missing:
            return
        log(f'installing Debian packages: {" ".join(missing)}')
        env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
        # Package scripts must not start system daemons (sshd on :22, haproxy on :80): the lab runs its own.
        policy = Path('/usr/sbin/policy-rc.d')
        own_policy = not policy.exists()
        if own_policy:
            policy.write_text('#!/bin/sh\nexit 101\n')
            policy.chmod(0o755)
        try:
            run(['apt-get', 'update', '-qq'], env=env, timeout=600)
            run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', *missing], env=env, timeout=1800)
        finally:
            if own_policy:
                policy.unlink(missing_ok=True)

    # -- stand-in AM wars

    def build_wars(self):
        sources = sorted(p for p in STANDIN_SRC.rglob('*') if p.is_file())
        # Bump WAR_LAYOUT when this function changes what goes into a war.
        digest = hashlib.sha256(json.dumps([WAR_LAYOUT, BUILDS, WIZARD_JARS], sort_keys=True).encode())
        for path in sources:
            digest.update(str(path.relative_to(STANDIN_SRC)).encode() + b'\0' + path.read_bytes())
        stamp = self.build_dir / 'stamp'
        wars = [self.war(b) for b in BUILDS]
        if stamp.exists() and stamp.read_text() == digest.hexdigest() and all(w.exists() for w in wars):
            return False
        shutil.rmtree(self.build_dir, ignore_errors=True)
        classes = self.build_dir / 'classes'
        classes.mkdir(parents=True)
        java_files = [str(p) for p in sources if p.suffix == '.java']
        run([str(self.jdk_bin / 'javac'), '--release', '17', '-encoding', 'UTF-8', '-Xlint:all', '-Werror',
             '-cp', str(CATALINA_HOME / 'lib' / 'servlet-api.jar'), '-d', str(classes), *java_files])
        # The click servlet goes into click-nodeps-2.3.0.jar, not WEB-INF/classes: removing the
        # wizard's jars and its servlet, as the AM 8.1 runbook says, must leave a working webapp.
        jars = self.build_dir / 'lib'
        jars.mkdir()
        for name, (title, version) in WIZARD_JARS.items():
            content = self.build_dir / f'jar-{title}'
            content.mkdir()
            if name == CLICK_JAR:
                shutil.move(classes / CLICK_PACKAGE, content / CLICK_PACKAGE)
                (classes / CLICK_PACKAGE).parent.rmdir()          # org/apache, org: empty now
                (classes / CLICK_PACKAGE).parent.parent.rmdir()
            (content / 'README.idmops-lab.txt').write_text(
                f'Stand-in for {name} of the AM upgrade wizard, built by the idmops lab.\n'
                'Not the real library: it only has to be there, and to be removable.\n')
            manifest = self.build_dir / f'MANIFEST-{title}.MF'
            manifest.write_text(f'Implementation-Title: {title} (idmops lab stand-in)\nImplementation-Version: {version}\n')
            run([str(self.jdk_bin / 'jar'), '--create', '--file', str(jars / name), '--manifest', str(manifest),
                 '-C', str(content), '.'])
        self.wars_dir.mkdir(parents=True, exist_ok=True)
        for build, meta in BUILDS.items():
            root = self.build_dir / f'war-{build}'
            shutil.copytree(STANDIN_SRC / 'webapp', root)
            shutil.copytree(classes, root / 'WEB-INF' / 'classes')
            shutil.copytree(jars, root / 'WEB-INF' / 'lib')
            (root / 'WEB-INF' / 'classes' / 'am-version.properties').write_text(
                ''.join(f'{k}={v}\n' for k, v in meta.items()))
            manifest = self.build_dir / f'MANIFEST-{build}.MF'
            manifest.write_text(f'Implementation-Title: Stand-in AM (idmops lab)\nImplementation-Version: {meta["version"]}\n')
            tmp = self.wars_dir / f'.am-{build}.war.tmp'
            run([str(self.jdk_bin / 'jar'), '--create', '--file', str(tmp), '--manifest', str(manifest),
                 '-C', str(root), '.'])
            os.replace(tmp, self.war(build))
        stamp.write_text(digest.hexdigest())
        return True

    # -- HAProxy

    def haproxy_pid(self):
        pid = read_pid(self.haproxy_pidfile)
        if alive(pid) and os.path.realpath(f'/proc/{pid}/exe') == '/usr/sbin/haproxy' \
                and str(self.haproxy_cfg) in cmdline(pid):
            return pid
        return None

    def start_haproxy(self, config):
        self.haproxy_dir.mkdir(parents=True, exist_ok=True)
        pid = self.haproxy_pid()
        if pid and self.haproxy_cfg.exists() and self.haproxy_cfg.read_text() == config:
            return False
        if pid:
            log('HAProxy configuration changed: restarting HAProxy')
            stop_pid(pid, 'HAProxy')
        write_atomic(self.haproxy_cfg, config)
        for address in (FRONTEND, ADMIN_TCP):
            if tcp_open(*address, timeout=0.3):
                raise LabError(f'{address[0]}:{address[1]} is already in use by another process; '
                               'the lab HAProxy needs it')
        run(['/usr/sbin/haproxy', '-f', str(self.haproxy_cfg), '-p', str(self.haproxy_pidfile), '-D'],
            start_new_session=True)
        if not self.haproxy_pid():
            raise LabError(f'HAProxy did not start (no live pid in {self.haproxy_pidfile})')
        return True

    def show_stat(self):
        """{'backend/server': (status, check_status)} of the sites' backends, from the admin socket."""
        lines = self.haproxy_command('show stat').splitlines()
        if not lines or not lines[0].startswith('# '):
            raise OSError(f'unexpected answer to show stat: {lines[:1]}')
        header = lines[0][2:].split(',')
        backends = {site.backend for site in self.sites} | {VIDM_BACKEND}
        result = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(',')))
            if row.get('pxname') in backends and row.get('svname') not in ('FRONTEND', 'BACKEND'):
                result[f'{row["pxname"]}/{row["svname"]}'] = (row.get('status', ''), row.get('check_status', ''))
        return result

    def haproxy_servers(self):
        """Every 'backend/server' the configuration has: each site's backend lists every node."""
        return ([f'{site.backend}/{n.name}' for site in self.sites for n in self.nodes]
                + [f'{VIDM_BACKEND}/{n.name}' for n in self.vidm_nodes])

    def haproxy_command(self, command):
        """One runtime API command over the admin socket; returns the answer."""
        return probe.runtime_api(str(self.admin_sock), command).strip()

    def wait_haproxy_up(self):
        expected = set(self.haproxy_servers())

        def probe():
            try:
                stat = self.show_stat()
            except OSError as e:
                return False, f'admin socket: {e}'
            held = [f'{name} {stat[name][0]}' for name in sorted(stat)
                    if stat[name][0].split()[0] in ('MAINT', 'DRAIN')]
            if held:
                raise LabError(f'HAProxy servers set out of the pool through the runtime API: {", ".join(held)}; '
                               'run `lab/up --reset` to put them back')
            # check_status is e.g. "L7OK", or "* L7OK" while a check is running.
            all_up = set(stat) == expected and all(s == 'UP' and c.lstrip('* ').startswith('L7OK')
                                                   for s, c in stat.values())
            return all_up, {k: f'{s} ({c})' for k, (s, c) in sorted(stat.items())}
        backends = [s.backend for s in self.sites] + ([VIDM_BACKEND] if self.vidm_nodes else [])
        wait_until(probe, HAPROXY_UP_TIMEOUT, f'all servers of backends {", ".join(backends)} UP in HAProxy',
                   sleep=0.2)

    # -- ssh multiplexing left by ansible

    def close_control_masters(self):
        if not self.cp_dir.exists():
            return
        base = ['ssh', '-o', 'BatchMode=yes', '-O', 'exit']
        for node in self.existing_nodes():
            run(base + ['-o', f'ControlPath={self.cp_dir}/%C', f'root@{node.ip}'], check=False, timeout=10)
        for sock in self.cp_dir.iterdir():
            if sock.is_socket():
                run(base + ['-o', f'ControlPath={sock}', 'root@idmlab'], check=False, timeout=10)
        # A master whose socket is gone still has it in its process title: stop it by PID.
        for proc in Path('/proc').iterdir():
            if proc.name.isdigit():
                args = ' '.join(cmdline(int(proc.name)))
                if args.startswith('ssh: ') and f'{self.cp_dir}/' in args and args.endswith('[mux]'):
                    stop_pid(int(proc.name), 'ssh control master', timeout=5)
        for sock in self.cp_dir.iterdir():
            sock.unlink(missing_ok=True)

    # -- OpenLDAP slapd: the identity store, on the host

    def slapd_pid(self):
        pid = read_pid(self.slapd_pidfile)
        if alive(pid) and os.path.realpath(f'/proc/{pid}/exe') == str(SLAPD) and str(self.slapd_d) in cmdline(pid):
            return pid
        return None

    def render_slapd_config(self, password_hash):
        schemas = ''.join(f'include: file://{LDAP_SCHEMA_DIR / name}.ldif\n' for name in LDAP_SCHEMAS)
        root = f'dn.exact={LDAP_PEERCRED_ROOT}'
        return f'''# Generated by lab/labctl.py: slapadd -n0 -F slapd.d -l config.ldif
dn: cn=config
objectClass: olcGlobal
cn: config

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

{schemas}
dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcAccess: {{0}}to * by {root} manage by * break
olcAccess: {{1}}to dn.exact="" by * read
olcAccess: {{2}}to dn.base="cn=Subschema" by * read

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by {root} manage by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {LDAP_SUFFIX}
olcRootDN: {LDAP_ADMIN_DN}
olcRootPW: {password_hash}
olcDbDirectory: {self.ldap_data}
olcDbMaxSize: 67108864
olcDbIndex: objectClass eq
olcDbIndex: uid eq
olcAccess: {{0}}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {{1}}to * by {root} manage by users read by * none
'''

    def render_ldap_data(self):
        entries = [f'''dn: {LDAP_SUFFIX}
objectClass: dcObject
objectClass: organization
o: Example
dc: example
''', f'''dn: ou=people,{LDAP_SUFFIX}
objectClass: organizationalUnit
ou: people
''']
        for uid, given, surname in LDAP_USERS:
            entries.append(f'''dn: uid={uid},ou=people,{LDAP_SUFFIX}
objectClass: inetOrgPerson
uid: {uid}
cn: {given} {surname}
givenName: {given}
sn: {surname}
mail: {uid}@example.com
''')
        return '\n'.join(entries)

    def reset_ldap(self):
        """The initial directory: cn=config (core, cosine, inetorgperson, nis) and dc=example,dc=com
        with a few users, loaded offline with slapadd. The admin password file is kept once made."""
        self.ldap_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.ldap_dir, 0o700)
        if not self.ldap_password.exists():
            write_atomic(self.ldap_password, secrets.token_urlsafe(24), mode=0o600)   # no newline: ldap -y reads it all
        password_hash = run(['slappasswd', '-T', str(self.ldap_password)]).stdout.strip()
        for d in (self.slapd_d, self.ldap_data):
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(mode=0o700)
        config, data = self.ldap_dir / 'config.ldif', self.ldap_dir / 'data.ldif'
        write_atomic(config, self.render_slapd_config(password_hash), mode=0o600)
        write_atomic(data, self.render_ldap_data())
        run(['slapadd', '-q', '-n0', '-F', str(self.slapd_d), '-l', str(config)])
        run(['slapadd', '-q', '-n1', '-F', str(self.slapd_d), '-l', str(data)])

    def start_slapd(self, reset):
        """Keeps a running slapd unless reset; a slapd that was not running starts from the initial directory."""
        pid = self.slapd_pid()
        if pid and not reset:
            return False
        if pid:
            stop_pid(pid, 'slapd')
        self.slapd_pidfile.unlink(missing_ok=True)
        for host in ('127.0.0.1', HOST_IP):
            if tcp_open(host, LDAP_PORT, timeout=0.3):
                raise LabError(f'{host}:{LDAP_PORT} is already in use by another process; the lab slapd needs it')
        self.reset_ldap()
        self.ldapi_socket.unlink(missing_ok=True)
        urls = f'ldap://127.0.0.1:{LDAP_PORT}/ ldap://{HOST_IP}:{LDAP_PORT}/ {self.ldapi_uri}'

        def listening():
            ready = self.ldapi_socket.is_socket() and all(tcp_open(h, LDAP_PORT) for h in ('127.0.0.1', HOST_IP))
            return ready, f'{urls} not all accepting connections'
        # -d keeps slapd in the foreground (its PID is ours to record) and logs to the file.
        start_process([str(SLAPD), '-F', str(self.slapd_d), '-h', urls, '-d', 'stats'], 'slapd', self.slapd_log,
                      self.slapd_pidfile, listening, SLAPD_START_TIMEOUT, f'slapd on {urls}')
        return True

    def ldap_schemas(self):
        """Names of the schema entries under cn=schema,cn=config, over ldapi as root; None if unreachable."""
        result = run(['ldapsearch', '-LLL', '-Q', '-o', 'ldif-wrap=no', '-Y', 'EXTERNAL', '-H', self.ldapi_uri,
                      '-b', 'cn=schema,cn=config', '-s', 'one', '(objectClass=olcSchemaConfig)', 'cn'],
                     check=False, timeout=10)
        if result.returncode != 0:
            return None
        return [re.sub(r'^\{\d+\}', '', line[4:]) for line in result.stdout.splitlines() if line.startswith('cn: ')]

    # -- amupgrade (tests/simulators/amupgrade.py, written elsewhere) on the nodes

    def amupgrade_installed(self):
        return os.access(self.amupgrade_home / 'amupgrade', os.X_OK)

    def install_amupgrade(self):
        """Runs the simulator's install mode into amupgrade/ when the simulator exists and changed.
        Returns what happened, for the log and for status."""
        if not AMUPGRADE_SIMULATOR.exists():
            return f'not installed: {AMUPGRADE_SIMULATOR.relative_to(REPO)} does not exist yet'
        copy = self.amupgrade_home / 'lib' / 'amupgrade_sim.py'
        if self.amupgrade_installed() and copy.exists() and copy.read_bytes() == AMUPGRADE_SIMULATOR.read_bytes():
            return None
        run([sys.executable, str(AMUPGRADE_SIMULATOR), '--install-home', str(self.amupgrade_home),
             '--python', '/usr/bin/python3'])
        if not self.amupgrade_installed():
            raise LabError(f'{AMUPGRADE_SIMULATOR} --install-home left no executable {self.amupgrade_home}/amupgrade')
        return f'installed amupgrade (simulator) in {self.amupgrade_home}'

    # -- vIDM appliance nodes

    def vidm_overrides(self, node, database=None):
        """The simulator state of ``node`` in this lab: its name, the cluster's pgpool view (the
        second node is the PostgreSQL primary, so a role that keeps the first node in the pool
        instead of the primary is noticed), the database type."""
        names = [n.name for n in self.vidm_nodes]
        primary = names[1] if len(names) > 1 else names[0]
        if not self.vidm_pgpool_password.exists():
            write_atomic(self.vidm_pgpool_password, secrets.token_urlsafe(18), mode=0o600)
        update_seconds = os.environ.get('LAB_VIDM_UPDATE_SECONDS', '3')
        if not update_seconds.isdigit():
            raise LabError(f'LAB_VIDM_UPDATE_SECONDS must be a whole number, not {update_seconds!r}')
        return {
            'hostname': node.name, 'db_type': database or self.vidm_database, 'delegate_ip': VIDM_DELEGATE_IP,
            'peers': len(names), 'update_seconds': int(update_seconds),
            'pgpool_password': self.vidm_pgpool_password.read_text().strip(),
            'pool_nodes': [[str(i), name, '5432', 'up', f'{1 / len(names):.6f}',
                            'primary' if name == primary else 'standby'] for i, name in enumerate(names)],
        }

    def vidm_nodes_named(self, overrides):
        """The vIDM nodes the (node name, key, value) overrides name; LabError for another name."""
        unknown = {name for name, _key, _value in overrides} - {n.name for n in self.vidm_nodes}
        if unknown:
            raise LabError(f'no vIDM node {", ".join(sorted(unknown))} in this lab')
        return [n for n in self.vidm_nodes if n.name in {name for name, _key, _value in overrides}]

    def vidm_set(self, overrides):
        for node in self.vidm_nodes_named(overrides):
            node.set_state({key: value for name, key, value in overrides if name == node.name})

    def vidm_reset(self, database=None, overrides=()):
        """Every vIDM node back to its first version, with ``database`` and per-node state
        ``overrides`` [(node name, key, value)], in the pool again."""
        self.vidm_nodes_named(overrides)
        with self.locked():
            for node in self.vidm_nodes:
                state = self.vidm_overrides(node, database)
                state.update({key: value for name, key, value in overrides if name == node.name})
                node.install(state)
            if self.haproxy_pid():
                for node in self.vidm_nodes:
                    self.haproxy_command(f'set server {VIDM_BACKEND}/{node.name} state ready')
                self.wait_haproxy_up()

    # -- vCenter simulator

    def vcsim_pid(self):
        pid = read_pid(self.vcsim_pidfile)
        if alive(pid) and os.path.realpath(f'/proc/{pid}/exe').endswith('/vcsim') \
                and str(self.vcsim_url_file) in cmdline(pid):
            return pid
        return None

    def start_vcsim(self, reset):
        """vcsim with a VM per lab host (built from Debian's govmomi by lab/vcsim/build.sh); a reset
        starts it again, without snapshots."""
        if not self.vcsim_enabled:
            return None
        pid = self.vcsim_pid()
        if pid and not reset:
            return None
        if pid:
            stop_pid(pid, 'vcsim')
        self.vcsim_dir.mkdir(parents=True, exist_ok=True)
        if tcp_open(*VCSIM_ADDRESS, timeout=0.3):
            raise LabError(f'{VCSIM_ADDRESS[0]}:{VCSIM_ADDRESS[1]} is already in use by another process; '
                           'the lab vcsim needs it (LAB_VCSIM=0 leaves vcsim out)')
        built = run([str(VCSIM_BUILD)], timeout=VCSIM_BUILD_TIMEOUT).stdout.strip().splitlines()
        if not built or not os.access(built[-1], os.X_OK):
            raise LabError(f'{VCSIM_BUILD} printed no vcsim binary')
        if not self.vcsim_password.exists():
            write_atomic(self.vcsim_password, secrets.token_urlsafe(18), mode=0o600)
        self.vcsim_url_file.unlink(missing_ok=True)
        env = dict(PATH=SYSTEM_PATH, VCSIM_USERNAME=VCSIM_USER, VCSIM_PASSWORD=self.vcsim_password.read_text())
        start_process([built[-1], '-port', str(VCSIM_ADDRESS[1]), '-vms', ','.join(h.name for h in self.hosts),
                       '-url-file', str(self.vcsim_url_file)],
                      'vcsim', self.vcsim_log, self.vcsim_pidfile,
                      lambda: (self.vcsim_url_file.exists(), f'no {self.vcsim_url_file} yet'),
                      VCSIM_START_TIMEOUT, 'vcsim to serve', env=env, sleep=0.1)
        return self.vcsim_url_file.read_text().strip()

    def stop_vcsim(self):
        pid = self.vcsim_pid()
        if pid:
            stop_pid(pid, 'vcsim')
        self.vcsim_pidfile.unlink(missing_ok=True)

    # -- commands

    def up(self, reset):
        started = time.monotonic()
        if os.geteuid() != 0:
            raise LabError('lab/up needs root (network namespaces, bridge, sshd on port 22)')
        self.ensure_packages()
        with self.locked():
            self.check_owner()
            self.marker.write_text('idmops.lifecycle lab state; removed by lab/down --purge\n')
            for d in (self.pids, self.ssh_dir, self.cp_dir):
                d.mkdir(parents=True, exist_ok=True)
            os.chmod(self.cp_dir, 0o700)

            if self.build_wars():
                log(f'built {", ".join(str(self.war(b)) for b in BUILDS)}')

            configured = {n.name for n in self.hosts}
            extra = [n for n in self.existing_nodes() if n.name not in configured]
            if extra:
                log(f'removing nodes beyond LAB_AM_SITES={len(self.sites)} x LAB_AM_NODES={len(self.sites[0].nodes)} '
                    f'and LAB_VIDM_NODES={len(self.vidm_nodes)}: {" ".join(n.name for n in extra)}')
            # A node whose sshd was started without the site configuration mount starts again.
            stale = [n for n in self.nodes if n.sshd_pid() and not n.has_site_mount(n.sshd_pid())]
            if stale:
                log(f'restarting nodes whose {SITE_MOUNT} is not their site\'s: {" ".join(n.name for n in stale)}')
            parallel(NamespaceHost.teardown, extra + stale)

            for node in self.hosts:
                node.create_netns()
            self.ensure_bridge()
            for node in self.hosts:
                node.wire()

            if not self.client_key.exists():
                run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'idmlab client', '-f', str(self.client_key)])
            write_if_changed(self.authorized_keys, (self.ssh_dir / 'id_ed25519.pub').read_text(), mode=0o600)

            # A node is fresh when nothing of it runs: it starts again from the initial state; so
            # does the configuration of a site none of whose nodes runs.
            fresh = {n.name: reset or not (n.sshd_pid() or n.tomcat_pid()) for n in self.nodes}
            if reset:
                parallel(Node.stop_tomcat, self.nodes)
            for site in self.sites:
                if all(fresh[n.name] for n in site.nodes) or not site.version_file.exists():
                    site.reset_config()
            parallel(lambda n: n.write_files(fresh[n.name]), self.nodes)
            for node in self.vidm_nodes:
                node.write_ssh_files()
                if reset or node.state() is None or not (node.sshd_pid() or node.http_pid()):
                    node.install(self.vidm_overrides(node))
            parallel(NamespaceHost.start_sshd, self.hosts)

            to_start = [n for n in self.nodes if not n.tomcat_pid()]
            parallel(Node.start_tomcat, to_start)
            # While the JVMs start: the vIDM nodes, the identity store, amupgrade, vcsim.
            parallel(VidmNode.start_http, self.vidm_nodes)
            if self.start_slapd(reset):
                log(f'slapd started: ldap://127.0.0.1:{LDAP_PORT} ldap://{HOST_IP}:{LDAP_PORT} {self.ldapi_uri}')
            note = self.install_amupgrade()
            if note:
                log(note)
            url = self.start_vcsim(reset)
            if url:
                log(f'vcsim started: {url} (user {VCSIM_USER}, password in {self.vcsim_password})')
            note = self.vidm_windows.up(reset)
            if note:
                log(note)
            parallel(Node.wait_ready, self.nodes)

            if self.start_haproxy(self.render_haproxy_cfg()):
                log(f'HAProxy started, frontend http://{FRONTEND[0]}:{FRONTEND[1]}')
            elif reset:
                for server in self.haproxy_servers():
                    self.haproxy_command(f'set server {server} state ready')
            self.wait_haproxy_up()

            write_atomic(self.inventory, self.render_inventory())
        states = ', '.join(f'{n.name} {"started" if n in to_start else "kept"}' for n in self.nodes)
        log(f'up in {time.monotonic() - started:.1f}s ({states}); inventory {self.inventory}')

    def down(self, purge):
        started = time.monotonic()
        if os.geteuid() != 0:
            raise LabError('lab/down needs root')
        with self.locked():
            self.check_owner()
            self.close_control_masters()
            pid = self.haproxy_pid()
            if pid:
                stop_pid(pid, 'HAProxy')
            self.haproxy_pidfile.unlink(missing_ok=True)
            with contextlib.suppress(FileNotFoundError):
                self.admin_sock.unlink()
            parallel(NamespaceHost.teardown, self.existing_nodes())
            self.stop_vcsim()
            self.vidm_windows.down()
            pid = self.slapd_pid()
            if pid:
                stop_pid(pid, 'slapd')
            self.slapd_pidfile.unlink(missing_ok=True)
            if self.bridge_exists():
                run(['ip', 'link', 'del', BRIDGE])
        if purge and self.marker.exists():
            shutil.rmtree(self.dir)
            log(f'removed {self.dir}')
        log(f'down in {time.monotonic() - started:.1f}s')

    def status(self, as_json):
        problems = []
        report = {'lab_dir': str(self.dir), 'bridge': None, 'sites': {}, 'nodes': {}, 'vidm_nodes': {},
                  'haproxy': None, 'ldap': None, 'amupgrade': None, 'vcsim': None,
                  'config_version_check': self.config_check}
        if self.bridge_exists():
            report['bridge'] = {'name': BRIDGE, 'owner': self.bridge_owner()}
        else:
            problems.append(f'bridge {BRIDGE} missing')
        for site in self.sites:
            lock_pid, lock_alive = site.lock_holder()
            report['sites'][site.name] = {
                'backend': site.backend, 'nodes': [n.name for n in site.nodes], 'config_dir': str(site.config),
                'config_version': site.config_version(), 'lock_pid': lock_pid, 'lock_alive': lock_alive}
        for node in self.nodes:
            ssh_pid, tomcat_pid = node.sshd_pid(), node.tomcat_pid()
            ready, observation = node.ready() if tomcat_pid else (False, 'not running')
            entry = {'site': node.site.name, 'ip': node.ip, 'netns': node.netns_exists(), 'sshd_pid': ssh_pid,
                     'ssh_port_open': bool(ssh_pid) and tcp_open(node.ip, 22),
                     'tomcat_pid': tomcat_pid, 'ready': ready, 'ready_status': observation,
                     'version': node.version() if tomcat_pid else None}
            report['nodes'][node.name] = entry
            if not entry['netns']:
                problems.append(f'{node.name}: namespace {node.ns} missing')
            if not entry['ssh_port_open']:
                problems.append(f'{node.name}: sshd not running or not listening on {node.ip}:22')
            if not tomcat_pid:
                problems.append(f'{node.name}: Tomcat not running')
            elif not ready:
                problems.append(f'{node.name}: not ready ({observation})')
        for node in self.vidm_nodes:
            ssh_pid, http_pid, state = node.sshd_pid(), node.http_pid(), node.state() or {}
            ready, observation = node.ready() if http_pid else (False, 'not running')
            report['vidm_nodes'][node.name] = {
                'ip': node.ip, 'netns': node.netns_exists(), 'sshd_pid': ssh_pid, 'http_pid': http_pid,
                'heartbeat': ready, 'heartbeat_status': observation, 'version': state.get('version'),
                'database': state.get('db_type')}
            if not (ssh_pid and tcp_open(node.ip, 22)):
                problems.append(f'{node.name}: sshd not running or not listening on {node.ip}:22')
            if not ready:
                problems.append(f'{node.name}: heartbeat not ok ({observation})')
        if self.vcsim_enabled:
            pid = self.vcsim_pid()
            report['vcsim'] = {'pid': pid, 'address': f'{VCSIM_ADDRESS[0]}:{VCSIM_ADDRESS[1]}'}
            if not pid:
                problems.append('vcsim not running')
        windows_report, windows_problems = self.vidm_windows.status()
        report.update(windows_report)
        problems += windows_problems
        pid = self.haproxy_pid()
        if pid:
            try:
                servers = {k: {'status': s, 'check': c} for k, (s, c) in self.show_stat().items()}
            except OSError as e:
                servers = {}
                problems.append(f'HAProxy admin socket: {e}')
            report['haproxy'] = {'pid': pid, 'frontend': f'http://{FRONTEND[0]}:{FRONTEND[1]}', 'servers': servers}
            for server in self.haproxy_servers():
                state = servers.get(server, {}).get('status', 'missing')
                if state != 'UP':
                    problems.append(f'HAProxy {server}: {state}')
        else:
            problems.append('HAProxy not running')
        pid = self.slapd_pid()
        if pid:
            schemas = self.ldap_schemas()
            report['ldap'] = {'pid': pid, 'uris': [f'ldap://127.0.0.1:{LDAP_PORT}', f'ldap://{HOST_IP}:{LDAP_PORT}',
                                                   self.ldapi_uri],
                              'suffix': LDAP_SUFFIX, 'schemas': schemas}
            if schemas is None:
                problems.append(f'slapd: no answer over {self.ldapi_uri}')
        else:
            problems.append('slapd not running')
        if self.amupgrade_installed():
            report['amupgrade'] = {'home': str(self.amupgrade_home)}
        else:
            report['amupgrade'] = {'home': None, 'note': f'not installed: {AMUPGRADE_SIMULATOR.relative_to(REPO)} '
                                   + ('exists, run lab/up' if AMUPGRADE_SIMULATOR.exists() else 'does not exist yet')}
        report['problems'] = problems

        if as_json:
            print(json.dumps(report, indent=2))
        else:
            self.print_status(report)
        return 0 if not problems else 1

    def print_status(self, report):
        problems = report['problems']
        print(f'lab dir   {self.dir}')
        print(f'bridge    {BRIDGE} {HOST_IP}/{PREFIX_LEN}: {"present" if report["bridge"] else "MISSING"}')
        for name, site in report['sites'].items():
            lock = (f'{site["lock_pid"]} ({"running" if site["lock_alive"] else "stale"})'
                    if site['lock_pid'] else 'none')
            print(f'{name:<9} backend {site["backend"]}, nodes {" ".join(site["nodes"])}'
                  f' | config {site["config_version"] or "-"} | .am.lock {lock}')
        for name, e in report['nodes'].items():
            print(f'{name:<9} {e["ip"]:<12} netns {"ok" if e["netns"] else "MISSING"}'
                  f' | sshd {e["sshd_pid"] or "DOWN"}{"" if e["ssh_port_open"] else " (port 22 closed)"}'
                  f' | tomcat {e["tomcat_pid"] or "DOWN"}'
                  f' | ready {"yes" if e["ready"] else "NO (" + str(e["ready_status"]) + ")"}'
                  f' | version {e["version"] or "-"}')
        for name, e in report['vidm_nodes'].items():
            print(f'{name:<9} {e["ip"]:<12} netns {"ok" if e["netns"] else "MISSING"}'
                  f' | sshd {e["sshd_pid"] or "DOWN"} | http {e["http_pid"] or "DOWN"}'
                  f' | heartbeat {"ok" if e["heartbeat"] else "NO (" + str(e["heartbeat_status"]) + ")"}'
                  f' | version {e["version"] or "-"} | database {e["database"] or "-"}')
        if report['vcsim']:
            print(f'vcsim     pid {report["vcsim"]["pid"] or "DOWN"} https://{report["vcsim"]["address"]}/sdk')
        print(f'vidm api  pid {report["vidm_api"]["pid"] or "DOWN"} {report["vidm_api"]["url"]}')
        for name, e in report['windows_hosts'].items():
            state = f'version {e["version"]} | boots {e["boot_count"]}' if e else 'NO STATE'
            print(f'{name:<22} simulated Windows host | {state}')
        print(f'config    version check {"on" if report["config_version_check"] else "off"} (LAB_AM_CONFIG_CHECK)')
        if report['haproxy']:
            h = report['haproxy']
            print(f'haproxy   pid {h["pid"]} {h["frontend"]} admin {self.admin_sock}')
            for name, s in h['servers'].items():
                print(f'  {name:<16} {s["status"]} ({s["check"]})')
        else:
            print('haproxy   DOWN')
        if report['ldap']:
            ldap = report['ldap']
            schemas = ' '.join(ldap['schemas']) if ldap['schemas'] is not None else 'UNREACHABLE'
            print(f'slapd     pid {ldap["pid"]} {" ".join(ldap["uris"])} | {ldap["suffix"]} | schemas {schemas}')
        else:
            print('slapd     DOWN')
        amupgrade = report['amupgrade']
        print(f'amupgrade {amupgrade["home"] or amupgrade["note"]}')
        print('status    ' + ('ok' if not problems else 'PROBLEMS:\n  ' + '\n  '.join(problems)))


def parse_node_setting(text):
    """'vidm2:fail_update=true' -> ('vidm2', 'fail_update', True)."""
    node, _colon, setting = text.partition(':')
    key, _equals, value = setting.partition('=')
    try:
        return node, key, json.loads(value)
    except ValueError:
        raise LabError(f'--set {text!r}: expected NODE:KEY=JSON, e.g. vidm2:fail_update=true') from None


def main():
    parser = argparse.ArgumentParser(prog='labctl', description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)
    up = commands.add_parser('up', help='bring the lab up (idempotent)')
    up.add_argument('--reset', action='store_true',
                    help='back to the initial state: 7.5.0 war, new keystore, initial site configuration and '
                         'directory, servers ready')
    down = commands.add_parser('down', help='stop everything the lab started (idempotent)')
    down.add_argument('--purge', action='store_true', help='also delete the lab directory')
    status = commands.add_parser('status', help='show every component; non-zero exit if any is down')
    status.add_argument('--json', action='store_true')
    vidm = commands.add_parser('vidm-reset', help='every vIDM node back to its first version, in the pool')
    vidm.add_argument('--database', choices=VIDM_DATABASES, help='database type the nodes name (default '
                      'LAB_VIDM_DATABASE or postgresql)')
    vidm.add_argument('--set', action='append', default=[], metavar='NODE:KEY=JSON', dest='overrides',
                      help='a simulator state value for one node, e.g. vidm2:fail_update=true')
    vidm_set = commands.add_parser('vidm-set', help='change simulator state values of vIDM nodes, keeping the rest')
    vidm_set.add_argument('overrides', nargs='+', metavar='NODE:KEY=JSON', help='e.g. vidm2:fail_update=false')
    haproxy = commands.add_parser('haproxy', help="send one runtime API command to the lab's HAProxy")
    haproxy.add_argument('words', nargs='+', metavar='WORD',
                         help="e.g. show stat | set server am_site1/am1 state drain")
    args = parser.parse_args()
    try:
        lab = Lab()
        if args.command == 'up':
            lab.up(args.reset)
        elif args.command == 'down':
            lab.down(args.purge)
        elif args.command == 'vidm-reset':
            lab.vidm_reset(args.database, [parse_node_setting(item) for item in args.overrides])
        elif args.command == 'vidm-set':
            lab.vidm_set([parse_node_setting(item) for item in args.overrides])
        elif args.command == 'haproxy':
            print(lab.haproxy_command(' '.join(args.words)))
        else:
            return lab.status(args.json)
    except LabError as e:
        print(f'lab {args.command}: ERROR: {e}', file=sys.stderr)
        if args.command == 'up':
            print('lab up: what did start is still running: see lab/status; lab/down stops it', file=sys.stderr)
        return 1
    except OSError as e:
        print(f'lab {args.command}: ERROR: {e}', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f'lab {args.command}: interrupted', file=sys.stderr)
        return 130
    return 0


if __name__ == '__main__':
    sys.exit(main())
