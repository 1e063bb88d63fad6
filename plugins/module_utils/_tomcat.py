# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""Deploy one war into a Tomcat CATALINA_BASE, deterministically.

The path of one deploy, in order (``WarDeployment.run``):

1. check the inputs (``check_war``, ``check_catalina_base``, ``catalina_script``) and
   change nothing when one is wrong;
2. compare the sha256 of ``src`` with the deployed ``webapps/<context>.war``;
3. when they differ: stop Tomcat, keep a backup if asked, copy the war to a temporary
   file in ``webapps/`` and ``os.replace`` it over the deployed one (atomic), remove the
   exploded ``webapps/<context>/`` and ``work/Catalina/<host>/<context>/``, start Tomcat;
4. wait for the readiness URL through ``_wait.wait_until``.

Tomcat's autodeploy notices a changed war only every ~10 s, so a deploy with
``restart=True`` never relies on it: Tomcat is stopped while the files change.

Tomcat is controlled either by ``catalina.sh`` (``CatalinaControl``) or by systemd
(``SystemdControl``). Both take the module's ``run_command`` so they can be tested without
a Tomcat; ``catalina.sh start`` goes through ``spawn_detached`` instead, so that the JVM
leaves the Ansible session (new session, stdin from /dev/null, output to a file).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import zipfile

from ansible.module_utils.urls import open_url, ConnectionError as UrlsConnectionError

from ansible_collections.idmops.lifecycle.plugins.module_utils._files import fsync_dir
from ansible_collections.idmops.lifecycle.plugins.module_utils._http import get_status
from ansible_collections.idmops.lifecycle.plugins.module_utils._wait import WaitTimeout, wait_until


CHUNK_SIZE = 1024 * 1024
BACKUP_DIR_NAME = 'backups'
START_TIMEOUT = 120
MAX_PROBE_REQUEST_TIMEOUT = 10


class TomcatError(Exception):
    """A deploy step failed; ``result`` holds the return values known so far."""

    def __init__(self, msg, **result):
        super().__init__(msg)
        self.result = result


# --- inputs -------------------------------------------------------------------------------

def sha256_file(path):
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(CHUNK_SIZE), b''):
            digest.update(chunk)
    return digest.hexdigest()


def validate_name(value, option):
    """A context or host directory name: one path component, never '.' or '..'."""
    if not value:
        raise TomcatError('%s must not be empty' % option)
    if '/' in value or '\\' in value or '\0' in value:
        raise TomcatError('%s must be a single name without slashes, got %r' % (option, value))
    if '..' in value or value == '.':
        raise TomcatError("%s must not contain '..' or be '.', got %r" % (option, value))
    return value


def default_context(src):
    """``/path/am.war`` -> ``am``; a src that does not end in ``.war`` needs an explicit context."""
    base = os.path.basename(src)
    if not base.lower().endswith('.war') or len(base) == 4:
        raise TomcatError('context is required when src does not end in .war (src=%s)' % src)
    return base[:-4]


def validate_context(context):
    validate_name(context, 'context')
    if context.lower().endswith('.war'):
        raise TomcatError('context is the name without .war (e.g. %r), got %r' % (context[:-4], context))
    return context


def check_war(src):
    """Fail naming ``src`` unless it is a readable, non-empty zip (a war)."""
    if not os.path.exists(src):
        raise TomcatError('src %s does not exist' % src)
    if not os.path.isfile(src):
        raise TomcatError('src %s is not a regular file' % src)
    if not os.access(src, os.R_OK):
        raise TomcatError('src %s is not readable' % src)
    try:
        with zipfile.ZipFile(src) as archive:
            if not archive.namelist():
                raise TomcatError('src %s is an empty zip archive, not a war' % src)
    except zipfile.BadZipFile as exc:
        raise TomcatError('src %s is not a war (not a zip archive: %s)' % (src, exc)) from exc
    except OSError as exc:
        raise TomcatError('src %s cannot be read: %s' % (src, exc)) from exc


def check_catalina_base(catalina_base):
    """Fail naming ``catalina_base`` unless it holds conf/server.xml and webapps/."""
    if not os.path.isdir(catalina_base):
        raise TomcatError('catalina_base %s does not exist or is not a directory' % catalina_base)
    server_xml = os.path.join(catalina_base, 'conf', 'server.xml')
    if not os.path.isfile(server_xml):
        raise TomcatError('catalina_base %s is not a Tomcat base: %s is missing' % (catalina_base, server_xml))
    webapps = os.path.join(catalina_base, 'webapps')
    if not os.path.isdir(webapps):
        raise TomcatError('catalina_base %s is not a Tomcat base: %s is missing' % (catalina_base, webapps))


def catalina_script(catalina_home):
    """``<catalina_home>/bin/catalina.sh``, failing naming ``catalina_home`` when unusable."""
    script = os.path.join(catalina_home, 'bin', 'catalina.sh')
    if not os.path.isfile(script):
        raise TomcatError('catalina_home %s has no bin/catalina.sh (looked for %s)' % (catalina_home, script))
    if not os.access(script, os.X_OK):
        raise TomcatError('catalina_home %s: %s is not executable' % (catalina_home, script))
    return script


# --- controlling Tomcat -------------------------------------------------------------------

def spawn_detached(argv, environ, cwd, timeout=START_TIMEOUT):
    """Run ``argv`` in a new session with stdin from /dev/null and output to a temp file.

    ``catalina.sh start`` backgrounds the JVM and exits; the JVM inherits neither the
    Ansible session nor a pipe, so the module (and an SSH connection) does not hang on it.
    Returns ``(rc, output)`` of the script itself.
    """
    env = dict(os.environ)
    env.update(environ)
    with tempfile.TemporaryFile() as output:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                env=env, cwd=cwd, close_fds=True, start_new_session=True)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise TomcatError('%s did not return within %ss' % (' '.join(argv), timeout))
        output.seek(0)
        return rc, output.read().decode('utf-8', 'replace')


class CatalinaControl:
    """Tomcat started and stopped with ``catalina.sh``; running means: the PID file names a live JVM."""

    name = 'catalina'

    def __init__(self, run_command, catalina_home, catalina_base, pid_file, stop_timeout,
                 spawn=None, proc_root='/proc'):
        self.run_command = run_command
        self.catalina_home = catalina_home
        self.catalina_base = catalina_base
        self.pid_file = pid_file
        self.stop_timeout = stop_timeout
        self.spawn = spawn if spawn is not None else spawn_detached
        self.proc_root = proc_root
        self.script = os.path.join(catalina_home, 'bin', 'catalina.sh')

    @property
    def environ(self):
        return {
            'CATALINA_HOME': self.catalina_home,
            'CATALINA_BASE': self.catalina_base,
            'CATALINA_PID': self.pid_file,
        }

    def stop_command(self):
        return [self.script, 'stop', str(self.stop_timeout), '-force']

    def start_command(self):
        return [self.script, 'start']

    def read_pid(self):
        try:
            with open(self.pid_file) as handle:
                text = handle.read().strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TomcatError('pid_file %s cannot be read: %s' % (self.pid_file, exc)) from exc
        # PID 0 would signal our own process group and look alive: treat it like garbage.
        return int(text) if text.isdigit() and int(text) > 0 else None

    def _is_tomcat(self, pid):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # alive, owned by another user
        try:
            with open(os.path.join(self.proc_root, str(pid), 'cmdline'), 'rb') as handle:
                cmdline = handle.read()
        except OSError:
            return True  # alive; no /proc to tell a reused PID apart
        return b'catalina' in cmdline.lower()

    def is_running(self):
        pid = self.read_pid()
        return pid is not None and self._is_tomcat(pid)

    def stop(self):
        rc, out, err = self.run_command(self.stop_command(), environ_update=self.environ)
        if self.is_running():
            raise TomcatError('Tomcat still runs (PID file %s) after %s (rc=%s): %s'
                              % (self.pid_file, ' '.join(self.stop_command()), rc, (out + err).strip()))

    def start(self):
        pid = self.read_pid()
        if pid is not None and not self._is_tomcat(pid) and os.path.exists(self.pid_file):
            # A PID file naming a dead or foreign process would make catalina.sh abort the start.
            os.unlink(self.pid_file)
        rc, out = self.spawn(self.start_command(), self.environ, self.catalina_base)
        if rc != 0 or not self.is_running():
            raise TomcatError('%s failed (rc=%s, PID file %s): %s; see %s'
                              % (' '.join(self.start_command()), rc, self.pid_file, out.strip(),
                                 os.path.join(self.catalina_base, 'logs', 'catalina.out')))


class SystemdControl:
    """Tomcat as a systemd unit; running means ``systemctl is-active`` succeeds."""

    name = 'systemd'

    def __init__(self, run_command, service_name, systemctl='systemctl'):
        self.run_command = run_command
        self.service_name = service_name
        self.systemctl = systemctl

    def stop_command(self):
        return [self.systemctl, 'stop', self.service_name]

    def start_command(self):
        return [self.systemctl, 'start', self.service_name]

    def is_running(self):
        rc, _out, _err = self.run_command([self.systemctl, 'is-active', '--quiet', self.service_name])
        return rc == 0

    def _run(self, argv):
        rc, out, err = self.run_command(argv)
        if rc != 0:
            raise TomcatError('%s failed (rc=%s): %s' % (' '.join(argv), rc, (out + err).strip()))

    def stop(self):
        self._run(self.stop_command())
        if self.is_running():
            raise TomcatError('%s returned but %s is still active' % (' '.join(self.stop_command()), self.service_name))

    def start(self):
        self._run(self.start_command())
        if not self.is_running():
            raise TomcatError('%s returned but %s is not active' % (' '.join(self.start_command()), self.service_name))


# --- readiness ----------------------------------------------------------------------------

class HttpReadiness:
    """Poll a URL until it answers one of ``statuses``, through ``wait_until``."""

    def __init__(self, url, statuses, timeout, sleep, validate_certs=True,
                 opener=None, clock=time.monotonic, pause=time.sleep):
        if not url.startswith(('http://', 'https://')):
            raise TomcatError('readiness_url must start with http:// or https://, got %r' % (url,))
        self.url = url
        self.statuses = list(statuses)
        self.timeout = timeout
        self.sleep = sleep
        self.validate_certs = validate_certs
        self.opener = opener if opener is not None else open_url
        self.clock = clock
        self.pause = pause
        self.request_timeout = min(MAX_PROBE_REQUEST_TIMEOUT, max(1, timeout))

    def probe(self):
        try:
            status = get_status(self.opener, self.url, timeout=self.request_timeout,
                                validate_certs=self.validate_certs, follow_redirects='urllib2')
        except urllib.error.URLError as exc:
            return False, 'error: %s' % (exc.reason,)
        except (UrlsConnectionError, http.client.HTTPException, socket.timeout, OSError) as exc:
            return False, 'error: %s' % (exc,)
        return status in self.statuses, 'HTTP %s' % (status,)

    def describe(self):
        return '%s to answer HTTP %s' % (self.url, ' or '.join(str(s) for s in self.statuses))

    def wait(self):
        """Seconds until ready; ``WaitTimeout`` (naming URL, timeout, last status) otherwise."""
        _observation, seconds = wait_until(self.probe, self.timeout, self.sleep, self.describe(),
                                           clock=self.clock, pause=self.pause)
        return round(seconds, 3)


# --- files --------------------------------------------------------------------------------

def install_atomic(src, dest, expected_sha256):
    """Copy ``src`` next to ``dest`` and ``os.replace`` it over ``dest``.

    The temporary file (``.<name>.<random>.tmp``) does not end in .war, so Tomcat never
    deploys it. It takes the mode and owner of the war it replaces (a new war: 0644 and the
    owner of the directory, when running as root). The bytes written are hashed and must
    match ``expected_sha256`` (``src`` changing during the copy fails the deploy).
    """
    directory = os.path.dirname(dest)
    reference = os.stat(dest) if os.path.exists(dest) else None
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(dest), suffix='.tmp')
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, 'wb') as out, open(src, 'rb') as inp:
            for chunk in iter(lambda: inp.read(CHUNK_SIZE), b''):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != expected_sha256:
            raise TomcatError('src %s changed while it was copied (sha256 %s, expected %s)'
                              % (src, digest.hexdigest(), expected_sha256))
        if reference is not None:
            mode, uid, gid = reference.st_mode & 0o7777, reference.st_uid, reference.st_gid
        else:
            parent = os.stat(directory)
            mode, uid, gid = 0o644, parent.st_uid, parent.st_gid
        os.chmod(tmp, mode)
        if os.geteuid() == 0:
            os.chown(tmp, uid, gid)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(directory)


def remove_path(path):
    """Remove a directory tree, or only the link when ``path`` is a symlink."""
    if os.path.islink(path):
        os.unlink(path)
    else:
        shutil.rmtree(path)


def backup_path(catalina_base, context, now):
    directory = os.path.join(catalina_base, BACKUP_DIR_NAME)
    stamp = time.strftime('%Y%m%dT%H%M%S', time.localtime(now))
    candidate = os.path.join(directory, '%s.war.%s.bak' % (context, stamp))
    counter = 1
    while os.path.exists(candidate):
        candidate = os.path.join(directory, '%s.war.%s-%d.bak' % (context, stamp, counter))
        counter += 1
    return candidate


# --- the deploy ---------------------------------------------------------------------------

class WarDeployment:
    """One war, one context, one CATALINA_BASE: decide, then (unless check mode) act."""

    def __init__(self, src, catalina_base, context, control, host='localhost', restart=True,
                 readiness=None, backup=False, check_mode=False, now=time.time, clock=time.monotonic,
                 tomcat_state='started'):
        self.src = src
        self.catalina_base = catalina_base
        self.context = context
        self.host = host
        self.control = control
        self.restart = restart
        self.tomcat_state = tomcat_state
        self.readiness = readiness
        self.backup = backup
        self.check_mode = check_mode
        self.now = now
        self.clock = clock
        self.webapps = os.path.join(catalina_base, 'webapps')
        self.dest = os.path.join(self.webapps, context + '.war')
        self.exploded_dir = os.path.join(self.webapps, context)
        self.work_dir = os.path.join(catalina_base, 'work', 'Catalina', host, context)
        self.actions = []
        self.result = {}

    def _stale_dirs(self):
        return [path for path in (self.exploded_dir, self.work_dir) if os.path.lexists(path)]

    def _record(self, action):
        self.actions.append(action)

    def run(self):
        checksum_before = sha256_file(self.dest) if os.path.isfile(self.dest) else None
        checksum_after = sha256_file(self.src)
        deploy = checksum_before != checksum_after
        running = self.control.is_running()
        self.result = dict(
            changed=False, context=self.context, deployed=self.dest,
            checksum_before=checksum_before, checksum_after=checksum_after,
            backup_file=None, restarted=False, ready_seconds=None, deploy_seconds=None, actions=self.actions,
            diff=dict(
                before=dict(path=self.dest, checksum=checksum_before),
                after=dict(path=self.dest, checksum=checksum_after),
                before_header='%s (sha256)' % self.dest, after_header='%s (sha256)' % self.dest,
            ),
        )
        # 'stopped' leaves Tomcat down for work that needs it down (a configuration upgrade);
        # 'restarted' makes a running Tomcat pick up changes made outside the war.
        stop = running and (self.tomcat_state != 'started' or (deploy and self.restart))
        start = self.tomcat_state == 'restarted' or (
            self.tomcat_state == 'started' and self.restart and (stop or not running))
        # With Tomcat running and restart=False the exploded and work directories belong to
        # Tomcat's autodeploy: removing them under it races its redeploy, so leave them.
        cleanup = deploy and (stop or not running)
        self.result['changed'] = deploy or start or stop
        self.result['restarted'] = start

        if self.check_mode:
            self._plan(deploy, stop, start, cleanup, checksum_before, checksum_after)
            self.result['msg'] = ('would: ' + '; '.join(self.actions)) if self.actions else 'nothing to do'
            return self.result

        started = self.clock()
        if deploy and self.backup and checksum_before is not None:
            self._backup()
        if stop:
            self._record('stop Tomcat (%s)' % ' '.join(self.control.stop_command()))
            self.control.stop()
        if deploy:
            self._swap(checksum_before, checksum_after, stop)
            for path in self._stale_dirs() if cleanup else []:
                self._record('remove %s' % path)
                remove_path(path)
        if start:
            self._record('start Tomcat (%s)' % ' '.join(self.control.start_command()))
            try:
                self.control.start()
            except TomcatError as exc:
                raise TomcatError('%s%s' % (exc, self._war_state_note(deploy)), **self.result) from exc
        if self.readiness is not None:
            self._wait_ready(deploy)
        if self.result['changed']:
            # What the server itself spends from stop to ready: benchmarks set it against the
            # time the load balancer had the server out of the pool.
            self.result['deploy_seconds'] = round(self.clock() - started, 3)
        self.result['msg'] = '; '.join(self.actions) if self.actions else 'war already deployed'
        return self.result

    def _plan(self, deploy, stop, start, cleanup, checksum_before, checksum_after):
        if deploy and self.backup and checksum_before is not None:
            self._record('back up %s to %s' % (self.dest, backup_path(self.catalina_base, self.context, self.now())))
        if stop:
            self._record('stop Tomcat (%s)' % ' '.join(self.control.stop_command()))
        if deploy:
            self._record('install %s as %s (sha256 %s -> %s)' % (self.src, self.dest, checksum_before, checksum_after))
            for path in self._stale_dirs() if cleanup else []:
                self._record('remove %s' % path)
        if start:
            self._record('start Tomcat (%s)' % ' '.join(self.control.start_command()))

    def _backup(self):
        target = backup_path(self.catalina_base, self.context, self.now())
        self._record('back up %s to %s' % (self.dest, target))
        os.makedirs(os.path.dirname(target), mode=0o750, exist_ok=True)
        shutil.copy2(self.dest, target)
        self.result['backup_file'] = target

    def _swap(self, checksum_before, checksum_after, stopped):
        self._record('install %s as %s (sha256 %s -> %s)' % (self.src, self.dest, checksum_before, checksum_after))
        try:
            install_atomic(self.src, self.dest, checksum_after)
        except (OSError, TomcatError) as exc:
            note = 'the deployed war is unchanged'
            if stopped:
                try:
                    self.control.start()
                    note += ' and Tomcat was started again'
                except TomcatError as start_exc:
                    note += ' but Tomcat could not be started again: %s' % start_exc
            self.result['changed'] = stopped or self.result['backup_file'] is not None
            raise TomcatError('installing %s as %s failed: %s; %s' % (self.src, self.dest, exc, note),
                              **self.result) from exc

    def _war_state_note(self, deployed_now):
        if deployed_now:
            return '. The new war stays deployed at %s (sha256 %s)' % (self.dest, self.result['checksum_after'])
        return '. The deployed war %s was not changed' % self.dest

    def _wait_ready(self, deployed_now):
        self._record('wait for %s' % self.readiness.describe())
        try:
            self.result['ready_seconds'] = self.readiness.wait()
        except WaitTimeout as exc:
            raise TomcatError('Tomcat did not become ready: %s%s'
                              % (exc, self._war_state_note(deployed_now)), **self.result) from exc
