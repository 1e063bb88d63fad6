# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""Secret-key entries in Java keystores (JCEKS, PKCS12) through keytool.

``keytool`` does the writing. It cannot print anything about a secret key beyond
``Entry type: SecretKeyEntry`` (JDK 17 and 25 both print no algorithm and no size), so a
small Java program, launched from source with the ``java`` next to ``keytool``, reads the
algorithm, the size and a SHA-256 fingerprint of the key material when a JDK is present.
Without it only the entry type is known, and the idempotence policy says what then happens.

Passwords never appear on a command line: they go into files created with mode 0600 in
a private directory, passed as ``-storepass:file`` and friends, and removed afterwards.
Every change is made on a copy of the keystore in the keystore's own directory, checked,
and then renamed over the original, so a failed keytool run leaves the keystore as it was.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile


STORE_TYPES = ('JCEKS', 'PKCS12')
KEY_ALGORITHMS = ('AES', 'HmacSHA256', 'HmacSHA384', 'HmacSHA512')
KEY_SIZES = (128, 192, 256)
REGENERATE = ('never', 'fail', 'full_idempotence', 'always')
INSPECTION = ('auto', 'java', 'keytool')

# Force English messages, a fixed date format and UTF-8 password files, whatever the host's locale.
KEYTOOL_JVM_ARGS = ('-J-Duser.language=en', '-J-Duser.country=US', '-J-Dfile.encoding=UTF-8')
C_LOCALE = {'LC_ALL': 'C', 'LANG': 'C'}

MIN_PASSWORD_LENGTH = 6  # keytool refuses shorter passwords for new keystores and keys

FINGERPRINT_DOMAIN = 'idmops.lifecycle/java_secret_key/v1'

_MAGIC_JCEKS = b'\xce\xce\xce\xce'
_MAGIC_JKS = b'\xfe\xed\xfe\xed'


class KeystoreError(Exception):
    """An error to report; ``param`` names the offending module option when there is one."""

    def __init__(self, msg, param=None, **result):
        super().__init__(msg)
        self.param = param
        self.result = result


class InspectionUnavailable(Exception):
    """The Java key probe cannot run here (no java, or a runtime without the source launcher)."""


# --- inputs -----------------------------------------------------------------------------------

def read_password_file(path, param):
    """Return the password in ``path`` as keytool reads a ``:file`` password: the first line.

    A trailing ``\\n``, ``\\r\\n`` or ``\\r`` is not part of the password; other whitespace is.
    """
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise KeystoreError('%s: cannot read %s: %s' % (param, path, exc.strerror or exc), param=param)
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        raise KeystoreError('%s: %s is not UTF-8 text' % (param, path), param=param)
    password = re.split(r'\r\n|\r|\n', text, maxsplit=1)[0]
    if not password:
        raise KeystoreError('%s: the first line of %s is empty' % (param, path), param=param)
    return password


def check_password(password, param):
    if '\n' in password or '\r' in password:
        raise KeystoreError('%s must be a single line; keytool reads only the first line of a password file'
                            % param, param=param)
    if not password:
        raise KeystoreError('%s must not be empty' % param, param=param)


def check_alias(alias, param='alias'):
    if not alias or alias != alias.strip() or any(ord(c) < 32 for c in alias):
        raise KeystoreError('%s must be a non-empty name without leading or trailing blanks or control '
                            'characters, got %r' % (param, alias), param=param)


def detect_store_type(path):
    """Keystore type from the file's first bytes: 'JCEKS', 'JKS', 'PKCS12', 'empty' or None (unknown)."""
    with open(path, 'rb') as handle:
        head = handle.read(4)
    if not head:
        return 'empty'
    if head == _MAGIC_JCEKS:
        return 'JCEKS'
    if head == _MAGIC_JKS:
        return 'JKS'
    if head[:1] == b'\x30':  # DER SEQUENCE: PKCS#12 PFX
        return 'PKCS12'
    return None


def check_keystore_file(path, store_type, param_path, param_type):
    """Fail unless ``path`` is a regular, readable keystore file of ``store_type``.

    ``store_type`` None means detect it; the detected (or given) type is returned.
    """
    if os.path.isdir(path):
        raise KeystoreError('%s: %s is a directory, not a keystore file' % (param_path, path), param=param_path)
    try:
        detected = detect_store_type(path)
    except (IOError, OSError) as exc:
        raise KeystoreError('%s: cannot read %s: %s' % (param_path, path, exc.strerror or exc), param=param_path)
    if detected == 'empty':
        raise KeystoreError('%s: %s is an empty file, not a keystore' % (param_path, path), param=param_path)
    if detected is None:
        raise KeystoreError('%s: %s is not a JCEKS or PKCS12 keystore' % (param_path, path), param=param_path)
    if detected == 'JKS':
        raise KeystoreError('%s: %s is a JKS keystore, which cannot hold secret keys; convert it to JCEKS or '
                            'PKCS12 with keytool -importkeystore first' % (param_path, path), param=param_path)
    if store_type is not None and detected != store_type:
        raise KeystoreError('%s: %s is a %s keystore but %s is %s' % (param_type, path, detected, param_type, store_type),
                            param=param_type)
    return detected


# --- keytool output ---------------------------------------------------------------------------

_COUNT_RE = re.compile(r'^Your keystore contains (\d+) entr(?:y|ies)\s*$')
_FIELD_RE = re.compile(r'^(Keystore type|Keystore provider|Alias name|Creation date|Entry type): ?(.*?)\s*$')


def parse_list_verbose(text):
    """Parse ``keytool -list -v`` output (English, forced with ``-J-Duser.language=en``).

    Returns ``{'store_type', 'provider', 'entries': [{'alias', 'entry_type', 'creation_date'}]}``.
    Raises KeystoreError when the output does not look like a listing, or when the number of
    entries found differs from the count keytool states, so that output we do not understand is
    never taken for "the alias is absent".
    """
    listing = {'store_type': None, 'provider': None, 'entries': []}
    count = None
    current = None
    for line in text.splitlines():
        match = _COUNT_RE.match(line)
        if match:
            count = int(match.group(1))
            continue
        match = _FIELD_RE.match(line)
        if not match:
            continue
        field, value = match.groups()
        if field == 'Keystore type':
            listing['store_type'] = value
        elif field == 'Keystore provider':
            listing['provider'] = value
        elif field == 'Alias name':
            current = {'alias': value, 'entry_type': None, 'creation_date': None}
            listing['entries'].append(current)
        elif current is not None:
            # Certificate details follow an entry's own fields; keep the first value of each field.
            key = 'entry_type' if field == 'Entry type' else 'creation_date'
            if current[key] is None:
                current[key] = value
    if count is None or listing['store_type'] is None:
        raise KeystoreError('unexpected keytool -list output (no keystore type or entry count): %s'
                            % _first_lines(text))
    if count != len(listing['entries']) or any(e['entry_type'] is None for e in listing['entries']):
        raise KeystoreError('unexpected keytool -list output: it states %d entries but %d could be read: %s'
                            % (count, len(listing['entries']), _first_lines(text)))
    return listing


def find_entry(listing, alias):
    """The entry of ``alias`` (compared case-insensitively, as JCEKS and PKCS12 store aliases) or None."""
    wanted = alias.lower()
    for entry in listing['entries']:
        if entry['alias'].lower() == wanted:
            return entry
    return None


def keytool_error(output):
    """A short, classified message from keytool output that ends in an error (keytool prints errors on stdout)."""
    line = None
    for candidate in output.splitlines():
        if candidate.startswith('keytool error: '):
            line = candidate[len('keytool error: '):].strip()
            break
    text = line or _first_lines(output)
    if ('password was incorrect' in output or 'Failed PKCS12 integrity checking' in output
            or 'Password verification failed' in output):
        return 'wrong_password', 'the keystore password is wrong (keytool: %s)' % text
    if 'Invalid keystore format' in output or 'DerInputStream' in output or 'toDerInputStream' in output:
        return 'format', 'not a keystore of the expected type (keytool: %s)' % text
    if 'already exists' in output:
        return 'exists', text
    if 'does not exist' in output:
        return 'missing', text
    if 'Cannot recover key' in output or 'UnrecoverableKeyException' in output:
        return 'key_password', 'the key password is wrong (keytool: %s)' % text
    return 'other', text


def _first_lines(text, limit=3):
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return '(no output)'
    return ' | '.join(lines[:limit])


# --- private files for passwords ------------------------------------------------------------------

class SecretFiles(object):
    """A private directory (0700) holding one 0600 file per secret, removed on exit."""

    def __init__(self, tmpdir=None):
        self.tmpdir = tmpdir
        self.path = None

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix='idmops-keytool-', dir=self.tmpdir)
        os.chmod(self.path, 0o700)
        return self

    def write(self, name, content):
        path = os.path.join(self.path, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'wb') as handle:
            handle.write(content.encode('utf-8'))
        return path

    def __exit__(self, *exc_info):
        if self.path:
            shutil.rmtree(self.path, ignore_errors=True)
        return False


class Secret(object):
    """A placeholder in a keytool argument list, replaced by the path of a private file holding ``value``."""

    def __init__(self, name, value):
        self.name = name
        self.value = value


# --- keytool -------------------------------------------------------------------------------------

class Keytool(object):
    """Runs keytool with English output, the C locale and passwords in private files."""

    def __init__(self, run_command, executable, tmpdir=None):
        self.run_command = run_command
        self.executable = executable
        self.tmpdir = tmpdir

    def _run(self, args):
        with SecretFiles(self.tmpdir) as secrets:
            argv = [self.executable] + list(KEYTOOL_JVM_ARGS)
            for arg in args:
                argv.append(secrets.write(arg.name, arg.value) if isinstance(arg, Secret) else arg)
            rc, out, err = self.run_command(argv, environ_update=dict(C_LOCALE))
        return rc, out or '', err or ''

    def _check(self, what, rc, out, err, path):
        if rc != 0:
            kind, message = keytool_error(out + '\n' + err)
            raise KeystoreError('keytool %s on %s failed: %s' % (what, path, message), error_kind=kind)

    def list(self, path, store_type, store_password):
        rc, out, err = self._run(['-list', '-v', '-keystore', path, '-storetype', store_type,
                                  '-storepass:file', Secret('storepass', store_password)])
        self._check('-list', rc, out, err, path)
        return parse_list_verbose(out)

    def genseckey(self, path, store_type, store_password, alias, algorithm, size, key_password):
        args = ['-genseckey', '-alias', alias, '-keyalg', algorithm, '-keysize', str(size),
                '-keystore', path, '-storetype', store_type, '-storepass:file', Secret('storepass', store_password)]
        if store_type != 'PKCS12':
            args += ['-keypass:file', Secret('keypass', key_password)]
        rc, out, err = self._run(args)
        self._check('-genseckey', rc, out, err, path)

    def import_entry(self, source, dest):
        """Copy one entry; ``source`` and ``dest`` are dicts of path, store_type, store_password, alias, key_password."""
        args = ['-importkeystore', '-noprompt',
                '-srckeystore', source['path'], '-srcstoretype', source['store_type'],
                '-srcstorepass:file', Secret('srcstorepass', source['store_password']),
                '-srcalias', source['alias'],
                '-destkeystore', dest['path'], '-deststoretype', dest['store_type'],
                '-deststorepass:file', Secret('deststorepass', dest['store_password']),
                '-destalias', dest['alias']]
        if source['store_type'] != 'PKCS12':
            args += ['-srckeypass:file', Secret('srckeypass', source['key_password'])]
        if dest['store_type'] != 'PKCS12':
            args += ['-destkeypass:file', Secret('destkeypass', dest['key_password'])]
        rc, out, err = self._run(args)
        self._check('-importkeystore', rc, out, err, dest['path'])

    def delete(self, path, store_type, store_password, alias):
        rc, out, err = self._run(['-delete', '-alias', alias, '-keystore', path, '-storetype', store_type,
                                  '-storepass:file', Secret('storepass', store_password)])
        self._check('-delete', rc, out, err, path)


# --- the Java key probe -------------------------------------------------------------------------------

PROBE_CLASS = 'IdmopsSecretKeyProbe'

# Run as `java IdmopsSecretKeyProbe.java <keystore> <type> <storepass file> <alias> <keypass file>`
# (JEP 330 source launcher, JDK 11+ with the jdk.compiler module). It prints key=value lines and
# never the key: the fingerprint is SHA-256 over a fixed domain string and the key bytes.
PROBE_SOURCE = r'''
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.Key;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.UnrecoverableKeyException;
import java.util.Arrays;

public class IdmopsSecretKeyProbe {
    static char[] firstLine(String path) throws Exception {
        try (BufferedReader reader = Files.newBufferedReader(Paths.get(path), StandardCharsets.UTF_8)) {
            String line = reader.readLine();
            return line == null ? new char[0] : line.toCharArray();
        }
    }

    static String oneLine(String text) {
        return text == null ? "" : text.replace('\n', ' ').replace('\r', ' ');
    }

    public static void main(String[] args) {
        System.out.println("idmops-probe=1");
        String stage = "store";
        try {
            KeyStore store = KeyStore.getInstance(args[1]);
            try (InputStream in = new FileInputStream(args[0])) {
                store.load(in, firstLine(args[2]));
            }
            String alias = args[3];
            if (!store.containsAlias(alias)) {
                System.out.println("entry=absent");
                return;
            }
            if (!store.entryInstanceOf(alias, KeyStore.SecretKeyEntry.class)) {
                System.out.println("entry=other");
                return;
            }
            stage = "key";
            Key key = store.getKey(alias, firstLine(args[4]));
            byte[] material = key.getEncoded();
            if (material == null) {
                throw new IllegalStateException("the key material cannot be read (format " + key.getFormat() + ")");
            }
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update("idmops.lifecycle/java_secret_key/v1".getBytes(StandardCharsets.US_ASCII));
            digest.update((byte) 0);
            digest.update(material);
            StringBuilder hex = new StringBuilder();
            for (byte b : digest.digest()) {
                hex.append(String.format("%02x", b & 0xff));
            }
            System.out.println("entry=SecretKeyEntry");
            System.out.println("algorithm=" + key.getAlgorithm());
            System.out.println("size=" + material.length * 8);
            System.out.println("fingerprint=" + hex);
            Arrays.fill(material, (byte) 0);
        } catch (UnrecoverableKeyException e) {
            System.out.println("error_stage=" + stage);
            System.out.println("error=" + oneLine(e.getClass().getName() + ": " + e.getMessage()));
            System.exit(3);
        } catch (Exception e) {
            System.out.println("error_stage=" + stage);
            System.out.println("error=" + oneLine(e.getClass().getName() + ": " + e.getMessage()));
            System.exit(2);
        }
    }
}
'''


def parse_probe_output(text):
    """``key=value`` lines after the ``idmops-probe=1`` marker; None when the marker is missing."""
    values = {}
    seen_marker = False
    for line in text.splitlines():
        if line.strip() == 'idmops-probe=1':
            seen_marker = True
            continue
        if seen_marker and '=' in line:
            key, value = line.split('=', 1)
            values[key.strip()] = value.strip()
    return values if seen_marker else None


def default_java(keytool_path, get_bin_path):
    """The ``java`` of the same runtime as ``keytool`` (same directory after resolving links), else PATH's."""
    if keytool_path:
        sibling = os.path.join(os.path.dirname(os.path.realpath(keytool_path)), 'java')
        if os.path.isfile(sibling) and os.access(sibling, os.X_OK):
            return sibling
    return get_bin_path('java')


class JavaInspector(object):
    """Reads algorithm, size and fingerprint of a secret-key entry with the Java probe."""

    def __init__(self, run_command, java, tmpdir=None):
        self.run_command = run_command
        self.java = java
        self.tmpdir = tmpdir

    def inspect(self, path, store_type, store_password, alias, key_password):
        """Returns None when the alias is absent, ``{'entry_type': 'other'}`` for a non-secret entry,
        else ``{'entry_type', 'key_algorithm', 'key_size', 'fingerprint'}``."""
        if not self.java:
            raise InspectionUnavailable('no java executable found')
        with SecretFiles(self.tmpdir) as secrets:
            source = secrets.write(PROBE_CLASS + '.java', PROBE_SOURCE)
            storepass = secrets.write('storepass', store_password)
            keypass = secrets.write('keypass', key_password)
            argv = [self.java, '-Duser.language=en', '-Duser.country=US', '-Xshare:auto', source,
                    path, store_type, storepass, alias, keypass]
            rc, out, err = self.run_command(argv, environ_update=dict(C_LOCALE))
        values = parse_probe_output(out or '')
        if values is None:
            raise InspectionUnavailable('%s cannot run the key probe from source (a JDK 11 or later with the '
                                        'jdk.compiler module is needed; rc=%s): %s'
                                        % (self.java, rc, _first_lines((out or '') + '\n' + (err or ''))))
        if rc != 0 or 'error' in values:
            error = values.get('error', _first_lines(err or ''))
            if values.get('error_stage') == 'key':
                raise KeystoreError('cannot read the key %s in %s: the key password is wrong (%s)'
                                    % (alias, path, error), error_kind='key_password')
            kind, message = keytool_error(error)
            raise KeystoreError('cannot read %s: %s' % (path, message), error_kind=kind)
        entry = values.get('entry')
        if entry == 'absent':
            return None
        if entry != 'SecretKeyEntry':
            return {'entry_type': 'other'}
        try:
            size = int(values['size'])
            return {'entry_type': 'SecretKeyEntry', 'key_algorithm': values['algorithm'], 'key_size': size,
                    'fingerprint': values['fingerprint']}
        except (KeyError, ValueError):
            raise KeystoreError('unexpected output from the key probe: %s' % _first_lines(out))


# --- the policy -----------------------------------------------------------------------------------------

def describe(entry):
    """A diff-friendly view of an entry, or {} when there is none."""
    if not entry:
        return {}
    return dict((k, entry.get(k)) for k in ('alias', 'entry_type', 'key_algorithm', 'key_size', 'fingerprint'))


def differences(current, wanted, compare_fingerprint):
    """Differences between two described entries, or None when a compared property is unknown."""
    diffs = []
    keys = ['key_algorithm', 'key_size'] + (['fingerprint'] if compare_fingerprint else [])
    for key in keys:
        have, want = current.get(key), wanted.get(key)
        if have is None or want is None:
            return None
        if key == 'key_algorithm':
            same = have.lower() == want.lower()
        else:
            same = have == want
        if not same:
            if key == 'fingerprint':
                diffs.append('key material differs from the source key (fingerprint %s, source %s)' % (have, want))
            else:
                diffs.append('%s is %s, wanted %s' % (key, have, want))
    return diffs


class SecretKeyTask(object):
    """Brings one alias of one keystore to the wanted state.

    ``p`` holds the module's parameters with passwords already resolved (``store_password``,
    ``key_password``, ``source_store_password``, ``source_key_password``). ``fs`` provides
    ``atomic_replace(src, dest)`` and ``backup(path)``. Warnings collect in ``warnings``.
    """

    def __init__(self, p, keytool, inspector, fs, check_mode=False):
        self.p = p
        self.keytool = keytool
        self.inspector = inspector
        self.inspection = 'java' if inspector is not None else 'keytool'
        self.fs = fs
        self.check_mode = check_mode
        self.warnings = []

    # inspection ----------------------------------------------------------------------

    def _option_error(self, exc, prefix):
        """``exc`` re-raised naming the password option at fault, when it is a password error."""
        kind = exc.result.get('error_kind')
        if kind in ('wrong_password', 'key_password'):
            option = self.p.get('%s%s_password_param' % (prefix, 'store' if kind == 'wrong_password' else 'key'))
            if option:
                return KeystoreError('%s: %s' % (option, exc), param=option, error_kind=kind)
        return exc

    def _list(self, path, store_type, store_password, prefix=''):
        try:
            return self.keytool.list(path, store_type, store_password)
        except KeystoreError as exc:
            raise self._option_error(exc, prefix)

    def _read(self, path, store_type, store_password, alias, key_password, param):
        """The entry of ``alias`` in an existing keystore, described; None when absent.

        Errors name the option that is wrong: ``param`` for the alias, and the options the
        store and key passwords came from.
        """
        prefix = 'source_' if param.startswith('source_') else ''
        listing = self._list(path, store_type, store_password, prefix)
        entry = find_entry(listing, alias)
        if entry is None:
            return None
        if entry['entry_type'] != 'SecretKeyEntry':
            raise KeystoreError('%s: the alias %s in %s holds a %s, not a secret key; this module never replaces '
                                'or removes other entry types' % (param, entry['alias'], path, entry['entry_type']),
                                param=param)
        described = {'alias': entry['alias'], 'entry_type': 'SecretKeyEntry', 'key_algorithm': None,
                     'key_size': None, 'fingerprint': None}
        if self.inspector is not None:
            try:
                details = self.inspector.inspect(path, store_type, store_password, entry['alias'], key_password)
            except KeystoreError as exc:
                raise self._option_error(exc, prefix)
            except InspectionUnavailable as exc:
                if self.p['inspection'] == 'java':
                    raise KeystoreError('inspection=java: %s' % exc, param='inspection')
                self.inspector = None
                self.inspection = 'keytool'
                self.warnings.append('key algorithm, size and material cannot be inspected, only the entry type: %s'
                                     % exc)
            else:
                if details is None or details['entry_type'] != 'SecretKeyEntry':
                    raise KeystoreError('keytool and the key probe disagree about %s in %s' % (alias, path))
                described.update(details)
        return described

    def _wanted(self, source_entry):
        if source_entry is not None:
            wanted = dict(source_entry)
            wanted['alias'] = self.p['alias']
            return wanted
        return {'alias': self.p['alias'], 'entry_type': 'SecretKeyEntry',
                'key_algorithm': self.p['key_algorithm'], 'key_size': self.p['key_size'], 'fingerprint': None}

    # main --------------------------------------------------------------------------------

    def run(self):
        p = self.p
        path = p['path']
        exists = os.path.exists(path)
        if exists:
            check_keystore_file(path, p['store_type'], 'path', 'store_type')
        elif not os.path.isdir(os.path.dirname(path) or '.'):
            raise KeystoreError('path: the directory of %s does not exist' % path, param='path')

        if p['state'] == 'absent':
            return self._absent(exists)

        source_entry = None
        if p['source_path']:
            source_entry = self._source()

        current = None
        if exists:
            current = self._read(path, p['store_type'], p['store_password'], p['alias'], p['key_password'], 'alias')

        wanted = self._wanted(source_entry)
        action, diffs = self._decide(current, wanted, source_entry is not None)
        if action != 'none':
            # keytool refuses short passwords for a new keystore or key: say so before anything changes.
            if not exists:
                check_new_password(p['store_password'], p['store_password_param'])
            if p['store_type'] == 'JCEKS':
                check_new_password(p['key_password'], p['key_password_param'])
            # The JDK protects keys with PBE ciphers that take ASCII passwords only ("Password is not
            # ASCII"); in a PKCS12 store the key password is the store password.
            check_ascii_password(p['key_password'], p['key_password_param'])
        result = self._result(current)
        result['differences'] = diffs or []
        if action == 'none':
            result['msg'] = 'the %s entry %s is present%s' % (
                'secret key', current['alias'],
                '' if not diffs else ' and kept (regenerate=never) although ' + '; '.join(diffs))
            return result

        result['changed'] = True
        result['action'] = action
        planned = dict(wanted, alias=current['alias'] if current else p['alias'])
        if self.check_mode:
            after = planned
        else:
            after = self._apply(exists, current is not None, source_entry, wanted)
            result['backup_file'] = self._backup_file
        result.update(self._entry_fields(after))
        result['diff'] = {'before': describe(current), 'after': describe(after)}
        result['msg'] = '%s%s the secret key %s in %s' % ('would: ' if self.check_mode else '', {
            'create': 'created', 'import': 'imported', 'replace': 'regenerated',
            'reimport': 're-imported'}[action], p['alias'], path)
        return result

    def _source(self):
        p = self.p
        source_type = check_keystore_file(p['source_path'], p['source_store_type'], 'source_path', 'source_store_type')
        self.source_store_type = source_type
        if source_type == 'PKCS12' and p['source_key_password'] != p['source_store_password']:
            raise KeystoreError('%s: a PKCS12 keystore has no key password of its own; leave it unset or equal '
                                'to the source store password' % p['source_key_password_param'],
                                param=p['source_key_password_param'])
        entry = self._read(p['source_path'], source_type, p['source_store_password'], p['source_alias'],
                           p['source_key_password'], 'source_alias')
        if entry is None:
            raise KeystoreError('source_alias: %s has no entry %s' % (p['source_path'], p['source_alias']),
                                param='source_alias')
        if entry.get('key_algorithm') is not None:
            want_algorithm = p['key_algorithm']
            if entry['key_algorithm'].lower() != want_algorithm.lower() or entry['key_size'] != p['key_size']:
                raise KeystoreError('source_path: the source key %s is %s-%s but key_algorithm/key_size ask for %s-%s'
                                    % (entry['alias'], entry['key_algorithm'], entry['key_size'], want_algorithm,
                                       p['key_size']), param='source_path')
        else:
            self.warnings.append('the source key %s cannot be inspected; its algorithm and size are not checked '
                                 'against key_algorithm/key_size' % entry['alias'])
        return entry

    def _decide(self, current, wanted, from_source):
        regenerate = self.p['regenerate']
        if current is None:
            return ('import' if from_source else 'create'), None
        if regenerate == 'always':
            return ('reimport' if from_source else 'replace'), None
        diffs = differences(current, wanted, from_source)
        if regenerate == 'never':
            if diffs:
                self.warnings.append('the existing key %s differs (%s) and is kept because regenerate=never'
                                     % (current['alias'], '; '.join(diffs)))
            return 'none', diffs
        if diffs is None:
            if self.p['inspection'] == 'keytool':
                hint = 'set inspection to auto or java (the key probe needs a JDK)'
            else:
                hint = 'install a JDK 11 or later next to keytool, or set java, so that the key probe can run'
            raise KeystoreError('regenerate=%s: the existing key %s cannot be compared because only its entry type '
                                'can be read (inspection=%s); %s, or use regenerate=never or always'
                                % (regenerate, current['alias'], self.inspection, hint), param='regenerate')
        if not diffs:
            return 'none', diffs
        if regenerate == 'fail':
            raise KeystoreError('regenerate=fail: the existing key %s in %s differs: %s'
                                % (current['alias'], self.p['path'], '; '.join(diffs)), param='regenerate')
        return ('reimport' if from_source else 'replace'), diffs

    def _apply(self, exists, replace, source_entry, wanted):
        p = self.p
        path = p['path']
        self._backup_file = None
        workdir = tempfile.mkdtemp(prefix='.%s.' % os.path.basename(path), dir=os.path.dirname(path) or '.')
        try:
            os.chmod(workdir, 0o700)
            work = os.path.join(workdir, os.path.basename(path))
            if exists:
                shutil.copy2(path, work)
            if replace:
                self.keytool.delete(work, p['store_type'], p['store_password'], p['alias'])
            if source_entry is not None:
                self.keytool.import_entry(
                    dict(path=p['source_path'], store_type=self.source_store_type,
                         store_password=p['source_store_password'], alias=source_entry['alias'],
                         key_password=p['source_key_password']),
                    dict(path=work, store_type=p['store_type'], store_password=p['store_password'],
                         alias=p['alias'], key_password=p['key_password']))
            else:
                self.keytool.genseckey(work, p['store_type'], p['store_password'], p['alias'],
                                       p['key_algorithm'], p['key_size'], p['key_password'])
            after = self._read(work, p['store_type'], p['store_password'], p['alias'], p['key_password'], 'alias')
            if after is None:
                raise KeystoreError('keytool reported success but %s has no entry %s' % (work, p['alias']))
            diffs = differences(after, wanted, source_entry is not None)
            if diffs:
                raise KeystoreError('the new entry does not match what was asked: %s' % '; '.join(diffs))
            if exists and p['backup']:
                self._backup_file = self.fs.backup(path)
            if exists:
                self.fs.atomic_replace(work, path)
            else:
                os.chmod(work, 0o600)
                os.rename(work, path)
            return after
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _absent(self, exists):
        p = self.p
        result = self._result(None)
        if not exists:
            result['msg'] = '%s does not exist; nothing to remove' % p['path']
            return result
        listing = self._list(p['path'], p['store_type'], p['store_password'])
        entry = find_entry(listing, p['alias'])
        if entry is None:
            result['msg'] = 'no entry %s in %s' % (p['alias'], p['path'])
            return result
        if entry['entry_type'] != 'SecretKeyEntry':
            raise KeystoreError('alias: the alias %s in %s holds a %s, not a secret key; this module never removes '
                                'other entry types' % (entry['alias'], p['path'], entry['entry_type']), param='alias')
        before = {'alias': entry['alias'], 'entry_type': 'SecretKeyEntry'}
        result.update(changed=True, action='remove', diff={'before': before, 'after': {}})
        result['msg'] = '%sremoved the secret key %s from %s' % (
            'would: ' if self.check_mode else '', entry['alias'], p['path'])
        if self.check_mode:
            return result
        workdir = tempfile.mkdtemp(prefix='.%s.' % os.path.basename(p['path']), dir=os.path.dirname(p['path']) or '.')
        try:
            os.chmod(workdir, 0o700)
            work = os.path.join(workdir, os.path.basename(p['path']))
            shutil.copy2(p['path'], work)
            self.keytool.delete(work, p['store_type'], p['store_password'], entry['alias'])
            if find_entry(self.keytool.list(work, p['store_type'], p['store_password']), p['alias']) is not None:
                raise KeystoreError('keytool -delete reported success but %s is still in the keystore' % p['alias'])
            if p['backup']:
                result['backup_file'] = self.fs.backup(p['path'])
            self.fs.atomic_replace(work, p['path'])
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return result

    # results ----------------------------------------------------------------------------------

    def _entry_fields(self, entry):
        entry = entry or {}
        return dict(entry_type=entry.get('entry_type'), key_algorithm=entry.get('key_algorithm'),
                    key_size=entry.get('key_size'), fingerprint=entry.get('fingerprint'))

    def _result(self, current):
        result = dict(changed=False, action='none', path=self.p['path'], alias=self.p['alias'],
                      store_type=self.p['store_type'], inspection=self.inspection, backup_file=None)
        result.update(self._entry_fields(current))
        return result


def check_ascii_password(password, param):
    if any(ord(c) > 126 or ord(c) < 32 for c in password):
        raise KeystoreError('%s must consist of printable ASCII characters: the JDK protects secret keys with a '
                            'password-based cipher that refuses other characters' % param, param=param)


def check_new_password(password, param):
    if len(password) < MIN_PASSWORD_LENGTH:
        raise KeystoreError('%s must be at least %d characters long for keytool to create a keystore or key'
                            % (param, MIN_PASSWORD_LENGTH), param=param)


# --- parameters -------------------------------------------------------------------------------------------

def _pick_password(p, value_option, file_option):
    if p.get(value_option) is not None:
        check_password(p[value_option], value_option)
        return p[value_option], value_option
    if p.get(file_option) is not None:
        return read_password_file(p[file_option], file_option), file_option
    return None, None


def resolve_parameters(p):
    """The module's parameters with every password read and defaulted.

    Adds ``<name>_param`` (the option a password came from, for error messages) next to each
    resolved password. Raises KeystoreError naming the option on bad input; reads files only.
    """
    r = dict(p)
    check_alias(p['alias'], 'alias')
    if p.get('source_alias') is not None:
        check_alias(p['source_alias'], 'source_alias')
    if p['state'] == 'absent' and p.get('source_path'):
        raise KeystoreError('source_path: only used with state=present', param='source_path')

    store, store_param = _pick_password(p, 'store_password', 'store_password_file')
    if store is None:
        raise KeystoreError('store_password: one of store_password or store_password_file is required',
                            param='store_password')
    key, key_param = _pick_password(p, 'key_password', 'key_password_file')
    if key is None:
        key, key_param = store, store_param
    elif p['store_type'] == 'PKCS12' and key != store:
        raise KeystoreError('%s: a PKCS12 keystore has no key password of its own (keytool would ignore it); '
                            'leave it unset or equal to the store password' % key_param, param=key_param)
    r.update(store_password=store, store_password_param=store_param, key_password=key, key_password_param=key_param)

    r['source_alias'] = p.get('source_alias') or p['alias']
    source_store = source_key = source_store_param = source_key_param = None
    if p.get('source_path'):
        source_store, source_store_param = _pick_password(p, 'source_store_password', 'source_store_password_file')
        if source_store is None:
            source_store, source_store_param = store, store_param
        source_key, source_key_param = _pick_password(p, 'source_key_password', 'source_key_password_file')
        if source_key is None:
            source_key, source_key_param = source_store, source_store_param
    r.update(source_store_password=source_store, source_store_password_param=source_store_param,
             source_key_password=source_key, source_key_password_param=source_key_param)
    return r


def secret_values(r):
    """Every password in resolved parameters, for the module's no_log values."""
    return set(v for k, v in r.items()
               if k in ('store_password', 'key_password', 'source_store_password', 'source_key_password') and v)


def find_keytool(keytool, get_bin_path):
    """Absolute path of keytool, or KeystoreError naming the ``keytool`` option."""
    if os.sep in keytool:
        if os.path.isfile(keytool) and os.access(keytool, os.X_OK):
            return keytool
        raise KeystoreError('keytool: %s is not an executable file' % keytool, param='keytool')
    found = get_bin_path(keytool)
    if not found:
        raise KeystoreError('keytool: cannot find %s on PATH; install a Java runtime or set keytool to its path'
                            % keytool, param='keytool')
    return found


def find_java(java, keytool_path, inspection, get_bin_path):
    """The java for the key probe, or None when none is wanted or (with inspection=auto) none is found."""
    if inspection == 'keytool':
        return None
    if java:
        if os.sep in java:
            if os.path.isfile(java) and os.access(java, os.X_OK):
                return java
            raise KeystoreError('java: %s is not an executable file' % java, param='java')
        found = get_bin_path(java)
        if not found:
            raise KeystoreError('java: cannot find %s on PATH' % java, param='java')
        return found
    found = default_java(keytool_path, get_bin_path)
    if not found and inspection == 'java':
        raise KeystoreError('inspection=java: no java next to %s or on PATH; set java' % keytool_path,
                            param='inspection')
    return found
