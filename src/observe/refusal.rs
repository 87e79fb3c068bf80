//! The API server's refusal of an object, as a learner can paste it: the line kubectl
//! prints on a failed `apply` or `create` (`The Job "x" is invalid: …`, `Error from server
//! (Invalid): …`), or the API's own `Status` body (`kind: Status`, `status: Failure`), as
//! `kubectl create -v=8` or `curl` show it. Pure: text in.

use serde_json::Value;

/// A refusal: the server's message, and the object it names when it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// One line, as kubectl prints it.
    pub message: String,
    /// The refused object's name (`cy-job-mistake`), when the message or body names it.
    pub name: Option<String>,
}

/// The API server's refusal in kubectl's error output, as one line; `None` for other
/// failures (no connection, no permission, a kubectl error): those are not results.
/// With several causes kubectl ends the line at `is invalid:` and lists them below, one
/// `* cause` a line (`MultilineError`, k8s.io/kubectl/pkg/cmd/util/helpers.go): they are
/// joined onto it.
pub fn from_kubectl(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines().map(str::trim);
    let first = lines.find(|line| {
        line.starts_with("The ") && (line.contains(" is invalid: ") || line.ends_with(" is invalid:"))
            || line.starts_with("Error from server (Invalid)")
            // Forbidden by admission (a quota, a policy) is a result; forbidden by
            // RBAC ("User … cannot create …") is the learner's permissions.
            || (line.starts_with("Error from server (Forbidden)")
                && !line.contains("cannot ")
                && line.contains(" is forbidden: "))
    })?;
    let causes: Vec<&str> = lines
        .take_while(|line| line.starts_with("* "))
        .map(|line| line.trim_start_matches("* "))
        .collect();
    Some(if causes.is_empty() {
        first.to_owned()
    } else {
        format!("{first} {}", causes.join("; "))
    })
}

/// The API server's warnings in kubectl's error output, in order, each once: kubectl
/// prints every `Warning` response header as a line `Warning: <text>`
/// (k8s.io/client-go/rest/warnings.go). A class's namespace warns about Pod Security
/// `restricted` (`would violate PodSecurity "restricted:v1.34": …`) while the Job is
/// accepted: a warning is news for the learner, never a refusal or a failure.
pub fn api_warnings(stderr: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in stderr.lines().map(str::trim) {
        if let Some(text) = line.strip_prefix("Warning: ")
            && !out.iter().any(|seen| seen == text)
        {
            out.push(text.to_owned());
        }
    }
    out
}

/// kubectl's own failure — no connection, no permission, a bad flag — as one line: not
/// the API server's judgement of an object, so nothing to judge.
pub fn kubectl_failure(text: &str) -> Option<String> {
    // kubectl may log a few lines first (`E1207 … memcache.go:265] couldn't get …`).
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .take(8)
        .find(|line| {
            [
                "Error from server",
                "The connection to the server",
                "Unable to connect to the server",
                "error: ",
            ]
            .iter()
            .any(|prefix| line.starts_with(prefix))
        })
        .map(str::to_owned)
}

/// The refusal in `text`: kubectl's error line, or a `Status` body in JSON or YAML
/// (`status: Failure`; a `Success` status refuses nothing).
pub fn parse(text: &str) -> Option<Refusal> {
    if let Some(status) = status_body(text) {
        return Some(status);
    }
    let message = from_kubectl(text)?;
    let name = quoted_name(&message);
    Some(Refusal { message, name })
}

/// Whether `text` is an API `Status` object at all — one `parse` did not take for a
/// refusal of the object (a success, or a refusal of the request: RBAC, a name taken).
pub fn is_status(text: &str) -> bool {
    status_value(text).is_some()
}

/// `text` as a `Status` object, JSON or YAML.
fn status_value(text: &str) -> Option<Value> {
    let value: Value = serde_json::from_str(text.trim())
        .ok()
        .or_else(|| crate::yaml::from_str(text).ok())?;
    (value.get("kind").and_then(Value::as_str) == Some("Status")).then_some(value)
}

/// A `Status` object with `status: Failure`: the body the API server answers a refused
/// request with (`k8s.io/apimachinery/pkg/apis/meta/v1.Status`).
fn status_body(text: &str) -> Option<Refusal> {
    let value = status_value(text)?;
    if value.get("status").and_then(Value::as_str) != Some("Failure") {
        return None;
    }
    let message = value.get("message").and_then(Value::as_str)?.trim();
    let reason = value.get("reason").and_then(Value::as_str);
    // What the object says decides only `Invalid` (validation) and `Forbidden` by
    // admission; RBAC's Forbidden, AlreadyExists, NotFound and the rest are about the
    // request, not the Job.
    let judged = match reason {
        Some("Invalid") => true,
        Some("Forbidden") => !message.contains("cannot "),
        _ => false,
    };
    if !judged {
        return None;
    }
    let code = value.get("code").and_then(Value::as_u64);
    let name = value
        .pointer("/details/name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| quoted_name(message));
    // kubectl prints it as `Error from server (Invalid): <message>`: so does this.
    let message = match (reason, code) {
        (Some(reason), Some(code)) => {
            format!("Error from server ({reason}, HTTP {code}): {message}")
        }
        (Some(reason), None) => format!("Error from server ({reason}): {message}"),
        _ => message.to_owned(),
    };
    Some(Refusal { message, name })
}

/// The first double-quoted word before ` is invalid` or ` is forbidden`: the object's
/// name in the server's message (`Job.batch "cy-job-mistake" is invalid`).
fn quoted_name(message: &str) -> Option<String> {
    let end = message
        .find("\" is invalid")
        .or_else(|| message.find("\" is forbidden"))?;
    let start = message[..end].rfind('"')? + 1;
    Some(message[start..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_warnings_are_read_once_each_and_are_no_refusal() {
        let stderr = "Warning: would violate PodSecurity \"restricted:v1.34\": allowPrivilegeEscalation != false (containers \"postgres\", \"main\" must set securityContext.allowPrivilegeEscalation=false)\nWarning: would violate PodSecurity \"restricted:v1.34\": allowPrivilegeEscalation != false (containers \"postgres\", \"main\" must set securityContext.allowPrivilegeEscalation=false)\njob.batch/cy-job-native created\n";
        let warnings = api_warnings(stderr);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("would violate PodSecurity \"restricted:v1.34\""));
        assert_eq!(from_kubectl(stderr), None);
        assert_eq!(kubectl_failure(stderr), None);
        assert!(api_warnings("job.batch/x created\n").is_empty());
    }

    const INVALID: &str = "The Job \"cy-job-mistake\" is invalid: spec.template.spec.containers[1].restartPolicy: Forbidden: may not be set for non-init containers\n";

    #[test]
    fn the_api_servers_refusals_are_told_from_other_failures() {
        assert!(
            from_kubectl(INVALID)
                .is_some_and(|r| r.contains("may not be set for non-init containers"))
        );
        // Permission problems are not lessons: they are errors.
        assert_eq!(
            from_kubectl(
                "Error from server (Forbidden): error when creating \"x\": jobs.batch is forbidden: User \"u\" cannot create resource \"jobs\""
            ),
            None
        );
        assert_eq!(
            from_kubectl("The connection to the server 127.0.0.1:6443 was refused"),
            None
        );
    }

    /// Two causes: kubectl ends the first line at `is invalid:` and lists them below.
    #[test]
    fn several_causes_are_joined_onto_the_line() {
        let text = "The Job \"cy-job-mistake\" is invalid: \n* spec.template.spec.containers[1].restartPolicy: Forbidden: may not be set for non-init containers\n* spec.template.spec.containers[0].image: Required value\n";
        let refusal = parse(text).expect("a refusal");
        assert_eq!(refusal.name.as_deref(), Some("cy-job-mistake"));
        assert!(
            refusal
                .message
                .contains("may not be set for non-init containers")
                && refusal.message.contains("image: Required value"),
            "{}",
            refusal.message
        );
        // The negative: without the cause lines it is the bare line.
        let bare = parse("The Job \"cy-job-mistake\" is invalid:\n").expect("a refusal");
        assert!(!bare.message.contains("Required value"));
    }

    #[test]
    fn kubectls_own_failures_are_not_refusals() {
        for text in [
            "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?\n",
            "Error from server (Forbidden): error when creating \"x.yaml\": jobs.batch is forbidden: User \"alice\" cannot create resource \"jobs\" in API group \"batch\" in the namespace \"lab\"\n",
        ] {
            assert_eq!(parse(text), None, "{text}");
            assert!(kubectl_failure(text).is_some(), "{text}");
        }
        assert_eq!(kubectl_failure("apiVersion: v1\nkind: Pod\n"), None);
        let rbac = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"jobs.batch is forbidden: User \"alice\" cannot create resource \"jobs\" in API group \"batch\" in the namespace \"lab\"","reason":"Forbidden","details":{"group":"batch","kind":"jobs"},"code":403}"#;
        assert_eq!(parse(rbac), None);
        assert!(is_status(rbac));
        let exists = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"jobs.batch \"cy-job-mistake\" already exists","reason":"AlreadyExists","details":{"name":"cy-job-mistake","group":"batch","kind":"jobs"},"code":409}"#;
        assert_eq!(parse(exists), None);
        assert!(!is_status(
            "The connection to the server 127.0.0.1:6443 was refused"
        ));
    }

    #[test]
    fn kubectl_lines_name_the_object() {
        let refusal = parse(INVALID).expect("a refusal");
        assert_eq!(refusal.name.as_deref(), Some("cy-job-mistake"));
        let from_apply = "Error from server (Invalid): error when creating \"step-5-sidecar.yaml\": Job.batch \"cy-job-mistake\" is invalid: spec.template.spec.containers[1].restartPolicy: Forbidden: may not be set for non-init containers";
        assert_eq!(
            parse(from_apply).and_then(|r| r.name).as_deref(),
            Some("cy-job-mistake")
        );
    }

    #[test]
    fn status_bodies_in_json_and_yaml() {
        let json = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Job.batch \"cy-job-mistake\" is invalid: spec.template.spec.containers[1].restartPolicy: Forbidden: may not be set for non-init containers","reason":"Invalid","details":{"name":"cy-job-mistake","group":"batch","kind":"Job","causes":[{"reason":"FieldValueForbidden","message":"Forbidden: may not be set for non-init containers","field":"spec.template.spec.containers[1].restartPolicy"}]},"code":422}"#;
        let refusal = parse(json).expect("a refusal");
        assert_eq!(refusal.name.as_deref(), Some("cy-job-mistake"));
        assert!(
            refusal
                .message
                .starts_with("Error from server (Invalid, HTTP 422): Job.batch"),
            "{}",
            refusal.message
        );
        let yaml = "kind: Status\napiVersion: v1\nstatus: Failure\nreason: Invalid\ncode: 422\nmessage: 'Job.batch \"cy-job-mistake\" is invalid: x: Forbidden: y'\n";
        assert_eq!(
            parse(yaml).and_then(|r| r.name).as_deref(),
            Some("cy-job-mistake")
        );
        // The negative: a successful Status refuses nothing.
        let success = json.replace("\"Failure\"", "\"Success\"");
        assert_eq!(parse(&success), None);
    }
}
