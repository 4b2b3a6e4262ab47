//! cvc5 as a second, independent solver beside z3.
//!
//! z3 decides the region queries (`smt.rs`) and the `proofs/*.smt2`
//! obligations; this module re-decides the same SMT-LIB text with the
//! `cvc5` binary, run as a subprocess (no library link, so no new build
//! dependency, and a crash in cvc5 cannot take the certifier down).
//!
//! Neither solver is trusted. Two independent implementations giving the
//! same answer is stronger evidence than one, and a disagreement shows that
//! one of them (or the text they were given) is wrong: [`disagreement`]
//! reports it, and the caller then treats the query as unknown, which never
//! certifies. When cvc5 does not decide (not installed, crashed, timed out,
//! answered `unknown` or something unreadable) z3's answer stands alone, as
//! before cvc5 was added, and the reason is recorded.
//!
//! Which binary: [`Cvc5::Auto`] runs the one named by the environment
//! variable `ESAI_CVC5` (a path, or a name looked up on `PATH`), else `cvc5`
//! on `PATH`. Tested against Debian 12's cvc5 1.0.3.

use crate::smt::QueryOutcome;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Environment variable naming the cvc5 binary for [`Cvc5::Auto`].
pub const ENV_VAR: &str = "ESAI_CVC5";

/// Which cvc5 to run, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Cvc5 {
    /// `$ESAI_CVC5` when set and non-empty, else `cvc5` on `PATH`; a missing
    /// binary is reported per query as "not available". The default.
    #[default]
    Auto,
    /// This binary (a path, or a name looked up on `PATH`).
    Binary(PathBuf),
    /// Do not run cvc5: z3 alone decides, and the certificate says so.
    Off,
}

impl Cvc5 {
    /// The program to start, or `None` when cross-checking is off.
    fn program(&self) -> Option<OsString> {
        match self {
            Self::Off => None,
            Self::Binary(p) => Some(p.clone().into_os_string()),
            Self::Auto => Some(
                std::env::var_os(ENV_VAR)
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| "cvc5".into()),
            ),
        }
    }
}

/// A decided answer of cvc5 to one `(check-sat)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// The assertions are satisfiable.
    Sat,
    /// The assertions are unsatisfiable.
    Unsat,
    /// cvc5 gave up (its own time limit or incompleteness).
    Unknown,
}

impl Answer {
    /// `sat`, `unsat` or `unknown`, as SMT-LIB prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sat => "sat",
            Self::Unsat => "unsat",
            Self::Unknown => "unknown",
        }
    }
}

/// Why cvc5 gave no answer. Never an answer: z3's stands alone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotDecided {
    /// Cross-checking was not asked for (or does not apply).
    #[error("not run: {0}")]
    NotRun(String),
    /// The binary could not be started (not installed, not executable).
    #[error("not available: {program}: {error}")]
    NotAvailable {
        /// What was started.
        program: String,
        /// The operating system's reason.
        error: String,
    },
    /// No answer within the time limit plus a grace period; the process was killed.
    #[error("not decided: no answer within {ms} ms, killed")]
    TimedOut {
        /// Milliseconds waited.
        ms: u64,
    },
    /// cvc5 exited unsuccessfully (a parse error, a crash, a signal).
    #[error("not decided: cvc5 failed ({status}): {message}")]
    Failed {
        /// Exit status as printed by the OS.
        status: String,
        /// First line of its error output (or of its standard output).
        message: String,
    },
    /// cvc5 exited normally but did not print exactly one of `sat`,
    /// `unsat`, `unknown`.
    #[error("not decided: unexpected output {output:?}")]
    Unparsed {
        /// What it printed (trimmed, at most 200 characters).
        output: String,
    },
}

/// Extra time beyond cvc5's own per-query limit before the process is
/// killed: startup, parsing, and cvc5 overrunning `--tlimit-per`.
const GRACE_MS: u64 = 2_000;

/// Runs cvc5 on one SMT-LIB 2 script (which must contain exactly one
/// `(check-sat)`), with `timeout_ms` as its per-query limit.
///
/// Flags: `--lang smt2` (read the script from standard input) and
/// `--tlimit-per=MS` (the same per-query limit z3 gets). Any other option
/// belongs in the script (`(set-option …)` before `(set-logic …)`), so the
/// text sent is the whole record of what was asked.
pub fn check(cvc5: &Cvc5, script: &str, timeout_ms: u64) -> Result<Answer, NotDecided> {
    let Some(program) = cvc5.program() else {
        return Err(NotDecided::NotRun("cross-check with cvc5 is off".into()));
    };
    let shown = program.to_string_lossy().into_owned();
    let mut child = Command::new(&program)
        .args(["--lang", "smt2"])
        .arg(format!("--tlimit-per={timeout_ms}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| NotDecided::NotAvailable {
            program: shown.clone(),
            error: if e.kind() == std::io::ErrorKind::NotFound {
                format!("not found (install cvc5 or set {ENV_VAR} to its path)")
            } else {
                e.to_string()
            },
        })?;
    // Feed stdin and drain stdout/stderr on their own threads, so neither
    // side can block on a full pipe while we wait with a deadline.
    let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let text = script.to_owned();
    let feeder = std::thread::spawn(move || {
        if let Some(mut s) = stdin {
            // A solver that exits early closes the pipe: its answer (or
            // failure) is what counts, not this write.
            let _ = s.write_all(text.as_bytes());
        }
    });
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = drain(stdout.map(|s| Box::new(s) as Box<dyn Read + Send>));
    let err = drain(stderr.map(|s| Box::new(s) as Box<dyn Read + Send>));
    let limit_ms = timeout_ms.saturating_add(GRACE_MS);
    let deadline = Instant::now() + Duration::from_millis(limit_ms);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(NotDecided::Failed {
                    status: "wait failed".into(),
                    message: e.to_string(),
                });
            }
        }
    };
    // After a kill the reader threads are left to finish on their own (a
    // grandchild could still hold a pipe open); nothing they read matters.
    let Some(status) = status else {
        return Err(NotDecided::TimedOut { ms: limit_ms });
    };
    // The child has exited, so its pipes close and the threads end; a
    // panicked thread is read as empty output, which is never an answer.
    let _ = feeder.join();
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if !status.success() {
        let first = |s: &str| s.lines().find(|l| !l.trim().is_empty()).map(str::to_owned);
        return Err(NotDecided::Failed {
            status: status.to_string(),
            message: first(&stderr)
                .or_else(|| first(&stdout))
                .unwrap_or_else(|| "no output".into()),
        });
    }
    parse(&stdout)
}

/// [`check`] on every script, all at once (one cvc5 process each; the
/// queries are independent), answers in the scripts' order.
pub fn check_all(
    cvc5: &Cvc5,
    scripts: &[String],
    timeout_ms: u64,
) -> Vec<Result<Answer, NotDecided>> {
    std::thread::scope(|s| {
        let runs: Vec<_> = scripts
            .iter()
            .map(|q| s.spawn(move || check(cvc5, q, timeout_ms)))
            .collect();
        runs.into_iter()
            .map(|r| {
                r.join().unwrap_or_else(|_| {
                    Err(NotDecided::Failed {
                        status: "not started".into(),
                        message: "the thread running cvc5 panicked".into(),
                    })
                })
            })
            .collect()
    })
}

/// Reads cvc5's standard output for a script with one `(check-sat)`:
/// exactly one non-empty line, `sat`, `unsat` or `unknown`. Anything else
/// (an `(error …)` line, two answers, nothing) is no answer.
fn parse(stdout: &str) -> Result<Answer, NotDecided> {
    let lines: Vec<&str> = stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    match lines.as_slice() {
        ["sat"] => Ok(Answer::Sat),
        ["unsat"] => Ok(Answer::Unsat),
        ["unknown"] => Ok(Answer::Unknown),
        _ => Err(NotDecided::Unparsed {
            output: stdout.trim().chars().take(200).collect(),
        }),
    }
}

/// z3 and cvc5 both decided one query and disagree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("z3 and cvc5 disagree (z3: {z3}, cvc5: {cvc5})")]
pub struct Disagreement {
    /// z3's answer.
    pub z3: &'static str,
    /// cvc5's answer.
    pub cvc5: &'static str,
}

/// The disagreement between z3's outcome and cvc5's answer, if both decided
/// (`sat` or `unsat`) and differ. An `unknown` or an undecided cvc5 run is
/// no disagreement: z3's answer then stands alone.
pub fn disagreement(z3: &QueryOutcome, cvc5: &Result<Answer, NotDecided>) -> Option<Disagreement> {
    let z3 = match z3 {
        QueryOutcome::Unsat => Answer::Unsat,
        QueryOutcome::Sat(_) => Answer::Sat,
        QueryOutcome::Unknown(_) => return None,
    };
    match cvc5 {
        Ok(c @ (Answer::Sat | Answer::Unsat)) if *c != z3 => Some(Disagreement {
            z3: z3.as_str(),
            cvc5: c.as_str(),
        }),
        _ => None,
    }
}

/// How a cvc5 run is recorded in the certificate's `smt[].cvc5` field:
/// `unsat`, `sat`, `unknown`, or `not run: …` / `not available: …` /
/// `not decided: …` with the reason.
pub fn record(cvc5: &Result<Answer, NotDecided>) -> String {
    match cvc5 {
        Ok(a) => a.as_str().into(),
        Err(e) => e.to_string(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::smt::CounterPoint;
    use num_rational::BigRational;

    fn sat() -> QueryOutcome {
        let z = BigRational::from_integer(0.into());
        QueryOutcome::Sat(Box::new(CounterPoint {
            gamma: z.clone(),
            alpha: z.clone(),
            l_g: z.clone(),
            l_e: z,
        }))
    }

    fn check_disagreement(z3: QueryOutcome, cvc5: Result<Answer, NotDecided>, want: Option<&str>) {
        let got = disagreement(&z3, &cvc5).map(|d| d.to_string());
        assert_eq!(got.as_deref(), want, "z3 {z3:?}, cvc5 {cvc5:?}");
    }

    #[test]
    fn only_two_decided_different_answers_disagree() {
        let missing = || {
            Err(NotDecided::NotAvailable {
                program: "cvc5".into(),
                error: "not found".into(),
            })
        };
        check_disagreement(
            QueryOutcome::Unsat,
            Ok(Answer::Sat),
            Some("z3 and cvc5 disagree (z3: unsat, cvc5: sat)"),
        );
        check_disagreement(
            sat(),
            Ok(Answer::Unsat),
            Some("z3 and cvc5 disagree (z3: sat, cvc5: unsat)"),
        );
        check_disagreement(QueryOutcome::Unsat, Ok(Answer::Unsat), None);
        check_disagreement(sat(), Ok(Answer::Sat), None);
        check_disagreement(QueryOutcome::Unsat, Ok(Answer::Unknown), None);
        check_disagreement(QueryOutcome::Unsat, missing(), None);
        check_disagreement(
            QueryOutcome::Unknown("timeout".into()),
            Ok(Answer::Sat),
            None,
        );
    }

    #[test]
    fn output_parses_to_one_answer_or_none() {
        assert_eq!(parse("unsat\n"), Ok(Answer::Unsat));
        assert_eq!(parse("sat\n"), Ok(Answer::Sat));
        assert_eq!(parse("\nunknown\n"), Ok(Answer::Unknown));
        for bad in [
            "",
            "sat\nunsat\n",
            "(error \"parse error\")\n",
            "unsatisfiable",
        ] {
            assert!(
                matches!(parse(bad), Err(NotDecided::Unparsed { .. })),
                "{bad:?}"
            );
        }
    }

    /// The real cvc5 ([`Cvc5::Auto`]) if it runs; otherwise `None` and a
    /// note, or a failure when `ESAI_REQUIRE_CVC5` is set (`.ci/run` sets
    /// it, so CI cannot skip the checks that need cvc5).
    pub(crate) fn real_cvc5() -> Option<Cvc5> {
        match check(&Cvc5::Auto, "(set-logic QF_LRA)(check-sat)\n", 10_000) {
            Ok(Answer::Sat) => Some(Cvc5::Auto),
            other => {
                assert!(
                    std::env::var_os("ESAI_REQUIRE_CVC5").is_none(),
                    "ESAI_REQUIRE_CVC5 is set but cvc5 does not run: {other:?}"
                );
                eprintln!("cvc5 does not run ({other:?}): checks against the real cvc5 skipped");
                None
            }
        }
    }

    /// cvc5 parses the region queries exactly as z3 got them (both spectral
    /// models) and gives z3's answers: `unsat` on a certified box, `sat`
    /// where α is too large.
    #[test]
    fn real_cvc5_agrees_with_z3_on_region_queries() {
        use crate::smt::{run_queries, RatRange, RegionProblem, SpectralModel};
        let Some(cvc5) = real_cvc5() else { return };
        let q = |n: i64, d: i64| BigRational::new(n.into(), d.into());
        let problem = |alpha_hi: f64, spectral: SpectralModel| RegionProblem {
            gamma: RatRange::exact(0.8, 0.9).expect("finite"),
            alpha: RatRange::exact(0.0, alpha_hi).expect("finite"),
            l_g: RatRange::exact(0.01, 0.05).expect("finite"),
            l_e: RatRange::exact(0.01, 0.05).expect("finite"),
            row_profiles: vec![(q(0, 1), q(0, 1)), (q(1, 1), q(1, 1))],
            spectral,
        };
        // Corners (γ, α, s ≥ ‖γI − αL‖₂) of a row Laplacian with ‖L‖₂ ≤ 1.1.
        let corners = |a: f64| {
            let a = BigRational::from_float(a).expect("finite");
            SpectralModel::Corners(vec![
                (q(4, 5), q(0, 1), q(4, 5)),
                (q(4, 5), a.clone(), q(4, 5) + a.clone() * q(11, 10)),
                (q(9, 10), q(0, 1), q(9, 10)),
                (q(9, 10), a.clone(), q(9, 10) + a * q(11, 10)),
            ])
        };
        let symmetric = || SpectralModel::Symmetric { lambda_hi: q(2, 1) };
        for (alpha_hi, spectral, want) in [
            (0.02, symmetric(), Answer::Unsat),
            (0.02, corners(0.02), Answer::Unsat),
            (0.99, symmetric(), Answer::Sat),
            (0.99, corners(0.99), Answer::Sat),
        ] {
            let queries = run_queries(&problem(alpha_hi, spectral), 10_000);
            let answers = check_all(&cvc5, &queries.scripts, 10_000);
            for (z3, c) in queries.outcomes.iter().zip(&answers) {
                assert_eq!(disagreement(z3, c), None, "{queries:?}");
            }
            assert_eq!(answers[3], Ok(want), "any_sufficient, α ≤ {alpha_hi}");
        }
    }

    /// A shell script standing in for cvc5, in a fresh directory.
    #[cfg(unix)]
    pub(crate) fn fake(name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let dir =
            std::env::temp_dir().join(format!("esai-fake-cvc5-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir is writable");
        let path = dir.join("cvc5");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write fake solver");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("chmod fake solver");
        path
    }

    #[cfg(unix)]
    #[test]
    fn every_failure_of_the_binary_is_not_decided_with_its_reason() {
        let run = |name: &str, body: &str, ms: u64| {
            check(&Cvc5::Binary(fake(name, body)), "(check-sat)\n", ms)
        };
        assert_eq!(
            run("sat", "cat >/dev/null; echo sat", 1000),
            Ok(Answer::Sat)
        );
        assert!(matches!(
            run("crash", "echo 'Segmentation fault' >&2; exit 139", 1000),
            Err(NotDecided::Failed { message, .. }) if message.contains("Segmentation")
        ));
        assert!(matches!(
            run("garbage", "echo 'maybe'", 1000),
            Err(NotDecided::Unparsed { output }) if output == "maybe"
        ));
        // Ignores its time limit: killed after it plus the grace period.
        let start = Instant::now();
        assert_eq!(
            run("hang", "exec sleep 30", 1),
            Err(NotDecided::TimedOut { ms: 1 + GRACE_MS })
        );
        assert!(start.elapsed() < Duration::from_secs(10));
        let missing = check(
            &Cvc5::Binary("/nonexistent/esai-no-such-cvc5".into()),
            "(check-sat)\n",
            1000,
        );
        assert!(
            matches!(&missing, Err(NotDecided::NotAvailable { error, .. }) if error.contains("not found")),
            "{missing:?}"
        );
        assert!(record(&missing).starts_with("not available: "));
        assert_eq!(
            check(&Cvc5::Off, "(check-sat)\n", 1000),
            Err(NotDecided::NotRun("cross-check with cvc5 is off".into()))
        );
    }
}
