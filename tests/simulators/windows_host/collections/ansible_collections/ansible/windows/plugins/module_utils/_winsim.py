# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A simulated Windows host at the level of ``ansible.windows`` module results (test only).

What it models, and from which public documentation:

* The return shapes of ``ansible.windows`` modules (the collection's module documentation):
  ``win_stat`` (``stat.exists``, ``checksum`` with ``checksum_algorithm``, ``file_version`` and
  ``product_version`` of executables), ``win_reg_stat`` (``exists``, ``value``, ``type``),
  ``win_service_info`` (``exists``, ``services[].name/display_name/state/start_mode/username``,
  ``state`` ``started`` or ``stopped``), ``win_get_url`` (``checksum`` mismatch fails, ``dest``,
  ``checksum_dest``, ``status_code``), ``win_command`` (``rc``, ``stdout``, ``stderr``; a
  non-zero rc fails with "non-zero return code"), ``win_find`` (``files[].path/filename/
  lastwritetime/size``, ``matched``), ``win_service`` (``username``/``password``, ``state``) and the
  ``win_reboot`` action (``rebooted``, ``elapsed``).
* The vendor installers (domain-facts "Windows connector and vIDM for Windows"): InstallShield
  with ``/s /v"/qn ..."``; exit code 3010 means reboot required (Windows Installer convention,
  which also records deferred file replacements in ``PendingFileRenameOperations``); the
  connector installer may replace the JRE, whose new version the connector uses after a reboot;
  the connector service ("IDM Connector") stops during the install and runs afterwards.
* ``tasklist.exe /FI "IMAGENAME eq X" /FO CSV /NH`` output (Windows command reference).
* The vIDM for Windows embedded-connector export (runbook "Upgrade VMware Identity Manager for
  Windows"): ``migrateEmbeddedConnector`` in ``<install>\\VMwareIdentityManager\\support`` asks for
  a password and writes ``<cluster-host-domain>-conn-<timestamp>.enc`` into
  ``<install>\\VMwareIdentityManager``. Its command line is an assumption; the password is read
  from stdin.

An installer file is a JSON description of what it installs (written by the test):
``{"version", "registry_key", "registry_value", "service", "file_versions": {path: version}}``.

State: one JSON file per inventory host, ``$WINSIM_STATE_DIR/<host>.json``, locked while in use;
Windows paths ``X:\\...`` live under ``$WINSIM_STATE_DIR/<host>/X/...`` and POSIX paths are used as
they are (so ``ansible.builtin.fetch`` over the ``winsim`` connection reads them). Faults the test
sets in ``quirks``: ``installer_rc`` (exit code instead of the installer's own), ``drop_connection``
(the connection drops right after the installer command, the host is unreachable for
``unreachable_polls`` commands and the installer process is listed for ``installer_busy_polls``
more polls), ``service_will_not_start``. A connector service tells the vIDM simulator
(``vidm.url``) when it goes down and up, through ``/_sim/connectors/<host>/down|up``.

Not modelled: WinRM itself, Windows Installer transactions beyond rollback of the version and the
service on failure, any other command or module.
"""

from __future__ import annotations

import contextlib
import fcntl
import fnmatch
import hashlib
import json
import ntpath
import os
import posixpath
import re
import time
import urllib.parse
import urllib.request

PENDING_KEY = 'hklm:\\system\\currentcontrolset\\control\\session manager'
PENDING_VALUE = 'pendingfilerenameoperations'

SPECS = dict(
    win_stat=dict(path=dict(type='str', required=True, aliases=['dest', 'name']),
                  get_checksum=dict(type='bool', default=True), follow=dict(type='bool', default=False),
                  checksum_algorithm=dict(type='str', default='sha1',
                                          choices=['md5', 'sha1', 'sha256', 'sha384', 'sha512'])),
    win_reg_stat=dict(path=dict(type='str', required=True, aliases=['key']),
                      name=dict(type='str', aliases=['entry', 'value'])),
    win_service_info=dict(name=dict(type='str')),
    win_get_url=dict(url=dict(type='str', required=True), dest=dict(type='str', required=True),
                     checksum=dict(type='str'), force=dict(type='bool', default=True),
                     checksum_algorithm=dict(type='str', default='sha1',
                                             choices=['md5', 'sha1', 'sha256', 'sha384', 'sha512']),
                     validate_certs=dict(type='bool', default=True)),
    win_command=dict(cmd=dict(type='str'), argv=dict(type='list', elements='str'), chdir=dict(type='str'),
                     stdin=dict(type='str'), creates=dict(type='str'), removes=dict(type='str')),
    win_find=dict(paths=dict(type='list', elements='str', required=True),
                  patterns=dict(type='list', elements='str', aliases=['regex', 'regexp']),
                  recurse=dict(type='bool', default=False)),
    win_service=dict(name=dict(type='str', required=True), username=dict(type='str'),
                     password=dict(type='str', no_log=True),
                     state=dict(type='str', choices=['absent', 'paused', 'started', 'stopped', 'restarted']),
                     start_mode=dict(type='str', choices=['auto', 'delayed', 'disabled', 'manual'])),
)


class Unreachable(Exception):
    """The host does not answer (the connection plugin turns it into AnsibleConnectionFailure)."""


def new_state(**overrides):
    state = dict(hostname='host.example.com', registry={}, file_versions={}, services={}, boot_count=1,
                 quirks=dict(installer_rc=None, drop_connection=False, unreachable_polls=3, installer_busy_polls=2,
                             service_will_not_start=False),
                 vidm=dict(url=None, connectors={}), drop_pending=False, unreachable=0, running_installer=None,
                 busy_polls=0, events=[])
    state.update(overrides)
    return state


class Host:
    """One simulated host: ``state`` (a dict, saved by ``open``) and its files under ``root``."""

    def __init__(self, state, root, notify=None):
        self.state = state
        self.root = root
        self._notify = notify or post_vidm

    @classmethod
    @contextlib.contextmanager
    def open(cls, state_dir, name):
        path = os.path.join(state_dir, name + '.json')
        if not os.path.exists(path):
            raise Unreachable('winsim: no simulated host %r (%s)' % (name, path))
        with open(path + '.lock', 'a') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            with open(path) as f:
                host = cls(json.load(f), os.path.join(state_dir, name))
            try:
                yield host
            finally:
                # Saved also when the connection fails: the fault is consumed.
                with open(path + '.tmp', 'w') as f:
                    json.dump(host.state, f, indent=1, sort_keys=True)
                os.replace(path + '.tmp', path)

    # --- the connection ---------------------------------------------------------------------

    def before_command(self):
        if self.state['unreachable'] > 0:
            self.state['unreachable'] -= 1
            raise Unreachable('winsim: %s is unreachable (installer running)' % self.state['hostname'])

    def after_command(self):
        if self.state['drop_pending']:
            self.state['drop_pending'] = False
            raise Unreachable('winsim: the WinRM connection to %s dropped during the command' % self.state['hostname'])

    # --- files ------------------------------------------------------------------------------------

    def local(self, path):
        if path.startswith('/'):
            return path.replace('\\', '/')
        match = re.match(r'^([A-Za-z]):[\\/](.*)$', path)
        if not match:
            raise ValueError('winsim: not an absolute path: %r' % path)
        return os.path.join(self.root, match.group(1).upper(), *[p for p in re.split(r'[\\/]', match.group(2)) if p])

    @staticmethod
    def _join(base, name):
        return base.replace('\\', '/').rstrip('/') + '/' + name if base.startswith('/') else ntpath.join(base, name)

    # --- modules -----------------------------------------------------------------------------------

    def call(self, name, args, check_mode=False):
        return getattr(self, name)(args, check_mode)

    def win_stat(self, args, check_mode):
        path = args['path']
        version = self.state['file_versions'].get(path.lower())
        local = self.local(path)
        stat = dict(exists=False)
        if os.path.isfile(local):
            with open(local, 'rb') as f:
                data = f.read()
            stat = dict(exists=True, isdir=False, isreg=True, size=len(data), path=path, filename=ntpath.basename(path),
                        extension=ntpath.splitext(path)[1], lastwritetime=os.path.getmtime(local))
            if args['get_checksum']:
                stat['checksum'] = hashlib.new(args['checksum_algorithm'], data).hexdigest()
        elif os.path.isdir(local):
            stat = dict(exists=True, isdir=True, isreg=False, path=path, filename=ntpath.basename(path))
        elif version:
            stat = dict(exists=True, isdir=False, isreg=True, size=0, path=path, filename=ntpath.basename(path),
                        extension=ntpath.splitext(path)[1])
        if stat['exists'] and version:
            stat.update(file_version=version, product_version=version)
        return dict(changed=False, stat=stat)

    def win_reg_stat(self, args, check_mode):
        key = self.state['registry'].get(args['path'].lower())
        if key is None:
            return dict(changed=False, exists=False)
        if not args['name']:
            return dict(changed=False, exists=True, properties=dict((k, dict(value=v)) for k, v in key.items()))
        if args['name'].lower() not in key:
            return dict(changed=False, exists=False)
        value = key[args['name'].lower()]
        return dict(changed=False, exists=True, value=value, raw_value=value,
                    type='REG_MULTI_SZ' if isinstance(value, list) else 'REG_SZ')

    def win_service_info(self, args, check_mode):
        wanted = (args['name'] or '*').lower()
        found = [dict(svc, name=name, display_name=name) for name, svc in sorted(self.state['services'].items())
                 if fnmatch.fnmatch(name.lower(), wanted)]
        return dict(changed=False, exists=bool(found), services=found)

    def win_get_url(self, args, check_mode):
        with urllib.request.urlopen(args['url']) as answer:
            data = answer.read()
        actual = hashlib.new(args['checksum_algorithm'], data).hexdigest()
        if args['checksum'] and actual != args['checksum'].lower():
            return dict(failed=True, changed=False, url=args['url'], dest=args['dest'],
                        msg="The checksum for %s did not match '%s', it was '%s'" % (args['url'], args['checksum'], actual))
        if not check_mode:
            local = self.local(args['dest'])
            os.makedirs(os.path.dirname(local), exist_ok=True)
            with open(local, 'wb') as f:
                f.write(data)
        return dict(changed=True, url=args['url'], dest=args['dest'], status_code=200, msg='OK', size=len(data),
                    checksum_dest=actual, elapsed=0.0)

    def win_find(self, args, check_mode):
        files = []
        for base in args['paths']:
            local = self.local(base)
            for name in sorted(os.listdir(local)) if os.path.isdir(local) else []:
                full = os.path.join(local, name)
                if os.path.isfile(full) and any(fnmatch.fnmatch(name.lower(), p.lower()) for p in args['patterns'] or ['*']):
                    files.append(dict(path=self._join(base, name), filename=name, size=os.path.getsize(full),
                                      lastwritetime=os.path.getmtime(full), isdir=False))
        return dict(changed=False, files=files, matched=len(files), examined=len(files))

    def win_service(self, args, check_mode):
        svc = self.state['services'].get(args['name'])
        if svc is None:
            return dict(failed=True, changed=False, msg="Service '%s' is not installed, need to set 'path' to create a new service" % args['name'])
        if args['username'] and not args['password']:
            return dict(failed=True, changed=False, msg='winsim: a service account needs a password')
        changed = bool(args['username']) and svc.get('username') != args['username']
        if not check_mode:
            if args['username']:
                svc['username'] = args['username']
            if args['state'] == 'restarted':
                self.set_service(args['name'], 'stopped')
                self.start_service(args['name'])
            elif args['state'] in ('started', 'stopped'):
                changed = changed or svc['state'] != args['state']
                if args['state'] == 'started':
                    self.start_service(args['name'])
                else:
                    self.set_service(args['name'], 'stopped')
        return dict(changed=changed or args['state'] == 'restarted', name=args['name'], username=svc.get('username'),
                    state='running' if svc['state'] == 'started' else svc['state'])

    def win_command(self, args, check_mode):
        cmd = args['cmd'] or ''
        if check_mode:
            return dict(changed=False, skipped=True, msg='win_command does not support check mode')
        if cmd.lower().startswith('tasklist.exe '):
            rc, out, err = self._tasklist(cmd)
        elif 'migrateembeddedconnector' in cmd.lower():
            rc, out, err = self._export(cmd, args['stdin'])
        else:
            rc, out, err = self._install(cmd)
        result = dict(changed=True, cmd=cmd, rc=rc, stdout=out, stderr=err,
                      stdout_lines=out.splitlines(), stderr_lines=err.splitlines())
        if rc != 0:
            result.update(failed=True, msg='non-zero return code')
        return result

    # --- commands --------------------------------------------------------------------------------

    def _tasklist(self, cmd):
        match = re.search(r'IMAGENAME eq ([^"]+)"', cmd)
        name = match.group(1).strip() if match else ''
        running = self.state['running_installer']
        if running and running.lower() == name.lower() and self.state['busy_polls'] > 0:
            self.state['busy_polls'] -= 1
            return 0, '"%s","4242","Services","0","12,345 K"\r\n' % running, ''
        self.state['running_installer'] = None
        return 0, 'INFO: No tasks are running which match the specified criteria.\r\n', ''

    def _export(self, cmd, password):
        script = shlex_first(cmd)
        if not os.path.isfile(self.local(script)):
            return 1, '', "'%s' is not recognized as an internal or external command" % script
        if not password:
            return 1, 'Enter a password for the configuration package:', 'a password is required'
        flavour = posixpath if script.startswith('/') else ntpath
        folder = flavour.dirname(flavour.dirname(self.local(script) if script.startswith('/') else script))
        name = '%s-conn-%s.enc' % (self.state['hostname'].replace('.', '-'), time.strftime('%Y%m%d%H%M%S'))
        local = self.local(self._join(folder, name))
        with open(local, 'w') as f:
            # Never the password itself: the test greps its output and files for it.
            f.write('winsim-encrypted-config %s\n' % hashlib.sha256(password.encode()).hexdigest()[:16])
        self.event('export', file=name)
        return 0, 'Export completed successfully.\r\n', ''

    def _install(self, cmd):
        path = shlex_first(cmd)
        local = self.local(path) if path else ''
        if not (local and os.path.isfile(local)):
            return 1, '', "winsim: not a simulated command or installer: %s" % cmd
        with open(local) as f:
            desc = json.load(f)
        if '/s' not in cmd.split() or '/qn' not in cmd:
            # Not silent: the real installer would wait for a click that never comes.
            return 1602, '', 'winsim: the installer needs /s and /v"/qn" to run unattended'
        quirks = self.state['quirks']
        rc = quirks['installer_rc'] if quirks['installer_rc'] is not None else desc.get('rc', 0)
        service = desc['service']
        self.set_service(service, 'stopped')
        self.event('install-start', installer=ntpath.basename(path), rc=rc)
        log = re.search(r'/l\*v\s+\\?"([^"\\]+)\\?"', cmd)
        if log:
            local_log = self.local(log.group(1))
            os.makedirs(os.path.dirname(local_log), exist_ok=True)
            with open(local_log, 'w') as f:
                f.write('=== Verbose logging started ===\nMainEngineThread is returning %d\n=== Logging stopped ===\n' % rc)
        if rc not in (0, 3010):
            # Windows Installer rolls back: the old version stays and its service runs again.
            self.start_service(service)
            return rc, '', 'Installation failed (Windows Installer error %d)' % rc
        self.state['registry'].setdefault(desc['registry_key'].lower(), {})[desc.get('registry_value', 'DisplayVersion').lower()] = desc['version']
        for jpath, version in (desc.get('file_versions') or {}).items():
            self.state['file_versions'][jpath.lower()] = version
        if rc == 3010:
            self.state['registry'].setdefault(PENDING_KEY, {})[PENDING_VALUE] = ['\\??\\C:\\Windows\\Temp\\pending.dll', '']
        self.start_service(service, version=desc['version'])
        if quirks['drop_connection']:
            quirks['drop_connection'] = False
            self.state.update(drop_pending=True, unreachable=quirks['unreachable_polls'],
                              running_installer=ntpath.basename(path.replace('/', '\\')),
                              busy_polls=quirks['installer_busy_polls'])
        return rc, 'Installation completed.\r\n', ''

    # --- services, reboot, vIDM ----------------------------------------------------------------------

    def set_service(self, name, state, version=None):
        svc = self.state['services'].setdefault(name, dict(state='stopped', start_mode='auto', username='LocalSystem'))
        was = svc['state']
        svc['state'] = state
        if was != state:
            self.event('service', name=name, state=state)
            host = self.state['vidm']['connectors'].get(name)
            if host and self.state['vidm']['url']:
                self._notify(self.state['vidm']['url'], host, state == 'started', version)

    def start_service(self, name, version=None):
        if not self.state['quirks']['service_will_not_start']:
            self.set_service(name, 'started', version)

    def reboot(self, args, check_mode=False):
        if check_mode:
            return dict(changed=True, rebooted=False, skipped=True)
        for name in sorted(self.state['services']):
            self.set_service(name, 'stopped')
        self.state['boot_count'] += 1
        self.state['registry'].get(PENDING_KEY, {}).pop(PENDING_VALUE, None)
        self.state.update(drop_pending=False, unreachable=0, running_installer=None, busy_polls=0)
        self.event('reboot', msg=args.get('msg'))
        for name, svc in sorted(self.state['services'].items()):
            if svc.get('start_mode', 'auto') in ('auto', 'delayed'):
                self.start_service(name)
        return dict(changed=True, rebooted=True, elapsed=0, unreachable=False)

    def event(self, kind, **details):
        self.state['events'].append(dict(details, kind=kind, boot=self.state['boot_count'], time=time.time()))


def shlex_first(cmd):
    """The first word of a Windows command line (quoted or not)."""
    cmd = cmd.strip()
    if cmd.startswith('"'):
        return cmd[1:].split('"', 1)[0]
    return cmd.split(' ', 1)[0]


def post_vidm(url, host, up, version=None):
    target = '%s/_sim/connectors/%s/%s' % (url.rstrip('/'), urllib.parse.quote(host, safe=''), 'up' if up else 'down')
    if version:
        target += '?' + urllib.parse.urlencode(dict(version=version))
    request = urllib.request.Request(target, data=b'', method='POST')
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()


def run_module(name):
    """main() of the simulated module ``name``: the host from WINSIM_STATE_DIR and WINSIM_HOST."""
    from ansible.module_utils.basic import AnsibleModule

    module = AnsibleModule(argument_spec=SPECS[name], supports_check_mode=True)
    state_dir, host_name = os.environ.get('WINSIM_STATE_DIR'), os.environ.get('WINSIM_HOST')
    if not state_dir or not host_name:
        module.fail_json(msg='winsim: WINSIM_STATE_DIR and WINSIM_HOST must be set (use the ansible.windows.winsim connection)')
    with Host.open(state_dir, host_name) as host:
        result = host.call(name, module.params, check_mode=module.check_mode)
    if result.pop('failed', False):
        module.fail_json(**result)
    module.exit_json(**result)
