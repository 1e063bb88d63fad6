# -*- coding: utf-8 -*-
# Copyright: idmops.lifecycle contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Private to the idmops.lifecycle collection: no compatibility promise outside it.

"""HTTP steps shared by the modules that probe a URL."""

from __future__ import annotations

import urllib.error


def get_status(opener, url, **kwargs):
    """The HTTP status of a GET of ``url`` through ``opener`` (``open_url`` or a stand-in).

    ``kwargs`` go to ``opener`` (``timeout``, ``validate_certs``, ``follow_redirects``...). An
    error status (``HTTPError``) is returned like any other; every other error is raised, for
    the caller to tell what it means.
    """
    try:
        response = opener(url, method='GET', **kwargs)
        try:
            return response.getcode()
        finally:
            response.close()
    except urllib.error.HTTPError as exc:
        status = exc.code
        exc.close()
        return status
