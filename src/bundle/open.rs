//! Opening the bundle named on the command line: where its fetched files are cached,
//! what the user allowed beyond the pins, and the platform its files are picked for.

use std::path::PathBuf;

use anyhow::anyhow;

use crate::bundle::load;
use crate::bundle::source::Bundle;
use crate::bundle::trust::{Allowed, Verdict};
use crate::matrix::VersionMatrix;
use crate::platform::Platform;
use crate::world::World;

/// Where bundles fetched from a URL are kept.
pub fn cache(world: &World<'_>) -> anyhow::Result<PathBuf> {
    world
        .environment
        .cache_dir()
        .map(|dir| dir.join("bundles"))
        .ok_or_else(|| anyhow!("HOME is not set, so there is no cache for a bundle's files"))
}

/// Opens a bundle named on the command line. With `--allow-unpinned`, each node image
/// for this platform that no pin in `matrix` vouches for is warned about here, once.
pub fn open(location: &str, matrix: &VersionMatrix, world: &World<'_>) -> anyhow::Result<Bundle> {
    let bundle = Bundle::open(location, &cache(world)?, allowed(world), world.http)?;
    if bundle.allowed.unpinned {
        let platform = this_platform(world)?;
        for entry in &bundle.manifest.kubernetes {
            if let Ok(Verdict::Unpinned(warning)) =
                load::node_image_verdict(&bundle, entry, &platform, matrix)
            {
                world.printer.warn(&warning);
            }
        }
    }
    Ok(bundle)
}

/// What the command line allowed beyond the pins.
pub fn allowed(world: &World<'_>) -> Allowed {
    Allowed {
        unpinned: world.environment.allow_unpinned,
        http: world.environment.allow_http,
    }
}

/// This machine's platform, as a bundle names it.
pub fn this_platform(world: &World<'_>) -> anyhow::Result<String> {
    Ok(match &world.environment.platform_override {
        Some(text) => text.parse::<Platform>()?.to_string(),
        None => Platform::of_this_build()?.to_string(),
    })
}
