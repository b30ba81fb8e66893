//! The `venuecode` binary: see `cli.rs` for its commands.

fn main() -> std::process::ExitCode {
    venuecode::cli::main()
}
