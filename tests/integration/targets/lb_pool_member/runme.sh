#!/usr/bin/env bash
# Integration test for idmops.lifecycle.lb_pool_member against a real HAProxy.
#
# Starts, on 127.0.0.1 only and under a temporary directory: two HTTP backends
# (files/backend.py) and one HAProxy with an admin UNIX socket, an operator-level UNIX socket
# and an admin TCP socket on a free port. Runs playbook.yml, then stops everything it started
# by PID. Extra arguments go to ansible-playbook (e.g. -v).
#
#   bash tests/integration/targets/lb_pool_member/runme.sh      (with the venv on PATH)

set -eu -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source-path=SCRIPTDIR source=../setup_shell_lib/lib.sh
source "$here/../setup_shell_lib/lib.sh"
playbook_bin=$(playbook_command)
python=$(python_command "$playbook_bin")
haproxy=$(haproxy_command)

export_collections_path

workdir=$(mktemp -d "${TMPDIR:-/tmp}/lb_pool_member.XXXXXX")
# the playbook holds requests open with async tasks: keep their job files with everything else
export ANSIBLE_ASYNC_DIR=$workdir/async
remove_on_exit "$workdir"

ports=$(free_ports 6)
# dead: nothing listens there, so the "dead" server stays DOWN; closed: nothing listens there
# either, for the refused-connection case
read -r fe_port admin_port s1_port s2_port dead_port closed_port <<<"$ports"

"$python" "$here/files/backend.py" "$s1_port" s1 &
on_exit stop_pid $! 5
"$python" "$here/files/backend.py" "$s2_port" s2 &
on_exit stop_pid $! 5

cat > "$workdir/haproxy.cfg" <<CFG
global
    stats socket $workdir/admin.sock mode 600 level admin
    stats socket $workdir/operator.sock mode 600 level operator
    stats socket ipv4@127.0.0.1:$admin_port level admin
    stats timeout 30s

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s

frontend fe
    bind 127.0.0.1:$fe_port
    default_backend app

backend app
    balance roundrobin
    option httpchk GET /
    default-server check inter 200ms fall 2 rise 2
    server s1 127.0.0.1:$s1_port
    server s2 127.0.0.1:$s2_port
    server dead 127.0.0.1:$dead_port

backend other
    server o1 127.0.0.1:$s1_port
CFG

"$haproxy" -c -q -f "$workdir/haproxy.cfg"
"$haproxy" -db -f "$workdir/haproxy.cfg" > "$workdir/haproxy.log" 2>&1 &
on_exit stop_pid $! 5 HAProxy
on_failure show_log "$workdir/haproxy.log" 30

for server in s1 s2; do
    "$python" "$here/files/hapctl.py" "$workdir/admin.sock" wait-up app "$server" 20
done

cat > "$workdir/vars.json" <<JSON
{
  "ansible_python_interpreter": "$python",
  "lb_python": "$python",
  "lb_hapctl": "$here/files/hapctl.py",
  "lb_socket": "$workdir/admin.sock",
  "lb_operator_socket": "$workdir/operator.sock",
  "lb_missing_socket": "$workdir/missing.sock",
  "lb_address": "127.0.0.1:$admin_port",
  "lb_closed_address": "127.0.0.1:$closed_port",
  "lb_frontend": "http://127.0.0.1:$fe_port"
}
JSON

"$playbook_bin" -i localhost, -c local -e "@$workdir/vars.json" "$here/playbook.yml" "$@"
