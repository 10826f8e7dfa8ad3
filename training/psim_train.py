#!/usr/bin/env python3
"""Fine-tunes a BERT sentence encoder for `psim train`; plain PyTorch (>= 1.13), no `transformers`.

psim (C#) owns the data and the ONNX graph: it tokenises the texts, writes the weights it read from the ONNX model as a
safetensors file (F32, PyTorch names, nn.Linear [out, in]), runs this script, reads the JSON lines it prints on stdout
(progress, metrics) and writes the trained weights back into a copy of the same graph.

  embed    --weights W --config C --tokens T.json --out V.f32       mean-pooled, L2-normalised vectors (parity checks)
  finetune --weights W --config C --data D.json --out DIR [...]     full fine-tuning -> DIR/trained.safetensors
  adapter  --vectors V.f32 --dim N --data D.json --out DIR [...]    linear map on frozen vectors -> DIR/adapter.safetensors
"""
import argparse, json, math, random, struct, sys, time
import torch
import torch.nn.functional as F
from torch import nn


def emit(**event):
    print(json.dumps(event), flush=True)


def load_safetensors(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        if meta["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {meta['dtype']}; only F32 is supported")
        start, end = meta["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[start:end]), dtype=torch.float32).reshape(meta["shape"]).clone()
    return out


def save_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        raw = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))


class Layer(nn.Module):
    def __init__(self, h, inter, heads):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value, self.out = (nn.Linear(h, h) for _ in range(4))
        self.ln1 = nn.LayerNorm(h, eps=1e-12)
        self.up, self.down = nn.Linear(h, inter), nn.Linear(inter, h)
        self.ln2 = nn.LayerNorm(h, eps=1e-12)

    def forward(self, x, bias):
        b, s, h = x.shape
        split = lambda t: t.view(b, s, self.heads, h // self.heads).transpose(1, 2)
        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(h // self.heads) + bias, dim=-1)
        x = self.ln1(x + self.out((att @ v).transpose(1, 2).reshape(b, s, h)))
        return self.ln2(x + self.down(F.gelu(self.up(x))))  # exact (erf) GELU, as the ONNX graph


class Encoder(nn.Module):
    """BERT encoder + mean pooling + L2 norm. Parameter names follow the Hugging Face BERT checkpoint."""
    NAMES = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
             "out": "attention.output.dense", "ln1": "attention.output.LayerNorm", "up": "intermediate.dense",
             "down": "output.dense", "ln2": "output.LayerNorm"}

    def __init__(self, cfg):
        super().__init__()
        h = cfg["hidden"]
        self.word = nn.Embedding(cfg["vocab"], h)
        self.position = nn.Embedding(cfg["positions"], h)
        self.token_type = nn.Embedding(cfg["token_types"], h)
        self.ln = nn.LayerNorm(h, eps=1e-12)
        self.layers = nn.ModuleList(Layer(h, cfg["intermediate"], cfg["heads"]) for _ in range(cfg["layers"]))

    def hf_names(self):
        names = {"word.weight": "embeddings.word_embeddings.weight", "position.weight": "embeddings.position_embeddings.weight",
                 "token_type.weight": "embeddings.token_type_embeddings.weight",
                 "ln.weight": "embeddings.LayerNorm.weight", "ln.bias": "embeddings.LayerNorm.bias"}
        for i in range(len(self.layers)):
            for short, long in self.NAMES.items():
                for p in ("weight", "bias"):
                    names[f"layers.{i}.{short}.{p}"] = f"encoder.layer.{i}.{long}.{p}"
        return names

    def load(self, tensors):
        names = self.hf_names()
        missing = [hf for hf in names.values() if hf not in tensors]
        if missing:
            raise ValueError(f"weights lack {', '.join(missing[:5])}")
        self.load_state_dict({ours: tensors[hf] for ours, hf in names.items()})

    def export(self):
        state = self.state_dict()
        return {hf: state[ours] for ours, hf in self.hf_names().items()}

    def forward(self, ids, mask):
        pos = torch.arange(ids.shape[1]).unsqueeze(0)
        x = self.ln(self.word(ids) + self.position(pos) + self.token_type(torch.zeros_like(ids)))
        bias = (1.0 - mask[:, None, None, :].float()) * -10000.0
        for layer in self.layers:
            x = layer(x, bias)
        m = mask.unsqueeze(-1).float()
        return F.normalize((x * m).sum(1) / m.sum(1).clamp(min=1e-9), dim=-1)


def pad(seqs):
    width = max(len(s) for s in seqs)
    ids = torch.zeros(len(seqs), width, dtype=torch.long)
    mask = torch.zeros(len(seqs), width, dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    return ids, mask


@torch.no_grad()
def encode_all(model, texts, batch=128):
    model.eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = torch.empty(len(texts), model.ln.normalized_shape[0])
    for i in range(0, len(order), batch):
        idx = order[i:i + batch]
        out[idx] = model(*pad([texts[j] for j in idx]))
    return out


def batches(pairs, positives, size, rng):
    """Shuffled batches in which no text appears twice and no two pairs are known positives of each other."""
    pool = pairs[:]
    rng.shuffle(pool)
    while pool:
        batch, used, rest = [], set(), []
        for a, b in pool:
            if len(batch) < size and a not in used and b not in used and not any(
                    u in positives.get(a, ()) or u in positives.get(b, ()) for u in used):
                batch.append((a, b))
                used.update((a, b))
            else:
                rest.append((a, b))
        if len(batch) < 2:
            break
        yield batch
        pool = rest


def contrastive(qa, qb, scale):
    """Symmetric in-batch-negatives loss (MultipleNegativesRankingLoss in both directions)."""
    logits = scale * qa @ qb.T
    target = torch.arange(len(qa))
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def evaluate(vectors, pairs, candidates, positives):
    """recall@1 and MRR@10 over the candidate set, both directions; a hit is any known positive."""
    if not pairs:
        return {"recall@1": 0.0, "mrr@10": 0.0}
    cand = torch.tensor(candidates)
    scores = vectors[[q for a, b in pairs for q in (a, b)]] @ vectors[cand].T
    hits1, mrr = 0, 0.0
    for row, q in enumerate(q for a, b in pairs for q in (a, b)):
        s = scores[row].clone()
        s[cand == q] = -2
        top = cand[s.topk(min(10, len(candidates))).indices].tolist()
        for rank, c in enumerate(top):
            if c in positives.get(q, ()):
                hits1 += rank == 0
                mrr += 1 / (rank + 1)
                break
    n = 2 * len(pairs)
    return {"recall@1": hits1 / n, "mrr@10": mrr / n}


def train(model_params, encode, save, args, data):
    rng = random.Random(args.seed)
    torch.manual_seed(args.seed)
    train_pairs = [tuple(p) for p in data["train"]]
    valid_pairs = [tuple(p) for p in data["valid"]]
    positives = {}
    for a, b in train_pairs + valid_pairs + [tuple(p) for p in data.get("known", [])]:
        positives.setdefault(a, set()).add(b)
        positives.setdefault(b, set()).add(a)
    candidates = data.get("candidates") or sorted({i for p in valid_pairs for i in p})
    steps_per_epoch = max(1, math.ceil(len(train_pairs) / args.batch))
    total = steps_per_epoch * args.epochs
    opt = torch.optim.AdamW(model_params, lr=args.lr, weight_decay=args.weight_decay)
    warmup = max(1, int(total * args.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warmup if s < warmup else max(0.0, (total - s) / max(1, total - warmup)))
    best, best_epoch, stale, step, start = None, 0, 0, 0, time.time()
    metrics = evaluate(encode(), valid_pairs, candidates, positives)
    emit(event="epoch", epoch=0, **metrics)
    for epoch in range(1, args.epochs + 1):
        for batch in batches(train_pairs, positives, args.batch, rng):
            loss = args.step(batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            emit(event="step", epoch=epoch, step=step, steps=total, loss=round(loss.item(), 5), elapsed=round(time.time() - start, 2))
        metrics = evaluate(encode(), valid_pairs, candidates, positives)
        emit(event="epoch", epoch=epoch, **metrics)
        score = (metrics["recall@1"], metrics["mrr@10"])
        if best is None or score > best:
            best, best_epoch, stale = score, epoch, 0
            save()
        else:
            stale += 1
            if stale >= args.patience:
                break
    emit(event="done", best_epoch=best_epoch, **{"recall@1": best[0], "mrr@10": best[1]}, seconds=round(time.time() - start, 2))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["embed", "finetune", "adapter"])
    p.add_argument("--weights"); p.add_argument("--config"); p.add_argument("--tokens"); p.add_argument("--vectors")
    p.add_argument("--dim", type=int); p.add_argument("--data"); p.add_argument("--out", required=True)
    p.add_argument("--epochs", type=int, default=3); p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-5); p.add_argument("--warmup", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=0.01); p.add_argument("--scale", type=float, default=20.0)
    p.add_argument("--patience", type=int, default=2); p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=0)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    emit(event="start", torch=torch.__version__, threads=torch.get_num_threads())

    if args.mode == "adapter":
        dim = args.dim
        frozen = torch.frombuffer(bytearray(open(args.vectors, "rb").read()), dtype=torch.float32).reshape(-1, dim)
        data = json.load(open(args.data))
        linear = nn.Linear(dim, dim)
        with torch.no_grad():
            linear.weight.copy_(torch.eye(dim)); linear.bias.zero_()
        apply = lambda v: F.normalize(linear(v), dim=-1)

        def step(batch):
            a, b = zip(*batch)
            return contrastive(apply(frozen[list(a)]), apply(frozen[list(b)]), args.scale)
        args.step = step
        train(linear.parameters(), lambda: apply(frozen).detach(),
              lambda: save_safetensors(f"{args.out}/adapter.safetensors", {"weight": linear.weight, "bias": linear.bias}), args, data)
        return

    model = Encoder(json.load(open(args.config)))
    model.load(load_safetensors(args.weights))
    if args.mode == "embed":
        texts = json.load(open(args.tokens))
        open(args.out, "wb").write(encode_all(model, texts).numpy().tobytes())
        emit(event="done", count=len(texts))
        return

    data = json.load(open(args.data))
    texts = data["texts"]

    def step(batch):
        model.train()
        a, b = zip(*batch)
        return contrastive(model(*pad([texts[i] for i in a])), model(*pad([texts[i] for i in b])), args.scale)
    args.step = step
    train(model.parameters(), lambda: encode_all(model, texts),
          lambda: save_safetensors(f"{args.out}/trained.safetensors", model.export()), args, data)


if __name__ == "__main__":
    try:
        main()
    except Exception as ex:  # one line the caller can show
        emit(event="error", message=f"{type(ex).__name__}: {ex}")
        sys.exit(1)
