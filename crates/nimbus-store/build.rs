//! `sqlx::migrate!` embeds the migration files at compile time; stable Rust cannot track them
//! from a proc macro, so tell cargo to rebuild when a migration is added or edited.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
