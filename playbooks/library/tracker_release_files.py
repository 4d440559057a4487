"""Ansible module: write the tracker's release files into its folder on the host, in one module run.

The release is three small files (the Compose file, tracker.toml, tracker.env). `ansible.builtin.copy`
costs three remote runs per file (stat, transfer, move: ~0.5 s each on a local bridge); this module gets
the contents in its arguments (piped to the host's Python with the module, never on a command line) and
writes them all at once. Each file is replaced whole (a temp file beside it, then a rename) and only when
its bytes, mode or owner differ, so an unchanged release reports no change. `secret_files` are written
the same way but their contents are `no_log`: ansible masks them in every result and event.

Options:
  dest          the release folder (created root:root 0750; its mode and owner are set when they differ)
  files         list of {name, content, mode}: mode as an octal string, e.g. "0644"
  secret_files  the same, for files that hold a secret (the env file with the API token)
Returns: changed, changed_files (the names written, secret ones included).
"""

from __future__ import annotations

import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule

FOLDER_MODE = 0o750
OWNER = (0, 0)  # root:root

FILE_OPTIONS = {
    "name": {"type": "str", "required": True},
    "content": {"type": "str", "required": True},
    "mode": {"type": "str", "required": True},
}
SECRET_FILE_OPTIONS = {**FILE_OPTIONS, "content": {"type": "str", "required": True, "no_log": True}}


def folder_needs_change(path: str) -> bool:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return True
    return stat.S_IMODE(info.st_mode) != FOLDER_MODE or (info.st_uid, info.st_gid) != OWNER


def ensure_folder(path: str) -> None:
    os.makedirs(path, mode=FOLDER_MODE, exist_ok=True)
    os.chown(path, *OWNER)
    os.chmod(path, FOLDER_MODE)


def file_needs_change(path: str, data: bytes, mode: int) -> bool:
    try:
        info = os.stat(path)
        with open(path, "rb") as current:
            same_bytes = current.read() == data
    except FileNotFoundError:
        return True
    return not same_bytes or stat.S_IMODE(info.st_mode) != mode or (info.st_uid, info.st_gid) != OWNER


def replace_file(path: str, data: bytes, mode: int) -> None:
    """A temp file beside `path`, created 0600, given its mode and owner, fsync'd, then renamed over it."""
    fd, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chown(temp, *OWNER)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "dest": {"type": "path", "required": True},
            "files": {"type": "list", "elements": "dict", "default": [], "options": FILE_OPTIONS},
            "secret_files": {"type": "list", "elements": "dict", "default": [], "options": SECRET_FILE_OPTIONS},
        },
        supports_check_mode=True,
    )
    dest = module.params["dest"]
    entries = [*module.params["files"], *module.params["secret_files"]]
    planned = []
    for entry in entries:
        name = entry["name"]
        if not name or "/" in name or name in (".", ".."):
            module.fail_json(msg=f"invalid release file name {name!r}: a plain file name is expected")
        try:
            mode = int(entry["mode"], 8)
        except ValueError:
            module.fail_json(msg=f"invalid mode {entry['mode']!r} for {name}: an octal string such as '0644'")
        planned.append((name, entry["content"].encode("utf-8"), mode))

    folder_changed = folder_needs_change(dest)
    changes = [(n, d, m) for n, d, m in planned if file_needs_change(os.path.join(dest, n), d, m)]
    if not module.check_mode:
        if folder_changed:
            ensure_folder(dest)
        for name, data, mode in changes:
            replace_file(os.path.join(dest, name), data, mode)
    module.exit_json(changed=folder_changed or bool(changes), changed_files=[name for name, _, _ in changes])


if __name__ == "__main__":
    main()
