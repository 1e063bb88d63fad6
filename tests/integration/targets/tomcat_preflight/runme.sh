#!/usr/bin/env bash
# Integration test for idmops.lifecycle.tomcat_preflight with the Debian tomcat10.
# Self-contained: everything lives in a temporary directory; each Tomcat started here is stopped
# by its PID (also on failure).
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
base="$work/tomcat"
tomcat_pid=""

stop_tomcat() {
    if [[ -n "$tomcat_pid" ]] && kill -0 "$tomcat_pid" 2>/dev/null; then
        kill "$tomcat_pid"
        wait "$tomcat_pid" || true
    fi
    tomcat_pid=""
}
trap 'stop_tomcat; rm -rf "$work"' EXIT

free_port() {
    "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts Tomcat with CATALINA_BASE's own setenv.sh (catalina.sh sources it), logs to console-<n>.log.
start_tomcat() {
    http_port="$(free_port)"
    ajp_port="$(free_port)"
    CATALINA_HOME="$tomcat_home" CATALINA_BASE="$base" CATALINA_TMPDIR="$base/temp" \
        JAVA_OPTS="-Dtest.http.port=$http_port -Dtest.ajp.port=$ajp_port" \
        "$tomcat_home/bin/catalina.sh" run >"$base/logs/console-$1.log" 2>&1 &
    tomcat_pid=$!
}

playbook() {
    ansible-playbook -i localhost, -c local "$here/$1" \
        -e "work_dir=$work" -e "tomcat_home=$tomcat_home" -e "ansible_python_interpreter=$python" "${@:2}"
}

playbook report.yml "$@"

# Tomcat 10 ignores ALLOW_ENCODED_SLASH=true: an encoded slash is rejected.
start_tomcat 1
playbook probe.yml -e "http_port=$http_port" -e console=console-1.log -e expect_status=400 "$@"
stop_tomcat

playbook fix.yml "$@"

# After the fix the Connector decodes it: /a%2Fb.txt is /a/b.txt.
start_tomcat 2
playbook probe.yml -e "http_port=$http_port" -e console=console-2.log -e expect_status=200 "$@"
stop_tomcat
