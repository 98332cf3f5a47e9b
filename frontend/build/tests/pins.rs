//! wasm-bindgen and wasm-bindgen-cli-support must be one exact version: the CLI support
//! refuses wasm whose embedded schema comes from any other version, even a patch apart.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .expect("workspace root")
}

fn locked_versions(lock: &toml::Value, name: &str) -> Vec<String> {
    lock["package"]
        .as_array()
        .expect("Cargo.lock has packages")
        .iter()
        .filter(|p| p["name"].as_str() == Some(name))
        .map(|p| p["version"].as_str().expect("version").to_owned())
        .collect()
}

#[test]
fn wasm_bindgen_and_cli_support_are_locked_to_one_version() {
    let lock: toml::Value =
        toml::from_str(&std::fs::read_to_string(root().join("Cargo.lock")).unwrap()).unwrap();
    let lib = locked_versions(&lock, "wasm-bindgen");
    let cli = locked_versions(&lock, "wasm-bindgen-cli-support");
    assert_eq!(lib.len(), 1, "one wasm-bindgen in Cargo.lock: {lib:?}");
    assert_eq!(lib, cli, "wasm-bindgen and wasm-bindgen-cli-support differ");
}

#[test]
fn workspace_pins_are_exact_and_equal() {
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(root().join("Cargo.toml")).unwrap()).unwrap();
    let deps = &manifest["workspace"]["dependencies"];
    let version = |name: &str| {
        let dep = &deps[name];
        dep.as_str()
            .or_else(|| dep["version"].as_str())
            .unwrap_or_else(|| panic!("`{name}` has no version"))
            .to_owned()
    };
    let lib = version("wasm-bindgen");
    assert!(
        lib.starts_with('='),
        "wasm-bindgen must be pinned with `=`: {lib}"
    );
    assert_eq!(lib, version("wasm-bindgen-cli-support"));
}
