//! One problem found in an input: the field, the value, what is allowed.
//!
//! Its own module so that the spec (`spec.rs`) and the training sections
//! (`training.rs`, which the spec embeds) both report problems without
//! importing each other.

use std::fmt;

/// One problem found in a spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Dotted path of the field, e.g. `graph.edges[3]`.
    pub field: String,
    /// The offending value as written (or a summary of it).
    pub value: String,
    /// What is allowed instead.
    pub allowed: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            write!(f, "{}: {}", self.field, self.allowed)
        } else {
            write!(f, "{} = {}: {}", self.field, self.value, self.allowed)
        }
    }
}
