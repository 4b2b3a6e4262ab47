//! From a checked spec to trainer configurations.

use crate::esai::{EsaiConfig, Mechanisms};
use crate::ppo::{Method, PpoConfig};
use esai_core::problem::Problem;
use esai_core::spec::{Param, Spec, UpdateBound};

fn point(field: &str, p: Param, out: &mut Vec<Problem>) -> f32 {
    match p {
        Param::Point(v) => v as f32,
        Param::Range { lo, hi } => {
            out.push(Problem {
                field: field.into(),
                value: format!("[{lo}, {hi}]"),
                allowed: "a single value to train (intervals are for certification)".into(),
            });
            lo as f32
        }
    }
}

/// The PPO and method configuration a spec describes. `γ_E`, `α`, `L_g`,
/// `η_H`, `δ_H` come from the shared sections, so one file certifies and trains.
pub fn configs(spec: &Spec) -> Result<(PpoConfig, Method), Vec<Problem>> {
    let t = &spec.training;
    let mut problems = Vec::new();
    let gamma_e = point("dynamics.gamma_e", spec.gamma_e, &mut problems);
    let alpha = point("dynamics.alpha", spec.alpha, &mut problems);
    let lipschitz = match &spec.update {
        UpdateBound::Declared { lipschitz, .. } => {
            point("update.lipschitz", *lipschitz, &mut problems)
        }
        UpdateBound::Weights { .. } => {
            problems.push(Problem {
                field: "update.weights".into(),
                value: "(set)".into(),
                allowed: "a declared `update.lipschitz` target to train (weights files are for certification)".into(),
            });
            0.0
        }
    };
    // One learner per agent of every copy.
    let agents = if t.env.name == "graph-dilemma" {
        spec.graph.graph.agents()
    } else {
        1
    };
    let ppo = PpoConfig {
        num_envs: t.env.copies * agents,
        seed: t.train.seed,
        ppo: t.ppo.clone(),
    };
    let e = &t.esai;
    let esai = |mechanisms: Mechanisms| {
        Method::Esai(EsaiConfig {
            k: e.k,
            lambda: e.lambda,
            warmup_steps: e.warmup_steps,
            kappa: e.kappa,
            tau0: e.tau0,
            tau_min: e.tau_min,
            tau_steps: e.tau_steps,
            ema: e.ema,
            gamma_e,
            alpha,
            lipschitz,
            eta_h: spec.hebbian.eta as f32,
            delta_h: spec.hebbian.delta as f32,
            read_dim: e.read_dim,
            hidden: e.hidden,
            mechanisms,
            similarity: spec.graph.similarity,
            lambda_bias: e.lambda_bias,
            ..EsaiConfig::default()
        })
    };
    let all = Mechanisms::ALL;
    let method = match e.method.as_str() {
        "ppo" => Method::Ppo,
        "reward-shaping" => Method::RewardShaping { lambda: e.lambda },
        "lagrangian" => Method::Lagrangian {
            cost_limit: e.cost_limit,
            lr: e.dual_lr,
        },
        "esai-no-regret" => esai(Mechanisms {
            regret: false,
            ..all
        }),
        "esai-no-attention" => esai(Mechanisms {
            attention: false,
            ..all
        }),
        "esai-no-hebbian" => esai(Mechanisms {
            hebbian: false,
            ..all
        }),
        "esai-no-diffusion" => esai(Mechanisms {
            diffusion: false,
            ..all
        }),
        _ => esai(all),
    };
    if problems.is_empty() {
        Ok((ppo, method))
    } else {
        Err(problems)
    }
}
