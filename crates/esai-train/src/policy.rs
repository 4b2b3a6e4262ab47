//! Actor-critic networks (burn modules), generic over the backend.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

use crate::fast_ops::{linear, tanh, FastOps};

/// A two-hidden-layer tanh MLP.
#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    l1: Linear<B>,
    l2: Linear<B>,
    out: Linear<B>,
}

impl<B: Backend> Mlp<B> {
    /// `inputs → hidden → hidden → outputs`.
    pub fn new(inputs: usize, hidden: usize, outputs: usize, device: &B::Device) -> Self {
        Self {
            l1: LinearConfig::new(inputs, hidden).init(device),
            l2: LinearConfig::new(hidden, hidden).init(device),
            out: LinearConfig::new(hidden, outputs).init(device),
        }
    }
}

impl<B: FastOps> Mlp<B> {
    /// Forward pass on a batch `[batch, inputs]`.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let h = tanh(linear(&self.l1, x));
        let h = tanh(linear(&self.l2, h));
        linear(&self.out, h)
    }
}

impl<B: Backend> Mlp<B> {
    /// The layers as plain `(out, in, row-major weight, bias, activation)`,
    /// input side first (burn stores weights `in × out`; this transposes).
    fn layer_parts(&self) -> Vec<esai_core::mlp::LayerParts> {
        use esai_core::mlp::Activation;
        let layer = |l: &Linear<B>, act: Activation| {
            let w = l.weight.val();
            let [inp, out] = w.dims();
            let data: Vec<f32> = w
                .into_data()
                .convert::<f32>()
                .into_vec()
                .expect("f32 weights");
            let weight: Vec<f64> = (0..out)
                .flat_map(|o| (0..inp).map(move |i| (o, i)))
                .map(|(o, i)| data[i * out + o] as f64)
                .collect();
            let bias: Vec<f64> = match &l.bias {
                Some(b) => b
                    .val()
                    .into_data()
                    .convert::<f32>()
                    .into_vec::<f32>()
                    .expect("f32 bias")
                    .into_iter()
                    .map(f64::from)
                    .collect(),
                None => vec![0.0; out],
            };
            (out, inp, weight, bias, act)
        };
        vec![
            layer(&self.l1, Activation::Tanh),
            layer(&self.l2, Activation::Tanh),
            layer(&self.out, Activation::Identity),
        ]
    }

    /// The network in the verifier's types, or `None` if a weight is not
    /// finite. f32 → f64 is exact, so bounds on this net hold for burn's.
    pub fn to_core(&self) -> Option<esai_core::mlp::Mlp> {
        esai_core::mlp::Mlp::new(self.layer_parts())
    }

    /// The weights in the verifier's JSON format (`esai certify`'s
    /// `update.weights`): layers input side first, `weight` row-major
    /// `out × in`, activations tanh, tanh, identity. Non-finite values are
    /// written as `null` (and rejected by the verifier).
    pub fn to_weights_json(&self) -> String {
        use esai_core::mlp::Activation;
        let layers: Vec<serde_json::Value> = self
            .layer_parts()
            .into_iter()
            .map(|(out, inp, w, b, act)| {
                let rows: Vec<&[f64]> = (0..out).map(|o| &w[o * inp..(o + 1) * inp]).collect();
                let act = match act {
                    Activation::Identity => "identity",
                    _ => "tanh",
                };
                serde_json::json!({"weight": rows, "bias": b, "activation": act})
            })
            .collect();
        serde_json::json!({ "layers": layers }).to_string()
    }

    /// Multiplies the output layer's weight by `factor`, bypassing any
    /// projection (fault injection: breaks spectral normalisation on purpose).
    pub fn scale_output(self, factor: f32) -> Self {
        let out = Linear {
            weight: self.out.weight.map(|w| {
                // A leaf again, as after the optimiser (see SpectralProjector).
                let leaf = w.is_require_grad();
                let w = w.mul_scalar(factor).detach();
                if leaf {
                    w.require_grad()
                } else {
                    w
                }
            }),
            ..self.out
        };
        Self { out, ..self }
    }
}

/// Separate policy (logits) and value networks, as in the reference sizes.
#[derive(Module, Debug)]
pub struct ActorCritic<B: Backend> {
    /// `π_θ`: observation → action logits.
    pub actor: Mlp<B>,
    /// `V`: observation → value.
    pub critic: Mlp<B>,
}

impl<B: Backend> ActorCritic<B> {
    /// Fresh networks for `obs_dim` inputs and `num_actions` actions.
    pub fn new(obs_dim: usize, num_actions: usize, hidden: usize, device: &B::Device) -> Self {
        Self {
            actor: Mlp::new(obs_dim, hidden, num_actions, device),
            critic: Mlp::new(obs_dim, hidden, 1, device),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn exported_weights_compute_what_burn_computes() {
        type B = burn::backend::NdArray;
        let dev = Default::default();
        let mlp = Mlp::<B>::new(5, 7, 3, &dev);
        let core = esai_core::mlp::Mlp::from_json(&mlp.to_weights_json()).expect("valid export");
        let x = [0.3f32, -1.2, 0.5, 2.0, -0.7];
        let burn_out: Vec<f32> = mlp
            .forward(Tensor::from_data(TensorData::new(x.to_vec(), [1, 5]), &dev))
            .into_data()
            .into_vec()
            .unwrap();
        let core_out = core.forward(&x.map(f64::from));
        for (a, b) in burn_out.iter().zip(&core_out) {
            assert!((*a as f64 - b).abs() < 1e-5, "burn {a} vs core {b}");
        }
    }
}
