//! Agent interaction graphs and their Laplacians (Eq. 9 of paper 002).
//!
//! A [`Graph`] is undirected with strictly positive finite weights, no
//! self-loops and no duplicate edges; its constructor enforces all of that, so
//! every later stage (Laplacian, verifier, trainer) may rely on it.
//!
//! The Laplacian kinds:
//! - [`LaplacianKind::Row`]: `L = I − D⁻¹A`, the paper's; in general NOT symmetric.
//! - [`LaplacianKind::Sym`]: `L = I − D^{-1/2} A D^{-1/2}`, symmetric.
//!
//! An agent of degree zero has a zero row in both (it receives no diffusion).

use crate::rng::SplitMix64;

/// Which normalised Laplacian the IAE diffusion uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaplacianKind {
    /// `I − D⁻¹A` (row-normalised, the paper's Eq. 9); not symmetric in general.
    Row,
    /// `I − D^{-1/2} A D^{-1/2}` (symmetric normalised).
    Sym,
}

impl LaplacianKind {
    /// The spec spelling: `"row"` or `"sym"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Row => "row",
            Self::Sym => "sym",
        }
    }
}

/// Why a list of edges is not a valid graph.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GraphError {
    /// An endpoint is not an agent index.
    #[error("edges[{index}]: agent {agent} is out of range, allowed 0..{agents}")]
    AgentOutOfRange {
        /// Position of the edge in the list.
        index: usize,
        /// The offending endpoint.
        agent: usize,
        /// Number of agents.
        agents: usize,
    },
    /// The weight is not a finite number `> 0`.
    #[error("edges[{index}]: weight {weight} must be a finite number > 0")]
    BadWeight {
        /// Position of the edge in the list.
        index: usize,
        /// The offending weight.
        weight: f64,
    },
    /// An edge from an agent to itself.
    #[error("edges[{index}]: self-loop on agent {agent} is not allowed")]
    SelfLoop {
        /// Position of the edge in the list.
        index: usize,
        /// The agent.
        agent: usize,
    },
    /// The same undirected pair appears twice.
    #[error("edges[{index}]: duplicate of edges[{first}] (pair {i}-{j}); merge their weights")]
    Duplicate {
        /// Position of the duplicate.
        index: usize,
        /// Position of the first occurrence.
        first: usize,
        /// Smaller endpoint.
        i: usize,
        /// Larger endpoint.
        j: usize,
    },
}

/// An undirected weighted graph on `n` agents, stored as symmetric adjacency
/// lists (CSR) sorted by neighbour index.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    n: usize,
    row_start: Vec<usize>,
    col: Vec<usize>,
    weight: Vec<f64>,
}

impl Graph {
    /// Builds a graph from undirected `(i, j, weight)` triples; reports every
    /// invalid edge, not only the first.
    pub fn from_edges(n: usize, edges: &[(usize, usize, f64)]) -> Result<Self, Vec<GraphError>> {
        let mut errors = Vec::new();
        let mut seen = std::collections::HashMap::new();
        for (index, &(i, j, w)) in edges.iter().enumerate() {
            for agent in [i, j] {
                if agent >= n {
                    errors.push(GraphError::AgentOutOfRange {
                        index,
                        agent,
                        agents: n,
                    });
                }
            }
            if !(w.is_finite() && w > 0.0) {
                errors.push(GraphError::BadWeight { index, weight: w });
            }
            if i == j {
                errors.push(GraphError::SelfLoop { index, agent: i });
            }
            let key = (i.min(j), i.max(j));
            if let Some(&first) = seen.get(&key) {
                errors.push(GraphError::Duplicate {
                    index,
                    first,
                    i: key.0,
                    j: key.1,
                });
            } else {
                seen.insert(key, index);
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
        for &(i, j, w) in edges {
            adj[i].push((j, w));
            adj[j].push((i, w));
        }
        Ok(Self::from_adjacency(adj))
    }

    fn from_adjacency(mut adj: Vec<Vec<(usize, f64)>>) -> Self {
        let n = adj.len();
        let mut row_start = Vec::with_capacity(n + 1);
        let mut col = Vec::new();
        let mut weight = Vec::new();
        row_start.push(0);
        for row in &mut adj {
            row.sort_by_key(|&(j, _)| j);
            for &(j, w) in row.iter() {
                col.push(j);
                weight.push(w);
            }
            row_start.push(col.len());
        }
        Self {
            n,
            row_start,
            col,
            weight,
        }
    }

    /// A ring: agent `i` linked to `i ± 1 mod n` with weight 1 (`n ≥ 3`; for
    /// `n = 2` a single edge, for `n ≤ 1` no edge).
    pub fn ring(n: usize) -> Self {
        let edges: Vec<_> = match n {
            0 | 1 => Vec::new(),
            2 => vec![(0, 1, 1.0)],
            _ => (0..n).map(|i| (i, (i + 1) % n, 1.0)).collect(),
        };
        Self::from_edges(n, &edges).expect("ring edges are valid by construction")
    }

    /// The complete graph with unit weights.
    pub fn complete(n: usize) -> Self {
        let mut adj = vec![Vec::with_capacity(n.saturating_sub(1)); n];
        for (i, row) in adj.iter_mut().enumerate() {
            row.extend((0..n).filter(|&j| j != i).map(|j| (j, 1.0)));
        }
        Self::from_adjacency(adj)
    }

    /// A `rows × cols` 4-neighbour grid with unit weights, agents numbered row-major.
    pub fn grid(rows: usize, cols: usize) -> Self {
        let n = rows * cols;
        let mut adj = vec![Vec::with_capacity(4); n];
        for r in 0..rows {
            for c in 0..cols {
                let i = r * cols + c;
                if c + 1 < cols {
                    adj[i].push((i + 1, 1.0));
                    adj[i + 1].push((i, 1.0));
                }
                if r + 1 < rows {
                    adj[i].push((i + cols, 1.0));
                    adj[i + cols].push((i, 1.0));
                }
            }
        }
        Self::from_adjacency(adj)
    }

    /// An Erdős–Rényi `G(n, p)` graph with unit weights, fixed by `seed`.
    ///
    /// Uses geometric skipping (Batagelj–Brandes 2005), so the cost is
    /// `O(n + edges)`, which keeps `n = 10⁶` sparse graphs cheap. `p` must lie
    /// in `[0, 1]`; the caller validates it.
    pub fn erdos_renyi(n: usize, p: f64, seed: u64) -> Self {
        Self::erdos_renyi_capped(n, p, seed, usize::MAX)
            .expect("no edge cap, so the draw is never refused")
    }

    /// [`Graph::erdos_renyi`], or `None` as soon as the draw exceeds
    /// `max_edges` edges (checked while drawing, before the adjacency grows).
    ///
    /// Any `p` in `[0, 1]` is safe, subnormal ones included: the skip length
    /// is computed in floating point with `ln_1p` (so `1 − p` never rounds to
    /// 1 and the logarithm is never 0) and compared with the number of pairs
    /// before it is turned into an integer, so no addition can overflow. The
    /// draws are the same as before that fix wherever it did not panic.
    pub fn erdos_renyi_capped(n: usize, p: f64, seed: u64, max_edges: usize) -> Option<Self> {
        let mut adj = vec![Vec::new(); n];
        let mut edges = 0usize;
        if p > 0.0 && n > 1 {
            let mut rng = SplitMix64::new(seed);
            // ln(1 − p) < 0 for every p in (0, 1), subnormal p included.
            let log_q = (-p).ln_1p();
            // More than every pair of agents: a skip this long ends the draw.
            let pairs = (n as f64) * (n as f64);
            // Enumerate pairs (v, w) with w < v in order, skipping geometrically;
            // w starts one before pair (1, 0).
            let (mut v, mut w): (usize, u64) = (1, 0);
            let mut first = true;
            while v < n {
                let step = if p >= 1.0 {
                    1.0
                } else {
                    let r = 1.0 - rng.next_f64(); // (0, 1]
                    1.0 + (r.ln() / log_q).floor()
                };
                if step.is_nan() || step >= pairs {
                    break; // the next edge lies beyond the last pair
                }
                // `step` is an integer in [1, n²): exact in u64 for n ≤ 2³².
                let step = step as u64;
                w = if first { step - 1 } else { w + step };
                first = false;
                while w >= v as u64 && v < n {
                    w -= v as u64;
                    v += 1;
                }
                if v < n {
                    edges += 1;
                    if edges > max_edges {
                        return None;
                    }
                    let u = w as usize;
                    adj[v].push((u, 1.0));
                    adj[u].push((v, 1.0));
                }
            }
        }
        Some(Self::from_adjacency(adj))
    }

    /// Number of agents.
    pub fn agents(&self) -> usize {
        self.n
    }

    /// Number of undirected edges.
    pub fn edge_count(&self) -> usize {
        self.col.len() / 2
    }

    /// Neighbours of agent `i` with their weights, sorted by neighbour index.
    pub fn neighbours(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let range = self.row_start[i]..self.row_start[i + 1];
        self.col[range.clone()]
            .iter()
            .copied()
            .zip(self.weight[range].iter().copied())
    }

    /// Weighted degree of agent `i` in plain (rounded) floating point.
    pub fn degree(&self, i: usize) -> f64 {
        self.neighbours(i).map(|(_, w)| w).sum()
    }

    /// `y = M x` for `M = γ I − α L` in plain floating point (untrusted:
    /// used by simulations and as the proposal side of the verifier).
    pub fn apply_m(&self, kind: LaplacianKind, gamma: f64, alpha: f64, x: &[f64], y: &mut [f64]) {
        let deg: Vec<f64> = (0..self.n).map(|i| self.degree(i)).collect();
        for i in 0..self.n {
            if deg[i] == 0.0 {
                y[i] = gamma * x[i];
                continue;
            }
            let mut acc = (gamma - alpha) * x[i];
            for (j, w) in self.neighbours(i) {
                let a = match kind {
                    LaplacianKind::Row => w / deg[i],
                    LaplacianKind::Sym => w / (deg[i] * deg[j]).sqrt(),
                };
                acc += alpha * a * x[j];
            }
            y[i] = acc;
        }
    }

    /// Every stored (directed) edge `(i, j, w)` in storage order: row by
    /// row, neighbours ascending. Per-edge arrays (e.g. similarity `β`) are
    /// indexed in this order.
    pub fn edges(&self) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        (0..self.n).flat_map(move |i| self.neighbours(i).map(move |(j, w)| (i, j, w)))
    }

    /// `y = M x` for the row Laplacian of this graph with every edge weight
    /// multiplied by `beta` (in [`Graph::edges`] order, each in `[0, 1]`):
    /// the similarity-weighted diffusion of Eq. 9. A row whose re-weighted
    /// sum is 0 is a zero row of `L` (that agent receives no diffusion).
    /// Plain floating point (untrusted); the verifier bounds `‖M‖` over
    /// every such re-weighting (`esai_verify::spectral::m_norms_reweighted`).
    pub fn apply_m_row_reweighted(
        &self,
        beta: &[f64],
        gamma: f64,
        alpha: f64,
        x: &[f64],
        y: &mut [f64],
    ) {
        assert_eq!(beta.len(), self.col.len(), "one β per stored edge");
        for i in 0..self.n {
            let range = self.row_start[i]..self.row_start[i + 1];
            let (mut deg, mut acc) = (0.0, 0.0);
            for p in range {
                let w = self.weight[p] * beta[p];
                deg += w;
                acc += w * x[self.col[p]];
            }
            y[i] = if deg > 0.0 {
                (gamma - alpha) * x[i] + alpha * acc / deg
            } else {
                gamma * x[i]
            };
        }
    }

    /// The dense Laplacian of the given kind, row-major `n × n`, plain floats.
    pub fn laplacian_dense(&self, kind: LaplacianKind) -> Vec<f64> {
        let n = self.n;
        let mut l = vec![0.0; n * n];
        for i in 0..n {
            let di = self.degree(i);
            if di == 0.0 {
                continue;
            }
            l[i * n + i] = 1.0;
            for (j, w) in self.neighbours(i) {
                l[i * n + j] = -match kind {
                    LaplacianKind::Row => w / di,
                    LaplacianKind::Sym => w / (di * self.degree(j)).sqrt(),
                };
            }
        }
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The generator before the tiny-p fix, for p where it did not panic.
    fn erdos_renyi_before_fix(n: usize, p: f64, seed: u64) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut rng = SplitMix64::new(seed);
        let log_q = (1.0 - p).ln();
        let (mut v, mut w): (usize, i64) = (1, -1);
        while v < n {
            if p >= 1.0 {
                w += 1;
            } else {
                let r = 1.0 - rng.next_f64();
                w += 1 + (r.ln() / log_q).floor() as i64;
            }
            while w >= v as i64 && v < n {
                w -= v as i64;
                v += 1;
            }
            if v < n {
                out.push((w as usize, v));
            }
        }
        out.sort_unstable();
        out
    }

    #[test]
    fn erdos_renyi_draws_are_unchanged_by_the_tiny_p_fix() {
        for (n, p, seed) in [(2000, 0.01, 3), (300, 0.2, 9), (50, 1.0, 0), (40, 0.999, 1)] {
            let g = Graph::erdos_renyi(n, p, seed);
            let mut edges: Vec<(usize, usize)> = (0..n)
                .flat_map(|i| {
                    g.neighbours(i)
                        .filter(move |&(j, _)| j < i)
                        .map(move |(j, _)| (j, i))
                })
                .collect();
            edges.sort_unstable();
            assert_eq!(edges, erdos_renyi_before_fix(n, p, seed), "n {n} p {p}");
        }
    }

    #[test]
    fn erdos_renyi_with_tiny_or_subnormal_p_does_not_panic() {
        for p in [1e-17, 1e-300, 5e-324, f64::MIN_POSITIVE] {
            assert_eq!(Graph::erdos_renyi(10_000, p, 7).edge_count(), 0, "p {p}");
        }
        // A draw over the cap is refused while drawing.
        assert!(Graph::erdos_renyi_capped(200, 1.0, 0, 100).is_none());
        assert_eq!(
            Graph::erdos_renyi_capped(200, 1.0, 0, 19_900).map(|g| g.edge_count()),
            Some(19_900)
        );
    }

    #[test]
    fn from_edges_reports_every_problem() {
        let errs = Graph::from_edges(3, &[(0, 5, 1.0), (1, 1, 1.0), (0, 2, -1.0), (2, 0, 1.0)])
            .unwrap_err();
        assert!(errs.contains(&GraphError::AgentOutOfRange {
            index: 0,
            agent: 5,
            agents: 3
        }));
        assert!(errs.contains(&GraphError::SelfLoop { index: 1, agent: 1 }));
        assert!(errs.contains(&GraphError::BadWeight {
            index: 2,
            weight: -1.0
        }));
        assert!(errs.contains(&GraphError::Duplicate {
            index: 3,
            first: 2,
            i: 0,
            j: 2
        }));
    }

    #[test]
    fn generators_have_expected_sizes() {
        assert_eq!(Graph::ring(10).edge_count(), 10);
        assert_eq!(Graph::complete(5).edge_count(), 10);
        assert_eq!(Graph::grid(3, 4).edge_count(), 3 * 3 + 2 * 4);
        let g = Graph::erdos_renyi(2000, 0.01, 3);
        let expected = 0.01 * 2000.0 * 1999.0 / 2.0;
        assert!((g.edge_count() as f64 - expected).abs() < 0.1 * expected);
        assert_eq!(
            g,
            Graph::erdos_renyi(2000, 0.01, 3),
            "same seed, same graph"
        );
        assert_eq!(Graph::erdos_renyi(5, 1.0, 0).edge_count(), 10);
    }

    #[test]
    fn row_laplacian_rows_sum_to_zero_and_sym_is_symmetric() {
        let g =
            Graph::from_edges(4, &[(0, 1, 1.0), (1, 2, 0.5), (2, 3, 2.0), (0, 3, 3.0)]).unwrap();
        let l = g.laplacian_dense(LaplacianKind::Row);
        for i in 0..4 {
            let s: f64 = l[i * 4..i * 4 + 4].iter().sum();
            assert!(s.abs() < 1e-12);
        }
        let s = g.laplacian_dense(LaplacianKind::Sym);
        for i in 0..4 {
            for j in 0..4 {
                assert!((s[i * 4 + j] - s[j * 4 + i]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn apply_m_matches_dense() {
        let g = Graph::from_edges(4, &[(0, 1, 1.0), (1, 2, 0.5)]).unwrap();
        for kind in [LaplacianKind::Row, LaplacianKind::Sym] {
            let l = g.laplacian_dense(kind);
            let x = [1.0, -2.0, 0.5, 3.0];
            let mut y = [0.0; 4];
            g.apply_m(kind, 0.9, 0.3, &x, &mut y);
            for i in 0..4 {
                let want: f64 = (0..4)
                    .map(|j| ((if i == j { 0.9 } else { 0.0 }) - 0.3 * l[i * 4 + j]) * x[j])
                    .sum();
                assert!((y[i] - want).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn reweighted_diffusion_is_the_row_diffusion_of_the_reweighted_graph() {
        let g =
            Graph::from_edges(4, &[(0, 1, 1.0), (1, 2, 0.5), (2, 3, 2.0), (0, 3, 3.0)]).unwrap();
        let beta: Vec<f64> = (0..g.col.len())
            .map(|p| [0.2, 1.0, 0.0, 0.7][p % 4])
            .collect();
        let x = [1.0, -2.0, 0.5, 3.0];
        let mut y = [0.0; 4];
        g.apply_m_row_reweighted(&beta, 0.9, 0.3, &x, &mut y);
        // Reference: each row on its own re-weighted neighbours (β is per
        // directed edge, so rows are built separately).
        for i in 0..4 {
            let row: Vec<(usize, f64)> = g
                .edges()
                .zip(&beta)
                .filter(|((a, _, _), _)| *a == i)
                .map(|((_, j, w), b)| (j, w * b))
                .collect();
            let deg: f64 = row.iter().map(|r| r.1).sum();
            let want = if deg == 0.0 {
                0.9 * x[i]
            } else {
                0.6 * x[i] + 0.3 * row.iter().map(|&(j, w)| w * x[j]).sum::<f64>() / deg
            };
            assert!((y[i] - want).abs() < 1e-12, "row {i}: {} vs {want}", y[i]);
        }
        // β ≡ 1 is the plain row diffusion.
        let ones = vec![1.0; g.col.len()];
        let mut plain = [0.0; 4];
        g.apply_m_row_reweighted(&ones, 0.9, 0.3, &x, &mut y);
        g.apply_m(LaplacianKind::Row, 0.9, 0.3, &x, &mut plain);
        for i in 0..4 {
            assert!((y[i] - plain[i]).abs() < 1e-12);
        }
    }
}
