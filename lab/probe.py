"""Load probe for the lab: a steady stream of HTTP GETs, and who was out of the HAProxy pool when.

Each request opens a new connection (so HAProxy balances every one). A request fails on a
connection error, a timeout or a non-2xx status. Runs until SIGTERM/SIGINT, --duration,
--max-requests or the hard bound --max-seconds, then writes a JSON report to --out:

  requests_total, requests_failed, failures [{t, error}], latency_ms {p50, p90, p99, max}
  (of successful requests), started, ended (epoch seconds, like every t), versions {version: count}
  (from JSON answers that carry one), and with --haproxy-socket:
  backends {backend: {server: {out_of_pool_seconds, intervals [[start, end, status]]}}} for each
  of the --backend list, where an interval is a stretch in which `show stat` gave the server a
  status other than plain "UP" (DRAIN, MAINT, DOWN, "UP 1/2", ...), sampled every 100 ms; and
  servers, the same per server: keyed by server name with one backend, by "backend/server" with
  several.

Standard library only (Python 3.11).
"""

import argparse
import http.client
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

MAX_FAILURES_LISTED = 1000
SAMPLE_INTERVAL = 0.1


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--url', default='http://127.0.0.1:18080/am/json/serverinfo/version')
    parser.add_argument('--rate', type=float, default=20.0, help='requests per second (default 20)')
    parser.add_argument('--workers', type=int, default=16, help='request threads (default 16)')
    parser.add_argument('--timeout', type=float, default=5.0, help='per-request timeout in seconds (default 5)')
    parser.add_argument('--duration', type=float, help='stop after this many seconds')
    parser.add_argument('--max-seconds', type=float, default=1800.0, help='hard bound in seconds (default 1800)')
    parser.add_argument('--max-requests', type=int, help='stop after sending this many requests')
    parser.add_argument('--haproxy-socket', help='HAProxy admin socket: a UNIX socket path or HOST:PORT')
    parser.add_argument('--backend', default='am_site1',
                        help='backend(s) whose servers are sampled, comma-separated (default am_site1)')
    parser.add_argument('--out', required=True, help='where to write the JSON report')
    parser.add_argument('--ready-file', help='touched once the first request has been sent')
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.workers < 1 or args.timeout <= 0 or args.max_seconds <= 0:
        parser.error('--rate, --workers, --timeout and --max-seconds must be positive')
    if urllib.parse.urlsplit(args.url).scheme not in ('http', 'https'):
        parser.error('--url must be http:// or https://')
    args.backends = [b.strip() for b in args.backend.split(',') if b.strip()]
    if not args.backends or len(set(args.backends)) != len(args.backends):
        parser.error('--backend must name one or more distinct backends, comma-separated')
    return args


class Requests:
    """Sends one GET per call on a fresh connection and keeps the tallies."""

    def __init__(self, url, timeout, t0_wall, t0_mono):
        parts = urllib.parse.urlsplit(url)
        self.connection_class = (http.client.HTTPSConnection if parts.scheme == 'https'
                                 else http.client.HTTPConnection)
        self.netloc = parts.netloc
        self.path = urllib.parse.urlunsplit(('', '', parts.path or '/', parts.query, ''))
        self.timeout = timeout
        self.t0_wall, self.t0_mono = t0_wall, t0_mono
        self.lock = threading.Lock()
        self.total = 0
        self.failed = 0
        self.failures = []
        self.latencies_ms = []
        self.versions = {}

    def now(self):
        return self.t0_wall + (time.monotonic() - self.t0_mono)

    def send(self):
        started = time.monotonic()
        error, version = None, None
        conn = self.connection_class(self.netloc, timeout=self.timeout)
        try:
            conn.request('GET', self.path, headers={'Accept-API-Version': 'resource=1.0', 'Connection': 'close'})
            response = conn.getresponse()
            body = response.read()
            if not 200 <= response.status < 300:
                error = f'HTTP {response.status}'
            else:
                try:
                    version = json.loads(body).get('version')
                except (ValueError, AttributeError):
                    pass
        except (OSError, http.client.HTTPException) as e:
            error = f'{type(e).__name__}: {e}'.rstrip(': ')
        finally:
            conn.close()
        elapsed_ms = (time.monotonic() - started) * 1000
        with self.lock:
            self.total += 1
            if error:
                self.failed += 1
                if len(self.failures) < MAX_FAILURES_LISTED:
                    self.failures.append({'t': round(self.now(), 3), 'error': error})
            else:
                self.latencies_ms.append(elapsed_ms)
                if isinstance(version, str):
                    self.versions[version] = self.versions.get(version, 0) + 1

    def latency_summary(self):
        values = sorted(self.latencies_ms)
        if not values:
            return {'p50': None, 'p90': None, 'p99': None, 'max': None}

        def pct(p):
            return round(values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))], 2)
        return {'p50': pct(50), 'p90': pct(90), 'p99': pct(99), 'max': round(values[-1], 2)}


def runtime_api(address, command, timeout=2.0):
    """One HAProxy runtime API command over a UNIX socket path or HOST:PORT; returns the answer."""
    if os.path.exists(address) or '/' in address:
        family, target = socket.AF_UNIX, address
    else:
        host, port = address.rsplit(':', 1)
        family, target = socket.AF_INET, (host, int(port))
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(target)
        s.sendall(command.encode() + b'\n')
        data = b''
        while chunk := s.recv(65536):
            data += chunk
    return data.decode(errors='replace')


def stop_and_read(pid_file, out_path, timeout=30.0):
    """Stops a probe started in the background (its PID in pid_file) unless its report is already
    written, and returns the report."""
    if not os.path.exists(out_path):
        with open(pid_file, encoding='utf-8') as handle:
            os.kill(int(handle.read().strip()), signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while not os.path.exists(out_path) and time.monotonic() < deadline:
        time.sleep(0.2)
    with open(out_path, encoding='utf-8') as handle:
        return json.load(handle)


class PoolSampler(threading.Thread):
    """Every 100 ms reads `show stat` and records when each server's status is not plain UP."""

    def __init__(self, address, backends, now):
        super().__init__(name='haproxy-sampler', daemon=True)
        self.address, self.backends, self.now = address, backends, now
        self.stop_event = threading.Event()
        self.intervals = {}      # (backend, server) -> [[start, end, status], ...]
        self.open = {}           # (backend, server) -> [start, None, status] currently open
        self.errors = 0
        self.last_error = None

    def statuses(self):
        lines = runtime_api(self.address, 'show stat', timeout=1.0).splitlines()
        if not lines or not lines[0].startswith('# '):
            raise OSError(f'unexpected answer to show stat: {lines[:1]}')
        header = lines[0][2:].split(',')
        result = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(',')))
            if row.get('pxname') in self.backends and row.get('svname') not in ('FRONTEND', 'BACKEND'):
                result[(row['pxname'], row['svname'])] = row.get('status', '')
        return result

    def sample(self):
        try:
            statuses = self.statuses()
        except OSError as e:
            self.errors += 1
            self.last_error = str(e)
            return
        t = round(self.now(), 3)
        for server, status in statuses.items():
            self.intervals.setdefault(server, [])
            current = self.open.get(server)
            if current and current[2] != status:
                current[1] = t
                del self.open[server]
                current = None
            if status != 'UP' and current is None:
                interval = [t, None, status]
                self.intervals[server].append(interval)
                self.open[server] = interval

    def run(self):
        while not self.stop_event.is_set():
            started = time.monotonic()
            self.sample()
            self.stop_event.wait(max(0.0, SAMPLE_INTERVAL - (time.monotonic() - started)))

    def finish(self, ended):
        self.stop_event.set()
        self.join(timeout=5)
        for interval in self.open.values():
            interval[1] = ended
        self.open.clear()
        backends = {backend: {} for backend in self.backends}
        for (backend, server), intervals in sorted(self.intervals.items()):
            backends[backend][server] = {
                'out_of_pool_seconds': round(sum(end - start for start, end, _status in intervals), 3),
                'intervals': intervals}
        return backends


def main(argv=None):
    args = parse_args(argv)
    stop = threading.Event()
    stop_reason = ['']

    def on_signal(signum, _frame):
        stop_reason[0] = signal.Signals(signum).name
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    t0_wall, t0_mono = time.time(), time.monotonic()
    requests = Requests(args.url, args.timeout, t0_wall, t0_mono)
    sampler = None
    if args.haproxy_socket:
        sampler = PoolSampler(args.haproxy_socket, args.backends, requests.now)
        sampler.sample()
        sampler.start()

    limit = args.max_seconds if args.duration is None else min(args.duration, args.max_seconds)
    sent = 0
    with ThreadPoolExecutor(max_workers=args.workers, thread_name_prefix='probe') as pool:
        while not stop.is_set():
            elapsed = time.monotonic() - t0_mono
            if elapsed >= limit:
                stop_reason[0] = 'duration' if args.duration is not None and limit == args.duration else 'max-seconds'
                break
            if args.max_requests is not None and sent >= args.max_requests:
                stop_reason[0] = 'max-requests'
                break
            pool.submit(requests.send)
            sent += 1
            if sent == 1 and args.ready_file:
                Path(args.ready_file).touch()
            next_send = t0_mono + sent / args.rate
            stop.wait(max(0.0, min(next_send, t0_mono + limit) - time.monotonic()))
        # Leaving the block waits for requests in flight (each bounded by --timeout).
    ended = requests.now()

    report = {
        'url': args.url,
        'rate': args.rate,
        'stop_reason': stop_reason[0],
        'started': round(t0_wall, 3),
        'ended': round(ended, 3),
        'requests_total': requests.total,
        'requests_failed': requests.failed,
        'failures': requests.failures,
        'failures_listed': len(requests.failures),
        'latency_ms': requests.latency_summary(),
        'versions': requests.versions,
    }
    if sampler:
        backends = sampler.finish(round(ended, 3))
        report['backends'] = backends
        if len(backends) == 1:
            report['servers'] = next(iter(backends.values()))
        else:
            report['servers'] = {f'{backend}/{server}': entry for backend, servers in backends.items()
                                 for server, entry in servers.items()}
        report['sampler_errors'] = sampler.errors
        if sampler.last_error:
            report['sampler_last_error'] = sampler.last_error
    out = Path(args.out)
    tmp = out.with_name(f'.{out.name}.tmp')
    tmp.write_text(json.dumps(report, indent=2) + '\n')
    os.replace(tmp, out)
    print(f'probe: {requests.total} requests, {requests.failed} failed, stopped by {stop_reason[0]}; report {out}',
          file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
