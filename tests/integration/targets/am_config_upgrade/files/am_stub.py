# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tiny stand-in for AM's upgrade-over-REST endpoints, for the am_config_upgrade target.

Listens on 127.0.0.1 only, on a free port it writes to the file named by argv[1]. Every
first path segment is its own AM: ``/<name>/am/...``. What an AM does depends on its name:

* ``current*``: already upgraded, ``/json/health/ready`` answers 200 from the start;
* ``broken*``: ``upgrade.htm`` answers 200 with the body ``false`` and nothing changes;
* ``slow*``: after the upgrade, ready answers 200 only 1.5 s later;
* anything else: ready answers 503 until ``upgrade.htm`` was called, which answers ``true``.

``upgrade.htm`` must carry exactly the documented query
(``actionLink=doUpgrade&actionLink=saveReport&acceptLicense=true``), else 400.
``GET /_stats`` answers JSON ``{name: number of upgrade calls}``.
"""

import http.server
import json
import os
import sys
import threading
import time
import urllib.parse

QUERY = [('actionLink', 'doUpgrade'), ('actionLink', 'saveReport'), ('acceptLicense', 'true')]
LOCK = threading.Lock()
UPGRADED_AT = {}
CALLS = {}


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body=b'', content_type='text/plain;charset=UTF-8'):
        self.send_response(status)
        self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == '/_stats':
            with LOCK:
                body = json.dumps(CALLS).encode()
            return self.answer(200, body, 'application/json')
        parts = url.path.split('/', 3)
        if len(parts) < 4 or parts[2] != 'am':
            return self.answer(404)
        name, rest = parts[1], '/' + parts[3]
        with LOCK:
            upgraded = UPGRADED_AT.get(name)
        if rest == '/json/health/ready':
            ready = name.startswith('current') or (
                upgraded is not None and (not name.startswith('slow') or time.monotonic() - upgraded >= 1.5))
            return self.answer(200 if ready else 503)
        if rest == '/config/upgrade/upgrade.htm':
            if urllib.parse.parse_qsl(url.query) != QUERY:
                return self.answer(400, b'unexpected query: ' + url.query.encode())
            with LOCK:
                CALLS[name] = CALLS.get(name, 0) + 1
                if name.startswith('broken'):
                    return self.answer(200, b'false')
                UPGRADED_AT.setdefault(name, time.monotonic())
            return self.answer(200, b'true\n')
        return self.answer(404)

    def log_message(self, *args):
        pass


def main():
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    server.daemon_threads = True
    tmp = sys.argv[1] + '.tmp'
    with open(tmp, 'w') as handle:
        handle.write('%d\n' % server.server_address[1])
    os.rename(tmp, sys.argv[1])
    server.serve_forever()


if __name__ == '__main__':
    main()
