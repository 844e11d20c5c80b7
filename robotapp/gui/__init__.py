"""The desktop app (PySide6). The only package that imports Qt; it talks to robotapp services only."""

from .refcount_guard import install as _install_refcount_guard

_install_refcount_guard()  # PySide6 6.12.0 on Python 3.11: see refcount_guard.py
