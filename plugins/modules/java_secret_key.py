#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


DOCUMENTATION = r'''
---
module: java_secret_key
short_description: Create, copy or remove a secret key entry (such as AM's directenctest) in a Java keystore
version_added: 0.1.0
description:
  - Makes sure the alias O(alias) of the JCEKS or PKCS12 keystore O(path) holds a secret key (a
    C(SecretKeyEntry)), or with O(state=absent) that it does not.
  - Without O(source_path) a new random key is generated with C(keytool -genseckey). With
    O(source_path) the key is copied from another keystore with C(keytool -importkeystore -srcalias),
    so every instance of a site can hold the same key material. PingAM 8.1 needs an AES-256 key
    C(directenctest) on every instance of a site and does not start without it.
  - An existing key is never replaced unless O(regenerate) asks for it.
  - C(keytool -list) shows only the entry type of a secret key, not its algorithm, its size or any
    trace of its material (seen with OpenJDK 17 and 25). When a JDK (11 or later) is present, the
    module therefore runs a small Java program from source with the C(java) of the same runtime. It
    reads the key's algorithm and size and a SHA-256 fingerprint of the key material. See
    O(inspection). The key itself never leaves the Java process.
  - Passwords never appear on a command line. They are written to files with mode C(0600) in a
    private directory, passed as C(-storepass:file) and the like, and removed after each run.
  - Changes are made on a copy of the keystore in the same directory. The copy is checked with
    C(keytool -list) (and the probe) and then renamed over the keystore. A failed keytool run leaves
    the keystore as it was.
  - C(keytool) runs with C(-J-Duser.language=en), C(-J-Duser.country=US) and the C locale, so its
    output can be read whatever the host's language.
author:
  - idmops.lifecycle maintainers (@idmops)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    details:
      - Reads the keystores (with keytool and the probe) and reports what would change. Nothing is written.
  diff_mode:
    support: full
    details:
      - The entry before and after - alias, entry type, and, when it can be inspected, algorithm,
        size and fingerprint.
  platform:
    platforms: posix
options:
  path:
    description:
      - Path of the keystore on the target host.
      - It is created when it does not exist (its directory must exist). A new keystore gets mode
        C(0600) unless O(mode) says otherwise. An existing keystore keeps its owner, group and mode.
    type: path
    required: true
  alias:
    description:
      - The alias of the secret key entry.
      - JCEKS and PKCS12 keystores store aliases in lower case, so the alias is compared without regard to case.
      - When the alias exists with another entry type (C(PrivateKeyEntry), C(trustedCertEntry)) the
        module fails and changes nothing, whatever O(regenerate) says.
    type: str
    default: directenctest
  key_algorithm:
    description:
      - Algorithm of the key generated with C(keytool -genseckey -keyalg).
      - With O(source_path) the source key must have this algorithm, when the key can be inspected.
    type: str
    choices: [AES, HmacSHA256, HmacSHA384, HmacSHA512]
    default: AES
  key_size:
    description:
      - Size of the key in bits (C(keytool -keysize)).
      - With O(source_path) the source key must have this size, when the key can be inspected.
    type: int
    choices: [128, 192, 256]
    default: 256
  store_type:
    description:
      - Type of the keystore O(path).
      - When O(path) exists and its first bytes show another type, the module fails and changes nothing.
        A JKS keystore cannot hold secret keys.
    type: str
    choices: [JCEKS, PKCS12]
    default: JCEKS
  store_password:
    description:
      - Password of the keystore O(path). Exactly one of O(store_password) and O(store_password_file) is required.
      - A new keystore needs at least 6 characters.
    type: str
  store_password_file:
    description:
      - File on the target host whose first line is the password of the keystore, as keytool's
        C(-storepass:file) reads it. A trailing newline is not part of the password.
      - For example AM's C(/opt/am/security/secrets/storepass).
    type: path
  key_password:
    description:
      - Password of the key entry in a JCEKS keystore. Defaults to the store password.
      - A PKCS12 keystore has no key password of its own. Setting a different one fails, because
        keytool would silently ignore it.
      - AM reads it from its key password secret, for example C(/opt/am/security/secrets/entrypass).
    type: str
  key_password_file:
    description:
      - File whose first line is the key password. See O(key_password).
    type: path
  state:
    description:
      - V(present) makes sure the alias holds a secret key.
      - V(absent) removes the secret key entry. A keystore left without entries is kept. A missing
        keystore or alias is not an error.
    type: str
    choices: [present, absent]
    default: present
  regenerate:
    description:
      - When an existing secret key at O(alias) is replaced. A key that does not exist is always created.
      - V(never) keeps an existing secret key in all cases, also when it differs from what the other
        options ask for; a known difference is reported as a warning and in RV(differences).
      - V(fail) keeps a key that matches and fails when it differs, changing nothing. It also fails
        when the key cannot be compared (no JDK for the probe).
      - V(full_idempotence) replaces the key when it differs and keeps it when it matches. It fails when
        the key cannot be compared.
      - V(always) replaces the key on every run, so the task always reports a change.
      - A key matches when its algorithm and size are those asked for, and, with O(source_path), when
        its fingerprint equals the fingerprint of the source key. Key material is only compared by
        fingerprint; two keytool imports of the same key give different files, so the files are
        not compared.
    type: str
    choices: [never, fail, full_idempotence, always]
    default: never
  source_path:
    description:
      - A keystore on the target host to copy the key from, instead of generating a new one. This is
        how every AM instance of a site gets the same key material. Copy the source keystore to the
        host first, for example with M(ansible.builtin.copy) from a vault-protected file, and remove it
        afterwards.
      - Only with O(state=present).
    type: path
  source_alias:
    description:
      - The alias of the key in O(source_path). Defaults to O(alias).
    type: str
  source_store_type:
    description:
      - Type of O(source_path). Detected from the file's first bytes when not set.
    type: str
    choices: [JCEKS, PKCS12]
  source_store_password:
    description:
      - Password of O(source_path). Defaults to the store password of O(path).
    type: str
  source_store_password_file:
    description:
      - File whose first line is the password of O(source_path).
    type: path
  source_key_password:
    description:
      - Key password of the entry in a JCEKS O(source_path). Defaults to the source store password.
    type: str
  source_key_password_file:
    description:
      - File whose first line is the key password of the entry in O(source_path).
    type: path
  inspection:
    description:
      - How much of an existing secret key is read.
      - V(java) runs the key probe - a Java source file run with C(java), which needs a JDK 11 or later with the
        C(jdk.compiler) module. It reads the algorithm, the size and a fingerprint. The module fails
        when the probe cannot run.
      - V(keytool) reads only what C(keytool -list -v) shows, the entry type. Algorithm, size and
        fingerprint are then returned as null. Existing keys cannot be compared, so O(regenerate=fail)
        and O(regenerate=full_idempotence) fail when the alias exists.
      - V(auto) uses the probe when it can run and otherwise falls back to V(keytool) with a warning.
    type: str
    choices: [auto, java, keytool]
    default: auto
  java:
    description:
      - The C(java) that runs the key probe.
      - Defaults to the C(java) in the same directory as C(keytool) (after resolving symbolic links), then to
        C(java) on the PATH.
    type: path
  keytool:
    description:
      - The keytool executable, a name looked up on the PATH or an absolute path.
    type: str
    default: keytool
  backup:
    description:
      - Before an existing keystore is changed, keep a copy next to it, named like
        C(keystore.jceks.<pid>.<date>@<time>~). The path is returned in RV(backup_file).
      - The copy holds the old key. Protect and remove it as you protect the keystore.
    type: bool
    default: false
notes:
  - The module runs on the host that holds the keystore. It must be able to write the keystore's
    directory, because the new keystore is renamed into place.
  - Bad input fails before anything changes. This covers a wrong store, key or source password
    (C(keytool) says C(Keystore was tampered with, or password was incorrect) for JCEKS and C(Failed
    PKCS12 integrity checking) for PKCS12), an alias of another entry type, a keystore of another type,
    a missing source alias and a keytool that cannot be found.
  - The fingerprint is the SHA-256 of the string C(idmops.lifecycle/java_secret_key/v1), a zero byte and the
    key bytes. It shows whether two instances hold the same key without revealing the key.
  - AM reads the keystore at startup. Restart AM after the key changed.
seealso:
  - name: keytool (JDK 17)
    description: The keytool reference, including C(-genseckey), C(-importkeystore) and password files.
    link: https://docs.oracle.com/en/java/javase/17/docs/specs/man/keytool.html
  - name: community.crypto.openssl_privatekey
    description: Where the O(regenerate) policy comes from.
    link: https://docs.ansible.com/ansible/latest/collections/community/crypto/openssl_privatekey_module.html
'''

EXAMPLES = r'''
- name: Make sure AM's keystore holds an AES-256 key directenctest (keeps an existing one)
  idmops.lifecycle.java_secret_key:
    path: /opt/am/security/keystores/keystore.jceks
    store_password_file: /opt/am/security/secrets/storepass
    key_password_file: /opt/am/security/secrets/entrypass

- name: Give every instance of the site the same key, copied from a vaulted keystore
  block:
    - name: Stage the site keystore
      ansible.builtin.copy:
        src: site-secrets.jceks  # ansible-vault encrypted on the controller
        dest: /opt/am/security/keystores/.site-secrets.jceks
        mode: "0600"
    - name: Import directenctest from it; fail if an instance holds a different key
      idmops.lifecycle.java_secret_key:
        path: /opt/am/security/keystores/keystore.jceks
        store_password_file: /opt/am/security/secrets/storepass
        key_password_file: /opt/am/security/secrets/entrypass
        source_path: /opt/am/security/keystores/.site-secrets.jceks
        source_store_password: "{{ vault_site_keystore_password }}"
        regenerate: fail
      register: directenctest
  always:
    - name: Remove the staged copy
      ansible.builtin.file:
        path: /opt/am/security/keystores/.site-secrets.jceks
        state: absent

- name: Show the fingerprint, the same on every instance
  ansible.builtin.debug:
    var: directenctest.fingerprint

- name: Replace a key that differs from the site key (after the old one was rotated out)
  idmops.lifecycle.java_secret_key:
    path: /opt/am/security/keystores/keystore.jceks
    store_password_file: /opt/am/security/secrets/storepass
    source_path: /opt/am/security/keystores/.site-secrets.jceks
    source_store_password: "{{ vault_site_keystore_password }}"
    regenerate: full_idempotence
    backup: true

- name: A key in a PKCS12 store owned by the AM user
  idmops.lifecycle.java_secret_key:
    path: /opt/am/security/keystores/secrets.p12
    store_type: PKCS12
    store_password: "{{ vault_am_p12_password }}"
    owner: am
    group: am
    mode: "0640"

- name: Remove the key
  idmops.lifecycle.java_secret_key:
    path: /opt/am/security/keystores/keystore.jceks
    store_password_file: /opt/am/security/secrets/storepass
    state: absent
'''

RETURN = r'''
path:
  description: The keystore.
  returned: always
  type: str
  sample: /opt/am/security/keystores/keystore.jceks
alias:
  description: The alias asked for.
  returned: always
  type: str
  sample: directenctest
store_type:
  description: The keystore type.
  returned: always
  type: str
  sample: JCEKS
action:
  description:
    - What was done (in check mode, what would be done).
    - One of V(none), V(create) (new random key), V(import) (copied from O(source_path)),
      V(replace) (existing key replaced by a new random key), V(reimport) (existing key replaced by the
      source key), V(remove).
  returned: always
  type: str
  sample: create
entry_type:
  description: The entry type of the alias after the task (before it in check mode for an unchanged entry), or null when absent.
  returned: always
  type: str
  sample: SecretKeyEntry
key_algorithm:
  description: Algorithm of the key as Java reports it, or null when it cannot be inspected.
  returned: always
  type: str
  sample: AES
key_size:
  description: Size of the key in bits, or null when it cannot be inspected.
  returned: always
  type: int
  sample: 256
fingerprint:
  description:
    - SHA-256 fingerprint of the key material (see the notes), or null when it cannot be inspected.
    - In check mode, for a key that would be generated, null.
  returned: always
  type: str
  sample: 3f1c0e2b9a4d6f8e7c5b3a1d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f
inspection:
  description: How the key was read, V(java) (the probe) or V(keytool) (entry type only).
  returned: always
  type: str
  sample: java
differences:
  description: How an existing key differs from what was asked for (empty when it matches or cannot be compared).
  returned: when state=present
  type: list
  elements: str
  sample: ["key_size is 128, wanted 256"]
backup_file:
  description: The backup of the keystore, or null when none was made.
  returned: always
  type: str
  sample: /opt/am/security/keystores/keystore.jceks.4242.2024-05-01@10:15:00~
msg:
  description: A one-line summary. In check mode, it starts with C(would:) when something would change.
  returned: always
  type: str
  sample: created the secret key directenctest in /opt/am/security/keystores/keystore.jceks
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.idmops.lifecycle.plugins.module_utils._keystore import (
    INSPECTION,
    KEY_ALGORITHMS,
    KEY_SIZES,
    REGENERATE,
    STORE_TYPES,
    JavaInspector,
    Keytool,
    KeystoreError,
    SecretKeyTask,
    find_java,
    find_keytool,
    resolve_parameters,
    secret_values,
)


def argument_spec():
    return dict(
        path=dict(type='path', required=True),
        alias=dict(type='str', default='directenctest'),
        key_algorithm=dict(type='str', choices=list(KEY_ALGORITHMS), default='AES'),
        key_size=dict(type='int', choices=list(KEY_SIZES), default=256),
        store_type=dict(type='str', choices=list(STORE_TYPES), default='JCEKS'),
        store_password=dict(type='str', no_log=True),
        store_password_file=dict(type='path', no_log=False),
        key_password=dict(type='str', no_log=True),
        key_password_file=dict(type='path', no_log=False),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        regenerate=dict(type='str', choices=list(REGENERATE), default='never'),
        source_path=dict(type='path'),
        source_alias=dict(type='str'),
        source_store_type=dict(type='str', choices=list(STORE_TYPES)),
        source_store_password=dict(type='str', no_log=True),
        source_store_password_file=dict(type='path', no_log=False),
        source_key_password=dict(type='str', no_log=True),
        source_key_password_file=dict(type='path', no_log=False),
        inspection=dict(type='str', choices=list(INSPECTION), default='auto'),
        java=dict(type='path'),
        keytool=dict(type='str', default='keytool', no_log=False),
        backup=dict(type='bool', default=False),
    )


class ModuleFiles(object):
    """The file operations SecretKeyTask needs, done the AnsibleModule way."""

    def __init__(self, module):
        self.module = module

    def atomic_replace(self, src, dest):
        self.module.atomic_move(src, dest)

    def backup(self, path):
        return self.module.backup_local(path)


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        add_file_common_args=True,
        mutually_exclusive=[
            ('store_password', 'store_password_file'),
            ('key_password', 'key_password_file'),
            ('source_store_password', 'source_store_password_file'),
            ('source_key_password', 'source_key_password_file'),
        ],
        required_one_of=[('store_password', 'store_password_file')],
        required_by=dict(
            source_alias='source_path', source_store_type='source_path',
            source_store_password='source_path', source_store_password_file='source_path',
            source_key_password='source_path', source_key_password_file='source_path',
        ),
    )
    p = module.params
    try:
        resolved = resolve_parameters(p)
        module.no_log_values.update(secret_values(resolved))
        keytool = find_keytool(p['keytool'], module.get_bin_path)
        java = find_java(p['java'], keytool, p['inspection'], module.get_bin_path)
        inspector = JavaInspector(module.run_command, java, module.tmpdir) if java else None
        task = SecretKeyTask(resolved, Keytool(module.run_command, keytool, module.tmpdir), inspector,
                             ModuleFiles(module), check_mode=module.check_mode)
        if inspector is None and p['inspection'] == 'auto':
            task.warnings.append('no java found for the key probe; only the entry type of a key can be read')
        result = task.run()
    except KeystoreError as exc:
        module.fail_json(msg=str(exc), **exc.result)

    for warning in task.warnings:
        module.warn(warning)
    if p['state'] == 'present' and os.path.exists(p['path']):
        file_args = module.load_file_common_arguments(p)
        diff = result.get('diff') or {'before': {}, 'after': {}}
        attributes_changed = module.set_fs_attributes_if_different(file_args, False, diff=diff)
        if attributes_changed:
            result['changed'] = True
            result['diff'] = diff
    if not module._diff:
        result.pop('diff', None)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
