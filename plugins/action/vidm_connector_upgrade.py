# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of idmops.lifecycle.vidm_connector_upgrade (documentation in plugins/modules/).

Windows hosts cannot run this collection's Python modules: this plugin runs on the controller,
validates the task's arguments and hands plugins/module_utils/_windows_upgrade.py a
``WindowsHost`` made of ``ansible.windows`` modules (run with ``_execute_module``) and the
``ansible.windows.win_reboot`` and ``ansible.builtin.fetch`` actions. ``WindowsUpgradeAction`` is
shared with vidm_windows_upgrade.
"""

from __future__ import annotations

from ansible.errors import AnsibleConnectionFailure
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.idmops.lifecycle.plugins.module_utils._windows_upgrade import (
    CONNECTOR_ARGUMENT_SPEC,
    ConnectorUpgrade,
    HostLost,
    UpgradeError,
    WindowsHost,
)


class WindowsUpgradeAction(ActionBase):
    """Runs an ``InstallerUpgrade`` subclass (``UPGRADE``) with the arguments of ``ARGUMENT_SPEC``."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False
    ARGUMENT_SPEC: dict = {}
    REQUIRED_IF: list = []
    UPGRADE = None

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        validation, dummy = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC, required_if=self.REQUIRED_IF)
        host = WindowsHost(call=lambda name, args, secret=False: self._module(name, args, task_vars, secret),
                           reboot=lambda args: self._action('ansible.windows.win_reboot', args, task_vars),
                           fetch=lambda args: self._action('ansible.builtin.fetch', args, task_vars))
        try:
            upgrade = self.UPGRADE(host, validation.validated_parameters, check_mode=self._task.check_mode)
            result.update(upgrade.run())
        except UpgradeError as exc:
            result.update(exc.result)
            result.update(failed=True, msg=str(exc))
        except HostLost as exc:
            result.update(failed=True, msg='lost the connection to the host: %s' % exc)
        if self._task.diff and result.get('changed') and 'before' in result:
            result['diff'] = dict(before=result['before'], after=result.get('after') or dict(version=result.get('version_after')))
        return result

    def _module(self, name, args, task_vars, secret):
        """One module result; HostLost when the connection drops (the next call reconnects)."""
        no_log = self._task.no_log
        if secret:
            # _execute_module passes the task's no_log on to the module, which then hides its arguments.
            self._task.no_log = True
        try:
            result = self._execute_module(module_name=name, module_args=dict(args), task_vars=task_vars)
        except AnsibleConnectionFailure as exc:
            self._forget_connection()
            raise HostLost(to_text(exc))
        finally:
            self._task.no_log = no_log
        if result.get('unreachable'):
            self._forget_connection()
            raise HostLost(result.get('msg') or 'unreachable')
        return result

    def _forget_connection(self):
        # A dropped WinRM shell is gone, and so may be the remote temporary directory made in it.
        self._connection._shell.tmpdir = None
        self._connection.close()

    def _action(self, name, args, task_vars):
        task = self._task.copy()
        task.args = dict(args)
        action = self._shared_loader_obj.action_loader.get(
            name, task=task, connection=self._connection, play_context=self._play_context, loader=self._loader,
            templar=self._templar, shared_loader_obj=self._shared_loader_obj)
        if action is None:
            raise UpgradeError('the action %s is not installed (the ansible.windows collection is required)' % name)
        return action.run(task_vars=task_vars)


class ActionModule(WindowsUpgradeAction):
    ARGUMENT_SPEC = CONNECTOR_ARGUMENT_SPEC
    UPGRADE = ConnectorUpgrade
