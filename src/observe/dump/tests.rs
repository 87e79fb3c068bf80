//! The dump reader's tests: encodings, streams, lists, repeated keys, depth, slimming.

use serde_json::Value;

use super::*;
use crate::yaml;

#[test]
fn utf16_without_a_mark_is_named() {
    let wide: Vec<u8> = "kind: Pod\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    assert_eq!(parse(&wide), Err(DumpError::Utf16WithoutMark));
    let big: Vec<u8> = "kind: Pod\n"
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    assert_eq!(parse(&big), Err(DumpError::Utf16WithoutMark));
    // The negative: the same text in UTF-8 reads on (and holds no Pod worth judging).
    assert!(!matches!(
        parse(b"kind: Pod\n"),
        Err(DumpError::Utf16WithoutMark)
    ));
}

#[test]
fn deep_nesting_is_refused_before_parsing() {
    let started = std::time::Instant::now();
    let deep = "[".repeat(100_000);
    assert_eq!(parse(deep.as_bytes()), Err(DumpError::TooDeep(MAX_DEPTH)));
    let deep_json = format!("{{\"a\":{}", "{\"a\":".repeat(300));
    assert!(matches!(
        parse(deep_json.as_bytes()),
        Err(DumpError::TooDeep(_))
    ));
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    // Between serde_json's limit and ours: refused, saying by how much.
    let json_deep = format!("{}1{}", "{\"a\":".repeat(150), "}".repeat(150));
    let error = parse(json_deep.as_bytes()).expect_err("refused");
    assert!(
        error.to_string().contains("nested more than 128 levels"),
        "{error}"
    );
    // Balanced brackets in a string cost nothing; an unclosed run is counted even
    // there (the guard cannot tell a string as the YAML parser does).
    let quoted = format!("kind: Pod\nmetadata:\n  name: \"{}\"\n", "[]".repeat(1000));
    assert!(!matches!(
        parse(quoted.as_bytes()),
        Err(DumpError::TooDeep(_))
    ));
    let unclosed = format!("kind: Pod\nmetadata:\n  name: \"{}\"\n", "[".repeat(1000));
    assert!(matches!(
        parse(unclosed.as_bytes()),
        Err(DumpError::TooDeep(_))
    ));
    let indented = format!("a:\n{}b: 1\n", " ".repeat(2000));
    assert!(matches!(
        parse(indented.as_bytes()),
        Err(DumpError::TooDeep(_))
    ));
}

const POD: &str = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","uid":"u1"},"spec":{"containers":[{"name":"main"}]}}"#;

fn kinds(dump: &Dump) -> Vec<&'static str> {
    dump.objects
        .iter()
        .map(|o| match o {
            Object::Pod(_) => "Pod",
            Object::Job(_) => "Job",
        })
        .collect()
}

#[test]
fn concatenated_json_objects_are_a_stream() {
    let dump = parse(format!("{POD}\n{POD}").as_bytes()).expect("parses");
    assert_eq!(kinds(&dump), ["Pod", "Pod"]);
    assert!(!dump.truncated);
}

#[test]
fn a_json_stream_cut_short_keeps_the_complete_snapshots() {
    let text = format!("{POD}\n{}", &POD[..40]);
    let dump = parse(text.as_bytes()).expect("parses");
    assert_eq!(kinds(&dump), ["Pod"]);
    assert!(dump.truncated);
}

#[test]
fn lists_and_watch_events_are_unwrapped_and_other_kinds_skipped() {
    let text = format!(
        r#"{{"kind":"List","items":[{POD},{{"kind":"Service","metadata":{{"name":"s"}}}}]}}
{{"type":"MODIFIED","object":{POD}}}"#
    );
    assert_eq!(
        kinds(&parse(text.as_bytes()).expect("parses")),
        ["Pod", "Pod"]
    );
}

#[test]
fn typed_lists_may_leave_out_the_item_kind() {
    let text = r#"{"kind":"JobList","apiVersion":"batch/v1","items":[{"metadata":{"name":"j"}}]}"#;
    assert_eq!(kinds(&parse(text.as_bytes()).expect("parses")), ["Job"]);
}

#[test]
fn yaml_streams_with_comments_between_documents() {
    let text = "# snapshot 1\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: main}]}\n---\n# snapshot 2\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: main}]}\n";
    assert_eq!(
        kinds(&parse(text.as_bytes()).expect("parses")),
        ["Pod", "Pod"]
    );
}

#[test]
fn bad_input_is_named() {
    assert_eq!(parse(b"\xff\xff"), Err(DumpError::NotText));
    assert_eq!(parse(b"kind: Pod\n\xc3("), Err(DumpError::NotText));
    assert!(matches!(parse(b"a: [\n"), Err(DumpError::Syntax(_))));
    assert_eq!(parse(b"kind: Service\n"), Err(DumpError::NoPodOrJob(1)));
    assert_eq!(parse(b""), Err(DumpError::NoPodOrJob(0)));
    let error = parse(br#"{"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":5}}"#)
        .expect_err("containers must be a list");
    assert!(
        error
            .to_string()
            .starts_with("document 1 (Pod `p`) is not a valid Pod"),
        "{error}"
    );
}

const YAML_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  uid: u1\n  labels:\n    app: a\nspec:\n  containers:\n  - name: main\n    image: busybox\n";

#[test]
fn a_key_given_twice_in_yaml_is_refused_with_its_line() {
    let twice = YAML_POD.replace("    app: a\n", "    app: a\n    app: b\n");
    assert_eq!(
        parse(twice.as_bytes()),
        Err(DumpError::DuplicateKey {
            document: 1,
            key: "app".to_owned(),
            line: 8,
        })
    );
    // In the second document of a stream, the line counts from the top of the input.
    let stream = format!(
        "{YAML_POD}---\n{}",
        YAML_POD.replace("  uid: u1\n", "  uid: u1\n  name: q\n")
    );
    let error = parse(stream.as_bytes()).expect_err("refused");
    assert_eq!(
        error,
        DumpError::DuplicateKey {
            document: 2,
            key: "name".to_owned(),
            line: 18,
        }
    );
    assert_eq!(
        error.to_string(),
        "document 2: duplicate key `name` at line 18 (kubectl refuses this too; the object cannot exist on a cluster)"
    );
    // The same input with each key once is read.
    let dump = parse(format!("{YAML_POD}---\n{YAML_POD}").as_bytes()).expect("parses");
    assert_eq!(kinds(&dump), ["Pod", "Pod"]);
}

/// `value` as `kubectl get -o json` prints it: indented by four, one key a line.
fn pretty(value: &Value) -> String {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(value, &mut serializer).expect("serializes");
    String::from_utf8(out).expect("utf-8")
}

fn pod_value(name: &str) -> Value {
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "uid": format!("uid-{name}")},
        "spec": {"containers": [{"name": "main", "image": "busybox"}]},
    })
}

#[test]
fn a_key_given_twice_in_json_is_refused_with_its_line() {
    let list = serde_json::json!({
        "apiVersion": "v1",
        "items": [pod_value("a"), pod_value("b")],
        "kind": "List",
    });
    let text = pretty(&list);
    // Give the second pod's container its image twice, as a hand edit might.
    let at = text.rfind("\"image\": \"busybox\"").expect("has an image");
    let twice = format!("{}\"image\": \"nginx\",\n{}", &text[..at], &text[at..]);
    let line = twice[..at].matches('\n').count() + 2;
    assert_eq!(
        parse(twice.as_bytes()),
        Err(DumpError::DuplicateKey {
            document: 1,
            key: "image".to_owned(),
            line,
        })
    );
    // Second document of a stream; at the top level of an object; escaped.
    let pod = pretty(&pod_value("c"));
    let stream = format!(
        "{pod}\n{}",
        pod.replacen("\"kind\"", "\"ki\\u006ed\": \"Pod\",\n    \"kind\"", 1)
    );
    let error = parse(stream.as_bytes()).expect_err("refused");
    assert!(
        matches!(&error, DumpError::DuplicateKey { document: 2, key, line } if key == "kind" && *line == pod.lines().count() + 4),
        "{error:?}"
    );
    // Parts of an object no reader looks at are checked too.
    let hidden = r#"{"kind":"Pod","metadata":{"name":"p"},"items":[{"a":1,"a":2}]}"#;
    assert!(matches!(
        parse(hidden.as_bytes()),
        Err(DumpError::DuplicateKey { key, .. }) if key == "a"
    ));
    // The same input with each key once is read.
    assert_eq!(
        kinds(&parse(text.as_bytes()).expect("parses")),
        ["Pod", "Pod"]
    );
}

fn with_mark(mark: &[u8], text: &str, unit: impl Fn(u32) -> Vec<u8>, wide: bool) -> Vec<u8> {
    let mut bytes = mark.to_vec();
    if wide {
        text.chars().for_each(|c| bytes.extend(unit(u32::from(c))));
    } else {
        text.encode_utf16()
            .for_each(|u| bytes.extend(unit(u32::from(u))));
    }
    bytes
}

#[test]
fn utf16_and_utf32_with_a_byte_order_mark_read_as_utf8() {
    // A non-ASCII name, and one outside the Basic Multilingual Plane (a UTF-16 pair).
    let text = YAML_POD.replace("app: a", "app: \"caf\u{e9} \u{1F680}\"");
    let utf8 = parse(text.as_bytes()).expect("parses");
    let two = |u: u32| u.to_le_bytes()[..2].to_vec();
    let two_be = |u: u32| u.to_be_bytes()[2..].to_vec();
    let inputs = [
        with_mark(b"\xFF\xFE", &text, two, false),
        with_mark(b"\xFE\xFF", &text, two_be, false),
        with_mark(
            b"\xFF\xFE\x00\x00",
            &text,
            |u| u.to_le_bytes().to_vec(),
            true,
        ),
        with_mark(
            b"\x00\x00\xFE\xFF",
            &text,
            |u| u.to_be_bytes().to_vec(),
            true,
        ),
        [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
    ];
    for input in inputs {
        assert_eq!(parse(&input).as_ref(), Ok(&utf8), "{:?}", &input[..4]);
    }
    // JSON too, the way PowerShell 5.1 saves `kubectl get -o json > dump.json`.
    let json = pretty(&pod_value("p"));
    let utf16 = with_mark(b"\xFF\xFE", &json, two, false);
    assert_eq!(parse(&utf16), parse(json.as_bytes()));
    // A mark followed by something else is named for what it claimed.
    assert_eq!(
        parse(b"\xFF\xFEk\x00i"),
        Err(DumpError::BadEncoding("UTF-16LE"))
    );
    assert_eq!(
        parse(b"\xFF\xFE\x00\xD8k\x00"), // a lone surrogate
        Err(DumpError::BadEncoding("UTF-16LE"))
    );
    assert_eq!(
        parse(b"\x00\x00\xFE\xFF\x00\x11\x00\x00"),
        Err(DumpError::BadEncoding("UTF-32BE"))
    );
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "a scenario reads top to bottom, as one story"
)]
fn slimming_keeps_every_field_the_judge_reads() {
    let last_applied = r#"{"spec":{"template":{"spec":{"initContainers":[{"name":"s","restartPolicy":"Always"}]}}}}"#;
    let job = serde_json::json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "j",
            "uid": "j1",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied},
            "managedFields": [{"manager": "kubectl", "operation": "Update"}],
        },
        "spec": {"template": {"spec": {"containers": [{"name": "main", "restartPolicy": "Always"}]}}},
    });
    let pod = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "p",
            "uid": "p1",
            "labels": {"batch.kubernetes.io/job-name": "j"},
            "annotations": {"note": "x"},
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "j", "uid": "j1", "controller": true}],
            "managedFields": [{"manager": "kubelet"}],
        },
        "spec": {
            "initContainers": [{
                "name": "s",
                "image": "busybox",
                "restartPolicy": "Always",
                "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
                "startupProbe": {"exec": {"command": ["true"]}},
                "resources": {"requests": {"cpu": "100m"}},
                "env": [{"name": "A", "value": "1"}],
                "volumeMounts": [{"name": "v", "mountPath": "/v"}],
            }],
            "containers": [{"name": "main", "image": "busybox"}],
            "volumes": [{"name": "v", "emptyDir": {}}],
            "terminationGracePeriodSeconds": 30,
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "initContainerStatuses": [{
                "name": "s", "image": "busybox", "imageID": "", "ready": true, "restartCount": 2,
                "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
            }],
        },
    });
    for text in [
        format!("{job}\n{pod}"),
        format!(
            "{}---\n{}",
            yaml::to_string(&job).expect("yaml"),
            yaml::to_string(&pod).expect("yaml")
        ),
    ] {
        let dump = parse(text.as_bytes()).expect("parses");
        let [Object::Job(job), Object::Pod(pod)] = &dump.objects[..] else {
            panic!("a Job and a Pod: {:?}", kinds(&dump));
        };
        let kept = job
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(LAST_APPLIED_KEY));
        assert_eq!(kept.map(String::as_str), Some(last_applied));
        assert!(job.metadata.managed_fields.is_none() && pod.metadata.managed_fields.is_none());
        let spec = pod.spec.as_ref().expect("spec");
        let sidecar = &spec.init_containers.as_ref().expect("init containers")[0];
        let pre_stop = sidecar.lifecycle.as_ref().and_then(|l| l.pre_stop.as_ref());
        assert!(pre_stop.and_then(|p| p.exec.as_ref()).is_some());
        assert!(sidecar.startup_probe.is_some());
        assert_eq!(sidecar.restart_policy.as_deref(), Some("Always"));
        assert_eq!(sidecar.image.as_deref(), Some("busybox"));
        assert!(sidecar.resources.is_some());
        assert_eq!(spec.termination_grace_period_seconds, Some(30));
        assert!(sidecar.env.is_none() && sidecar.volume_mounts.is_none() && spec.volumes.is_none());
        assert!(pod.metadata.owner_references.is_some() && pod.metadata.labels.is_some());
        let status = pod.status.as_ref().expect("status");
        assert_eq!(
            status
                .init_container_statuses
                .as_ref()
                .map(|s| s[0].restart_count),
            Some(2)
        );
        assert!(status.conditions.is_some());
        // The judge still reads the Job's manifest through its annotation.
        assert_eq!(crate::verdict::judge(&dump, None).pod.as_deref(), Some("p"));
    }
}

const LAST_APPLIED_KEY: &str = "kubectl.kubernetes.io/last-applied-configuration";

#[test]
fn a_list_of_thousands_of_pods_is_read_at_once() {
    let items: Vec<Value> = (0..2000).map(|n| pod_value(&format!("p{n}"))).collect();
    let text = pretty(&serde_json::json!({"apiVersion": "v1", "items": items, "kind": "List"}));
    let started = std::time::Instant::now();
    let dump = parse(text.as_bytes()).expect("parses");
    assert_eq!(dump.objects.len(), 2000);
    let subject = crate::observe::history::subject(&dump, None, &|_| false);
    assert_eq!(subject.other_pods, 1999);
    // Debug build: quadratic grouping or a copy per pod would take far longer.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn owned_input_reads_as_borrowed_input() {
    let list = serde_json::json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            pod_value("a"),
            {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"}, "involvedObject": {}, "reason": "FailedCreate"},
            {"kind": "Service", "metadata": {"name": "s"}},
            {"kind": "PodList", "items": [{"metadata": {"name": "b"}}, {"metadata": {"name": "c"}}]},
            pod_value("d"),
        ],
    });
    let watch = format!(r#"{{"type":"MODIFIED","object":{}}}"#, pod_value("f"));
    let inputs = [
        pretty(&list),
        format!("{}\n{watch}\n{}", pretty(&pod_value("e")), &POD[..40]),
        format!("{YAML_POD}---\n{YAML_POD}"),
    ];
    for input in inputs {
        let borrowed = parse(input.as_bytes()).expect("parses");
        assert_eq!(
            parse_owned(input.clone().into_bytes()),
            Ok(borrowed.clone())
        );
        let names: Vec<_> = borrowed
            .objects
            .iter()
            .filter_map(|o| match o {
                Object::Pod(pod) => pod.metadata.name.clone(),
                Object::Job(job) => job.metadata.name.clone(),
            })
            .collect();
        assert!(
            names.windows(2).all(|w| w[0] <= w[1]),
            "in input order: {names:?}"
        );
    }
    let listed = parse_owned(pretty(&list).into_bytes()).expect("parses");
    assert_eq!(kinds(&listed), ["Pod", "Pod", "Pod", "Pod"]);
    assert_eq!(listed.events.len(), 1);
    // Of two errors, the one nearer the top is reported, as a forward read would.
    let bad = pretty(&serde_json::json!({"kind": "List", "items": [
        {"kind": "Pod", "metadata": {"name": "x"}, "spec": {"containers": 1}},
        {"kind": "Pod", "metadata": {"name": "y"}, "spec": {"containers": 2}},
    ]}));
    let error = parse_owned(bad.into_bytes()).expect_err("refused");
    assert!(error.to_string().contains("(Pod `x`)"), "{error}");
}
