"""The HTTP layer every domain app shares; it imports no domain app."""
