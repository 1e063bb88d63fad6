#!/usr/bin/env bash
# Integration test for idmops.lifecycle.am_wizard_cleanup: edit a stand-in AM web application,
# then load the cleaned copy and an uncleaned copy in a real Tomcat 10 on 127.0.0.1.
# Self-contained: everything lives in a temporary directory; Tomcat is stopped by its PID on exit.
set -eux

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
collection_root="$(cd "$here/../../../.." && pwd)"

# ansible-test exports ANSIBLE_COLLECTIONS_PATH; from a checkout use its build/collections symlink tree.
if [[ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ]]; then
    if [[ "$(basename "$(dirname "$(dirname "$collection_root")")")" == ansible_collections ]]; then
        ANSIBLE_COLLECTIONS_PATH="$(dirname "$(dirname "$(dirname "$collection_root")")")"
    else
        ANSIBLE_COLLECTIONS_PATH="$collection_root/build/collections"
    fi
fi
export ANSIBLE_COLLECTIONS_PATH
python="${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(command -v python)}"
tomcat_home="${TEST_CATALINA_HOME:-/usr/share/tomcat10}"

[[ -x "$tomcat_home/bin/catalina.sh" ]] || { echo "Tomcat 10 is needed at $tomcat_home (set TEST_CATALINA_HOME)" >&2; exit 1; }

work="$(mktemp -d)"
tomcat_pid=""
cleanup() {
    if [[ -n "$tomcat_pid" ]] && kill -0 "$tomcat_pid" 2>/dev/null; then
        kill "$tomcat_pid"
        wait "$tomcat_pid" || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

ansible-playbook -i localhost, -c local "$here/cleanup.yml" \
    -e "work_dir=$work" -e "tomcat_home=$tomcat_home" -e "ansible_python_interpreter=$python" "$@"

port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="$work/tomcat"
CATALINA_HOME="$tomcat_home" CATALINA_BASE="$base" CATALINA_TMPDIR="$base/temp" \
    CATALINA_OPTS="-Dtest.http.port=$port -Xmx192m -XX:+UseSerialGC" \
    "$tomcat_home/bin/catalina.sh" run >"$base/logs/console.log" 2>&1 &
tomcat_pid=$!

ansible-playbook -i localhost, -c local "$here/tomcat.yml" \
    -e "tomcat_base=$base" -e "http_port=$port" -e "ansible_python_interpreter=$python" "$@"
