# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tiny HTTP server for the lb_pool_member integration test, on 127.0.0.1 only.

``GET /`` answers 200 at once (HAProxy health checks); ``GET /slow/<seconds>`` holds the
request open that long before answering, so a session stays on the server while it is drained.
"""

import http.server
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith('/slow/'):
            time.sleep(min(float(self.path.rsplit('/', 1)[1] or 0), 120))
        body = ('%s\n' % self.server.name).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # HAProxy health checks close (RST) once they have read the status line: not an error.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


def main():
    port, name = int(sys.argv[1]), sys.argv[2]
    server = Server(('127.0.0.1', port), Handler)
    server.name = name
    server.serve_forever()


if __name__ == '__main__':
    main()
