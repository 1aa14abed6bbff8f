//! The JSON Schemas of the documents sockdiag prints, generated from the Rust types; committed under
//! `docs/schema/` and checked fresh by a test, so a changed key is a visible change to that file.

use schemars::{Schema, schema_for};

/// Each published document: its file name under `docs/schema/` (without `.json`) and its schema.
pub fn documents() -> Vec<(&'static str, Schema)> {
    vec![
        ("error", schema_for!(crate::JsonError<'static>)),
        (
            "probe",
            schema_for!(super::Envelope<'static, crate::probe::report::ProbeReport>),
        ),
    ]
}
