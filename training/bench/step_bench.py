#!/usr/bin/env python3
"""Times one NeSF training step in Python PyTorch on the batch that nesf-train dumped.

`nesf-train bench-step --train FILE --dump DIR` writes DIR/batch.pt: the initial weights of the
Rust/tch model and one training batch (encoder inputs, query points, targets). This script
builds the same networks in PyTorch (method section 2, the same layer layout and the same
forward computation as training/src/model.rs), loads those weights, checks that the eval-mode
loss equals the one tch computed, and times training steps (forward, loss, backward, Adam) on
that batch with the given number of threads. Prints JSON.

Usage: python3 step_bench.py DIR/batch.pt [--threads 2] [--steps 10] [--warmup 2]
       [--reference-layout]   # fields as the reference code computes them: a Linear on
                              # the concatenation [h, q] at every layer (the same function)
Needs torch (the version nesf-train links, 2.11.0) importable; see training/bench/run.sh.
"""

import argparse
import json
import math
import time

import torch
import torch.nn.functional as F
from torch import nn

W_POS, W_SPEC, W_LEN, W_ANG = 10.0, 0.1, 1.0, 1.0


class Mlp(nn.Module):
    """(Linear -> ReLU [-> BatchNorm] [-> Dropout]) blocks, then a plain Linear."""

    def __init__(self, widths, bn, dropout):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.bns = nn.ModuleList(nn.BatchNorm1d(w) for w in widths[1:-1]) if bn else None
        self.dropout = dropout

    def forward(self, x):
        last = len(self.layers) - 1
        for k, layer in enumerate(self.layers):
            x = layer(x)
            if k < last:
                x = F.relu(x)
                if self.bns is not None:
                    x = self.bns[k](x)
                if self.dropout > 0:
                    x = F.dropout(x, self.dropout, self.training)
        return x


class FieldNet(nn.Module):
    """The query point appended to every layer's input but the last; BN after each block."""

    def __init__(self, widths, qdim, reference_layout):
        super().__init__()
        n = len(widths) - 1
        self.layers = nn.ModuleList(
            nn.Linear(widths[k] + (qdim if k + 1 < n else 0), widths[k + 1]) for k in range(n)
        )
        self.bns = nn.ModuleList(nn.BatchNorm1d(w) for w in widths[1:n])
        self.latent = widths[0]
        self.reference_layout = reference_layout

    def forward(self, z, items, q):
        if self.reference_layout:
            # As the reference code: a Linear on the concatenation at every layer.
            h = z.index_select(0, items)
            last = len(self.layers) - 1
            for k in range(last):
                h = self.bns[k](F.relu(self.layers[k](torch.cat([h, q], 1))))
            return self.layers[last](h)
        # As training/src/model.rs: W_z z once per structure, then W_h h + W_q q + b.
        first = self.layers[0]
        wz = first.weight[:, : self.latent]
        wq = first.weight[:, self.latent :]
        h = F.linear(q, wq, first.bias) + (z @ wz.t()).index_select(0, items)
        last = len(self.layers) - 1
        for k in range(last):
            h = self.bns[k](F.relu(h))
            layer = self.layers[k + 1]
            if k + 1 < last:
                n = h.shape[1]
                h = torch.addmm(F.linear(q, layer.weight[:, n:], layer.bias), h, layer.weight[:, :n].t())
            else:
                h = layer(h)
        return h


class Nesf(nn.Module):
    def __init__(self, vocab, latent=192, reference_layout=False):
        super().__init__()
        self.vocab = vocab
        self.enc_position = Mlp([3, 64, 128, 128], True, 0.0)
        self.enc_species = Mlp([vocab, 128, 128], True, 0.0)
        self.enc_merge = nn.Linear(256, 512)
        self.enc_head = Mlp([518, 256, 256, latent], True, 0.3)
        self.position_field = FieldNet([latent, 256] + [128] * 7 + [3], 3, reference_layout)
        self.species_field = FieldNet([latent, 256, 128, vocab], 3, reference_layout)
        self.lattice_lengths = Mlp([latent, 128, 3], False, 0.0)
        self.lattice_angles = Mlp([latent, 128, 3], False, 0.0)

    def loss(self, b):
        B, A = b["structures"], b["max_atoms"]
        pos = self.enc_position(b["atom_positions"])
        spec = self.enc_species(F.one_hot(b["atom_classes"], self.vocab).float())
        x = self.enc_merge(torch.cat([pos, spec], 1))
        pooled = (
            torch.full((B * A, x.shape[1]), -math.inf)
            .index_copy(0, b["atom_slots"], x)
            .view(B, A, -1)
            .amax(1)
        )
        z = self.enc_head(torch.cat([pooled, b["lattice"]], 1))
        p = self.position_field(z, b["position_items"], b["position_points"])
        s = self.species_field(z, b["species_items"], b["species_points"])
        lengths, angles = self.lattice_lengths(z), self.lattice_angles(z)
        lat = b["lattice"]
        return (
            W_POS * (p - b["position_targets"]).square().mean()
            + W_SPEC * F.cross_entropy(s, b["species_targets"])
            + W_LEN * (lengths - lat[:, :3]).square().mean()
            + W_ANG * (angles - lat[:, 3:]).square().mean()
        )


# tch parameter names -> this module's names
def rust_to_python(name):
    name = name.replace("encoder.position.", "enc_position.").replace("encoder.species.", "enc_species.")
    name = name.replace("encoder.merge.", "enc_merge.").replace("encoder.head.", "enc_head.")
    parts = name.split(".")
    # "<net>.<k>.weight" -> "<net>.layers.<k>.weight"; "<net>.bn<k>.x" -> "<net>.bns.<k>.x"
    if parts[-2].startswith("bn"):
        return ".".join(parts[:-2] + ["bns", parts[-2][2:], parts[-1]])
    if parts[-2].isdigit():
        return ".".join(parts[:-2] + ["layers", parts[-2], parts[-1]])
    return name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("batch")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--reference-layout", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    stored = {k.replace("|", "."): v for k, v in torch.jit.load(a.batch).state_dict().items()}
    B, A, V = (int(v) for v in stored["batch.shape"])
    b = {k[len("batch.") :]: v for k, v in stored.items() if k.startswith("batch.")}
    b["structures"], b["max_atoms"] = B, A

    model = Nesf(V, reference_layout=a.reference_layout)
    state = {rust_to_python(k[len("model.") :]): v for k, v in stored.items() if k.startswith("model.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise SystemExit(f"weights do not match the model: missing {missing}, unexpected {unexpected}")

    model.eval()
    with torch.no_grad():
        eval_loss = float(model.loss(b))
    rust_eval_loss = float(stored["initial_eval_loss"])

    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for k in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = model.loss(b)
        loss.backward()
        opt.step()
        float(loss.detach())
        if k >= a.warmup:
            times.append(time.perf_counter() - t0)
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "reference_layout": a.reference_layout,
                "structures": B,
                "position_points": int(b["position_points"].shape[0]),
                "species_points": int(b["species_points"].shape[0]),
                "eval_loss": eval_loss,
                "rust_eval_loss": rust_eval_loss,
                "step_seconds": times,
                "median_step_seconds": sorted(times)[len(times) // 2],
            },
            indent=2,
        )
    )
    if abs(eval_loss - rust_eval_loss) > 1e-4 * max(1.0, abs(rust_eval_loss)):
        raise SystemExit(f"eval loss {eval_loss} differs from tch's {rust_eval_loss}: not the same model")


if __name__ == "__main__":
    main()
