//! The JSON Schemas of the documents sockdiag prints, generated from the Rust types; committed under
//! `docs/schema/` and checked fresh by a test, so a changed key is a visible change to that file.

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, schema_for};

use super::Envelope;

/// Each published document: its file name under `docs/schema/` (without `.json`) and its schema.
pub fn documents() -> Vec<(&'static str, Schema)> {
    vec![
        ("error", schema_for!(crate::JsonError<'static>)),
        (
            "resolve",
            output::<Envelope<'static, crate::resolve::ResolveReport>>(),
        ),
        (
            "trace",
            output::<Envelope<'static, crate::trace::report::TraceReport>>(),
        ),
        (
            "trace-multipath",
            output::<Envelope<'static, crate::trace::multipath::report::MultipathReport>>(),
        ),
        ("trace-line", output::<crate::trace::cycles::CycleLine>()),
        (
            "trace-many",
            output::<Envelope<'static, crate::trace::many::TraceSet>>(),
        ),
        (
            "probe",
            output::<Envelope<'static, crate::probe::report::ProbeReport>>(),
        ),
        ("probe-line", output::<crate::probe::report::ProbeLine>()),
        (
            "probe-unix",
            output::<Envelope<'static, crate::probe::unix::UnixProbeReport>>(),
        ),
        (
            "listen",
            output::<Envelope<'static, crate::listen::report::ListenReport>>(),
        ),
        ("listen-event", output::<crate::listen::log::Event>()),
        (
            "sockets",
            output::<Envelope<'static, crate::sockets::report::SocketsReport>>(),
        ),
    ]
}

/// The schema of what sockdiag writes (schemars' serialize contract): an `Option` field is always there,
/// null when unknown, so it is required and nullable, where `schema_for!` (the deserialize contract) makes it
/// optional.
fn output<T: JsonSchema>() -> Schema {
    SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<T>()
}
