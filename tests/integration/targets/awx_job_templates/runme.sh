#!/usr/bin/env bash
# Integration test for the AWX definitions in awx/ and tools/run_job_template.py: validates every
# credential type and survey (files/check_definitions.py, which also plants errors the validator must
# find), then runs each job template whose playbook exists under ansible-runner (the engine AWX uses,
# without process isolation) with --syntax-check and the survey defaults as extra vars, and
# playbooks/awx_configure.yml with --syntax-check (needs awx.awx: make awx-collection).
#
#   bash tests/integration/targets/awx_job_templates/runme.sh      (with the venv on PATH)

set -eu -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source-path=SCRIPTDIR source=../setup_shell_lib/lib.sh
source "$here/../setup_shell_lib/lib.sh"
playbook_bin=$(playbook_command)
python=$(python_command "$playbook_bin")

export_collections_path
collection=$(cd "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/idmops/lifecycle" && pwd -P)
workdir=$(mktemp -d "${TMPDIR:-/tmp}/awx_job_templates.XXXXXX")
remove_on_exit "$workdir"

"$python" "$here/files/check_definitions.py" "$collection"

# awx.awx next to this collection (make awx-collection), else into the work directory.
if [ ! -e "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/awx/awx/MANIFEST.json" ]; then
    PYTHON=$python "$collection/awx/install-awx-collection" "$workdir/collections"
    export ANSIBLE_COLLECTIONS_PATH="$ANSIBLE_COLLECTIONS_PATH:$workdir/collections"
fi
"$playbook_bin" --syntax-check -i localhost, "$collection/playbooks/awx_configure.yml"

templates=$("$python" - "$collection" <<'PY'
import os
import sys

sys.path.insert(0, os.path.join(sys.argv[1], 'tools'))
import run_job_template

for template in run_job_template.load_definitions(os.path.join(sys.argv[1], 'awx'))[1]:
    if os.path.exists(os.path.join(sys.argv[1], template['playbook'])):
        print(template['name'])
PY
)
count=0
while IFS= read -r template; do
    "$python" "$collection/tools/run_job_template.py" "$template" --syntax-check \
        --private-data-dir "$workdir/runner-$count" > "$workdir/run.log" 2>&1 \
        || { cat "$workdir/run.log" >&2; exit 1; }
    grep -q "^job template '$template': successful, rc 0$" "$workdir/run.log" \
        || { cat "$workdir/run.log" >&2; echo "runme.sh: $template did not pass" >&2; exit 1; }
    count=$((count + 1))
done <<<"$templates"
echo "runme.sh: $count job templates pass --syntax-check under ansible-runner with their survey defaults"
