//! Exercises: the learner writes the change, and the lab judges what their Job really
//! did. The catalogue (`labs/exercises.yaml`) is data; reading an answer strictly, the
//! signs of its manifest and the judgement of an attempt are pure.

pub mod answer;
pub mod catalogue;
pub mod decode;
pub mod signs;
pub mod start;

pub use catalogue::{Catalogue, Exercise, Goal, Mistake};
pub use signs::{MainWork, Sign};
