#!/usr/bin/env bash
# Integration test for idmops.lifecycle.lb_pool_member with backend=nsxt and backend=f5, against
# the strict simulators tests/simulators/nsxt_sim.py and f5_sim.py.
#
# Starts both on 127.0.0.1 (each prints its free port), runs playbook.yml once, which runs the
# same task list (api_backend.yml) for each backend, then stops them by PID. Extra arguments go
# to ansible-playbook (e.g. -v).
#
#   bash tests/integration/targets/lb_pool_member_api/runme.sh      (with the venv on PATH)

set -eu -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source-path=SCRIPTDIR source=../setup_shell_lib/lib.sh
source "$here/../setup_shell_lib/lib.sh"
playbook_bin=$(playbook_command)
python=$(python_command "$playbook_bin")
export_collections_path

simulators="$(dirname "$(collection_file tests/simulators/nsxt_sim.py)")"
[[ -f "$simulators/f5_sim.py" ]] || { echo "runme.sh: $simulators/f5_sim.py not found" >&2; exit 1; }

workdir=$(mktemp -d "${TMPDIR:-/tmp}/lb_pool_member_api.XXXXXX")
remove_on_exit "$workdir" KEEP_LB_POOL_MEMBER_API_IT

password="sim-$RANDOM-$RANDOM"

# start_sim NAME: start tests/simulators/NAME.py, wait for the port it prints, set it in $port
start_sim() {
    local name="$1" tick
    "$python" "$simulators/$name.py" --user admin --password "$password" \
        >"$workdir/$name.port" 2>"$workdir/$name.log" &
    on_exit stop_pid $! 5 "$name"
    on_failure show_log "$workdir/$name.log" 30
    for ((tick = 0; tick < 100; tick++)); do
        [[ -s "$workdir/$name.port" ]] && break
        sleep 0.1
    done
    port=$(head -n 1 "$workdir/$name.port")
    [[ "$port" =~ ^[0-9]+$ ]] || { echo "runme.sh: $name did not print its port" >&2; return 1; }
}

start_sim nsxt_sim
nsxt_port=$port
start_sim f5_sim
f5_port=$port

cat > "$workdir/vars.json" <<JSON
{
  "ansible_python_interpreter": "$python",
  "lb_api_password": "$password",
  "lb_nsxt_url": "http://127.0.0.1:$nsxt_port",
  "lb_f5_url": "http://127.0.0.1:$f5_port"
}
JSON

"$playbook_bin" -i localhost, -c local -e "@$workdir/vars.json" "$here/playbook.yml" "$@"
