"""Writing a file that users also edit (the quarantine list): plain YAML, block style.

Pure: data in, text out; the caller writes the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml


def dump(data: Mapping[str, Any], *, width: int = 100) -> str:
    """``data`` as block-style YAML in the given key order (safe types only)."""
    return yaml.safe_dump(dict(data), sort_keys=False, default_flow_style=False, width=width)
