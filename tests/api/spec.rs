//! The OpenAPI file and the router describe the same API.

use std::collections::BTreeSet;

use serde_yaml::Value;
use venuecode::domain::FieldCode;
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
fn the_spec_lists_exactly_the_field_error_codes_of_the_domain() {
    let spec = spec();
    let documented: Vec<&str> = spec["components"]["schemas"]["FieldErrorCode"]["enum"]
        .as_sequence()
        .expect("FieldErrorCode enum")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let domain: Vec<&str> = FieldCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(documented, domain);
}

/// Each error code has its own envelope, whose `code` is that code, and every error response of
/// every operation names only those envelopes, each with the status its code is answered with.
#[test]
fn every_error_response_names_its_codes_with_their_status() {
    let spec = spec();
    let schemas = &spec["components"]["schemas"];
    let envelope_code = |reference: &str| -> String {
        let name = reference.trim_start_matches("#/components/schemas/");
        schemas[name]["properties"]["error"]["properties"]["code"]["const"]
            .as_str()
            .unwrap_or_else(|| panic!("{reference} is not a one-code envelope"))
            .to_owned()
    };
    for code in ErrorCode::ALL {
        let branch = schemas["ErrorEnvelope"]["anyOf"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|b| envelope_code(b["$ref"].as_str().unwrap()) == code.as_str());
        assert!(
            branch.is_some(),
            "ErrorEnvelope has no branch for {}",
            code.as_str()
        );
    }
    let resolve = |value: &Value| -> Value {
        match value["$ref"].as_str() {
            Some(r) => spec["components"]["responses"]
                [r.trim_start_matches("#/components/responses/")]
            .clone(),
            None => value.clone(),
        }
    };
    for (path, item) in spec["paths"].as_mapping().unwrap() {
        for (method, operation) in item.as_mapping().unwrap() {
            let Some(responses) = operation["responses"].as_mapping() else {
                continue;
            };
            for (status, response) in responses {
                let status: u16 = status.as_str().unwrap().parse().unwrap();
                let response = resolve(response);
                let schema = &response["content"]["application/json"]["schema"];
                if status < 400 || schema.is_null() {
                    continue;
                }
                let references: Vec<&str> = match schema["anyOf"].as_sequence() {
                    Some(branches) => branches
                        .iter()
                        .map(|b| b["$ref"].as_str().unwrap())
                        .collect(),
                    None => vec![schema["$ref"].as_str().unwrap()],
                };
                for reference in references {
                    let code = envelope_code(reference);
                    let served = ErrorCode::ALL.iter().find(|c| c.as_str() == code).unwrap();
                    assert_eq!(
                        served.status().as_u16(),
                        status,
                        "{method:?} {path:?}: `{code}` is answered with {}",
                        served.status()
                    );
                }
            }
        }
    }
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

/// A pattern of the document's `components.schemas`, anchored as JSON Schema reads it (anywhere).
fn pattern(schema: &Value) -> regex::Regex {
    let text = schema["pattern"].as_str().expect("a pattern");
    regex::Regex::new(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn component(spec: &Value, name: &str) -> regex::Regex {
    pattern(&spec["components"]["schemas"][name])
}

/// The white space `str::trim` removes, which every text pattern must allow around the value.
const SPACES: &[char] = &[
    '\t', '\n', '\u{b}', '\u{c}', '\r', ' ', '\u{85}', '\u{a0}', '\u{1680}', '\u{2000}',
    '\u{200a}', '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}',
];

/// Texts around a length range: every character of the Basic Multilingual Plane up to U+3100 and
/// of U+FE00–U+FFFF, inside a name, before it and after it; the lengths at and beyond the bounds;
/// each kind of white space around and inside.
fn text_probes(min: usize, max: usize) -> Vec<String> {
    let mut probes = vec![String::new()];
    for n in [min.saturating_sub(1), min, max, max + 1] {
        for unit in ["a", "场"] {
            let body = unit.repeat(n);
            probes.push(body.clone());
            for &space in SPACES {
                probes.push(format!("{space}{body}{space}{space}"));
            }
        }
    }
    let characters = (0u32..=0x3100)
        .chain(0xFE00..=0xFFFF)
        .chain(0xE0000..=0xE0080)
        .filter_map(char::from_u32);
    for c in characters {
        probes.push(format!("张{c}三"));
        probes.push(format!("{c}张三"));
        probes.push(format!("张三{c}"));
        probes.push(c.to_string());
        probes.push(format!("{c}{c}"));
    }
    probes
}

/// The pattern never refuses what the server accepts; `exact`: nor accepts what it refuses,
/// except the tag characters (U+E0000–U+E007F), which a pattern written for both ECMAScript and
/// Python cannot name.
fn agree(name: &str, pattern: &regex::Regex, probes: &[String], accepts: impl Fn(&str) -> bool) {
    for probe in probes {
        let (server, document) = (accepts(probe), pattern.is_match(probe));
        let astral = probe
            .chars()
            .any(|c| ('\u{E0000}'..='\u{E007F}').contains(&c));
        assert!(
            server == document || (astral && document),
            "{name}: {probe:?} is {} by the server and {} by the document",
            if server { "accepted" } else { "refused" },
            if document { "accepted" } else { "refused" },
        );
    }
}

#[test]
fn the_text_patterns_of_the_spec_are_the_servers_rules() {
    use venuecode::domain::{
        optional_text, required_text, Address, EntranceName, FieldError, FieldErrors, MobileNumber,
        PersonName, VenueName,
    };
    let spec = spec();
    let note = |required: bool, max: usize| {
        move |text: &str| {
            let mut errors = FieldErrors::default();
            let error = FieldError::new(venuecode::domain::FieldCode::Required, "x");
            if required {
                required_text(&mut errors, "x", text, max, error);
            } else {
                optional_text(&mut errors, "x", Some(text), max, error);
            }
            errors.is_empty()
        }
    };
    let names = text_probes(1, 50);
    agree("PersonName", &component(&spec, "PersonName"), &names, |t| {
        PersonName::parse(t).is_ok()
    });
    agree(
        "OptionalPersonName",
        &component(&spec, "OptionalPersonName"),
        &names,
        |t| t.trim().is_empty() || PersonName::parse(t).is_ok(),
    );
    agree(
        "VenueName",
        &component(&spec, "VenueName"),
        &text_probes(2, 100),
        |t| VenueName::parse(t).is_ok(),
    );
    agree(
        "Address",
        &component(&spec, "Address"),
        &text_probes(2, 200),
        |t| Address::parse(t).is_ok(),
    );
    agree(
        "EntranceName",
        &component(&spec, "EntranceName"),
        &text_probes(1, 30),
        |t| EntranceName::parse(t).is_ok(),
    );
    agree(
        "TransportLine",
        &component(&spec, "TransportLine"),
        &text_probes(1, 30),
        |t| venuecode::domain::transport::parse_line(t).is_ok(),
    );
    let notes = text_probes(1, 500);
    agree("Note", &component(&spec, "Note"), &notes, note(true, 500));
    agree(
        "OptionalNote",
        &component(&spec, "OptionalNote"),
        &notes,
        note(false, 500),
    );
    agree(
        "Reason",
        &component(&spec, "Reason"),
        &text_probes(1, 200),
        note(true, 200),
    );
    let mut phones = text_probes(11, 11);
    for first in '0'..='9' {
        for second in '0'..='9' {
            phones.push(format!("{first}{second}012345678"));
            phones.push(format!(" {first}{second}0123456789\u{3000}"));
        }
    }
    agree(
        "MobileNumber",
        &component(&spec, "MobileNumber"),
        &phones,
        |t| MobileNumber::parse(t).is_ok(),
    );
}

/// Whether a schema of names (`enum`, `const`, `anyOf`, a `$ref`) takes `name`.
fn names_it(spec: &Value, schema: &Value, name: &str) -> bool {
    if let Some(reference) = schema["$ref"].as_str() {
        let target = reference.trim_start_matches("#/components/schemas/");
        return names_it(spec, &spec["components"]["schemas"][target], name);
    }
    if let Some(branches) = schema["anyOf"].as_sequence() {
        return branches.iter().any(|b| names_it(spec, b, name));
    }
    if let Some(value) = schema["const"].as_str() {
        return value == name;
    }
    schema["enum"]
        .as_sequence()
        .is_some_and(|values| values.iter().any(|v| v.as_str() == Some(name)))
}

#[test]
fn the_document_patterns_of_the_spec_refuse_only_what_the_server_refuses() {
    use venuecode::domain::{IdDocument, IdType};
    let spec = spec();
    let rule = spec["components"]["schemas"]["DocumentRule"]["anyOf"]
        .as_sequence()
        .expect("DocumentRule.anyOf");
    let generic = component(&spec, "DocumentNumber");
    let schemas = &spec["components"]["schemas"];
    let id_type = &schemas["IdTypeInput"];
    let mut names: Vec<String> = ["", " ", "Passport", "护照", "resident", "passport\u{200b}"]
        .map(String::from)
        .to_vec();
    for kind in IdType::ALL {
        names.push(kind.as_str().to_owned());
        names.push(format!("\u{3000}{} \n", kind.as_str()));
        names.push(format!("{}s", kind.as_str()));
    }
    let parameter = &schemas["IdTypeParameter"];
    for name in &names {
        assert_eq!(
            IdType::parse(Some(name)).is_ok(),
            names_it(&spec, id_type, name),
            "IdTypeInput and the server disagree on {name:?}"
        );
        assert_eq!(
            IdType::parse(Some(name)).is_ok(),
            names_it(&spec, parameter, name),
            "IdTypeParameter and the server disagree on {name:?}"
        );
    }
    let valid = [
        "11010519491231002X",
        "431025195206080028",
        "E12345678",
        "H12345678",
        "M1234567890",
        "12345678",
        "931025195206080026",
    ];
    let mut probes: Vec<String> = Vec::new();
    for number in valid {
        probes.push(number.to_owned());
        probes.push(number.to_lowercase());
        probes.push(format!(" {number}\t"));
        probes.push(format!("{number}0"));
        probes.push(number[1..].to_owned());
        for at in 0..number.len() {
            for c in ['0', '1', '3', '9', 'X', 'x', 'H', 'm', 'Z', ' ', '-', '场'] {
                let mut changed: Vec<char> = number.chars().collect();
                changed[at] = c;
                probes.push(changed.into_iter().collect());
            }
        }
    }
    for branch in rule {
        let names = &branch["properties"]["id_type"];
        let kinds: Vec<IdType> = IdType::ALL
            .iter()
            .copied()
            .filter(|k| names_it(&spec, names, k.as_str()))
            .collect();
        assert_eq!(kinds.len(), 1, "each branch names one kind: {names:?}");
        let kind = kinds[0];
        let number = &branch["properties"]["id_number"];
        let pattern = match number["$ref"].as_str() {
            Some(reference) => component(&spec, reference.rsplit('/').next().unwrap()),
            None => pattern(number),
        };
        for probe in &probes {
            let server = IdDocument::parse(kind, probe);
            // The shape is the document's; the check character, the division and whether the
            // birth date is a real day are the server's alone.
            let shape_refused = server.as_ref().is_err_and(|e| {
                matches!(
                    e.code.as_str(),
                    "id_number_invalid" | "id_number_length" | "id_number_characters"
                ) || (kind == IdType::ResidentId && e.code == "id_number_region")
            });
            if server.is_ok() {
                assert!(
                    pattern.is_match(probe),
                    "{kind:?}: {probe:?} refused by the document"
                );
                assert!(generic.is_match(probe), "DocumentNumber refuses {probe:?}");
            }
            if shape_refused {
                assert!(
                    !pattern.is_match(probe),
                    "{kind:?}: {probe:?} accepted by the document"
                );
            }
        }
    }
}
