//! Reading a learner's answer as one Job (a first version: serde_yaml's own errors).

use k8s_openapi::api::batch::v1::Job;

/// Why a file is not one Job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub field: Option<String>,
    pub message: String,
}

impl DecodeError {
    /// The last segment of `field`.
    pub fn field_name(&self) -> Option<&str> {
        self.field.as_deref().and_then(|f| f.rsplit('.').next())
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Decodes `text` as one Job.
pub fn decode_job(text: &str) -> Result<Job, DecodeError> {
    crate::yaml::from_str(text).map_err(|e| DecodeError {
        line: None,
        column: None,
        field: None,
        message: e.to_string(),
    })
}
