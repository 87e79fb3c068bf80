//! `sidecar-lab versions`: the version matrix as a table or as JSON.

use crate::matrix::VersionMatrix;
use crate::ui::text;

/// Characters of the node image's digest shown in the table; `--output json` has them all.
const SHORT_DIGEST: usize = 12;

/// The matrix as an aligned table; the default row is marked with `*`.
pub(crate) fn table(matrix: &VersionMatrix) -> String {
    let mut rows = vec![
        [
            "KUBERNETES",
            "KIND",
            "NODE IMAGE",
            "KUBECTL",
            "SIDECARCONTAINERS GATE",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for release in &matrix.kubernetes {
        let marker = if release.minor == matrix.default {
            " *"
        } else {
            ""
        };
        let image = match release.node_image.split_once("@sha256:") {
            Some((name, digest)) => format!(
                "{name}@sha256:{}",
                &digest[..digest.len().min(SHORT_DIGEST)]
            ),
            None => release.node_image.clone(),
        };
        rows.push(vec![
            format!("{}{marker}", release.minor),
            release.kind.to_string(),
            image,
            release.kubectl.to_string(),
            release.sidecar_gate.summary().to_owned(),
        ]);
    }
    let mut out = text::table(&rows);
    out.push_str("\n* default. Full image digests: sidecar-lab versions --output json\n");
    out
}

/// The matrix as JSON, with the same field names as `templates/versions.yaml`.
pub(crate) fn json(matrix: &VersionMatrix) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(matrix)?;
    text.push('\n');
    Ok(text)
}
