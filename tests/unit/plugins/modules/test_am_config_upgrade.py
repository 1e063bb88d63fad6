# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/modules/am_config_upgrade.py: arguments, check mode, diff, results.

amupgrade is the simulator (tests/simulators/amupgrade.py) laid out as a home under
tmp_path with this Python; configurations are real directories under tmp_path.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idmops.lifecycle.plugins.module_utils import _amupgrade
from ansible_collections.idmops.lifecycle.plugins.modules import am_config_upgrade
from ansible_collections.idmops.lifecycle.tests.unit.plugins.modules.utils import run_main


SIM = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..', '..', 'simulators', 'amupgrade.py'))


def load_sim():
    spec = importlib.util.spec_from_file_location('amupgrade_sim_for_module', SIM)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def lab(tmp_path, monkeypatch):
    monkeypatch.delenv('AMUPGRADE_SIM_FAIL_AT', raising=False)
    home = tmp_path / 'amupgrade'
    load_sim().install_home(str(home), python=sys.executable)
    config = tmp_path / 'am-config'
    (config / 'global').mkdir(parents=True)
    (config / 'global' / 'version.json').write_text('{"version": "7.2.0"}')
    (config / 'realms').mkdir()
    (config / 'realms' / 'root.json').write_text('{"name": "/"}')
    return dict(root=tmp_path, home=str(home), config=str(config))


def run_module(args):
    return run_main(am_config_upgrade.main, args)


def args_for(lab, **extra):
    args = dict(amupgrade_home=lab['home'], config_dir=lab['config'], mode='amster', to_version='8.1.0')
    args.update(extra)
    return args


def version(config):
    with open(os.path.join(config, 'global', 'version.json')) as handle:
        return json.load(handle)['version']


def test_upgrade_then_unchanged_with_diff(lab):
    result, failed = run_module(args_for(lab, _ansible_diff=True))
    assert not failed, result['msg']
    assert result['changed'] is True
    assert (result['version_before'], result['version_after']) == ('7.2.0', '8.1.0')
    assert len(result['steps']) == 4
    assert result['diff'] == dict(before=dict(version='7.2.0'), after=dict(version='8.1.0'),
                                  before_header='%s (global/version.json)' % lab['config'],
                                  after_header='%s (global/version.json)' % lab['config'])
    assert os.path.isdir(result['backup_dir'])
    assert version(lab['config']) == '8.1.0'
    result, failed = run_module(args_for(lab))
    assert not failed
    assert result['changed'] is False
    assert 'diff' not in result


def test_check_mode_plans_without_running(lab):
    result, failed = run_module(args_for(lab, _ansible_check_mode=True, _ansible_diff=True))
    assert not failed
    assert result['changed'] is True
    assert [os.path.basename(step['rules_file']) for step in result['steps']] == [
        '7.2.x-to-7.3.x.groovy', '7.3.x-to-7.4.x.groovy', '7.4.x-to-7.5.x.groovy', '7.5.x-to-8.1.x.groovy']
    assert result['diff']['after'] == {'version': '8.1.0'}
    assert version(lab['config']) == '7.2.0'


def test_failure_returns_the_steps_and_the_stderr(lab, monkeypatch):
    monkeypatch.setenv('AMUPGRADE_SIM_FAIL_AT', '7.3.x-to-7.4.x.groovy')
    result, failed = run_module(args_for(lab))
    assert failed
    assert result['changed'] is False
    assert 'step 2 of 4' in result['msg'] and 'injected failure' in result['msg']
    assert [step['rc'] for step in result['steps']] == [0, 1]
    assert result['steps'][1]['stderr_lines'][0].startswith('ERROR: injected failure')
    assert version(lab['config']) == '7.2.0'


def test_running_am_refused_and_warned_in_check_mode(lab):
    with open(os.path.join(lab['config'], '.am.lock'), 'w') as handle:
        handle.write(str(os.getpid()))
    result, failed = run_module(args_for(lab))
    assert failed and "can't upgrade a running AM" in result['msg']
    assert result['steps'] == []
    warnings = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AnsibleModule, 'warn', lambda self, text: warnings.append(text))
        result, failed = run_module(args_for(lab, _ansible_check_mode=True))
    assert not failed and result['am_running']
    assert warnings and 'would be refused' in warnings[0]


def test_am_pid_file_and_url_options(lab, monkeypatch):
    pid_file = os.path.join(lab['root'], 'catalina.pid')
    with open(pid_file, 'w') as handle:
        handle.write(str(os.getpid()))
    result, failed = run_module(args_for(lab, am_pid_file=pid_file))
    assert failed and 'am_pid_file %s names the live PID' % pid_file in result['msg']

    seen = []

    def probe(url, validate_certs=True, opener=None, timeout=10):
        seen.append((url, validate_certs))
        return True, 'HTTP 200'

    monkeypatch.setattr(am_config_upgrade, 'probe_am_url', probe)
    url = 'https://127.0.0.1:8443/am/json/health/live'
    result, failed = run_module(args_for(lab, am_running_url=url, validate_certs=False))
    assert failed and 'am_running_url %s answers (HTTP 200)' % url in result['msg']
    assert seen == [(url, False)]
    result, failed = run_module(args_for(lab, am_running_url='127.0.0.1:8080/am'))
    assert failed and 'must start with http://' in result['msg']


@pytest.mark.parametrize('extra, words', [
    (dict(mode='ldif'), 'value of mode must be one of'),
    (dict(to_version=None), 'missing required arguments: to_version'),
    (dict(to_version='8.0.0'), 'to_version 8.0.0'),
    (dict(from_version='7.3.0'), 'does not match'),
    (dict(timeout=-1), 'timeout must be positive'),
])
def test_bad_arguments(lab, extra, words):
    args = args_for(lab, **extra)
    args = {key: value for key, value in args.items() if value is not None}
    result, failed = run_module(args)
    assert failed
    assert words in result['msg']
    assert version(lab['config']) == '7.2.0'


def test_argument_spec_matches_the_utils_defaults():
    spec = am_config_upgrade.argument_spec()
    assert spec['keep_files']['default'] == list(_amupgrade.DEFAULT_KEEP_FILES)
    assert spec['mode']['choices'] == list(_amupgrade.MODES)
    assert spec['backup']['default'] is True
