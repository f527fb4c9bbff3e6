//! Every answer a scenario gets is held to the OpenAPI document: the status must be one
//! the operation lists, and a JSON body must validate against that status's schema.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| roster::openapi::document().expect("the OpenAPI document merges"))
}

/// The document's path template that serves `path`: literal segments beat parameters
/// (`/user/sessions` before `/user/{id}`); a last `{key}` of `/_local/uploads` takes the
/// rest, as the router's wildcard does.
pub fn template_for(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut best: Option<(&'static str, usize)> = None;
    for template in document()["paths"].as_object()?.keys() {
        let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
        let wildcard = template.starts_with("/_local/uploads/");
        if parts.len() != segments.len() && !(wildcard && segments.len() >= parts.len()) {
            continue;
        }
        let mut literal = 0;
        let fits = parts.iter().zip(&segments).all(|(p, s)| {
            if p.starts_with('{') {
                !s.is_empty()
            } else {
                literal += 1;
                p == s
            }
        });
        if fits && best.is_none_or(|(_, l)| literal > l) {
            best = Some((template.as_str(), literal));
        }
    }
    best.map(|(t, _)| t)
}

fn resolve(v: &'static Value) -> &'static Value {
    match v["$ref"].as_str() {
        Some(r) => {
            let pointer = r.trim_start_matches('#');
            resolve(
                document()
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("dangling $ref {r}")),
            )
        }
        None => v,
    }
}

type Validators = Mutex<HashMap<(String, String, u16), Option<Arc<jsonschema::Validator>>>>;

fn validator(method: &Method, template: &str, status: StatusCode) -> Option<Arc<jsonschema::Validator>> {
    static CACHE: OnceLock<Validators> = OnceLock::new();
    let key = (method.to_string(), template.to_string(), status.as_u16());
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap();
    cache
        .entry(key)
        .or_insert_with(|| {
            let op = &document()["paths"][template][method.as_str().to_lowercase()];
            assert!(
                op.is_object(),
                "{method} {template} is served but the document has no such operation"
            );
            let responses = &op["responses"];
            let listed = responses
                .get(status.as_str())
                .or_else(|| responses.get(format!("{}XX", status.as_u16() / 100)))
                .or_else(|| responses.get("default"))
                .unwrap_or_else(|| {
                    panic!("{method} {template} answered {status}, a status its operation does not list")
                });
            let schema = resolve(listed)["content"]["application/json"]["schema"].clone();
            if schema.is_null() {
                return None;
            }
            // The components go along, so `#/components/…` references resolve in place.
            let root = json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "components": document()["components"].clone(),
                "allOf": [schema],
            });
            Some(Arc::new(jsonschema::draft202012::new(&root).unwrap_or_else(|e| {
                panic!("{method} {template} {status}: the schema does not compile: {e}")
            })))
        })
        .clone()
}

/// Panics, naming the operation and what is wrong, when an answer breaks the document.
pub fn check(method: &Method, path: &str, status: StatusCode, body: &Value) {
    let Some(template) = template_for(path) else {
        // A path no route serves: the router's JSON 404, not an operation.
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{method} {path} is served but not in the document"
        );
        return;
    };
    if status == StatusCode::METHOD_NOT_ALLOWED || (*method == Method::OPTIONS) {
        return;
    }
    let Some(validator) = validator(method, template, status) else {
        return;
    };
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} ({template}) answered {status} with a body the document does not allow:\n{}\nbody: {body}",
        errors.join("\n")
    );
}
