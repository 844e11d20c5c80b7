"""Rig page and its setup tabs."""
