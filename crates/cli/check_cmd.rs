//! `esai check PATH…`: stability invariants as regression tests. Every spec
//! is certified and its certificate held to an expectation (a sidecar
//! `NAME.expect.toml`, an in-spec `[expect]` table, or the corpus folder it
//! sits in), and optionally to certificates saved by an earlier commit.
//!
//! The comparisons are `esai_verify::expect`'s; this file finds the specs,
//! reads and writes files, and leaves rendering to [`crate::check_render`].

use crate::certify_cmd::{load_spec, read_spec_text};
use crate::check_render::{self, Blessed, SpecResult};
use crate::output::{
    check_destination, problems_error, read_text, write_atomic, IoFailure, MAX_SPEC_BYTES,
};
use anyhow::{bail, Context, Result};
use clap::Args;
use esai_verify::certify::{certify, CertifyOptions};
use esai_verify::expect::observed::Observed;
use esai_verify::expect::{Expectation, ExpectedVerdict};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Arguments of `esai check`.
#[derive(Args)]
pub struct CheckArgs {
    /// Spec files and directories. A directory stands for every `*.toml` in
    /// it, recursively and sorted, except sidecars (`*.expect.toml`) and
    /// sweep files (those with a `[sweep]` table).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Rewrite the expectations from the current certificates (snapshot
    /// style), printing every file changed and how: an in-spec `[expect]`
    /// table is replaced in place, otherwise `NAME.expect.toml` is written.
    #[arg(long)]
    bless: bool,
    /// Also write a JUnit XML report to FILE: one test case per spec and condition.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Print the report as JSON (schema esai.check/v1) instead of a table.
    #[arg(long)]
    json: bool,
    /// Compare with certificates saved earlier in DIR (`NAME.json`, as
    /// `esai certify --json` prints them): a verdict that got worse or a
    /// margin that fell by more than --tolerance fails. A spec without a
    /// saved certificate is skipped there.
    #[arg(long, value_name = "DIR")]
    baseline: Option<PathBuf>,
    /// Write every spec's certificate to DIR/NAME.json for a later --baseline
    /// (DIR is created if needed).
    #[arg(long, value_name = "DIR")]
    save_baseline: Option<PathBuf>,
    /// Largest absolute fall of a margin against --baseline that is not a
    /// regression. By default 1e-6.
    #[arg(long, default_value_t = 1e-6, value_name = "T")]
    tolerance: f64,
    /// Overwrite an existing --junit file or saved certificates. By default
    /// existing files are kept and the command fails (--bless always
    /// rewrites expectations, and says so).
    #[arg(long)]
    force: bool,
}

/// One spec to check, with everything read before any certificate is computed.
struct Case {
    path: PathBuf,
    /// Name under a baseline directory: the path below the directory
    /// argument (or the file name), with `.json` for `.toml`.
    baseline_name: PathBuf,
    source: Source,
    expectation: Option<Expectation>,
    baseline: Option<Observed>,
}

/// Where a spec's expectation comes from.
#[derive(Clone)]
enum Source {
    Sidecar(PathBuf),
    InSpec,
    /// `tests/should_certify` or `tests/should_reject`.
    Folder(&'static str),
    /// None (allowed with --baseline, or before a --bless).
    Missing,
}

impl Source {
    fn describe(&self) -> String {
        match self {
            Self::Sidecar(p) => format!("sidecar {}", p.display()),
            Self::InSpec => "[expect] in the spec".into(),
            Self::Folder(f) => format!("folder {f}"),
            Self::Missing => "none".into(),
        }
    }
}

/// Runs the command; returns the exit code (0 every expectation holds, 1 one fails).
pub fn run(args: &CheckArgs) -> Result<u8> {
    if !(args.tolerance.is_finite() && args.tolerance >= 0.0) {
        bail!(
            "--tolerance = {}: allowed a finite number ≥ 0 (an absolute margin)",
            args.tolerance
        );
    }
    if let Some(j) = &args.junit {
        check_destination(j, args.force)?;
    }
    let specs = discover(&args.paths)?;
    let cases = prepare(args, specs)?;
    let mut results = Vec::new();
    let mut blessed = Vec::new();
    let mut certificates = Vec::new();
    for case in &cases {
        let (result, cert) = check_one(args, case, &mut blessed)?;
        results.push(result);
        certificates.push(cert);
    }
    if let Some(dir) = &args.save_baseline {
        save_baseline(dir, &cases, &certificates, args.force)?;
    }
    let report = check_render::Report {
        results: &results,
        blessed: &blessed,
        baseline: args.baseline.as_deref(),
        tolerance: args.tolerance,
    };
    if let Some(j) = &args.junit {
        write_atomic(j, check_render::junit(&report).as_bytes(), args.force)?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&check_render::json(&report))?
        );
    } else {
        print!("{}", check_render::human(&report));
    }
    Ok(if report.passed() { 0 } else { 1 })
}

/// Certifies one spec and compares; with --bless, rewrites its expectation
/// first. Returns the result and the certificate JSON (None if the spec
/// could not be certified). Only a file-system failure is an `Err`.
fn check_one(
    args: &CheckArgs,
    case: &Case,
    blessed: &mut Vec<Blessed>,
) -> Result<(SpecResult, Option<String>)> {
    let start = Instant::now();
    let mut result = SpecResult {
        spec: case.path.display().to_string(),
        expectation: case.source.describe(),
        verdict: None,
        error: None,
        outcomes: Vec::new(),
        skipped: Vec::new(),
        seconds: 0.0,
    };
    let spec = match load_spec(&case.path) {
        Ok(s) => s,
        Err(e) if e.chain().any(|c| c.is::<IoFailure>()) => return Err(e),
        Err(e) => {
            result.error = Some(format!("{e:#}"));
            result.seconds = start.elapsed().as_secs_f64();
            return Ok((result, None));
        }
    };
    let (cert, _) = certify(&spec, CertifyOptions::default());
    let seen = Observed::from_certificate(&cert);
    result.verdict = Some(cert.verdict);
    let expectation = if args.bless {
        let (new, note) = bless(case, &seen)?;
        result.expectation = match case.source {
            Source::InSpec => Source::InSpec.describe(),
            _ => Source::Sidecar(sidecar_of(&case.path)).describe(),
        };
        blessed.push(note);
        Some(new)
    } else {
        case.expectation.clone()
    };
    if let Some(e) = &expectation {
        result.outcomes = e.compare(&seen);
    }
    if args.baseline.is_some() {
        match &case.baseline {
            Some(old) => result
                .outcomes
                .extend(seen.regressions_from(old, args.tolerance)),
            None => result.skipped.push((
                "baseline".into(),
                format!("no saved certificate {}", case.baseline_name.display()),
            )),
        }
    }
    result.seconds = start.elapsed().as_secs_f64();
    Ok((result, Some(serde_json::to_string_pretty(&cert)?)))
}

/// The spec files named by `paths`, each with its baseline name. A path
/// that does not exist, an expectation file given as a spec, two specs with
/// one baseline name, or no spec at all is invalid input (exit 2).
fn discover(paths: &[PathBuf]) -> Result<Vec<(PathBuf, PathBuf)>> {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        if p.is_dir() {
            let before = found.len();
            walk(p, p, &mut found)?;
            if found.len() == before {
                problems.push(format!(
                    "{}: no *.toml specs in this directory (sidecars and sweep files are skipped)",
                    p.display()
                ));
            }
        } else if !p.exists() {
            problems.push(format!(
                "{}: no such file or directory; allowed a spec file or a directory of specs",
                p.display()
            ));
        } else if is_sidecar(p) {
            problems.push(format!(
                "{}: an expectation file; allowed the spec it belongs to ({})",
                p.display(),
                spec_of_sidecar(p).display()
            ));
        } else {
            let name = PathBuf::from(p.file_name().unwrap_or_default()).with_extension("json");
            found.push((p.clone(), name));
        }
    }
    let mut names: Vec<(&PathBuf, &PathBuf)> = found.iter().map(|(p, n)| (n, p)).collect();
    names.sort();
    for w in names.windows(2) {
        if w[0].0 == w[1].0 {
            problems.push(format!(
                "{} and {} share the baseline name {}; allowed specs with distinct names",
                w[0].1.display(),
                w[1].1.display(),
                w[0].0.display()
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems_error("no specs to check", &problems));
    }
    Ok(found)
}

/// Adds every spec below `dir` (sorted, recursively) to `found`.
fn walk(root: &Path, dir: &Path, found: &mut Vec<(PathBuf, PathBuf)>) -> Result<()> {
    let fail = |e| IoFailure::new(format!("cannot list directory {}", dir.display()), e);
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(fail)? {
        entries.push(entry.map_err(fail)?.path());
    }
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(root, &path, found)?;
        } else if path.extension().is_some_and(|e| e == "toml")
            && !is_sidecar(&path)
            && !is_sweep(&path)?
        {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            found.push((path.clone(), rel.with_extension("json")));
        }
    }
    Ok(())
}

fn is_sidecar(p: &Path) -> bool {
    p.to_string_lossy().ends_with(".expect.toml")
}

/// `dir/NAME.toml` for `dir/NAME.expect.toml`.
fn spec_of_sidecar(p: &Path) -> PathBuf {
    PathBuf::from(p.to_string_lossy().replace(".expect.toml", ".toml"))
}

/// `dir/NAME.expect.toml` for `dir/NAME.toml`.
fn sidecar_of(spec: &Path) -> PathBuf {
    spec.with_extension("expect.toml")
}

/// A sweep file (`esai sweep`'s, with a `[sweep]` table) is not a spec.
fn is_sweep(p: &Path) -> Result<bool> {
    let text = read_spec_text(p)?;
    Ok(toml::from_str::<toml::Table>(&text).is_ok_and(|t| t.contains_key("sweep")))
}

/// Reads every expectation and baseline certificate, reporting all bad
/// ones at once (exit 2) before any spec is certified.
fn prepare(args: &CheckArgs, specs: Vec<(PathBuf, PathBuf)>) -> Result<Vec<Case>> {
    let mut problems = Vec::new();
    let mut cases = Vec::new();
    for (path, baseline_name) in specs {
        let (source, expectation) = expectation_of(&path, &mut problems)?;
        let excused = args.bless || args.baseline.is_some();
        if matches!(source, Source::Missing) && !excused && !spec_is_unreadable_toml(&path)? {
            problems.push(format!(
                "{}: no expectation; allowed a sidecar {}, an [expect] table in the spec, \
                 a should_certify/should_reject folder, or --bless to write one",
                path.display(),
                sidecar_of(&path).display()
            ));
        }
        let baseline = match &args.baseline {
            Some(dir) => read_baseline(&dir.join(&baseline_name), &mut problems)?,
            None => None,
        };
        cases.push(Case {
            path,
            baseline_name,
            source,
            expectation,
            baseline,
        });
    }
    if !problems.is_empty() {
        let n = problems.len();
        let plural = if n == 1 { "" } else { "s" };
        return Err(problems_error(
            format!("invalid expectations ({n} problem{plural})"),
            &problems,
        ));
    }
    Ok(cases)
}

/// A spec whose TOML does not parse cannot carry an `[expect]` table; it
/// is reported as a failed test case, not as a missing expectation.
fn spec_is_unreadable_toml(path: &Path) -> Result<bool> {
    Ok(toml::from_str::<toml::Table>(&read_spec_text(path)?).is_err())
}

/// The expectation of one spec and where it comes from; problems go to
/// `problems`, each prefixed with the file that has them.
fn expectation_of(
    path: &Path,
    problems: &mut Vec<String>,
) -> Result<(Source, Option<Expectation>)> {
    let sidecar = sidecar_of(path);
    let in_spec = toml::from_str::<toml::Table>(&read_spec_text(path)?)
        .ok()
        .filter(|t| t.contains_key("expect"));
    if sidecar.exists() {
        if in_spec.is_some() {
            problems.push(format!(
                "{}: has an [expect] table and a sidecar {}; allowed one of them",
                path.display(),
                sidecar.display()
            ));
        }
        let text = read_text(&sidecar, "expectation", MAX_SPEC_BYTES)?;
        let table = match toml::from_str::<toml::Table>(&text) {
            Ok(t) => t,
            Err(e) => {
                problems.push(format!("{}: (toml) {}", sidecar.display(), e.message()));
                return Ok((Source::Sidecar(sidecar), None));
            }
        };
        for k in table.keys().filter(|k| *k != "expect") {
            problems.push(format!(
                "{}: {k}: unknown table; allowed only [expect]",
                sidecar.display()
            ));
        }
        let e = parse_expectation(&sidecar, &table, problems);
        return Ok((Source::Sidecar(sidecar), e));
    }
    if let Some(t) = in_spec {
        let e = parse_expectation(path, &t, problems);
        return Ok((Source::InSpec, e));
    }
    let folder = path
        .parent()
        .and_then(|d| d.file_name())
        .and_then(|n| n.to_str());
    Ok(match folder {
        Some("should_certify") => (
            Source::Folder("should_certify"),
            Some(Expectation::verdict_only(ExpectedVerdict::Is(
                esai_verify::certify::Verdict::Certified,
            ))),
        ),
        Some("should_reject") => (
            Source::Folder("should_reject"),
            Some(Expectation::verdict_only(ExpectedVerdict::NotCertified)),
        ),
        _ => (Source::Missing, None),
    })
}

/// The `[expect]` table of `table` (read from `file`); its problems go to
/// `problems`, prefixed with the file.
fn parse_expectation(
    file: &Path,
    table: &toml::Table,
    problems: &mut Vec<String>,
) -> Option<Expectation> {
    Expectation::from_table(table)
        .map_err(|err| {
            problems.extend(
                err.problems
                    .iter()
                    .map(|p| format!("{}: {p}", file.display())),
            )
        })
        .ok()
}

/// A saved certificate, if there is one; a file that is not one is a problem.
fn read_baseline(path: &Path, problems: &mut Vec<String>) -> Result<Option<Observed>> {
    if !path.exists() {
        return Ok(None);
    }
    let text = read_text(path, "baseline certificate", MAX_SPEC_BYTES)?;
    match serde_json::from_str::<Observed>(&text) {
        Ok(o) => Ok(Some(o)),
        Err(e) => {
            problems.push(format!(
                "{}: not a certificate ({e}); allowed the JSON of `esai certify --json`",
                path.display()
            ));
            Ok(None)
        }
    }
}

/// Writes the blessed expectation of `case` and says what changed. An
/// in-spec table is replaced in place (the rest of the file is kept as
/// written); otherwise the sidecar is created or rewritten.
fn bless(case: &Case, seen: &Observed) -> Result<(Expectation, Blessed)> {
    let new = Expectation::bless(seen);
    let changes = new.changes_from(case.expectation.as_ref());
    let (target, bytes, existed) = match &case.source {
        Source::InSpec => {
            let text = read_spec_text(&case.path)?;
            let mut doc: toml_edit::DocumentMut = text
                .parse()
                .with_context(|| format!("{}: cannot re-read for --bless", case.path.display()))?;
            // The old table (with its sub-tables) goes, the new one is
            // appended whole: inserting it in place would scatter its
            // sub-tables among the spec's, by their positions.
            doc.remove("expect");
            let kept = doc.to_string();
            let text = format!("{}\n\n{}", kept.trim_end(), new.to_toml());
            (case.path.clone(), text, true)
        }
        _ => {
            let sidecar = sidecar_of(&case.path);
            let existed = sidecar.exists();
            (sidecar, new.to_toml(), existed)
        }
    };
    let action = match (existed, changes.is_empty()) {
        (true, true) => "unchanged",
        (true, false) => "updated",
        (false, _) => "created",
    };
    if action != "unchanged" {
        write_atomic(&target, bytes.as_bytes(), true)?;
    }
    let note = Blessed {
        target: target.display().to_string(),
        action,
        changes,
    };
    Ok((new, note))
}

/// Writes each certified spec's certificate to `dir`/its baseline name,
/// after checking every destination (so a refusal writes none).
fn save_baseline(
    dir: &Path,
    cases: &[Case],
    certificates: &[Option<String>],
    force: bool,
) -> Result<()> {
    let mut writes = Vec::new();
    for (case, cert) in cases.iter().zip(certificates) {
        let Some(json) = cert else { continue };
        let dest = dir.join(&case.baseline_name);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                IoFailure::new(format!("cannot create directory {}", parent.display()), e)
            })?;
        }
        check_destination(&dest, force)?;
        writes.push((dest, json));
    }
    for (dest, json) in writes {
        write_atomic(&dest, json.as_bytes(), force)?;
        eprintln!("saved {}", dest.display());
    }
    Ok(())
}
