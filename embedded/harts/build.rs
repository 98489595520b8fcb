//! Puts this folder on the linker's search path, for `link.x`.
fn main() {
    let here = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-search={here}");
    println!("cargo:rerun-if-changed=link.x");
}
