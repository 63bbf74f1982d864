//! What the command line writes: reports on stdout, progress and notes on stderr. A reader
//! that went away (`mailharness list | head -1`, a closed terminal) ends the output quietly,
//! where `println!` would panic: a broken pipe on stdout is not an error (the rest is
//! dropped), and stderr is written on a best-effort basis.

use std::io::Write as _;

/// Writes to stdout. A closed pipe is not an error; any other failure is.
pub fn stdout(args: std::fmt::Arguments) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_fmt(args).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result,
    }
}

/// Writes to stderr, ignoring failures (there is nowhere left to report them).
pub fn stderr(args: std::fmt::Arguments) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// `print!` to stdout, returning `io::Result` and quiet on a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::output::stdout(format_args!($($arg)*)) };
}

/// `println!` to stdout, returning `io::Result` and quiet on a closed pipe.
macro_rules! outln {
    ($($arg:tt)*) => { $crate::cli::output::stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!`, best effort.
macro_rules! err {
    ($($arg:tt)*) => { $crate::cli::output::stderr(format_args!($($arg)*)) };
}

/// `eprintln!`, best effort.
macro_rules! errln {
    () => { $crate::cli::output::stderr(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::output::stderr(format_args!("{}\n", format_args!($($arg)*))) };
}
