//! `up`'s image phases: the node image from a bundle, the lab's images pulled while the
//! cluster is made, then loaded into the node.

use anyhow::anyhow;

use crate::kube;
use crate::platform::Platform;
use crate::runner::{CommandLine, Failed, Output, RunError, checked};
use crate::setup_plan::ImageAction;
use crate::ui::phase::Transaction;

use super::act::{Execute, PULL_TIMEOUT};

/// What each `docker pull` gave, by image.
pub(super) type Pulled = Vec<(String, Result<Output, RunError>)>;

impl Execute<'_, '_> {
    /// `docker pull` of each image; the outcomes, in order.
    pub(super) fn pull(&self, images: &[String]) -> Pulled {
        images
            .iter()
            .map(|image| {
                let pull = CommandLine::new("docker", ["pull", image.as_str()]);
                (image.clone(), self.runner().run(&pull, PULL_TIMEOUT))
            })
            .collect()
    }

    /// Loads the images into the node; problems are warnings: the node may still pull.
    pub(super) fn preload(&self, images: &[ImageAction], pulled: &Pulled) {
        let printer = self.printer();
        let progress = Transaction::begin(
            printer,
            self.clock(),
            "preloading the lab images into the node",
        );
        let mut problems = Vec::new();
        let mut loaded = Vec::new();
        for action in images {
            let (ImageAction::PullAndLoad(image)
            | ImageAction::Load(image)
            | ImageAction::FromBundle(image)) = action;
            let result = match action {
                ImageAction::FromBundle(archive) => self.load_bundle_archive(archive),
                _ => match pull_problem(image, pulled) {
                    Some(problem) => {
                        problems.push(problem);
                        continue;
                    }
                    None => self.load(image),
                },
            };
            match result {
                Ok(()) => loaded.push(image.as_str()),
                Err(error) => problems.push(crate::exit::one_line(&error)),
            }
        }
        if problems.is_empty() {
            progress.commit(&loaded.join(", "));
        } else {
            progress.fail("the node will have to pull them itself");
            for p in &problems {
                printer.warn(p);
            }
        }
    }

    /// The bundle's node image into Docker, its layers checked.
    pub(super) fn load_node_image(&self, tag: &str) -> anyhow::Result<()> {
        let bundle = self.bundle.ok_or_else(|| anyhow!("no bundle was opened"))?;
        let entry =
            crate::bundle::load::entry(bundle, self.release.minor, self.platform, self.matrix)?;
        let progress = Transaction::begin(
            self.printer(),
            self.clock(),
            &format!("loading {tag} from the bundle"),
        );
        let downloads = crate::ui::progress::DownloadProgress::new(self.printer());
        let tag = crate::bundle::load::node_image(
            bundle,
            entry,
            self.platform,
            self.runner(),
            &downloads,
        )?;
        progress.commit(&format!("{tag}: layers match the manifest"));
        Ok(())
    }

    /// The bundle's lab images archive into the node: no `docker save`, no pull.
    fn load_bundle_archive(&self, archive: &str) -> anyhow::Result<()> {
        let bundle = self.bundle.ok_or_else(|| anyhow!("no bundle was opened"))?;
        let downloads = crate::ui::progress::DownloadProgress::new(self.printer());
        let local = bundle.fetch(archive, &downloads)?;
        let cluster = self.target.context.trim_start_matches("kind-");
        checked(
            self.runner(),
            &kube::kind::load_image_archive(cluster, &local),
            PULL_TIMEOUT,
        )
        .map(drop)
    }

    /// `docker save` then `kind load image-archive` — not `kind load docker-image`,
    /// which fails with Docker's containerd image store (kind#3795).
    fn load(&self, image: &str) -> anyhow::Result<()> {
        let cluster = self.target.context.trim_start_matches("kind-");
        let archive = self
            .dir
            .join(format!("{}.tar", image.replace(['/', ':'], "_")));
        let archive_text = archive.display().to_string();
        let platform = Platform::of_this_build().map_or_else(
            |_| "linux/amd64".into(),
            |p| format!("linux/{}", p.arch.name()),
        );
        // `--platform` keeps a multi-platform image to the node's own; Docker before
        // 25 (such as 20.10) has no such flag.
        let with_platform = CommandLine::new(
            "docker",
            [
                "save",
                "--platform",
                platform.as_str(),
                "-o",
                archive_text.as_str(),
                image,
            ],
        );
        let saved = self.runner().run(&with_platform, PULL_TIMEOUT)?;
        if !saved.success() {
            checked(
                self.runner(),
                &CommandLine::new("docker", ["save", "-o", archive_text.as_str(), image]),
                PULL_TIMEOUT,
            )?;
        }
        let loaded = checked(
            self.runner(),
            &kube::kind::load_image_archive(cluster, &archive),
            PULL_TIMEOUT,
        );
        let _ = crate::files::remove_file(&archive);
        loaded.map(drop)
    }
}

/// Why an image that was pulled cannot be loaded: its pull failed.
fn pull_problem(image: &str, pulled: &Pulled) -> Option<String> {
    let (_, result) = pulled.iter().find(|(i, _)| i == image)?;
    let pull = CommandLine::new("docker", ["pull", image]);
    match result {
        Ok(output) if output.success() => None,
        Ok(output) => Some(Failed::of(&pull, output).to_string()),
        Err(error) => Some(error.to_string()),
    }
}
