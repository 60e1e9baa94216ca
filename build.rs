fn main() {
    // sqlx::migrate! embeds migrations/ at build time; a changed migration rebuilds.
    println!("cargo:rerun-if-changed=migrations");
}
