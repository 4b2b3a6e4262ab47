//! The incident report of a halted run (schema `esai.incident/v1`).

use crate::live::{Basis, LiveCertificate};
use crate::rules::Finding;
use serde::Serialize;
use std::collections::BTreeMap;

/// Schema identifier of `incident.json`.
pub const INCIDENT_SCHEMA: &str = "esai.incident/v1";

/// What a halted or interrupted run leaves in `DIR/incident.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Incident {
    /// Always [`INCIDENT_SCHEMA`].
    pub schema: &'static str,
    /// `halted` (a rule) or `interrupted` (a signal).
    pub kind: String,
    /// The finding that stopped the run.
    pub cause: Finding,
    /// The update that was discarded.
    pub discarded_update: usize,
    /// The checkpoint holding the last good state (start of the discarded update).
    pub checkpoint: String,
    /// Updates completed in that state.
    pub last_good_update: usize,
    /// Warnings and other findings before the stop (the first of each rule).
    pub findings: Vec<Finding>,
    /// Findings per rule over the whole run.
    pub counts: BTreeMap<String, u64>,
    /// The live certificate in force.
    pub live_certificate: Option<LiveCertificate>,
    /// The configuration the rules were checked against.
    pub basis: Basis,
    /// The last metrics rows (of good updates).
    pub last_metrics: Vec<serde_json::Value>,
    /// How to continue.
    pub resume: String,
    /// The process exit code.
    pub exit_code: u8,
}
