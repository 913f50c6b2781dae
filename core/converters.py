"""Path converters shared by the apps."""

from urllib.parse import quote, unquote


class CodeConverter:
    """A code as one path segment, whatever characters it holds (issue 15, attack 14): codes
    come from outside (code-list files, facilities' data) and may contain `/`, `?`, `#`, `%`,
    spaces or be `.`/`..`. `to_url` percent-encodes every such character (Django then encodes
    the `%` once more, which the server decodes once before `to_python` decodes the rest), so the
    segment never splits, never ends the path, and is never a dot segment a browser would remove.
    Registered as `<code:…>` by core.apps."""

    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        return unquote(value)

    def to_url(self, value: str) -> str:
        encoded = quote(str(value), safe="")
        return encoded.replace(".", "%2E") if set(encoded) == {"."} else encoded
