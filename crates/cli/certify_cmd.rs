//! `esai certify SPEC`.

use crate::output::write_atomic;
use anyhow::{Context, Result};
use clap::Args;
use esai_core::spec::Spec;
use esai_verify::certify::{certify, Certificate, CertifyOptions, Verdict};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Arguments of `esai certify`.
#[derive(Args)]
pub struct CertifyArgs {
    /// The spec file (TOML; format in specs/README.md).
    spec: PathBuf,
    /// Print the certificate as JSON (schema esai.certificate/v1) instead of a table.
    #[arg(long)]
    json: bool,
    /// Also write the z3 queries as SMT-LIB 2 to FILE, re-checkable with `z3 FILE`.
    /// For a single point this also runs z3 as a cross-check (regions always run it).
    #[arg(long, value_name = "FILE")]
    smt2: Option<PathBuf>,
    /// Also write the JSON certificate to FILE (atomically).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Overwrite existing --smt2/--out files. By default existing files are kept and the command fails.
    #[arg(long)]
    force: bool,
    /// Seed of the Lipschitz lower-bound search. By default 0.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

/// Loads and checks a spec; weights paths are resolved relative to the spec file.
pub fn load_spec(path: &std::path::Path) -> Result<Spec> {
    let text = read_spec_text(path)?;
    let base = path.parent().map(|p| p.to_path_buf()).unwrap_or_default();
    let loader = move |rel: &str| read_named_file(&base.join(rel));
    Spec::from_toml(&text, &loader).with_context(|| format!("{}", path.display()))
}

/// Largest spec or named file read (a 64-1024-1024-32 weights file is ≈ 25 MB).
pub const MAX_SPEC_FILE_BYTES: u64 = 64 << 20;

/// Reads a file a spec names, refusing what is not a regular file (a FIFO
/// would block for ever, `/dev/zero` never ends) or is over the size cap.
pub fn read_named_file(path: &std::path::Path) -> std::result::Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!(
            "{}: not a regular file (allowed: a file, not a device, FIFO or directory)",
            path.display()
        ));
    }
    if meta.len() > MAX_SPEC_FILE_BYTES {
        return Err(format!(
            "{}: {} bytes, allowed at most {MAX_SPEC_FILE_BYTES}",
            path.display(),
            meta.len()
        ));
    }
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The text of a spec file, with the checks of [`read_named_file`].
pub fn read_spec_text(path: &std::path::Path) -> Result<String> {
    read_named_file(path).map_err(|e| anyhow::anyhow!("cannot read spec {e}"))
}

/// Runs the command; returns the exit code.
pub fn run(args: &CertifyArgs) -> Result<u8> {
    let spec = load_spec(&args.spec)?;
    for p in [&args.smt2, &args.out].into_iter().flatten() {
        if p.exists() && !args.force {
            anyhow::bail!(
                "{} already exists; pass --force to overwrite it",
                p.display()
            );
        }
    }
    let (cert, smt2) = certify(
        &spec,
        CertifyOptions {
            seed: args.seed,
            smt_for_points: args.smt2.is_some(),
        },
    );
    let json = serde_json::to_string_pretty(&cert)?;
    if let Some(path) = &args.smt2 {
        let header = format!(
            "; esai certify {} — z3 queries (SMT-LIB 2).\n; Each block asserts a violation of one condition over the region;\n; unsat proves the condition everywhere in it.\n\n",
            args.spec.display()
        );
        write_atomic(path, (header + &smt2).as_bytes(), args.force)?;
    }
    if let Some(path) = &args.out {
        write_atomic(path, json.as_bytes(), args.force)?;
    }
    if args.json {
        println!("{json}");
    } else {
        print!("{}", human(&args.spec.display().to_string(), &cert));
    }
    Ok(cert.verdict.exit_code() as u8)
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{v:.6}"))
}

fn human(path: &str, c: &Certificate) -> String {
    let mut s = String::new();
    let sp = &c.spec;
    let range = |r: [f64; 2]| {
        if r[0] == r[1] {
            format!("{}", r[0])
        } else {
            format!("[{}, {}]", r[0], r[1])
        }
    };
    let _ = writeln!(s, "esai certify {path}");
    let _ = writeln!(
        s,
        "  graph      {} agents, {} edges ({}), laplacian {}{}",
        sp.agents,
        sp.edges,
        sp.graph,
        sp.laplacian,
        if sp.similarity {
            ", weights × learned similarity β ∈ [0, 1] (bounds hold for every β)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "  dynamics   γ_E = {}, α = {}{}",
        range(sp.gamma_e),
        range(sp.alpha),
        if sp.region { "  (region)" } else { "" }
    );
    let _ = writeln!(s, "  g_φ        {}", sp.update);
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "  ‖M‖₂       ∈ [{:.9}, {:.9}]  {}",
        c.spectral_norm.lower, c.spectral_norm.upper, c.spectral_norm.method
    );
    let _ = writeln!(
        s,
        "  ‖M‖∞       ∈ [{:.9}, {:.9}]",
        c.inf_norm.lower, c.inf_norm.upper
    );
    let _ = writeln!(
        s,
        "  A.2 form   {:.9}  ({})",
        c.a2_closed_form.value, c.a2_closed_form.note
    );
    let l = &c.lipschitz;
    let _ = writeln!(
        s,
        "  L_g        ∈ [{:.6}, {:.6}]  {}",
        l.lower, l.upper, l.method
    );
    if let Some(p) = l.product_bound {
        let _ = writeln!(s, "             product bound {p:.6}, gap {:.6}", l.gap);
    }
    let _ = writeln!(s, "  L_E        ≤ {:.6}", l.e_block_upper);
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "  {:<24} {:<6} {:>12} {:>12} {:>6} {:>12}",
        "check", "holds", "lower", "value", "limit", "margin"
    );
    for ch in &c.checks {
        let holds = match ch.holds {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "?",
        };
        let _ = writeln!(
            s,
            "  {:<24} {:<6} {:>12} {:>12} {:>6} {:>12}",
            ch.name,
            holds,
            fmt_opt(ch.value_lower),
            fmt_opt(ch.value),
            ch.limit,
            fmt_opt(ch.margin)
        );
    }
    let _ = writeln!(s);
    let b = &c.bounds;
    let _ = writeln!(
        s,
        "  IAE bound  max_i ‖E_i,t‖ ≤ {}{}",
        fmt_opt(b.iae_norm),
        b.iae_source
            .as_ref()
            .map_or(String::new(), |x| format!("  (from {x})"))
    );
    let _ = writeln!(s, "  Hebbian    ‖H_t‖_F ≤ {}", fmt_opt(b.hebbian_norm));
    if b.iae_norm.is_none() {
        let _ = writeln!(
            s,
            "             (no numeric bound: declare update.zero_output_norm or give weights)"
        );
    }
    if let Some(a) = &c.alpha_max {
        let show = |x: &Option<esai_verify::synth::AlphaSup>| {
            x.as_ref()
                .map_or("—".into(), |x| format!("{:.6}", x.verified))
        };
        let _ = writeln!(
            s,
            "  α_max      max_norm {}, frobenius {}, proposition1 {}  (kernel-verified)",
            show(&a.max_norm),
            show(&a.frobenius),
            show(&a.proposition1)
        );
    }
    if let Some(r) = &c.robust_point {
        let _ = writeln!(
            s,
            "  robust     (γ_E, α) = ({:.4}, {:.4}), radius {:.4}, verified {}",
            r.gamma_e, r.alpha, r.radius, r.verified
        );
    }
    let z: Vec<String> = c
        .smt
        .iter()
        .map(|q| format!("{} {}", q.name, q.result))
        .collect();
    if !z.is_empty() {
        let _ = writeln!(s, "  z3         {}", z.join(", "));
    }
    if let Some(cx) = &c.counterexample {
        let _ = writeln!(
            s,
            "  counterexample  γ_E = {}, α = {}, L_g = {}, L_E = {}{}",
            cx.gamma_e,
            cx.alpha,
            cx.lipschitz,
            cx.e_lipschitz,
            if cx.confirmed {
                " (confirmed by the kernel)"
            } else {
                " (z3 candidate, not confirmed)"
            }
        );
    }
    let word = match c.verdict {
        Verdict::Certified => "CERTIFIED",
        Verdict::Violated => "VIOLATED",
        Verdict::Unknown => "UNKNOWN",
    };
    let _ = writeln!(
        s,
        "\nverdict: {word} — {}  ({:.1} ms)",
        c.reason, c.elapsed_ms
    );
    s
}
