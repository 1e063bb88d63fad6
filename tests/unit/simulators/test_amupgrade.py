# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the amupgrade simulator (tests/simulators/amupgrade.py), through its command line.

The script is imported by path for ``install_home``; every amupgrade run is a real process
(``python amupgrade.py ...`` or an installed home's ``amupgrade`` wrapper), so exit codes,
stdout and stderr are what a caller sees.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest


SIM = os.path.normpath(os.path.join(os.path.dirname(__file__), '..', '..', 'simulators', 'amupgrade.py'))
AMSTER_RULES = ('7.2.x-to-7.3.x.groovy', '7.3.x-to-7.4.x.groovy', '7.4.x-to-7.5.x.groovy', '7.5.x-to-8.1.x.groovy')


def load_sim():
    spec = importlib.util.spec_from_file_location('amupgrade_sim_under_test', SIM)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sim = load_sim()


@pytest.fixture
def home(tmp_path):
    path = tmp_path / 'amupgrade-home'
    sim.install_home(str(path), python=sys.executable)
    return path


def make_config(path, version='7.2.0', extra=None):
    (path / 'global').mkdir(parents=True)
    if version is not None:
        (path / 'global' / 'version.json').write_text(json.dumps({'version': version}))
    (path / 'realms' / 'root' / 'OAuth2Clients').mkdir(parents=True)
    (path / 'realms' / 'root' / 'OAuth2Clients' / 'client1.json').write_text(
        json.dumps({'_id': 'client1', 'scopes': ['openid', 'profile']}))
    (path / 'noninteractive-install.properties').write_text('DEPLOYMENT_URI=/am\n')
    for rel, text in (extra or {}).items():
        (path / rel).write_text(text)
    return path


def run(argv, cwd=None, env_extra=None, wrapper=None):
    env = dict(os.environ)
    env.pop('AMUPGRADE_SIM_FAIL_AT', None)
    env.update(env_extra or {})
    command = [str(wrapper)] if wrapper else [sys.executable, SIM]
    proc = subprocess.run(command + [str(a) for a in argv], cwd=cwd, env=env, capture_output=True,
                          text=True, encoding='utf-8', timeout=60, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def rules(home, name):
    kind = 'fbc' if name == 'latest.groovy' else 'amster'
    return str(home / 'rules' / kind / name)


def version_of(config):
    with open(os.path.join(str(config), 'global', 'version.json')) as handle:
        return json.load(handle)['version']


def tree(root):
    found = {}
    for dirpath, _dirs, files in os.walk(str(root)):
        for name in files:
            path = os.path.join(dirpath, name)
            with open(path, 'rb') as handle:
                found[os.path.relpath(path, str(root))] = handle.read()
    return found


# --- the home -----------------------------------------------------------------------------

def test_install_home_lays_out_wrapper_and_rules(home):
    wrapper = home / 'amupgrade'
    assert os.access(str(wrapper), os.X_OK)
    assert wrapper.read_text().startswith('#!/bin/sh\n')
    assert sys.executable in wrapper.read_text()
    for name in AMSTER_RULES:
        text = (home / 'rules' / 'amster' / name).read_text()
        assert text.startswith('// rules/amster/%s' % name)
    assert (home / 'rules' / 'fbc' / 'latest.groovy').read_text().startswith('// rules/fbc/latest.groovy')
    assert (home / 'lib' / 'amupgrade_sim.py').is_file()


def test_install_home_command_line_and_default_python(tmp_path):
    rc, out, _err = run(['--install-home', tmp_path / 'h'])
    assert rc == 0 and 'laid out' in out
    assert 'exec /usr/bin/python3 ' in (tmp_path / 'h' / 'amupgrade').read_text()
    rc, _out, err = run(['--install-home'])
    assert rc == 2 and 'usage' in err
    with pytest.raises(ValueError):
        sim.install_home(str(tmp_path / 'x'), python='python3')


def test_install_home_twice_is_fine_and_home_is_relocatable(tmp_path, home):
    sim.install_home(str(home), python=sys.executable)
    moved = tmp_path / 'moved'
    os.rename(str(home), str(moved))
    config = make_config(tmp_path / 'cfg')
    rc, out, err = run(['-i', config, '-o', tmp_path / 'out', '-a', '8.1.0', rules(moved, AMSTER_RULES[0])],
                       wrapper=moved / 'amupgrade')
    assert rc == 0, err
    assert 'Upgrade Completed' in out


def test_wrapper_refuses_the_sim_only_install_mode(tmp_path, home):
    rc, out, err = run(['--install-home', tmp_path / 'other'], wrapper=home / 'amupgrade')
    assert rc == 2
    assert 'unknown option --install-home' in err
    assert out == ''
    assert not (tmp_path / 'other').exists()


# --- success ------------------------------------------------------------------------------

def test_one_amster_step_prints_the_documented_lines(tmp_path, home):
    config = make_config(tmp_path / 'cfg')
    out_dir = tmp_path / 'out'
    rule = rules(home, '7.2.x-to-7.3.x.groovy')
    rc, out, err = run(['-i', config, '-o', out_dir, '-a', '8.1.0', rule], wrapper=home / 'amupgrade')
    assert rc == 0, err
    assert err == ''
    assert out.splitlines() == [
        'Reading existing configuration from files in %s…' % config,
        'Modifying configuration based on rules in [%s]…' % rule,
        'reading configuration from Amster json files',
        'Writing configuration to new location at %s…' % out_dir,
        'Upgrade Completed, modified configuration saved to %s' % out_dir,
    ]
    assert version_of(out_dir) == '7.3.0'
    assert version_of(config) == '7.2.0'
    history = json.loads((out_dir / 'global' / '_upgrade-history.json').read_text())
    assert history == [{'from': '7.2.0', 'to': '7.3.0', 'rules': '7.2.x-to-7.3.x.groovy',
                        'tool': 'amupgrade-simulator 8.1.0', 'amsterVersion': '8.1.0', 'fileBasedMode': False}]
    before, after = tree(config), tree(out_dir)
    for rel in ('realms/root/OAuth2Clients/client1.json', 'noninteractive-install.properties'):
        assert after[rel] == before[rel]


def test_several_rules_in_one_run_apply_in_order(tmp_path, home):
    config = make_config(tmp_path / 'cfg')
    argv = ['--inputConfig', config, '--output', tmp_path / 'out', '--amsterVersion', '8.1.0', '-v']
    argv += [rules(home, name) for name in AMSTER_RULES]
    rc, out, err = run(argv)
    assert rc == 0, err
    assert version_of(tmp_path / 'out') == '8.1.0'
    assert 'Applied %s: 7.2.0 -> 7.3.0' % rules(home, AMSTER_RULES[0]) in out
    assert 'Applied %s: 7.5.0 -> 8.1.0' % rules(home, AMSTER_RULES[3]) in out
    history = json.loads((tmp_path / 'out' / 'global' / '_upgrade-history.json').read_text())
    assert [entry['to'] for entry in history] == ['7.3.0', '7.4.0', '7.5.0', '8.1.0']


def test_patch_level_counts_as_its_minor_and_other_keys_stay(tmp_path, home):
    config = make_config(tmp_path / 'cfg', version=None)
    (config / 'global' / 'version.json').write_text(json.dumps({'version': '7.5.3', 'build': 'abc'}))
    rc, _out, err = run(['-i', config, '-o', tmp_path / 'out', '-a', '8.1.0', rules(home, AMSTER_RULES[3])])
    assert rc == 0, err
    document = json.loads((tmp_path / 'out' / 'global' / 'version.json').read_text())
    assert document == {'version': '8.1.0', 'build': 'abc'}


def test_fbc_latest_with_and_without_version(tmp_path, home):
    config = make_config(tmp_path / 'cfg', version=None)
    latest = rules(home, 'latest.groovy')
    rc, out, err = run(['-i', config, '-o', tmp_path / 'out', '--fileBasedMode', latest, '--ignoreNoRuleTracking'])
    assert rc == 0, err
    assert 'reading configuration from Amster json files' not in out
    assert out.splitlines()[-1] == 'Upgrade Completed, modified configuration saved to %s' % (tmp_path / 'out')
    assert version_of(tmp_path / 'out') == '8.1.0'
    versioned = make_config(tmp_path / 'cfg2', version='7.4.1')
    rc, _out, err = run(['-i', versioned, '-o', tmp_path / 'out2', '-m', latest])
    assert rc == 0, err
    assert version_of(tmp_path / 'out2') == '8.1.0'


def test_clean_default_empties_output_and_false_keeps(tmp_path, home):
    config = make_config(tmp_path / 'cfg')
    out_dir = tmp_path / 'out'
    out_dir.mkdir()
    (out_dir / 'stale.json').write_text('{}')
    rule = rules(home, AMSTER_RULES[0])
    rc, _out, err = run(['-i', config, '-o', out_dir, '-a', '8.1.0', '--clean', 'false', rule])
    assert rc == 0, err
    assert (out_dir / 'stale.json').exists()
    rc, _out, err = run(['-i', config, '-o', out_dir, '-a', '8.1.0', '--clean=true', rule])
    assert rc == 0, err
    assert not (out_dir / 'stale.json').exists()
    (out_dir / 'stale.json').write_text('{}')
    rc, _out, err = run(['-i', config, '-o', out_dir, '-a', '8.1.0', rule])
    assert rc == 0, err
    assert not (out_dir / 'stale.json').exists()


def test_pretty_arrays(tmp_path, home):
    config = make_config(tmp_path / 'cfg')
    rule = rules(home, AMSTER_RULES[0])
    run(['-i', config, '-o', tmp_path / 'compact', '-a', '8.1.0', rule])
    run(['-i', config, '-o', tmp_path / 'pretty', '-a', '8.1.0', '--prettyArrays', rule])
    compact = (tmp_path / 'compact' / 'global' / '_upgrade-history.json').read_text()
    pretty = (tmp_path / 'pretty' / 'global' / '_upgrade-history.json').read_text()
    assert compact.count('\n') == 1
    assert pretty.count('\n') > 5
    assert json.loads(compact) == json.loads(pretty)


def test_stale_lock_is_ignored_and_not_copied(tmp_path, home):
    config = make_config(tmp_path / 'cfg')
    dead = subprocess.Popen([sys.executable, '-c', 'pass'])
    dead.wait()
    (config / '.am.lock').write_text('%d\n' % dead.pid)
    rc, _out, err = run(['-i', config, '-o', tmp_path / 'out', '-a', '8.1.0', rules(home, AMSTER_RULES[0])])
    assert rc == 0, err
    assert not (tmp_path / 'out' / '.am.lock').exists()


# --- refusals: nothing written ------------------------------------------------------------

@pytest.mark.parametrize('argv_tail, code, message', [
    (['--bogus'], 2, 'unknown option --bogus'),
    (['-x'], 2, 'unknown option -x'),
    (['--inputconfig', 'x'], 2, 'unknown option --inputconfig'),
    (['-v', '-v'], 2, 'more than once'),
    (['--clean', 'maybe'], 2, None),
    (['--clean=maybe'], 2, 'true or false'),
    (['--prettyArrays=yes'], 2, 'takes no value'),
])
def test_bad_options(tmp_path, home, argv_tail, code, message):
    config = make_config(tmp_path / 'cfg')
    argv = ['-i', config, '-o', tmp_path / 'out', '-a', '8.1.0', rules(home, AMSTER_RULES[0])] + argv_tail
    rc, out, err = run(argv)
    assert rc == code
    assert out == ''
    assert err.startswith('ERROR: ')
    if message:
        assert message in err
    assert not (tmp_path / 'out').exists()


def test_missing_required_options(tmp_path, home):
    config = make_config(tmp_path / 'cfg')
    rule = rules(home, AMSTER_RULES[0])
    cases = [
        (['-o', tmp_path / 'out', '-a', '8.1.0', rule], '-i/--inputConfig'),
        (['-i', config, '-a', '8.1.0', rule], '-o/--output'),
        (['-i', config, '-o', tmp_path / 'out', rule], '-a/--amsterVersion'),
        (['-i', config, '-o', tmp_path / 'out', '-a', '8.1.0'], 'no rules file'),
        (['-i', config, '-o', tmp_path / 'out', '-a', 'latest', rule], 'must be a version'),
        (['-i', config, '-o', tmp_path / 'out', '-a'], 'needs a value'),
    ]
    for argv, message in cases:
        rc, out, err = run(argv)
        assert rc == 2, argv
        assert message in err, (argv, err)
        assert out == ''
        assert not (tmp_path / 'out').exists()


def test_rules_file_missing_or_unknown(tmp_path, home):
    config = make_config(tmp_path / 'cfg')
    base = ['-i', config, '-o', tmp_path / 'out', '-a', '8.1.0']
    os.unlink(rules(home, AMSTER_RULES[1]))
    rc, _out, err = run(base + [rules(home, AMSTER_RULES[0]), rules(home, AMSTER_RULES[1])])
    assert rc == 2
    assert 'rules file %s does not exist' % rules(home, AMSTER_RULES[1]) in err
    odd = home / 'rules' / 'amster' / '7.5.x-to-8.0.x.groovy'
    odd.write_text('// not a rule\n')
    rc, _out, err = run(base + [odd])
    assert rc == 2
    assert 'is not a known rules file' in err
    assert not (tmp_path / 'out').exists()


def test_step_must_start_at_the_configuration_minor(tmp_path, home):
    config = make_config(tmp_path / 'cfg', version='7.2.0')
    rc, out, err = run(['-i', config, '-o', tmp_path / 'out', '-a', '8.1.0', rules(home, '7.5.x-to-8.1.x.groovy')])
    assert rc == 1
    assert out == ''
    assert '7.5.x' in err and '7.2.0' in err
    assert not (tmp_path / 'out').exists()


def test_a_gap_in_the_middle_of_several_rules_writes_nothing(tmp_path, home):
    config = make_config(tmp_path / 'cfg', version='7.2.0')
    argv = ['-i', config, '-o', tmp_path / 'out', '-a', '8.1.0',
            rules(home, AMSTER_RULES[0]), rules(home, AMSTER_RULES[2])]
    rc, _out, err = run(argv)
    assert rc == 1
    assert '7.4.x' in err and '7.3.0' in err
    assert not (tmp_path / 'out').exists()


def test_modes_and_rules_must_match(tmp_path, home):
    config = make_config(tmp_path / 'cfg')
    rc, _out, err = run(['-i', config, '-o', tmp_path / 'out', '-a', '8.1.0', rules(home, 'latest.groovy')])
    assert rc == 2 and '--fileBasedMode' in err
    rc, _out, err = run(['-i', config, '-o', tmp_path / 'out', '-m', rules(home, AMSTER_RULES[0])])
    assert rc == 2 and 'Amster export' in err
    rc, _out, err = run(['-i', config, '-o', tmp_path / 'out', '-m', '--ignoreNoRuleTracking',
                         rules(home, 'latest.groovy'), rules(home, 'latest.groovy')])
    assert rc == 2 and 'exactly one rules file' in err
    assert not (tmp_path / 'out').exists()


def test_fbc_without_version_needs_ignore_no_rule_tracking(tmp_path, home):
    config = make_config(tmp_path / 'cfg', version=None)
    rc, _out, err = run(['-i', config, '-o', tmp_path / 'out', '-m', rules(home, 'latest.groovy')])
    assert rc == 1
    assert 'carries no version' in err and '--ignoreNoRuleTracking' in err
    assert not (tmp_path / 'out').exists()


def test_running_am_is_refused(tmp_path, home):
    config = make_config(tmp_path / 'cfg')
    (config / '.am.lock').write_text('%d\n' % os.getpid())
    rc, out, err = run(['-i', config, '-o', tmp_path / 'out', '-a', '8.1.0', rules(home, AMSTER_RULES[0])])
    assert rc == 1
    assert out == ''
    assert "can't upgrade a running AM" in err and str(os.getpid()) in err
    assert not (tmp_path / 'out').exists()


def test_injected_failure(tmp_path, home):
    config = make_config(tmp_path / 'cfg')
    argv = ['-i', config, '-o', tmp_path / 'out', '-a', '8.1.0'] + [rules(home, name) for name in AMSTER_RULES]
    rc, out, err = run(argv, env_extra={'AMUPGRADE_SIM_FAIL_AT': AMSTER_RULES[2]})
    assert rc == 1
    assert out == ''
    assert 'injected failure applying %s' % rules(home, AMSTER_RULES[2]) in err
    assert not (tmp_path / 'out').exists()
    rc, _out, err = run(argv, env_extra={'AMUPGRADE_SIM_FAIL_AT': 'latest.groovy'})
    assert rc == 0, err


def test_bad_configuration_contents(tmp_path, home):
    rule = rules(home, AMSTER_RULES[0])
    broken = make_config(tmp_path / 'broken', extra={'realms/root/bad.json': '{"unterminated": '})
    rc, _out, err = run(['-i', broken, '-o', tmp_path / 'out', '-a', '8.1.0', rule])
    assert rc == 1 and 'bad.json is not valid JSON' in err
    odd = make_config(tmp_path / 'odd', version='seven')
    rc, _out, err = run(['-i', odd, '-o', tmp_path / 'out', '-a', '8.1.0', rule])
    assert rc == 1 and "'seven'" in err
    newer = make_config(tmp_path / 'newer', version='8.2.0')
    rc, _out, err = run(['-i', newer, '-o', tmp_path / 'out', '-m', rules(home, 'latest.groovy')])
    assert rc == 1 and 'newer than this amupgrade' in err
    rc, _out, err = run(['-i', tmp_path / 'missing', '-o', tmp_path / 'out', '-a', '8.1.0', rule])
    assert rc == 2 and 'does not exist' in err
    assert not (tmp_path / 'out').exists()


def test_output_must_not_overlap_the_input(tmp_path, home):
    config = make_config(tmp_path / 'cfg')
    rule = rules(home, AMSTER_RULES[0])
    for out_dir in (config, config / 'sub', tmp_path):
        rc, _out, err = run(['-i', config, '-o', out_dir, '-a', '8.1.0', rule])
        assert rc == 2 and 'must not be the input' in err
    assert not (config / 'sub').exists()
    assert version_of(config) == '7.2.0'


def test_help(home):
    rc, out, _err = run(['--help'])
    assert rc == 0
    assert 'usage: amupgrade' in out and 'exit codes' in out
