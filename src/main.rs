fn main() -> std::process::ExitCode {
    repcollapse::cli::main()
}
