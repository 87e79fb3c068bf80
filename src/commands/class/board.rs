//! `class board`: the class board as a web page. Listens, says where, then reads the
//! cluster once per refresh and serves the page from the latest read until Ctrl-C.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;

use super::read;
use crate::board::server::{Latest, ServerSettings, serve};
use crate::class::ClassPrefix;
use crate::commands::World;
use crate::exit::ExitStatus;
use crate::files::new_token;
use crate::session::workspace;
use crate::ui::class as show;

/// `class board`'s arguments.
#[derive(Clone, Debug)]
pub(crate) struct BoardSettings {
    pub context: String,
    pub prefix: ClassPrefix,
    pub listen: SocketAddr,
    pub stuck_after_seconds: u64,
    pub refresh_seconds: u64,
    pub lab: Option<PathBuf>,
}

/// Runs `class board`: reads the cluster once per refresh and serves the page until
/// Ctrl-C.
pub(crate) fn board(settings: &BoardSettings, world: &World<'_>) -> anyhow::Result<ExitStatus> {
    let lab = workspace::lab(settings.lab.as_deref())?;
    let (listener, token) = listen(settings, world)?;
    let latest = Arc::new(Mutex::new(Latest::default()));
    let server_settings = Arc::new(ServerSettings {
        title: format!("Class {} — sidecar-lab", settings.prefix.label()),
        token,
        stuck_after_seconds: settings.stuck_after_seconds,
        refresh_seconds: settings.refresh_seconds,
    });
    let interrupted = crate::interrupt::flag();
    let minor = read::server_minor(world.runner, &settings.context);
    let refresh = || {
        read::class_results(
            world.runner,
            &settings.context,
            &settings.prefix,
            &lab,
            minor,
        )
    };
    std::thread::scope(|scope| -> anyhow::Result<()> {
        // Builder, not `scope.spawn`: a process out of threads gets an error, not a panic.
        std::thread::Builder::new()
            .name("board-server".to_owned())
            .spawn_scoped(scope, || {
                serve(&listener, &latest, &server_settings, &interrupted);
            })
            .context("cannot start the board's server thread: the system is out of threads or memory; stop other programs and run `sidecar-lab class board` again")?;
        refresh_until_stopped(settings, world, &latest, &interrupted, &refresh);
        Ok(())
    })?;
    Ok(ExitStatus::Success)
}

/// Binds the address, makes a token when the board is reachable beyond this machine,
/// and says where the board is.
fn listen(
    settings: &BoardSettings,
    world: &World<'_>,
) -> anyhow::Result<(TcpListener, Option<String>)> {
    let listener = TcpListener::bind(settings.listen).with_context(|| {
        format!(
            "cannot listen on {}: is another board (or program) using it? Choose another with --listen",
            settings.listen
        )
    })?;
    let address = listener.local_addr().unwrap_or(settings.listen);
    let token = if address.ip().is_loopback() {
        None
    } else {
        Some(new_token().context("cannot make an access token from /dev/urandom")?)
    };
    let url = match &token {
        Some(token) => format!("http://{address}/?token={token}"),
        None => format!("http://{address}/"),
    };
    if address.ip().is_unspecified() {
        world.printer.note(&show::unspecified_address_note(address));
    }
    if token.is_some() {
        world.printer.warn(&show::beyond_localhost_warning(address));
    }
    world.printer.out(&show::board_announcement(
        settings.prefix.label(),
        &settings.context,
        &url,
        settings.refresh_seconds,
    ));
    Ok((listener, token))
}

/// Reads the class once per refresh into `latest` until `interrupted`; a failing read is
/// said once per new message and kept for the page.
fn refresh_until_stopped(
    settings: &BoardSettings,
    world: &World<'_>,
    latest: &Mutex<Latest>,
    interrupted: &AtomicBool,
    refresh: &dyn Fn() -> anyhow::Result<crate::results::Results>,
) {
    let mut last_problem = String::new();
    while !interrupted.load(Ordering::SeqCst) {
        let started = Instant::now();
        let read = refresh();
        if let Ok(mut shared) = latest.lock() {
            match read {
                Ok(results) => {
                    shared.results = Some(results);
                    shared.problem = None;
                    last_problem.clear();
                }
                Err(error) => {
                    let message = crate::exit::one_line(&error);
                    if message != last_problem {
                        world.printer.warn(&message);
                        last_problem.clone_from(&message);
                    }
                    shared.problem = Some(message);
                }
            }
        }
        let until = started + Duration::from_secs(settings.refresh_seconds.max(1));
        while Instant::now() < until && !interrupted.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
