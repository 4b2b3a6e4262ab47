//! `spec.json`: the spec a run was created from, with every file it names.
//!
//! A run directory must not depend on files outside it: the spec on disk
//! may be edited or deleted after training, and `esai evaluate` used to
//! re-read it from its absolute path. The bundle keeps the spec's text and
//! the text of each file the spec loaded (e.g. `update.weights`), keyed by
//! the name the spec used, so the same [`Spec`] is rebuilt from the
//! directory alone.

use esai_core::spec::{Spec, SpecError};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Schema tag of [`SpecBundle`].
pub const BUNDLE_SCHEMA: &str = "esai.spec-bundle/v1";

/// A spec's text and the files it loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecBundle {
    /// Always [`BUNDLE_SCHEMA`].
    pub schema: String,
    /// Where the spec was read from, as given (for messages only; never re-read).
    pub source: String,
    /// The spec's TOML text.
    pub text: String,
    /// Each file the spec named, by the name it used, with its text.
    pub files: BTreeMap<String, String>,
}

impl SpecBundle {
    /// Parses `text` with `load` for the files it names, recording each
    /// file loaded. Returns the spec and the bundle that rebuilds it.
    pub fn capture(
        source: &str,
        text: &str,
        load: &dyn Fn(&str) -> Result<String, String>,
    ) -> Result<(Spec, Self), SpecError> {
        let seen = RefCell::new(BTreeMap::new());
        let recording = |name: &str| {
            let content = load(name)?;
            seen.borrow_mut().insert(name.to_string(), content.clone());
            Ok(content)
        };
        let spec = Spec::from_toml(text, &recording)?;
        Ok((
            spec,
            Self {
                schema: BUNDLE_SCHEMA.into(),
                source: source.into(),
                text: text.into(),
                files: seen.into_inner(),
            },
        ))
    }

    /// The spec, rebuilt from the bundle alone.
    pub fn spec(&self) -> Result<Spec, SpecError> {
        let load = |name: &str| {
            self.files
                .get(name)
                .cloned()
                .ok_or_else(|| format!("{name}: not in the run's spec.json"))
        };
        Spec::from_toml(&self.text, &load)
    }

    /// Whether two bundles describe the same configuration (the source path
    /// may differ: the same spec copied elsewhere is the same spec).
    pub fn same_config(&self, other: &Self) -> bool {
        self.text == other.text && self.files == other.files
    }

    /// The bundle as written to `spec.json`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data serialises")
    }

    /// Parses `spec.json`.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let b: Self = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if b.schema != BUNDLE_SCHEMA {
            return Err(format!("schema {:?}, expected {BUNDLE_SCHEMA:?}", b.schema));
        }
        Ok(b)
    }
}
