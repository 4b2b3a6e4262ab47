//! `esai`: the command-line interface of the ESAI toolkit.
//!
//! Only this crate knows clap, anyhow and output formats. Exit codes:
//! 0 certified (`check`: every expectation holds), 1 violated (`check`: an
//! expectation fails), 3 unknown, 2 invalid input or usage (a damaged
//! or edited run directory included), 5 a file-system failure, 6 the
//! directory is in use by another process (see [`output::IoFailure`] and
//! `esai_runs::RunError`); `train`: 4 halted by the
//! monitor, 130/143 stopped by SIGINT/SIGTERM.

mod audit_cmd;
mod bench_cmd;
mod certify_cmd;
mod check_cmd;
mod check_render;
mod evaluate_cmd;
mod monitor_cmd;
mod output;
mod report_cmd;
mod run_files;
mod sweep_cmd;
mod train_cmd;
mod train_open;
mod train_session;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// ESAI toolkit: certify, train and audit Embedded Safety-Aligned Intelligence agents.
#[derive(Parser)]
#[command(name = "esai", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Certify a hyperparameter configuration (or region) before training.
    ///
    /// Exit codes: 0 certified, 1 violated, 3 unknown, 2 invalid input, 5 I/O failure.
    Certify(certify_cmd::CertifyArgs),
    /// Check specs against their expected certificates (regression tests for
    /// stability invariants): files and directories of specs, each with a
    /// sidecar NAME.expect.toml, an in-spec `[expect]` table, or a
    /// should_certify/should_reject folder; optionally against certificates
    /// saved earlier (--baseline). JUnit XML with --junit, JSON with --json.
    ///
    /// Exit codes: 0 every expectation holds, 1 one fails (or a spec cannot
    /// be certified), 2 invalid input (a bad expectation table, a path that
    /// does not exist, no specs found), 5 I/O failure.
    Check(check_cmd::CheckArgs),
    /// Train ESAI or a baseline on the spec's environment, writing a run directory
    /// (config.toml, metrics.jsonl, checkpoints/, summary.json).
    Train(train_cmd::TrainArgs),
    /// Evaluate a trained run (greedy and stochastic policies), writing DIR/evaluation.json.
    Evaluate(evaluate_cmd::EvaluateArgs),
    /// Re-check a run directory (finished, halted or running) against the
    /// monitor's rules offline: metrics rows and every checkpoint's g_φ.
    ///
    /// Exit codes: 0 no halt-policy rule broken, 4 one is, 2 invalid input or a
    /// damaged run (missing, duplicated or renumbered metrics rows, a checkpoint
    /// that fails its manifest).
    Monitor(monitor_cmd::MonitorArgs),
    /// Run a grid of training runs (λ × methods × seeds × any spec key) in
    /// parallel processes, each certified first and monitored; resumable, shardable.
    ///
    /// Exit codes: 0 every point finished (done, uncertified or halted), 1 a
    /// point failed or was interrupted, 130 the sweep was interrupted, 2 invalid
    /// input, 6 another sweep holds the directory.
    Sweep(sweep_cmd::SweepArgs),
    /// Tables (Markdown, CSV, JSON) with mean and 95% CI per point, the λ
    /// transition and SVG figures of a sweep directory.
    Report(report_cmd::ReportArgs),
    /// Similarity–cooperation bias report of a trained multi-agent run
    /// (group × group rates, in/out-group gap, similarity slope, identity
    /// probe, fairness metrics with CIs), as Markdown, HTML or JSON.
    Audit(audit_cmd::AuditArgs),
    /// Measure training throughput at the reference configuration (monitor on):
    /// env-steps/s, time breakdown, FLOPs per step and achieved FLOP/s.
    Bench(bench_cmd::BenchArgs),
}

fn main() -> ExitCode {
    esai_train::prefer_single_threaded_gemm();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Certify(args) => certify_cmd::run(&args),
        Command::Check(args) => check_cmd::run(&args),
        Command::Train(args) => train_cmd::run(&args),
        Command::Evaluate(args) => evaluate_cmd::run(&args),
        Command::Monitor(args) => monitor_cmd::run(&args),
        Command::Sweep(args) => sweep_cmd::run(&args),
        Command::Report(args) => report_cmd::run(&args),
        Command::Audit(args) => audit_cmd::run(&args),
        Command::Bench(args) => bench_cmd::run(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(error_code(&e))
        }
    }
}

/// Exit code of a directory another process is writing (`esai train`,
/// `esai sweep`, `esai evaluate`): retry later.
pub const EXIT_BUSY: u8 = 6;
/// Exit code of a file-system failure (cannot read or write, disk full).
pub const EXIT_IO: u8 = 5;

/// The exit code of an error: busy, I/O, or invalid input (2).
fn error_code(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if let Some(r) = cause.downcast_ref::<esai_runs::RunError>() {
            return match r {
                esai_runs::RunError::Locked { .. } => EXIT_BUSY,
                esai_runs::RunError::Io { .. } => EXIT_IO,
                _ => 2,
            };
        }
        if cause.is::<output::IoFailure>() {
            return EXIT_IO;
        }
    }
    2
}
