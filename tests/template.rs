//! `template.yaml` and the routers agree: every route a group's router serves is mapped
//! to that group's function in the template, and the template maps nothing else.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use serde_yaml::Value;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn untag(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => &t.value,
        v => v,
    }
}

/// (function group, METHOD, path) for every HttpApi event in the template.
fn template_routes() -> BTreeSet<(String, String, String)> {
    let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    let mut routes = BTreeSet::new();
    for (_, res) in doc["Resources"].as_mapping().unwrap() {
        if res["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let code_uri = res["Properties"]["CodeUri"].as_str().unwrap();
        let group = code_uri
            .strip_prefix("functions/")
            .expect("CodeUri is functions/<group>")
            .to_string();
        assert!(
            root().join(code_uri).join("Cargo.toml").exists(),
            "{code_uri} is not a function crate"
        );
        assert_eq!(res["Metadata"]["BuildMethod"], "rust-cargolambda", "{group}");
        for (_, event) in res["Properties"]["Events"].as_mapping().unwrap() {
            if event["Type"] == "ScheduleV2" {
                // The background jobs' schedule: only on the function that runs them.
                assert_eq!(group, "sync", "a schedule on {group}");
                assert_eq!(event["Properties"]["Input"].as_str(), Some(r#"{"roster": "sweep"}"#));
                continue;
            }
            assert_eq!(event["Type"], "HttpApi");
            let p = &event["Properties"];
            let method = untag(&p["Method"]).as_str().unwrap().to_uppercase();
            let path = untag(&p["Path"]).as_str().unwrap().to_string();
            assert!(routes.insert((group.clone(), method, path)), "a route is mapped twice");
        }
    }
    routes
}

/// (group, METHOD, path) for every method each group's router answers on each route.
async fn router_routes() -> BTreeSet<(String, String, String)> {
    support::served_routes(roster::local::all_groups()).await
}

#[tokio::test]
async fn every_served_route_is_in_the_template_and_nothing_else_is() {
    let template = template_routes();
    let served = router_routes().await;
    let missing: Vec<_> = served.difference(&template).collect();
    let extra: Vec<_> = template.difference(&served).collect();
    assert!(missing.is_empty(), "served but not in template.yaml: {missing:?}");
    assert!(extra.is_empty(), "in template.yaml but served by no router: {extra:?}");
    assert!(served.len() >= 20, "{served:?}");
}

#[test]
fn every_function_crate_is_deployed() {
    let deployed: BTreeSet<String> = template_routes().into_iter().map(|(g, _, _)| g).collect();
    for entry in std::fs::read_dir(root().join("functions")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        assert!(
            deployed.contains(&name),
            "functions/{name} has no function in template.yaml"
        );
    }
}
