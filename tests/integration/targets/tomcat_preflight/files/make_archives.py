# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the archives the javax scan is tested against: python make_archives.py <directory>."""

from __future__ import annotations

import io
import os
import sys
import zipfile

# The start of a class file whose constant pool names a javax.servlet type, as javac writes it.
CLASS_WITH_JAVAX = (b'\xca\xfe\xba\xbe\x00\x00\x00\x37\x00\x10\x01\x00\x25'
                    b'javax/servlet/http/HttpServletRequest\x07\x00\x01')
CLASS_WITH_JAKARTA = (b'\xca\xfe\xba\xbe\x00\x00\x00\x37\x00\x10\x01\x00\x26'
                      b'jakarta/servlet/http/HttpServletRequest\x07\x00\x01')


def jar(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w', zipfile.ZIP_DEFLATED) as archive:
        archive.writestr('META-INF/MANIFEST.MF', 'Manifest-Version: 1.0\r\n\r\n')
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def main(directory):
    lib = os.path.join(directory, 'lib')
    os.makedirs(lib, exist_ok=True)
    files = {
        os.path.join(lib, 'servlet-api-4.0.jar'): jar([('javax/servlet/Servlet.class', b'\xca\xfe\xba\xbe')]),
        os.path.join(lib, 'custom-node.jar'): jar([('com/example/Node.class', CLASS_WITH_JAVAX)]),
        os.path.join(lib, 'jakarta-node.jar'): jar([('com/example/Ok.class', CLASS_WITH_JAKARTA),
                                                    ('jakarta/servlet/Servlet.class', b'\xca\xfe\xba\xbe')]),
        os.path.join(directory, 'am-custom.war'): jar([
            ('WEB-INF/lib/ws.jar', jar([('javax/websocket/Session.class', b'\xca\xfe\xba\xbe')])),
            ('index.jsp', '<%@ page import="jakarta.servlet.http.*" %>\n'),
        ]),
        os.path.join(directory, 'blob.bin'): b'\0\1\2 javax.servlet in a binary file is not text\n',
    }
    for path, data in files.items():
        with open(path, 'wb') as handle:
            handle.write(data)


if __name__ == '__main__':
    main(sys.argv[1])
