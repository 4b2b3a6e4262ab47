//! The runtime monitor's glue: the verifier as the monitor's Lipschitz
//! oracle, the monitor basis of a run, incident reports, and
//! `esai monitor DIR` (the offline audit of a run directory).

use crate::output::{problems_error, write_atomic};
use anyhow::{Context, Result};
use clap::Args;
use esai_core::graph::{Graph, LaplacianKind};
use esai_core::mlp::Mlp;
use esai_core::spec::{Param, Spec, UpdateBound};
use esai_core::training::{MonitorSection, Training};
use esai_monitor::incident::Incident;
use esai_monitor::live::{Basis, GBoundOracle, GBounds};
use esai_monitor::offline::{audit, CheckpointWeights};
use esai_monitor::rules::Finding;
use esai_verify::certify::{input_norm_upper, Certificate};
use esai_verify::kernel::interval::Interval;
use esai_verify::lipschitz::lipschitz_upper_bounds;
use esai_verify::spectral::{lambda_max_upper, m_norms, m_norms_reweighted};
use std::path::{Path, PathBuf};

/// Exit code of a run halted by a monitor rule (and of `esai monitor` when
/// a halt-policy rule is broken).
pub const EXIT_HALTED: u8 = 4;

/// The verifier's kernel-confirmed upper bounds, for the monitor.
pub struct VerifyOracle;

impl GBoundOracle for VerifyOracle {
    fn bounds(&self, g: &Mlp, e_inputs: usize) -> GBounds {
        let u = lipschitz_upper_bounds(g, e_inputs);
        GBounds {
            l_g: u.l_g,
            l_e: u.l_e,
            l_u: u.l_u,
            zero_output_norm: u.zero_output_norm,
        }
    }
}

fn point(p: Param) -> f64 {
    match p {
        Param::Point(v) => v,
        Param::Range { hi, .. } => hi,
    }
}

/// The numbers the monitor checks against, for training on `graph` (the
/// environment's interaction graph, whose `‖γ_E I − αL‖` bounds the
/// trainer's diffusion; `diffusion = false` means α = 0).
pub fn basis_for(
    spec: &Spec,
    cert: &Certificate,
    graph: &Graph,
    k: usize,
    diffusion: bool,
) -> Basis {
    let gamma = point(spec.gamma_e);
    let alpha = if diffusion { point(spec.alpha) } else { 0.0 };
    let (gi, ai) = (Interval::around(gamma), Interval::around(alpha));
    let plain = m_norms(graph, LaplacianKind::Row, gi, ai, lambda_max_upper(graph));
    // With learned similarities the trained L changes every update: bound
    // every re-weighting, as `esai certify` does.
    let norms = if spec.graph.similarity {
        m_norms_reweighted(graph, gi, ai, &plain)
    } else {
        plain
    };
    let (lipschitz_target, declared) = match &spec.update {
        UpdateBound::Declared {
            lipschitz,
            zero_output_norm,
            ..
        } => (lipschitz.hi(), *zero_output_norm),
        UpdateBound::Weights { .. } => (f64::INFINITY, None),
    };
    Basis {
        m2_upper: norms.two.upper,
        minf_upper: norms.inf.upper,
        agents: graph.agents(),
        k,
        lipschitz_target,
        declared_zero_output_norm: declared,
        input_norm: input_norm_upper(spec),
        obs_norm: spec.inputs.obs_norm,
        eta_h: spec.hebbian.eta,
        delta_h: spec.hebbian.delta,
        verdict: format!("{:?}", cert.verdict).to_lowercase(),
        certified_iae_bound: cert.bounds.iae_norm,
    }
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or("—".into(), |x| {
        if x.is_nan() {
            "NaN".into()
        } else {
            format!("{x:.6}")
        }
    })
}

fn finding_line(f: &Finding) -> String {
    format!(
        "- `{}` ({}) at update {}, {}{}: {}",
        f.rule.name(),
        format!("{:?}", f.policy).to_lowercase(),
        f.update,
        f.at,
        f.agent.map_or(String::new(), |a| format!(", agent {a}")),
        f.message
    )
}

/// Writes `DIR/incident.json` and `DIR/incident.md`, atomically.
pub fn write_incident(dir: &Path, incident: &Incident) -> Result<()> {
    write_atomic(
        &dir.join("incident.json"),
        serde_json::to_string_pretty(incident)?.as_bytes(),
        true,
    )?;
    let c = &incident.cause;
    let mut md = format!(
        "# Training {}: `{}`\n\n{}\n\n| | |\n|---|---|\n| rule | `{}` (policy {}) |\n| where | update {}, {} (environment steps {}) |\n| agent | {} |\n| value | {} |\n| limit | {} |\n| exit code | {} |\n\n",
        incident.kind,
        c.rule.name(),
        c.message,
        c.rule.name(),
        format!("{:?}", c.policy).to_lowercase(),
        c.update,
        c.at,
        c.env_steps,
        c.agent.map_or("—".into(), |a| a.to_string()),
        fmt_opt(c.value),
        fmt_opt(c.limit),
        incident.exit_code,
    );
    md.push_str(&format!(
        "## State kept\n\nThe last good state is `{}` ({} updates done): the state at the start of update {}, which was discarded. `metrics.jsonl` holds the {} good updates.\n\n## Resume\n\n```\n{}\n```\n\nIf the same rule would fire again, change its policy or threshold in `[training.monitor]` of `config.toml` in the run directory first (and say why in your notes), or fix the spec and start a new run.\n\n",
        incident.checkpoint,
        incident.last_good_update,
        incident.discarded_update,
        incident.last_good_update,
        incident.resume
    ));
    if let Some(l) = &incident.live_certificate {
        md.push_str(&format!(
            "## Live certificate in force\n\n| quantity | value |\n|---|---|\n| L_g (sound upper) | {:.6} |\n| L_E | {:.6} |\n| ‖g_φ(0)‖ | {:.6} |\n| K | {:.6} |\n| best ρ | {:.6} |\n| B (per-agent ‖E‖) | {} |\n| B_H (‖H‖_F) | {} |\n\n",
            l.g.l_g,
            l.g.l_e,
            l.g.zero_output_norm,
            l.k,
            l.best_rho(),
            fmt_opt(l.iae_bound),
            fmt_opt(l.hebbian_bound)
        ));
    }
    if !incident.findings.is_empty() {
        md.push_str("## Findings before the stop\n\n");
        for f in &incident.findings {
            md.push_str(&finding_line(f));
            md.push('\n');
        }
        md.push('\n');
    }
    md.push_str(&format!(
        "## Last {} metrics rows\n\n| update | env steps | return | prosocial rate | entropy | max ‖E‖ | max ‖H‖ | grad norm max |\n|---|---|---|---|---|---|---|---|\n",
        incident.last_metrics.len()
    ));
    for r in &incident.last_metrics {
        let g = |k: &str| fmt_opt(r.get(k).and_then(|v| v.as_f64()));
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.get("update").map_or("—".into(), |v| v.to_string()),
            r.get("env_steps").map_or("—".into(), |v| v.to_string()),
            g("mean_return"),
            g("prosocial_rate"),
            g("entropy"),
            g("iae_norm_max"),
            g("hebbian_norm_max"),
            g("grad_norm_max"),
        ));
    }
    write_atomic(&dir.join("incident.md"), md.as_bytes(), true)
}

/// Arguments of `esai monitor`.
#[derive(Args)]
pub struct MonitorArgs {
    /// A run directory written by `esai train` (finished, halted or still running).
    dir: PathBuf,
    /// A TOML file whose `[monitor]` section replaces the run's rules (e.g. a
    /// rule added after the run). By default the run's own `[training.monitor]`.
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,
    /// Print the audit as JSON.
    #[arg(long)]
    json: bool,
    /// Also write the JSON audit to FILE (refuses to overwrite without --force).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Overwrite --out.
    #[arg(long)]
    force: bool,
}

/// What a run directory holds for the audit.
struct Run {
    training: Training,
    basis: Basis,
    rows: Vec<serde_json::Value>,
    notes: Vec<String>,
    /// Rows or checkpoints that are not what the run wrote.
    integrity: Vec<String>,
    checkpoints: Vec<CheckpointWeights>,
}

fn read_run(dir: &Path) -> Result<Run> {
    let (run_dir, record) = crate::run_files::open_run(dir, None)?;
    let (_, training) = crate::run_files::read_run_config(dir)?;
    let basis: Basis = crate::run_files::read_json(&run_dir.file("monitor_basis.json"))?;
    let metrics_path = dir.join("metrics.jsonl");
    let text = String::from_utf8(esai_runs::rundir::read_capped(
        &metrics_path,
        esai_runs::rundir::MAX_RUN_FILE_BYTES,
    )?)
    .map_err(|_| esai_runs::RunError::damaged(&metrics_path, "not UTF-8"))?;
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut integrity = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(v) if v.is_object() => rows.push(v),
            _ if i + 1 == lines.len() && !text.ends_with('\n') => notes.push(format!(
                "metrics.jsonl: the last line is incomplete (a run in progress or killed); {} rows checked",
                rows.len()
            )),
            _ => integrity.push(format!("metrics.jsonl line {}: not a JSON object", i + 1)),
        }
    }
    for (i, row) in rows.iter().enumerate() {
        let got = row.get("update").and_then(|u| u.as_u64());
        if got != Some(i as u64 + 1) {
            integrity.push(format!(
                "metrics.jsonl row {}: update {} where update {} belongs (rows missing, duplicated or renumbered)",
                i + 1,
                got.map_or("missing".into(), |u| u.to_string()),
                i + 1
            ));
            break;
        }
    }
    let mut checkpoints = Vec::new();
    let mut newest: Option<(usize, PathBuf)> = None;
    let mut all = run_dir.checkpoints()?;
    let final_dir = run_dir.checkpoints_dir().join("final");
    if final_dir.is_dir() {
        all.push((usize::MAX, final_dir));
    }
    for (n, p) in all {
        if let Err(e) = run_dir.verify_checkpoint(&p, &record) {
            integrity.push(format!("{e}"));
            continue;
        }
        if n != usize::MAX && newest.as_ref().is_none_or(|(m, _)| n > *m) {
            newest = Some((n, p.clone()));
        }
        let name = p
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().to_string());
        let g_path = p.join("g_phi.json");
        if !g_path.exists() {
            continue; // baselines have no g_φ
        }
        let g_text = std::fs::read_to_string(&g_path)
            .with_context(|| format!("cannot read {}", g_path.display()))?;
        let g_phi = Mlp::from_json(&g_text).map_err(|errs| {
            let e: Vec<String> = errs.iter().map(|(f, m)| format!("{f}: {m}")).collect();
            anyhow::anyhow!("{} is corrupt: {}", g_path.display(), e.join("; "))
        })?;
        let update = serde_json::from_str::<serde_json::Value>(
            &std::fs::read_to_string(p.join("state.json"))
                .with_context(|| format!("cannot read {}", p.join("state.json").display()))?,
        )
        .ok()
        .and_then(|v| v.get("updates").and_then(|u| u.as_u64()))
        .with_context(|| {
            format!(
                "{} is corrupt (no `updates`)",
                p.join("state.json").display()
            )
        })? as usize;
        checkpoints.push(CheckpointWeights {
            name,
            update,
            g_phi,
        });
    }
    // The rows up to the newest checkpoint are sealed in it: the live file
    // must agree with them.
    if let Some((n, p)) = newest {
        let sealed = std::fs::read_to_string(p.join("metrics.jsonl")).unwrap_or_default();
        let live: Vec<&str> = lines.iter().take(n).copied().collect();
        let kept: Vec<&str> = sealed.lines().collect();
        if live != kept {
            integrity.push(format!(
                "metrics.jsonl: rows 1–{n} differ from the copy sealed in {} (edited or lost rows)",
                p.display()
            ));
        }
    }
    Ok(Run {
        training,
        basis,
        rows,
        notes,
        integrity,
        checkpoints,
    })
}

/// Reads the `[monitor]` section of a rules file, reporting every problem.
fn read_rules(path: &Path) -> Result<MonitorSection> {
    #[derive(serde::Deserialize)]
    struct RulesFile {
        #[serde(default)]
        monitor: MonitorSection,
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read --rules {}", path.display()))?;
    let file: RulesFile = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("--rules {}: {}", path.display(), e.message()))?;
    let problems = file.monitor.problems();
    if !problems.is_empty() {
        return Err(problems_error(
            format!("--rules {}: invalid", path.display()),
            &problems,
        ));
    }
    Ok(file.monitor)
}

/// Runs `esai monitor`; exit 0 when no halt-policy rule is broken, 4 otherwise.
pub fn run(args: &MonitorArgs) -> Result<u8> {
    let run = read_run(&args.dir)?;
    let cfg = match &args.rules {
        Some(p) => read_rules(p)?,
        None => run.training.monitor.clone(),
    };
    let esai = run.training.esai.method.starts_with("esai");
    let mut result = audit(
        &cfg,
        &run.basis,
        &VerifyOracle,
        &run.rows,
        &run.checkpoints,
        esai,
    );
    result.not_checked.extend(run.notes);
    let json = serde_json::json!({
        "schema": "esai.monitor-audit/v1",
        "run": args.dir.display().to_string(),
        "rules": cfg,
        "audit": result,
        "integrity": run.integrity,
        "would_halt": result.would_halt(),
    });
    if let Some(out) = &args.out {
        write_atomic(
            out,
            serde_json::to_string_pretty(&json)?.as_bytes(),
            args.force,
        )?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        println!(
            "{}: {} metrics rows, {} checkpoints checked; {} finding(s){}",
            args.dir.display(),
            result.rows,
            result.checkpoints,
            result.findings.len(),
            if result.would_halt() {
                " — a halt-policy rule is broken"
            } else {
                ""
            }
        );
        for f in &result.findings {
            println!("{}", finding_line(f));
        }
        for n in &result.not_checked {
            println!("not checked: {n}");
        }
    }
    for n in &run.integrity {
        eprintln!("error: damaged run directory: {n}");
    }
    if !run.integrity.is_empty() {
        return Ok(2);
    }
    Ok(if result.would_halt() { EXIT_HALTED } else { 0 })
}
