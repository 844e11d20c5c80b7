"""Cameras: one reader thread per camera publishes the newest frame; consumers never block on a capture."""

from .base import Camera, CameraError, CameraStats, DeadlineTimer, Frame
from .opencv import OpenCVCamera
from .virtual import ColorBarsPattern, VirtualCamera

__all__ = ["Camera", "CameraError", "CameraStats", "DeadlineTimer", "Frame", "OpenCVCamera", "ColorBarsPattern",
           "VirtualCamera"]
