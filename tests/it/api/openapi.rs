//! The OpenAPI document lists every route the API serves, and every route is really served.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::both_backends;
use crate::support::{Backend, spawn_api};

async fn openapi_documents_every_route(backend: Backend) {
    let app = spawn_api(backend).await;
    let r = app.get("/openapi.json").await;
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.expect("json");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .map(move |(method, _)| (method.to_uppercase(), path.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = floodgate::api::route_list()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_owned()))
        .collect();
    let missing: Vec<_> = served.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes missing from /openapi.json: {missing:?}"
    );
    let stale: Vec<_> = documented.difference(&served).collect();
    assert!(stale.is_empty(), "documented but not served: {stale:?}");

    // Every listed route is mounted: without a key it is 401, never axum's 404/405.
    for (method, path) in floodgate::api::route_list() {
        if path == "/openapi.json" {
            continue;
        }
        let url = format!("{}{}", app.base, path.replace("{id}", "1"));
        let r = app
            .client
            .request(method.clone(), url)
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 401, "{method} {path}");
    }
}

both_backends!(openapi_documents_every_route);
