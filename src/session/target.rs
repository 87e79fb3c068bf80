//! Where a session runs: the lab's kind cluster, or an existing cluster named by
//! `--context` (one shared cluster for a class, a namespace per learner).

use crate::kube;
use crate::names::ClusterName;
use crate::session::state::LabState;

/// The resolved target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub kube: kube::Target,
    /// The kind cluster's name, unless this is an existing cluster.
    pub kind_name: Option<String>,
}

/// `--context` wins; then the cluster `up` recorded; then the default kind cluster.
pub(crate) fn resolve(
    context: Option<&str>,
    namespace: Option<&str>,
    cluster: &ClusterName,
    state: &LabState,
) -> Resolved {
    let recorded = state.cluster.as_ref();
    let namespace = namespace
        .map(str::to_owned)
        .or_else(|| recorded.map(|c| c.namespace.clone()))
        .unwrap_or_else(|| "default".to_owned());
    match (context, recorded) {
        (Some(context), _) => Resolved {
            kube: kube::Target {
                context: context.to_owned(),
                namespace,
            },
            kind_name: None,
        },
        // `up --context` recorded an existing cluster: later steps go there too.
        (None, Some(record)) if record.kind_name.is_none() => Resolved {
            kube: kube::Target {
                context: record.context.clone(),
                namespace,
            },
            kind_name: None,
        },
        _ => Resolved {
            kube: kube::Target::kind(cluster.as_str(), &namespace),
            kind_name: Some(cluster.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::state::ClusterRecord;

    #[test]
    fn the_context_flag_wins_then_the_record_then_kind() {
        let name = ClusterName::default_name();
        let empty = LabState::default();
        assert_eq!(
            resolve(None, None, &name, &empty).kube,
            kube::Target::kind("sidecar-lab", "default")
        );
        let shared = LabState {
            cluster: Some(ClusterRecord {
                context: "classroom".into(),
                namespace: "learner-7".into(),
                ..ClusterRecord::default()
            }),
            ..LabState::default()
        };
        let resolved = resolve(None, None, &name, &shared);
        assert_eq!(
            resolved.kube,
            kube::Target {
                context: "classroom".into(),
                namespace: "learner-7".into()
            }
        );
        assert_eq!(resolved.kind_name, None);
        let flag = resolve(Some("other"), Some("ns"), &name, &shared);
        assert_eq!(
            flag.kube,
            kube::Target {
                context: "other".into(),
                namespace: "ns".into()
            }
        );
    }
}
