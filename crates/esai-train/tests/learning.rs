//! Learning is shown, not assumed: PPO learns to steal in Moral Temptation,
//! and the reward-shaping baseline with a large λ learns to help.
//!
//! Each run uses the reference rollout (16 copies × 128 steps = 2048, 10
//! epochs × minibatch 128) and a narrower network to keep the test fast.

use esai_envs::moral_temptation::MoralTemptation;
use esai_train::ppo::{Method, PpoConfig, Trainer, UpdateMetrics};
use esai_train::CpuBackend;

fn train(method: Method, updates: usize, seed: u64) -> Vec<UpdateMetrics> {
    let cfg = PpoConfig {
        hidden: 64,
        lr: 1e-3,
        seed,
        ..PpoConfig::default()
    };
    let env = MoralTemptation::new(cfg.num_envs, seed);
    let mut t = Trainer::<CpuBackend, _>::new(cfg, method, env, Default::default()).unwrap();
    (0..updates)
        .map(|_| {
            let m = t.update(updates);
            eprintln!(
                "update {:>2} return {:>7.2} PR {:.3} entropy {:.3} kl {:.4} steps {} ({:.2}s)",
                m.update,
                m.mean_return.unwrap_or(f32::NAN),
                m.prosocial_rate.unwrap_or(f32::NAN),
                m.entropy,
                m.approx_kl,
                m.gradient_steps,
                m.seconds
            );
            m
        })
        .collect()
}

#[test]
fn ppo_learns_to_steal() {
    let m = train(Method::Ppo, 12, 1);
    let (first, last) = (&m[0], m.last().unwrap());
    assert!(
        m.iter().all(|u| u.gradient_steps == 160),
        "10 epochs × 16 minibatches per update"
    );
    assert!(
        last.mean_return.unwrap() > 300.0,
        "return {:?}",
        last.mean_return
    );
    assert!(
        last.prosocial_rate.unwrap() < 0.2,
        "PR {:?}",
        last.prosocial_rate
    );
    assert!(
        last.entropy < first.entropy - 0.3,
        "entropy {} → {}",
        first.entropy,
        last.entropy
    );
}

#[test]
fn reward_shaping_with_large_lambda_learns_to_help() {
    // λ = 2: a STEAL is worth 5 − 2·3 = −1 < HELP's +1.
    let m = train(Method::RewardShaping { lambda: 2.0 }, 12, 2);
    let last = m.last().unwrap();
    assert!(
        last.prosocial_rate.unwrap() > 0.8,
        "PR {:?}",
        last.prosocial_rate
    );
    assert!(
        last.mean_return.unwrap() > 60.0,
        "return {:?}",
        last.mean_return
    );
}
