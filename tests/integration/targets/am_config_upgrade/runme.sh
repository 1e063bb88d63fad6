#!/usr/bin/env bash
# Integration test of idmops.lifecycle.am_config_upgrade (with the amupgrade simulator) and
# idmops.lifecycle.am_rest_upgrade (with a stdlib HTTP stand-in on 127.0.0.1).
#
# Lays out an amupgrade home from tests/simulators/amupgrade.py into a temp dir (the wrapper
# runs /usr/bin/python3, as on the AM nodes), starts files/am_stub.py on a free loopback port
# and a `sleep` whose live PID plays a running AM, then runs am_config_upgrade.yml against
# localhost. Everything it started is stopped by PID on exit.
#
#   tests/integration/targets/am_config_upgrade/runme.sh    (ansible-playbook from PATH or .venv)
# or through `make integration` (ansible-test integration --local).
# KEEP_AM_CONFIG_UPGRADE_IT=1 keeps the temp dir (and prints where it is).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=../setup_shell_lib/lib.sh
source "$here/../setup_shell_lib/lib.sh"

playbook_bin="$(playbook_command)"
python="$(python_command "$playbook_bin")"
export_collections_path

simulator="$(collection_file tests/simulators/amupgrade.py)"
# The wrapper runs /usr/bin/python3 like on the AM nodes; without one, this Python.
node_python=/usr/bin/python3
[[ -x "$node_python" ]] || node_python="$python"

work="$(mktemp -d /tmp/am_config_upgrade_it.XXXXXX)"
remove_on_exit "$work" KEEP_AM_CONFIG_UPGRADE_IT

"$python" "$simulator" --install-home "$work/amupgrade" --python "$node_python"

# A process that stays alive while the playbook runs: its PID in .am.lock means "AM is running".
sleep 900 &
sleeper_pid=$!
on_exit stop_pid "$sleeper_pid" 5
# A PID that is certainly dead: a finished child's.
sh -c 'exit 0' &
dead_pid=$!
wait "$dead_pid"

"$python" "$here/files/am_stub.py" "$work/stub.port" >"$work/stub.log" 2>&1 &
stub_pid=$!
on_exit stop_pid "$stub_pid" 5
for _ in $(seq 1 100); do
    [[ -s "$work/stub.port" ]] && break
    kill -0 "$stub_pid" 2>/dev/null || { cat "$work/stub.log" >&2; echo "runme.sh: HTTP stub died" >&2; exit 1; }
    sleep 0.05
done
[[ -s "$work/stub.port" ]] || { echo "runme.sh: HTTP stub did not start" >&2; exit 1; }
stub_port="$(cat "$work/stub.port")"

echo "runme.sh: work=$work amupgrade=$work/amupgrade stub=127.0.0.1:$stub_port python=$python"

cd "$here"
timeout 600 "$playbook_bin" am_config_upgrade.yml -i localhost, -c local \
    -e "ansible_python_interpreter=$python" \
    -e "work=$work" \
    -e "amupgrade_home=$work/amupgrade" \
    -e "live_pid=$sleeper_pid" \
    -e "dead_pid=$dead_pid" \
    -e "stub=http://127.0.0.1:$stub_port" \
    "$@"
