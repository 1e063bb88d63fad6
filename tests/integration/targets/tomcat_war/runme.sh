#!/usr/bin/env bash
# Integration test of idmops.lifecycle.tomcat_war against a real Tomcat 10.1 (Debian tomcat10).
#
# Builds a throw-away CATALINA_BASE under a temp dir (conf copied from /etc/tomcat10, own
# server.xml: HTTP and shutdown ports on 127.0.0.1 only, both picked free), two tiny wars,
# then runs tomcat_war.yml against localhost. Tomcat is stopped by its PID file on exit.
#
# Run it as root (the conf in /etc/tomcat10 is root:tomcat 0640):
#   tests/integration/targets/tomcat_war/runme.sh           (ansible-playbook from PATH or .venv)
# or through `make integration` (ansible-test integration --local).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
collection_root="$(cd "$here/../../../.." && pwd -P)"
CATALINA_HOME="${CATALINA_HOME:-/usr/share/tomcat10}"
TOMCAT_CONF="${TOMCAT_CONF:-/etc/tomcat10}"

# ansible-playbook: the one on PATH (ansible-test, make), else the checkout's venv.
if ! command -v ansible-playbook >/dev/null 2>&1; then
    PATH="$collection_root/.venv/bin:$PATH"
fi
playbook_bin="$(command -v ansible-playbook)"
# The module runs under the same python as ansible itself (interpreter discovery may pick a
# broken shim on this machine).
python="${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(dirname "$playbook_bin")/python}"
[[ -x "$python" ]] || python="$(command -v python3)"

# The collection: ansible-test already sets ANSIBLE_COLLECTIONS_PATH; from a checkout use
# <checkout>/build/collections (make collection), or the tree we sit in when installed.
if [[ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ]]; then
    if [[ "$(basename "$(dirname "$(dirname "$collection_root")")")" == ansible_collections ]]; then
        ANSIBLE_COLLECTIONS_PATH="$(dirname "$(dirname "$(dirname "$collection_root")")")"
    else
        ANSIBLE_COLLECTIONS_PATH="$collection_root/build/collections"
    fi
fi
export ANSIBLE_COLLECTIONS_PATH

for needed in "$CATALINA_HOME/bin/catalina.sh" "$TOMCAT_CONF/web.xml"; do
    [[ -r "$needed" ]] || { echo "runme.sh: $needed not found (install tomcat10, run as root)" >&2; exit 1; }
done

work="$(mktemp -d /tmp/tomcat_war_it.XXXXXX)"
base="$work/base"
pid_file="$base/temp/catalina.pid"

stop_tomcat() {
    # Only the JVM our PID file names, and only if it runs with our CATALINA_BASE.
    [[ -s "$pid_file" ]] || return 0
    local pid
    pid="$(cat "$pid_file")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -F -- "-Dcatalina.base=$base"; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 40); do
            kill -0 "$pid" 2>/dev/null || return 0
            sleep 0.5
        done
        echo "runme.sh: Tomcat PID $pid ignored SIGTERM for 20s, sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

cleanup() {
    local rc=$?
    stop_tomcat
    if [[ $rc -ne 0 && -f "$base/logs/catalina.out" ]]; then
        echo "---- last lines of $base/logs/catalina.out ----" >&2
        tail -n 40 "$base/logs/catalina.out" >&2 || true
    fi
    if [[ -z "${KEEP_TOMCAT_WAR_IT:-}" ]]; then rm -rf "$work"; else echo "kept $work" >&2; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Two free loopback ports, held together while both are picked.
read -r http_port shutdown_port < <("$python" - <<'PY'
import socket
held = []
for _ in range(2):
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    held.append(s)
print(*(s.getsockname()[1] for s in held))
for s in held:
    s.close()
PY
)

mkdir -p "$base"/{conf,webapps,work,temp,logs,bin} "$work/wars" "$work/src"
for f in catalina.properties context.xml logging.properties tomcat-users.xml web.xml jaspic-providers.xml; do
    [[ -e "$TOMCAT_CONF/$f" ]] && cp "$TOMCAT_CONF/$f" "$base/conf/"
done
cat >"$base/conf/server.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<!-- tomcat_war integration test: loopback only -->
<Server port="$shutdown_port" address="127.0.0.1" shutdown="SHUTDOWN">
  <Listener className="org.apache.catalina.startup.VersionLoggerListener" />
  <Service name="Catalina">
    <Connector port="$http_port" address="127.0.0.1" protocol="HTTP/1.1" connectionTimeout="20000" />
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="true" autoDeploy="true" />
    </Engine>
  </Service>
</Server>
XML
cat >"$base/bin/setenv.sh" <<'SH'
JAVA_OPTS="$JAVA_OPTS -Xmx256m -XX:+UseSerialGC -Djava.awt.headless=true"
SH

"$python" - "$work/src" <<'PY'
import os, sys, zipfile
out = sys.argv[1]
for version in ('1', '2'):
    with zipfile.ZipFile(os.path.join(out, 'app-v%s.war' % version), 'w', zipfile.ZIP_DEFLATED) as war:
        war.writestr('index.html', '<html><body>tomcat_war test app version %s</body></html>\n' % version)
        war.writestr('WEB-INF/web.xml',
                     '<?xml version="1.0" encoding="UTF-8"?>\n'
                     '<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0"/>\n')
with open(os.path.join(out, 'not-a.war'), 'w') as handle:
    handle.write('plain text, not a zip\n')
PY

echo "runme.sh: CATALINA_BASE=$base http=127.0.0.1:$http_port shutdown=127.0.0.1:$shutdown_port"
echo "runme.sh: python=$python ANSIBLE_COLLECTIONS_PATH=$ANSIBLE_COLLECTIONS_PATH"

cd "$here"
timeout 900 "$playbook_bin" tomcat_war.yml -i localhost, -c local \
    -e "ansible_python_interpreter=$python" \
    -e "catalina_home=$CATALINA_HOME" \
    -e "catalina_base=$base" \
    -e "http_port=$http_port" \
    -e "src_dir=$work/src" \
    "$@"
