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
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(command -v python3 || command -v python)}
haproxy=${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}
if [ ! -x "$haproxy" ]; then
    echo "runme.sh: haproxy not found (set HAPROXY=/path/to/haproxy)" >&2
    exit 1
fi

if [ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ]; then
    root=$(cd "$here/../../../.." && pwd -P)
    logical=$(cd "$here/../../../.." && pwd -L)
    case "$logical" in
        */ansible_collections/idmops/lifecycle) ANSIBLE_COLLECTIONS_PATH=${logical%/ansible_collections/idmops/lifecycle} ;;
        *) ANSIBLE_COLLECTIONS_PATH=$root/build/collections ;;
    esac
    if [ ! -e "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/idmops/lifecycle/galaxy.yml" ]; then
        echo "runme.sh: cannot find idmops.lifecycle under $ANSIBLE_COLLECTIONS_PATH; set ANSIBLE_COLLECTIONS_PATH" >&2
        exit 1
    fi
    export ANSIBLE_COLLECTIONS_PATH
fi

workdir=$(mktemp -d "${TMPDIR:-/tmp}/lb_pool_member.XXXXXX")
pids=()
# the playbook holds requests open with async tasks: keep their job files with everything else
export ANSIBLE_ASYNC_DIR=$workdir/async

cleanup() {
    local rc=$? pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ "$rc" -ne 0 ] && [ -s "$workdir/haproxy.log" ]; then
        echo "--- haproxy output" >&2
        tail -n 30 "$workdir/haproxy.log" >&2
    fi
    rm -rf "$workdir"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

fe_port=$(free_port)
admin_port=$(free_port)
s1_port=$(free_port)
s2_port=$(free_port)
dead_port=$(free_port)      # nothing listens here: the "dead" server stays DOWN
closed_port=$(free_port)    # nothing listens here either: for the refused-connection case

"$python" "$here/files/backend.py" "$s1_port" s1 &
pids+=($!)
"$python" "$here/files/backend.py" "$s2_port" s2 &
pids+=($!)

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
pids+=($!)

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

ansible-playbook -i localhost, -c local -e "@$workdir/vars.json" "$here/playbook.yml" "$@"
