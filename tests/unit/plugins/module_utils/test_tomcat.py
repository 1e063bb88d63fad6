# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/_tomcat.py on a fake CATALINA_BASE under tmp_path."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import time
import urllib.error
import zipfile

import pytest

from ansible_collections.idmops.lifecycle.plugins.module_utils import _tomcat
from ansible_collections.idmops.lifecycle.plugins.module_utils._tomcat import (
    CatalinaControl,
    HttpReadiness,
    SystemdControl,
    TomcatError,
    WarDeployment,
    backup_path,
    catalina_script,
    check_catalina_base,
    check_war,
    default_context,
    install_atomic,
    sha256_file,
    validate_context,
    validate_name,
)
from ansible_collections.idmops.lifecycle.plugins.module_utils._wait import WaitTimeout


# --- helpers ------------------------------------------------------------------------------

def make_war(path, version):
    with zipfile.ZipFile(str(path), 'w') as archive:
        archive.writestr('index.html', '<html><body>version %s</body></html>\n' % version)
        archive.writestr('WEB-INF/web.xml', '<web-app/>\n')
    return str(path)


def sha(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def make_base(root):
    base = root / 'base'
    for sub in ('conf', 'webapps', 'work/Catalina/localhost', 'temp', 'logs'):
        (base / sub).mkdir(parents=True)
    (base / 'conf' / 'server.xml').write_text('<Server/>\n')
    return base


def snapshot(root):
    """Every path under root with its content hash (files) or None (dirs): a change detector."""
    seen = {}
    for dirpath, dirnames, filenames in os.walk(str(root)):
        for name in dirnames:
            seen[os.path.relpath(os.path.join(dirpath, name), str(root))] = None
        for name in filenames:
            full = os.path.join(dirpath, name)
            seen[os.path.relpath(full, str(root))] = (sha(full), os.stat(full).st_mtime_ns, os.stat(full).st_ino)
    return seen


class FakeControl:
    """Tomcat as a flag; records each call with the state of the files at that moment."""

    name = 'fake'

    def __init__(self, deployment_paths, running=False, fail_start=False):
        self.running = running
        self.fail_start = fail_start
        self.calls = []
        self.paths = deployment_paths

    def _state(self):
        dest, exploded, work = self.paths
        return dict(
            war=sha(dest) if os.path.exists(dest) else None,
            exploded=os.path.exists(exploded),
            work=os.path.exists(work),
        )

    def stop_command(self):
        return ['fake', 'stop']

    def start_command(self):
        return ['fake', 'start']

    def is_running(self):
        self.calls.append(('is_running', None))
        return self.running

    def stop(self):
        self.calls.append(('stop', self._state()))
        self.running = False

    def start(self):
        self.calls.append(('start', self._state()))
        if self.fail_start:
            raise TomcatError('fake start failed')
        self.running = True

    def actions(self):
        return [name for name, _state in self.calls if name != 'is_running']


class FakeReadiness:
    def __init__(self, seconds=None, timeout_last=None):
        self.seconds = seconds
        self.timeout_last = timeout_last
        self.waits = 0

    def describe(self):
        return 'http://127.0.0.1:1/am/ready to answer HTTP 200'

    def wait(self):
        self.waits += 1
        if self.timeout_last is not None:
            raise WaitTimeout(self.describe(), 7, self.timeout_last)
        return self.seconds


@pytest.fixture
def env(tmp_path):
    base = make_base(tmp_path)
    v1 = make_war(tmp_path / 'am-1.war', '1.0')
    v2 = make_war(tmp_path / 'am-2.war', '2.0')
    return dict(root=tmp_path, base=str(base), v1=v1, v2=v2,
                dest=str(base / 'webapps' / 'am.war'),
                exploded=str(base / 'webapps' / 'am'),
                work=str(base / 'work' / 'Catalina' / 'localhost' / 'am'))


def deployment(env, src, running=False, **kwargs):
    control = kwargs.pop('control', None) or FakeControl((env['dest'], env['exploded'], env['work']), running=running)
    kwargs.setdefault('now', lambda: 1714558500.0)
    return WarDeployment(src, env['base'], 'am', control, **kwargs), control


def deploy_exploded(env, src):
    """Put ``src`` in place as if Tomcat had deployed and expanded it earlier."""
    with open(src, 'rb') as inp, open(env['dest'], 'wb') as out:
        out.write(inp.read())
    os.makedirs(os.path.join(env['exploded'], 'WEB-INF'))
    with open(os.path.join(env['exploded'], 'index.html'), 'w') as handle:
        handle.write('old exploded\n')
    os.makedirs(os.path.join(env['work'], 'org', 'apache', 'jsp'))


# --- inputs -------------------------------------------------------------------------------

def test_sha256_file_known_value(tmp_path):
    path = tmp_path / 'abc'
    path.write_bytes(b'abc')
    assert sha256_file(str(path)) == 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'


def test_sha256_file_reads_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(_tomcat, 'CHUNK_SIZE', 7)
    data = os.urandom(1000)
    path = tmp_path / 'blob'
    path.write_bytes(data)
    assert sha256_file(str(path)) == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize('context', ['am', 'ROOT', 'a#b', 'am-8.1.0', 'openam_1'])
def test_validate_context_accepts(context):
    assert validate_context(context) == context


@pytest.mark.parametrize('context, fragment', [
    ('', 'must not be empty'),
    ('a/b', 'without slashes'),
    ('a\\b', 'without slashes'),
    ('..', "must not contain '..'"),
    ('x..y', "must not contain '..'"),
    ('.', "must not contain '..' or be '.'"),
    ('am.war', "the name without .war (e.g. 'am')"),
])
def test_validate_context_rejects(context, fragment):
    with pytest.raises(TomcatError) as info:
        validate_context(context)
    assert str(info.value).startswith('context ')
    assert fragment in str(info.value)


def test_validate_name_names_the_option():
    with pytest.raises(TomcatError, match=r"^host must be a single name without slashes, got 'a/b'$"):
        validate_name('a/b', 'host')


@pytest.mark.parametrize('src, context', [('/x/am.war', 'am'), ('/x/AM.WAR', 'AM'), ('ROOT.war', 'ROOT'),
                                          ('/x/am-8.1.0.war', 'am-8.1.0')])
def test_default_context(src, context):
    assert default_context(src) == context


@pytest.mark.parametrize('src', ['/x/am.zip', '/x/.war', '/x/am'])
def test_default_context_needs_war_suffix(src):
    with pytest.raises(TomcatError, match='context is required when src does not end in .war'):
        default_context(src)


def test_check_war_accepts_a_war(env):
    check_war(env['v1'])


def test_check_war_missing(tmp_path):
    missing = str(tmp_path / 'nope.war')
    with pytest.raises(TomcatError) as info:
        check_war(missing)
    assert str(info.value) == 'src %s does not exist' % missing


def test_check_war_directory(tmp_path):
    with pytest.raises(TomcatError, match='is not a regular file'):
        check_war(str(tmp_path))


def test_check_war_not_a_zip(tmp_path):
    path = tmp_path / 'text.war'
    path.write_text('this is not a zip\n')
    with pytest.raises(TomcatError) as info:
        check_war(str(path))
    assert str(info.value).startswith('src %s is not a war (not a zip archive' % path)


def test_check_war_empty_zip(tmp_path):
    path = tmp_path / 'empty.war'
    zipfile.ZipFile(str(path), 'w').close()
    with pytest.raises(TomcatError, match='is an empty zip archive, not a war'):
        check_war(str(path))


def test_check_war_unreadable(tmp_path, monkeypatch):
    path = make_war(tmp_path / 'am.war', '1')
    real_access = os.access
    monkeypatch.setattr(_tomcat.os, 'access', lambda p, mode: False if p == path else real_access(p, mode))
    with pytest.raises(TomcatError, match='^src %s is not readable$' % path):
        check_war(path)


def test_check_catalina_base(tmp_path):
    missing = str(tmp_path / 'missing')
    with pytest.raises(TomcatError, match='^catalina_base %s does not exist or is not a directory$' % missing):
        check_catalina_base(missing)
    (tmp_path / 'b' / 'webapps').mkdir(parents=True)
    with pytest.raises(TomcatError, match=r'is not a Tomcat base: .*/b/conf/server.xml is missing'):
        check_catalina_base(str(tmp_path / 'b'))
    base = make_base(tmp_path / 'ok')
    check_catalina_base(str(base))
    os.rmdir(str(base / 'webapps'))
    with pytest.raises(TomcatError, match=r'is not a Tomcat base: .*/ok/base/webapps is missing'):
        check_catalina_base(str(base))


def test_catalina_script(tmp_path):
    with pytest.raises(TomcatError, match='^catalina_home %s has no bin/catalina.sh' % tmp_path):
        catalina_script(str(tmp_path))
    script = tmp_path / 'bin' / 'catalina.sh'
    script.parent.mkdir()
    script.write_text('#!/bin/sh\n')
    script.chmod(0o644)
    if os.geteuid() != 0:
        with pytest.raises(TomcatError, match='is not executable'):
            catalina_script(str(tmp_path))
    script.chmod(0o755)
    assert catalina_script(str(tmp_path)) == str(script)


# --- catalina.sh and systemd control ------------------------------------------------------

class RecordingRunner:
    def __init__(self, answers=None):
        self.calls = []
        self.answers = answers or {}

    def __call__(self, argv, environ_update=None, **kwargs):
        self.calls.append((list(argv), dict(environ_update or {})))
        return self.answers.get(tuple(argv), (0, '', ''))


def dead_pid():
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def catalina(tmp_path, run=None, spawn=None, proc_root=None):
    return CatalinaControl(run or RecordingRunner(), '/usr/share/tomcat10', str(tmp_path / 'base'),
                           str(tmp_path / 'catalina.pid'), 45, spawn=spawn,
                           proc_root=str(proc_root or tmp_path / 'proc'))


def fake_proc(tmp_path, pid, cmdline):
    entry = tmp_path / 'proc' / str(pid)
    entry.mkdir(parents=True)
    entry.joinpath('cmdline').write_bytes(cmdline)


def test_catalina_command_lines_and_environment(tmp_path):
    control = catalina(tmp_path)
    assert control.stop_command() == ['/usr/share/tomcat10/bin/catalina.sh', 'stop', '45', '-force']
    assert control.start_command() == ['/usr/share/tomcat10/bin/catalina.sh', 'start']
    assert control.environ == {
        'CATALINA_HOME': '/usr/share/tomcat10',
        'CATALINA_BASE': str(tmp_path / 'base'),
        'CATALINA_PID': str(tmp_path / 'catalina.pid'),
    }


def test_catalina_is_running(tmp_path):
    control = catalina(tmp_path)
    pid_file = tmp_path / 'catalina.pid'
    assert control.is_running() is False            # no PID file
    pid_file.write_text('garbage\n')
    assert control.is_running() is False
    pid_file.write_text('%d\n' % dead_pid())
    assert control.is_running() is False            # stale
    me = os.getpid()
    pid_file.write_text('%d\n' % me)
    fake_proc(tmp_path, me, b'/usr/bin/python3\x00-m\x00pytest\x00')
    assert control.is_running() is False            # reused PID, not Tomcat
    (tmp_path / 'proc' / str(me) / 'cmdline').write_bytes(
        b'java\x00-Dcatalina.base=/b\x00org.apache.catalina.startup.Bootstrap\x00start\x00')
    assert control.is_running() is True


def test_catalina_is_running_without_proc(tmp_path):
    control = catalina(tmp_path, proc_root=tmp_path / 'no-proc-here')
    (tmp_path / 'catalina.pid').write_text('%d' % os.getpid())
    assert control.is_running() is True


def test_catalina_stop_runs_catalina_sh_with_environment(tmp_path):
    pid_file = tmp_path / 'catalina.pid'

    class Runner(RecordingRunner):
        def __call__(self, argv, environ_update=None, **kwargs):
            pid_file.unlink()  # catalina.sh stop removes the PID file once the JVM is gone
            return super().__call__(argv, environ_update, **kwargs)

    run = Runner()
    pid_file.write_text(str(os.getpid()))
    fake_proc(tmp_path, os.getpid(), b'java\x00org.apache.catalina.startup.Bootstrap\x00')
    control = catalina(tmp_path, run=run)
    control.stop()
    assert run.calls == [(['/usr/share/tomcat10/bin/catalina.sh', 'stop', '45', '-force'], control.environ)]


def test_catalina_stop_fails_when_still_running(tmp_path):
    (tmp_path / 'catalina.pid').write_text(str(os.getpid()))
    fake_proc(tmp_path, os.getpid(), b'java\x00org.apache.catalina.startup.Bootstrap\x00')
    run = RecordingRunner({('/usr/share/tomcat10/bin/catalina.sh', 'stop', '45', '-force'): (1, 'Tomcat did not stop in time.', '')})
    with pytest.raises(TomcatError) as info:
        catalina(tmp_path, run=run).stop()
    assert 'Tomcat still runs (PID file %s)' % (tmp_path / 'catalina.pid') in str(info.value)
    assert '(rc=1): Tomcat did not stop in time.' in str(info.value)


def test_catalina_start_spawns_detached_and_clears_stale_pid(tmp_path):
    pid_file = tmp_path / 'catalina.pid'
    pid_file.write_text(str(dead_pid()))
    spawned = []

    def spawn(argv, environ, cwd):
        spawned.append((argv, environ, cwd, pid_file.exists()))
        pid_file.write_text(str(os.getpid()))
        fake_proc(tmp_path, os.getpid(), b'java\x00org.apache.catalina.startup.Bootstrap\x00start\x00')
        return 0, 'Tomcat started.\n'

    control = catalina(tmp_path, spawn=spawn)
    control.start()
    assert spawned == [(['/usr/share/tomcat10/bin/catalina.sh', 'start'], control.environ,
                        str(tmp_path / 'base'), False)]
    assert control.is_running() is True


def test_catalina_start_failure_names_command_and_log(tmp_path):
    control = catalina(tmp_path, spawn=lambda argv, environ, cwd: (1, 'Start aborted.\n'))
    with pytest.raises(TomcatError) as info:
        control.start()
    assert str(info.value) == (
        '/usr/share/tomcat10/bin/catalina.sh start failed (rc=1, PID file %s): Start aborted.; see %s'
        % (tmp_path / 'catalina.pid', tmp_path / 'base' / 'logs' / 'catalina.out'))


def test_spawn_detached_new_session_devnull_stdin(tmp_path):
    script = ('import os, sys; print(os.getsid(0) == os.getpid(), sys.stdin.read() == "", '
              'os.environ["CATALINA_BASE"], os.getcwd())')
    rc, out = _tomcat.spawn_detached([sys.executable, '-c', script], {'CATALINA_BASE': '/x/base'}, str(tmp_path))
    assert rc == 0
    assert out.split() == ['True', 'True', '/x/base', str(tmp_path)]


def test_spawn_detached_timeout(tmp_path):
    with pytest.raises(TomcatError, match='did not return within 0.2s'):
        _tomcat.spawn_detached([sys.executable, '-c', 'import time; time.sleep(30)'], {}, str(tmp_path), timeout=0.2)


def test_systemd_command_lines():
    run = RecordingRunner({('/bin/systemctl', 'is-active', '--quiet', 'tomcat10'): (3, '', '')})
    control = SystemdControl(run, 'tomcat10', systemctl='/bin/systemctl')
    assert control.stop_command() == ['/bin/systemctl', 'stop', 'tomcat10']
    assert control.start_command() == ['/bin/systemctl', 'start', 'tomcat10']
    assert control.is_running() is False
    control.stop()
    assert [argv for argv, _env in run.calls] == [
        ['/bin/systemctl', 'is-active', '--quiet', 'tomcat10'],
        ['/bin/systemctl', 'stop', 'tomcat10'],
        ['/bin/systemctl', 'is-active', '--quiet', 'tomcat10'],
    ]


def test_systemd_start_failure_and_inactive_after_start():
    run = RecordingRunner({('systemctl', 'start', 'am'): (1, '', 'Job for am.service failed.')})
    with pytest.raises(TomcatError, match=r'^systemctl start am failed \(rc=1\): Job for am.service failed.$'):
        SystemdControl(run, 'am').start()
    run = RecordingRunner({('systemctl', 'is-active', '--quiet', 'am'): (3, '', '')})
    with pytest.raises(TomcatError, match='^systemctl start am returned but am is not active$'):
        SystemdControl(run, 'am').start()


# --- readiness ----------------------------------------------------------------------------

class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.pauses = []

    def clock(self):
        return self.now

    def pause(self, seconds):
        self.pauses.append(seconds)
        self.now += seconds


class FakeResponse:
    def __init__(self, status):
        self.status = status
        self.closed = False

    def getcode(self):
        return self.status

    def close(self):
        self.closed = True


def scripted_opener(outcomes, calls):
    def opener(url, **kwargs):
        calls.append((url, kwargs))
        outcome = outcomes.pop(0) if len(outcomes) > 1 else outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        return FakeResponse(outcome)
    return opener


def http_error(url, code):
    return urllib.error.HTTPError(url, code, 'status %d' % code, {}, None)


def test_readiness_waits_through_refused_and_503(tmp_path):
    url = 'http://127.0.0.1:18080/am/json/health/ready'
    clock, calls = FakeClock(), []
    outcomes = [urllib.error.URLError(ConnectionRefusedError(111, 'Connection refused')),
                http_error(url, 503), 200]
    readiness = HttpReadiness(url, [200], 300, 2.0, validate_certs=False,
                              opener=scripted_opener(outcomes, calls), clock=clock.clock, pause=clock.pause)
    assert readiness.wait() == 4.0
    assert clock.pauses == [2.0, 2.0]
    assert calls[0] == (url, dict(method='GET', timeout=10, validate_certs=False, follow_redirects='urllib2'))
    assert len(calls) == 3


def test_readiness_probe_observations():
    url = 'https://h/ready'
    assert HttpReadiness(url, [200], 5, 1, opener=scripted_opener([http_error(url, 503)], [])).probe() == (False, 'HTTP 503')
    assert HttpReadiness(url, [200, 302], 5, 1, opener=scripted_opener([302], [])).probe() == (True, 'HTTP 302')
    refused = urllib.error.URLError(ConnectionRefusedError(111, 'Connection refused'))
    assert HttpReadiness(url, [200], 5, 1, opener=scripted_opener([refused], [])).probe() == (
        False, 'error: [Errno 111] Connection refused')
    assert HttpReadiness(url, [200], 5, 1, opener=scripted_opener([TimeoutError('timed out')], [])).probe() == (
        False, 'error: timed out')
    # a short readiness_timeout also bounds each request
    assert HttpReadiness(url, [200], 3, 1).request_timeout == 3
    assert HttpReadiness(url, [200], 0, 1).request_timeout == 1


def test_readiness_timeout_names_url_timeout_and_last_status():
    url = 'http://127.0.0.1:18080/am/json/health/ready'
    clock = FakeClock()
    readiness = HttpReadiness(url, [200], 5, 1.5, opener=scripted_opener([http_error(url, 503)], []),
                              clock=clock.clock, pause=clock.pause)
    with pytest.raises(WaitTimeout) as info:
        readiness.wait()
    assert str(info.value) == ('timed out after 5s waiting for %s to answer HTTP 200 (last seen: HTTP 503)' % url)
    assert clock.now == 105.0
    assert clock.pauses == [1.5, 1.5, 1.5, 0.5]


def test_readiness_rejects_other_schemes():
    with pytest.raises(TomcatError, match="^readiness_url must start with http:// or https://, got 'ftp://h/'$"):
        HttpReadiness('ftp://h/', [200], 5, 1)


# --- files --------------------------------------------------------------------------------

def test_install_atomic_replaces_by_rename_and_keeps_mode(env):
    dest = env['dest']
    install_atomic(env['v1'], dest, sha(env['v1']))
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o644
    os.chmod(dest, 0o640)
    old_inode = os.stat(dest).st_ino
    with open(dest, 'rb') as reader:  # a reader of the old war keeps the old bytes
        install_atomic(env['v2'], dest, sha(env['v2']))
        assert hashlib.sha256(reader.read()).hexdigest() == sha(env['v1'])
    assert sha(dest) == sha(env['v2'])
    assert os.stat(dest).st_ino != old_inode
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o640
    assert sorted(os.listdir(os.path.dirname(dest))) == ['am.war']


def test_install_atomic_checksum_mismatch_leaves_dest_and_no_temp(env):
    install_atomic(env['v1'], env['dest'], sha(env['v1']))
    with pytest.raises(TomcatError, match='changed while it was copied'):
        install_atomic(env['v2'], env['dest'], sha(env['v1']))
    assert sha(env['dest']) == sha(env['v1'])
    assert sorted(os.listdir(os.path.dirname(env['dest']))) == ['am.war']


def test_backup_path_is_outside_webapps_and_unique(env):
    first = backup_path(env['base'], 'am', 1714558500.0)
    assert os.path.dirname(first) == os.path.join(env['base'], 'backups')
    assert os.path.basename(first).startswith('am.war.2024')
    assert first.endswith('.bak')
    os.makedirs(os.path.dirname(first))
    open(first, 'w').close()
    assert backup_path(env['base'], 'am', 1714558500.0) == first[:-len('.bak')] + '-1.bak'


# --- the deploy ---------------------------------------------------------------------------

def test_first_deploy_installs_and_starts(env):
    dep, control = deployment(env, env['v1'])
    result = dep.run()
    assert result['changed'] is True
    assert result['checksum_before'] is None
    assert result['checksum_after'] == sha(env['v1'])
    assert sha(env['dest']) == sha(env['v1'])
    assert result['deployed'] == env['dest']
    assert result['restarted'] is True
    assert control.actions() == ['start']
    assert result['backup_file'] is None


def test_same_war_running_changes_nothing(env):
    deploy_exploded(env, env['v1'])
    before = snapshot(env['root'])
    dep, control = deployment(env, env['v1'], running=True)
    result = dep.run()
    assert result['changed'] is False
    assert result['restarted'] is False
    assert result['checksum_before'] == result['checksum_after'] == sha(env['v1'])
    assert control.actions() == []
    assert result['actions'] == []
    assert result['msg'] == 'war already deployed'
    assert snapshot(env['root']) == before


def test_same_war_stopped_tomcat_is_started(env):
    deploy_exploded(env, env['v1'])
    dep, control = deployment(env, env['v1'], running=False)
    result = dep.run()
    assert result['changed'] is True
    assert result['restarted'] is True
    assert control.actions() == ['start']
    assert os.path.isdir(env['exploded'])  # same war: the exploded directory is kept


def test_same_war_stopped_no_restart_is_left_alone(env):
    deploy_exploded(env, env['v1'])
    dep, control = deployment(env, env['v1'], running=False, restart=False)
    result = dep.run()
    assert (result['changed'], result['restarted'], control.actions()) == (False, False, [])


def test_new_war_stop_swap_cleanup_start_in_order(env):
    deploy_exploded(env, env['v1'])
    other = os.path.join(env['base'], 'webapps', 'other')
    os.makedirs(other)
    dep, control = deployment(env, env['v2'], running=True)
    result = dep.run()
    assert result['changed'] is True
    assert result['restarted'] is True
    assert (result['checksum_before'], result['checksum_after']) == (sha(env['v1']), sha(env['v2']))
    assert control.calls == [
        ('is_running', None),
        ('stop', dict(war=sha(env['v1']), exploded=True, work=True)),
        ('start', dict(war=sha(env['v2']), exploded=False, work=False)),
    ]
    assert os.path.isdir(other)
    assert os.path.isdir(os.path.join(env['base'], 'work', 'Catalina', 'localhost'))
    assert result['actions'] == [
        'stop Tomcat (fake stop)',
        'install %s as %s (sha256 %s -> %s)' % (env['v2'], env['dest'], sha(env['v1']), sha(env['v2'])),
        'remove %s' % env['exploded'],
        'remove %s' % env['work'],
        'start Tomcat (fake start)',
    ]


def test_other_engine_host_work_dir(env):
    deploy_exploded(env, env['v1'])
    other_work = os.path.join(env['base'], 'work', 'Catalina', 'am.example.com', 'am')
    os.makedirs(other_work)
    control = FakeControl((env['dest'], env['exploded'], other_work), running=True)
    result = WarDeployment(env['v2'], env['base'], 'am', control, host='am.example.com').run()
    assert not os.path.exists(other_work)
    assert os.path.isdir(env['work'])  # localhost's is not this host's
    assert 'remove %s' % other_work in result['actions']


def test_exploded_symlink_removes_only_the_link(env):
    with open(env['v1'], 'rb') as inp, open(env['dest'], 'wb') as out:
        out.write(inp.read())
    target = env['root'] / 'elsewhere'
    target.mkdir()
    (target / 'keep.txt').write_text('keep\n')
    os.symlink(str(target), env['exploded'])
    deployment(env, env['v2'], running=False)[0].run()
    assert not os.path.lexists(env['exploded'])
    assert (target / 'keep.txt').read_text() == 'keep\n'


def test_new_war_no_restart_running_leaves_dirs_to_autodeploy(env):
    deploy_exploded(env, env['v1'])
    dep, control = deployment(env, env['v2'], running=True, restart=False)
    result = dep.run()
    assert result['changed'] is True
    assert result['restarted'] is False
    assert control.actions() == []
    assert sha(env['dest']) == sha(env['v2'])
    assert os.path.isdir(env['exploded']) and os.path.isdir(env['work'])


def test_new_war_no_restart_stopped_cleans_dirs(env):
    deploy_exploded(env, env['v1'])
    dep, control = deployment(env, env['v2'], running=False, restart=False)
    result = dep.run()
    assert (result['changed'], result['restarted'], control.actions()) == (True, False, [])
    assert not os.path.exists(env['exploded']) and not os.path.exists(env['work'])


def test_backup_keeps_previous_war(env):
    deploy_exploded(env, env['v1'])
    dep, _control = deployment(env, env['v2'], running=True, backup=True)
    result = dep.run()
    backup = result['backup_file']
    stamp = time.strftime('%Y%m%dT%H%M%S', time.localtime(1714558500.0))
    assert backup == os.path.join(env['base'], 'backups', 'am.war.%s.bak' % stamp)
    assert sha(backup) == sha(env['v1'])
    assert not any(name.endswith('.bak') for name in os.listdir(os.path.join(env['base'], 'webapps')))


def test_backup_without_previous_war_is_none(env):
    result = deployment(env, env['v1'], backup=True)[0].run()
    assert result['backup_file'] is None
    assert not os.path.exists(os.path.join(env['base'], 'backups'))


def test_check_mode_reports_plan_and_touches_nothing(env):
    deploy_exploded(env, env['v1'])
    before = snapshot(env['root'])
    readiness = FakeReadiness(seconds=1.0)
    dep, control = deployment(env, env['v2'], running=True, backup=True, check_mode=True, readiness=readiness)
    result = dep.run()
    assert snapshot(env['root']) == before
    assert control.actions() == []
    assert readiness.waits == 0
    assert result['changed'] is True
    assert result['restarted'] is True
    assert result['backup_file'] is None
    assert result['checksum_after'] == sha(env['v2'])
    assert result['actions'][0].startswith('back up %s to %s' % (env['dest'], os.path.join(env['base'], 'backups', 'am.war.')))
    assert result['actions'][1:] == [
        'stop Tomcat (fake stop)',
        'install %s as %s (sha256 %s -> %s)' % (env['v2'], env['dest'], sha(env['v1']), sha(env['v2'])),
        'remove %s' % env['exploded'],
        'remove %s' % env['work'],
        'start Tomcat (fake start)',
    ]
    assert result['msg'].startswith('would: back up ')


def test_check_mode_same_war(env):
    deploy_exploded(env, env['v1'])
    result = deployment(env, env['v1'], running=True, check_mode=True)[0].run()
    assert (result['changed'], result['actions'], result['msg']) == (False, [], 'nothing to do')


def test_check_mode_first_deploy_into_empty_base(env):
    before = snapshot(env['root'])
    result = deployment(env, env['v1'], running=False, check_mode=True)[0].run()
    assert snapshot(env['root']) == before
    assert result['changed'] is True
    assert result['checksum_before'] is None
    assert result['actions'] == [
        'install %s as %s (sha256 None -> %s)' % (env['v1'], env['dest'], sha(env['v1'])),
        'start Tomcat (fake start)',
    ]


def test_diff_has_path_and_checksums(env):
    deploy_exploded(env, env['v1'])
    result = deployment(env, env['v2'], running=True)[0].run()
    assert result['diff']['before'] == dict(path=env['dest'], checksum=sha(env['v1']))
    assert result['diff']['after'] == dict(path=env['dest'], checksum=sha(env['v2']))
    assert result['diff']['before_header'] == env['dest'] + ' (sha256)'


def test_readiness_waited_after_deploy_and_when_unchanged(env):
    readiness = FakeReadiness(seconds=3.25)
    result = deployment(env, env['v1'], readiness=readiness)[0].run()
    assert (result['ready_seconds'], readiness.waits) == (3.25, 1)
    assert result['actions'][-1] == 'wait for http://127.0.0.1:1/am/ready to answer HTTP 200'
    readiness = FakeReadiness(seconds=0.01)
    result = deployment(env, env['v1'], running=True, readiness=readiness)[0].run()
    assert (result['changed'], result['ready_seconds'], readiness.waits) == (False, 0.01, 1)


def test_readiness_timeout_fails_and_war_stays(env):
    deploy_exploded(env, env['v1'])
    dep, control = deployment(env, env['v2'], running=True, readiness=FakeReadiness(timeout_last='HTTP 503'))
    with pytest.raises(TomcatError) as info:
        dep.run()
    assert str(info.value) == (
        'Tomcat did not become ready: timed out after 7s waiting for http://127.0.0.1:1/am/ready to answer '
        'HTTP 200 (last seen: HTTP 503). The new war stays deployed at %s (sha256 %s)' % (env['dest'], sha(env['v2'])))
    assert info.value.result['changed'] is True
    assert info.value.result['restarted'] is True
    assert sha(env['dest']) == sha(env['v2'])
    assert control.actions() == ['stop', 'start']


def test_readiness_timeout_without_change_says_so(env):
    deploy_exploded(env, env['v1'])
    dep, _control = deployment(env, env['v1'], running=True, readiness=FakeReadiness(timeout_last='error: refused'))
    with pytest.raises(TomcatError) as info:
        dep.run()
    assert str(info.value).endswith('(last seen: error: refused). The deployed war %s was not changed' % env['dest'])
    assert info.value.result['changed'] is False


def test_swap_failure_restarts_old_war(env, monkeypatch):
    deploy_exploded(env, env['v1'])

    def broken(src, dest, expected):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(_tomcat, 'install_atomic', broken)
    dep, control = deployment(env, env['v2'], running=True)
    with pytest.raises(TomcatError) as info:
        dep.run()
    assert str(info.value) == ('installing %s as %s failed: [Errno 28] No space left on device; the deployed war '
                               'is unchanged and Tomcat was started again' % (env['v2'], env['dest']))
    assert control.actions() == ['stop', 'start']
    assert sha(env['dest']) == sha(env['v1'])
    assert os.path.isdir(env['exploded'])  # nothing removed for a war that was not swapped


def test_start_failure_says_where_the_war_is(env):
    control = FakeControl((env['dest'], env['exploded'], env['work']), running=True, fail_start=True)
    dep, _control = deployment(env, env['v2'], control=control)
    with pytest.raises(TomcatError) as info:
        dep.run()
    assert str(info.value) == 'fake start failed. The new war stays deployed at %s (sha256 %s)' % (
        env['dest'], sha(env['v2']))
    assert info.value.result['changed'] is True


def test_deploy_seconds_spans_stop_to_ready_and_is_null_without_change(env):
    ticks = iter([100.0, 107.5])
    result = deployment(env, env['v1'], readiness=FakeReadiness(seconds=3.0), clock=lambda: next(ticks))[0].run()
    assert result['deploy_seconds'] == 7.5
    result = deployment(env, env['v1'], running=True, readiness=FakeReadiness(seconds=0.01))[0].run()
    assert (result['changed'], result['deploy_seconds']) == (False, None)


def test_stopped_state_stops_a_running_tomcat_with_the_right_war_and_leaves_it_down(env):
    deploy_exploded(env, env['v1'])
    dep, control = deployment(env, env['v1'], running=True, tomcat_state='stopped')
    result = dep.run()
    assert (result['changed'], result['restarted'], control.actions(), control.running) == (True, False, ['stop'], False)


def test_stopped_state_swaps_a_changed_war_without_starting(env):
    deploy_exploded(env, env['v1'])
    dep, control = deployment(env, env['v2'], running=True, tomcat_state='stopped')
    result = dep.run()
    assert control.actions() == ['stop']
    assert (result['changed'], sha(env['dest']), os.path.exists(env['exploded'])) == (True, sha(env['v2']), False)


def test_stopped_state_with_tomcat_down_and_the_right_war_changes_nothing(env):
    deploy_exploded(env, env['v1'])
    dep, control = deployment(env, env['v1'], running=False, tomcat_state='stopped')
    assert (dep.run()['changed'], control.actions()) == (False, [])


def test_restarted_state_always_restarts(env):
    deploy_exploded(env, env['v1'])
    dep, control = deployment(env, env['v1'], running=True, tomcat_state='restarted')
    result = dep.run()
    assert (result['changed'], result['restarted'], control.actions()) == (True, True, ['stop', 'start'])
    assert os.path.exists(env['exploded'])


def test_catalina_pid_file_with_pid_zero_means_not_running(tmp_path):
    control = catalina(tmp_path)
    (tmp_path / 'catalina.pid').write_text('0\n')
    assert (control.read_pid(), control.is_running()) == (None, False)
