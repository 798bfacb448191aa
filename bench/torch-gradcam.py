"""Grad-CAM in PyTorch as a Python user would run it (the reference for bench/pipeline-case.ts).

torchvision's resnet50 with random weights (the layer shapes of the ONNX benchmark model),
2 threads, batches of 8: read each PNG, normalize with ImageNet statistics, forward, take
the predicted class, backward, weight layer4's activations by their spatially averaged
gradients (Selvaraju et al. 2017, eq. 1-2), ReLU, upsample to the input, normalize to
[0, 1] and save each map as a grayscale PNG. The whole process is timed from outside.

    python3 bench/torch-gradcam.py IMAGES_DIR OUT_DIR
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
os.makedirs(out, exist_ok=True)
model = torchvision.models.resnet50().eval()
store = {}
model.layer4.register_forward_hook(lambda m, i, o: store.__setitem__("act", o))
mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
names = sorted(f for f in os.listdir(src) if f.endswith(".png"))
for start in range(0, len(names), 8):
    chunk = names[start:start + 8]
    x = torch.stack([torch.from_numpy(np.asarray(Image.open(os.path.join(src, f)).convert("RGB"), dtype=np.float32) / 255).permute(2, 0, 1) for f in chunk])
    x = (x - mean) / std
    scores = model(x)
    act = store["act"]
    target = scores.gather(1, scores.argmax(1, keepdim=True)).sum()
    (grads,) = torch.autograd.grad(target, act)
    cam = F.relu((grads.mean(dim=(2, 3), keepdim=True) * act).sum(1, keepdim=True))
    cam = F.interpolate(cam, size=x.shape[2:], mode="bilinear", align_corners=False)[:, 0]
    for f, m in zip(chunk, cam.detach()):
        m = (m - m.min()) / (m.max() - m.min() + 1e-8)
        Image.fromarray((m.numpy() * 255).astype(np.uint8)).save(os.path.join(out, f[:-4] + ".grad-cam.png"))
