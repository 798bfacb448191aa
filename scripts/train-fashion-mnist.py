#!/usr/bin/env python3
"""
Train convlens' bundled default model: a small CNN for Fashion-MNIST, exported to ONNX.

    apt-get install -y python3-torch dataset-fashion-mnist
    /usr/bin/python3 scripts/train-fashion-mnist.py            # writes models/fashion-mnist/

(Use Debian's /usr/bin/python3, where python3-torch is installed; a python3 from pyenv or a
virtualenv earlier on PATH will not see it.)

Reads the idx files of the Debian package dataset-fashion-mnist
(/usr/share/datasets/fashion-mnist/*-ubyte.gz), trains with a fixed seed, deterministic
algorithms and a fixed thread count (the same command gives the same model on the same
machine and library versions), evaluates on the full 10,000-image test set, measures how
faithful the Grad-CAM maps are (deletion / insertion curves), and writes to --out:

    model.onnx     opset 17, input 'input' [N,1,28,28] float in [0, 1] (pixel / 255),
                   output 'logits' [N,10]; ops: Conv, Relu, MaxPool, GlobalAveragePool,
                   Flatten, Gemm (the BatchNormalizations are folded into the convs on export)
    labels.json    the 10 class names, in label order
    meta.json      input/output names, shape, preset 'unit', accuracy, seed, epochs, ...
    samples/       8 correctly classified test images, one per class, as 28x28 gray PNGs

Only numpy, zlib/struct/gzip and torch are needed (no torchvision, no PIL, no onnx).
--arch selects one of the candidate architectures that were compared (see the model README);
--no-export trains and measures without writing anything.
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LABELS = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']
SLUGS = ['t-shirt-top', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle-boot']
# The 8 most distinct classes for the sample images: Coat and Shirt look like Pullover at 28x28.
SAMPLE_CLASSES = [0, 1, 2, 3, 5, 7, 8, 9]

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Candidate architectures: (input size the convs see, stages). A stage is a list of conv
# widths (3x3 conv, BatchNorm, ReLU each) followed by a 2x2 max-pool unless it is the last.
# All end in global average pooling and one Linear layer (so CAM applies as well as Grad-CAM).
ARCHS = {
    # 28 -> 14 -> 7: last conv stage 7x7.
    'a7': (28, [[16, 16], [32, 32], [64, 64]]),
    # 28 -> 14: last conv stage 14x14 (finer CAMs, 2-3x the compute of a7; the bundled model).
    'b14': (28, [[16, 16], [32, 32, 64, 64]]),
    # Input upsampled to 56x56 inside the network, 56 -> 28 -> 14: last conv stage 14x14.
    # Not exportable under the 28x28, op-restricted contract (needs Resize); compared only.
    'c56': (56, [[16, 16], [32, 32], [64, 64]]),
}


# ---------------------------------------------------------------- data

def read_idx(path):
    """Parse an idx file (optionally gzipped): big-endian magic (0, 0, dtype 0x08, ndim), dims, data."""
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        raw = f.read()
    zero, dtype, ndim = struct.unpack('>HBB', raw[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f'{path}: not an unsigned-byte idx file')
    dims = struct.unpack('>' + 'I' * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f'{path}: expected {dims}, got {data.size} bytes')
    return data.reshape(dims)


def find_file(data_dir, stem):
    for name in (stem + '.gz', stem):
        p = os.path.join(data_dir, name)
        if os.path.exists(p):
            return p
    sys.exit(f'{stem}(.gz) not found in {data_dir}: apt-get install -y dataset-fashion-mnist, or pass --data-dir')


def load_split(data_dir, split):
    x = read_idx(find_file(data_dir, f'{split}-images-idx3-ubyte'))
    y = read_idx(find_file(data_dir, f'{split}-labels-idx1-ubyte'))
    assert x.shape[0] == y.shape[0] and x.shape[1:] == (28, 28)
    return x, y


def random_shift(x, max_shift, gen):
    """Translate each image by up to +-max_shift pixels (zero fill = the black background)."""
    n, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4)
    shifts = torch.randint(0, 2 * max_shift + 1, (n, 2), generator=gen)
    out = torch.empty_like(x)
    for dy in range(2 * max_shift + 1):
        for dx in range(2 * max_shift + 1):
            idx = ((shifts[:, 0] == dy) & (shifts[:, 1] == dx)).nonzero().flatten()
            if idx.numel():
                out[idx] = padded[idx, :, dy:dy + h, dx:dx + w]
    return out


# ---------------------------------------------------------------- model

class FashionCNN(nn.Module):
    """Conv-BN-ReLU stages with max-pools between them, global average pooling, Linear.

    Takes [N,1,28,28] in [0, 1] directly: no mean/std normalization is needed, since the
    BatchNorm after the first conv standardizes its output, and zero padding then matches
    the black background. Dropout is active in training only (gone from the export).
    """

    def __init__(self, arch='a7', dropout=0.2):
        super().__init__()
        self.input_size, stages = ARCHS[arch]
        layers, c = [], 1
        for i, widths in enumerate(stages):
            for w in widths:
                layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
                c = w
            if i < len(stages) - 1:
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)  # exports as GlobalAveragePool
        self.flatten = nn.Flatten()          # Flatten
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(c, 10)   # Gemm

    def forward(self, x):
        if self.input_size != 28:  # c56 only (a Python constant, so tracing records no branch)
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode='bilinear', align_corners=False)
        return self.classifier(self.dropout(self.flatten(self.pool(self.features(x)))))


@torch.no_grad()
def predict(model, x, batch=1000):
    model.eval()
    return torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)])


# ---------------------------------------------------------------- Grad-CAM faithfulness

def grad_cam(model, x, cls):
    """Grad-CAM at the last conv stage (after its ReLU), upsampled bilinearly to 28x28, in [0, 1]."""
    model.eval()
    acts = {}
    last_relu = [m for m in model.features if isinstance(m, nn.ReLU)][-1]
    handle = last_relu.register_forward_hook(lambda _m, _i, out: acts.__setitem__('a', out))
    x = x.clone().requires_grad_(False)
    logits = model(x)
    handle.remove()
    a = acts['a']
    g, = torch.autograd.grad(logits.gather(1, cls[:, None]).sum(), a)
    cam = F.relu((g.mean((2, 3), keepdim=True) * a).sum(1, keepdim=True))
    cam = F.interpolate(cam, size=x.shape[-2:], mode='bilinear', align_corners=False)[:, 0]
    cam = cam / cam.flatten(1).max(1).values.clamp_min(1e-12)[:, None, None]
    return cam.detach(), a.shape[-1]


@torch.no_grad()
def deletion_insertion(model, x, cls, order, steps=28):
    """Class probability as pixels are removed (set to 0, the background) in `order`,
    most important first (deletion), or revealed on a black image (insertion).
    Returns the mean area under each curve (x axis: fraction of pixels, 0..1)."""
    model.eval()
    n, npx = x.shape[0], x.shape[-1] * x.shape[-2]
    flat = x.reshape(n, npx)
    per = npx // steps
    curves_del, curves_ins = [], []
    for k in range(steps + 1):
        keep = torch.ones(n, npx)
        keep.scatter_(1, order[:, :k * per], 0.0)
        deleted = (flat * keep).reshape_as(x)
        inserted = (flat * (1 - keep)).reshape_as(x)
        p = F.softmax(model(torch.cat([deleted, inserted])), 1)
        curves_del.append(p[:n].gather(1, cls[:, None])[:, 0])
        curves_ins.append(p[n:].gather(1, cls[:, None])[:, 0])
    auc = lambda c: torch.trapz(torch.stack(c, 1), dx=1.0 / steps, dim=1).mean().item()
    return auc(curves_del), auc(curves_ins)


def map_faithfulness(model, x, y, seed):
    cls = y
    cam, grid = grad_cam(model, x, cls)
    n, npx = x.shape[0], x.shape[-1] * x.shape[-2]
    gen = torch.Generator().manual_seed(seed + 1)
    rand = torch.rand(n, npx, generator=gen)
    # Grad-CAM order (ties among equal map values broken at random, not by pixel position)
    order_cam = torch.argsort(cam.reshape(n, npx) + 1e-6 * rand, dim=1, descending=True)
    order_rand = torch.argsort(rand, dim=1)
    cam_del, cam_ins = deletion_insertion(model, x, cls, order_cam)
    rnd_del, rnd_ins = deletion_insertion(model, x, cls, order_rand)
    # share of the (positive) map that falls on the garment (pixels > 0.1) vs the garment's area share
    fg = (x[:, 0] > 0.1).float()
    on_object = ((cam * fg).flatten(1).sum(1) / cam.flatten(1).sum(1).clamp_min(1e-12)).mean().item()
    return {
        'camGrid': grid,
        'images': n,
        'deletionAuc': round(cam_del, 4), 'insertionAuc': round(cam_ins, 4),
        'randomDeletionAuc': round(rnd_del, 4), 'randomInsertionAuc': round(rnd_ins, 4),
        'camMassOnObject': round(on_object, 4), 'objectAreaShare': round(fg.mean().item(), 4),
    }


# ---------------------------------------------------------------- output

def write_png_gray(path, img):
    """Write an 8-bit grayscale PNG (img: HxW uint8) with zlib/struct only."""
    img = np.ascontiguousarray(img, dtype=np.uint8)
    h, w = img.shape
    raw = b''.join(b'\x00' + img[r].tobytes() for r in range(h))  # filter type 0 per row

    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)

    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n')
        f.write(chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 0, 0, 0, 0)))  # 8-bit, color type 0 (gray)
        f.write(chunk(b'IDAT', zlib.compress(raw, 9)))
        f.write(chunk(b'IEND', b''))


def onnx_op_types(path):
    try:
        import onnx
    except ImportError:
        return None
    return sorted({n.op_type for n in onnx.load(path).graph.node})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data-dir', default='/usr/share/datasets/fashion-mnist')
    ap.add_argument('--out', default=os.path.join(REPO, 'models', 'fashion-mnist'))
    ap.add_argument('--arch', default='b14', choices=sorted(ARCHS))
    ap.add_argument('--epochs', type=int, default=8)
    ap.add_argument('--seed', type=int, default=20241122)
    ap.add_argument('--threads', type=int, default=2, help='torch threads (fixed for reproducibility)')
    ap.add_argument('--batch-size', type=int, default=128)
    ap.add_argument('--lr', type=float, default=3e-3, help='peak learning rate (AdamW, one-cycle schedule)')
    ap.add_argument('--max-shift', type=int, default=2, help='random translation in pixels (training augmentation)')
    ap.add_argument('--map-images', type=int, default=1000, help='test images for the Grad-CAM deletion/insertion measurement (0: skip)')
    ap.add_argument('--no-export', action='store_true', help='train and measure only; write nothing')
    ap.add_argument('--checkpoint', help='also save the state_dict here (for experiments)')
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    torch.set_flush_denormal(True)

    xtr, ytr = load_split(args.data_dir, 'train')
    xte, yte = load_split(args.data_dir, 't10k')
    to_tensor = lambda a: torch.from_numpy(a.astype(np.float32) / 255.0)[:, None]
    xtr_t, ytr_t = to_tensor(xtr), torch.from_numpy(ytr.astype(np.int64))
    xte_t, yte_t = to_tensor(xte), torch.from_numpy(yte.astype(np.int64))
    print(f'data: train {tuple(xtr_t.shape)}, test {tuple(xte_t.shape)} from {args.data_dir}')

    model = FashionCNN(args.arch)
    n_params = sum(p.numel() for p in model.parameters())
    print(f'arch {args.arch}: {n_params} parameters, seed {args.seed}, {args.epochs} epochs, {torch.get_num_threads()} threads, torch {torch.__version__}')

    gen = torch.Generator().manual_seed(args.seed)
    steps_per_epoch = (len(xtr_t) + args.batch_size - 1) // args.batch_size
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=args.epochs, steps_per_epoch=steps_per_epoch)

    t0 = time.time()
    history = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        perm = torch.randperm(len(xtr_t), generator=gen)
        total, correct, loss_sum = 0, 0, 0.0
        for i in range(0, len(perm), args.batch_size):
            idx = perm[i:i + args.batch_size]
            xb, yb = xtr_t[idx], ytr_t[idx]
            if args.max_shift:
                xb = random_shift(xb, args.max_shift, gen)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += len(yb)
            correct += (logits.argmax(1) == yb).sum().item()
            loss_sum += loss.item() * len(yb)
        test_acc = (predict(model, xte_t).argmax(1) == yte_t).float().mean().item()
        history.append({'epoch': epoch, 'trainLoss': round(loss_sum / total, 4), 'trainAccuracy': round(correct / total, 4), 'testAccuracy': round(test_acc, 4)})
        print(f'epoch {epoch}/{args.epochs}: train loss {loss_sum / total:.4f}, train acc {correct / total:.4f}, test acc {test_acc:.4f}  [{time.time() - t0:.0f} s]', flush=True)
    train_seconds = time.time() - t0

    model.eval()
    logits_te = predict(model, xte_t)
    pred_te = logits_te.argmax(1)
    test_acc = (pred_te == yte_t).float().mean().item()
    per_class = {LABELS[c]: round((pred_te[yte_t == c] == c).float().mean().item(), 4) for c in range(10)}
    print(f'test accuracy (10,000 images): {test_acc:.4f}; training time {train_seconds:.0f} s')
    print('per class: ' + ', '.join(f'{k} {v:.3f}' for k, v in per_class.items()))

    faith = None
    if args.map_images:
        t1 = time.time()
        faith = map_faithfulness(model, xte_t[:args.map_images], yte_t[:args.map_images], args.seed)
        print(f'Grad-CAM ({faith["camGrid"]}x{faith["camGrid"]} grid) on the first {faith["images"]} test images, true class: '
              f'deletion AUC {faith["deletionAuc"]} (random order {faith["randomDeletionAuc"]}, lower is better), '
              f'insertion AUC {faith["insertionAuc"]} (random {faith["randomInsertionAuc"]}, higher is better), '
              f'map mass on the garment {faith["camMassOnObject"]} (garment area {faith["objectAreaShare"]})  [{time.time() - t1:.0f} s]')

    if args.checkpoint:
        torch.save(model.state_dict(), args.checkpoint)
    if args.no_export:
        return
    if args.arch == 'c56':
        sys.exit('c56 upsamples inside the network (a Resize op) and is for comparison only: use --no-export')

    out = args.out
    os.makedirs(os.path.join(out, 'samples'), exist_ok=True)
    onnx_path = os.path.join(out, 'model.onnx')
    dummy = torch.zeros(1, 1, 28, 28)
    torch.onnx.export(model, dummy, onnx_path, opset_version=17, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}}, do_constant_folding=True,
                      training=torch.onnx.TrainingMode.EVAL)
    size = os.path.getsize(onnx_path)
    ops = onnx_op_types(onnx_path)
    print(f'wrote {onnx_path} ({size} bytes){", ops: " + ", ".join(ops) if ops else ""}')

    # Samples: per class, the first test image classified correctly with probability >= 0.95.
    probs = F.softmax(logits_te, 1)
    for f in os.listdir(os.path.join(out, 'samples')):
        if f.endswith('.png'):
            os.remove(os.path.join(out, 'samples', f))
    samples = []
    for c in SAMPLE_CLASSES:
        ok = ((yte_t == c) & (pred_te == c) & (probs[:, c] >= 0.95)).nonzero().flatten()
        i = int(ok[0])
        name = f'{c:02d}-{SLUGS[c]}.png'
        write_png_gray(os.path.join(out, 'samples', name), xte[i])
        samples.append({'file': f'samples/{name}', 'label': c, 'class': LABELS[c], 'testIndex': i, 'probability': round(probs[i, c].item(), 4)})
        print(f'sample {name}: test image {i}, p = {probs[i, c].item():.4f}')

    with open(os.path.join(out, 'labels.json'), 'w') as f:
        json.dump(LABELS, f, indent=2)
        f.write('\n')
    meta = {
        'input': 'input',
        'output': 'logits',
        'inputShape': [1, 1, 28, 28],
        'preset': 'unit',
        'labels': 'labels.json',
        'testAccuracy': round(test_acc, 4),
        'seed': args.seed,
        'epochs': args.epochs,
        'architecture': args.arch,
        'parameters': n_params,
        'trainingSeconds': round(train_seconds),
        'threads': args.threads,
        'torch': torch.__version__,
        'opset': 17,
        'ops': ops,
        'perClassAccuracy': per_class,
        'history': history,
        'gradCamFaithfulness': faith,
        'samples': samples,
        'dataset': 'Fashion-MNIST (Zalando Research, MIT license), Debian package dataset-fashion-mnist',
        'trainedBy': 'scripts/train-fashion-mnist.py',
    }
    with open(os.path.join(out, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=2)
        f.write('\n')
    print(f'wrote {out}/labels.json, meta.json, samples/')


if __name__ == '__main__':
    main()
