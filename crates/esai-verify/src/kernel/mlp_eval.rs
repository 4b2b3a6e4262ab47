//! Enclosure of an MLP's output for interval inputs.

use super::interval::{dot, up, Interval};
use esai_core::mlp::{Activation, Mlp};

/// Encloses `g(x)` for every `x` in the interval vector `x`.
pub fn forward_enclosure(mlp: &Mlp, x: &[Interval]) -> Vec<Interval> {
    let mut cur = x.to_vec();
    for layer in mlp.layers() {
        cur = (0..layer.out())
            .map(|o| {
                let row = &layer.weight()[o * layer.inputs()..(o + 1) * layer.inputs()];
                let pre = dot(
                    row.iter().copied().map(Interval::point),
                    cur.iter().copied(),
                ) + Interval::point(layer.bias()[o]);
                match layer.activation() {
                    Activation::Relu => pre.relu(),
                    Activation::Tanh => pre.tanh(),
                    Activation::Identity => pre,
                }
            })
            .collect();
    }
    cur
}

/// Upper bound on `‖v‖₂` over an interval vector.
pub fn norm_upper(v: &[Interval]) -> f64 {
    up(v.iter()
        .fold(0.0, |s, x| up(s + up(x.mag() * x.mag())))
        .sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encloses_plain_forward_pass() {
        let mlp = Mlp::new(vec![
            (
                2,
                2,
                vec![0.3, -0.7, 1.1, 0.2],
                vec![0.1, -0.2],
                Activation::Tanh,
            ),
            (1, 2, vec![0.5, -1.5], vec![0.05], Activation::Identity),
        ])
        .unwrap();
        let x = [0.4, -1.3];
        let plain = mlp.forward(&x)[0];
        let enc = forward_enclosure(&mlp, &x.map(Interval::point))[0];
        assert!(enc.contains(plain), "{enc:?} must contain {plain}");
        assert!(enc.hi() - enc.lo() < 1e-10);
    }
}
