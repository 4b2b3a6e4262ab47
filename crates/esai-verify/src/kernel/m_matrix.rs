//! An enclosure of the diffusion matrix `M = γ_E I − α L` (Eq. 3).
//!
//! Degrees are summed in interval arithmetic and every quotient and square
//! root is enclosed, so each returned entry contains the exact real entry of
//! `M` for every `γ_E ∈ gamma` and `α ∈ alpha`. The graph has no self-loops
//! (its constructor guarantees it), so `L_ii = 1` exactly for an agent with
//! neighbours and the whole row is zero for an isolated agent.

use super::interval::Interval;
use super::norms::ISparse;
use esai_core::graph::{Graph, LaplacianKind};

/// Encloses `M = γ_E I − α L` for the given Laplacian kind.
pub fn m_enclosure(
    graph: &Graph,
    kind: LaplacianKind,
    gamma: Interval,
    alpha: Interval,
) -> ISparse {
    let n = graph.agents();
    let degree: Vec<Interval> = (0..n)
        .map(|i| {
            graph
                .neighbours(i)
                .fold(Interval::point(0.0), |s, (_, w)| s + Interval::point(w))
        })
        .collect();
    let sqrt_degree: Vec<Interval> = degree
        .iter()
        .map(|d| d.sqrt().expect("degrees are sums of positive weights"))
        .collect();
    let mut row_start = Vec::with_capacity(n + 1);
    let mut col = Vec::with_capacity(2 * graph.edge_count() + n);
    let mut val = Vec::with_capacity(2 * graph.edge_count() + n);
    row_start.push(0);
    for i in 0..n {
        let isolated = graph.neighbours(i).next().is_none();
        let diag = if isolated { gamma } else { gamma - alpha };
        let mut placed = false;
        for (j, w) in graph.neighbours(i) {
            if !placed && j > i {
                col.push(i);
                val.push(diag);
                placed = true;
            }
            let a_ij = match kind {
                LaplacianKind::Row => Interval::point(w) / degree[i],
                LaplacianKind::Sym => Interval::point(w) / (sqrt_degree[i] * sqrt_degree[j]),
            };
            col.push(j);
            val.push(alpha * a_ij);
        }
        if !placed {
            col.push(i);
            val.push(diag);
        }
        row_start.push(col.len());
    }
    ISparse::new(n, row_start, col, val)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encloses_the_plain_float_matrix() {
        let g = Graph::from_edges(4, &[(0, 1, 1.0), (1, 2, 0.3), (2, 3, 2.0)]).unwrap();
        for kind in [LaplacianKind::Row, LaplacianKind::Sym] {
            let m = m_enclosure(&g, kind, Interval::around(0.9), Interval::around(0.05)).to_dense();
            let l = g.laplacian_dense(kind);
            for i in 0..4 {
                for j in 0..4 {
                    let plain = if i == j { 0.9 } else { 0.0 } - 0.05 * l[i * 4 + j];
                    let e = m.get(i, j);
                    assert!(
                        e.lo() <= plain + 1e-15 && plain - 1e-15 <= e.hi(),
                        "({i},{j}) {e:?} vs {plain}"
                    );
                    assert!(e.hi() - e.lo() < 1e-14);
                }
            }
        }
    }

    #[test]
    fn isolated_agent_row_is_gamma_only() {
        let g = Graph::from_edges(3, &[(0, 1, 1.0)]).unwrap();
        let m = m_enclosure(
            &g,
            LaplacianKind::Row,
            Interval::point(0.5),
            Interval::point(0.25),
        )
        .to_dense();
        assert_eq!(m.get(2, 2), Interval::point(0.5));
        assert_eq!(m.get(2, 0), Interval::point(0.0));
    }
}
