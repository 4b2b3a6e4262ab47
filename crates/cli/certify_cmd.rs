//! `esai certify SPEC`.

use crate::output::{
    check_destination, read_text, write_atomic, MAX_SPEC_BYTES, MAX_WEIGHTS_BYTES,
};
use anyhow::{Context, Result};
use clap::Args;
use esai_core::spec::Spec;
use esai_verify::certify::{
    certify, decimal_lower, decimal_upper, Certificate, CertifyOptions, Verdict,
};
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
    /// Also write the z3 queries as SMT-LIB 2 to FILE, re-checkable with `z3 FILE`
    /// or `cvc5 --incremental --produce-models FILE`.
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
///
/// Both files are read only if regular and at most [`MAX_SPEC_BYTES`] /
/// [`MAX_WEIGHTS_BYTES`]. A spec that cannot be read is an I/O failure
/// (exit 5); a weights file that cannot be is one of the spec's problems
/// (exit 2, reported with the others), since the spec names it.
pub fn load_spec(path: &std::path::Path) -> Result<Spec> {
    let text = read_text(path, "spec", MAX_SPEC_BYTES)?;
    let base = path.parent().map(|p| p.to_path_buf()).unwrap_or_default();
    let loader = move |rel: &str| {
        read_text(&base.join(rel), "weights", MAX_WEIGHTS_BYTES).map_err(|e| e.to_string())
    };
    Spec::from_toml(&text, &loader).with_context(|| format!("{}", path.display()))
}

/// Reads a file a spec names (weights), with [`read_text`]'s checks.
pub fn read_named_file(path: &std::path::Path) -> std::result::Result<String, String> {
    read_text(path, "weights", MAX_WEIGHTS_BYTES).map_err(|e| e.to_string())
}

/// The text of a spec file, with [`read_text`]'s checks.
pub fn read_spec_text(path: &std::path::Path) -> Result<String> {
    Ok(read_text(path, "spec", MAX_SPEC_BYTES)?)
}

/// Runs the command; returns the exit code.
pub fn run(args: &CertifyArgs) -> Result<u8> {
    let spec = load_spec(&args.spec)?;
    // Every destination is checked before any is written, so a refused
    // --out never leaves a fresh --smt2 behind (or the reverse).
    let dests: Vec<&PathBuf> = [&args.smt2, &args.out].into_iter().flatten().collect();
    for p in &dests {
        check_destination(p, args.force)?;
    }
    if let [a, b] = dests.as_slice() {
        if a == b {
            anyhow::bail!(
                "--smt2 and --out are both {}: allowed two different files",
                a.display()
            );
        }
    }
    let (cert, smt2) = certify(
        &spec,
        CertifyOptions {
            seed: args.seed,
            smt_for_points: args.smt2.is_some(),
            ..CertifyOptions::default()
        },
    );
    let json = serde_json::to_string_pretty(&cert)?;
    if let Some(path) = &args.smt2 {
        let header = format!(
            "; esai certify {} — z3 queries (SMT-LIB 2).\n; Each block asserts a violation of one condition over the region;\n; unsat proves the condition everywhere in it.\n; Re-check: z3 FILE, or cvc5 --incremental --produce-models FILE.\n\n",
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

/// An upper bound, printed rounded up (never below the bound).
fn up6(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| decimal_upper(v, 6))
}

/// A lower bound (or a margin), printed rounded down.
fn down6(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| decimal_lower(v, 6))
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
    // Every bound is printed rounded outward: lower ends down, upper ends up.
    let _ = writeln!(
        s,
        "  ‖M‖₂       ∈ [{}, {}]  {}",
        decimal_lower(c.spectral_norm.lower, 9),
        decimal_upper(c.spectral_norm.upper, 9),
        c.spectral_norm.method
    );
    let _ = writeln!(
        s,
        "  ‖M‖∞       ∈ [{}, {}]",
        decimal_lower(c.inf_norm.lower, 9),
        decimal_upper(c.inf_norm.upper, 9)
    );
    let _ = writeln!(
        s,
        "  A.2 form   {}  ({})",
        decimal_upper(c.a2_closed_form.value, 9),
        c.a2_closed_form.note
    );
    let l = &c.lipschitz;
    let _ = writeln!(
        s,
        "  L_g        ∈ [{}, {}]  {}",
        decimal_lower(l.lower, 6),
        decimal_upper(l.upper, 6),
        l.method
    );
    if let Some(p) = l.product_bound {
        let _ = writeln!(
            s,
            "             product bound {}, gap {}",
            decimal_upper(p, 6),
            decimal_upper(l.gap, 6)
        );
    }
    let _ = writeln!(s, "  L_E        ≤ {}", decimal_upper(l.e_block_upper, 6));
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
            down6(ch.value_lower),
            up6(ch.value),
            ch.limit,
            down6(ch.margin)
        );
    }
    let _ = writeln!(s);
    let b = &c.bounds;
    let _ = writeln!(
        s,
        "  IAE bound  max_i ‖E_i,t‖ ≤ {}{}",
        up6(b.iae_norm),
        b.iae_source
            .as_ref()
            .map_or(String::new(), |x| format!("  (from {x})"))
    );
    let _ = writeln!(s, "  Hebbian    ‖H_t‖_F ≤ {}", up6(b.hebbian_norm));
    if b.iae_norm.is_none() {
        let _ = writeln!(
            s,
            "             (no numeric bound: declare update.zero_output_norm or give weights)"
        );
    }
    if let Some(a) = &c.alpha_max {
        // A verified α is safe as printed only rounded down.
        let show = |x: &Option<esai_verify::synth::AlphaSup>| match x {
            Some(x) if x.unbounded => "unbounded".into(),
            Some(x) => down6(x.verified),
            None => "—".into(),
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
        // One line for cvc5: its answers, or the one reason it gave none.
        let first = &c.smt[0].cvc5;
        let line = if first.starts_with("not ") && c.smt.iter().all(|q| &q.cvc5 == first) {
            first.clone()
        } else {
            c.smt
                .iter()
                .map(|q| format!("{} {}", q.name, q.cvc5))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(s, "  cvc5       {line}");
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
