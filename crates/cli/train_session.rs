//! Training a [`Session`]: the update loop with its checkpoints, a stop
//! (halt or signal) that keeps the last good state and writes the incident,
//! and the final write-out.

use crate::monitor_cmd::{write_incident, VerifyOracle, EXIT_HALTED};
use anyhow::{bail, Result};
use esai_monitor::incident::{Incident, INCIDENT_SCHEMA};
use esai_monitor::monitor::{Monitor, MonitorState};
use esai_monitor::rules::{Finding, Place, Rule};
use esai_runs::RunError;
use esai_train::ppo::UpdateMetrics;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::train_cmd::TrainArgs;
use crate::train_open::Session;

impl Session {
    /// Writes a sealed checkpoint: the trainer's files, the monitor state
    /// `state`, the metrics rows so far, and the manifest last.
    pub(crate) fn save_checkpoint(&self, dir: &Path, state: &MonitorState) -> Result<PathBuf> {
        let monitor = serde_json::to_vec(state)?;
        let rows = crate::train_open::rows_text(&self.rows);
        let hash = self.record.config_sha256.clone();
        let seal = move |tmp: &Path| {
            esai_runs::manifest::seal(tmp, &hash)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        self.trainer
            .save_checkpoint_sealed(
                dir,
                &[
                    ("monitor.json", &monitor),
                    ("metrics.jsonl", rows.as_bytes()),
                ],
                &seal,
            )
            .map_err(|e| anyhow::anyhow!(e))
    }

    /// Re-certifies the current g_φ before the first update. On a resume the
    /// check runs on a copy of the monitor: a checkpoint kept as last good
    /// may hold weights the monitor had not checked yet, but the check must
    /// not change the state the uninterrupted run would have had. Some
    /// finding when the check halts.
    fn recertify(&mut self, args: &TrainArgs) -> Option<Finding> {
        let g = self.trainer.g_phi()?;
        let done = self.trainer.updates_done();
        let at = if done == 0 {
            "before training"
        } else {
            "on resume"
        };
        let place = Place {
            update: done,
            at: at.into(),
            env_steps: 0,
        };
        if done == 0 {
            self.monitor.recertify(&place, &g);
            return self.monitor.clear_halt();
        }
        let mut probe = Monitor::new(
            self.monitor.config().clone(),
            self.basis.clone(),
            Box::new(VerifyOracle),
        )
        .with_state(self.monitor.state().clone());
        if args.no_monitor {
            probe = probe.without_rules();
        }
        probe.recertify(&place, &g);
        probe.clear_halt()
    }

    /// Saves the last good state (monitor state `kept`, as it was when the
    /// discarded update began, so a resume repeats exactly what the
    /// uninterrupted run would do), writes the incident report, returns the
    /// exit code.
    fn stop(&self, cause: Finding, discarded_update: usize, kept: &MonitorState) -> Result<u8> {
        let done = self.trainer.updates_done();
        let ck = self.run.checkpoint(done);
        // An intact checkpoint of this very state is kept as it is: rewriting
        // it would open a window in which neither copy exists.
        if self.run.verify_checkpoint(&ck, &self.record).is_err() {
            self.save_checkpoint(&ck, kept)?;
        }
        let interrupted = cause.rule == Rule::Interrupted;
        let exit_code = if interrupted {
            128 + cause.value.unwrap_or(0.0) as u8
        } else {
            EXIT_HALTED
        };
        let resume = format!("esai train --resume {}", self.run.path().display());
        let state = self.monitor.state();
        let tail = self.monitor.config().incident_rows;
        let incident = Incident {
            schema: INCIDENT_SCHEMA,
            kind: if interrupted { "interrupted" } else { "halted" }.into(),
            cause: cause.clone(),
            discarded_update,
            checkpoint: ck.display().to_string(),
            last_good_update: done,
            findings: state
                .findings
                .iter()
                .filter(|f| (f.rule, f.update, &f.at) != (cause.rule, cause.update, &cause.at))
                .cloned()
                .collect(),
            counts: state.counts.clone(),
            live_certificate: self.monitor.live().cloned(),
            basis: self.basis.clone(),
            last_metrics: self.rows[self.rows.len().saturating_sub(tail)..]
                .iter()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect(),
            resume: resume.clone(),
            exit_code,
        };
        write_incident(self.run.path(), &incident)?;
        eprintln!(
            "{} at update {} ({}): {}\nlast good state: {} ({done} updates); report: {}\nresume with: {resume}",
            if interrupted { "stopped" } else { "HALTED by the monitor" },
            cause.update,
            cause.at,
            cause.message,
            ck.display(),
            self.run.file("incident.md").display(),
        );
        Ok(exit_code)
    }

    /// Trains the remaining updates, checkpointing every `checkpoint_every`,
    /// at a pause and always after the last update; then finishes the run.
    pub(crate) fn train(&mut self, args: &TrainArgs, interrupt: &AtomicUsize) -> Result<u8> {
        let first = self.trainer.updates_done() + 1;
        if let Some(cause) = self.recertify(args) {
            let kept = self.monitor.state().clone();
            return self.stop(cause, first, &kept);
        }
        let bar = progress_bar(self.updates, first);
        let mut metrics = std::fs::OpenOptions::new()
            .append(true)
            .open(self.run.file("metrics.jsonl"))
            .map_err(|e| RunError::io(self.run.file("metrics.jsonl"), e))?;
        let mut clock = Clock {
            start: Instant::now(),
            rollout_s: 0.0,
            watch_s: 0.0,
            done: 0,
        };
        let mut shown = self.monitor.state().findings.len();
        for u in first..=self.updates {
            let before = self.monitor.state().clone();
            let result = self.trainer.update_watched(self.updates, &mut self.monitor);
            for f in &self.monitor.state().findings[shown..] {
                if f.rule != Rule::Interrupted {
                    let line = format!("monitor {}: {}", f.rule.name(), f.message);
                    match &bar {
                        Some(b) => b.println(line),
                        None => eprintln!("{line}"),
                    }
                }
            }
            shown = self.monitor.state().findings.len();
            let m = match result {
                Ok(m) => m,
                Err(stopped) => {
                    if let Some(b) = &bar {
                        b.finish_and_clear();
                    }
                    let cause = self
                        .monitor
                        .clear_halt()
                        .unwrap_or_else(|| interrupted_at(&stopped.at, stopped.update));
                    return self.stop(cause, stopped.update, &before);
                }
            };
            clock.rollout_s += m.rollout_seconds as f64;
            clock.watch_s += m.watch_seconds as f64;
            let mut row = serde_json::to_value(&m)?;
            row["monitor"] = self.monitor.row_summary();
            let line = serde_json::to_string(&row)?;
            writeln!(metrics, "{line}")
                .and_then(|_| metrics.flush())
                .map_err(|e| RunError::io(self.run.file("metrics.jsonl"), e))?;
            self.rows.push(line);
            report_update(&bar, &m, u, self.updates);
            clock.done += 1;
            let pause = args.pause_after.is_some_and(|p| clock.done >= p) && u < self.updates;
            let every = self.checkpoint_every > 0 && u.is_multiple_of(self.checkpoint_every);
            if pause || every || u == self.updates {
                self.save_checkpoint(&self.run.checkpoint(u), self.monitor.state())?;
            }
            if pause {
                if let Some(b) = &bar {
                    b.finish_and_clear();
                }
                println!(
                    "paused after update {u}/{}; continue with: esai train --resume {}",
                    self.updates,
                    self.run.path().display()
                );
                return Ok(0);
            }
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        let sig = interrupt.load(Ordering::SeqCst);
        if sig != 0 {
            // Stopped during the last update's write-out: the final
            // checkpoint is on disk; a resume writes the results.
            let mut cause = interrupted_at("before the final write", self.updates);
            cause.value = Some(sig as f64);
            let kept = self.monitor.state().clone();
            return self.stop(cause, self.updates, &kept);
        }
        self.finish(args, &clock)
    }

    /// Writes `checkpoints/final`, `g_phi.json` and `summary.json`, and seals
    /// them in `run.json` (a kill before that is finished by a resume).
    fn finish(&mut self, args: &TrainArgs, clock: &Clock) -> Result<u8> {
        let Some(last_line) = self.rows.last() else {
            bail!("{}: no update was run", self.run.path().display());
        };
        let mut last: serde_json::Value = serde_json::from_str(last_line)?;
        if let Some(o) = last.as_object_mut() {
            o.remove("monitor");
        }
        self.save_checkpoint(
            &self.run.checkpoints_dir().join("final"),
            self.monitor.state(),
        )?;
        let mut sealed = vec!["summary.json"];
        if let Some(json) = self.trainer.g_phi_weights_json() {
            esai_runs::atomic::write(&self.run.file("g_phi.json"), json.as_bytes())?;
            sealed.push("g_phi.json");
        }
        let wall = clock.start.elapsed().as_secs_f64();
        let state = self.monitor.state();
        let summary = serde_json::json!({
            "spec": self.source,
            "method": self.method,
            "seed": self.seed,
            "updates": self.updates,
            "env_steps": last.get("env_steps"),
            "wall_seconds_this_invocation": wall,
            "env_steps_per_second": (clock.done * self.rollout) as f64 / wall,
            "rollout_fraction": clock.rollout_s / wall,
            "monitor": {
                "on": !args.no_monitor,
                "overhead_fraction": clock.watch_s / wall,
                "checks": {
                    "environment_steps": state.checks[0],
                    "gradient_steps": state.checks[1],
                    "updates": state.checks[2],
                    "live_certificates": state.checks[3],
                },
                "findings": state.counts,
                "live_certificate": self.monitor.live(),
            },
            "final": last,
            "checkpoint": "checkpoints/final",
            "certificate_verdict": format!("{:?}", self.cert.verdict).to_lowercase(),
        });
        let text = serde_json::to_string_pretty(&summary)?;
        esai_runs::atomic::write(&self.run.file("summary.json"), text.as_bytes())?;
        for name in sealed {
            self.run.add_sealed(&mut self.record, name)?;
        }
        if args.json {
            println!("{text}");
        } else {
            self.print_summary(&summary, clock, wall);
        }
        Ok(0)
    }

    fn print_summary(&self, summary: &serde_json::Value, clock: &Clock, wall: f64) {
        let counts = &self.monitor.state().counts;
        let findings = if counts.is_empty() {
            "none".to_string()
        } else {
            counts
                .iter()
                .map(|(k, v)| format!("{k} ×{v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let f = &summary["final"];
        let num = |k: &str, digits: usize| {
            f.get(k)
                .and_then(|v| v.as_f64())
                .map_or("—".into(), |x| format!("{x:.digits$}"))
        };
        println!(
            "trained {} ({} updates, {} env steps) in {wall:.1} s = {:.0} env-steps/s ({:.0}% rollout, {:.2}% monitor)\nmonitor findings: {findings}\nfinal: return {}, prosocial rate {}, entropy {}\nrun directory: {}",
            self.method,
            self.updates,
            f.get("env_steps").map_or("—".into(), |v| v.to_string()),
            (clock.done * self.rollout) as f64 / wall,
            100.0 * clock.rollout_s / wall,
            100.0 * clock.watch_s / wall,
            num("mean_return", 2),
            num("prosocial_rate", 3),
            num("entropy", 3),
            self.run.path().display()
        );
    }
}

/// Wall-clock accounting of this invocation (the only numbers of a run
/// that differ between a resumed and an uninterrupted run).
struct Clock {
    start: Instant,
    rollout_s: f64,
    watch_s: f64,
    done: usize,
}

/// A stop that no rule asked for: a signal (or a watcher's own stop).
fn interrupted_at(at: &str, update: usize) -> Finding {
    Finding {
        rule: Rule::Interrupted,
        policy: esai_core::training::Policy::Halt,
        update,
        at: at.into(),
        env_steps: 0,
        agent: None,
        value: None,
        limit: None,
        statistical: false,
        message: "stopped by a signal".into(),
    }
}

fn progress_bar(updates: usize, first: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let b = indicatif::ProgressBar::new(updates as u64);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} updates {elapsed_precise} eta {eta} {msg}",
        )
        .expect("valid template"),
    );
    b.set_position((first - 1) as u64);
    Some(b)
}

fn report_update(
    bar: &Option<indicatif::ProgressBar>,
    m: &UpdateMetrics,
    u: usize,
    updates: usize,
) {
    let line = format!(
        "return {} PR {} entropy {:.3}",
        m.mean_return.map_or("—".into(), |r| format!("{r:.1}")),
        m.prosocial_rate.map_or("—".into(), |p| format!("{p:.3}")),
        m.entropy
    );
    match bar {
        Some(b) => {
            b.set_message(line);
            b.inc(1);
        }
        None => eprintln!(
            "update {u}/{updates} env_steps {} {line} ({:.2}s)",
            m.env_steps, m.seconds
        ),
    }
}
