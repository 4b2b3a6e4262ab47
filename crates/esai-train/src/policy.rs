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
