# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/modules/tomcat_war.py: arguments, bad input, command lines, check mode, diff.

Tomcat is faked at the process boundary: ``AnsibleModule.run_command`` and
``_tomcat.spawn_detached`` are replaced by ``FakeTomcat``, which keeps a running flag and
a PID file like catalina.sh does. Files are real, under tmp_path.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import zipfile

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idmops.lifecycle.plugins.module_utils import _tomcat
from ansible_collections.idmops.lifecycle.plugins.modules import tomcat_war
from ansible_collections.idmops.lifecycle.tests.unit.plugins.modules.utils import run_main


class FakeTomcat:
    """catalina.sh and systemctl as seen by the module: a flag, a PID file, a call log."""

    def __init__(self, pid_file=None, running=False):
        self.pid_file = pid_file
        self.calls = []
        self.set_running(running)

    def set_running(self, running):
        self.running = running
        if self.pid_file:
            if running:
                with open(self.pid_file, 'w') as handle:
                    handle.write('4242\n')
            elif os.path.exists(self.pid_file):
                os.unlink(self.pid_file)

    def run_command(self, argv, environ_update=None, **kwargs):
        self.calls.append(('run', list(argv), dict(environ_update or {})))
        if argv[1] == 'stop':  # catalina.sh stop <n> -force, systemctl stop <unit>
            self.set_running(False)
            return 0, 'Tomcat stopped.\n', ''
        if argv[1] == 'start':
            self.set_running(True)
            return 0, '', ''
        if argv[1] == 'is-active':
            return (0 if self.running else 3), '', ''
        raise AssertionError('unexpected command %r' % (argv,))

    def spawn(self, argv, environ, cwd):
        self.calls.append(('spawn', list(argv), dict(environ)))
        self.set_running(True)
        return 0, 'Tomcat started.\n'

    def commands(self):
        return [argv for _kind, argv, _env in self.calls]


def make_war(path, version):
    with zipfile.ZipFile(str(path), 'w') as archive:
        archive.writestr('index.html', 'version %s\n' % version)
    return str(path)


def sha(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def tree(root):
    found = {}
    for dirpath, dirnames, filenames in os.walk(str(root)):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            found[os.path.relpath(full, str(root))] = sha(full) if os.path.isfile(full) else None
    return found


@pytest.fixture
def lab(tmp_path, monkeypatch):
    base = tmp_path / 'base'
    for sub in ('conf', 'webapps', 'work/Catalina/localhost', 'temp', 'logs'):
        (base / sub).mkdir(parents=True)
    (base / 'conf' / 'server.xml').write_text('<Server/>\n')
    home = tmp_path / 'home'
    (home / 'bin').mkdir(parents=True)
    (home / 'bin' / 'catalina.sh').write_text('#!/bin/sh\nexit 99\n')
    (home / 'bin' / 'catalina.sh').chmod(0o755)
    fake = FakeTomcat(pid_file=str(base / 'temp' / 'catalina.pid'))
    monkeypatch.setattr(AnsibleModule, 'run_command', fake.run_command)
    monkeypatch.setattr(AnsibleModule, 'get_bin_path', lambda self, name, required=False, opt_dirs=None: '/usr/bin/' + name)
    monkeypatch.setattr(_tomcat, 'spawn_detached', fake.spawn)
    # the PID file is real; whether its PID is a Tomcat JVM is the fake's flag
    monkeypatch.setattr(_tomcat.CatalinaControl, '_is_tomcat', lambda self, pid: fake.running)
    return dict(root=tmp_path, base=str(base), home=str(home), fake=fake,
                v1=make_war(tmp_path / 'am-1.war', '1'), v2=make_war(tmp_path / 'am-2.war', '2'),
                dest=str(base / 'webapps' / 'am.war'))


def run_module(args):
    return run_main(tomcat_war.main, args)


def args_for(lab, src, **extra):
    args = dict(src=src, catalina_base=lab['base'], context='am', catalina_home=lab['home'])
    args.update(extra)
    return args


# --- idempotence through the module -------------------------------------------------------

def test_deploy_then_same_war_is_unchanged(lab):
    result, failed = run_module(args_for(lab, lab['v1']))
    assert not failed
    assert result['changed'] is True
    assert result['checksum_after'] == sha(lab['v1']) == sha(lab['dest'])
    result, failed = run_module(args_for(lab, lab['v1']))
    assert not failed
    assert result['changed'] is False
    assert result['restarted'] is False
    assert result['checksum_before'] == result['checksum_after'] == sha(lab['v1'])


def test_context_defaults_to_war_basename(lab):
    src = make_war(lab['root'] / 'portal.war', '1')
    result, failed = run_module(dict(src=src, catalina_base=lab['base'], catalina_home=lab['home']))
    assert not failed
    assert result['context'] == 'portal'
    assert result['deployed'] == os.path.join(lab['base'], 'webapps', 'portal.war')
    assert sha(result['deployed']) == sha(src)


# --- command lines ------------------------------------------------------------------------

def test_catalina_command_lines_and_environment(lab):
    lab['fake'].set_running(True)
    run_module(args_for(lab, lab['v1']))
    script = os.path.join(lab['home'], 'bin', 'catalina.sh')
    environ = dict(CATALINA_HOME=lab['home'], CATALINA_BASE=lab['base'],
                   CATALINA_PID=os.path.join(lab['base'], 'temp', 'catalina.pid'))
    assert lab['fake'].calls == [
        ('run', [script, 'stop', '60', '-force'], environ),
        ('spawn', [script, 'start'], environ),
    ]


def test_catalina_custom_pid_file_and_stop_timeout(lab):
    pid_file = os.path.join(lab['root'], 'run', 'am.pid')
    os.makedirs(os.path.dirname(pid_file))
    lab['fake'].pid_file = pid_file
    lab['fake'].set_running(True)
    run_module(args_for(lab, lab['v1'], pid_file=pid_file, stop_timeout=5))
    kind, argv, environ = lab['fake'].calls[0]
    assert (kind, argv[1:]) == ('run', ['stop', '5', '-force'])
    assert environ['CATALINA_PID'] == pid_file


def test_systemd_command_lines(lab):
    lab['fake'].pid_file = None
    lab['fake'].set_running(True)
    result, failed = run_module(args_for(lab, lab['v1'], control='systemd', service_name='am-tomcat'))
    assert not failed
    assert lab['fake'].commands() == [
        ['/usr/bin/systemctl', 'is-active', '--quiet', 'am-tomcat'],
        ['/usr/bin/systemctl', 'stop', 'am-tomcat'],
        ['/usr/bin/systemctl', 'is-active', '--quiet', 'am-tomcat'],
        ['/usr/bin/systemctl', 'start', 'am-tomcat'],
        ['/usr/bin/systemctl', 'is-active', '--quiet', 'am-tomcat'],
    ]
    assert result['actions'][0] == 'stop Tomcat (/usr/bin/systemctl stop am-tomcat)'
    assert result['actions'][-1] == 'start Tomcat (/usr/bin/systemctl start am-tomcat)'


def test_systemd_does_not_need_catalina_sh(lab):
    lab['fake'].pid_file = None
    result, failed = run_module(args_for(lab, lab['v1'], control='systemd', catalina_home='/nonexistent'))
    assert not failed
    assert result['restarted'] is True


def test_no_restart_does_not_need_catalina_sh(lab):
    result, failed = run_module(args_for(lab, lab['v1'], restart=False, catalina_home='/nonexistent'))
    assert not failed
    assert (result['changed'], result['restarted'], lab['fake'].calls) == (True, False, [])


# --- check mode and diff ------------------------------------------------------------------

def test_check_mode_changes_nothing(lab):
    run_module(args_for(lab, lab['v1']))
    lab['fake'].calls.clear()
    before = tree(lab['root'])
    result, failed = run_module(args_for(lab, lab['v2'], backup=True, _ansible_check_mode=True))
    assert not failed
    assert tree(lab['root']) == before
    assert lab['fake'].calls == []
    assert result['changed'] is True
    assert result['restarted'] is True
    assert result['msg'].startswith('would: back up %s to ' % lab['dest'])
    assert (result['checksum_before'], result['checksum_after']) == (sha(lab['v1']), sha(lab['v2']))


def test_diff_only_when_asked(lab):
    result, _failed = run_module(args_for(lab, lab['v1']))
    assert 'diff' not in result
    result, _failed = run_module(args_for(lab, lab['v2'], _ansible_diff=True))
    assert result['diff']['before'] == dict(path=lab['dest'], checksum=sha(lab['v1']))
    assert result['diff']['after'] == dict(path=lab['dest'], checksum=sha(lab['v2']))


# --- bad input: a clear message naming the parameter, nothing changed ---------------------

def bad_input(lab, **override):
    before = tree(lab['root'])
    args = args_for(lab, lab['v1'])
    args.update(override)
    result, failed = run_module(args)
    assert failed
    assert tree(lab['root']) == before
    assert lab['fake'].calls == []
    return result['msg']


def test_missing_src(lab):
    missing = os.path.join(lab['root'], 'missing.war')
    assert bad_input(lab, src=missing) == 'src %s does not exist' % missing


def test_src_not_a_war(lab):
    text = lab['root'] / 'notes.war'
    text.write_text('plain text\n')
    assert bad_input(lab, src=str(text)).startswith('src %s is not a war (not a zip archive' % text)


def test_catalina_base_missing(lab):
    missing = os.path.join(lab['root'], 'nobase')
    assert bad_input(lab, catalina_base=missing) == 'catalina_base %s does not exist or is not a directory' % missing


def test_catalina_base_without_server_xml(lab):
    os.unlink(os.path.join(lab['base'], 'conf', 'server.xml'))
    assert bad_input(lab) == 'catalina_base %s is not a Tomcat base: %s is missing' % (
        lab['base'], os.path.join(lab['base'], 'conf', 'server.xml'))


def test_catalina_sh_missing(lab):
    os.unlink(os.path.join(lab['home'], 'bin', 'catalina.sh'))
    assert bad_input(lab) == 'catalina_home %s has no bin/catalina.sh (looked for %s)' % (
        lab['home'], os.path.join(lab['home'], 'bin', 'catalina.sh'))


@pytest.mark.parametrize('context', ['a/b', '..', '../etc', 'am.war'])
def test_bad_context(lab, context):
    assert bad_input(lab, context=context).startswith('context ')


def test_bad_host(lab):
    assert bad_input(lab, host='../x').startswith('host ')


@pytest.mark.parametrize('option, value, msg', [
    ('readiness_timeout', -1, 'readiness_timeout must be zero or positive, got -1'),
    ('stop_timeout', -5, 'stop_timeout must be zero or positive, got -5'),
    ('wait_sleep', 0, 'wait_sleep must be positive, got 0.0'),
    ('readiness_status', [], 'readiness_status must name at least one HTTP status'),
    ('readiness_url', 'file:///etc/passwd', "readiness_url must start with http:// or https://, got 'file:///etc/passwd'"),
])
def test_bad_numbers_and_urls(lab, option, value, msg):
    assert bad_input(lab, **{option: value}) == msg


def test_tomcat_state_needs_restart(lab):
    assert bad_input(lab, tomcat_state='stopped', restart=False) == (
        'tomcat_state=stopped needs restart=true: with restart=false Tomcat is never stopped or started')


def test_stopped_state_refuses_a_readiness_url(lab):
    assert bad_input(lab, tomcat_state='stopped', readiness_url='http://127.0.0.1:9/ready') == (
        'readiness_url cannot be used with tomcat_state=stopped: Tomcat is left stopped')


def test_unknown_control_rejected_by_argument_spec(lab):
    msg = bad_input(lab, control='init.d')
    assert 'control' in msg and 'catalina, systemd' in msg


# --- readiness ----------------------------------------------------------------------------

def test_readiness_timeout_fails_with_url_timeout_and_last_error(lab, monkeypatch):
    url = 'http://127.0.0.1:9/am/json/health/ready'
    seen = []

    def refused(u, **kwargs):
        seen.append((u, kwargs['validate_certs']))
        raise urllib.error.URLError(ConnectionRefusedError(111, 'Connection refused'))

    monkeypatch.setattr(_tomcat, 'open_url', refused)
    result, failed = run_module(args_for(lab, lab['v1'], readiness_url=url, readiness_timeout=0,
                                         validate_certs=False))
    assert failed
    assert result['msg'] == (
        'Tomcat did not become ready: timed out after 0s waiting for %s to answer HTTP 200 '
        '(last seen: error: [Errno 111] Connection refused). The new war stays deployed at %s (sha256 %s)'
        % (url, lab['dest'], sha(lab['v1'])))
    assert result['changed'] is True
    assert sha(lab['dest']) == sha(lab['v1'])
    assert seen == [(url, False)]


def test_readiness_status_list(lab, monkeypatch):
    class Response:
        def getcode(self):
            return 302

        def close(self):
            pass

    monkeypatch.setattr(_tomcat, 'open_url', lambda u, **kwargs: Response())
    result, failed = run_module(args_for(lab, lab['v1'], readiness_url='http://127.0.0.1:9/', readiness_status=[200, 302]))
    assert not failed
    assert result['ready_seconds'] >= 0
    assert result['actions'][-1] == 'wait for http://127.0.0.1:9/ to answer HTTP 200 or 302'
