# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the action plugins vidm_connector_upgrade and vidm_windows_upgrade.

``_execute_module`` runs the simulated Windows host in-process (windows_fake.Sim), raising
AnsibleConnectionFailure where the host drops the connection, as the WinRM connection does.
"""

from __future__ import annotations

from unittest import mock

import pytest

from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure

from ansible_collections.idmops.lifecycle.plugins.action import vidm_connector_upgrade, vidm_windows_upgrade
from ansible_collections.idmops.lifecycle.plugins.module_utils._windows_upgrade import HostLost
from ansible_collections.idmops.lifecycle.tests.unit.plugins.module_utils.windows_fake import (
    NEW_JRE,
    connector_installer,
    connector_sim,
    node_installer,
    node_sim,
)


class Harness:
    def __init__(self, plugin, sim, args, check_mode=False, diff=False):
        self.sim = sim
        self.no_log_calls = []
        self.task = mock.MagicMock(args=dict(args), check_mode=check_mode, diff=diff, no_log=False, async_val=0,
                                   action='idmops.lifecycle.x')
        self.connection = mock.MagicMock()
        self.connection._shell.tmpdir = None
        self.action = plugin.ActionModule(self.task, self.connection, mock.MagicMock(), loader=None, templar=None,
                                          shared_loader_obj=mock.MagicMock())
        self.action._execute_module = self.execute_module
        self.action._action = self.other_action
        self.action._task.copy = mock.MagicMock()

    def execute_module(self, module_name=None, module_args=None, task_vars=None):
        self.no_log_calls.append((module_name.rsplit('.', 1)[1], self.task.no_log))
        try:
            return self.sim.call(module_name, module_args)
        except HostLost as exc:
            raise AnsibleConnectionFailure(str(exc))

    def other_action(self, name, args, task_vars):
        return self.sim.reboot(args) if name == 'ansible.windows.win_reboot' else self.sim.fetch(args)

    def run(self):
        with mock.patch('time.sleep'):
            return self.action.run(task_vars={})


def connector_args(url, digest, **extra):
    return dict(dict(target_version='19.03.0.1', installer_path='C:\\Temp\\connector.exe', installer_url=url,
                     checksum=digest, wait_sleep=0.01), **extra)


def test_connector_upgrade_with_jre_change_reports_diff(tmp_path):
    sim = connector_sim(tmp_path)
    url, digest = connector_installer(sim, jre=NEW_JRE)
    result = Harness(vidm_connector_upgrade, sim, connector_args(url, digest), diff=True).run()
    assert not result.get('failed'), result
    assert result['changed'] is True and result['rebooted'] is True
    assert result['diff'] == dict(before=dict(version='19.03.0.0', jre_version='8.0.2020.8'),
                                  after=dict(version='19.03.0.1', jre_version=NEW_JRE))


def test_connector_second_run_is_unchanged(tmp_path):
    sim = connector_sim(tmp_path, version='19.03.0.1')
    url, digest = connector_installer(sim)
    result = Harness(vidm_connector_upgrade, sim, connector_args(url, digest), diff=True).run()
    assert result['changed'] is False and 'diff' not in result


def test_connection_failure_closes_the_connection_and_recovers(tmp_path):
    sim = connector_sim(tmp_path)
    sim.state['quirks'].update(drop_connection=True, unreachable_polls=1, installer_busy_polls=1)
    url, digest = connector_installer(sim)
    harness = Harness(vidm_connector_upgrade, sim, connector_args(url, digest))
    harness.connection._shell.tmpdir = '/stale'
    result = harness.run()
    assert not result.get('failed'), result
    assert result['connection_dropped'] is True
    assert harness.connection.close.called and harness.connection._shell.tmpdir is None


def test_installer_failure_fails_the_task_with_the_rc(tmp_path):
    sim = connector_sim(tmp_path)
    sim.state['quirks']['installer_rc'] = 1603
    url, digest = connector_installer(sim)
    result = Harness(vidm_connector_upgrade, sim, connector_args(url, digest)).run()
    assert result['failed'] is True and result['installer_rc'] == 1603
    assert result['msg'].startswith('the installer exited with rc 1603')


def test_check_mode_runs_no_command(tmp_path):
    sim = connector_sim(tmp_path)
    url, digest = connector_installer(sim)
    harness = Harness(vidm_connector_upgrade, sim, connector_args(url, digest), check_mode=True)
    result = harness.run()
    assert result['changed'] is True and len(result['plan']) == 4
    assert [name for name, no_log in harness.no_log_calls] == ['win_reg_stat', 'win_stat', 'win_stat', 'win_service_info']


@pytest.mark.parametrize('args, message', [
    (dict(target_version=None), 'missing required arguments: target_version'),
    (dict(install_timeout='soon'), "argument 'install_timeout' is of type"),
    (dict(colour='blue'), 'Unsupported parameters for'),
])
def test_bad_arguments_fail_naming_the_parameter(tmp_path, args, message):
    sim = connector_sim(tmp_path)
    url, digest = connector_installer(sim)
    task_args = dict((k, v) for k, v in dict(connector_args(url, digest), **args).items() if v is not None)
    harness = Harness(vidm_connector_upgrade, sim, task_args)
    with pytest.raises(AnsibleActionFail, match=message):
        harness.run()
    assert harness.no_log_calls == []


def node_args(tmp_path, url, digest, **extra):
    return dict(dict(target_version='19.03.0.1', installer_path='C:\\Temp\\vidm.exe', installer_url=url, checksum=digest,
                     export_password='export-secret', export_dest=str(tmp_path / 'exports'), wait_sleep=0.01), **extra)


def test_windows_node_secrets_go_only_to_no_log_calls(tmp_path):
    sim = node_sim(tmp_path)
    url, digest = node_installer(sim)
    harness = Harness(vidm_windows_upgrade, sim, node_args(tmp_path, url, digest, service_account='domain_user',
                                                           service_username='CORP\\svc', service_password='svc-secret'))
    result = harness.run()
    assert not result.get('failed'), result
    assert ('win_command', True) in harness.no_log_calls and ('win_service', True) in harness.no_log_calls
    assert [call for call in harness.no_log_calls if call[1]] == [('win_command', True), ('win_service', True)]
    assert harness.task.no_log is False
    assert 'export-secret' not in repr(result) and 'svc-secret' not in repr(result)


def test_windows_node_needs_the_export_password(tmp_path):
    sim = node_sim(tmp_path)
    args = node_args(tmp_path, 'file:///x', 'a' * 64)
    del args['export_password']
    with pytest.raises(AnsibleActionFail, match='export_config is True but all of the following are missing: export_password'):
        Harness(vidm_windows_upgrade, sim, args).run()
