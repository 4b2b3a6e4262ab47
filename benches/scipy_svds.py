#!/usr/bin/env python3
"""scipy's (unsound) largest singular value of M = γ_E I − αL on the graphs of
`cargo bench --bench certify` (sparse_spectral_norm), for BENCHMARKS.md.

Same graphs, bit for bit: ring(n), grid(n/1000 × 1000) and Erdős–Rényi
G(n, 5/n) from esai's SplitMix64 with seed 1 and the same geometric skipping
(crates/esai-core/src/graph.rs). L is the row-normalised Laplacian of Eq. 3
(an isolated agent has a zero row). Timed: `svds(M, k=1)` and
`eigsh(MᵀM, k=1)`; neither is a bound — an iterative estimate can be below
the true norm, which is why esai confirms its estimate with a sound check.

Run: python3 benches/scipy_svds.py [--sizes 100000,1000000] [--json]
Needs numpy and scipy; exits 0 with a message if they are missing.
"""
import argparse
import json
import math
import sys
import time

try:
    import numpy as np
    import scipy
    import scipy.sparse as sp
    from scipy.sparse.linalg import eigsh, svds
except ImportError:
    print("numpy/scipy not installed: nothing to compare (pip install numpy scipy)")
    sys.exit(0)

MASK = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def next_f64(self):
        return (self.next_u64() >> 11) * (1.0 / (1 << 53))


def ring(n):
    i = np.arange(n)
    return i, (i + 1) % n


def grid(rows, cols):
    idx = np.arange(rows * cols).reshape(rows, cols)
    right = (idx[:, :-1].ravel(), idx[:, 1:].ravel())
    down = (idx[:-1, :].ravel(), idx[1:, :].ravel())
    return np.concatenate([right[0], down[0]]), np.concatenate([right[1], down[1]])


def erdos_renyi(n, p, seed):
    rng = SplitMix64(seed)
    log_q = math.log(1.0 - p)
    us, vs = [], []
    v, w = 1, -1
    while v < n:
        r = 1.0 - rng.next_f64()
        w += 1 + math.floor(math.log(r) / log_q)
        while w >= v and v < n:
            w -= v
            v += 1
        if v < n:
            us.append(w)
            vs.append(v)
    return np.array(us), np.array(vs)


def m_matrix(n, edges, gamma, alpha):
    u, v = edges
    a = sp.coo_matrix((np.ones(2 * len(u)), (np.concatenate([u, v]), np.concatenate([v, u]))), shape=(n, n)).tocsr()
    deg = np.asarray(a.sum(axis=1)).ravel()
    inv = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
    # M = γI − α(I − D⁻¹A) on connected rows; γ e_i on isolated rows.
    diag = np.where(deg > 0, gamma - alpha, gamma)
    return (sp.diags(diag) + alpha * sp.diags(inv) @ a).tocsr()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--graphs", default="ring,grid,erdos_renyi_deg5",
                    help="comma-separated subset of ring, grid, erdos_renyi_deg5 (default: all)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    allowed = ("ring", "grid", "erdos_renyi_deg5")
    for name in args.graphs.split(","):
        if name not in allowed:
            ap.error(f"--graphs: unknown graph {name!r}; allowed: {', '.join(allowed)}")
    rows = []
    if not args.json:
        print(f"scipy {scipy.__version__}")
        print(f"{'graph':<18} {'n':>8} {'svds σ₁':>12} {'s':>7} {'eigsh √λ₁':>12} {'s':>7}", flush=True)
    for n in [int(s) for s in args.sizes.split(",")]:
        makers = {
            "ring": lambda: ring(n),
            "grid": lambda: grid(n // 1000, 1000),
            "erdos_renyi_deg5": lambda: erdos_renyi(n, 5.0 / n, 1),
        }
        for name in args.graphs.split(","):
            edges = makers[name]()
            m = m_matrix(n, edges, 0.9, 0.05)
            t0 = time.perf_counter()
            s = svds(m, k=1, which="LM", return_singular_vectors=False)[0]
            t_svds = time.perf_counter() - t0
            t0 = time.perf_counter()
            lam = eigsh((m.T @ m).tocsr(), k=1, which="LA", return_eigenvectors=False)[0]
            t_eigsh = time.perf_counter() - t0
            rows.append({"graph": name, "n": n, "edges": int(len(edges[0])),
                         "svds": float(s), "svds_seconds": t_svds,
                         "eigsh_sqrt": float(math.sqrt(lam)), "eigsh_seconds": t_eigsh})
            if not args.json:
                r = rows[-1]
                print(f"{r['graph']:<18} {r['n']:>8} {r['svds']:>12.8f} {r['svds_seconds']:>7.2f} "
                      f"{r['eigsh_sqrt']:>12.8f} {r['eigsh_seconds']:>7.2f}", flush=True)
    if args.json:
        print(json.dumps({"scipy": scipy.__version__, "results": rows}, indent=2))


if __name__ == "__main__":
    main()
