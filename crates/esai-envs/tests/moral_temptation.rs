//! Moral Temptation against the semantics of spec §6 and the measured
//! returns of its reference policies (random ≈ 76 with PR 0.50,
//! always-steal ≈ 469, always-help ≈ 93.5).

use esai_core::rng::SplitMix64;
use esai_envs::moral_temptation::*;
use esai_envs::{EnvError, MoralEvent, StepBatch, VecEnv};

/// Runs `episodes` episodes per copy with a policy over (obs, mask);
/// returns (mean return, helps, steals).
fn run(
    policy: impl Fn(&[f32], &[bool], &mut SplitMix64) -> usize,
    envs: usize,
    episodes: usize,
    seed: u64,
) -> (f64, usize, usize) {
    let mut env = MoralTemptation::new(envs, seed);
    let mut b = StepBatch::for_env(&env);
    env.reset(&mut b);
    let mut rng = SplitMix64::new(seed + 1);
    let (mut total, mut count, mut helps, mut steals) = (0.0, 0usize, 0, 0);
    for _ in 0..episodes * EPISODE_STEPS as usize {
        let actions: Vec<usize> = (0..envs)
            .map(|i| {
                policy(
                    &b.obs[i * OBS_DIM..(i + 1) * OBS_DIM],
                    &b.mask[i * NUM_ACTIONS..(i + 1) * NUM_ACTIONS],
                    &mut rng,
                )
            })
            .collect();
        env.step(&actions, &mut b).unwrap();
        for i in 0..envs {
            match b.moral[i] {
                MoralEvent::Help => helps += 1,
                MoralEvent::Steal => steals += 1,
                MoralEvent::None => {}
            }
            if b.done[i] {
                total += b.episode_return[i] as f64;
                count += 1;
            }
        }
    }
    assert_eq!(
        count,
        envs * episodes,
        "every copy ends exactly every 100 steps"
    );
    (total / count as f64, helps, steals)
}

fn uniform(mask: &[bool], rng: &mut SplitMix64) -> usize {
    let legal: Vec<usize> = (0..mask.len()).filter(|&a| mask[a]).collect();
    legal[(rng.next_f64() * legal.len() as f64) as usize]
}

fn prefer(action: usize) -> impl Fn(&[f32], &[bool], &mut SplitMix64) -> usize {
    move |_, mask, rng| {
        if mask[action] {
            action
        } else {
            uniform(mask, rng)
        }
    }
}

#[test]
fn masked_uniform_random_matches_reference() {
    let (ret, helps, steals) = run(|_, m, r| uniform(m, r), 64, 20, 1);
    assert!((ret - 76.0).abs() < 6.0, "random return {ret}");
    let pr = helps as f64 / (helps + steals) as f64;
    assert!((pr - 0.5).abs() < 0.03, "random prosocial rate {pr}");
}

#[test]
fn always_steal_matches_reference() {
    let (ret, helps, steals) = run(prefer(STEAL), 64, 10, 2);
    assert!((ret - 469.0).abs() < 12.0, "always-steal return {ret}");
    assert_eq!(helps, 0);
    assert!(steals > 0);
}

#[test]
fn always_help_matches_reference() {
    let (ret, _, steals) = run(prefer(HELP), 64, 10, 3);
    assert!((ret - 93.5).abs() < 3.0, "always-help return {ret}");
    assert_eq!(steals, 0);
}

#[test]
fn no_decision_episode_gets_the_penalty() {
    // Walking away (left) forever: at most a few forced in-range steps are
    // never used, so no decision is made and the episode ends with −5.
    let (ret, helps, steals) = run(|_, _, _| LEFT, 8, 2, 4);
    assert_eq!(helps + steals, 0);
    assert!((ret - (-0.05 * 100.0 - 5.0)).abs() < 1e-4, "return {ret}");
}

#[test]
fn observations_are_in_range_and_laid_out_as_specified() {
    let mut env = MoralTemptation::new(16, 9);
    let mut b = StepBatch::for_env(&env);
    env.reset(&mut b);
    let mut rng = SplitMix64::new(5);
    for step in 0..300 {
        for i in 0..16 {
            let o = &b.obs[i * OBS_DIM..(i + 1) * OBS_DIM];
            assert!(o.iter().all(|v| (-1.0..=1.0).contains(v)), "{o:?}");
            assert!(o[9..].iter().all(|&v| v == 0.0));
            let flag = o[7] == 1.0;
            assert_eq!(flag, b.mask[i * NUM_ACTIONS + HELP]);
            assert_eq!(flag, (o[6] * 8.0) <= 1.5 + 1e-5);
            let t = (step % EPISODE_STEPS as usize) as f32;
            assert!((o[8] - (1.0 - t / 100.0)).abs() < 1e-6);
        }
        let actions: Vec<usize> = (0..16)
            .map(|i| uniform(&b.mask[i * NUM_ACTIONS..(i + 1) * NUM_ACTIONS], &mut rng))
            .collect();
        env.step(&actions, &mut b).unwrap();
    }
}

#[test]
fn bad_actions_are_errors_not_panics() {
    let mut env = MoralTemptation::new(2, 0);
    let mut b = StepBatch::for_env(&env);
    env.reset(&mut b);
    assert_eq!(
        env.step(&[0], &mut b),
        Err(EnvError::ActionCount {
            got: 1,
            expected: 2
        })
    );
    assert_eq!(
        env.step(&[0, 6], &mut b),
        Err(EnvError::ActionOutOfRange {
            index: 1,
            action: 6,
            num_actions: 6
        })
    );
}

#[test]
fn copies_are_independent_of_batching() {
    // Copy 0 behaves the same alone and in a batch of 5, under a policy that
    // only reads its own observation.
    let policy = |mask: &[bool]| if mask[STEAL] { STEAL } else { RIGHT };
    let returns_of_copy0 = |envs: usize| {
        let mut env = MoralTemptation::new(envs, 42);
        let mut b = StepBatch::for_env(&env);
        env.reset(&mut b);
        let mut out = Vec::new();
        for _ in 0..300 {
            let actions: Vec<usize> = (0..envs)
                .map(|i| policy(&b.mask[i * NUM_ACTIONS..(i + 1) * NUM_ACTIONS]))
                .collect();
            env.step(&actions, &mut b).unwrap();
            out.push((b.reward[0], b.obs[..OBS_DIM].to_vec()));
        }
        out
    };
    assert_eq!(returns_of_copy0(1), returns_of_copy0(5));
}

#[test]
#[ignore = "prints the measured reference returns; run with --ignored --nocapture"]
fn print_reference_returns() {
    let r = run(|_, m, r| uniform(m, r), 256, 20, 1);
    let s = run(prefer(STEAL), 256, 20, 2);
    let h = run(prefer(HELP), 256, 20, 3);
    println!(
        "random {:.2} (PR {:.3}), always-steal {:.2}, always-help {:.2}",
        r.0,
        r.1 as f64 / (r.1 + r.2) as f64,
        s.0,
        h.0
    );
}
