//! The ESAI agent's internal machinery (spec §2), on burn.
//!
//! Per agent: the IAE `E ∈ R^k` (Eq. 3), the Hebbian trace `H ∈ R^{k×d}`
//! (Eq. 8) with its read `W_r vec(H)`, IAE-weighted attention (Eq. 7), the
//! counterfactual forecasts `h_ψ̄` for every action (Eq. 4), the softmin
//! reference (Eq. 5) and the alignment regret (Eq. 6) that shapes the reward
//! (Eq. 11). Each mechanism can be switched off ([`Mechanisms`]).
//!
//! What trains what (documented choices where the paper is silent):
//! - `g_φ` is trained by harm supervision on the IAE *innovation*:
//!   `(‖g_φ(E_t, z̃_t, a_t, r_t, h_t)‖ − L_g h_t)²`. Supervising `‖E_{t+1}‖`
//!   itself (spec §2's default) is unreachable under the Lipschitz budget:
//!   following a per-step harm would need `g_φ` to cancel the memory `γ_E E_t`,
//!   i.e. `L_E ≥ γ_E`, which breaks the stability conditions. `L_g h` is the
//!   largest separation between harmful and harmless actions `g_φ` can
//!   reach, so the regret of a harmful action is at most about `(L_g h)²`:
//!   the useful `λ` scales as `1/L_g²`. Its layers are spectrally normalised
//!   after every optimiser step (power iteration; a training-time
//!   projection, not a certificate — `esai certify` is that).
//! - `h_ψ` is trained on `‖h_ψ(z, a, r_{t−1}, read(H)) − E_{t+1}‖²` with the
//!   target detached; the counterfactual forecasts use its EMA copy `h_ψ̄`.
//!   The reward input is the previous step's reward, the only one known for
//!   every candidate action at decision time.
//! - `W_a` (attention) is trained through the policy loss; `W_r` (Hebbian
//!   read) through the forecast loss.
//! - Identity embeddings (with `graph.similarity`): `φ_i = W_φ f_i` from the
//!   agent's observable identity feature, `W_φ` starting at the identity.
//!   The paper lets φ act only through the diffusion weights `β_ij`; but
//!   diffusion moves `E`, which the trainer treats as state (no gradient
//!   through time), so a policy's favouritism could never feel `λ_bias`.
//!   Here identities reach the policy (and value) only through φ: every
//!   identity block of the observation is replaced by `‖f‖ φ/‖φ‖` (norm kept,
//!   so the certified input box holds). `W_φ` is then trained by the policy
//!   loss (which wants identities that separate groups when favouritism
//!   pays) against `λ_bias ‖Ã ⊙ S‖_F²` (Eq. 10), which pushes the cosine of
//!   neighbouring identities down: a tunable trade-off, measured by
//!   `esai audit SWEEP_DIR`. The same `β` weights the diffusion (Eq. 9).

use crate::fast_ops::{to_f32_vec, FastOps};
use crate::policy::Mlp;
use burn::module::{Module, ModuleMapper, ModuleVisitor, ParamId};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use serde::Serialize;

/// Which ESAI mechanisms are on (the ablations switch one off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Mechanisms {
    /// Alignment-regret reward shaping (Eq. 6, 11).
    pub regret: bool,
    /// IAE-weighted attention on observations (Eq. 7).
    pub attention: bool,
    /// Hebbian trace and its read in the forecasts (Eq. 8).
    pub hebbian: bool,
    /// Graph diffusion of the IAE (the `−αL𝐄` term of Eq. 3).
    pub diffusion: bool,
}

impl Mechanisms {
    /// Everything on.
    pub const ALL: Self = Self {
        regret: true,
        attention: true,
        hebbian: true,
        diffusion: true,
    };
}

/// ESAI hyperparameters. Defaults follow paper 001, Table 2 (spec §3).
#[derive(Debug, Clone, Serialize)]
pub struct EsaiConfig {
    /// IAE dimension `k`. By default 32.
    pub k: usize,
    /// Regret weight `λ_reg`. By default 0.1.
    pub lambda: f32,
    /// Linear warm-up of `λ_reg` over this many environment steps. By default 20 000.
    pub warmup_steps: usize,
    /// Neighbour weight `κ` in the regret. By default 0.5.
    pub kappa: f32,
    /// Softmin temperature at the start `τ₀`. By default 1.0.
    pub tau0: f32,
    /// Softmin temperature floor `τ_min`. By default 0.01.
    pub tau_min: f32,
    /// Time-scale `T_τ` of the exponential anneal, in environment steps. By default 100 000.
    pub tau_steps: f32,
    /// EMA rate `τ_ema` of the forecast target. By default 0.995.
    pub ema: f32,
    /// IAE persistence `γ_E`. By default 0.9.
    pub gamma_e: f32,
    /// Diffusion rate `α`. By default 0.05.
    pub alpha: f32,
    /// Lipschitz target `L_g` of `g_φ`. By default 0.05.
    pub lipschitz: f32,
    /// Hebbian rate `η_H`. By default 0.001.
    pub eta_h: f32,
    /// Hebbian decay `δ_H`. By default 0.02.
    pub delta_h: f32,
    /// Hebbian read dimension `m`. By default 8.
    pub read_dim: usize,
    /// Hidden width of `g_φ` and `h_ψ`. By default 64.
    pub hidden: usize,
    /// Weight of the forecast loss. By default 1.0.
    pub forecast_coef: f32,
    /// Weight of the harm-supervision loss. By default 1.0.
    pub harm_coef: f32,
    /// Which mechanisms are on. By default all.
    pub mechanisms: Mechanisms,
    /// Identity embeddings and similarity-weighted diffusion (Eq. 9): on
    /// when the spec says `graph.similarity = true`. By default off.
    pub similarity: bool,
    /// `λ_bias` of the similarity-suppression regulariser (Eq. 10, 13).
    /// By default 0.01.
    pub lambda_bias: f32,
}

impl Default for EsaiConfig {
    fn default() -> Self {
        Self {
            k: 32,
            lambda: 0.1,
            warmup_steps: 20_000,
            kappa: 0.5,
            tau0: 1.0,
            tau_min: 0.01,
            tau_steps: 100_000.0,
            ema: 0.995,
            gamma_e: 0.9,
            alpha: 0.05,
            lipschitz: 0.05,
            eta_h: 0.001,
            delta_h: 0.02,
            read_dim: 8,
            hidden: 64,
            forecast_coef: 1.0,
            harm_coef: 1.0,
            mechanisms: Mechanisms::ALL,
            similarity: false,
            lambda_bias: 0.01,
        }
    }
}

impl EsaiConfig {
    /// `λ_reg` after `steps` environment steps (linear warm-up, Eq. 11).
    pub fn lambda_at(&self, steps: usize) -> f32 {
        if self.warmup_steps == 0 {
            self.lambda
        } else {
            self.lambda * (steps as f32 / self.warmup_steps as f32).min(1.0)
        }
    }

    /// Softmin temperature after `steps` environment steps (exponential anneal).
    pub fn tau_at(&self, steps: usize) -> f32 {
        (self.tau0 * (-(steps as f32) / self.tau_steps).exp()).max(self.tau_min)
    }
}

/// The learned parts of ESAI.
#[derive(Module, Debug)]
pub struct EsaiNets<B: Backend> {
    /// `g_φ`: `(E, z̃, onehot(a), r, h) → R^k`.
    pub g: Mlp<B>,
    /// `h_ψ`: `(z, onehot(a), r_{t−1}, read(H)) → R^k`.
    pub forecast: Mlp<B>,
    /// Attention projection `W_a, b_a`: `R^k → R^d`.
    pub attention: Linear<B>,
    /// Hebbian read `W_r`: `R^{k·d} → R^m`.
    pub read: Linear<B>,
    /// Identity embedding `W_φ`: `φ_i = W_φ f_i`, `R^F → R^F`, no bias,
    /// starting at the identity (only with similarity weighting).
    pub identity: Option<Linear<B>>,
}

/// Where identity blocks sit in an observation (see
/// `esai_envs::Identities`): `F`, the block offsets, their scale.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityLayout {
    /// Feature dimension `F`.
    pub dim: usize,
    /// Offsets of the `F`-long blocks, ascending.
    pub blocks: Vec<usize>,
}

impl<B: Backend> EsaiNets<B> {
    /// Fresh networks for observation length `d` and `a` actions;
    /// `identity_dim` is `F` when identities are embedded.
    pub fn new(
        cfg: &EsaiConfig,
        d: usize,
        a: usize,
        identity_dim: Option<usize>,
        device: &B::Device,
    ) -> Self {
        Self {
            g: Mlp::new(cfg.k + d + a + 2, cfg.hidden, cfg.k, device),
            forecast: Mlp::new(d + a + 1 + cfg.read_dim, cfg.hidden, cfg.k, device),
            attention: LinearConfig::new(cfg.k, d).init(device),
            read: LinearConfig::new(cfg.k * d, cfg.read_dim).init(device),
            // The identity map: at the start φ = f, so β is the features'
            // own cosine similarity and the policy sees what PPO sees.
            identity: identity_dim.map(|f| Linear {
                weight: burn::module::Param::from_tensor(Tensor::eye(f, device)),
                bias: None,
            }),
        }
    }

    /// The observation with every identity block `s·f` replaced by
    /// `s·‖f‖·φ/‖φ‖`, `φ = W_φ f`: identity reaches the policy only through
    /// the learned embedding. Each block keeps its norm, so `‖z‖` — and the
    /// certified input box — is unchanged. Without identities: `z`.
    pub fn embed(&self, z: Tensor<B, 2>, layout: Option<&IdentityLayout>) -> Tensor<B, 2> {
        let (Some(w), Some(l)) = (&self.identity, layout) else {
            return z;
        };
        let [m, d] = z.dims();
        let mut parts = Vec::with_capacity(2 * l.blocks.len() + 1);
        let mut prev = 0;
        for &off in &l.blocks {
            if off > prev {
                parts.push(z.clone().slice([0..m, prev..off]));
            }
            let f = z.clone().slice([0..m, off..off + l.dim]);
            let f_norm = f.clone().powf_scalar(2.0).sum_dim(1).sqrt();
            let phi = w.forward(f);
            let phi_norm = (phi.clone().powf_scalar(2.0).sum_dim(1) + 1e-12).sqrt();
            parts.push(phi / phi_norm * f_norm);
            prev = off + l.dim;
        }
        if prev < d {
            parts.push(z.slice([0..m, prev..d]));
        }
        Tensor::cat(parts, 1)
    }

    /// Eq. 9 for the current `W_φ`: `β` per copy and edge (see
    /// [`similarities`]). None without identity embeddings.
    pub fn edge_similarities(
        &self,
        ids: &esai_envs::Identities,
        graph: &esai_core::graph::Graph,
    ) -> Option<Vec<f64>> {
        let w = self.identity.as_ref()?;
        let w: Vec<f32> = w.weight.val().into_data().into_vec().expect("f32 weights");
        Some(similarities(&w, ids.dim, &ids.own, graph))
    }

    /// Unit identity embeddings `φ_i/‖φ_i‖` of features `[n][F]`.
    pub fn unit_embeddings(&self, features: Tensor<B, 2>) -> Option<Tensor<B, 2>> {
        let w = self.identity.as_ref()?;
        let phi = w.forward(features);
        let norm = (phi.clone().powf_scalar(2.0).sum_dim(1) + 1e-12).sqrt();
        Some(phi / norm)
    }

    /// Eq. 7: `z̃ = softmax(W_a E + b_a) ⊙ z` (or `z` when attention is off).
    pub fn attend(&self, e: Tensor<B, 2>, z: Tensor<B, 2>, on: bool) -> Tensor<B, 2> {
        if on {
            burn::tensor::activation::softmax(self.attention.forward(e), 1) * z
        } else {
            z
        }
    }
}

/// Eq. 9 on the host: `β_ij = max(0, cos(φ_i, φ_j))`, `φ = W_φ f`, for
/// every stored edge of `graph` (in [`esai_core::graph::Graph::edges`]
/// order) of every copy; `w` is `W_φ` as stored by burn (`[F][F]`,
/// `φ = f W`), `own` every learner's feature `[copies·N][F]`. Returns
/// `[copies][edges]`, each in `[0, 1]`.
pub fn similarities(w: &[f32], f: usize, own: &[f32], graph: &esai_core::graph::Graph) -> Vec<f64> {
    let n = graph.agents();
    let phi: Vec<Vec<f64>> = own
        .chunks(f)
        .map(|x| {
            let v: Vec<f64> = (0..f)
                .map(|o| (0..f).map(|i| x[i] as f64 * w[i * f + o] as f64).sum())
                .collect();
            let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
            v.into_iter()
                .map(|a| if norm > 0.0 { a / norm } else { 0.0 })
                .collect()
        })
        .collect();
    let copies = phi.len() / n;
    let mut out = Vec::with_capacity(copies * 2 * graph.edge_count());
    for c in 0..copies {
        for (i, j, _) in graph.edges() {
            let cos: f64 = phi[c * n + i]
                .iter()
                .zip(&phi[c * n + j])
                .map(|(a, b)| a * b)
                .sum();
            out.push(cos.clamp(0.0, 1.0));
        }
    }
    out
}

/// Softmin reference (Eq. 5) for one agent: `π_ref(a) ∝ exp(−‖Ê(a)‖/τ)` and
/// `Ê_ref = Σ_a π_ref(a) Ê(a)`. `forecasts` is `[A][k]` row-major.
pub fn softmin_reference(forecasts: &[f32], k: usize, tau: f32) -> (Vec<f32>, Vec<f32>) {
    let a = forecasts.len() / k;
    let norms: Vec<f32> = (0..a)
        .map(|i| {
            forecasts[i * k..(i + 1) * k]
                .iter()
                .map(|v| v * v)
                .sum::<f32>()
                .sqrt()
        })
        .collect();
    let min = norms.iter().copied().fold(f32::INFINITY, f32::min);
    let w: Vec<f32> = norms.iter().map(|n| (-(n - min) / tau).exp()).collect();
    let z: f32 = w.iter().sum();
    let pi: Vec<f32> = w.iter().map(|x| x / z).collect();
    let mut reference = vec![0.0; k];
    for (i, p) in pi.iter().enumerate() {
        for (r, f) in reference.iter_mut().zip(&forecasts[i * k..(i + 1) * k]) {
            *r += p * f;
        }
    }
    (pi, reference)
}

/// Alignment regret (Eq. 6): `‖E_{t+1} − Ê_ref‖² + κ · mean_j ‖E_{j,t}‖`
/// over the lagged neighbour norms (empty: no neighbour term).
pub fn alignment_regret(
    e_next: &[f32],
    reference: &[f32],
    kappa: f32,
    neighbour_norms: &[f32],
) -> f32 {
    let own: f32 = e_next
        .iter()
        .zip(reference)
        .map(|(a, b)| (a - b) * (a - b))
        .sum();
    let nb = if neighbour_norms.is_empty() {
        0.0
    } else {
        neighbour_norms.iter().sum::<f32>() / neighbour_norms.len() as f32
    };
    own + kappa * nb
}

/// Power iterations from a fresh start vector.
const COLD_ITERATIONS: usize = 30;
/// Power iterations from the previous gradient step's vector: one Adam step
/// moves the weights little, so the top singular vector moves little too
/// (the persistent-vector scheme of spectral normalisation).
const WARM_ITERATIONS: usize = 2;

/// Largest singular value estimate of the row-major `rows × cols` matrix `w`
/// by `iters` power iterations on `wᵀw` from `v` (a unit right singular
/// vector estimate, updated in place). A lower bound, used only to project
/// weights during training; the certificate bounds the result soundly.
fn power_sigma(w: &[f32], rows: usize, cols: usize, v: &mut [f32], iters: usize) -> f32 {
    let mut sigma = 0.0;
    let mut nv = vec![0.0f32; cols];
    for _ in 0..iters {
        // nv = wᵀ(w v), row by row: contiguous, so both loops vectorise.
        nv.fill(0.0);
        for row in w.chunks_exact(cols).take(rows) {
            let u: f32 = row.iter().zip(v.iter()).map(|(a, b)| a * b).sum();
            nv.iter_mut().zip(row).for_each(|(x, a)| *x += u * a);
        }
        let n = nv.iter().map(|x| x * x).sum::<f32>().sqrt();
        if n == 0.0 || !n.is_finite() {
            // A zero (or non-finite) matrix: nothing to project; restart
            // from the uniform vector next time.
            v.iter_mut().for_each(|x| *x = 1.0 / (cols as f32).sqrt());
            return if n == 0.0 { 0.0 } else { n };
        }
        v.iter_mut().zip(&nv).for_each(|(x, y)| *x = y / n);
        sigma = n.sqrt();
    }
    sigma
}

/// Scales each 2-D weight so that its spectral norm estimate is at most the
/// next target (in parameter order; biases untouched). Keeps each weight's
/// right singular vector estimate between calls, so after the first call a
/// few warm power iterations replace thirty cold ones.
#[derive(Debug, Clone)]
pub struct SpectralProjector {
    /// Targets for the weights, in visit order.
    pub targets: Vec<f32>,
    /// Right singular vector estimates, in visit order (empty until seen).
    vectors: Vec<Vec<f32>>,
    next: usize,
}

impl SpectralProjector {
    /// A projector with per-weight targets and no vectors yet.
    pub fn new(targets: Vec<f32>) -> Self {
        Self {
            targets,
            vectors: Vec::new(),
            next: 0,
        }
    }

    /// Projects every 2-D weight of `module`.
    pub fn project<B: FastOps, M: Module<B>>(&mut self, module: M) -> M {
        self.next = 0;
        module.map(self)
    }

    /// The singular vector estimates (to checkpoint them, so a resumed run
    /// projects exactly as an uninterrupted one).
    pub fn vectors(&self) -> &[Vec<f32>] {
        &self.vectors
    }

    /// Restores [`SpectralProjector::vectors`].
    pub fn set_vectors(&mut self, vectors: Vec<Vec<f32>>) {
        self.vectors = vectors;
    }
}

impl<B: FastOps> ModuleMapper<B> for SpectralProjector {
    fn map_float<const D: usize>(&mut self, _id: ParamId, tensor: Tensor<B, D>) -> Tensor<B, D> {
        if D != 2 {
            return tensor;
        }
        let i = self.next;
        self.next += 1;
        let target = self.targets.get(i).copied().unwrap_or(f32::INFINITY);
        let dims = tensor.dims();
        let (rows, cols) = (dims[0], dims[1]);
        let data = to_f32_vec(&tensor);
        if self.vectors.len() <= i {
            self.vectors.resize(i + 1, Vec::new());
        }
        let v = &mut self.vectors[i];
        let iters = if v.len() == cols {
            WARM_ITERATIONS
        } else {
            *v = vec![1.0 / (cols as f32).sqrt(); cols];
            COLD_ITERATIONS
        };
        let sigma = power_sigma(&data, rows, cols, v, iters);
        if sigma > target {
            // The projection is a step outside the gradient graph: the
            // parameter must stay a leaf. `mul_scalar` alone leaves a tracked
            // intermediate, which burn reports as not requiring a gradient, so
            // the optimiser stops training it and a checkpoint reloads it
            // frozen (a resumed run then differs from the uninterrupted one).
            let leaf = tensor.is_require_grad();
            let scaled = tensor.mul_scalar(target / sigma).detach();
            if leaf {
                scaled.require_grad()
            } else {
                scaled
            }
        } else {
            tensor
        }
    }
}

/// Collects float parameters in visit order, flattened. Tensors are
/// reference-counted: nothing is copied (the EMA used to round-trip every
/// parameter through host memory at each gradient step).
pub struct Collect<B: Backend>(pub Vec<Tensor<B, 1>>);

impl<B: Backend> ModuleVisitor<B> for Collect<B> {
    fn visit_float<const D: usize>(&mut self, _id: ParamId, tensor: &Tensor<B, D>) {
        let n = tensor.shape().num_elements();
        self.0.push(tensor.clone().reshape([n]));
    }
}

/// `target ← ema · target + (1 − ema) · online`, parameter by parameter.
pub struct EmaBlend<B: Backend> {
    online: std::vec::IntoIter<Tensor<B, 1>>,
    ema: f32,
}

impl<B: Backend> EmaBlend<B> {
    /// Blends towards `online` (collected in the same visit order).
    pub fn new(online: Vec<Tensor<B, 1>>, ema: f32) -> Self {
        Self {
            online: online.into_iter(),
            ema,
        }
    }
}

impl<B: Backend> ModuleMapper<B> for EmaBlend<B> {
    fn map_float<const D: usize>(&mut self, _id: ParamId, tensor: Tensor<B, D>) -> Tensor<B, D> {
        let online = self.online.next().expect("same module structure");
        let online: Tensor<B, D> = online.reshape(tensor.dims());
        tensor.mul_scalar(self.ema) + online.mul_scalar(1.0 - self.ema)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmin_prefers_the_small_forecast() {
        // Two actions, k = 1: ‖Ê(0)‖ = 0, ‖Ê(1)‖ = 3; τ = 1 → π = (1, e⁻³)/(1 + e⁻³).
        let (pi, r) = softmin_reference(&[0.0, 3.0], 1, 1.0);
        let p1 = (-3.0f32).exp() / (1.0 + (-3.0f32).exp());
        assert!((pi[1] - p1).abs() < 1e-6 && (pi[0] - (1.0 - p1)).abs() < 1e-6);
        assert!((r[0] - 3.0 * p1).abs() < 1e-6);
        // A cold temperature picks the minimum.
        let (pi, _) = softmin_reference(&[0.0, 3.0], 1, 0.01);
        assert!(pi[0] > 0.999_999);
    }

    #[test]
    fn regret_matches_hand_computation() {
        // ‖(3, 4) − (0, 0)‖² = 25; κ = 0.5, neighbours (1, 3) → +0.5·2 = 1.
        assert!((alignment_regret(&[3.0, 4.0], &[0.0, 0.0], 0.5, &[1.0, 3.0]) - 26.0).abs() < 1e-6);
        assert!((alignment_regret(&[1.0], &[1.0], 0.5, &[]) - 0.0).abs() < 1e-6);
    }

    #[test]
    fn warm_projection_tracks_a_drifting_matrix() {
        // A 40 × 24 matrix drifting by a few % per step (more than Adam moves it): the
        // warm two-iteration estimate stays within 0.5 % of a converged
        // cold one, and the projected matrix's norm stays at its target.
        type B = burn::backend::NdArray;
        let dev = Default::default();
        let (rows, cols) = (40usize, 24usize);
        let mut rng = esai_core::rng::SplitMix64::new(7);
        let mut w: Vec<f32> = (0..rows * cols)
            .map(|_| rng.next_f64() as f32 - 0.5)
            .collect();
        let mut proj = SpectralProjector::new(vec![1.0]);
        let cold = |w: &[f32]| {
            let mut v = vec![1.0 / (cols as f32).sqrt(); cols];
            power_sigma(w, rows, cols, &mut v, 500)
        };
        for step in 0..200 {
            // Grows 1 % and turns a little: the projection must act each step.
            w.iter_mut()
                .for_each(|x| *x = *x * 1.01 + 0.002 * (rng.next_f64() as f32 - 0.5));
            let before = cold(&w);
            let lin = Linear::<B> {
                weight: burn::module::Param::from_tensor(Tensor::from_data(
                    burn::tensor::TensorData::new(w.clone(), [rows, cols]),
                    &dev,
                )),
                bias: None,
            };
            let projected = proj.project(lin);
            w = projected.weight.val().into_data().into_vec().unwrap();
            let after = cold(&w);
            assert!(
                before > 1.0,
                "step {step}: the drift keeps σ above the target"
            );
            assert!(
                (after - 1.0).abs() < 5e-3,
                "step {step}: σ {before} → {after}"
            );
        }
        assert_eq!(proj.vectors().len(), 1);
    }

    #[test]
    fn power_sigma_of_diagonal() {
        let mut v = vec![std::f32::consts::FRAC_1_SQRT_2; 2];
        assert!((power_sigma(&[3.0, 0.0, 0.0, 1.0], 2, 2, &mut v, 30) - 3.0).abs() < 1e-4);
        assert!((v[0].abs() - 1.0).abs() < 1e-4, "{v:?}");
    }

    #[test]
    fn schedules() {
        let c = EsaiConfig {
            lambda: 1.0,
            warmup_steps: 100,
            tau0: 1.0,
            tau_min: 0.1,
            tau_steps: 10.0,
            ..EsaiConfig::default()
        };
        assert!((c.lambda_at(50) - 0.5).abs() < 1e-6 && (c.lambda_at(1000) - 1.0).abs() < 1e-6);
        assert!(
            (c.tau_at(10) - (-1.0f32).exp()).abs() < 1e-6 && (c.tau_at(1000) - 0.1).abs() < 1e-6
        );
    }
}
