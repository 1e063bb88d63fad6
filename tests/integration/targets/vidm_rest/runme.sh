#!/usr/bin/env bash
# Integration test of idmops.lifecycle.vidm_directory, vidm_sync_connectors and
# vidm_sync_connectors_info against the vIDM simulator (tests/simulators/vidm_sim.py), started on a
# free loopback port with secrets made up for this run and stopped by PID on exit. The whole run is
# at -vvv and its output must not contain any of the secrets.
#
#   tests/integration/targets/vidm_rest/runme.sh    (ansible-playbook from PATH or .venv)
# or through `make integration` (ansible-test integration --local).
# KEEP_VIDM_REST_IT=1 keeps the temp dir (and prints where it is).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=../setup_shell_lib/lib.sh
source "$here/../setup_shell_lib/lib.sh"

playbook_bin="$(playbook_command)"
python="$(python_command "$playbook_bin")"
export_collections_path

simulator="$(collection_file tests/simulators/vidm_sim.py)"

work="$(mktemp -d /tmp/vidm_rest_it.XXXXXX)"
remove_on_exit "$work" KEEP_VIDM_REST_IT

client_secret="cs-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
admin_password="pw-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
bind_password="bp-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
printf 'vidm_client_secret: %s\nvidm_admin_password: %s\nvidm_bind_password: %s\n' \
    "$client_secret" "$admin_password" "$bind_password" >"$work/secrets.yml"
chmod 600 "$work/secrets.yml"

"$python" "$simulator" --port-file "$work/sim.port" --client-id ansible --client-secret "$client_secret" \
    --username admin --password "$admin_password" >"$work/sim.log" 2>&1 &
sim_pid=$!
on_exit stop_pid "$sim_pid" 5 vidm_sim
on_failure show_log "$work/sim.log" 40
for _ in $(seq 1 100); do
    [[ -s "$work/sim.port" ]] && break
    kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.log" >&2; echo "runme.sh: simulator died" >&2; exit 1; }
    sleep 0.05
done
[[ -s "$work/sim.port" ]] || { echo "runme.sh: simulator did not start" >&2; exit 1; }
sim_port="$(cat "$work/sim.port")"
echo "runme.sh: work=$work simulator=127.0.0.1:$sim_port (PID $sim_pid) python=$python"

cd "$here"
rc=0
timeout 600 "$playbook_bin" vidm_rest.yml -i localhost, -c local -vvv \
    -e "ansible_python_interpreter=$python" \
    -e "vidm_url=http://127.0.0.1:$sim_port" \
    -e "@$work/secrets.yml" \
    "$@" >"$work/playbook.log" 2>&1 || rc=$?
if [[ "$rc" -ne 0 ]]; then
    tail -n 200 "$work/playbook.log"
    echo "runme.sh: playbook failed (rc=$rc)" >&2
    exit "$rc"
fi
grep -E '^(PLAY RECAP|localhost) ' "$work/playbook.log" || true

leaked=0
for secret in "$client_secret" "$admin_password" "$bind_password"; do
    if grep -qF -- "$secret" "$work/playbook.log"; then
        echo "runme.sh: a secret (${secret:0:3}...) appears in the -vvv output" >&2
        leaked=1
    fi
done
[[ "$leaked" -eq 0 ]] || exit 1
echo "runme.sh: no secret in $(wc -l <"$work/playbook.log") lines of -vvv output"
