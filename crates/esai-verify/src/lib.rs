//! esai-verify
