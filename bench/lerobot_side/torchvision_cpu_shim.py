"""Lets the CUDA-only torchvision wheel import on a CPU-only torch build.
torchvision/_meta_registrations.py calls torch.library.register_fake("torchvision::nms"/"qnms")
without checking whether its C++ extension loaded; on CPU torch the extension cannot load
(it links libtorch_cuda/libc10_cuda), so we define those two op schemas first.
Pure-Python torchvision (transforms, models) then works; C++ ops (nms, roi_align, io.decode_jpeg, VideoReader) do not."""
import importlib.abc
import sys


class _Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "torchvision":
            return None
        sys.meta_path.remove(self)
        import torch
        try:
            lib = torch.library.Library("torchvision", "DEF")
            lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
            lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
            globals()["_lib"] = lib
        except Exception:
            pass
        return None  # let the normal finders import torchvision

sys.meta_path.insert(0, _Hook())
