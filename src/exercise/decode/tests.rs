use super::lines::{KeyLines, Seg};
use super::values::is_quantity;
use super::*;

const JOB: &str = crate::assets::JOB_TEMPLATE;

/// The lab's Job with `line` inserted after the first line that ends with `after`.
fn with_line_after(after: &str, line: &str) -> String {
    let mut out = String::new();
    let mut done = false;
    for existing in JOB.lines() {
        out.push_str(existing);
        out.push('\n');
        if !done && existing.ends_with(after) {
            out.push_str(line);
            out.push('\n');
            done = true;
        }
    }
    assert!(done, "no line ends with {after:?}");
    out
}

/// The 1-based line of the first line equal to `line` (its indentation included).
fn line_of(text: &str, line: &str) -> usize {
    text.lines()
        .position(|l| l == line)
        .expect("the line is there")
        + 1
}

fn refused(text: &str) -> DecodeError {
    decode_job(text).expect_err("refused")
}

fn key(path: &str) -> Vec<Seg> {
    path.split('.')
        .map(|seg| match seg.parse() {
            Ok(index) => Seg::Index(index),
            Err(_) => Seg::Key(seg.to_owned()),
        })
        .collect()
}

#[test]
fn the_lab_job_decodes_and_so_does_what_the_lab_writes_of_it() {
    let job = decode_job(JOB).expect("decodes");
    assert_eq!(job.metadata.name.as_deref(), Some("cy-job"));
    let written = crate::yaml::to_string_with_key_order(&job, &["name"]).expect("encodes");
    assert_eq!(decode_job(&written).expect("decodes"), job);
    // The exercise's label, quoted as it must be.
    let labelled = JOB.replacen(
        "    app.kubernetes.io/name: cy-job\n",
        "    app.kubernetes.io/name: cy-job\n    sidecar-lab/exercise: \"1\"\n",
        1,
    );
    assert!(decode_job(&labelled).is_ok());
}

#[test]
fn every_key_of_the_lab_job_is_placed_on_its_line() {
    let value: serde_json::Value = crate::yaml::from_str(JOB).expect("parses");
    let lines = KeyLines::read(JOB).verified(|path| exists(&value, path));
    let at = |path: &str| lines.line_of(&key(path));
    assert_eq!(at("apiVersion"), Some(line_of(JOB, "apiVersion: batch/v1")));
    assert_eq!(
        at("spec.template.spec.initContainers.0.restartPolicy"),
        Some(line_of(JOB, "          restartPolicy: Always"))
    );
    // After a flow list and a block scalar, the walk is still on the right lines.
    assert_eq!(
        at("spec.template.spec.containers.0.env.0.name"),
        Some(line_of(JOB, "            - name: PGPASSWORD"))
    );
    let resources: Vec<usize> = JOB
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "memory: 32Mi")
        .map(|(n, _)| n + 1)
        .collect();
    assert_eq!(
        at("spec.template.spec.containers.0.resources.requests.memory"),
        resources.first().copied()
    );
    assert_eq!(at("spec.template.spec.containers.0.args.0"), None);
}

#[test]
fn the_walk_follows_compact_lists_nested_items_and_block_scalars() {
    let text =
        "a:\n- b: 1\n  c:\n  - - d: 2\n    - e: |\n        x: not a key\n      f: 3\n- g: 4\n";
    let lines = KeyLines::read(text);
    assert_eq!(lines.line_of(&key("a.0.c")), Some(3));
    assert_eq!(lines.line_of(&key("a.0.c.0.0.d")), Some(4));
    assert_eq!(lines.line_of(&key("a.0.c.0.1.e")), Some(5));
    assert_eq!(lines.line_of(&key("a.0.c.0.1.f")), Some(7));
    assert_eq!(lines.line_of(&key("a.1.g")), Some(8));
    assert_eq!(lines.path_at(6), None);
    let value: serde_json::Value = crate::yaml::from_str(text).expect("parses");
    assert_eq!(
        lines.verified(|p| exists(&value, p)).line_of(&key("a.1.g")),
        Some(8)
    );
}

#[test]
fn restart_policy_under_resources_is_an_unknown_field_on_its_line() {
    let text = with_line_after("memory: 128Mi", "            restartPolicy: Always");
    let error = refused(&text);
    assert_eq!(
        error.field.as_deref(),
        Some("spec.template.spec.initContainers[0].resources.restartPolicy")
    );
    assert_eq!(
        error.message,
        "unknown field \"spec.template.spec.initContainers[0].resources.restartPolicy\""
    );
    assert_eq!(error.field_name(), Some("restartPolicy"));
    assert_eq!(
        error.line,
        Some(line_of(&text, "            restartPolicy: Always"))
    );
    insta::assert_snapshot!(error.to_string());
}

#[test]
fn restart_policy_under_requests_is_a_resource_that_is_no_quantity() {
    let text = with_line_after("memory: 128Mi", "              restartPolicy: Always");
    let error = refused(&text);
    assert_eq!(
        error.field.as_deref(),
        Some("spec.template.spec.initContainers[0].resources.requests[restartPolicy]")
    );
    assert_eq!(error.field_name(), Some("restartPolicy"));
    assert_eq!(
        error.line,
        Some(line_of(&text, "              restartPolicy: Always"))
    );
    assert!(error.message.contains("not a quantity"), "{error}");
    for good in ["100m", "128Mi", "1", "0.5", "1e3", "+2Gi", "5E-3"] {
        assert!(is_quantity(good), "{good}");
    }
    for bad in ["Always", "", "Mi", "1 Gi", "1Gx", "--1"] {
        assert!(!is_quantity(bad), "{bad}");
    }
}

#[test]
fn restart_policy_under_an_env_item_or_the_template_is_unknown_too() {
    let text = with_line_after(
        "value: postgres   # a throwaway lab database, reachable only inside the pod",
        "              restartPolicy: Always",
    );
    let error = refused(&text);
    assert_eq!(
        error.field.as_deref(),
        Some("spec.template.spec.initContainers[0].env[1].restartPolicy")
    );
    assert!(
        error
            .next
            .starts_with("an item of `env` has no field `restartPolicy`"),
        "{error}"
    );
    assert_eq!(
        error.line,
        Some(line_of(&text, "              restartPolicy: Always"))
    );

    let text = JOB
        .replacen("      restartPolicy: Never\n", "", 1)
        .replacen(
            "  template:\n",
            "  template:\n    restartPolicy: Never\n",
            1,
        );
    let error = refused(&text);
    assert_eq!(error.field.as_deref(), Some("spec.template.restartPolicy"));
    assert!(error.next.starts_with("`template` has no field"), "{error}");
    assert_eq!(error.line, Some(line_of(&text, "    restartPolicy: Never")));
    assert_eq!(error.field_name(), Some("restartPolicy"));
}

#[test]
fn a_key_indented_among_list_items_is_a_parse_error_naming_it() {
    let text = with_line_after("value: postgres", "            restartPolicy: Always");
    let error = refused(&text);
    let line = line_of(&text, "            restartPolicy: Always");
    assert_eq!(error.line, Some(line), "{error}");
    assert!(
        error.message.starts_with("the YAML does not parse"),
        "{error}"
    );
    assert_eq!(error.field_name(), Some("restartPolicy"), "{error}");

    // Under a scalar: the parser stops on that line, the walk did not place it.
    let text = with_line_after(
        "          image: postgres:17.5-alpine",
        "            restartPolicy: Always",
    );
    let error = refused(&text);
    assert_eq!(
        error.line,
        Some(line_of(&text, "            restartPolicy: Always")),
        "{error}"
    );
    assert_eq!(error.field.as_deref(), Some("restartPolicy"), "{error}");
}

#[test]
fn every_unknown_field_is_named_and_flow_style_gets_no_line() {
    let text = JOB
        .replacen(
            "  backoffLimit: 0\n",
            "  backoffLimit: 0\n  backofLimit: 1\n",
            1,
        )
        .replacen(
            "      restartPolicy: Never\n",
            "      restartPolicy: Never\n      hostname2: x\n",
            1,
        );
    let error = refused(&text);
    assert_eq!(error.field.as_deref(), Some("spec.backofLimit"));
    assert_eq!(error.line, Some(line_of(&text, "  backofLimit: 1")));
    assert!(
        error
            .message
            .contains("also unknown: \"spec.template.spec.hostname2\""),
        "{error}"
    );

    let flow = r#"{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "x"},
      "spec": {"template": {"spec": {"restartPolicy": "Never",
        "containers": [{"name": "main", "image": "busybox", "restartPolicy": "Always", "bogus": 1}]}}}}"#;
    let error = refused(flow);
    assert_eq!(
        error.field.as_deref(),
        Some("spec.template.spec.containers[0].bogus")
    );
    assert_eq!(error.line, None);
}

#[test]
fn a_key_given_twice_is_refused_with_both_lines() {
    let text = with_line_after("imagePullPolicy: IfNotPresent", "          image: busybox");
    let error = refused(&text);
    let second = line_of(&text, "          image: busybox");
    assert_eq!(error.line, Some(second));
    assert_eq!(
        error.field.as_deref(),
        Some("spec.template.spec.initContainers[0].image")
    );
    assert!(
        error.message.contains("given twice (first on line"),
        "{error}"
    );
}

#[test]
fn a_wrong_type_is_refused_with_the_line_column_and_field() {
    let text = JOB.replacen(
        "  backoffLimit: 0\n",
        "  backoffLimit: 0\n  activeDeadlineSeconds: ten\n",
        1,
    );
    let error = refused(&text);
    assert_eq!(
        error.line,
        Some(line_of(&text, "  activeDeadlineSeconds: ten"))
    );
    assert_eq!(error.column, Some(26));
    assert_eq!(error.field.as_deref(), Some("spec.activeDeadlineSeconds"));
    assert!(error.message.contains("invalid type"), "{error}");

    let text = JOB.replacen("command: [\"sh\", \"-c\"]", "command: \"sh -c\"", 1);
    let error = refused(&text);
    assert_eq!(
        error.field.as_deref(),
        Some("spec.template.spec.containers[0].command")
    );
    assert!(error.line.is_some());
}

#[test]
fn the_field_name_is_the_last_key_whatever_the_notation() {
    let named = |field: &str| {
        let error = DecodeError::new("m".to_owned(), "n").with_field(Some(field.to_owned()));
        error.field_name().map(str::to_owned)
    };
    assert_eq!(
        named("spec.template.restartPolicy").as_deref(),
        Some("restartPolicy")
    );
    assert_eq!(named("restartPolicy").as_deref(), Some("restartPolicy"));
    assert_eq!(
        named("a.requests[restartPolicy]").as_deref(),
        Some("restartPolicy")
    );
    assert_eq!(
        named("metadata.labels[app.kubernetes.io/name]").as_deref(),
        Some("app.kubernetes.io/name")
    );
    assert_eq!(named("spec.containers[0]").as_deref(), Some("containers"));
    assert_eq!(named("a.b[0][1]").as_deref(), Some("b"));
    assert_eq!(named("x[]").as_deref(), None);
    assert_eq!(named("").as_deref(), None);
    assert_eq!(
        api_path(&[
            Seg::Key("metadata".into()),
            Seg::Key("labels".into()),
            Seg::Key("a.b/c".into())
        ]),
        "metadata.labels[a.b/c]"
    );
}

#[test]
fn a_number_where_the_api_takes_a_text_is_refused_and_a_quantity_is_not() {
    let text = JOB.replacen(
        "              value: postgres\n",
        "              value: 5432\n",
        1,
    );
    let error = refused(&text);
    assert_eq!(
        error.field.as_deref(),
        Some("spec.template.spec.initContainers[0].env[0].value")
    );
    assert_eq!(
        error.line,
        Some(line_of(&text, "              value: 5432"))
    );
    assert!(error.message.contains("is a number (5432)"), "{error}");
    let text = JOB.replacen(
        "    app.kubernetes.io/name: cy-job\n",
        "    app.kubernetes.io/name: cy-job\n    sidecar-lab/exercise: 1\n",
        1,
    );
    assert_eq!(
        refused(&text).field.as_deref(),
        Some("metadata.labels[sidecar-lab/exercise]")
    );
    let text = JOB.replacen("cpu: 100m", "cpu: 1", 1);
    assert!(decode_job(&text).is_ok());
}

#[test]
fn a_file_that_is_not_one_job_says_what_it_is() {
    let says = |text: &str| refused(text).message;
    assert!(says("").contains("no YAML document"));
    assert!(says("# only a comment\n").contains("no YAML document"));
    assert!(says("---\n").contains("no YAML document"));
    let two = format!("{JOB}---\n{JOB}");
    let error = refused(&two);
    assert!(error.message.contains("more than one YAML document"));
    assert_eq!(error.line, Some(JOB.lines().count() + 1));
    assert!(decode_job(&format!("---\n{JOB}---\n")).is_ok());
    assert!(says("apiVersion: v1\nkind: List\nitems: []\n").contains("this is a List"));
    assert!(says("just words\n").contains("single value"));
    assert!(says("- apiVersion: batch/v1\n  kind: Job\n").contains("a list of 1 items"));
    let pod = refused("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n");
    assert_eq!(pod.message, "this is a Pod; the exercise needs a Job");
    assert_eq!(pod.line, Some(2));
    let old = refused(&JOB.replacen("apiVersion: batch/v1", "apiVersion: batch/v1beta1", 1));
    assert!(old.message.contains("batch/v1beta1"), "{old}");
    assert!(says("metadata:\n  name: x\n").contains("no `kind`"));
    let top = refused(&format!("{JOB}restartPolicy: Never\n"));
    assert_eq!(top.field.as_deref(), Some("restartPolicy"));
    assert!(
        top.next
            .starts_with("a Job has no field `restartPolicy` at this level")
    );
}

#[test]
fn odd_inputs_are_refused_without_a_panic() {
    let deep_list = "- ".repeat(20_000);
    let deep_map: String = (0..300)
        .map(|n| format!("{}k{n}:\n", "  ".repeat(n)))
        .collect();
    let odd = [
        "\t",
        "\tkind: Job",
        "kind:\tJob\napiVersion: batch/v1\n",
        "a: &x {b: 1}\nc: *x\n",
        "a: *missing\n",
        "? complex\n: key\n",
        "{}",
        "[]",
        "[[[[",
        "}}}",
        "\u{feff}kind: Job\n",
        "kind: Job\r\napiVersion: batch/v1\r\n",
        "%YAML 1.2\n---\nkind: Job\napiVersion: batch/v1\n",
        "'''",
        "\"\\",
        ": :",
        "- - - - -",
        "kind: Job\napiVersion: batch/v1\nspec: |\n  x\n",
        "kind: Job\napiVersion: batch/v1\nspec:\n  template: [\n    {\"a\": \"[\"}]\n",
        "kind: Job\napiVersion: batch/v1\nmetadata: !!map\n  name: x\n",
        "kind: Job\napiVersion: batch/v1\nspec:\n  <<: {template: {}}\n",
        "kind: Job\napiVersion: batch/v1\nspec: null\n",
        "kind: Job\napiVersion: batch/v1\n\"spec\":\n  'template': {}\n",
        &deep_list,
        &deep_map,
    ];
    for text in odd {
        let _ = decode_job(text).map(|_| ()).map_err(|e| e.to_string());
        let _ = KeyLines::read(text);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
    #[test]
    fn any_text_is_decoded_or_refused(text in "[ -:#\n\t\\[\\]{}\"'|>&*!?abkJé\u{feff}]{0,120}") {
        let _ = decode_job(&text).map_err(|e| e.to_string());
    }

    #[test]
    fn a_line_given_is_the_line_of_that_key(cut in 0usize..80) {
        // Any key the walk places on the lab's Job is on a line that names it.
        let text: String = JOB.lines().take(cut).map(|l| format!("{l}\n")).collect();
        let lines = KeyLines::read(&text);
        for (number, line) in text.lines().enumerate() {
            if let Some(path) = lines.path_at(number + 1) {
                let Some(Seg::Key(last)) = path.last() else { continue };
                proptest::prop_assert!(line.contains(last.as_str()));
            }
        }
    }
}

#[test]
fn the_other_mistakes_as_a_learner_reads_them() {
    let cases = [
        String::new(),
        format!("{JOB}---\n{JOB}"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n".to_owned(),
        with_line_after("memory: 128Mi", "              restartPolicy: Always"),
        with_line_after("value: postgres", "            restartPolicy: Always"),
        with_line_after("imagePullPolicy: IfNotPresent", "          image: busybox"),
        JOB.replacen("  backoffLimit: 0\n", "  backoffLimit: ten\n", 1),
        JOB.replacen(
            "              value: postgres\n",
            "              value: 5432\n",
            1,
        ),
    ];
    let shown: Vec<String> = cases.iter().map(|text| refused(text).to_string()).collect();
    insta::assert_snapshot!(shown.join("\n"));
}

#[test]
fn unknown_fields_are_found_at_every_depth() {
    let cases = [
        ("  name: cy-job\n", "  bogus: 1\n", "metadata.bogus"),
        (
            "    spec:\n",
            "      bogus: 1\n",
            "spec.template.spec.bogus",
        ),
        (
            "          imagePullPolicy: IfNotPresent\n",
            "          securityContext:\n            runAsUser: 70\n            bogus: 1\n",
            "spec.template.spec.initContainers[0].securityContext.bogus",
        ),
        (
            "          imagePullPolicy: IfNotPresent\n",
            "          startupProbe:\n            exec:\n              command: [pg_isready]\n              bogus: 1\n",
            "spec.template.spec.initContainers[0].startupProbe.exec.bogus",
        ),
        (
            "          imagePullPolicy: IfNotPresent\n",
            "          readinessProbe:\n            tcpSocket:\n              port: 5432\n              bogus: 1\n",
            "spec.template.spec.initContainers[0].readinessProbe.tcpSocket.bogus",
        ),
        (
            "      restartPolicy: Never\n",
            "      volumes:\n        - name: data\n          emptyDir:\n            sizeLimit: 1Gi\n            bogus: 1\n",
            "spec.template.spec.volumes[0].emptyDir.bogus",
        ),
        (
            "  backoffLimit: 0\n",
            "  podFailurePolicy:\n    rules: []\n    bogus: 1\n",
            "spec.podFailurePolicy.bogus",
        ),
    ];
    for (after, added, field) in cases {
        let text = JOB.replacen(after, &format!("{after}{added}"), 1);
        let error = refused(&text);
        assert_eq!(error.field.as_deref(), Some(field), "{error}");
        let bogus = text
            .lines()
            .position(|l| l.trim() == "bogus: 1")
            .map(|n| n + 1);
        assert_eq!(error.line, bogus, "{field}");
    }
}

#[test]
fn the_typical_indentation_mistakes_meet_the_catalogue_hint() {
    let catalogue = crate::exercise::Catalogue::embedded().expect("catalogue");
    let hinted = |error: &DecodeError| {
        catalogue
            .mistakes
            .iter()
            .find(|m| m.when.decode.is_some() && m.when.decode.as_deref() == error.field_name())
            .map(|m| m.id.clone())
    };
    let mistakes = [
        with_line_after("memory: 128Mi", "            restartPolicy: Always"),
        with_line_after("memory: 128Mi", "              restartPolicy: Always"),
        with_line_after("value: postgres", "            restartPolicy: Always"),
        with_line_after("value: postgres", "              restartPolicy: Always"),
        with_line_after(
            "          image: postgres:17.5-alpine",
            "            restartPolicy: Always",
        ),
        JOB.replacen(
            "  template:\n",
            "  template:\n    restartPolicy: Always\n",
            1,
        ),
    ];
    for text in mistakes {
        let error = refused(&text);
        assert_eq!(
            hinted(&error).as_deref(),
            Some("misplaced-restart-policy"),
            "{error}"
        );
    }
}
