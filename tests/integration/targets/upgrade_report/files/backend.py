"""HTTP stand-in for a node behind a load balancer: GET answers {"version": VERSION}, or 503 while FLAG exists.

GET /check (HAProxy's health check) always answers 200, so that only client requests fail while FLAG
exists and the servers stay UP.

    python backend.py PORT FLAG VERSION
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        failing = self.path != '/check' and os.path.exists(self.server.flag)
        body = json.dumps({'error': 'upgrading'} if failing else {'version': self.server.version}).encode()
        self.send_response(503 if failing else 200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # HAProxy's health checks close the connection without reading the answer: not worth a traceback.
        pass


def main():
    port, flag, version = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    server = Server(('127.0.0.1', port), Handler)
    server.flag, server.version = flag, version
    server.serve_forever()


if __name__ == '__main__':
    main()
