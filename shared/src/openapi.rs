//! The OpenAPI 3.1 document of every route: `shared/openapi/base.json` (info, security,
//! the envelope and the shared error answers) and one file per endpoint group, merged
//! here. Only the local server serves it (`/openapi.json`, and `/docs` with the `docs`
//! feature); the test suite holds every router and every answer to it.

use serde_json::{Map, Value};

const BASE: &str = include_str!("../openapi/base.json");

/// Each group's paths and components, as its file says.
const GROUPS: [(&str, &str); 7] = [
    ("codes", include_str!("../openapi/codes.json")),
    ("account", include_str!("../openapi/account.json")),
    ("profile", include_str!("../openapi/profile.json")),
    ("relations", include_str!("../openapi/relations.json")),
    ("groups", include_str!("../openapi/groups.json")),
    ("sync", include_str!("../openapi/sync.json")),
    ("local", include_str!("../openapi/local.json")),
];

/// The whole document. A path or a component defined twice is an error naming it.
pub fn document() -> Result<Value, String> {
    let mut doc: Value = serde_json::from_str(BASE).map_err(|e| format!("base.json: {e}"))?;
    let mut paths = Map::new();
    for (group, text) in GROUPS {
        let part: Value = serde_json::from_str(text).map_err(|e| format!("{group}.json: {e}"))?;
        for (path, item) in part["paths"].as_object().cloned().unwrap_or_default() {
            if paths.insert(path.clone(), item).is_some() {
                return Err(format!("{group}.json: path {path} is defined twice"));
            }
        }
        for (kind, defs) in part["components"].as_object().cloned().unwrap_or_default() {
            let into = doc["components"]
                .as_object_mut()
                .ok_or("base.json has no components")?
                .entry(kind.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            for (name, def) in defs.as_object().cloned().unwrap_or_default() {
                let into = into.as_object_mut().ok_or("a components entry is not a map")?;
                if into.insert(name.clone(), def).is_some() {
                    return Err(format!("{group}.json: components.{kind}.{name} is defined twice"));
                }
            }
        }
    }
    doc["paths"] = Value::Object(paths);
    Ok(doc)
}
