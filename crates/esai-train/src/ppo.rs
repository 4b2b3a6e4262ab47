//! PPO-Clip with GAE (paper 002 Eq. 12) and its reward-shaping baseline.
//!
//! Every update records how many gradient steps it actually took, so a run
//! can never silently train nothing (the reference implementation's short
//! rollouts produced zero minibatches and no update at all).

use crate::policy::ActorCritic;
use burn::grad_clipping::GradientClippingConfig;
use burn::module::AutodiffModule;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::activation::log_softmax;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Bool, Int, Tensor, TensorData};
use esai_core::rng::SplitMix64;
use esai_envs::{MoralEvent, StepBatch, VecEnv};
use serde::Serialize;
use std::time::Instant;

/// Which objective the agent optimises.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum Method {
    /// Plain PPO on the extrinsic reward (λ = 0).
    Ppo,
    /// PPO on `r' = r − λ h` (the baseline the paper did not run).
    RewardShaping {
        /// Weight of the harm penalty.
        lambda: f32,
    },
}

/// PPO hyperparameters. Defaults are the reference sizes of spec §6.
#[derive(Debug, Clone, Serialize)]
pub struct PpoConfig {
    /// Environment copies stepped together. By default 16.
    pub num_envs: usize,
    /// Steps per copy per rollout (rollout = `num_envs × rollout_steps`). By default 128.
    pub rollout_steps: usize,
    /// Passes over each rollout. By default 10.
    pub epochs: usize,
    /// Minibatch size. By default 128.
    pub minibatch: usize,
    /// Adam learning rate. By default 3e-4.
    pub lr: f64,
    /// PPO clip ε. By default 0.2.
    pub clip: f32,
    /// Discount γ. By default 0.99.
    pub gamma: f32,
    /// GAE λ. By default 0.95.
    pub gae_lambda: f32,
    /// Entropy coefficient at the first update. By default 0.02.
    pub entropy_start: f32,
    /// Entropy coefficient at the last update (linear anneal). By default 0.005.
    pub entropy_end: f32,
    /// Value-loss coefficient. By default 0.5.
    pub value_coef: f32,
    /// Gradient-norm clip. By default 1.0.
    pub grad_clip: f32,
    /// Hidden width of both networks. By default 128.
    pub hidden: usize,
    /// Seed of weights, sampling and environments. By default 0.
    pub seed: u64,
}

impl Default for PpoConfig {
    fn default() -> Self {
        Self {
            num_envs: 16,
            rollout_steps: 128,
            epochs: 10,
            minibatch: 128,
            lr: 3e-4,
            clip: 0.2,
            gamma: 0.99,
            gae_lambda: 0.95,
            entropy_start: 0.02,
            entropy_end: 0.005,
            value_coef: 0.5,
            grad_clip: 1.0,
            hidden: 128,
            seed: 0,
        }
    }
}

/// A configuration that cannot train.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field} = {value}: {allowed}")]
pub struct ConfigError {
    /// The field.
    pub field: &'static str,
    /// Its value.
    pub value: String,
    /// What is allowed.
    pub allowed: String,
}

impl PpoConfig {
    /// Rejects configurations that would train nothing or diverge at once.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let rollout = self.num_envs * self.rollout_steps;
        let err = |field, value: String, allowed: String| {
            Err(ConfigError {
                field,
                value,
                allowed,
            })
        };
        if self.num_envs == 0 || self.rollout_steps == 0 || self.epochs == 0 || self.hidden == 0 {
            return err(
                "num_envs/rollout_steps/epochs/hidden",
                "0".into(),
                "all ≥ 1".into(),
            );
        }
        if self.minibatch == 0 || self.minibatch > rollout {
            return err(
                "minibatch",
                self.minibatch.to_string(),
                format!("1..={rollout} (num_envs × rollout_steps); a larger one yields zero gradient steps"),
            );
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return err("lr", self.lr.to_string(), "a finite number > 0".into());
        }
        for (field, v) in [
            ("clip", self.clip),
            ("gamma", self.gamma),
            ("gae_lambda", self.gae_lambda),
        ] {
            if !(v.is_finite() && v > 0.0 && v <= 1.0) {
                return err(field, v.to_string(), "a number in (0, 1]".into());
            }
        }
        Ok(())
    }
}

/// What one update did and measured. Written for every update.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateMetrics {
    /// 1-based update index.
    pub update: usize,
    /// Environment steps so far (all copies).
    pub env_steps: usize,
    /// Episodes that ended during this rollout.
    pub episodes: usize,
    /// Mean extrinsic return of those episodes.
    pub mean_return: Option<f32>,
    /// HELP / (HELP + STEAL) in this rollout.
    pub prosocial_rate: Option<f32>,
    /// In-range HELP decisions in this rollout.
    pub helps: usize,
    /// In-range STEAL decisions in this rollout.
    pub steals: usize,
    /// Mean policy entropy over the update's minibatches (nats).
    pub entropy: f32,
    /// Mean clipped policy loss.
    pub policy_loss: f32,
    /// Mean value loss.
    pub value_loss: f32,
    /// Mean approximate KL(old ‖ new).
    pub approx_kl: f32,
    /// Fraction of samples whose ratio was clipped.
    pub clip_fraction: f32,
    /// Gradient steps taken in this update (epochs × minibatches).
    pub gradient_steps: usize,
    /// Entropy coefficient used.
    pub entropy_coef: f32,
    /// Wall time of the update (rollout + learning), seconds.
    pub seconds: f32,
}

struct Rollout {
    obs: Vec<f32>,
    mask: Vec<bool>,
    actions: Vec<usize>,
    logp: Vec<f32>,
    values: Vec<f32>,
    rewards: Vec<f32>,
    dones: Vec<bool>,
}

/// A PPO learner over a vectorised environment.
pub struct Trainer<B: AutodiffBackend, E: VecEnv> {
    cfg: PpoConfig,
    method: Method,
    env: E,
    batch: StepBatch,
    model: ActorCritic<B>,
    optim: burn::optim::adaptor::OptimizerAdaptor<burn::optim::Adam, ActorCritic<B>, B>,
    rng: SplitMix64,
    device: B::Device,
    env_steps: usize,
    updates: usize,
}

impl<B: AutodiffBackend, E: VecEnv> Trainer<B, E> {
    /// A trainer with fresh networks; `env` must have `num_envs` copies.
    pub fn new(
        cfg: PpoConfig,
        method: Method,
        mut env: E,
        device: B::Device,
    ) -> Result<Self, ConfigError> {
        cfg.validate()?;
        if env.num_envs() * env.num_agents() != cfg.num_envs {
            return Err(ConfigError {
                field: "num_envs",
                value: cfg.num_envs.to_string(),
                allowed: format!(
                    "{} (the environment's copies × agents)",
                    env.num_envs() * env.num_agents()
                ),
            });
        }
        B::seed(cfg.seed);
        let model = ActorCritic::new(env.obs_dim(), env.num_actions(), cfg.hidden, &device);
        let optim = AdamConfig::new()
            .with_grad_clipping(Some(GradientClippingConfig::Norm(cfg.grad_clip)))
            .init();
        let mut batch = StepBatch::for_env(&env);
        env.reset(&mut batch);
        Ok(Self {
            rng: SplitMix64::new(cfg.seed ^ 0x5EED),
            cfg,
            method,
            env,
            batch,
            model,
            optim,
            device,
            env_steps: 0,
            updates: 0,
        })
    }

    /// The current networks.
    pub fn model(&self) -> &ActorCritic<B> {
        &self.model
    }

    fn to_tensor(&self, v: &[f32], rows: usize, cols: usize) -> Tensor<B, 2> {
        Tensor::from_data(TensorData::new(v.to_vec(), [rows, cols]), &self.device)
    }

    /// Masked action probabilities and values for the current observations (no gradients).
    fn act(&mut self) -> (Vec<usize>, Vec<f32>, Vec<f32>) {
        let (n, d, a) = (
            self.cfg.num_envs,
            self.env.obs_dim(),
            self.env.num_actions(),
        );
        let inner = self.model.valid();
        let obs = Tensor::from_data(
            TensorData::new(self.batch.obs.clone(), [n, d]),
            &self.device,
        );
        let logits: Vec<f32> = inner
            .actor
            .forward(obs.clone())
            .into_data()
            .into_vec()
            .expect("f32 logits");
        let values: Vec<f32> = inner
            .critic
            .forward(obs)
            .into_data()
            .into_vec()
            .expect("f32 values");
        let mut actions = Vec::with_capacity(n);
        let mut logps = Vec::with_capacity(n);
        for i in 0..n {
            let row = &logits[i * a..(i + 1) * a];
            let mask = &self.batch.mask[i * a..(i + 1) * a];
            let max = (0..a)
                .filter(|&k| mask[k])
                .map(|k| row[k])
                .fold(f32::NEG_INFINITY, f32::max);
            let z: f32 = (0..a)
                .filter(|&k| mask[k])
                .map(|k| (row[k] - max).exp())
                .sum();
            let mut u = self.rng.next_f64() as f32 * z;
            let mut pick = (0..a)
                .rev()
                .find(|&k| mask[k])
                .expect("at least one legal action");
            for k in (0..a).filter(|&k| mask[k]) {
                u -= (row[k] - max).exp();
                if u <= 0.0 {
                    pick = k;
                    break;
                }
            }
            actions.push(pick);
            logps.push(row[pick] - max - z.ln());
        }
        (actions, logps, values)
    }

    /// One rollout and one learning phase; `total_updates` drives the entropy anneal.
    pub fn update(&mut self, total_updates: usize) -> UpdateMetrics {
        let start = Instant::now();
        let (n, t_len, d, a) = (
            self.cfg.num_envs,
            self.cfg.rollout_steps,
            self.env.obs_dim(),
            self.env.num_actions(),
        );
        let mut ro = Rollout {
            obs: Vec::with_capacity(n * t_len * d),
            mask: Vec::with_capacity(n * t_len * a),
            actions: Vec::with_capacity(n * t_len),
            logp: Vec::with_capacity(n * t_len),
            values: Vec::with_capacity(n * t_len),
            rewards: Vec::with_capacity(n * t_len),
            dones: Vec::with_capacity(n * t_len),
        };
        let (mut helps, mut steals, mut episodes, mut ret_sum) = (0, 0, 0, 0.0f32);
        for _ in 0..t_len {
            let (actions, logp, values) = self.act();
            ro.obs.extend_from_slice(&self.batch.obs);
            ro.mask.extend_from_slice(&self.batch.mask);
            self.env
                .step(&actions, &mut self.batch)
                .expect("actions are sampled from the legal set");
            for i in 0..n {
                let shaped = match self.method {
                    Method::Ppo => self.batch.reward[i],
                    Method::RewardShaping { lambda } => {
                        self.batch.reward[i] - lambda * self.batch.harm[i]
                    }
                };
                ro.rewards.push(shaped);
                ro.dones.push(self.batch.done[i / self.env.num_agents()]);
                match self.batch.moral[i] {
                    MoralEvent::Help => helps += 1,
                    MoralEvent::Steal => steals += 1,
                    MoralEvent::None => {}
                }
            }
            for e in 0..self.env.num_envs() {
                if self.batch.done[e] {
                    episodes += 1;
                    ret_sum += self.batch.episode_return[e];
                }
            }
            ro.actions.extend(actions);
            ro.logp.extend(logp);
            ro.values.extend(values);
        }
        self.env_steps += n * t_len;
        let (_, _, last_values) = self.act();
        let (advantages, returns) = gae(&ro, &last_values, n, self.cfg.gamma, self.cfg.gae_lambda);

        let frac = if total_updates > 1 {
            self.updates as f32 / (total_updates - 1) as f32
        } else {
            0.0
        };
        let ent_coef = self.cfg.entropy_start
            + (self.cfg.entropy_end - self.cfg.entropy_start) * frac.min(1.0);
        let total = n * t_len;
        let mb = self.cfg.minibatch;
        let mut idx: Vec<usize> = (0..total).collect();
        let (mut steps, mut ent_acc, mut pl_acc, mut vl_acc, mut kl_acc, mut cf_acc) =
            (0usize, 0.0, 0.0, 0.0, 0.0, 0.0);
        for _ in 0..self.cfg.epochs {
            for k in (1..total).rev() {
                let j = (self.rng.next_u64() % (k as u64 + 1)) as usize;
                idx.swap(k, j);
            }
            for chunk in idx.chunks(mb).filter(|c| c.len() == mb) {
                let stats = self.learn(&ro, &advantages, &returns, chunk, ent_coef);
                steps += 1;
                ent_acc += stats[0];
                pl_acc += stats[1];
                vl_acc += stats[2];
                kl_acc += stats[3];
                cf_acc += stats[4];
            }
        }
        self.updates += 1;
        let s = steps.max(1) as f32;
        UpdateMetrics {
            update: self.updates,
            env_steps: self.env_steps,
            episodes,
            mean_return: (episodes > 0).then(|| ret_sum / episodes as f32),
            prosocial_rate: (helps + steals > 0).then(|| helps as f32 / (helps + steals) as f32),
            helps,
            steals,
            entropy: ent_acc / s,
            policy_loss: pl_acc / s,
            value_loss: vl_acc / s,
            approx_kl: kl_acc / s,
            clip_fraction: cf_acc / s,
            gradient_steps: steps,
            entropy_coef: ent_coef,
            seconds: start.elapsed().as_secs_f32(),
        }
    }

    /// One gradient step on a minibatch; returns [entropy, policy loss, value loss, kl, clip fraction].
    fn learn(
        &mut self,
        ro: &Rollout,
        adv: &[f32],
        ret: &[f32],
        chunk: &[usize],
        ent_coef: f32,
    ) -> [f32; 5] {
        let (d, a, m) = (self.env.obs_dim(), self.env.num_actions(), chunk.len());
        let obs: Vec<f32> = chunk
            .iter()
            .flat_map(|&i| ro.obs[i * d..(i + 1) * d].iter().copied())
            .collect();
        let illegal: Vec<bool> = chunk
            .iter()
            .flat_map(|&i| ro.mask[i * a..(i + 1) * a].iter().map(|&ok| !ok))
            .collect();
        let actions: Vec<i64> = chunk.iter().map(|&i| ro.actions[i] as i64).collect();
        let old_logp: Vec<f32> = chunk.iter().map(|&i| ro.logp[i]).collect();
        let mut mb_adv: Vec<f32> = chunk.iter().map(|&i| adv[i]).collect();
        let mean = mb_adv.iter().sum::<f32>() / m as f32;
        let std = (mb_adv.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / m as f32).sqrt() + 1e-8;
        mb_adv.iter_mut().for_each(|x| *x = (*x - mean) / std);
        let mb_ret: Vec<f32> = chunk.iter().map(|&i| ret[i]).collect();

        let dev = &self.device;
        let obs_t = self.to_tensor(&obs, m, d);
        let illegal_t: Tensor<B, 2, Bool> =
            Tensor::from_data(TensorData::new(illegal, [m, a]), dev);
        let act_t: Tensor<B, 2, Int> = Tensor::from_data(TensorData::new(actions, [m, 1]), dev);
        let old_t: Tensor<B, 1> = Tensor::from_data(TensorData::new(old_logp, [m]), dev);
        let adv_t: Tensor<B, 1> = Tensor::from_data(TensorData::new(mb_adv, [m]), dev);
        let ret_t: Tensor<B, 1> = Tensor::from_data(TensorData::new(mb_ret, [m]), dev);

        let logits = self
            .model
            .actor
            .forward(obs_t.clone())
            .mask_fill(illegal_t, -1e9);
        let logp_all = log_softmax(logits, 1);
        let logp: Tensor<B, 1> = logp_all.clone().gather(1, act_t).squeeze(1);
        let log_ratio = logp - old_t;
        let ratio = log_ratio.clone().exp();
        let clip = self.cfg.clip;
        let surr1 = ratio.clone() * adv_t.clone();
        let surr2 = ratio.clone().clamp(1.0 - clip, 1.0 + clip) * adv_t;
        let policy_loss = surr1.min_pair(surr2).mean().neg();
        let entropy = (logp_all.clone().exp() * logp_all).sum_dim(1).mean().neg();
        let values: Tensor<B, 1> = self.model.critic.forward(obs_t).squeeze(1);
        let value_loss = (values - ret_t).powf_scalar(2.0).mean();
        let loss = policy_loss.clone() + value_loss.clone() * self.cfg.value_coef
            - entropy.clone() * ent_coef;

        let scalar = |t: Tensor<B, 1>| -> f32 { t.into_data().into_vec::<f32>().expect("f32")[0] };
        let kl_v: Vec<f32> = ((ratio.clone() - 1.0) - log_ratio)
            .mean()
            .into_data()
            .into_vec()
            .expect("f32");
        let ratios: Vec<f32> = ratio.into_data().into_vec().expect("f32");
        let clipped = ratios.iter().filter(|r| (**r - 1.0).abs() > clip).count() as f32 / m as f32;
        let stats = [
            scalar(entropy.clone()),
            scalar(policy_loss.clone()),
            scalar(value_loss.clone()),
            kl_v[0],
            clipped,
        ];

        let grads = GradientsParams::from_grads(loss.backward(), &self.model);
        let model = self.model.clone();
        self.model = self.optim.step(self.cfg.lr, model, grads);
        stats
    }
}

/// Generalised advantage estimation over `[T][n]` rollouts (auto-reset aware).
fn gae(
    ro: &Rollout,
    last_values: &[f32],
    n: usize,
    gamma: f32,
    lambda: f32,
) -> (Vec<f32>, Vec<f32>) {
    let total = ro.rewards.len();
    let t_len = total / n;
    let mut adv = vec![0.0; total];
    for (e, &bootstrap) in last_values.iter().enumerate().take(n) {
        let mut next_adv = 0.0;
        let mut next_value = bootstrap;
        for t in (0..t_len).rev() {
            let i = t * n + e;
            let nonterminal = if ro.dones[i] { 0.0 } else { 1.0 };
            let delta = ro.rewards[i] + gamma * next_value * nonterminal - ro.values[i];
            next_adv = delta + gamma * lambda * nonterminal * next_adv;
            adv[i] = next_adv;
            next_value = ro.values[i];
        }
    }
    let returns = adv.iter().zip(&ro.values).map(|(a, v)| a + v).collect();
    (adv, returns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gae_matches_hand_computation() {
        // One env, two steps, no terminal: δ1 = 1 + 0.5·3 − 2 = 0.5, A1 = 0.5;
        // δ0 = 0 + 0.5·2 − 1 = 0, A0 = 0 + 0.5·0.5·0.5 = 0.125.
        let ro = Rollout {
            obs: vec![],
            mask: vec![],
            actions: vec![],
            logp: vec![],
            values: vec![1.0, 2.0],
            rewards: vec![0.0, 1.0],
            dones: vec![false, false],
        };
        let (adv, ret) = gae(&ro, &[3.0], 1, 0.5, 0.5);
        assert!(
            (adv[1] - 0.5).abs() < 1e-6 && (adv[0] - 0.125).abs() < 1e-6,
            "{adv:?}"
        );
        assert!((ret[0] - 1.125).abs() < 1e-6);
        // A terminal step does not bootstrap.
        let ro2 = Rollout {
            dones: vec![false, true],
            ..ro
        };
        let (adv2, _) = gae(&ro2, &[100.0], 1, 0.5, 0.5);
        assert!((adv2[1] - (1.0 - 2.0)).abs() < 1e-6);
    }

    #[test]
    fn minibatch_larger_than_rollout_is_rejected() {
        let cfg = PpoConfig {
            num_envs: 1,
            rollout_steps: 100,
            minibatch: 128,
            ..PpoConfig::default()
        };
        let e = cfg.validate().unwrap_err();
        assert_eq!(e.field, "minibatch");
        assert!(e.to_string().contains("zero gradient steps"));
    }
}
