"""Writes g_phi_small.json: a 2-layer tanh g_φ for k = 32, d = 16, |A| = 6.

Inputs (56) = E (32) | z̃ (16) | onehot(a) (6) | r | h. Deterministic (fixed
seed). Each layer is scaled to a fixed Frobenius norm, an upper bound on its
spectral norm, so the product bound is at most 0.5 · 0.1 = 0.05 by construction.
Run: python3 specs/weights/make_g_phi.py > specs/weights/g_phi_small.json
"""
import json, math, random

rng = random.Random(20261124)

def layer(out, inp, fro, act):
    w = [[rng.gauss(0, 1) for _ in range(inp)] for _ in range(out)]
    s = math.sqrt(sum(v * v for row in w for v in row))
    w = [[round(v * fro / s * 0.999, 12) for v in row] for row in w]
    b = [round(rng.gauss(0, 0.01), 12) for _ in range(out)]
    return {"weight": w, "bias": b, "activation": act}

print(json.dumps({"layers": [layer(32, 56, 0.5, "tanh"), layer(32, 32, 0.1, "identity")]}))
