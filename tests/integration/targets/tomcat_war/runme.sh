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
# shellcheck source-path=SCRIPTDIR source=../setup_shell_lib/lib.sh
source "$here/../setup_shell_lib/lib.sh"
CATALINA_HOME="${CATALINA_HOME:-/usr/share/tomcat10}"
TOMCAT_CONF="${TOMCAT_CONF:-/etc/tomcat10}"

# ansible-playbook: the one on PATH (ansible-test, make), else the checkout's venv.
playbook_bin="$(playbook_command)"
# The module runs under the same python as ansible itself (interpreter discovery may pick a
# broken shim on this machine).
python="$(python_command "$playbook_bin")"

export_collections_path

for needed in "$CATALINA_HOME/bin/catalina.sh" "$TOMCAT_CONF/web.xml"; do
    [[ -r "$needed" ]] || { echo "runme.sh: $needed not found (install tomcat10, run as root)" >&2; exit 1; }
done

work="$(mktemp -d /tmp/tomcat_war_it.XXXXXX)"
base="$work/base"
pid_file="$base/temp/catalina.pid"
# Only the JVM our PID file names, and only if it runs with our CATALINA_BASE.
on_exit stop_pid_file "$pid_file" "-Dcatalina.base=$base" 20 Tomcat
on_failure show_log "$base/logs/catalina.out" 40
remove_on_exit "$work" KEEP_TOMCAT_WAR_IT

# Two free loopback ports, held together while both are picked.
ports="$(free_ports 2)"
read -r http_port shutdown_port <<<"$ports"

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
