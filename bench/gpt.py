"""Lesson q7's GPT in PyTorch: nanoGPT's model and its settings for a laptop CPU, to run side by
side with `make gpt` (tools/gpt/train_gpt.cpp) on the same machine.

  model     4 layers, 4 heads, 128 channels, context 64, dropout 0, no biases, an lm_head
            of its own (nanoGPT ties it to the token embedding; the lesson does not)
  training  batch 12, AdamW lr 1e-3 (betas 0.9 / 0.99, weight decay 0.1 on matrices), 100
            warmup iterations then cosine decay to 1e-4, gradient clipping at 1.0
  data      tiny Shakespeare by character, first 90% train, last 10% validation

Two modes:
  python3 bench/gpt.py              one training step, timed as the reference scripts time
                                    their workloads (median of BENCH_REPS after BENCH_WARMUP):
                                    a line for bench/compare.sh
  python3 bench/gpt.py --train N    the whole run of N iterations (2000 for nanoGPT's), then
                                    `gpt: val loss L after N iterations in S s`, as make gpt

--precision highest|high|medium (default highest; "high" is float32 on a CPU): "medium" runs
the forward pass under torch.autocast("cpu", dtype=torch.bfloat16), PyTorch's way to multiply
in bfloat16 on a CPU, the counterpart of make gpt PRECISION=medium. nanoGPT itself trains in
float32 on a CPU.

Run with Debian's interpreter (/usr/bin/python3, python3-torch with OpenBLAS); BENCH_THREADS
sets torch's threads (default 1, as the reference scripts' README advises for two cores). The
model follows nanoGPT's model.py (written here from its description, not copied).
"""
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "datasets", "tinyshakespeare", "input.txt")


class Config:
    block_size = 64
    vocab_size = 65
    n_layer = 4
    n_head = 4
    n_embd = 128
    dropout = 0.0
    bias = False


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (torch 1.13's nn.LayerNorm always has one)."""

    def __init__(self, n, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.bias = nn.Parameter(torch.zeros(n)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_attn = nn.Linear(c.n_embd, 3 * c.n_embd, bias=c.bias)
        self.c_proj = nn.Linear(c.n_embd, c.n_embd, bias=c.bias)
        self.n_head = c.n_head

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, H, T, hs)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        if hasattr(F, "scaled_dot_product_attention"):  # torch >= 2.0: the fused kernel
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # torch 1.13 (Debian 12): the plain composition, as nanoGPT falls back to
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
            att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
            y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = LayerNorm(c.n_embd, c.bias)
        self.attn = CausalSelfAttention(c)
        self.ln_2 = LayerNorm(c.n_embd, c.bias)
        self.c_fc = nn.Linear(c.n_embd, 4 * c.n_embd, bias=c.bias)
        self.c_proj = nn.Linear(4 * c.n_embd, c.n_embd, bias=c.bias)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(F.gelu(self.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.wte = nn.Embedding(c.vocab_size, c.n_embd)
        self.wpe = nn.Embedding(c.block_size, c.n_embd)
        self.h = nn.ModuleList([Block(c) for _ in range(c.n_layer)])
        self.ln_f = LayerNorm(c.n_embd, c.bias)
        self.lm_head = nn.Linear(c.n_embd, c.vocab_size, bias=False)
        for name, p in self.named_parameters():  # GPT-2's initialisation, as the lesson's
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * c.n_layer) if name.endswith("c_proj.weight") else 0.02
                torch.nn.init.normal_(p, mean=0.0, std=std)
            elif name.endswith(".bias") and "ln" not in name:
                torch.nn.init.zeros_(p)

    def forward(self, idx, targets):
        T = idx.size(1)
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def lr_at(it, warmup=100, decay_iters=2000, max_lr=1e-3, min_lr=1e-4):
    if it < warmup:
        return max_lr * (it + 1) / (warmup + 1)
    if it > decay_iters:
        return min_lr
    ratio = (it - warmup) / (decay_iters - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (max_lr - min_lr)


def main():
    args = sys.argv[1:]
    precision = "highest"
    if "--precision" in args:
        at = args.index("--precision")
        precision = args[at + 1]
        del args[at:at + 2]
    if precision not in ("highest", "high", "medium"):
        sys.exit(f"gpt.py: --precision must be highest, high or medium, got {precision!r}")
    # "high" has no faster method on a CPU, in PyTorch as in Ember: float32.
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "medium")
    torch.manual_seed(1337)
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "1")))
    text = open(DATA, encoding="utf-8").read()
    chars = sorted(set(text))
    lookup = {ch: i for i, ch in enumerate(chars)}
    ids = torch.tensor([lookup[ch] for ch in text], dtype=torch.long)
    n = int(0.9 * len(ids))
    train, val = ids[:n], ids[n:]
    c = Config()
    c.vocab_size = len(chars)
    model = GPT(c)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.99))
    B, T = 12, c.block_size

    def batch(split):
        starts = torch.randint(len(split) - T, (B,))
        x = torch.stack([split[s:s + T] for s in starts])
        y = torch.stack([split[s + 1:s + 1 + T] for s in starts])
        return x, y

    def step(it, decay_iters):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(it, decay_iters=decay_iters)
        x, y = batch(train)
        with autocast:
            loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss

    if len(args) >= 2 and args[0] == "--train":
        iters = int(args[1])
        start = time.perf_counter()
        for it in range(iters):
            loss = step(it, iters)
            if it % 100 == 0:
                print(f"iter {it}: loss {loss.item():.4f}", flush=True)
        seconds = time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            with autocast:
                val_loss = statistics.mean(model(*batch(val)).item() for _ in range(200))
        print(f"gpt: val loss {val_loss:.4f} after {iters} iterations in {seconds:.1f} s", flush=True)
        return

    reps = int(os.environ.get("BENCH_REPS", "7"))
    warmup = int(os.environ.get("BENCH_WARMUP", "2"))
    steps = 20  # one measurement: 20 steps, reported per step
    print(f"# gpt: torch {torch.__version__} threads={torch.get_num_threads()} precision={precision} reps={reps} warmup={warmup}",
          flush=True)
    times = []
    for rep in range(warmup + reps):
        start = time.perf_counter()
        for it in range(steps):
            step(200 + it, 2000)
        if rep >= warmup:
            times.append((time.perf_counter() - start) / steps)
    med, lo, hi = statistics.median(times), min(times), max(times)
    label = "gpt train step B=12 T=64 (nanoGPT laptop)" + (" bf16" if precision == "medium" else "")
    print(f"{label:<40s} median {med:10.6f} s  (min {lo:.6f} max {hi:.6f})",
          flush=True)


if __name__ == "__main__":
    main()
