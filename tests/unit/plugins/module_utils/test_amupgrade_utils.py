# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/_amupgrade.py.

The chain, the checks and the swap are tested on real directories under tmp_path. The
upgrade steps run either the amupgrade simulator (tests/simulators/amupgrade.py, laid out as
an amupgrade home with this Python) through the real ``run_process``, or a fake runner where
a step has to misbehave in a way the simulator never does.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import stat
import subprocess
import sys
import time
import urllib.error

import pytest

from ansible_collections.idmops.lifecycle.plugins.module_utils import _amupgrade
from ansible_collections.idmops.lifecycle.plugins.module_utils._amupgrade import (
    AmUpgradeError,
    ConfigUpgrade,
    backup_path,
    check_home,
    live_pid_in,
    plan_chain,
    parse_version,
    probe_am_url,
    read_config_version,
    run_process,
    running_reasons,
)


SIM = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'simulators', 'amupgrade.py'))
FULL_CHAIN = ['rules/amster/7.2.x-to-7.3.x.groovy', 'rules/amster/7.3.x-to-7.4.x.groovy',
              'rules/amster/7.4.x-to-7.5.x.groovy', 'rules/amster/7.5.x-to-8.1.x.groovy']


def load_sim():
    spec = importlib.util.spec_from_file_location('amupgrade_sim_for_utils', SIM)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sim = load_sim()


@pytest.fixture
def home(tmp_path):
    path = tmp_path / 'amupgrade'
    sim.install_home(str(path), python=sys.executable)
    return str(path)


@pytest.fixture(autouse=True)
def no_injected_failure(monkeypatch):
    monkeypatch.delenv('AMUPGRADE_SIM_FAIL_AT', raising=False)


def make_config(path, version='7.2.0'):
    (path / 'global').mkdir(parents=True)
    if version is not None:
        (path / 'global' / 'version.json').write_text(json.dumps({'version': version}))
    (path / 'realms' / 'root').mkdir(parents=True)
    (path / 'realms' / 'root' / 'realm.json').write_text('{"name": "root"}')
    (path / 'noninteractive-install.properties').write_text('DEPLOYMENT_URI=/am\n')
    return str(path)


def snapshot(root):
    found = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(dirpath, name)
            info = os.lstat(path)
            content = None
            if stat.S_ISREG(info.st_mode):
                with open(path, 'rb') as handle:
                    content = handle.read()
            found[os.path.relpath(path, root)] = (stat.S_IMODE(info.st_mode), content)
    return found


def leftovers(parent, config_dir):
    name = os.path.basename(config_dir)
    return sorted(entry for entry in os.listdir(parent) if entry.startswith('.%s.amupgrade.' % name))


def never_runs(*args, **kwargs):
    raise AssertionError('amupgrade must not run here')


class FakeRunner:
    """Writes each step's output like amupgrade would, with hooks to misbehave."""

    def __init__(self, rc=0, completed=True, version_for=None, drop=(), timed_out=False):
        self.rc = rc
        self.completed = completed
        self.version_for = version_for or {}
        self.drop = drop
        self.timed_out = timed_out
        self.calls = []

    def __call__(self, argv, env, cwd, timeout):
        self.calls.append(dict(argv=argv, env=env, cwd=cwd, timeout=timeout))
        source, output = argv[argv.index('-i') + 1], argv[argv.index('-o') + 1]
        rules = [arg for arg in argv if arg.endswith('.groovy')][0]
        name = os.path.basename(rules)
        target = '8.1.0' if name == 'latest.groovy' else name.split('-to-')[1].replace('.x.groovy', '.0')
        target = self.version_for.get(name, target)
        if self.rc == 0 and not self.timed_out:
            for dirpath, _dirs, files in os.walk(source):
                for file_name in files:
                    rel = os.path.relpath(os.path.join(dirpath, file_name), source)
                    if rel in self.drop or rel == '.am.lock':
                        continue
                    os.makedirs(os.path.join(output, os.path.dirname(rel)), exist_ok=True)
                    with open(os.path.join(dirpath, file_name), 'rb') as src, \
                            open(os.path.join(output, rel), 'wb') as dst:
                        dst.write(src.read())
            os.makedirs(os.path.join(output, 'global'), exist_ok=True)
            with open(os.path.join(output, 'global', 'version.json'), 'w') as handle:
                json.dump({'version': target}, handle)
        out = 'Upgrade Completed, modified configuration saved to %s\n' % output if self.completed else 'done\n'
        return self.rc, out, '' if self.rc == 0 else 'ERROR: boom\n', self.timed_out


# --- versions and the chain ---------------------------------------------------------------

@pytest.mark.parametrize('text, expected', [('7.2.0', (7, 2, 0)), ('8.1', (8, 1, 0)), (' 7.5.10 ', (7, 5, 10))])
def test_parse_version(text, expected):
    assert parse_version(text, 'x') == expected


@pytest.mark.parametrize('text', ['8', '8.1.0.1', 'v8.1.0', '8.1.0-SNAPSHOT', '', None])
def test_parse_version_rejects(text):
    with pytest.raises(AmUpgradeError, match='x must be a version'):
        parse_version(text, 'x')


def test_chain_7_2_to_8_1_is_four_steps():
    chain = plan_chain('amster', (7, 2, 0), (8, 1, 0))
    assert [step['rules'] for step in chain] == FULL_CHAIN
    assert [(step['from'], step['to']) for step in chain] == [('7.2', '7.3'), ('7.3', '7.4'), ('7.4', '7.5'),
                                                              ('7.5', '8.1')]


def test_chain_patch_levels_and_single_steps():
    assert [s['rules'] for s in plan_chain('amster', (7, 4, 2), (7, 5, 1))] == [FULL_CHAIN[2]]
    assert [s['rules'] for s in plan_chain('amster', (7, 5, 0), (8, 1, 0))] == [FULL_CHAIN[3]]
    assert plan_chain('amster', (8, 1, 0), (8, 1, 3)) == []


def test_chain_fbc_is_latest_once_with_or_without_version():
    assert plan_chain('fbc', None, (8, 1, 0)) == [{'rules': 'rules/fbc/latest.groovy', 'from': None, 'to': '8.1'}]
    assert plan_chain('fbc', (7, 0, 1), (8, 1, 0))[0]['from'] == '7.0'


@pytest.mark.parametrize('from_version, to_version, words', [
    ((8, 0, 0), (8, 1, 0), ['from_version 8.0.0', '8.0.x', '7.2 -> 7.3 -> 7.4 -> 7.5 -> 8.1', 'gap']),
    ((7, 5, 0), (8, 0, 0), ['to_version 8.0.0', 'to 8.0.x', 'chain 7.5 -> 8.0']),
    ((7, 1, 0), (8, 1, 0), ['from_version 7.1.0']),
    ((7, 2, 0), (9, 0, 0), ['to_version 9.0.0']),
])
def test_chain_unknown_versions_and_gaps(from_version, to_version, words):
    with pytest.raises(AmUpgradeError) as info:
        plan_chain('amster', from_version, to_version)
    for word in words:
        assert word in str(info.value)


def test_chain_refuses_downgrade_and_missing_start():
    with pytest.raises(AmUpgradeError, match='cannot downgrade the configuration from 8.1.0 to 7.5.0'):
        plan_chain('amster', (8, 1, 0), (7, 5, 0))
    with pytest.raises(AmUpgradeError, match='cannot downgrade'):
        plan_chain('fbc', (8, 1, 0), (7, 5, 0))
    with pytest.raises(AmUpgradeError, match='carries no version'):
        plan_chain('amster', None, (8, 1, 0))
    with pytest.raises(AmUpgradeError, match='mode must be one of'):
        plan_chain('ldap', (7, 2, 0), (8, 1, 0))


def test_read_config_version(tmp_path):
    assert read_config_version(str(tmp_path)) is None
    (tmp_path / 'global').mkdir()
    (tmp_path / 'global' / 'version.json').write_text('{"other": 1}')
    assert read_config_version(str(tmp_path)) is None
    (tmp_path / 'global' / 'version.json').write_text('{"version": "7.2.0"}')
    assert read_config_version(str(tmp_path)) == '7.2.0'
    (tmp_path / 'global' / 'version.json').write_text('[1]')
    with pytest.raises(AmUpgradeError, match='not a JSON object'):
        read_config_version(str(tmp_path))
    (tmp_path / 'global' / 'version.json').write_text('{"version": 7}')
    with pytest.raises(AmUpgradeError, match='not a string'):
        read_config_version(str(tmp_path))
    (tmp_path / 'global' / 'version.json').write_text('{oops')
    with pytest.raises(AmUpgradeError, match='cannot be read as JSON'):
        read_config_version(str(tmp_path))


def test_check_home_names_everything_missing(tmp_path, home):
    chain = plan_chain('amster', (7, 2, 0), (8, 1, 0))
    assert check_home(home, chain) == os.path.join(home, 'amupgrade')
    os.unlink(os.path.join(home, FULL_CHAIN[1]))
    os.unlink(os.path.join(home, FULL_CHAIN[3]))
    with pytest.raises(AmUpgradeError) as info:
        check_home(home, chain)
    assert os.path.join(home, FULL_CHAIN[1]) in str(info.value)
    assert os.path.join(home, FULL_CHAIN[3]) in str(info.value)
    os.chmod(os.path.join(home, 'amupgrade'), 0o644)
    with pytest.raises(AmUpgradeError, match='no executable amupgrade'):
        check_home(home, chain)
    with pytest.raises(AmUpgradeError, match='does not exist'):
        check_home(str(tmp_path / 'nowhere'), chain)


# --- running AM ---------------------------------------------------------------------------

def dead_pid():
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def test_live_pid_in(tmp_path):
    path = tmp_path / 'pid'
    assert live_pid_in(str(path)) is None
    path.write_text('%d\n' % os.getpid())
    assert live_pid_in(str(path)) == os.getpid()
    path.write_text('%d\n' % dead_pid())
    assert live_pid_in(str(path)) is None
    path.write_text('not a pid')
    assert live_pid_in(str(path)) is None


def test_running_reasons(tmp_path):
    config = make_config(tmp_path / 'cfg')
    assert running_reasons(config) == []
    (tmp_path / 'cfg' / '.am.lock').write_text(str(os.getpid()))
    pid_file = tmp_path / 'catalina.pid'
    pid_file.write_text(str(os.getpid()))
    reasons = running_reasons(config, str(pid_file), 'http://am/live', url_probe=lambda url: (True, 'HTTP 200'))
    assert len(reasons) == 3
    assert '.am.lock names the live PID %d' % os.getpid() in reasons[0]
    assert 'am_pid_file' in reasons[1]
    assert 'am_running_url http://am/live answers (HTTP 200)' == reasons[2]
    assert running_reasons(str(tmp_path), None, 'http://am/live', url_probe=lambda url: (False, 'refused')) == []


class FakeResponse:
    def __init__(self, status):
        self.status = status

    def getcode(self):
        return self.status

    def close(self):
        pass


def opener_for(outcome):
    def opener(url, **kwargs):
        assert kwargs['follow_redirects'] == 'none'
        if isinstance(outcome, Exception):
            raise outcome
        return FakeResponse(outcome)
    return opener


def http_error(code):
    return urllib.error.HTTPError('http://am/live', code, 'status', {}, None)


@pytest.mark.parametrize('outcome, running', [
    (200, True), (204, True), (404, False),
])
def test_probe_am_url_statuses(outcome, running):
    assert probe_am_url('http://am/live', opener=opener_for(outcome))[0] is running


def test_probe_am_url_errors():
    assert probe_am_url('http://am/live', opener=opener_for(http_error(503))) == (True, 'HTTP 503')
    assert probe_am_url('http://am/live', opener=opener_for(http_error(404))) == (False, 'HTTP 404')
    refused = urllib.error.URLError(ConnectionRefusedError(111, 'Connection refused'))
    assert probe_am_url('http://am/live', opener=opener_for(refused)) == (False, 'connection refused')
    with pytest.raises(AmUpgradeError, match='cannot tell whether AM runs'):
        probe_am_url('http://am/live', opener=opener_for(urllib.error.URLError('timed out')))
    with pytest.raises(AmUpgradeError, match='cannot tell whether AM runs'):
        probe_am_url('http://am/live', opener=opener_for(TimeoutError('timed out')))
    with pytest.raises(AmUpgradeError, match='cannot tell whether AM runs: certificate verify failed'):
        probe_am_url('https://am/live', opener=opener_for(_amupgrade.UrlsConnectionError('certificate verify failed')))
    with pytest.raises(AmUpgradeError, match='cannot tell whether AM runs'):
        probe_am_url('http://am/live', opener=opener_for(http.client.RemoteDisconnected('closed')))


# --- run_process --------------------------------------------------------------------------

def test_run_process_output_and_timeout(tmp_path):
    rc, out, err, timed_out = run_process([sys.executable, '-c', 'import sys; print("o"); sys.stderr.write("e")'],
                                          dict(os.environ), str(tmp_path), 30)
    assert (rc, out, err, timed_out) == (0, 'o\n', 'e', False)
    started = time.monotonic()
    rc, _out, _err, timed_out = run_process([sys.executable, '-c', 'import time; time.sleep(30)'],
                                            dict(os.environ), str(tmp_path), 0.5)
    assert timed_out and rc != 0
    assert time.monotonic() - started < 10


# --- the whole upgrade with the simulator -------------------------------------------------

def upgrade(home, config, **kwargs):
    kwargs.setdefault('runner', run_process)
    kwargs.setdefault('url_probe', never_runs)
    return ConfigUpgrade(home, config, kwargs.pop('mode', 'amster'), kwargs.pop('to_version', '8.1.0'), **kwargs)


def test_upgrade_7_2_to_8_1_then_idempotent(tmp_path, home):
    config = make_config(tmp_path / 'cfg')
    before = snapshot(config)
    result = upgrade(home, config, now=lambda: 1767225600).run()
    assert result['changed'] is True
    assert (result['version_before'], result['version_after']) == ('7.2.0', '8.1.0')
    assert result['chain'] == FULL_CHAIN
    assert [step['rc'] for step in result['steps']] == [0, 0, 0, 0]
    assert [step['version_after'] for step in result['steps']] == ['7.3.0', '7.4.0', '7.5.0', '8.1.0']
    first = result['steps'][0]
    assert first['command'][:3] == [os.path.join(home, 'amupgrade'), '-i', config]
    assert first['command'][-3:] == ['-a', '8.1.0', os.path.join(home, FULL_CHAIN[0])]
    assert first['stdout_lines'][-1].startswith('Upgrade Completed, modified configuration saved to ')
    assert result['steps'][1]['command'][2] == result['steps'][0]['command'][4]
    assert result['backup_dir'] == backup_path(config, 1767225600).replace('-1.bak', '.bak')
    assert snapshot(result['backup_dir']) == before
    assert read_config_version(config) == '8.1.0'
    assert result['diff']['before'] == {'version': '7.2.0'} and result['diff']['after'] == {'version': '8.1.0'}
    assert leftovers(str(tmp_path), config) == []

    again = upgrade(home, config, runner=never_runs).run()
    assert again['changed'] is False
    assert again['steps'] == [] and again['chain'] == []
    assert again['version_after'] == '8.1.0'
    assert 'already at 8.1' in again['msg']


def test_failure_in_step_3_leaves_config_untouched(tmp_path, home, monkeypatch):
    config = make_config(tmp_path / 'cfg')
    before = snapshot(config)
    monkeypatch.setenv('AMUPGRADE_SIM_FAIL_AT', '7.4.x-to-7.5.x.groovy')
    with pytest.raises(AmUpgradeError) as info:
        upgrade(home, config).run()
    message = str(info.value)
    assert 'amupgrade step 3 of 4 (rules/amster/7.4.x-to-7.5.x.groovy) exited with rc=1' in message
    assert 'injected failure' in message and '%s is unchanged' % config in message
    steps = info.value.result['steps']
    assert [step['rc'] for step in steps] == [0, 0, 1]
    assert any('injected failure' in line for line in steps[2]['stderr_lines'])
    assert info.value.result['backup_dir'] is None
    assert info.value.result['changed'] is False
    assert snapshot(config) == before
    assert leftovers(str(tmp_path), config) == []
    assert not [entry for entry in os.listdir(str(tmp_path)) if entry.endswith('.bak')]


def test_running_am_is_refused_before_anything_runs(tmp_path, home):
    config = make_config(tmp_path / 'cfg')
    (tmp_path / 'cfg' / '.am.lock').write_text('%d\n' % os.getpid())
    before = snapshot(config)
    with pytest.raises(AmUpgradeError) as info:
        upgrade(home, config, runner=never_runs).run()
    assert "AM is running, and amupgrade can't upgrade a running AM" in str(info.value)
    assert str(os.getpid()) in str(info.value)
    assert info.value.result['steps'] == []
    assert info.value.result['version_before'] == '7.2.0'
    assert snapshot(config) == before


def test_running_am_in_check_mode_is_a_warning(tmp_path, home):
    config = make_config(tmp_path / 'cfg')
    (tmp_path / 'cfg' / '.am.lock').write_text('%d\n' % os.getpid())
    job = upgrade(home, config, runner=never_runs, check_mode=True)
    result = job.run()
    assert result['changed'] is True
    assert result['am_running'] and 'would be refused' in job.warnings[0]


def test_check_mode_reports_the_plan(tmp_path, home):
    config = make_config(tmp_path / 'cfg')
    before = snapshot(config)
    result = upgrade(home, config, runner=never_runs, check_mode=True, amster_version='8.1.2').run()
    assert result['changed'] is True
    assert result['chain'] == FULL_CHAIN
    assert len(result['steps']) == 4
    assert all(step['rc'] is None for step in result['steps'])
    assert result['steps'][0]['command'][-3:] == ['-a', '8.1.2', os.path.join(home, FULL_CHAIN[0])]
    assert result['steps'][3]['command'][4].endswith('XXXXXX/step4')
    assert result['version_after'] == '8.1.0'
    assert result['msg'].startswith('would run 4 amupgrade step(s) 7.2.0 -> 8.1.0')
    assert snapshot(config) == before
    assert sorted(os.listdir(str(tmp_path))) == ['amupgrade', 'cfg']


def test_no_backup_removes_the_previous_configuration(tmp_path, home):
    config = make_config(tmp_path / 'cfg', version='7.5.0')
    result = upgrade(home, config, backup=False).run()
    assert result['backup_dir'] is None
    assert read_config_version(config) == '8.1.0'
    assert sorted(os.listdir(str(tmp_path))) == ['amupgrade', 'cfg']


def test_fbc_unversioned_with_the_simulator(tmp_path, home):
    config = make_config(tmp_path / 'services', version=None)
    result = upgrade(home, config, mode='fbc').run()
    assert result['version_before'] is None and result['version_after'] == '8.1.0'
    command = result['steps'][0]['command']
    assert command[-3:] == ['--fileBasedMode', os.path.join(home, 'rules/fbc/latest.groovy'), '--ignoreNoRuleTracking']
    assert '-a' not in command
    assert upgrade(home, config, mode='fbc', runner=never_runs).run()['changed'] is False


def test_amster_unversioned_needs_from_version(tmp_path, home):
    config = make_config(tmp_path / 'cfg', version=None)
    with pytest.raises(AmUpgradeError, match='carries no version'):
        upgrade(home, config, runner=never_runs).run()
    runner = FakeRunner()
    result = upgrade(home, config, from_version='7.5.0', runner=runner).run()
    assert result['version_before'] == '7.5.0' and result['version_after'] == '8.1.0'
    assert len(runner.calls) == 1


def test_from_version_must_match_the_file(tmp_path, home):
    config = make_config(tmp_path / 'cfg', version='7.3.0')
    with pytest.raises(AmUpgradeError, match='from_version 7.2.0 does not match .* which says 7.3.0'):
        upgrade(home, config, from_version='7.2.0', runner=never_runs).run()


def test_unknown_versions_fail_before_anything_runs(tmp_path, home):
    config = make_config(tmp_path / 'cfg', version='7.2.0')
    with pytest.raises(AmUpgradeError, match='to_version 8.0.0') as info:
        upgrade(home, config, to_version='8.0.0', runner=never_runs).run()
    assert info.value.result['version_before'] == '7.2.0'
    with pytest.raises(AmUpgradeError, match='to_version must be a version'):
        upgrade(home, config, to_version='latest', runner=never_runs).run()
    with pytest.raises(AmUpgradeError, match='amster_version must be a version'):
        upgrade(home, config, amster_version='eight', runner=never_runs).run()


def test_missing_rules_file_fails_before_anything_runs(tmp_path, home):
    config = make_config(tmp_path / 'cfg')
    os.unlink(os.path.join(home, FULL_CHAIN[2]))
    with pytest.raises(AmUpgradeError, match='lacks the rules file'):
        upgrade(home, config, runner=never_runs).run()


# --- the whole upgrade with a misbehaving amupgrade ---------------------------------------

@pytest.mark.parametrize('runner, words', [
    (FakeRunner(completed=False), 'did not print "Upgrade Completed ..."'),
    (FakeRunner(version_for={'7.3.x-to-7.4.x.groovy': '7.3.0'}), 'says 7.3.0, not 7.4.x'),
    (FakeRunner(rc=3), 'exited with rc=3'),
    (FakeRunner(timed_out=True, rc=-9), 'did not finish within 600s'),
])
def test_misbehaving_steps_leave_config_untouched(tmp_path, home, runner, words):
    config = make_config(tmp_path / 'cfg')
    before = snapshot(config)
    with pytest.raises(AmUpgradeError) as info:
        upgrade(home, config, runner=runner).run()
    assert words in str(info.value)
    assert snapshot(config) == before
    assert leftovers(str(tmp_path), config) == []


def test_fbc_with_an_upgrader_of_another_release(tmp_path, home):
    config = make_config(tmp_path / 'services', version='7.5.0')
    runner = FakeRunner(version_for={'latest.groovy': '8.2.0'})
    with pytest.raises(AmUpgradeError, match='is amupgrade_home the upgrader for 8.1.0'):
        upgrade(home, config, mode='fbc', runner=runner).run()
    assert read_config_version(config) == '7.5.0'


def test_keep_files_carried_over_and_environment(tmp_path, home):
    config = make_config(tmp_path / 'services', version='7.5.0')
    runner = FakeRunner(drop=('noninteractive-install.properties',))
    result = upgrade(home, config, mode='fbc', runner=runner, java_home='/opt/jdk17', timeout=42).run()
    assert result['kept_files'] == ['noninteractive-install.properties']
    with open(os.path.join(config, 'noninteractive-install.properties')) as handle:
        assert handle.read() == 'DEPLOYMENT_URI=/am\n'
    call = runner.calls[0]
    assert call['env']['JAVA_HOME'] == '/opt/jdk17'
    assert call['env']['PATH'].startswith('/opt/jdk17/bin' + os.pathsep)
    assert call['cwd'] == home and call['timeout'] == 42


def test_modes_of_existing_files_are_kept(tmp_path, home):
    config = make_config(tmp_path / 'cfg', version='7.5.0')
    os.chmod(os.path.join(config, 'realms', 'root', 'realm.json'), 0o600)
    os.chmod(config, 0o750)
    upgrade(home, config).run()
    assert stat.S_IMODE(os.stat(os.path.join(config, 'realms', 'root', 'realm.json')).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o750


def test_failed_second_rename_puts_the_previous_configuration_back(tmp_path, home, monkeypatch):
    config = make_config(tmp_path / 'cfg', version='7.5.0')
    before = snapshot(config)
    real_rename = os.rename
    calls = []

    def rename(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:
            raise OSError(28, 'No space left on device')
        return real_rename(src, dst)

    monkeypatch.setattr(_amupgrade.os, 'rename', rename)
    with pytest.raises(AmUpgradeError, match='the previous configuration was put back'):
        upgrade(home, config).run()
    assert snapshot(config) == before
    assert leftovers(str(tmp_path), config) == []


def test_input_checks(tmp_path, home):
    config = make_config(tmp_path / 'cfg')
    with pytest.raises(AmUpgradeError, match='does not exist'):
        upgrade(home, str(tmp_path / 'missing')).run()
    os.symlink(config, str(tmp_path / 'link'))
    with pytest.raises(AmUpgradeError, match='is a symbolic link'):
        upgrade(home, str(tmp_path / 'link')).run()
    with pytest.raises(AmUpgradeError, match='absolute path'):
        upgrade(home, 'relative/cfg').run()
    with pytest.raises(AmUpgradeError, match='staging_dir .* must not be config_dir'):
        upgrade(home, config, staging_dir=os.path.join(config, 'realms')).run()
    with pytest.raises(AmUpgradeError, match='staging_dir .* does not exist'):
        upgrade(home, config, staging_dir=str(tmp_path / 'nope')).run()
    with pytest.raises(AmUpgradeError, match='timeout must be positive'):
        upgrade(home, config, timeout=0).run()
    with pytest.raises(AmUpgradeError, match='keep_files entries'):
        upgrade(home, config, keep_files=['../etc/passwd']).run()


def test_own_staging_dir_is_used_and_cleaned(tmp_path, home):
    config = make_config(tmp_path / 'cfg', version='7.4.0')
    staging = tmp_path / 'staging'
    staging.mkdir()
    result = upgrade(home, config, staging_dir=str(staging)).run()
    assert result['steps'][0]['command'][4].startswith(str(staging) + os.sep)
    assert os.listdir(str(staging)) == []
    assert read_config_version(config) == '8.1.0'


def test_backup_path_does_not_overwrite(tmp_path):
    config = str(tmp_path / 'cfg')
    first = backup_path(config, 0)
    os.mkdir(first)
    second = backup_path(config, 0)
    assert second != first and second.endswith('-1.bak')
