//! A resumed ESAI run continues exactly as the uninterrupted one — IAE,
//! Hebbian trace, EMA target, optimiser — with the `g_φ` spectral
//! projection binding at every gradient step. (The projection's warm-start
//! vectors are checkpointed too, but on nets this small a cold restart
//! converges to the same vector to the last bit, so this test does not
//! isolate them; it fails if the IAE state is not restored.)

use esai_core::training::PpoSection;
use esai_envs::moral_temptation::MoralTemptation;
use esai_train::esai::EsaiConfig;
use esai_train::ppo::{Method, PpoConfig, Trainer};
use esai_train::CpuBackend;

fn trainer() -> Trainer<CpuBackend, MoralTemptation> {
    let cfg = PpoConfig {
        seed: 11,
        ppo: PpoSection {
            hidden: 16,
            rollout_steps: 32,
            epochs: 2,
            minibatch: 64,
            ..PpoSection::default()
        },
        ..PpoConfig::default()
    };
    let esai = EsaiConfig {
        // A tiny output-layer target: the projection rescales g_φ after
        // every gradient step, so how σ is estimated shows in the weights.
        lipschitz: 0.01,
        hidden: 16,
        k: 8,
        ..Default::default()
    };
    let env = MoralTemptation::new(cfg.num_envs, 11);
    Trainer::<CpuBackend, _>::new(cfg, Method::Esai(esai), env, Default::default()).unwrap()
}

/// Policy and forecast losses of the next two updates.
fn two_more_updates(t: &mut Trainer<CpuBackend, MoralTemptation>) -> Vec<(f32, f32)> {
    (0..2)
        .map(|_| {
            let m = t.update(4);
            (m.policy_loss, m.forecast_loss.unwrap())
        })
        .collect()
}

#[test]
fn resumed_esai_run_matches_the_uninterrupted_one() {
    let dir = std::env::temp_dir().join(format!("esai-ckpt-test-{}", std::process::id()));
    let mut a = trainer();
    a.update(4);
    a.save_checkpoint(&dir).unwrap();
    let after_a = two_more_updates(&mut a);

    let mut b = trainer();
    b.load_checkpoint(&dir).unwrap();
    let after_b = two_more_updates(&mut b);
    let _ = std::fs::remove_dir_all(&dir);

    assert_eq!(after_a, after_b, "losses after resuming");
    assert_eq!(
        a.g_phi_weights_json(),
        b.g_phi_weights_json(),
        "g_φ after resuming"
    );
}
