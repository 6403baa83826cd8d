//! Exit codes, one way for both binaries: a command that must leave with a code other
//! than 1 returns an [`Exit`] as its error, and `main` hands its result to [`report`].

use std::process::ExitCode;

/// An error that carries the process exit code; every other error exits 1.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

impl Exit {
    /// A usage, argument or file error: exit code 2, as clap uses for usage errors.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }
}

/// Prints an error with its causes to stderr and turns the result into the exit code:
/// 0, the code of an [`Exit`] anywhere in the chain, or 1.
pub fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            code_of(&e).into()
        }
    }
}

fn code_of(e: &anyhow::Error) -> u8 {
    e.chain()
        .find_map(|cause| cause.downcast_ref::<Exit>())
        .map_or(1, |exit| exit.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exit_anywhere_in_the_chain_sets_the_code_and_others_exit_one() {
        assert_eq!(code_of(&anyhow::Error::new(Exit::usage("bad id"))), 2);
        let wrapped = anyhow::Error::new(Exit {
            code: 3,
            message: "x".into(),
        })
        .context("importing");
        assert_eq!(code_of(&wrapped), 3);
        assert_eq!(code_of(&anyhow::anyhow!("database down")), 1);
    }
}
