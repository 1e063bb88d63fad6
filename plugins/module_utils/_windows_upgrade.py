# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""Upgrades of Windows software by a vendor installer, for the action plugins
``vidm_connector_upgrade`` and ``vidm_windows_upgrade``.

Windows hosts cannot run this collection's Python modules, so the action plugins run on the
controller and drive ``ansible.windows`` modules on the host. Everything they decide lives here
and talks to the host only through a ``WindowsHost``, which the action plugin builds from
``_execute_module`` and the ``ansible.windows.win_reboot`` action (and a unit test from a fake):

    call(module_fqcn, args, secret=False) -> result dict     raises HostLost when the connection drops
    reboot(args) -> result dict
    fetch(remote_path) -> result dict of ansible.builtin.fetch

The installer (InstallShield with Windows Installer inside) is run silently; exit code 0 is
success, 3010 success with a reboot required (the Windows Installer convention), anything else a
failure. A WinRM connection that drops while the installer runs is expected (the installer may
restart services the connection depends on): the upgrade reconnects and polls until the installer
process is gone, bounded by ``install_timeout``, then reads the outcome from the registry.
"""

from __future__ import annotations

import ntpath
import time

from ansible_collections.idmops.lifecycle.plugins.module_utils._vidm import version_tuple
from ansible_collections.idmops.lifecycle.plugins.module_utils._wait import WAIT_ARGUMENT_SPEC, WaitTimeout, wait_until


ACCEPTED_RC = (0, 3010)
REBOOT_RC = 3010
UNINSTALL_KEY = 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\'
# Windows Installer records the file replacements it deferred to the next boot here.
PENDING_RENAMES = ('HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager', 'PendingFileRenameOperations')
LOCAL_SYSTEM = 'LocalSystem'

INSTALLER_ARGUMENT_SPEC = dict(
    target_version=dict(type='str', required=True),
    installer_path=dict(type='str', required=True),
    installer_url=dict(type='str'),
    checksum=dict(type='str', required=True),
    validate_certs=dict(type='bool', default=True),
    log_path=dict(type='str'),
    version_registry_value=dict(type='str', default='DisplayVersion'),
    install_timeout=dict(type='int', default=3600),
    service_timeout=dict(type='int', default=600),
    reboot_timeout=dict(type='int', default=1200),
    wait_sleep=dict(WAIT_ARGUMENT_SPEC['wait_sleep']),
)

CONNECTOR_ARGUMENT_SPEC = dict(
    INSTALLER_ARGUMENT_SPEC,
    installer_arguments=dict(type='str', default='/s /v"/qn REBOOT=ReallySuppress /l*v \\"{log}\\""'),
    service_name=dict(type='str', default='IDM Connector'),
    version_registry_key=dict(type='str', default=UNINSTALL_KEY + 'VMware Identity Manager Connector'),
    jre_path=dict(type='str', default='C:\\Program Files\\VMware\\VMware Identity Manager\\Connector\\jre'),
)

WINDOWS_NODE_ARGUMENT_SPEC = dict(
    INSTALLER_ARGUMENT_SPEC,
    installer_arguments=dict(type='str', default='/s /v"/qn REBOOT=ReallySuppress INSTALLDIR=\\"{install_dir}\\" '
                                                 'CEIP_OPTIN={ceip} /l*v \\"{log}\\""'),
    install_dir=dict(type='str', default='C:\\VMware'),
    ceip=dict(type='bool', default=False),
    service_name=dict(type='str', default='VMware Identity Manager'),
    version_registry_key=dict(type='str', default=UNINSTALL_KEY + 'VMware Identity Manager'),
    service_account=dict(type='str', choices=['local_system', 'domain_user'], default='local_system'),
    service_username=dict(type='str'),
    service_password=dict(type='str', no_log=True),
    export_config=dict(type='bool', default=True),
    export_password=dict(type='str', no_log=True),
    export_command=dict(type='str', default='"{install_dir}\\VMwareIdentityManager\\support\\migrateEmbeddedConnector.bat" export'),
    export_dest=dict(type='path'),
)

WINDOWS_NODE_REQUIRED_IF = [
    ('service_account', 'domain_user', ('service_username', 'service_password')),
    ('export_config', True, ('export_password', 'export_dest')),
]


class HostLost(Exception):
    """The connection to the host dropped, or the host is unreachable."""


class UpgradeError(Exception):
    """The upgrade stopped; ``result`` holds what was learnt so far (for the task result)."""

    def __init__(self, message, **result):
        super().__init__(message)
        self.result = result


def check_positive(params, *names):
    """UpgradeError naming the first parameter of ``names`` that is not positive."""
    for name in names:
        if params[name] <= 0:
            raise UpgradeError('%s must be positive, got %s' % (name, params[name]))


def normalize_checksum(value):
    text = (value or '').strip().lower()
    if text.startswith('sha256:'):
        text = text[len('sha256:'):]
    if len(text) != 64 or any(c not in '0123456789abcdef' for c in text):
        raise UpgradeError('checksum must be a sha256 digest (64 hex digits, optionally prefixed sha256:), got %r' % (value,))
    return text


def same_version(a, b):
    """Whether two versions are equal, read as dotted numbers when they are, else as text."""
    try:
        return version_tuple(a) == version_tuple(b)
    except ValueError:
        return (a or '').strip() == (b or '').strip()


def newer(a, b):
    try:
        return version_tuple(a) > version_tuple(b)
    except ValueError:
        return False


class WindowsHost:
    """Reads and actions on one Windows host through ``ansible.windows`` modules."""

    def __init__(self, call, reboot, fetch=None):
        self._call = call
        self._reboot = reboot
        self._fetch = fetch

    def run(self, name, args, secret=False):
        """The result of one module as it is, failed or not."""
        return self._call(name, args, secret=secret)

    def module(self, name, args, secret=False, what=None):
        """The result of one module; UpgradeError with the module's message when it failed."""
        result = self._call(name, args, secret=secret)
        if result.get('failed'):
            raise UpgradeError('%s failed: %s' % (what or name, result.get('msg') or 'no message'))
        return result

    def reg_value(self, key, name):
        result = self.module('ansible.windows.win_reg_stat', dict(path=key, name=name))
        return result.get('value') if result.get('exists') else None

    def stat(self, path, checksum=False):
        args = dict(path=path, get_checksum=checksum)
        if checksum:
            args['checksum_algorithm'] = 'sha256'
        return self.module('ansible.windows.win_stat', args).get('stat') or {}

    def file_version(self, path):
        stat = self.stat(path)
        return (stat.get('product_version') or stat.get('file_version')) if stat.get('exists') else None

    def service(self, name):
        """The service's entry from win_service_info (``state`` is ``started`` when running), or None."""
        services = self.module('ansible.windows.win_service_info', dict(name=name)).get('services') or []
        return services[0] if services else None

    def reboot(self, timeout, reason):
        result = self._reboot(dict(reboot_timeout=timeout, msg='Reboot by idmops.lifecycle: %s' % reason))
        if result.get('failed') or result.get('unreachable'):
            raise UpgradeError('the reboot (%s) failed: %s' % (reason, result.get('msg') or 'no message'))
        return result

    def fetch(self, src, dest):
        result = self._fetch(dict(src=src, dest=dest, flat=True, fail_on_missing=True))
        if result.get('failed'):
            raise UpgradeError('fetching %s to %s failed: %s' % (src, dest, result.get('msg') or 'no message'))
        return result


class InstallerUpgrade:
    """Stage, install, reboot when needed, verify: what both products share.

    ``run()`` returns the task result; a subclass adds its product's reads (``facts``), steps
    before the installer (``before_install``) and after it (``after_install``).
    """

    product = 'software'

    def __init__(self, host, params, check_mode=False, sleep=time.sleep, clock=time.monotonic):
        self.host = host
        self.p = params
        self.check_mode = check_mode
        self._sleep = sleep
        self._clock = clock
        check_positive(params, 'install_timeout', 'service_timeout', 'reboot_timeout', 'wait_sleep')
        self.checksum = normalize_checksum(params['checksum'])
        installer = params['installer_path']
        self.log_path = params['log_path'] or ntpath.join(ntpath.dirname(installer) or 'C:\\Windows\\Temp',
                                                          ntpath.splitext(ntpath.basename(installer))[0] + '.log')
        self.result = dict(changed=False, target_version=params['target_version'], log_path=self.log_path,
                           rebooted=False, reboot_reasons=[], connection_dropped=False, installer_rc=None)

    # --- reads ---------------------------------------------------------------------------------

    def version(self):
        return self.host.reg_value(self.p['version_registry_key'], self.p['version_registry_value'])

    def facts(self):
        return dict(version=self.version())

    def service_state(self):
        service = self.host.service(self.p['service_name'])
        return service.get('state') if service else 'absent'

    # --- the run ---------------------------------------------------------------------------------

    def run(self):
        before = self.facts()
        self.result['before'] = before
        self.result['version_before'] = before['version']
        target = self.p['target_version']
        if before['version'] and same_version(before['version'], target):
            self.result.update(after=dict(before), version_after=before['version'], service_state=self.service_state(),
                               msg='%s is already at %s' % (self.product, target))
            return self.result
        if before['version'] and newer(before['version'], target):
            raise UpgradeError('the installed %s %s is newer than target_version %s; the installer does not downgrade'
                               % (self.product, before['version'], target), **self.result)
        self.result['changed'] = True
        if self.check_mode:
            return self.plan(before)
        self.before_install()
        self.stage()
        rc = self.install()
        after = self.facts()
        self.result['after'] = after
        self.result['version_after'] = after['version']
        if not same_version(after['version'], target):
            raise UpgradeError('after the installer (rc %s) the %s version is %s, not target_version %s; see %s'
                               % (rc, self.product, after['version'], target, self.log_path), **self.result)
        reasons = self.reboot_reasons(before, after, rc)
        if reasons:
            self.host.reboot(self.p['reboot_timeout'], ', '.join(reasons))
            self.result.update(rebooted=True, reboot_reasons=reasons)
        self.after_install()
        self.result['service_state'] = self.wait_service()
        final = self.facts()
        if not same_version(final['version'], target):
            raise UpgradeError('after the reboot the %s version is %s, not target_version %s'
                               % (self.product, final['version'], target), **self.result)
        self.result['after'] = final
        rebooted = ' and rebooted (%s)' % ', '.join(reasons) if reasons else ''
        self.result['msg'] = '%s upgraded from %s to %s%s' % (self.product, before['version'], final['version'], rebooted)
        return self.result

    def plan(self, before):
        steps = self.plan_steps()
        msg = 'would upgrade %s from %s to %s: %s' % (self.product, before['version'], self.p['target_version'], '; '.join(steps))
        self.result.update(plan=steps, version_after=self.p['target_version'], service_state=self.service_state(), msg=msg)
        return self.result

    def plan_steps(self):
        staged = self.host.stat(self.p['installer_path'], checksum=True)
        if staged.get('exists') and staged.get('checksum') == self.checksum:
            stage = 'use the staged installer %s (checksum matches)' % self.p['installer_path']
        elif self.p['installer_url']:
            stage = 'download %s to %s and verify its sha256' % (self.p['installer_url'], self.p['installer_path'])
        else:
            raise UpgradeError('installer_path %s %s and installer_url is not set'
                               % (self.p['installer_path'], 'has another sha256' if staged.get('exists') else 'does not exist'),
                               **self.result)
        return [stage, 'run %s silently (log %s), accept rc 0 or 3010' % (self.p['installer_path'], self.log_path),
                'reboot if the installer returns 3010%s' % self.reboot_plan_note(),
                'wait until service %r is running' % self.p['service_name']]

    def reboot_plan_note(self):
        return ''

    def before_install(self):
        """Steps of the product before its installer runs."""

    def after_install(self):
        """Steps of the product after the installer (and a reboot), before the service check."""

    # --- steps -------------------------------------------------------------------------------------

    def stage(self):
        """The installer at installer_path with the expected sha256, downloaded when it is not."""
        path = self.p['installer_path']
        staged = self.host.stat(path, checksum=True)
        if not (staged.get('exists') and staged.get('checksum') == self.checksum) and self.p['installer_url']:
            self.host.module('ansible.windows.win_get_url',
                             dict(url=self.p['installer_url'], dest=path, checksum=self.checksum,
                                  checksum_algorithm='sha256', validate_certs=self.p['validate_certs'], force=True),
                             what='downloading the installer (nothing installed)')
            staged = self.host.stat(path, checksum=True)
        if not staged.get('exists'):
            raise UpgradeError('installer_path %s does not exist and installer_url is not set; nothing installed' % path,
                               **self.result)
        if staged.get('checksum') != self.checksum:
            raise UpgradeError('checksum mismatch: %s has sha256 %s, the checksum parameter says %s; nothing installed'
                               % (path, staged.get('checksum'), self.checksum), **self.result)

    def installer_command(self):
        return '"%s" %s' % (self.p['installer_path'], self.p['installer_arguments'].replace('{log}', self.log_path))

    def install(self):
        """Run the installer; its rc (None when the connection dropped and the outcome is read afterwards)."""
        try:
            result = self.host.run('ansible.windows.win_command', dict(cmd=self.installer_command()))
        except HostLost as exc:
            self.result['connection_dropped'] = True
            self.result['connection_error'] = str(exc)
            self.wait_installer_gone()
            return None
        rc = result.get('rc')
        self.result['installer_rc'] = rc
        if rc not in ACCEPTED_RC:
            raise UpgradeError('the installer exited with rc %s (accepted: 0, 3010); see its log %s%s'
                               % (rc, self.log_path, _said(result)), **self.result)
        return rc

    def installer_running(self):
        name = ntpath.basename(self.p['installer_path'])
        result = self.host.module('ansible.windows.win_command',
                                  dict(cmd='tasklist.exe /FI "IMAGENAME eq %s" /FO CSV /NH' % name))
        return ('"%s"' % name.lower()) in (result.get('stdout') or '').lower()

    def wait_installer_gone(self):
        def probe():
            try:
                return not self.installer_running(), 'installer process still running'
            except HostLost as exc:
                return False, 'host unreachable: %s' % exc

        try:
            self.wait(probe, self.p['install_timeout'], 'the installer to finish after the WinRM connection dropped')
        except WaitTimeout as exc:
            raise UpgradeError('%s; see the installer log %s' % (exc, self.log_path), **self.result)

    def reboot_reasons(self, before, after, rc):
        reasons = []
        if rc == REBOOT_RC:
            reasons.append('the installer returned 3010')
        elif rc is None and self.host.reg_value(*PENDING_RENAMES) is not None:
            reasons.append('a reboot is pending after the installer (connection dropped, exit code unknown)')
        return reasons

    def wait_service(self):
        def probe():
            try:
                state = self.service_state()
            except HostLost as exc:
                return False, 'host unreachable: %s' % exc
            return state == 'started', state

        try:
            return self.wait(probe, self.p['service_timeout'], 'service %r to be running' % self.p['service_name'])
        except WaitTimeout as exc:
            raise UpgradeError(str(exc), **self.result)

    def wait(self, probe, timeout, description):
        return wait_until(probe, timeout, self.p['wait_sleep'], description, clock=self._clock, pause=self._sleep)[0]


class ConnectorUpgrade(InstallerUpgrade):
    """The Windows VMware Identity Manager connector: reboot also when the installer replaced the JRE."""

    product = 'connector'

    def java(self):
        return ntpath.join(self.p['jre_path'], 'bin', 'java.exe')

    def facts(self):
        return dict(version=self.version(), jre_version=self.host.file_version(self.java()))

    def reboot_plan_note(self):
        return ' or replaces the JRE (now %s)' % (self.result['before'].get('jre_version'),)

    def reboot_reasons(self, before, after, rc):
        reasons = InstallerUpgrade.reboot_reasons(self, before, after, rc)
        if before.get('jre_version') != after.get('jre_version'):
            # The runbook: the reboot makes JAVA_HOME point at the new JRE for the connector.
            reasons.insert(0, 'the JRE changed from %s to %s' % (before.get('jre_version'), after.get('jre_version')))
        self.result['jre_changed'] = before.get('jre_version') != after.get('jre_version')
        return reasons


class WindowsNodeUpgrade(InstallerUpgrade):
    """A VMware Identity Manager for Windows node: embedded-connector export first, then the installer."""

    product = 'VMware Identity Manager'

    def __init__(self, host, params, check_mode=False, **kwargs):
        InstallerUpgrade.__init__(self, host, params, check_mode=check_mode, **kwargs)
        if params['service_account'] == 'domain_user' and '\\' not in params['service_username']:
            raise UpgradeError('service_username must have the form DOMAIN\\Username, got %r' % params['service_username'])
        self.result['export_file'] = None

    def _fill(self, template):
        return (template.replace('{install_dir}', self.p['install_dir'])
                .replace('{ceip}', '1' if self.p['ceip'] else '0').replace('{log}', self.log_path))

    def installer_command(self):
        return '"%s" %s' % (self.p['installer_path'], self._fill(self.p['installer_arguments']))

    def plan_steps(self):
        steps = InstallerUpgrade.plan_steps(self)
        if self.p['export_config']:
            steps.insert(0, 'export the embedded-connector configuration and fetch the .enc file to %s' % self.p['export_dest'])
        if self.p['service_account'] == 'domain_user':
            steps.insert(-1, 'run service %r as %s' % (self.p['service_name'], self.p['service_username']))
        return steps

    def before_install(self):
        if self.p['export_config']:
            self.export()

    def export(self):
        """The migration script writes <cluster-host-domain>-conn-<timestamp>.enc into the install folder."""
        folder = ntpath.join(self.p['install_dir'], 'VMwareIdentityManager')
        # The password goes on stdin, never on the command line, and the call is no_log.
        result = self.host.module('ansible.windows.win_command',
                                  dict(cmd=self._fill(self.p['export_command']), stdin=self.p['export_password']),
                                  secret=True, what='the embedded-connector configuration export')
        if result.get('rc') not in (0, None):
            raise UpgradeError('the embedded-connector configuration export exited with rc %s; nothing installed'
                               % result.get('rc'), **self.result)
        found = self.host.module('ansible.windows.win_find', dict(paths=folder, patterns=['*.enc']))
        files = sorted(found.get('files') or [], key=lambda f: f.get('lastwritetime') or 0)
        if not files:
            raise UpgradeError('the export left no .enc file in %s; nothing installed' % folder, **self.result)
        src = files[-1]['path']
        dest = self.p['export_dest'].rstrip('/') + '/' + ntpath.basename(src.replace('/', '\\'))
        self.host.fetch(src, dest)
        self.result['export_file'] = dest

    def after_install(self):
        if self.p['service_account'] != 'domain_user':
            return
        # The password is set through the service manager, not as an installer property on a command line.
        self.host.module('ansible.windows.win_service',
                         dict(name=self.p['service_name'], username=self.p['service_username'],
                              password=self.p['service_password'], state='restarted'),
                         secret=True, what='setting the service account of %r' % self.p['service_name'])
        self.result['service_account'] = self.p['service_username']


def _said(result):
    text = ' '.join(str(result.get(k) or '').strip() for k in ('msg', 'stderr')).strip()
    return ': %s' % text[:500] if text else ''
