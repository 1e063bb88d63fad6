# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""The vIDM (Workspace ONE Access) Linux appliance: version, upgrade plan, health, pgpool.

Pure parsing and planning functions plus small runners that take a ``run`` callable
(``AnsibleModule.run_command`` or a stand-in) so the unit tests need no appliance.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
import urllib.error

from ansible.module_utils.urls import open_url

from ansible_collections.idmops.lifecycle.plugins.module_utils._wait import wait_until, WaitTimeout

VERSION_RE = re.compile(r'Version\s*-\s*(\d+(?:\.\d+)+)\s+Build\s+(\d+)')
OFFERED_RE = re.compile(r'(\d+\.\d+\.\d+(?:\.\d+)?)')
HEALTH_PATH = '/SAAS/API/1.0/REST/system/health'
HEARTBEAT_PATH = '/SAAS/API/1.0/REST/system/health/heartbeat'


class ApplianceError(Exception):
    """A step failed; ``details`` holds what the caller returns with the failure."""

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.details = details


def parse_vamicli_version(text):
    """``(version, build)`` from ``vamicli version --appliance`` output."""
    match = VERSION_RE.search(text or '')
    if not match:
        raise ApplianceError('cannot read the appliance version from vamicli output: %r' % (text,))
    return match.group(1), match.group(2)


def version_tuple(version):
    parts = [int(p) for p in str(version).split('.')]
    while len(parts) < 4:
        parts.append(0)
    return tuple(parts)


def parse_df_available_mb(text):
    """Available MB of the file system in POSIX ``df -P -k`` output (the last data line)."""
    lines = [line for line in (text or '').splitlines() if line.strip()]
    if len(lines) < 2 or not lines[0].startswith('Filesystem'):
        raise ApplianceError('cannot read free space from df output: %r' % (text,))
    fields = lines[-1].split()
    try:
        return int(fields[3]) // 1024
    except (IndexError, ValueError):
        raise ApplianceError('cannot read free space from df output: %r' % (text,)) from None


def parse_check_output(text):
    """The version ``updatemgr.hzn check`` offers, or None when it offers none."""
    text = text or ''
    if re.search(r'no update', text, re.IGNORECASE):
        return None
    if re.search(r'update available', text, re.IGNORECASE):
        match = OFFERED_RE.search(text.split('vailable', 1)[1])
        return match.group(1) if match else ''
    return None


def reboot_pending(check_text):
    """True when ``updatemgr.hzn check`` says an installed update waits for the restart."""
    return bool(re.search(r'reboot required', check_text or '', re.IGNORECASE))


def plan_upgrade(current, target, source):
    """The list of steps (strings) that bring ``current`` to ``target``; empty when there."""
    if version_tuple(current) >= version_tuple(target):
        return []
    if source == 'online':
        return ['updatemgr.hzn updateinstaller', 'updatemgr.hzn check', 'updatemgr.hzn update',
                'updatemgr.hzn check']
    return ['verify bundle sha256', 'updateOffline.hzn -f <bundle>']


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def run_step(run, argv, steps):
    """Run ``argv``; record it in ``steps``; raise ApplianceError on a non-zero exit."""
    rc, out, err = run(argv)
    steps.append(dict(cmd=argv, rc=rc, stdout=out, stderr=err))
    if rc != 0:
        raise ApplianceError('%s failed (rc=%s): %s' % (' '.join(argv), rc, (err or out).strip()), steps=steps)
    return out


def read_version(run, vamicli):
    rc, out, err = run([vamicli, 'version', '--appliance'])
    if rc != 0:
        raise ApplianceError('%s version --appliance failed (rc=%s): %s' % (vamicli, rc, (err or out).strip()))
    return parse_vamicli_version(out)


def free_mb(run, df, path='/'):
    rc, out, err = run([df, '-P', '-k', path])
    if rc != 0:
        raise ApplianceError('%s -P -k %s failed (rc=%s): %s' % (df, path, rc, (err or out).strip()))
    return parse_df_available_mb(out)


def upgrade(run, params, check_mode=False):
    """Bring the appliance to ``params['target_version']``; a result dict (``changed`` and details)."""
    version, build = read_version(run, params['vamicli_path'])
    target = params['target_version']
    plan = plan_upgrade(version, target, params['source'])
    result = dict(changed=False, version=version, build=build, target_version=target, plan=plan,
                  reboot_required=False, steps=[])
    if not plan:
        result['msg'] = 'appliance already at %s Build %s (target %s)' % (version, build, target)
        return result
    available = free_mb(run, params['df_path'], params['free_space_path'])
    result['free_mb'] = available
    if available < params['min_free_mb']:
        raise ApplianceError('only %d MB free on %s, the upgrade needs %d MB; nothing was run'
                             % (available, params['free_space_path'], params['min_free_mb']), free_mb=available)
    if params['source'] == 'offline':
        bundle = params['bundle']
        if not bundle or not os.path.isfile(bundle):
            raise ApplianceError('offline bundle %r not found; nothing was run' % (bundle,))
        actual = sha256_file(bundle)
        if actual != params['checksum'].lower():
            raise ApplianceError('sha256 of %s is %s, expected %s; nothing was run'
                                 % (bundle, actual, params['checksum']), bundle_sha256=actual)
    result['changed'] = True
    result['diff'] = dict(before=dict(version=version), after=dict(version=target))
    if check_mode:
        result['msg'] = 'would upgrade %s to %s (%s): %s' % (version, target, params['source'], ', '.join(plan))
        return result
    steps = result['steps']
    if params['source'] == 'online':
        updatemgr = params['updatemgr_path']
        run_step(run, [updatemgr, 'updateinstaller'], steps)
        check_text = run_step(run, [updatemgr, 'check'], steps)
        if reboot_pending(check_text):
            # An earlier run installed the update and stopped before the restart: resume there.
            result.update(changed=False, reboot_required=True, msg='an update is installed on the appliance (%s) '
                          'and waits for its restart' % version)
            result.pop('diff')
            return result
        offered = parse_check_output(check_text)
        if offered is None:
            raise ApplianceError('%s check offers no update (node at %s, target %s)' % (updatemgr, version, target),
                                 steps=steps)
        if offered and version_tuple(offered) != version_tuple(target):
            raise ApplianceError('the update repository offers %s, not the target %s; nothing was installed'
                                 % (offered, target), steps=steps)
        run_step(run, [updatemgr, 'update'], steps)
        run_step(run, [updatemgr, 'check'], steps)
    else:
        run_step(run, [params['update_offline_path'], '-f', params['bundle']], steps)
    result['reboot_required'] = True
    result['msg'] = 'upgraded %s to %s (%s); reboot required' % (version, target, params['source'])
    return result


def keep_log(update_log, log_dir, now=None):
    """Copy ``update_log`` into ``log_dir`` as ``update-<stamp>.log``; the copy's path, or None."""
    if not log_dir or not os.path.isfile(update_log):
        return None
    os.makedirs(log_dir, exist_ok=True)
    stamp = time.strftime('%Y%m%dT%H%M%S', time.gmtime(now))
    dest = os.path.join(log_dir, 'update-%s.log' % stamp)
    shutil.copyfile(update_log, dest)
    return dest


# --- health -------------------------------------------------------------------------------------

def parse_health(text):
    """The health document (a dict of strings) from the body of ``GET .../system/health``."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise ApplianceError('health answer is not JSON: %r' % (text[:200],)) from None
    if not isinstance(doc, dict):
        raise ApplianceError('health answer is not a JSON object: %r' % (text[:200],))
    return dict((k, v if isinstance(v, str) else json.dumps(v)) for k, v in doc.items())


def make_fetch(base_url, validate_certs=True, request_timeout=10, opener=open_url):
    """A ``fetch()`` for ``wait_healthy``: heartbeat, then the health document, of ``base_url``."""
    base = base_url.rstrip('/')

    def get(path):
        try:
            response = opener(base + path, method='GET', validate_certs=validate_certs, timeout=request_timeout,
                              headers={'Accept': 'application/json, text/plain'})
            try:
                return response.getcode(), response.read().decode('utf-8', 'replace')
            finally:
                response.close()
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
            return status, ''

    def fetch():
        try:
            status, body = get(HEARTBEAT_PATH)
            if status != 200:
                return False, None, 'HTTP %s' % status
            heartbeat = body.strip().lower() == 'ok'
            status, body = get(HEALTH_PATH)
            if status != 200:
                return heartbeat, None, 'health HTTP %s' % status
            return heartbeat, parse_health(body), None if heartbeat else 'heartbeat %r' % body.strip()[:40]
        except ApplianceError as exc:
            return False, None, str(exc)
        except Exception as exc:  # pylint: disable=broad-except
            return False, None, '%s: %s' % (type(exc).__name__, exc)

    return fetch


def health_failures(doc, expected_peers=None, check_search=True):
    """``{field: value}`` of every field that keeps the node from being green."""
    failing = {}
    wanted = [('AllOk', 'true')]
    if check_search:
        search_ok = [k for k in ('ElasticsearchServiceOk', 'OpenSearchServiceOk') if k in doc]
        if not search_ok:
            failing['ElasticsearchServiceOk'] = 'missing'
        wanted += [(k, 'true') for k in search_ok]
        shards = [k for k in ('ElasticsearchUnassignedShards', 'OpenSearchUnassignedShards') if k in doc]
        wanted += [(k, '0') for k in shards]
    if expected_peers is not None:
        wanted.append(('EhCacheClusterPeers', str(expected_peers)))
    for key, value in wanted:
        if doc.get(key, 'missing') != value:
            failing[key] = doc.get(key, 'missing')
    return failing


def wait_healthy(fetch, timeout, sleep, expected_peers=None, check_search=True, clock=time.monotonic,
                 pause=time.sleep):
    """Wait until the node is green; ``(doc, seconds)``; ApplianceError naming failing fields on timeout.

    ``fetch()`` returns ``(heartbeat_ok, doc_or_None, error_text)``.
    """
    last = {}

    def probe():
        heartbeat, doc, error = fetch()
        if doc is None:
            last.update(failing={'heartbeat': error or 'down'}, doc=None)
            return False, 'heartbeat: %s' % (error or 'down')
        failing = health_failures(doc, expected_peers, check_search)
        if not heartbeat:
            failing['heartbeat'] = error or 'not ok'
        last.update(failing=failing, doc=doc)
        if failing:
            return False, ', '.join('%s=%s' % kv for kv in sorted(failing.items()))
        return True, doc

    try:
        return wait_until(probe, timeout, sleep, 'vIDM health green', clock=clock, pause=pause)
    except WaitTimeout as exc:
        raise ApplianceError('%s; failing fields: %s' % (
            exc, ', '.join('%s=%s' % kv for kv in sorted(last.get('failing', {}).items()))),
            failing=last.get('failing', {}), health=last.get('doc')) from None


# --- cluster info -------------------------------------------------------------------------------

def parse_properties(text):
    props = {}
    for line in (text or '').splitlines():
        line = line.strip()
        if not line or line[0] in '#!':
            continue
        key, sep, value = line.partition('=') if '=' in line else line.partition(':')
        if sep:
            props[key.strip()] = value.strip()
    return props


def database_type(runtime_config_text):
    """``('postgresql'|'mssql', jdbc_url)`` from runtime-config.properties text."""
    url = parse_properties(runtime_config_text).get('datastore.jdbc.url', '')
    if url.startswith('jdbc:postgresql:'):
        return 'postgresql', url
    if url.startswith('jdbc:sqlserver:'):
        return 'mssql', url
    raise ApplianceError('datastore.jdbc.url is neither jdbc:postgresql nor jdbc:sqlserver: %r' % (url,))


def parse_pool_nodes(text):
    """Rows (dicts) of ``show pool_nodes``, aligned or unaligned (``-A``) psql output."""
    lines = [line for line in (text or '').splitlines()
             if line.strip() and not re.match(r'^\s*\(\d+ rows?\)\s*$', line) and not re.match(r'^[-+]+$', line.strip())]
    if not lines:
        raise ApplianceError('empty show pool_nodes answer')
    header = [h.strip() for h in lines[0].split('|')]
    if 'role' not in header or 'hostname' not in header:
        raise ApplianceError('show pool_nodes answer has no hostname/role columns: %r' % (lines[0],))
    rows = []
    for line in lines[1:]:
        cells = [c.strip() for c in line.split('|')]
        if len(cells) < len(header):
            raise ApplianceError('short show pool_nodes row: %r' % (line,))
        rows.append(dict(zip(header, cells)))
    return rows


def pool_primary(rows):
    primaries = [r for r in rows if r.get('role') == 'primary']
    if len(primaries) != 1:
        raise ApplianceError('expected one primary in show pool_nodes, found %d' % len(primaries), pool_nodes=rows)
    return primaries[0]


def parse_pgpool_conf(text):
    conf = {}
    for line in (text or '').splitlines():
        line = line.split('#', 1)[0].strip()
        if '=' not in line:
            continue
        key, _sep, value = line.partition('=')
        conf[key.strip()] = value.strip().strip("'\"")
    return conf


def pgpass_line(password, host='localhost', port=9999, user='pgpool'):
    """A PGPASSFILE line for ``password`` (``:`` and ``\\`` escaped as libpq wants)."""
    escaped = password.replace('\\', '\\\\').replace(':', '\\:')
    return '%s:%s:*:%s:%s\n' % (host, port, user, escaped)


def cluster_info(run, params, tmpdir):
    """Database type, pool nodes, primary and delegate IP; ``run(argv, environ)`` runs psql."""
    with open(params['runtime_config']) as handle:
        db_type, url = database_type(handle.read())
    result = dict(database_type=db_type, jdbc_url=url, pool_nodes=[], primary=None, delegate_ip=None)
    if os.path.isfile(params['pgpool_conf']):
        with open(params['pgpool_conf']) as handle:
            result['delegate_ip'] = parse_pgpool_conf(handle.read()).get('delegate_IP')
    if db_type != 'postgresql':
        return result
    with open(params['pgpool_password_file']) as handle:
        password = handle.readline().rstrip('\r\n')
    passfile = os.path.join(tmpdir, 'pgpass')
    fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, 'w') as handle:
            handle.write(pgpass_line(password, params['pgpool_host'], params['pgpool_port'], params['pgpool_user']))
        argv = [params['psql_path'], '-h', params['pgpool_host'], '-p', str(params['pgpool_port']),
                '-U', params['pgpool_user'], '-w', '-A', '-F', '|', '-d', 'postgres', '-c', 'show pool_nodes']
        rc, out, err = run(argv, dict(PGPASSFILE=passfile, LC_ALL='C'))
    finally:
        os.unlink(passfile)
    if rc != 0:
        raise ApplianceError('show pool_nodes through %s failed (rc=%s): %s'
                             % (params['psql_path'], rc, (err or out).strip()))
    rows = parse_pool_nodes(out)
    result['pool_nodes'] = rows
    result['primary'] = pool_primary(rows)
    return result
