# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A strict stand-in for Ping AM's ``amupgrade`` configuration upgrader, release 8.1.0.

What it models, and from where
------------------------------
The ``amupgrade`` utility shipped in ``Config-Upgrader-8.1.0.zip`` with PingAM 8.1, as the
PingAM 8.1 upgrade guide describes it ("Upgrade the server and configuration" > "amupgrade",
https://docs.pingidentity.com/pingam/8.1/upgrade/upgrade-server.html; summarised in
/work/shared/reference/domain-facts.md, section "Ping Identity AM 8.1"):

* command line: ``-i/--inputConfig DIR``, ``-o/--output DIR``, ``-a/--amsterVersion VERSION``
  (required unless ``-m/--fileBasedMode``), ``--ignoreNoRuleTracking``, ``--clean true|false``
  (default true: the output directory is emptied first), ``--prettyArrays``, ``-v``; the
  remaining arguments are rules files, applied in the order given;
* rules are sequential, one minor version per file: ``rules/amster/7.2.x-to-7.3.x.groovy``,
  ``7.3.x-to-7.4.x``, ``7.4.x-to-7.5.x``, ``7.5.x-to-8.1.x``; a file-based configuration (FBC)
  uses ``rules/fbc/latest.groovy`` with ``--fileBasedMode`` and ``--ignoreNoRuleTracking``;
* it cannot upgrade the configuration of a running AM;
* on success it prints (paths as given on the command line)::

      Reading existing configuration from files in <in>…
      Modifying configuration based on rules in [<rules>]…
      reading configuration from Amster json files        (Amster mode only)
      Writing configuration to new location at <out>…
      Upgrade Completed, modified configuration saved to <out>

What it does NOT model (not in any public source, so chosen here and stated):

* The configuration is a directory tree of files; its version is ``global/version.json``
  ``{"version": "X.Y.Z"}`` (the lab's contract). A step sets it to the step's target ``X.Y.0``
  (FBC ``latest`` sets 8.1.0, this release) and appends to ``global/_upgrade-history.json``.
  Every ``*.json`` file must parse; other files are copied byte for byte. Nothing else of
  the real rules (Groovy scripts that rewrite entities) is modelled: the simulator only
  reads the *name* of a rules file, never its content.
* "AM is running" means ``<inputConfig>/.am.lock`` holds the PID of a live process (the
  lab's stand-in AM writes it and removes it on a clean shutdown). The lock is never copied.
* Exit codes (real ones are undocumented): 0 success; 1 the configuration cannot be
  upgraded (version does not match the rules, no version without ``--ignoreNoRuleTracking``,
  AM running, a JSON file that does not parse, an I/O error, an injected failure); 2 the
  command line is wrong (unknown or repeated option, missing value, missing ``-i``/``-o``,
  missing ``-a`` without ``--fileBasedMode``, a rules file that does not exist or whose name
  is not a known rule, FBC and Amster rules mixed with the wrong mode, input missing, output
  overlapping the input). On any non-zero exit the message is on stderr and nothing is
  written (all checks and all rules run in memory before the first write).
* ``AMUPGRADE_SIM_FAIL_AT=<rules file basename>`` makes the step with that rules file fail
  (exit 1, "injected failure"), for tests.
* ``-v`` adds one line per step (``Applied <rules>: <from> -> <to>``).

Sim-only mode, not part of amupgrade: ``--install-home DIR [--python PATH]`` lays out an
amupgrade home like the unpacked ``Config-Upgrader-8.1.0.zip``: an executable ``DIR/amupgrade``
(``/bin/sh`` wrapper running a copy of this script, ``DIR/lib/amupgrade_sim.py``, with
``/usr/bin/python3`` unless ``--python``) and the rules files, each with a comment header.
Through the wrapper this mode is refused like any other unknown option.

Run it as ``python3 tests/simulators/amupgrade.py ...`` or through an installed home's
``amupgrade``. Standard library only, Python 3.6 or later.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import sys


RELEASE = '8.1.0'
TOOL = 'amupgrade-simulator %s' % RELEASE

EXIT_OK = 0
EXIT_UPGRADE = 1
EXIT_USAGE = 2

LOCK_FILE = '.am.lock'
VERSION_FILE = os.path.join('global', 'version.json')
HISTORY_FILE = os.path.join('global', '_upgrade-history.json')
FAIL_AT_ENV = 'AMUPGRADE_SIM_FAIL_AT'
WRAPPED_ENV = 'AMUPGRADE_SIM_WRAPPED'

# basename -> (kind, from major.minor or None, target version)
RULES = {
    '7.2.x-to-7.3.x.groovy': ('amster', '7.2', '7.3.0'),
    '7.3.x-to-7.4.x.groovy': ('amster', '7.3', '7.4.0'),
    '7.4.x-to-7.5.x.groovy': ('amster', '7.4', '7.5.0'),
    '7.5.x-to-8.1.x.groovy': ('amster', '7.5', '8.1.0'),
    'latest.groovy': ('fbc', None, RELEASE),
}

USAGE = """usage: amupgrade -i|--inputConfig DIR -o|--output DIR
                 (-a|--amsterVersion VERSION | -m|--fileBasedMode)
                 [--ignoreNoRuleTracking] [--clean true|false] [--prettyArrays] [-v]
                 RULES_FILE [RULES_FILE ...]
exit codes: 0 upgraded, 1 configuration cannot be upgraded, 2 usage error
(amupgrade simulator, release %s)""" % RELEASE

VERSION_RE = re.compile(r'^(\d+)\.(\d+)\.(\d+)$')


class SimError(Exception):
    """Stop with ``code`` and ``message`` on stderr; nothing has been written."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def usage_error(message):
    return SimError(EXIT_USAGE, '%s\n%s' % (message, USAGE))


# --- command line -------------------------------------------------------------------------

VALUE_OPTIONS = {
    '-i': 'input', '--inputConfig': 'input',
    '-o': 'output', '--output': 'output',
    '-a': 'amster_version', '--amsterVersion': 'amster_version',
}
FLAG_OPTIONS = {
    '-m': 'file_based', '--fileBasedMode': 'file_based',
    '--ignoreNoRuleTracking': 'ignore_no_rule_tracking',
    '--prettyArrays': 'pretty_arrays',
    '-v': 'verbose',
}


def parse_args(argv):
    """Strict parse of amupgrade's options; raises ``SimError`` (exit 2) on anything unknown."""
    opts = dict(input=None, output=None, amster_version=None, file_based=False,
                ignore_no_rule_tracking=False, pretty_arrays=False, verbose=False, clean=True,
                rules=[], help=False)
    seen = set()
    args = list(argv)
    index = 0
    only_positional = False
    while index < len(args):
        arg = args[index]
        index += 1
        if only_positional or not arg.startswith('-') or arg == '-':
            opts['rules'].append(arg)
            continue
        if arg == '--':
            only_positional = True
            continue
        name, has_inline, inline = arg.partition('=') if arg.startswith('--') else (arg, '', '')
        if name in ('-h', '--help') and not has_inline:
            opts['help'] = True
            continue
        if name in seen:
            raise usage_error('option %s given more than once' % name)
        if name in VALUE_OPTIONS:
            if has_inline:
                value = inline
            elif index < len(args):
                value = args[index]
                index += 1
            else:
                raise usage_error('option %s needs a value' % name)
            if value == '' or (value.startswith('-') and not has_inline):
                raise usage_error('option %s needs a value, got %r' % (name, value))
            key = VALUE_OPTIONS[name]
            if opts[key] is not None:
                raise usage_error('option %s given more than once' % name)
            opts[key] = value
        elif name in FLAG_OPTIONS:
            if has_inline:
                raise usage_error('option %s takes no value' % name)
            key = FLAG_OPTIONS[name]
            if opts[key]:
                raise usage_error('option %s given more than once' % name)
            opts[key] = True
        elif name == '--clean':
            if has_inline:
                value = inline
            elif index < len(args) and args[index].lower() in ('true', 'false'):
                value = args[index]
                index += 1
            else:
                value = 'true'
            if value.lower() not in ('true', 'false'):
                raise usage_error('option --clean takes true or false, got %r' % value)
            opts['clean'] = value.lower() == 'true'
        else:
            raise usage_error('unknown option %s' % arg)
        seen.add(name)
    return opts


def parse_version(text):
    match = VERSION_RE.match(text or '')
    if not match:
        return None
    return tuple(int(part) for part in match.groups())


def minor_of(version):
    return '%d.%d' % version[:2]


# --- checks that need no configuration ----------------------------------------------------

def check_command_line(opts):
    """Everything that only depends on the command line; returns the resolved rules."""
    if opts['input'] is None:
        raise usage_error('missing required option -i/--inputConfig')
    if opts['output'] is None:
        raise usage_error('missing required option -o/--output')
    if not opts['file_based'] and opts['amster_version'] is None:
        raise usage_error('missing required option -a/--amsterVersion (required unless -m/--fileBasedMode)')
    if opts['amster_version'] is not None and parse_version(opts['amster_version']) is None:
        raise usage_error('-a/--amsterVersion must be a version like 8.1.0, got %r' % opts['amster_version'])
    if not opts['rules']:
        raise usage_error('no rules file given (for example rules/amster/7.5.x-to-8.1.x.groovy)')

    rules = []
    for path in opts['rules']:
        base = os.path.basename(path)
        if base not in RULES:
            raise usage_error('%s is not a known rules file; this amupgrade (%s) knows %s'
                              % (path, RELEASE, ', '.join(sorted(RULES))))
        if not os.path.isfile(path):
            raise usage_error('rules file %s does not exist' % path)
        kind, from_minor, target = RULES[base]
        if kind == 'fbc' and not opts['file_based']:
            raise usage_error('rules file %s is for a file-based configuration: it needs -m/--fileBasedMode' % path)
        if kind == 'amster' and opts['file_based']:
            raise usage_error('rules file %s is for an Amster export: it cannot be used with -m/--fileBasedMode'
                              % path)
        rules.append(dict(path=path, name=base, kind=kind, from_minor=from_minor, target=target))
    if opts['file_based'] and len(rules) > 1:
        raise usage_error('-m/--fileBasedMode takes exactly one rules file (rules/fbc/latest.groovy), got %d'
                          % len(rules))

    src = opts['input']
    if not os.path.isdir(src):
        raise usage_error('input configuration %s does not exist or is not a directory' % src)
    real_in = os.path.realpath(src)
    real_out = os.path.realpath(opts['output'])
    if real_in == real_out or real_out.startswith(real_in + os.sep) or real_in.startswith(real_out + os.sep):
        raise usage_error('output %s must not be the input configuration %s, inside it, or contain it'
                          % (opts['output'], src))
    if os.path.exists(opts['output']) and not os.path.isdir(opts['output']):
        raise usage_error('output %s exists and is not a directory' % opts['output'])
    return rules


# --- the configuration --------------------------------------------------------------------

def pid_alive(pid):
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_not_running(src):
    lock = os.path.join(src, LOCK_FILE)
    try:
        with open(lock) as handle:
            text = handle.read().strip()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise SimError(EXIT_UPGRADE, 'cannot read %s: %s' % (lock, exc))
    if text.isdigit() and pid_alive(int(text)):
        raise SimError(EXIT_UPGRADE, "AM is running (PID %s holds %s): amupgrade can't upgrade a running AM "
                                     "instance; stop AM first" % (text, lock))


def read_tree(src):
    """``{relative path: bytes}`` of every regular file except the AM lock; symlinks refused."""
    files = {}
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, src)
            if rel == LOCK_FILE:
                continue
            mode = os.lstat(path).st_mode
            if stat.S_ISLNK(mode):
                raise SimError(EXIT_UPGRADE, 'configuration file %s is a symbolic link; not supported' % path)
            if not stat.S_ISREG(mode):
                continue
            try:
                with open(path, 'rb') as handle:
                    files[rel] = handle.read()
            except OSError as exc:
                raise SimError(EXIT_UPGRADE, 'cannot read %s: %s' % (path, exc))
    for rel, data in files.items():
        if rel.endswith('.json'):
            try:
                json.loads(data.decode('utf-8'))
            except (UnicodeDecodeError, ValueError) as exc:
                raise SimError(EXIT_UPGRADE, 'configuration file %s is not valid JSON: %s'
                               % (os.path.join(src, rel), exc))
    return files


def config_version(files, src):
    """The version in global/version.json, or None when the configuration carries none."""
    data = files.get(VERSION_FILE)
    if data is None:
        return None
    document = json.loads(data.decode('utf-8'))
    text = document.get('version') if isinstance(document, dict) else None
    if text is None:
        return None
    version = parse_version(text) if isinstance(text, str) else None
    if version is None:
        raise SimError(EXIT_UPGRADE, '%s: version %r is not a version like 7.5.0'
                       % (os.path.join(src, VERSION_FILE), text))
    return version


def dump_json(document, pretty_arrays):
    if pretty_arrays:
        return json.dumps(document, indent=2, sort_keys=False) + '\n'
    # Arrays on one line, objects indented: what amupgrade writes without --prettyArrays.
    return _compact_arrays(document, 0) + '\n'


def _compact_arrays(value, level):
    if isinstance(value, dict):
        if not value:
            return '{}'
        pad = '  ' * (level + 1)
        items = ['%s%s: %s' % (pad, json.dumps(key), _compact_arrays(item, level + 1)) for key, item in value.items()]
        return '{\n%s\n%s}' % (',\n'.join(items), '  ' * level)
    return json.dumps(value, separators=(', ', ': '))


def apply_rules(files, rules, opts):
    """Run every rules step in memory; returns the lines ``-v`` prints."""
    src = opts['input']
    version = config_version(files, src)
    fail_at = os.environ.get(FAIL_AT_ENV)
    history = json.loads(files[HISTORY_FILE].decode('utf-8')) if HISTORY_FILE in files else []
    if not isinstance(history, list):
        raise SimError(EXIT_UPGRADE, '%s is not a JSON list' % os.path.join(src, HISTORY_FILE))
    verbose = []
    for rule in rules:
        if version is None and not opts['ignore_no_rule_tracking']:
            raise SimError(EXIT_UPGRADE, 'configuration %s carries no version (%s is missing or has none): '
                                         'cannot apply %s without --ignoreNoRuleTracking'
                           % (src, VERSION_FILE, rule['path']))
        if version is not None:
            if rule['kind'] == 'amster' and minor_of(version) != rule['from_minor']:
                raise SimError(EXIT_UPGRADE, 'rules %s upgrade from %s.x but the configuration is version %s '
                                             '(%s.x); run the rules for %s.x first'
                               % (rule['path'], rule['from_minor'], '.'.join(map(str, version)),
                                  minor_of(version), minor_of(version)))
            if version > parse_version(RELEASE):
                raise SimError(EXIT_UPGRADE, 'configuration version %s is newer than this amupgrade (%s)'
                               % ('.'.join(map(str, version)), RELEASE))
        if fail_at and fail_at == rule['name']:
            raise SimError(EXIT_UPGRADE, 'injected failure applying %s (%s=%s)' % (rule['path'], FAIL_AT_ENV, fail_at))
        before = None if version is None else '.'.join(map(str, version))
        document = json.loads(files[VERSION_FILE].decode('utf-8')) if VERSION_FILE in files else {}
        if not isinstance(document, dict):
            raise SimError(EXIT_UPGRADE, '%s is not a JSON object' % os.path.join(src, VERSION_FILE))
        document['version'] = rule['target']
        files[VERSION_FILE] = dump_json(document, opts['pretty_arrays']).encode('utf-8')
        history.append({'from': before, 'to': rule['target'], 'rules': rule['name'], 'tool': TOOL,
                        'amsterVersion': opts['amster_version'], 'fileBasedMode': opts['file_based']})
        version = parse_version(rule['target'])
        verbose.append('Applied %s: %s -> %s' % (rule['path'], before or 'unversioned', rule['target']))
    files[HISTORY_FILE] = dump_json(history, opts['pretty_arrays']).encode('utf-8')
    return verbose


def write_tree(out, files, clean):
    try:
        if clean and os.path.isdir(out):
            for name in os.listdir(out):
                path = os.path.join(out, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
        os.makedirs(out, exist_ok=True)
        for rel in sorted(files):
            path = os.path.join(out, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, 'wb') as handle:
                handle.write(files[rel])
    except OSError as exc:
        raise SimError(EXIT_UPGRADE, 'cannot write the configuration to %s: %s' % (out, exc))


def upgrade(argv, out=None):
    """amupgrade itself; returns the exit code (messages already printed)."""
    out = out or sys.stdout
    opts = parse_args(argv)
    if opts['help']:
        out.write(USAGE + '\n')
        return EXIT_OK
    rules = check_command_line(opts)
    src, dest = opts['input'], opts['output']
    check_not_running(src)
    files = read_tree(src)
    verbose = apply_rules(files, rules, opts)
    # Everything checked and computed: only now print and write.
    out.write('Reading existing configuration from files in %s…\n' % src)
    out.write('Modifying configuration based on rules in [%s]…\n' % ', '.join(rule['path'] for rule in rules))
    if not opts['file_based']:
        out.write('reading configuration from Amster json files\n')
    if opts['verbose']:
        for line in verbose:
            out.write(line + '\n')
    out.write('Writing configuration to new location at %s…\n' % dest)
    out.flush()
    write_tree(dest, files, opts['clean'])
    out.write('Upgrade Completed, modified configuration saved to %s\n' % dest)
    out.flush()
    return EXIT_OK


# --- the amupgrade home -------------------------------------------------------------------

WRAPPER = """#!/bin/sh
# amupgrade (simulator, release {release}): runs lib/amupgrade_sim.py from this directory.
# Laid out by tests/simulators/amupgrade.py --install-home; not Ping Identity software.
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd) || exit 2
{wrapped}=1 exec {python} "$here/lib/amupgrade_sim.py" "$@"
"""

RULES_HEADER = """// {name}: rules file of the amupgrade simulator (release {release}), not Ping Identity software.
// {what}
// The simulator reads only this file's name; it must exist for amupgrade to accept it.
"""


def install_home(dest, python='/usr/bin/python3'):
    """Lay out an amupgrade home in ``dest`` (created if missing; our files are overwritten).

    Returns the path of the ``amupgrade`` executable.
    """
    if not os.path.isabs(python):
        raise ValueError('python must be an absolute path, got %r' % (python,))
    os.makedirs(os.path.join(dest, 'lib'), exist_ok=True)
    shutil.copyfile(os.path.abspath(__file__), os.path.join(dest, 'lib', 'amupgrade_sim.py'))
    for name, (kind, from_minor, target) in sorted(RULES.items()):
        directory = os.path.join(dest, 'rules', kind)
        os.makedirs(directory, exist_ok=True)
        if kind == 'fbc':
            what = 'File-based configuration (any version, --fileBasedMode --ignoreNoRuleTracking) -> %s.' % target
        else:
            what = 'Amster export %s.x -> %s.' % (from_minor, target)
        with open(os.path.join(directory, name), 'w') as handle:
            handle.write(RULES_HEADER.format(name='rules/%s/%s' % (kind, name), release=RELEASE, what=what))
    wrapper = os.path.join(dest, 'amupgrade')
    with open(wrapper, 'w') as handle:
        handle.write(WRAPPER.format(release=RELEASE, python=python, wrapped=WRAPPED_ENV))
    os.chmod(wrapper, 0o755)
    return wrapper


def install_main(argv):
    if len(argv) not in (2, 4) or argv[0] != '--install-home' or (len(argv) == 4 and argv[2] != '--python'):
        raise SimError(EXIT_USAGE, 'usage: amupgrade.py --install-home DIR [--python /usr/bin/python3]')
    python = argv[3] if len(argv) == 4 else '/usr/bin/python3'
    try:
        wrapper = install_home(argv[1], python)
    except (OSError, ValueError) as exc:
        raise SimError(EXIT_UPGRADE, 'cannot lay out an amupgrade home in %s: %s' % (argv[1], exc))
    sys.stdout.write('amupgrade home (simulator %s) laid out: %s\n' % (RELEASE, wrapper))
    return EXIT_OK


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, 'reconfigure', None)
        if reconfigure is not None:
            reconfigure(encoding='utf-8', errors='replace')
    try:
        if argv and argv[0] == '--install-home' and not os.environ.get(WRAPPED_ENV):
            return install_main(argv)
        return upgrade(argv)
    except SimError as exc:
        sys.stderr.write('ERROR: %s\n' % exc)
        return exc.code


if __name__ == '__main__':
    sys.exit(main())
