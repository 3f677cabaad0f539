//! Finds the git commit the workspace is built from (see `src/git.rs`) and hands it to the crate
//! as `BUILD_COMMIT`. Never fails: without git or outside a repository (a source tarball) the
//! commit is "unknown commit".

#[path = "src/git.rs"]
mod git;

fn main() {
    let dir = std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/git.rs");
    let found = git::Commit::of(&dir);
    if let Some(found) = &found {
        for path in &found.watch {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    println!(
        "cargo:rustc-env=BUILD_COMMIT={}",
        git::label(found.as_ref())
    );
    // Empty without git: the crate then falls back to its own floor.
    println!(
        "cargo:rustc-env=BUILD_COMMIT_TIME={}",
        found
            .and_then(|c| c.time)
            .map_or_else(String::new, |t| t.to_string())
    );
}
