# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Assertions of runme.sh on the simulated Windows hosts and the vIDM simulator.

    check.py STATE_DIR VIDM_URL boots HOST=N ...     each host's boot count (1 = never rebooted)
    check.py STATE_DIR VIDM_URL versions VERSION HOST ...   vIDM and the hosts report VERSION
    check.py STATE_DIR VIDM_URL no-gaps              no directory's failover list was ever without a running connector
    check.py STATE_DIR VIDM_URL events N             vIDM saw N connector downs and ups in all
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request

KEY = 'hklm:\\software\\microsoft\\windows\\currentversion\\uninstall\\vmware identity manager connector'


def vidm(url, path):
    with urllib.request.urlopen(url + path, timeout=10) as answer:
        return json.loads(answer.read())['items']


def host(state_dir, name):
    with open(os.path.join(state_dir, name + '.json')) as f:
        return json.load(f)


def main(state_dir, url, what, *args):
    if what == 'boots':
        seen = dict((a.split('=')[0], host(state_dir, a.split('=')[0])['boot_count']) for a in args)
        wanted = dict((a.split('=')[0], int(a.split('=')[1])) for a in args)
        assert seen == wanted, 'boot counts %s, expected %s' % (seen, wanted)
    elif what == 'versions':
        version, names = args[0], args[1:]
        connectors = dict((c['host'], c) for c in vidm(url, '/_sim/connector-events'))
        for name in names:
            assert host(state_dir, name)['registry'][KEY]['displayversion'] == version, name
            assert connectors[name]['version'] == version and connectors[name]['up'], connectors[name]
    elif what == 'no-gaps':
        gaps = vidm(url, '/_sim/sync-gaps')
        assert gaps == [], 'sync gaps: %s' % json.dumps(gaps)
    elif what == 'events':
        events = vidm(url, '/_sim/connector-events')
        assert len(events) == int(args[0]), 'connector events: %s' % json.dumps(events)
    else:
        raise SystemExit('check.py: unknown check %r' % what)
    print('check.py: %s %s ok' % (what, ' '.join(args)))


if __name__ == '__main__':
    main(*sys.argv[1:])
