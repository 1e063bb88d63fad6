# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""File system steps shared by the modules that replace files or trees by rename."""

from __future__ import annotations

import os


def fsync_dir(path):
    """Flush the directory ``path`` (a rename or a new entry in it) to disk, as far as it can be.

    A directory that cannot be opened or synced (some file systems refuse) is left as it is:
    the rename has happened either way.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
