#!/usr/bin/env bash
# Integration test of idmops.lifecycle.vm_snapshot and vm_snapshot_info against the lab's vCenter
# simulator (lab/vcsim: govmomi's simulator from Debian with the lab's VM names and own fixes).
#
# Builds it (lab/vcsim/build.sh installs Debian's Go and govmomi when missing), starts it on a free
# 127.0.0.1 port, stops it by PID on exit, and runs vm_snapshot.yml against it.
#   tests/integration/targets/vm_snapshot/runme.sh    or    ansible-test integration vm_snapshot
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=../setup_shell_lib/lib.sh
source "$here/../setup_shell_lib/lib.sh"

playbook_bin="$(playbook_command)"
python="$(python_command "$playbook_bin")"
export_collections_path

# The collection root: lab/vcsim lives there (ansible-test copies only this target elsewhere).
collection="$(cd "${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/idmops/lifecycle" && pwd -P)"
vcsim="$("$collection/lab/vcsim/build.sh")"

work="$(mktemp -d /tmp/vm_snapshot_it.XXXXXX)"
remove_on_exit "$work" KEEP_VM_SNAPSHOT_IT
on_failure show_log "$work/vcsim.log" 40

port="$(free_ports 1)"
VCSIM_USERNAME=lab
VCSIM_PASSWORD="$("$python" -c 'import secrets; print(secrets.token_hex(12))')"
export VCSIM_USERNAME VCSIM_PASSWORD
"$vcsim" -port "$port" -vms am1,am2,am3,vidm1,vidm2,vidm3 -url-file "$work/url" >"$work/vcsim.log" 2>&1 &
vcsim_pid=$!
on_exit stop_pid "$vcsim_pid" 10 vcsim

for _ in $(seq 100); do
    [[ -s "$work/url" ]] && break
    kill -0 "$vcsim_pid" 2>/dev/null || { echo "runme.sh: vcsim exited" >&2; exit 1; }
    sleep 0.1
done
[[ -s "$work/url" ]] || { echo "runme.sh: vcsim did not write its URL in 10s" >&2; exit 1; }

"$playbook_bin" -i localhost, -c local -e "ansible_python_interpreter=$python" -e "vcsim_port=$port" \
    "$here/vm_snapshot.yml" "$@"

# A server panic would show in the log even when every assert passed.
if grep -q -i panic "$work/vcsim.log"; then
    echo "runme.sh: vcsim logged a panic" >&2
    exit 1
fi
