"""Teleop & Record page and its parts."""
