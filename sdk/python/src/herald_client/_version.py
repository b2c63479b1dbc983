from __future__ import annotations

__version__ = "0.2.0"
USER_AGENT = f"herald-client/{__version__} (python)"
