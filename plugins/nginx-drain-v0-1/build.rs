//! Builds nginx-drain's source against WIT 0.1.0.
fn main() {
    println!("cargo::rustc-cfg=wit_0_1");
}
