# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check HAProxy independently of the module under test (stdlib only, one command per connection).

    hapctl.py SOCKET raw COMMAND...          print the answer
    hapctl.py SOCKET admin-bits BACKEND SERVER   print srv_admin_state (e.g. 8 = forced drain)
    hapctl.py SOCKET status BACKEND SERVER       print the show stat status (e.g. DRAIN)
    hapctl.py SOCKET wait-up BACKEND SERVER SECONDS   exit 0 once the server is UP

SOCKET is a UNIX socket path or host:port.
"""

import csv
import socket
import sys
import time


def query(endpoint, command):
    if endpoint.startswith('/'):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(5)
        sock.connect(endpoint)
    else:
        host, port = endpoint.rsplit(':', 1)
        sock = socket.create_connection((host, int(port)), timeout=5)
    with sock:
        sock.sendall(command.encode() + b'\n')
        data = b''
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data.decode()
            data += chunk


def admin_bits(endpoint, backend, server):
    for line in query(endpoint, 'show servers state %s' % backend).splitlines()[2:]:
        fields = line.split()
        if len(fields) > 6 and fields[3] == server:
            return int(fields[6])
    raise SystemExit('no server %s/%s' % (backend, server))


def status(endpoint, backend, server):
    lines = [line for line in query(endpoint, 'show stat').splitlines() if line.strip()]
    header = lines[0][2:].split(',')
    for row in csv.reader(lines[1:]):
        row = dict(zip(header, row))
        if row['pxname'] == backend and row['svname'] == server:
            return row['status']
    raise SystemExit('no server %s/%s' % (backend, server))


def main():
    endpoint, action, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if action == 'raw':
        sys.stdout.write(query(endpoint, ' '.join(args)))
    elif action == 'admin-bits':
        print(admin_bits(endpoint, *args))
    elif action == 'status':
        print(status(endpoint, *args))
    elif action == 'wait-up':
        deadline = time.monotonic() + float(args[2])
        while True:
            try:
                seen = status(endpoint, args[0], args[1])
            except OSError as exc:
                seen = str(exc)
            if seen == 'UP':
                return
            if time.monotonic() > deadline:
                raise SystemExit('%s/%s not UP after %ss (last: %s)' % (args[0], args[1], args[2], seen))
            time.sleep(0.1)
    else:
        raise SystemExit(__doc__)


if __name__ == '__main__':
    main()
