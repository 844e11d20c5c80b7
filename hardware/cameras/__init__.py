"""Cameras: one reader thread per camera publishes the newest frame; consumers never block on a capture."""

from .camera import Camera, CameraError, CameraStats, Frame
from .opencv import OpenCVCamera
from .virtual import ColorBarsPattern, VirtualCamera

__all__ = ["Camera", "CameraError", "CameraStats", "Frame", "OpenCVCamera", "ColorBarsPattern",
           "VirtualCamera"]
