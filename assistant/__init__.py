"""Offline-first merchandising assistant for new-product launches."""

from assistant.config import Settings, get_settings
from assistant.errors import AssistantError

__all__ = ["AssistantError", "Settings", "get_settings"]
__version__ = "0.1.0"
