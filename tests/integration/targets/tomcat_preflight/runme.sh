#!/usr/bin/env bash
# Integration test for idmops.lifecycle.tomcat_preflight with the Debian tomcat10.
# Self-contained: everything lives in a temporary directory; each Tomcat started here is stopped
# by its PID (also on failure).
set -eux

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../setup_shell_lib/lib.sh
source "$here/../setup_shell_lib/lib.sh"

export_collections_path
playbook_bin="$(playbook_command)"
python="$(python_command "$playbook_bin")"
tomcat_home="${TEST_CATALINA_HOME:-/usr/share/tomcat10}"

[[ -x "$tomcat_home/bin/catalina.sh" ]] || { echo "Tomcat 10 is needed at $tomcat_home (set TEST_CATALINA_HOME)" >&2; exit 1; }

work="$(mktemp -d)"
base="$work/tomcat"
tomcat_pid=""

stop_tomcat() {
    stop_pid "$tomcat_pid" 30 Tomcat
    tomcat_pid=""
}
on_exit stop_tomcat
remove_on_exit "$work"

# Starts Tomcat with CATALINA_BASE's own setenv.sh (catalina.sh sources it), logs to console-<n>.log.
start_tomcat() {
    local ports
    ports="$(free_ports 2)"
    read -r http_port ajp_port <<<"$ports"
    start_catalina "$tomcat_home" "$base" "$base/logs/console-$1.log" \
        JAVA_OPTS="-Dtest.http.port=$http_port -Dtest.ajp.port=$ajp_port"
    tomcat_pid=$!
}

playbook() {
    "$playbook_bin" -i localhost, -c local "$here/$1" \
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
