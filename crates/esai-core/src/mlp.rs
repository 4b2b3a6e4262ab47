//! The weights of a feed-forward network `g_φ` as the verifier reads them.
//!
//! JSON format (documented in `specs/README.md`):
//! `{"layers": [{"weight": [[..], ..], "bias": [..], "activation": "relu"}]}`,
//! `weight` row-major `out × in`. Layer `l` computes `σ_l(W_l x + b_l)`.
//! Every activation offered here is monotone with slopes in `[0, 1]`; the
//! verifier's Lipschitz bounds rely on exactly that property.

use serde::Deserialize;

/// A coordinate-wise activation with slopes in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `max(0, x)`.
    Relu,
    /// `tanh(x)`.
    Tanh,
    /// `x` (a linear layer).
    Identity,
}

impl Activation {
    /// Applies the activation to one value.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Self::Relu => x.max(0.0),
            Self::Tanh => x.tanh(),
            Self::Identity => x,
        }
    }

    /// The derivative at `x` (0 at the ReLU kink, a valid sub-gradient).
    pub fn slope(self, x: f64) -> f64 {
        match self {
            Self::Relu => {
                if x > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Self::Tanh => 1.0 - x.tanh().powi(2),
            Self::Identity => 1.0,
        }
    }
}

/// One dense layer, validated: `weight.len() == out * inputs`, all finite.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    out: usize,
    inputs: usize,
    weight: Vec<f64>,
    bias: Vec<f64>,
    activation: Activation,
}

impl Layer {
    /// Output dimension.
    pub fn out(&self) -> usize {
        self.out
    }
    /// Input dimension.
    pub fn inputs(&self) -> usize {
        self.inputs
    }
    /// Row-major `out × inputs` weights.
    pub fn weight(&self) -> &[f64] {
        &self.weight
    }
    /// Bias, length `out`.
    pub fn bias(&self) -> &[f64] {
        &self.bias
    }
    /// The activation applied after the affine map.
    pub fn activation(&self) -> Activation {
        self.activation
    }
}

/// Most layers a weights file may have: the averaged-activation bound sums
/// over `2^(nonlinear layers)` products, so time grows exponentially in it.
pub const MAX_LAYERS: usize = 8;
/// Widest layer (inputs or outputs) a weights file may have: block norms are
/// dense interval products, cubic in the width.
pub const MAX_WIDTH: usize = 512;
/// Most weights (all layers together): segment norms of merged layers cost
/// time growing with it (a 64-512-512-32 network, 0.3 M weights, takes about
/// 24 s in a debug build).
pub const MAX_PARAMS: usize = 1 << 20;
/// Largest magnitude of a weight or bias: far above trained (spectrally
/// normalised) values, low enough that products of layer norms stay finite.
pub const MAX_ABS: f64 = 1e6;

/// One layer's raw parts: `(out, in, row-major weight, bias, activation)`.
pub type LayerParts = (usize, usize, Vec<f64>, Vec<f64>, Activation);

/// A validated multi-layer perceptron.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    layers: Vec<Layer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMlp {
    layers: Vec<RawLayer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayer {
    weight: Vec<Vec<f64>>,
    bias: Vec<f64>,
    activation: Activation,
}

impl Mlp {
    /// Parses and validates the JSON weights format; every problem is
    /// reported as `(field path, message)`.
    pub fn from_json(text: &str) -> Result<Self, Vec<(String, String)>> {
        let raw: RawMlp =
            serde_json::from_str(text).map_err(|e| vec![(String::new(), e.to_string())])?;
        let mut errs = Vec::new();
        if raw.layers.is_empty() || raw.layers.len() > MAX_LAYERS {
            errs.push((
                "layers".into(),
                format!("has {} layers, allowed: 1..={MAX_LAYERS}", raw.layers.len()),
            ));
            return Err(errs);
        }
        let mut layers = Vec::new();
        let mut prev_out: Option<usize> = None;
        for (l, rl) in raw.layers.into_iter().enumerate() {
            let out = rl.weight.len();
            let inputs = rl.weight.first().map_or(0, Vec::len);
            if out == 0 || inputs == 0 {
                errs.push((
                    format!("layers[{l}].weight"),
                    "is empty, allowed: an out × in matrix with out, in ≥ 1".into(),
                ));
                continue;
            }
            if out > MAX_WIDTH || inputs > MAX_WIDTH {
                errs.push((
                    format!("layers[{l}].weight"),
                    format!("is {out} × {inputs}, allowed: at most {MAX_WIDTH} × {MAX_WIDTH}"),
                ));
                continue;
            }
            for (r, row) in rl.weight.iter().enumerate() {
                if row.len() != inputs {
                    errs.push((
                        format!("layers[{l}].weight[{r}]"),
                        format!(
                            "has {} entries, allowed: {inputs} (the length of row 0)",
                            row.len()
                        ),
                    ));
                }
                for (c, v) in row.iter().enumerate() {
                    if v.is_nan() || v.abs() > MAX_ABS {
                        errs.push((
                            format!("layers[{l}].weight[{r}][{c}]"),
                            format!("{v:e}, allowed: a finite number of magnitude ≤ {MAX_ABS:e}"),
                        ));
                    }
                }
            }
            if rl.bias.len() != out {
                errs.push((
                    format!("layers[{l}].bias"),
                    format!(
                        "has {} entries, allowed: {out} (rows of weight)",
                        rl.bias.len()
                    ),
                ));
            }
            for (i, v) in rl.bias.iter().enumerate() {
                if v.is_nan() || v.abs() > MAX_ABS {
                    errs.push((
                        format!("layers[{l}].bias[{i}]"),
                        format!("{v:e}, allowed: a finite number of magnitude ≤ {MAX_ABS:e}"),
                    ));
                }
            }
            if let Some(p) = prev_out {
                if p != inputs {
                    errs.push((
                        format!("layers[{l}].weight"),
                        format!(
                            "takes {inputs} inputs, allowed: {p} (outputs of layers[{}])",
                            l - 1
                        ),
                    ));
                }
            }
            prev_out = Some(out);
            layers.push(Layer {
                out,
                inputs,
                weight: rl.weight.concat(),
                bias: rl.bias,
                activation: rl.activation,
            });
        }
        let params: usize = layers.iter().map(|l| l.out * l.inputs).sum();
        if params > MAX_PARAMS {
            errs.push((
                "layers".into(),
                format!("have {params} weights in all, allowed: at most {MAX_PARAMS}"),
            ));
        }
        // A huge file of bad values needs a sample, not a million lines.
        const SHOWN: usize = 20;
        if errs.len() > SHOWN {
            let more = errs.len() - SHOWN;
            errs.truncate(SHOWN);
            errs.push((String::new(), format!("… and {more} more problems")));
        }
        if errs.is_empty() {
            Ok(Self { layers })
        } else {
            Err(errs)
        }
    }

    /// Builds an MLP from already-checked layers `(out, in, weight, bias, activation)`.
    ///
    /// Returns `None` if any shape does not chain or any value is not finite.
    pub fn new(layers: Vec<LayerParts>) -> Option<Self> {
        let mut prev = None;
        let mut out_layers = Vec::new();
        for (out, inputs, weight, bias, activation) in layers {
            let ok = out > 0
                && inputs > 0
                && weight.len() == out * inputs
                && bias.len() == out
                && weight.iter().chain(&bias).all(|v| v.is_finite())
                && prev.is_none_or(|p| p == inputs);
            if !ok {
                return None;
            }
            prev = Some(out);
            out_layers.push(Layer {
                out,
                inputs,
                weight,
                bias,
                activation,
            });
        }
        (!out_layers.is_empty()).then_some(Self { layers: out_layers })
    }

    /// The layers, input side first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Input dimension of the network.
    pub fn inputs(&self) -> usize {
        self.layers[0].inputs
    }

    /// Output dimension of the network.
    pub fn outputs(&self) -> usize {
        self.layers[self.layers.len() - 1].out
    }

    /// Plain floating-point forward pass (untrusted numerics).
    pub fn forward(&self, x: &[f64]) -> Vec<f64> {
        let mut cur = x.to_vec();
        for layer in &self.layers {
            cur = (0..layer.out)
                .map(|o| {
                    let row = &layer.weight[o * layer.inputs..(o + 1) * layer.inputs];
                    let pre: f64 =
                        row.iter().zip(&cur).map(|(w, v)| w * v).sum::<f64>() + layer.bias[o];
                    layer.activation.apply(pre)
                })
                .collect();
        }
        cur
    }

    /// The Jacobian at `x`, row-major `outputs × inputs` (plain floats).
    pub fn jacobian(&self, x: &[f64]) -> Vec<f64> {
        let n_in = self.inputs();
        // J starts as the identity on the input, then J ← diag(σ'(pre)) W J per layer.
        let mut j: Vec<f64> = (0..n_in * n_in)
            .map(|k| if k / n_in == k % n_in { 1.0 } else { 0.0 })
            .collect();
        let mut rows = n_in;
        let mut cur = x.to_vec();
        for layer in &self.layers {
            let mut next_j = vec![0.0; layer.out * n_in];
            let mut next = vec![0.0; layer.out];
            for o in 0..layer.out {
                let w = &layer.weight[o * layer.inputs..(o + 1) * layer.inputs];
                let pre: f64 = w.iter().zip(&cur).map(|(a, b)| a * b).sum::<f64>() + layer.bias[o];
                next[o] = layer.activation.apply(pre);
                let s = layer.activation.slope(pre);
                for c in 0..n_in {
                    let mut acc = 0.0;
                    for r in 0..rows {
                        acc += w[r] * j[r * n_in + c];
                    }
                    next_j[o * n_in + c] = s * acc;
                }
            }
            j = next_j;
            rows = layer.out;
            cur = next;
        }
        j
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_runs_a_two_layer_net() {
        let m = Mlp::from_json(
            r#"{"layers":[{"weight":[[1,2],[3,-4]],"bias":[0,1],"activation":"relu"},
                          {"weight":[[1,1]],"bias":[0.5],"activation":"identity"}]}"#,
        )
        .unwrap();
        assert_eq!((m.inputs(), m.outputs()), (2, 1));
        // x = (1, 1): pre = (3, 0) → relu (3, 0) → 3 + 0.5
        assert!((m.forward(&[1.0, 1.0])[0] - 3.5).abs() < 1e-12);
        let j = m.jacobian(&[1.0, 1.0]);
        assert!((j[0] - 1.0).abs() < 1e-12 && (j[1] - 2.0).abs() < 1e-12);
    }

    #[test]
    fn reports_shape_errors_with_paths() {
        let errs = Mlp::from_json(
            r#"{"layers":[{"weight":[[1,2],[3]],"bias":[0],"activation":"tanh"},
                          {"weight":[[1,1,1]],"bias":[0],"activation":"relu"}]}"#,
        )
        .unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.0.as_str()).collect();
        assert!(fields.contains(&"layers[0].weight[1]"));
        assert!(fields.contains(&"layers[0].bias"));
        assert!(fields.contains(&"layers[1].weight"));
    }

    #[test]
    fn rejects_unknown_activation() {
        let errs =
            Mlp::from_json(r#"{"layers":[{"weight":[[1]],"bias":[0],"activation":"gelu"}]}"#)
                .unwrap_err();
        assert!(errs[0].1.contains("gelu"));
    }
}
