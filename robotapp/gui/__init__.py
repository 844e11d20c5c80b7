"""The desktop app (PySide6). The only package that imports Qt; it talks to robotapp services only."""
