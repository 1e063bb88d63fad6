#!/usr/bin/env bash
# Integration test of idmops.lifecycle.vidm_cluster_info, vidm_health and vidm_appliance_upgrade
# against the vIDM appliance simulator (tests/simulators/vidm_appliance/vidm_appliance_sim.py):
# the commands are installed under a temp root at their real relative paths, the node HTTP
# service runs on a free loopback port and is stopped by PID on exit.
#
#   tests/integration/targets/vidm_appliance/runme.sh    (ansible-playbook from PATH or .venv)
# or through `make integration` (ansible-test integration --local).
# KEEP_VIDM_APPLIANCE_IT=1 keeps the temp dir (and prints where it is).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=../setup_shell_lib/lib.sh
source "$here/../setup_shell_lib/lib.sh"

playbook_bin="$(playbook_command)"
python="$(python_command "$playbook_bin")"
export_collections_path

simulator="$(collection_file tests/simulators/vidm_appliance/vidm_appliance_sim.py)"

work="$(mktemp -d /tmp/vidm_appliance_it.XXXXXX)"
remove_on_exit "$work" KEEP_VIDM_APPLIANCE_IT
root="$work/root"

# The offline bundle and its checksum, recorded in the simulator's state.
printf 'vIDM 3.3.7.0 offline update bundle (simulated)\n' >"$work/bundle.zip"
bundle_sha="$(sha256sum "$work/bundle.zip" | cut -d' ' -f1)"
"$python" "$simulator" --install "$root" --set update_seconds=3 --set "offline_bundle_sha256=\"$bundle_sha\""

port="$(free_ports 1)"
"$python" "$simulator" --serve --root "$root" --listen "127.0.0.1:$port" >"$work/sim.log" 2>&1 &
sim_pid=$!
on_exit stop_pid "$sim_pid" 5 vidm_appliance_sim
on_failure show_log "$work/sim.log" 40
for _ in $(seq 50); do
    grep -q '^port=' "$work/sim.log" 2>/dev/null && break
    kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.log" >&2; echo "runme.sh: simulator died" >&2; exit 1; }
    sleep 0.1
done
grep -q '^port=' "$work/sim.log" || { echo "runme.sh: simulator did not start" >&2; exit 1; }
echo "runme.sh: work=$work node=127.0.0.1:$port (PID $sim_pid) python=$python"

cd "$here"
timeout 600 "$playbook_bin" vidm_appliance.yml -i localhost, -c local \
    -e "ansible_python_interpreter=$python" \
    -e "sim_python=$python" \
    -e "sim=$simulator" \
    -e "root=$root" \
    -e "work=$work" \
    -e "node_url=http://127.0.0.1:$port" \
    -e "bundle=$work/bundle.zip" \
    -e "bundle_sha=$bundle_sha" \
    "$@"
