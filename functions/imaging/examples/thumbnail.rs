//! Makes both derivatives of one photo file, as the thumbnail function does: the benchmark
//! binary (`cargo xtask bench-thumbnail`) and a quick manual check.
//!
//! usage: thumbnail <input> <thumb.jpg> <preview.jpg>

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, thumb, preview] = args.as_slice() else {
        eprintln!("usage: thumbnail <input> <thumb.jpg> <preview.jpg>");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(input) {
        Ok(bytes) => bytes,
        Err(err) => {
            eprintln!("error: reading `{input}`: {err}");
            return ExitCode::FAILURE;
        }
    };
    let processed = match imaging::process(&bytes, &imaging::Settings::default()) {
        Ok(processed) => processed,
        Err(err) => {
            eprintln!("error: `{input}`: {err}");
            return ExitCode::FAILURE;
        }
    };
    for (path, jpeg) in [(thumb, &processed.thumbnail), (preview, &processed.preview)] {
        if let Err(err) = std::fs::write(path, &jpeg.bytes) {
            eprintln!("error: writing `{path}`: {err}");
            return ExitCode::FAILURE;
        }
    }
    let m = &processed.metadata;
    println!(
        "{} {}×{} sha256={} taken_at={} camera={:?} gps={:?} thumb={:?} preview={:?}",
        m.format,
        m.width,
        m.height,
        m.sha256,
        m.taken_at.map(|t| t.to_string()).unwrap_or_default(),
        m.camera,
        m.gps,
        processed.thumbnail,
        processed.preview
    );
    ExitCode::SUCCESS
}
