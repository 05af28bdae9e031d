//! The crate stays pure: no clock reads, no IO, no async, no floats in prices.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("src dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("source");
            out.push((path.display().to_string(), text));
        }
    }
}

#[test]
fn no_clock_reads_io_async_or_floats_in_the_library() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() >= 10);
    let forbidden = [
        "Utc::now",
        "Local::now",
        "SystemTime",
        "Instant::now",
        "std::fs",
        "std::net",
        "std::io",
        "async ",
        ".await",
        "tokio",
        "f32",
    ];
    for (path, text) in &files {
        for word in forbidden {
            assert!(!text.contains(word), "{path} contains {word:?}");
        }
        // The one f64 allowed: the settings loader reading a TOML float as its decimal text.
        let floats = text.matches("f64").count();
        let allowed = if path.ends_with("settings.rs") { 3 } else { 0 };
        assert!(floats <= allowed, "{path} uses f64 {floats} times");
    }
}
