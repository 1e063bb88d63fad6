#!/usr/bin/env bash
# Integration test for idmops.lifecycle.am_wizard_cleanup: edit a stand-in AM web application,
# then load the cleaned copy and an uncleaned copy in a real Tomcat 10 on 127.0.0.1.
# Self-contained: everything lives in a temporary directory; Tomcat is stopped by its PID on exit.
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
remove_on_exit "$work"

"$playbook_bin" -i localhost, -c local "$here/cleanup.yml" \
    -e "work_dir=$work" -e "tomcat_home=$tomcat_home" -e "ansible_python_interpreter=$python" "$@"

port="$(free_ports 1)"
base="$work/tomcat"
start_catalina "$tomcat_home" "$base" "$base/logs/console.log" \
    CATALINA_OPTS="-Dtest.http.port=$port -Xmx192m -XX:+UseSerialGC"
on_exit stop_pid "$!" 30 Tomcat

"$playbook_bin" -i localhost, -c local "$here/tomcat.yml" \
    -e "tomcat_base=$base" -e "http_port=$port" -e "ansible_python_interpreter=$python" "$@"
