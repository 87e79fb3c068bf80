//! What a pod asks the scheduler and a ResourceQuota for: Kubernetes quantities, and the
//! pod's effective request with native sidecars (KEP-753, quoted in wave2-facts §4.1):
//!
//! `InitContainerUse(i) = Sum(sidecars with index < i) + InitContainer(i)`, and the pod
//! requests `Max( Max(each InitContainerUse), Sum(sidecars) + Sum(app containers) )`.
//!
//! A sidecar counts from its position on, for the rest of the pod's life; a plain init
//! container counts only while it runs, together with the sidecars before it. Pure.

use k8s_openapi::api::core::v1::{Container, PodSpec};

/// CPU in millicores and memory in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Requests {
    pub cpu_millis: u64,
    pub memory_bytes: u64,
}

impl Requests {
    pub(crate) const fn plus(self, other: Self) -> Self {
        Self {
            cpu_millis: self.cpu_millis + other.cpu_millis,
            memory_bytes: self.memory_bytes + other.memory_bytes,
        }
    }

    /// Each resource's larger value.
    pub(crate) fn max(self, other: Self) -> Self {
        Self {
            cpu_millis: self.cpu_millis.max(other.cpu_millis),
            memory_bytes: self.memory_bytes.max(other.memory_bytes),
        }
    }

    pub(crate) fn times(self, n: u64) -> Self {
        Self {
            cpu_millis: self.cpu_millis.saturating_mul(n),
            memory_bytes: self.memory_bytes.saturating_mul(n),
        }
    }
}

/// A quantity (`100m`, `2`, `1.5`, `128Mi`, `1G`, `1e3`) scaled by `unit` (1000 for
/// millicores, 1 for bytes), rounded up as the API server rounds requests; `None` when
/// it is not a quantity.
pub(crate) fn parse_quantity(text: &str, unit: u64) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    if !number.is_finite() || number < 0.0 {
        return None;
    }
    let factor: f64 = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "Ki" => 1024.0,
        "Mi" => 1024.0 * 1024.0,
        "Gi" => 1024.0 * 1024.0 * 1024.0,
        "Ti" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        exponent if exponent.starts_with(['e', 'E']) => 10f64.powi(exponent[1..].parse().ok()?),
        _ => return None,
    };
    // Whole units first, so `0.1` CPU is 100 millicores, not 100.00000000000001.
    let scaled = number * factor * unit as f64;
    let rounded = scaled.round();
    let value = if (scaled - rounded).abs() < 1e-6 {
        rounded
    } else {
        scaled.ceil()
    };
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "`value` is whole, finite and not negative, and not above `u64::MAX as f64` \
                  (checked here; `as` saturates); there is no `TryFrom<f64>` for u64"
    )]
    (value <= u64::MAX as f64).then_some(value as u64)
}

/// One container's requests (0 for what it does not name).
pub(crate) fn container(container: &Container) -> Requests {
    let requests = container
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref());
    let get = |name: &str, unit: u64| {
        requests
            .and_then(|r| r.get(name))
            .and_then(|q| parse_quantity(&q.0, unit))
            .unwrap_or(0)
    };
    Requests {
        cpu_millis: get("cpu", 1000),
        memory_bytes: get("memory", 1),
    }
}

/// The pod's effective requests (KEP-753). An init container is a sidecar when its
/// `restartPolicy` is `Always`.
pub(crate) fn effective(spec: &PodSpec) -> Requests {
    let mut sidecars = Requests::default();
    let mut init_peak = Requests::default();
    for init in spec.init_containers.iter().flatten() {
        let own = container(init);
        if init.restart_policy.as_deref() == Some("Always") {
            sidecars = sidecars.plus(own);
            init_peak = init_peak.max(sidecars);
        } else {
            init_peak = init_peak.max(sidecars.plus(own));
        }
    }
    let apps = spec
        .containers
        .iter()
        .map(container)
        .fold(Requests::default(), Requests::plus);
    init_peak.max(sidecars.plus(apps))
}

/// The effective CPU request as a formula with the pod's own numbers, and its value:
/// `max(600m, 600m + 600m) = 1200m` — one term per init container (the sidecars before
/// it plus itself), and the sidecars plus the app containers.
pub(crate) fn cpu_formula(spec: &PodSpec) -> (String, u64) {
    let sum = |values: &[u64]| {
        if values.is_empty() {
            "0m".to_owned()
        } else {
            values
                .iter()
                .map(|v| format!("{v}m"))
                .collect::<Vec<_>>()
                .join(" + ")
        }
    };
    let mut sidecars = Vec::new();
    let mut init_terms = Vec::new();
    for init in spec.init_containers.iter().flatten() {
        let own = container(init).cpu_millis;
        if init.restart_policy.as_deref() == Some("Always") {
            sidecars.push(own);
            init_terms.push(sum(&sidecars));
        } else {
            let mut term = sidecars.clone();
            term.push(own);
            init_terms.push(sum(&term));
        }
    }
    let mut running = sidecars;
    running.extend(spec.containers.iter().map(|c| container(c).cpu_millis));
    let total = effective(spec).cpu_millis;
    let text = if init_terms.is_empty() {
        format!("{} = {total}m", sum(&running))
    } else {
        format!(
            "max({}, {}) = {total}m",
            init_terms.join(", "),
            sum(&running)
        )
    };
    (text, total)
}

/// `1.2` CPU, `400m`: how a person reads millicores.
pub(crate) fn show_cpu(millis: u64) -> String {
    if millis % 1000 == 0 {
        format!("{}", millis / 1000)
    } else if millis >= 1000 {
        format!("{:.1}", millis as f64 / 1000.0)
    } else {
        format!("{millis}m")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ResourceRequirements;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    fn c(cpu: &str, sidecar: bool) -> Container {
        Container {
            name: "c".to_owned(),
            restart_policy: sidecar.then(|| "Always".to_owned()),
            resources: Some(ResourceRequirements {
                requests: Some([("cpu".to_owned(), Quantity(cpu.to_owned()))].into()),
                ..ResourceRequirements::default()
            }),
            ..Container::default()
        }
    }

    #[test]
    fn quantities_parse_as_the_api_server_reads_them() {
        assert_eq!(parse_quantity("100m", 1000), Some(100));
        assert_eq!(parse_quantity("2", 1000), Some(2000));
        assert_eq!(parse_quantity("0.1", 1000), Some(100));
        assert_eq!(parse_quantity("1.5", 1000), Some(1500));
        assert_eq!(parse_quantity("128Mi", 1), Some(128 * 1024 * 1024));
        assert_eq!(parse_quantity("1G", 1), Some(1_000_000_000));
        assert_eq!(parse_quantity("1e3", 1), Some(1000));
        assert_eq!(parse_quantity("0.5m", 1000), Some(1));
        for bad in ["", "m", "1x", "-1", "1.2.3"] {
            assert_eq!(parse_quantity(bad, 1000), None, "{bad}");
        }
    }

    #[test]
    fn the_lab_numbers_of_wave2_facts_4_2() {
        let init_variant = PodSpec {
            init_containers: Some(vec![c("600m", false)]),
            containers: vec![c("600m", false)],
            ..PodSpec::default()
        };
        let regular = PodSpec {
            containers: vec![c("600m", false), c("600m", false)],
            ..PodSpec::default()
        };
        let native = PodSpec {
            init_containers: Some(vec![c("600m", true)]),
            containers: vec![c("600m", false)],
            ..PodSpec::default()
        };
        assert_eq!(effective(&init_variant).cpu_millis, 600);
        assert_eq!(effective(&regular).cpu_millis, 1200);
        assert_eq!(effective(&native).cpu_millis, 1200);
        assert_eq!(cpu_formula(&init_variant).0, "max(600m, 600m) = 600m");
        assert_eq!(cpu_formula(&regular).0, "600m + 600m = 1200m");
        assert_eq!(cpu_formula(&native).0, "max(600m, 600m + 600m) = 1200m");
    }

    /// The rule as sidecar-facts §4 quotes it, written out index by index: for each init
    /// container i, InitContainerUse(i) = the sidecars before it (and itself, if it is one)
    /// plus its own request; the pod needs the larger of the largest use and all sidecars
    /// plus all app containers.
    fn by_the_quoted_rule(inits: &[(u64, bool)], apps: &[u64]) -> u64 {
        let mut largest_use = 0;
        for i in 0..inits.len() {
            let sidecars_before: u64 = inits[..i].iter().filter(|(_, s)| *s).map(|(c, _)| c).sum();
            largest_use = largest_use.max(sidecars_before + inits[i].0);
        }
        let sidecars: u64 = inits.iter().filter(|(_, s)| *s).map(|(c, _)| c).sum();
        largest_use.max(sidecars + apps.iter().sum::<u64>())
    }

    proptest::proptest! {
        #[test]
        fn the_formula_matches_the_quoted_rule(
            inits in proptest::collection::vec((0u64..4000, proptest::bool::ANY), 0..6),
            apps in proptest::collection::vec(0u64..4000, 1..5),
        ) {
            let spec = PodSpec {
                init_containers: Some(inits.iter().map(|(cpu, sidecar)| c(&format!("{cpu}m"), *sidecar)).collect()),
                containers: apps.iter().map(|cpu| c(&format!("{cpu}m"), false)).collect(),
                ..PodSpec::default()
            };
            proptest::prop_assert_eq!(effective(&spec).cpu_millis, by_the_quoted_rule(&inits, &apps));
        }
    }

    #[test]
    fn an_init_container_after_a_sidecar_pays_for_it() {
        // sidecar-facts example B: init 9, sidecars 1 and 1, apps 3 + 4.
        let order = |inits: Vec<Container>| PodSpec {
            init_containers: Some(inits),
            containers: vec![c("3", false), c("4", false)],
            ..PodSpec::default()
        };
        let first = order(vec![c("9", false), c("1", true), c("1", true)]);
        let between = order(vec![c("1", true), c("9", false), c("1", true)]);
        assert_eq!(effective(&first).cpu_millis, 9000);
        assert_eq!(effective(&between).cpu_millis, 10_000);
    }
}
