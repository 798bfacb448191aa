"""Grad-CAM in PyTorch as a Python user runs it (the reference for bench/pipeline-case.ts).

torchvision's resnet50 with random weights (the layer shapes of the ONNX benchmark model),
2 threads, batches of 8: read each PNG, normalize with ImageNet statistics, forward, take
each image's predicted class, weight layer4's activations by their spatially averaged
gradients (Selvaraju et al. 2017, eq. 1-2), ReLU, scale each map to [0, 1], upsample it
to the input, blend it over the image with a jet colormap (half and half) and save the
overlay as a PNG. The whole process is timed from outside.

Two ways to get the gradients:

- pytorch-grad-cam (default): what the pytorch-grad-cam package's GradCAM does. It hooks
  the target layer, sums the chosen class scores into one loss and calls loss.backward()
  on the model as it is, parameters requiring gradients, so the backward pass runs through
  the whole network and fills every weight's gradient. pytorch-grad-cam itself cannot be
  installed offline here; this follows its documented steps.
- hook: torch.autograd.grad of the summed scores with respect to layer4's output only, the
  least a hand-written Grad-CAM needs (backward through the head alone).

    python3 bench/torch-gradcam.py IMAGES_DIR OUT_DIR [pytorch-grad-cam|hook]
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image

torch.set_num_threads(2)
src, out = sys.argv[1], sys.argv[2]
variant = sys.argv[3] if len(sys.argv) > 3 else "pytorch-grad-cam"
if variant not in ("pytorch-grad-cam", "hook"):
    sys.exit(f"unknown variant {variant!r}: pytorch-grad-cam or hook")
os.makedirs(out, exist_ok=True)
model = torchvision.models.resnet50().eval()
store = {}


def keep_activation(module, inputs, output):
    store["act"] = output
    if variant == "pytorch-grad-cam":
        output.register_hook(lambda grad: store.__setitem__("grad", grad))


model.layer4.register_forward_hook(keep_activation)
mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def jet(m):
    """[H, W] in [0, 1] -> [H, W, 3] in [0, 1], the usual piecewise-linear jet."""
    x = m[..., None] * 4
    return np.clip(1.5 - np.abs(x - np.array([3.0, 2.0, 1.0])), 0, 1)


names = sorted(f for f in os.listdir(src) if f.endswith(".png"))
for start in range(0, len(names), 8):
    chunk = names[start:start + 8]
    rgb = [np.asarray(Image.open(os.path.join(src, f)).convert("RGB"), dtype=np.float32) / 255 for f in chunk]
    x = (torch.stack([torch.from_numpy(r).permute(2, 0, 1) for r in rgb]) - mean) / std
    scores = model(x)
    loss = scores.gather(1, scores.argmax(1, keepdim=True)).sum()
    act = store["act"]
    if variant == "pytorch-grad-cam":
        model.zero_grad()
        loss.backward(retain_graph=True)
        grads = store["grad"]
    else:
        (grads,) = torch.autograd.grad(loss, act)
    cam = F.relu((grads.mean(dim=(2, 3), keepdim=True) * act).sum(1, keepdim=True)).detach()
    low, high = cam.amin(dim=(2, 3), keepdim=True), cam.amax(dim=(2, 3), keepdim=True)
    cam = F.interpolate((cam - low) / (high - low + 1e-7), size=x.shape[2:], mode="bilinear", align_corners=False)[:, 0].numpy()
    for f, image, m in zip(chunk, rgb, cam):
        overlay = 0.5 * jet(m) + 0.5 * image
        Image.fromarray((overlay / overlay.max() * 255).astype(np.uint8)).save(os.path.join(out, f[:-4] + ".grad-cam.png"))
