//! Checks a JSON document the binary printed against the schema published for it in docs/schema.

use serde_json::Value;

/// Asserts that `doc` is valid against the schema named `name` (`probe`, `error`, ...), listing every violation.
pub fn assert_valid(name: &str, doc: &Value) {
    let (_, schema) = sockdiag::render::schema::documents()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no schema named {name}"));
    let schema = serde_json::to_value(&schema).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("schema {name}: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "not a valid {name} document: {errors:#?}\n{doc:#}"
    );
}
