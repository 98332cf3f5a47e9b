//! Peak live heap while processing each file, from a counting global allocator: the figure the
//! budget tests assert on, for any photo.
//! `cargo run --release -p imaging --example peak -- FILE...`

use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

fn main() -> std::process::ExitCode {
    let settings = imaging::Settings::default();
    let mut failed = false;
    for path in std::env::args().skip(1) {
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) => {
                eprintln!("error: reading `{path}`: {err}");
                failed = true;
                continue;
            }
        };
        ALLOCATOR.reset_peak_usage();
        let before = ALLOCATOR.current_usage();
        let result = imaging::process(&bytes, &settings);
        let peak = ALLOCATOR.peak_usage().saturating_sub(before);
        let estimate = imaging::memory_needed(&bytes, &settings)
            .map(|e| format!("{:.1} MiB", e as f64 / 1048576.0))
            .unwrap_or_else(|e| e.to_string());
        let outcome = match result {
            Ok(p) => format!("ready {}×{}", p.metadata.width, p.metadata.height),
            Err(e) => format!("refused: {e}"),
        };
        println!(
            "{path}: peak {:.1} MiB, estimate {estimate}, {outcome}",
            peak as f64 / 1048576.0
        );
    }
    if failed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}
