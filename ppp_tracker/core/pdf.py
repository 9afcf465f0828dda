"""What WeasyPrint may read while making a PDF: the app's own files under one folder, nothing else.

Text in our PDFs comes from users (names, subjects, letter texts). The templates escape it, but
the fetcher is the second wall: no URL in a document — http, ftp, data, a file outside the
folder — makes the server fetch anything (no server-side request forgery, no local file read).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit


def local_fetcher(root: Path, *, fail_on_errors: bool = False):
    """A WeasyPrint URL fetcher that reads files under `root` and refuses every other URL.

    A refused URL is skipped (WeasyPrint logs a warning), or, with `fail_on_errors`, stops the
    rendering."""
    from weasyprint.urls import URLFetcher

    base = root.resolve()

    class LocalOnly(URLFetcher):
        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
                raise ValueError(f"refusing to fetch {url[:200]}")
            path = Path(unquote(parts.path)).resolve()
            if not path.is_relative_to(base) or not path.is_file():
                raise ValueError(f"refusing to read {url[:200]}")
            return super().fetch(path.as_uri(), headers)

    return LocalOnly(allowed_protocols=("file",), fail_on_errors=fail_on_errors)
