# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/_windows_upgrade.py against the simulated Windows host."""

from __future__ import annotations

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.idmops.lifecycle.plugins.module_utils._windows_upgrade import (
    CONNECTOR_ARGUMENT_SPEC,
    WINDOWS_NODE_ARGUMENT_SPEC,
    WINDOWS_NODE_REQUIRED_IF,
    ConnectorUpgrade,
    UpgradeError,
    WindowsNodeUpgrade,
)
from ansible_collections.idmops.lifecycle.tests.unit.plugins.module_utils.windows_fake import (
    CONNECTOR_KEY,
    NEW_JRE,
    OLD_JRE,
    Clock,
    connector_installer,
    connector_sim,
    node_installer,
)
from ansible_collections.idmops.lifecycle.tests.unit.plugins.module_utils.windows_fake import node_sim as fake_node_sim

STAGED = 'C:\\Temp\\connector.exe'


def params(spec, required_if=None, **args):
    result = ArgumentSpecValidator(spec, required_if=required_if).validate(args)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def connector(sim, url, checksum, check_mode=False, clock=None, **args):
    clock = clock or Clock()
    p = params(CONNECTOR_ARGUMENT_SPEC, target_version='19.03.0.1', installer_path=STAGED, installer_url=url,
               checksum=checksum, **args)
    return ConnectorUpgrade(sim.host, p, check_mode=check_mode, sleep=clock.sleep, clock=clock.clock)


def installs(sim):
    return [c for c in sim.commands() if c.startswith('"')]


def test_already_current_changes_nothing(tmp_path):
    sim = connector_sim(tmp_path, version='19.03.0.1')
    url, digest = connector_installer(sim)
    result = connector(sim, url, digest).run()
    assert result['changed'] is False
    assert result['msg'] == 'connector is already at 19.03.0.1'
    assert result['service_state'] == 'started'
    assert installs(sim) == [] and sim.state['boot_count'] == 1 and sim.vidm == []


def test_upgrade_without_jre_change_does_not_reboot(tmp_path):
    sim = connector_sim(tmp_path)
    url, digest = connector_installer(sim)
    result = connector(sim, url, digest).run()
    assert result['changed'] is True
    assert result['version_before'] == '19.03.0.0' and result['after']['version'] == '19.03.0.1'
    assert result['rebooted'] is False and result['reboot_reasons'] == [] and result['jre_changed'] is False
    assert result['installer_rc'] == 0 and result['service_state'] == 'started'
    assert sim.state['boot_count'] == 1
    assert sim.vidm == [('conn1.example.com', 'down', None), ('conn1.example.com', 'up', '19.03.0.1')]
    assert installs(sim) == ['"%s" /s /v"/qn REBOOT=ReallySuppress /l*v \\"C:\\Temp\\connector.log\\""' % STAGED]


def test_upgrade_with_jre_change_reboots_once(tmp_path):
    sim = connector_sim(tmp_path)
    url, digest = connector_installer(sim, jre=NEW_JRE)
    result = connector(sim, url, digest).run()
    assert result['rebooted'] is True and result['jre_changed'] is True
    assert result['reboot_reasons'] == ['the JRE changed from %s to %s' % (OLD_JRE, NEW_JRE)]
    assert sim.state['boot_count'] == 2
    assert result['after'] == dict(version='19.03.0.1', jre_version=NEW_JRE)
    assert 'rebooted (the JRE changed' in result['msg']


def test_exit_code_3010_reboots(tmp_path):
    sim = connector_sim(tmp_path)
    sim.state['quirks']['installer_rc'] = 3010
    url, digest = connector_installer(sim)
    result = connector(sim, url, digest).run()
    assert result['installer_rc'] == 3010 and result['rebooted'] is True
    assert result['reboot_reasons'] == ['the installer returned 3010']
    assert sim.state['boot_count'] == 2


def test_installer_failure_is_a_clear_error(tmp_path):
    sim = connector_sim(tmp_path)
    sim.state['quirks']['installer_rc'] = 1603
    url, digest = connector_installer(sim)
    with pytest.raises(UpgradeError) as info:
        connector(sim, url, digest).run()
    assert 'the installer exited with rc 1603 (accepted: 0, 3010)' in str(info.value)
    assert 'C:\\Temp\\connector.log' in str(info.value)
    assert info.value.result['installer_rc'] == 1603
    assert sim.state['registry'][CONNECTOR_KEY.lower()]['displayversion'] == '19.03.0.0'
    assert sim.state['services']['IDM Connector']['state'] == 'started' and sim.state['boot_count'] == 1


def test_service_that_never_runs_fails_after_the_timeout(tmp_path):
    sim = connector_sim(tmp_path)
    sim.state['quirks']['service_will_not_start'] = True
    url, digest = connector_installer(sim)
    clock = Clock()
    with pytest.raises(UpgradeError) as info:
        connector(sim, url, digest, clock=clock, service_timeout=30, wait_sleep=5).run()
    assert str(info.value) == "timed out after 30s waiting for service 'IDM Connector' to be running (last seen: stopped)"
    assert 29 <= clock.now <= 31
    assert sim.vidm == [('conn1.example.com', 'down', None)]


def test_downloaded_installer_with_another_checksum_installs_nothing(tmp_path):
    sim = connector_sim(tmp_path)
    url, digest = connector_installer(sim)
    with pytest.raises(UpgradeError) as info:
        connector(sim, url, 'sha256:' + 'ab' * 32).run()
    assert str(info.value).startswith('downloading the installer (nothing installed) failed: The checksum for')
    assert installs(sim) == [] and sim.vidm == []


def test_staged_installer_with_another_checksum_installs_nothing(tmp_path):
    sim = connector_sim(tmp_path)
    url, digest = connector_installer(sim)
    connector(sim, url, digest, check_mode=True).run()
    staged = tmp_path / 'root' / 'C' / 'Temp' / 'connector.exe'
    staged.parent.mkdir(parents=True)
    staged.write_text('tampered')
    with pytest.raises(UpgradeError) as info:
        connector(sim, None, digest).run()
    assert str(info.value).startswith('checksum mismatch: C:\\Temp\\connector.exe has sha256 ')
    assert 'nothing installed' in str(info.value)
    assert installs(sim) == []


def test_connection_drop_during_install_reconnects_and_polls(tmp_path):
    sim = connector_sim(tmp_path)
    sim.state['quirks'].update(drop_connection=True, unreachable_polls=2, installer_busy_polls=2)
    url, digest = connector_installer(sim, jre=NEW_JRE)
    clock = Clock()
    result = connector(sim, url, digest, clock=clock).run()
    assert result['connection_dropped'] is True and result['installer_rc'] is None
    assert 'dropped' in result['connection_error']
    assert result['rebooted'] is True and sim.state['boot_count'] == 2
    polls = [c for c in sim.commands() if c.startswith('tasklist.exe')]
    # two while unreachable, two while the installer is listed, one that finds it gone
    assert len(polls) == 5 and clock.slept == 4
    assert result['after']['version'] == '19.03.0.1'


def test_connection_drop_with_pending_renames_reboots(tmp_path):
    sim = connector_sim(tmp_path)
    sim.state['quirks'].update(drop_connection=True, installer_rc=3010, unreachable_polls=0, installer_busy_polls=0)
    url, digest = connector_installer(sim)
    result = connector(sim, url, digest).run()
    assert result['reboot_reasons'] == ['a reboot is pending after the installer (connection dropped, exit code unknown)']
    assert sim.state['boot_count'] == 2


def test_installer_still_running_after_install_timeout(tmp_path):
    sim = connector_sim(tmp_path)
    sim.state['quirks'].update(drop_connection=True, unreachable_polls=100, installer_busy_polls=0)
    url, digest = connector_installer(sim)
    with pytest.raises(UpgradeError) as info:
        connector(sim, url, digest, install_timeout=20, wait_sleep=5).run()
    assert str(info.value).startswith('timed out after 20s waiting for the installer to finish after the WinRM connection dropped')
    assert 'unreachable' in str(info.value) and 'C:\\Temp\\connector.log' in str(info.value)


def test_check_mode_reports_the_plan_and_changes_nothing(tmp_path):
    sim = connector_sim(tmp_path)
    url, digest = connector_installer(sim, jre=NEW_JRE)
    before = repr(sim.state)
    result = connector(sim, url, digest, check_mode=True).run()
    assert result['changed'] is True
    assert result['plan'][0] == 'download %s to %s and verify its sha256' % (url, STAGED)
    assert result['plan'][2] == 'reboot if the installer returns 3010 or replaces the JRE (now %s)' % OLD_JRE
    assert result['msg'].startswith('would upgrade connector from 19.03.0.0 to 19.03.0.1: ')
    assert repr(sim.state) == before
    assert not (tmp_path / 'root').exists()


def test_check_mode_without_installer_fails(tmp_path):
    sim = connector_sim(tmp_path)
    dummy, digest = connector_installer(sim)
    with pytest.raises(UpgradeError, match='installer_path C:.*connector.exe does not exist and installer_url is not set'):
        connector(sim, None, digest, check_mode=True).run()


def test_newer_installed_version_is_refused(tmp_path):
    sim = connector_sim(tmp_path, version='20.10.0.0')
    url, digest = connector_installer(sim)
    with pytest.raises(UpgradeError, match='newer than target_version 19.03.0.1'):
        connector(sim, url, digest).run()


def test_version_not_reached_is_an_error(tmp_path):
    sim = connector_sim(tmp_path)
    url, digest = connector_installer(sim, version='19.03.0.0')
    with pytest.raises(UpgradeError, match='the connector version is 19.03.0.0, not target_version 19.03.0.1'):
        connector(sim, url, digest).run()


@pytest.mark.parametrize('args, message', [
    (dict(checksum='abc'), 'checksum must be a sha256 digest'),
    (dict(service_timeout=0), 'service_timeout must be positive, got 0'),
    (dict(wait_sleep=-1.0), 'wait_sleep must be positive, got -1.0'),
])
def test_bad_parameters_name_the_parameter(tmp_path, args, message):
    sim = connector_sim(tmp_path)
    url, digest = connector_installer(sim)
    merged = dict(dict(checksum=digest), **args)
    with pytest.raises(UpgradeError, match=message):
        connector(sim, url, **merged)
    assert sim.calls == []


# --- VMware Identity Manager for Windows ---------------------------------------------------------------

def node_sim(tmp_path):
    sim = fake_node_sim(tmp_path)
    return (sim,) + node_installer(sim)


def node(sim, url, digest, check_mode=False, **args):
    p = params(WINDOWS_NODE_ARGUMENT_SPEC, required_if=WINDOWS_NODE_REQUIRED_IF, target_version='19.03.0.1',
               installer_path='C:\\Temp\\vidm.exe', installer_url=url, checksum=digest, **args)
    clock = Clock()
    return WindowsNodeUpgrade(sim.host, p, check_mode=check_mode, sleep=clock.sleep, clock=clock.clock)


def test_windows_node_exports_then_installs_with_a_domain_account(tmp_path):
    sim, url, digest = node_sim(tmp_path)
    result = node(sim, url, digest, export_password='export-secret', export_dest=str(tmp_path / 'exports'),
                  service_account='domain_user', service_username='CORP\\svc-vidm', service_password='svc-secret',
                  ceip=True).run()
    assert result['changed'] is True and result['after']['version'] == '19.03.0.1'
    assert result['export_file'].startswith(str(tmp_path / 'exports' / 'vidm1-example-com-conn-'))
    assert result['export_file'].endswith('.enc')
    assert 'export-secret' not in (tmp_path / 'exports').joinpath(result['export_file']).read_text()
    assert result['service_account'] == 'CORP\\svc-vidm'
    assert sim.state['services']['VMware Identity Manager'] == dict(state='started', start_mode='auto', username='CORP\\svc-vidm')
    kinds = [(short, secret) for short, args, secret in sim.calls if short in ('win_command', 'win_service')]
    assert kinds == [('win_command', True), ('win_command', False), ('win_service', True)]
    export, install = sim.commands()
    assert 'export-secret' not in export and 'svc-secret' not in install
    assert 'INSTALLDIR=\\"C:\\VMware\\" CEIP_OPTIN=1 ' in install


def test_windows_node_export_needs_the_script(tmp_path):
    sim, url, digest = node_sim(tmp_path)
    (tmp_path / 'root' / 'C' / 'VMware' / 'VMwareIdentityManager' / 'support' / 'migrateEmbeddedConnector.bat').unlink()
    with pytest.raises(UpgradeError, match='the embedded-connector configuration export failed: non-zero return code'):
        node(sim, url, digest, export_password='pw', export_dest=str(tmp_path / 'exports')).run()
    assert sim.commands() == ['"C:\\VMware\\VMwareIdentityManager\\support\\migrateEmbeddedConnector.bat" export']


def test_windows_node_check_mode_plan(tmp_path):
    sim, url, digest = node_sim(tmp_path)
    result = node(sim, url, digest, check_mode=True, export_config=False, service_account='domain_user',
                  service_username='CORP\\svc', service_password='pw').run()
    assert result['plan'][-2] == "run service 'VMware Identity Manager' as CORP\\svc"
    assert sim.calls and all(short != 'win_command' for short, args, secret in sim.calls)


def test_windows_node_service_user_needs_a_domain(tmp_path):
    sim, url, digest = node_sim(tmp_path)
    with pytest.raises(UpgradeError, match='service_username must have the form DOMAIN'):
        node(sim, url, digest, export_config=False, service_account='domain_user', service_username='svc',
             service_password='pw')
