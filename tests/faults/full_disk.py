"""Stand-in for a full upload disk where a tmpfs cannot be mounted: a file-system storage that
writes part of each file, then fails as a full disk does (ENOSPC), leaving the part behind."""

import errno
import os

from django.core.files.storage import FileSystemStorage


class FullDiskStorage(FileSystemStorage):
    def _save(self, name, content):
        full = self.path(name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as fh:
            content.seek(0)
            fh.write(content.read(4096))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), full)
