//! Builds the real app to wasm and checks the site: hashed assets, an `index.html` that
//! names exactly those files with no inline script, and a first load under 300 KB gzipped.

use std::io::Write as _;
use std::path::Path;

use spa_build::{BuildOptions, CachePolicy, content_hash};

/// The first-load budget: everything `index.html` pulls in, gzipped.
const BUDGET: usize = 300 * 1024;

fn gzip_len(bytes: &[u8]) -> usize {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap().len()
}

fn leb128(bytes: &[u8], at: &mut usize) -> usize {
    let (mut value, mut shift) = (0usize, 0);
    loop {
        let b = bytes[*at];
        *at += 1;
        value |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return value;
        }
        shift += 7;
    }
}

/// The names of a wasm module's custom sections.
fn custom_sections(wasm: &[u8]) -> Vec<String> {
    assert_eq!(&wasm[..4], b"\0asm");
    let (mut at, mut names) = (8, Vec::new());
    while at < wasm.len() {
        let id = wasm[at];
        at += 1;
        let len = leb128(wasm, &mut at);
        let end = at + len;
        if id == 0 {
            let name_len = leb128(wasm, &mut at);
            names.push(String::from_utf8_lossy(&wasm[at..at + name_len]).into_owned());
        }
        at = end;
    }
    names
}

/// Every `src="..."` and `href="..."` value in the document.
fn references(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let end = rest.find('"').unwrap();
            out.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    out.sort();
    out
}

#[test]
fn builds_a_hashed_site_within_budget() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .and_then(Path::parent)
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    // A target directory of its own: the outer `cargo test` holds the lock of the default one.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), std::path::PathBuf::from)
        .join("spa-build-test");
    let opts = BuildOptions {
        target_dir: Some(target),
        ..BuildOptions::new(root, out.path())
    };
    let started = std::time::Instant::now();
    let site = spa_build::build(&opts).unwrap();
    eprintln!("spa build took {:.1?}", started.elapsed());

    let assets: Vec<_> = site
        .files
        .iter()
        .filter(|f| f.path.starts_with("assets/"))
        .collect();
    assert_eq!(assets.len(), 4, "{:?}", site.files);
    for f in &assets {
        assert_eq!(f.cache, CachePolicy::Immutable);
        let bytes = std::fs::read(site.disk_path(f)).unwrap();
        let (stem, ext) = f.path.rsplit_once('.').unwrap();
        assert!(
            stem.ends_with(&format!("-{}", content_hash(&bytes))),
            "{} is not named by its hash",
            f.path
        );
        assert!(["wasm", "js", "css"].contains(&ext));
    }
    let index = site.file("index.html").unwrap();
    assert_eq!(index.cache, CachePolicy::Revalidate);
    let html = std::fs::read_to_string(site.disk_path(index)).unwrap();

    // index.html names every asset except the glue's own import target chain, and nothing else
    // but the icon, which is inline.
    let mut expected: Vec<String> = assets.iter().map(|f| format!("/{}", f.path)).collect();
    expected.sort();
    let (icons, names): (Vec<String>, Vec<String>) = references(&html)
        .into_iter()
        .partition(|r| r.starts_with("data:image/svg+xml,"));
    assert_eq!(names, expected);
    assert_eq!(icons.len(), 1, "one icon, inline");

    // No inline script: every <script> has a src and an empty body; no inline handlers.
    let scripts: Vec<&str> = html.split("<script").skip(1).collect();
    assert_eq!(scripts.len(), 1);
    for s in scripts {
        let (open, body) = s.split_once('>').unwrap();
        assert!(open.contains("src=\"/assets/boot-"), "{open}");
        assert!(body.starts_with("</script>"), "inline script body: {body}");
    }
    let handler = html.split(" on").skip(1).find(|rest| {
        let name: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
        !name.is_empty() && rest[name.len()..].starts_with('=')
    });
    assert!(
        handler.is_none(),
        "inline event handler attribute: on{handler:?}"
    );

    // The boot module starts the glue with the hashed wasm; the glue has no default wasm path.
    let boot_file = assets
        .iter()
        .find(|f| f.path.starts_with("assets/boot-"))
        .unwrap();
    let boot = std::fs::read_to_string(site.disk_path(boot_file)).unwrap();
    let js = assets
        .iter()
        .find(|f| f.path.starts_with("assets/app-") && f.path.ends_with(".js"))
        .unwrap();
    let wasm = assets.iter().find(|f| f.path.ends_with(".wasm")).unwrap();
    assert!(
        boot.contains(&format!("\"./{}\"", js.path.trim_start_matches("assets/"))),
        "{boot}"
    );
    assert!(
        boot.contains(&format!(
            "\"./{}\"",
            wasm.path.trim_start_matches("assets/")
        )),
        "{boot}"
    );
    let glue_js = std::fs::read_to_string(site.disk_path(js)).unwrap();
    assert!(
        glue_js.contains("__wbg_init as default"),
        "glue without a default init export"
    );
    assert!(
        !glue_js.contains("_bg.wasm"),
        "glue refers to an unhashed wasm file"
    );

    let wasm_bytes = std::fs::read(site.disk_path(wasm)).unwrap();
    let sections = custom_sections(&wasm_bytes);
    assert!(
        !sections
            .iter()
            .any(|s| s == "name" || s.starts_with(".debug") || s == "producers"),
        "name, debug or producers section left in the wasm: {sections:?}"
    );

    let mut total = 0;
    for f in &assets {
        let bytes = std::fs::read(site.disk_path(f)).unwrap();
        let gz = gzip_len(&bytes);
        eprintln!("{}: {} bytes, {} gzipped", f.path, bytes.len(), gz);
        total += gz;
    }
    total += gzip_len(html.as_bytes());
    eprintln!("first load: {total} bytes gzipped");
    assert!(
        total <= BUDGET,
        "first load is {total} bytes gzipped, over {BUDGET}"
    );
}
