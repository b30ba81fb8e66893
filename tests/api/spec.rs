//! The OpenAPI file and the router describe the same API.

use std::collections::BTreeSet;

use serde_yaml::Value;
use venuecode::routes::endpoints;
use venuecode::web::ErrorCode;

const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/api-spec/openapi.yaml"
    ))
    .expect("api-spec/openapi.yaml exists");
    serde_yaml::from_str(&text).expect("the spec is valid YAML")
}

#[test]
fn the_spec_and_the_router_list_the_same_operations() {
    let spec = spec();
    assert_eq!(spec["openapi"].as_str().unwrap(), "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().expect("paths") {
        for (method, _) in item.as_mapping().expect("path item") {
            let method = method.as_str().unwrap();
            if HTTP_METHODS.contains(&method) {
                documented.insert((method.to_uppercase(), path.as_str().unwrap().to_owned()));
            }
        }
    }
    let routed: BTreeSet<(String, String)> = endpoints()
        .iter()
        .map(|e| (e.method.to_string(), e.path.to_owned()))
        .collect();
    let missing_from_spec: Vec<_> = routed.difference(&documented).collect();
    let missing_from_router: Vec<_> = documented.difference(&routed).collect();
    assert!(
        missing_from_spec.is_empty(),
        "routes the spec does not describe: {missing_from_spec:?}"
    );
    assert!(
        missing_from_router.is_empty(),
        "spec paths the router does not serve: {missing_from_router:?}"
    );
}

#[test]
fn the_spec_lists_exactly_the_error_codes_of_the_server() {
    let spec = spec();
    let documented: BTreeSet<String> = spec["components"]["schemas"]["ErrorCode"]["enum"]
        .as_sequence()
        .expect("ErrorCode enum")
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let served: BTreeSet<String> = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    assert_eq!(documented, served);
}

#[test]
fn every_operation_has_an_id_and_responses() {
    let spec = spec();
    let mut ids = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().unwrap() {
        for (method, operation) in item.as_mapping().unwrap() {
            if !HTTP_METHODS.contains(&method.as_str().unwrap()) {
                continue;
            }
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method:?} {path:?} has no operationId"));
            assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
            assert!(
                operation["responses"]
                    .as_mapping()
                    .is_some_and(|r| !r.is_empty()),
                "{id} has no responses"
            );
        }
    }
}
