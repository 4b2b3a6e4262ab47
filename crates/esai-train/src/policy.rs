//! Actor-critic networks (burn modules), generic over the backend.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::tanh;
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;

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

    /// Forward pass on a batch `[batch, inputs]`.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let h = tanh(self.l1.forward(x));
        let h = tanh(self.l2.forward(h));
        self.out.forward(h)
    }
}

impl<B: Backend> Mlp<B> {
    /// The weights in the verifier's JSON format (`esai certify`'s
    /// `update.weights`): layers input side first, `weight` row-major
    /// `out × in` (burn stores `in × out`), activations tanh, tanh, identity.
    pub fn to_weights_json(&self) -> String {
        let layer = |l: &Linear<B>, act: &str| {
            let w = l.weight.val();
            let [inp, out] = w.dims();
            let data: Vec<f32> = w
                .into_data()
                .convert::<f32>()
                .into_vec()
                .expect("f32 weights");
            let rows: Vec<Vec<f64>> = (0..out)
                .map(|o| (0..inp).map(|i| data[i * out + o] as f64).collect())
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
            serde_json::json!({"weight": rows, "bias": bias, "activation": act})
        };
        serde_json::json!({"layers": [layer(&self.l1, "tanh"), layer(&self.l2, "tanh"), layer(&self.out, "identity")]}).to_string()
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
