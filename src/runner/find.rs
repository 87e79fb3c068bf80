//! Finding a program on PATH the way a shell would: the first executable file of that
//! name. The runner needs it (for `sg`), and so does the host's detection.

use std::path::PathBuf;

/// The first executable file named `name` in the directories of `path_var` (PATH).
pub fn find_program(name: &str, path_var: Option<&str>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path_var?)
        .map(|dir| dir.join(name))
        .find(|path| {
            path.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}
