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
collection_root="$(cd "$here/../../../.." && pwd -P)"

if ! command -v ansible-playbook >/dev/null 2>&1; then
    PATH="$collection_root/.venv/bin:$PATH"
fi
playbook_bin="$(command -v ansible-playbook)"
python="${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(dirname "$playbook_bin")/python}"
[[ -x "$python" ]] || python="$(command -v python3)"

if [[ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ]]; then
    if [[ "$(basename "$(dirname "$(dirname "$collection_root")")")" == ansible_collections ]]; then
        ANSIBLE_COLLECTIONS_PATH="$(dirname "$(dirname "$(dirname "$collection_root")")")"
    else
        ANSIBLE_COLLECTIONS_PATH="$collection_root/build/collections"
    fi
fi
export ANSIBLE_COLLECTIONS_PATH

# The simulator: next to this target in a checkout, else in the collection ansible-test installed.
simulator=""
IFS=: read -r -a collection_dirs <<<"$ANSIBLE_COLLECTIONS_PATH"
for candidate in "$collection_root/tests/simulators/amupgrade.py" \
                 "${collection_dirs[@]/%//ansible_collections/idmops/lifecycle/tests/simulators/amupgrade.py}"; do
    if [[ -f "$candidate" ]]; then simulator="$candidate"; break; fi
done
[[ -n "$simulator" ]] || { echo "runme.sh: tests/simulators/amupgrade.py not found" >&2; exit 1; }
# The wrapper runs /usr/bin/python3 like on the AM nodes; without one, this Python.
node_python=/usr/bin/python3
[[ -x "$node_python" ]] || node_python="$python"

work="$(mktemp -d /tmp/am_config_upgrade_it.XXXXXX)"
stub_pid=""
sleeper_pid=""

stop_pid() {
    local pid="$1"
    [[ -n "$pid" ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    stop_pid "$stub_pid"
    stop_pid "$sleeper_pid"
    if [[ -z "${KEEP_AM_CONFIG_UPGRADE_IT:-}" ]]; then rm -rf "$work"; else echo "kept $work" >&2; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$python" "$simulator" --install-home "$work/amupgrade" --python "$node_python"

# A process that stays alive while the playbook runs: its PID in .am.lock means "AM is running".
sleep 900 &
sleeper_pid=$!
# A PID that is certainly dead: a finished child's.
sh -c 'exit 0' &
dead_pid=$!
wait "$dead_pid"

"$python" "$here/files/am_stub.py" "$work/stub.port" >"$work/stub.log" 2>&1 &
stub_pid=$!
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
