# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""Upgrade one AM configuration directory with ``amupgrade``, all steps or nothing.

The path of one upgrade, in order (``ConfigUpgrade.run``):

1. read the configuration's version from ``global/version.json`` (or ``from_version``);
   when its major.minor is already the one of ``to_version`` there is nothing to do;
2. compute the chain of rules files (``plan_chain``): Amster rules go one minor at a time
   along ``KNOWN_MINORS``; a file-based configuration uses ``rules/fbc/latest.groovy`` once;
   an unknown version or a gap fails here, naming the versions, before anything runs;
3. check the amupgrade home (``check_home``: the executable and every rules file) and refuse
   while AM runs (``running_reasons``: ``<config_dir>/.am.lock``, a PID file, a URL);
4. run each step into a fresh staging directory next to ``config_dir`` (step N reads step
   N-1's output); a step succeeds only with exit code 0, the documented
   ``Upgrade Completed`` line, and the expected version in its output's ``global/version.json``;
5. only when every step succeeded: carry over ``keep_files``, give the new tree the owners
   and modes of the old one, and swap it into place with two renames (the old tree becomes
   the backup, or is removed). A failure anywhere before the swap leaves ``config_dir``
   untouched and removes the staging directory.

``amupgrade`` is run through ``run_process`` (own session, bounded by a timeout, the whole
process group killed on expiry) so tests can replace it.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import urllib.error

from ansible.module_utils.urls import open_url, ConnectionError as UrlsConnectionError

from ansible_collections.idmops.lifecycle.plugins.module_utils._files import fsync_dir
from ansible_collections.idmops.lifecycle.plugins.module_utils._http import get_status


KNOWN_MINORS = ('7.2', '7.3', '7.4', '7.5', '8.1')
MODES = ('amster', 'fbc')
VERSION_FILE = os.path.join('global', 'version.json')
LOCK_FILE = '.am.lock'
COMPLETED_MARKER = 'Upgrade Completed'
FBC_RULES = os.path.join('rules', 'fbc', 'latest.groovy')
DEFAULT_KEEP_FILES = ('noninteractive-install.properties',)
URL_PROBE_TIMEOUT = 10

_VERSION_RE = re.compile(r'^(\d+)\.(\d+)(?:\.(\d+))?$')


class AmUpgradeError(Exception):
    """The upgrade cannot go on; ``result`` holds the return values known so far."""

    def __init__(self, message, **result):
        super().__init__(message)
        result.pop('msg', None)  # the message is the exception's own
        self.result = result


# --- versions and the chain ---------------------------------------------------------------

def parse_version(text, what):
    """``'7.5.1'`` -> ``(7, 5, 1)``; ``'8.1'`` -> ``(8, 1, 0)``; fails naming ``what``."""
    match = _VERSION_RE.match(str(text).strip()) if text is not None else None
    if not match:
        raise AmUpgradeError('%s must be a version like 7.5.0, got %r' % (what, text))
    return tuple(int(part or 0) for part in match.groups())


def minor(version):
    return '%d.%d' % tuple(version[:2])


def format_version(version):
    return None if version is None else '%d.%d.%d' % tuple(version)


def rules_name(from_minor, to_minor):
    return os.path.join('rules', 'amster', '%s.x-to-%s.x.groovy' % (from_minor, to_minor))


def _sequence():
    return ' -> '.join(KNOWN_MINORS)


def plan_chain(mode, from_version, to_version):
    """The rules files, relative to the amupgrade home, from ``from_version`` to ``to_version``.

    Returns a list of dicts ``rules`` (relative path), ``from`` and ``to`` (major.minor, or
    None for an unversioned file-based configuration). Versions are tuples. Fails before
    anything runs when a version is not in ``KNOWN_MINORS`` (Amster) or the chain would go
    backwards.
    """
    if mode not in MODES:
        raise AmUpgradeError('mode must be one of %s, got %r' % (', '.join(MODES), mode))
    to_minor = minor(to_version)
    if from_version is not None and from_version[:2] > to_version[:2]:
        raise AmUpgradeError('cannot downgrade the configuration from %s to %s: amupgrade rules only go forward'
                             % (format_version(from_version), format_version(to_version)))
    if mode == 'fbc':
        return [{'rules': FBC_RULES, 'from': None if from_version is None else minor(from_version), 'to': to_minor}]
    if from_version is None:
        raise AmUpgradeError('the configuration carries no version (%s) and from_version is not set: '
                             'Amster rules need the version to start from' % VERSION_FILE)
    from_minor = minor(from_version)
    for label, value, version in (('from_version', from_minor, from_version), ('to_version', to_minor, to_version)):
        if value not in KNOWN_MINORS:
            raise AmUpgradeError('%s %s: no amupgrade rules lead %s %s.x; the known sequence of rules is %s '
                                 '(chain %s -> %s has a gap)'
                                 % (label, format_version(version), 'from' if label == 'from_version' else 'to',
                                    value, _sequence(), from_minor, to_minor))
    start, end = KNOWN_MINORS.index(from_minor), KNOWN_MINORS.index(to_minor)
    return [{'rules': rules_name(a, b), 'from': a, 'to': b}
            for a, b in zip(KNOWN_MINORS[start:end], KNOWN_MINORS[start + 1:end + 1])]


def read_config_version(config_dir):
    """The version string in ``<config_dir>/global/version.json``, or None when there is none."""
    path = os.path.join(config_dir, VERSION_FILE)
    try:
        with open(path, 'rb') as handle:
            document = json.loads(handle.read().decode('utf-8'))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise AmUpgradeError('%s cannot be read as JSON: %s' % (path, exc)) from exc
    if not isinstance(document, dict):
        raise AmUpgradeError('%s is not a JSON object like {"version": "7.5.0"}' % path)
    value = document.get('version')
    if value is not None and not isinstance(value, str):
        raise AmUpgradeError('%s: "version" is not a string: %r' % (path, value))
    return value


def check_home(home, chain):
    """``<home>/amupgrade`` and every rules file of the chain; fails listing all that is missing."""
    if not os.path.isdir(home):
        raise AmUpgradeError('amupgrade_home %s does not exist or is not a directory' % home)
    executable = os.path.join(home, 'amupgrade')
    if not os.path.isfile(executable) or not os.access(executable, os.X_OK):
        raise AmUpgradeError('amupgrade_home %s has no executable amupgrade (looked for %s)' % (home, executable))
    missing = [os.path.join(home, step['rules']) for step in chain
               if not os.path.isfile(os.path.join(home, step['rules']))]
    if missing:
        raise AmUpgradeError('amupgrade_home %s lacks the rules file(s) this upgrade needs: %s'
                             % (home, ', '.join(missing)))
    return executable


# --- is AM running? -----------------------------------------------------------------------

def pid_alive(pid):
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user
    return True


def live_pid_in(path):
    """The PID in ``path`` when it names a live process, else None (missing, empty, stale)."""
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AmUpgradeError('%s cannot be read: %s' % (path, exc)) from exc
    if not text.isdigit():
        return None
    return int(text) if pid_alive(int(text)) else None


def probe_am_url(url, validate_certs=True, opener=None, timeout=URL_PROBE_TIMEOUT):
    """``(running, observation)``: AM counts as running when ``url`` answers any HTTP status but 404.

    A refused connection means not running. Any other error (timeout, DNS, TLS) cannot tell
    and fails, so a hung AM is never taken for a stopped one.
    """
    opener = opener if opener is not None else open_url
    try:
        status = get_status(opener, url, timeout=timeout, validate_certs=validate_certs, follow_redirects='none')
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError):
            return False, 'connection refused'
        raise AmUpgradeError('am_running_url %s: cannot tell whether AM runs: %s' % (url, exc.reason)) from exc
    except ConnectionRefusedError:
        return False, 'connection refused'
    except (UrlsConnectionError, http.client.HTTPException, OSError) as exc:
        raise AmUpgradeError('am_running_url %s: cannot tell whether AM runs: %s' % (url, exc)) from exc
    return status != 404, 'HTTP %s' % status


def running_reasons(config_dir, am_pid_file=None, am_running_url=None, url_probe=probe_am_url):
    """Why AM is considered running (empty list: it is not)."""
    reasons = []
    lock = os.path.join(config_dir, LOCK_FILE)
    pid = live_pid_in(lock)
    if pid is not None:
        reasons.append('%s names the live PID %s' % (lock, pid))
    if am_pid_file:
        pid = live_pid_in(am_pid_file)
        if pid is not None:
            reasons.append('am_pid_file %s names the live PID %s' % (am_pid_file, pid))
    if am_running_url:
        running, observation = url_probe(am_running_url)
        if running:
            reasons.append('am_running_url %s answers (%s)' % (am_running_url, observation))
    return reasons


# --- running amupgrade --------------------------------------------------------------------

def run_process(argv, env, cwd, timeout):
    """Run ``argv``; returns ``(rc, stdout, stderr, timed_out)``. On timeout its process group is killed."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, cwd=cwd, close_fds=True, start_new_session=True)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
    return proc.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace'), timed_out


def backup_path(config_dir, now):
    stamp = time.strftime('%Y%m%dT%H%M%S', time.localtime(now))
    candidate = '%s.%s.bak' % (config_dir, stamp)
    counter = 1
    while os.path.lexists(candidate):
        candidate = '%s.%s-%d.bak' % (config_dir, stamp, counter)
        counter += 1
    return candidate


def adopt_ownership(new_root, old_root):
    """Give files of ``new_root`` the mode (and, as root, owner) of the same path in ``old_root``.

    Paths that did not exist before take the owner of ``old_root``; their mode is left as
    amupgrade wrote it.
    """
    root_stat = os.stat(old_root)
    as_root = os.geteuid() == 0
    for dirpath, dirnames, filenames in os.walk(new_root):
        for name in [''] + dirnames + filenames:
            path = os.path.join(dirpath, name) if name else dirpath
            rel = os.path.relpath(path, new_root)
            old = os.path.normpath(os.path.join(old_root, rel))
            try:
                reference = os.lstat(old)
            except FileNotFoundError:
                reference = None
            if os.path.islink(path):
                continue
            if reference is not None and stat.S_IFMT(reference.st_mode) == stat.S_IFMT(os.lstat(path).st_mode):
                os.chmod(path, stat.S_IMODE(reference.st_mode))
            owner = reference if reference is not None else root_stat
            if as_root:
                os.chown(path, owner.st_uid, owner.st_gid)


class ConfigUpgrade:
    """One configuration directory, one target version: decide, then (unless check mode) act."""

    def __init__(self, amupgrade_home, config_dir, mode, to_version, from_version=None, amster_version=None,
                 staging_dir=None, backup=True, am_pid_file=None, am_running_url=None, java_home=None,
                 timeout=600, keep_files=DEFAULT_KEEP_FILES, check_mode=False, runner=run_process,
                 url_probe=probe_am_url, now=time.time, clock=time.monotonic):
        self.home = amupgrade_home
        self.config_dir = config_dir.rstrip(os.sep) or os.sep
        self.mode = mode
        self.to_version_text = to_version
        self.from_version_text = from_version
        self.amster_version = amster_version if amster_version is not None else to_version
        self.staging_dir = staging_dir
        self.backup = backup
        self.am_pid_file = am_pid_file
        self.am_running_url = am_running_url
        self.java_home = java_home
        self.timeout = timeout
        self.keep_files = list(keep_files or [])
        self.check_mode = check_mode
        self.runner = runner
        self.url_probe = url_probe
        self.now = now
        self.clock = clock
        self.warnings = []
        self.swapped = False
        self.result = {}

    # -- inputs --

    def _check_inputs(self):
        if self.mode not in MODES:
            raise AmUpgradeError('mode must be one of %s, got %r' % (', '.join(MODES), self.mode))
        if self.timeout <= 0:
            raise AmUpgradeError('timeout must be positive, got %s' % self.timeout)
        config_dir = self.config_dir
        if config_dir == os.sep or not os.path.isabs(config_dir):
            raise AmUpgradeError('config_dir must be an absolute path other than /, got %r' % config_dir)
        if os.path.islink(config_dir):
            raise AmUpgradeError('config_dir %s is a symbolic link; give the directory it points to (%s): '
                                 'the upgrade replaces config_dir by renaming' % (config_dir, os.path.realpath(config_dir)))
        if not os.path.isdir(config_dir):
            raise AmUpgradeError('config_dir %s does not exist or is not a directory' % config_dir)
        for rel in self.keep_files:
            if os.path.isabs(rel) or '..' in rel.split('/') or not rel.strip('/'):
                raise AmUpgradeError('keep_files entries are paths relative to config_dir without "..", got %r' % rel)
        parse_version(self.to_version_text, 'to_version')
        if self.mode == 'amster':
            parse_version(self.amster_version, 'amster_version')
        parent = os.path.dirname(config_dir)
        staging = self.staging_dir or parent
        if not os.path.isdir(staging):
            raise AmUpgradeError('staging_dir %s does not exist or is not a directory' % staging)
        real_staging, real_config = os.path.realpath(staging), os.path.realpath(config_dir)
        if real_staging == real_config or real_staging.startswith(real_config + os.sep):
            raise AmUpgradeError('staging_dir %s must not be config_dir %s or inside it' % (staging, config_dir))
        if os.stat(staging).st_dev != os.stat(parent).st_dev:
            raise AmUpgradeError('staging_dir %s is on another file system than %s: the upgraded configuration '
                                 'is moved into place by rename' % (staging, parent))
        return staging

    def _versions(self):
        file_version = read_config_version(self.config_dir)
        to_version = parse_version(self.to_version_text, 'to_version')
        from_version = None
        if file_version is not None:
            from_version = parse_version(file_version, '%s in %s' % (VERSION_FILE, self.config_dir))
        if self.from_version_text is not None:
            given = parse_version(self.from_version_text, 'from_version')
            if from_version is not None and given != from_version:
                raise AmUpgradeError('from_version %s does not match %s in %s, which says %s'
                                     % (self.from_version_text, VERSION_FILE, self.config_dir, file_version))
            from_version = given
        return file_version, from_version, to_version

    # -- the upgrade --

    def run(self):
        """The result dict; ``AmUpgradeError`` (carrying the result so far) when the upgrade cannot go on."""
        try:
            return self._run()
        except AmUpgradeError as exc:
            if not exc.result and self.result:
                exc.result = dict(self.result)
            if exc.result:
                # A failure before the swap, or in it, leaves (or puts back) the previous tree.
                exc.result['changed'] = self.swapped
            raise

    def _run(self):
        staging = self._check_inputs()
        file_version, from_version, to_version = self._versions()
        before = file_version if file_version is not None else format_version(from_version)
        self.result = dict(
            changed=False, config_dir=self.config_dir, mode=self.mode, to_version=self.to_version_text,
            version_before=before, version_after=before, chain=[], steps=[], backup_dir=None, kept_files=[],
            am_running=[],
            diff=dict(before=dict(version=before), after=dict(version=before),
                      before_header='%s (%s)' % (self.config_dir, VERSION_FILE),
                      after_header='%s (%s)' % (self.config_dir, VERSION_FILE)),
        )
        if from_version is not None and minor(from_version) == minor(to_version):
            self.result['msg'] = 'configuration %s is already at %s (%s)' % (
                self.config_dir, minor(to_version), before)
            return self.result

        chain = plan_chain(self.mode, from_version, to_version)
        executable = check_home(self.home, chain)
        self.result['chain'] = [step['rules'] for step in chain]
        reasons = running_reasons(self.config_dir, self.am_pid_file, self.am_running_url, self.url_probe)
        self.result['am_running'] = reasons
        if reasons and not self.check_mode:
            raise AmUpgradeError("AM is running, and amupgrade can't upgrade a running AM; stop it first: %s"
                                 % '; '.join(reasons), **self.result)
        if reasons:
            self.warnings.append('AM is running (%s): the upgrade would be refused unless AM is stopped first'
                                 % '; '.join(reasons))

        self.result['changed'] = True
        self.result['diff']['after'] = dict(version=self.to_version_text)
        if self.check_mode:
            work = os.path.join(staging, '.%s.amupgrade.XXXXXX' % os.path.basename(self.config_dir))
            source = self.config_dir
            for index, step in enumerate(chain, 1):
                output = os.path.join(work, 'step%d' % index)
                self.result['steps'].append(self._step_record(step, self._command(executable, step, source, output)))
                source = output
            self.result['version_after'] = self.to_version_text
            self.result['msg'] = 'would run %d amupgrade step(s) %s -> %s: %s' % (
                len(chain), before or 'unversioned', self.to_version_text, ', '.join(self.result['chain']))
            return self.result

        work = tempfile.mkdtemp(prefix='.%s.amupgrade.' % os.path.basename(self.config_dir), dir=staging)
        try:
            final = self._run_steps(executable, chain, work, to_version)
            self._carry_over(final)
            adopt_ownership(final, self.config_dir)
            self._swap(final, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)

        after = read_config_version(self.config_dir)
        self.result['version_after'] = after
        self.result['diff']['after'] = dict(version=after)
        self.result['msg'] = 'upgraded %s from %s to %s in %d step(s)%s' % (
            self.config_dir, before or 'unversioned', after, len(chain),
            '; previous configuration kept in %s' % self.result['backup_dir'] if self.result['backup_dir'] else '')
        return self.result

    def _command(self, executable, step, source, output):
        rules = os.path.join(self.home, step['rules'])
        if self.mode == 'fbc':
            return [executable, '-i', source, '-o', output, '--fileBasedMode', rules, '--ignoreNoRuleTracking']
        return [executable, '-i', source, '-o', output, '-a', self.amster_version, rules]

    def _step_record(self, step, command):
        return dict(rules_file=os.path.join(self.home, step['rules']), command=command,
                    from_version=step['from'], to_version=step['to'], rc=None, stdout_lines=[], stderr_lines=[],
                    version_after=None, seconds=None)

    def _environ(self):
        env = dict(os.environ)
        if self.java_home:
            env['JAVA_HOME'] = self.java_home
            env['PATH'] = os.path.join(self.java_home, 'bin') + os.pathsep + env.get('PATH', os.defpath)
        return env

    def _run_steps(self, executable, chain, work, to_version):
        source = self.config_dir
        env = self._environ()
        for index, step in enumerate(chain, 1):
            output = os.path.join(work, 'step%d' % index)
            record = self._step_record(step, self._command(executable, step, source, output))
            self.result['steps'].append(record)
            started = self.clock()
            rc, out, err, timed_out = self.runner(record['command'], env, self.home, self.timeout)
            record.update(rc=rc, stdout_lines=out.splitlines(), stderr_lines=err.splitlines(),
                          seconds=round(self.clock() - started, 3))
            problem = None
            if timed_out:
                problem = 'did not finish within %ss and was killed' % self.timeout
            elif rc != 0:
                problem = 'exited with rc=%s' % rc
            elif COMPLETED_MARKER not in out:
                problem = 'exited with rc=0 but did not print "%s ..."' % COMPLETED_MARKER
            elif not os.path.isdir(output):
                problem = 'reported success but wrote no %s' % output
            else:
                record['version_after'] = read_config_version(output)
                expected = step['to']
                got = record['version_after']
                if got is None or minor(parse_version(got, 'version written by step %d' % index)) != expected:
                    problem = ('reported success but %s in its output says %s, not %s.x%s'
                               % (VERSION_FILE, got, expected,
                                  ' (is amupgrade_home the upgrader for %s?)' % self.to_version_text
                                  if self.mode == 'fbc' else ''))
            if problem:
                detail = (err.strip() or out.strip() or '(no output)').splitlines()[-20:]
                raise AmUpgradeError('amupgrade step %d of %d (%s) %s; %s is unchanged: %s'
                                     % (index, len(chain), step['rules'], problem, self.config_dir,
                                        ' | '.join(detail)), **self.result)
            source = output
        return source

    def _carry_over(self, final):
        """Files amupgrade does not carry (the runbook copies noninteractive-install.properties back)."""
        for rel in self.keep_files:
            old, new = os.path.join(self.config_dir, rel), os.path.join(final, rel)
            if os.path.isfile(old) and not os.path.lexists(new):
                os.makedirs(os.path.dirname(new), exist_ok=True)
                shutil.copy2(old, new)
                self.result['kept_files'].append(rel)

    def _swap(self, final, work):
        """Two renames: config_dir -> backup (or into the work dir), final -> config_dir."""
        config_dir = self.config_dir
        parent = os.path.dirname(config_dir)
        aside = backup_path(config_dir, self.now()) if self.backup else os.path.join(work, 'previous')
        try:
            os.rename(config_dir, aside)
        except OSError as exc:
            raise AmUpgradeError('moving %s aside to %s failed: %s; %s is unchanged'
                                 % (config_dir, aside, exc, config_dir), **self.result) from exc
        try:
            os.rename(final, config_dir)
        except OSError as exc:
            os.rename(aside, config_dir)
            raise AmUpgradeError('moving the upgraded configuration into %s failed: %s; the previous configuration '
                                 'was put back' % (config_dir, exc), **self.result) from exc
        self.swapped = True
        fsync_dir(parent)
        if self.backup:
            self.result['backup_dir'] = aside
