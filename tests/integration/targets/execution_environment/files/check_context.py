"""Checks an ansible-builder build context made from execution-environment.yml.

    python check_context.py CONTEXT COLLECTION_ROOT
"""

import ast
import os
import re
import sys
import tarfile

import yaml

# Import name -> the distribution in the EE's Python requirements that provides it.
DISTRIBUTIONS = {'ldap3': 'ldap3', 'pyVmomi': 'pyvmomi', 'pyVim': 'pyvmomi', 'winrm': 'pywinrm'}
FIRST_PARTY = {'ansible', 'ansible_collections'}


def check(condition, message):
    if not condition:
        raise SystemExit('check_context: ' + message)


def third_party_imports(root):
    """Top-level names of every module the collection's plugins import that is neither stdlib nor Ansible."""
    found = {}
    for directory, _dirs, files in os.walk(os.path.join(root, 'plugins')):
        for name in files:
            if not name.endswith('.py'):
                continue
            path = os.path.join(directory, name)
            with open(path, encoding='utf-8') as handle:
                tree = ast.parse(handle.read(), path)
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for module in names:
                    top = module.split('.')[0]
                    if top not in sys.stdlib_module_names and top not in FIRST_PARTY and top != '__future__':
                        found.setdefault(top, os.path.relpath(path, root))
    return found


def main():
    context, root = sys.argv[1:3]
    build = os.path.join(context, '_build')
    with open(os.path.join(context, 'Containerfile'), encoding='utf-8') as handle:
        containerfile = handle.read()
    check('quay.io/centos/centos:stream9' in containerfile, 'the Containerfile does not start from the base image')
    for stage in ('AS galaxy', 'AS builder', 'AS final'):
        check(stage in containerfile, 'the Containerfile has no %r stage' % stage)
    check('ansible-core==2.19.14' in containerfile, 'ansible-core is not pinned in the Containerfile')

    with open(os.path.join(build, 'requirements.yml'), encoding='utf-8') as handle:
        galaxy = yaml.safe_load(handle)
    names = {c['name']: c for c in galaxy['collections']}
    check({'ansible.windows', 'awx.awx', 'collection/idmops-lifecycle.tar.gz'} <= set(names), 'galaxy: %s' % names)
    tarball = os.path.join(build, 'collection', 'idmops-lifecycle.tar.gz')
    with tarfile.open(tarball) as archive:
        members = set(archive.getnames())
    check({'MANIFEST.json', 'plugins/callback/upgrade_report.py', 'playbooks/am_site_upgrade.yml'} <= members,
          'the collection tarball lacks files: %s' % sorted(members)[:20])
    check(not any(m.startswith(('build/', '.venv/', 'tests/output/')) for m in members),
          'the collection tarball carries build output')

    with open(os.path.join(build, 'requirements.txt'), encoding='utf-8') as handle:
        python = {re.split(r'[=<>!~ ]', line.strip())[0].lower() for line in handle
                  if line.strip() and not line.startswith('#')}
    for module, where in sorted(third_party_imports(root).items()):
        check(module in DISTRIBUTIONS, '%s imports %s: add it to execution-environment.yml and to this test'
              % (where, module))
        check(DISTRIBUTIONS[module] in python, '%s imports %s but the EE does not install %s'
              % (where, module, DISTRIBUTIONS[module]))

    with open(os.path.join(build, 'bindep.txt'), encoding='utf-8') as handle:
        bindep = handle.read()
    for package in ('java-17-openjdk-headless', 'openldap-clients', 'openssh-clients'):
        check(re.search(r'^%s \[platform:rpm\]' % re.escape(package), bindep, re.M), 'bindep lacks ' + package)
    print('check_context: build context %s is right (%d Python requirements, %d collections)'
          % (context, len(python), len(names)))


if __name__ == '__main__':
    main()
