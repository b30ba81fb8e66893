//! Every error answer a test receives through the request helpers is checked against the
//! document: the operation (method and path template) declares the status, and the status's
//! schema names the error code among the codes it can answer. A code the document does not name
//! for that operation fails the test that met it.

use std::sync::LazyLock;

use reqwest::{Method, Response, ResponseBuilderExt};
use serde_yaml::Value;

struct Operation {
    method: String,
    template: String,
    pattern: regex::Regex,
    /// Literal segments count first: `/venues/import` wins over `/venues/{id}`.
    literals: usize,
    responses: Value,
}

static DOCUMENT: LazyLock<Value> = LazyLock::new(|| {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/api-spec/openapi.yaml"
    ))
    .expect("api-spec/openapi.yaml exists");
    serde_yaml::from_str(&text).expect("the document is YAML")
});

static OPERATIONS: LazyLock<Vec<Operation>> = LazyLock::new(|| {
    let mut operations = Vec::new();
    for (path, item) in DOCUMENT["paths"].as_mapping().expect("paths") {
        let template = path.as_str().expect("a path").to_owned();
        let segments: Vec<String> = template
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "[^/]+".to_owned()
                } else {
                    regex::escape(segment)
                }
            })
            .collect();
        let literals = template.split('/').filter(|s| !s.starts_with('{')).count();
        let pattern = regex::Regex::new(&format!("^{}$", segments.join("/"))).unwrap();
        for (method, operation) in item.as_mapping().expect("a path item") {
            let method = method.as_str().unwrap();
            if operation.get("responses").is_none() {
                continue;
            }
            operations.push(Operation {
                method: method.to_uppercase(),
                template: template.clone(),
                pattern: pattern.clone(),
                literals,
                responses: operation["responses"].clone(),
            });
        }
    }
    operations
});

/// Follows a local `$ref` (`#/components/...`).
fn resolve(value: &Value) -> &Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let mut target = &*DOCUMENT;
            for part in reference.trim_start_matches("#/").split('/') {
                target = &target[part];
            }
            resolve(target)
        }
        None => value,
    }
}

/// The codes an error schema allows: a `code` const, or every branch of an `anyOf`.
fn codes_of(schema: &Value, codes: &mut Vec<String>) {
    let schema = resolve(schema);
    if let Some(branches) = schema.get("anyOf").and_then(Value::as_sequence) {
        for branch in branches {
            codes_of(branch, codes);
        }
        return;
    }
    let code = &schema["properties"]["error"]["properties"]["code"];
    if let Some(value) = code.get("const").and_then(Value::as_str) {
        codes.push(value.to_owned());
    }
}

/// The codes `method path` declares for `status`; `None` when no operation matches (an unknown
/// path or method, answered by the router).
pub fn declared_codes(method: &str, path: &str, status: u16) -> Option<(String, Vec<String>)> {
    let path = path.split('?').next().unwrap_or(path);
    let operation = OPERATIONS
        .iter()
        .filter(|o| o.method == method && o.pattern.is_match(path))
        .max_by_key(|o| o.literals)?;
    let response = &operation.responses[status.to_string().as_str()];
    let mut codes = Vec::new();
    if !response.is_null() {
        codes_of(
            &resolve(response)["content"]["application/json"]["schema"],
            &mut codes,
        );
    }
    Some((operation.template.clone(), codes))
}

/// Checks an answer of `method path` against the document when it is an error; gives back an
/// equal response. With `RECORD_ERRORS=FILE` it writes `method template status code` lines to
/// FILE instead (how the document's codes were gathered from the whole suite).
pub async fn checked(method: &Method, path: &str, response: Response) -> Response {
    let status = response.status();
    if status.as_u16() < 400 {
        return response;
    }
    let url = response.url().clone();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("the body is read");
    let code = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|body| body["error"]["code"].as_str().map(str::to_owned));
    if let (Some(code), Some((template, declared))) =
        (code, declared_codes(method.as_str(), path, status.as_u16()))
    {
        match std::env::var("RECORD_ERRORS") {
            Ok(file) => record(&file, method, &template, status.as_u16(), &code),
            Err(_) => assert!(
                declared.contains(&code),
                "{method} {path} answered {status} `{code}`, which the document does not declare \
                 for this operation and status (it declares {declared:?})"
            ),
        }
    }
    let mut builder = http::Response::builder().status(status).url(url);
    for (name, value) in &headers {
        builder = builder.header(name, value);
    }
    Response::from(builder.body(bytes).expect("a response"))
}

fn record(file: &str, method: &Method, template: &str, status: u16, code: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(file)
        .expect("the record file opens");
    writeln!(file, "{method}\t{template}\t{status}\t{code}").expect("a line is written");
}
