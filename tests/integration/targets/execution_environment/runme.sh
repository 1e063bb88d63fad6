#!/usr/bin/env bash
# Integration test for execution-environment.yml: builds the collection tarball, runs
# `ansible-builder create` into a temporary directory (no container engine needed) and checks the build
# context with files/check_context.py, including that every third-party Python import of the plugins
# is in the EE's Python requirements.
#
#   bash tests/integration/targets/execution_environment/runme.sh      (with the venv on PATH)

set -eu -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source-path=SCRIPTDIR source=../setup_shell_lib/lib.sh
source "$here/../setup_shell_lib/lib.sh"
playbook_bin=$(playbook_command)
python=$(python_command "$playbook_bin")
bin=$(dirname "$playbook_bin")
builder=$(command -v ansible-builder || echo "$bin/ansible-builder")
if [ ! -x "$builder" ]; then
    echo "runme.sh: ansible-builder not found (make venv installs it from requirements-dev.txt)" >&2
    exit 1
fi

export_collections_path
collection=$(cd "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/idmops/lifecycle" && pwd -P)
workdir=$(mktemp -d "${TMPDIR:-/tmp}/execution_environment.XXXXXX")
remove_on_exit "$workdir" KEEP_EE_CONTEXT

# The EE file names its inputs relative to itself, as `make ee` lays them out in the checkout.
cp "$collection/execution-environment.yml" "$workdir/"
mkdir -p "$workdir/build/ee-src"
"$bin/ansible-galaxy" collection build --force --output-path "$workdir/tarball" "$collection" >/dev/null
mv "$workdir"/tarball/idmops-lifecycle-*.tar.gz "$workdir/build/ee-src/idmops-lifecycle.tar.gz"

"$builder" create -f "$workdir/execution-environment.yml" --context "$workdir/context" \
    --output-filename Containerfile -v 1
"$python" "$here/files/check_context.py" "$workdir/context" "$collection"
