//! `talk-app`: parses the command line and hands over to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = talk_app::cli::Cli::parse();
    // actix-web and Leptos run on actix's runtime (a tokio current-thread runtime per worker).
    service::exit::report(actix_web::rt::System::new().block_on(talk_app::cli::run(cli)))
}
