//! What the JSON reader reads of a document before it decodes it: its kind, and the
//! parts a `List` or a watch event holds, as borrowed text; repeated keys are refused.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::render::strict::{Duplicate, Key, Keys, MaybeStr, Walk};

/// The document heads of a JSON stream, read by the stream's own reader (one pass over
/// the text, where `&RawValue` documents then a `HeadSeed` would take two). It cannot
/// say which key was repeated: on an error the document is read again to find out.
pub(super) struct StreamHead<'de>(pub(super) Head<'de>);

impl<'de> Deserialize<'de> for StreamHead<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        HeadSeed(&Duplicate::default())
            .deserialize(deserializer)
            .map(StreamHead)
    }
}

/// What the JSON reader needs of an object before decoding it: its kind, and the parts
/// a `List` or a watch event holds, as borrowed text.
#[derive(Default)]
pub(super) struct Head<'de> {
    pub(super) kind: Option<Cow<'de, str>>,
    /// A `type` key: with `object`, a watch event.
    pub(super) watch_type: bool,
    pub(super) object: Option<&'de RawValue>,
    pub(super) items: Option<Vec<&'de RawValue>>,
}

/// Reads a `Head`, refusing repeated keys throughout (the parts set aside excepted:
/// they are checked when read).
pub(super) struct HeadSeed<'a>(pub(super) &'a Duplicate);

impl<'de> DeserializeSeed<'de> for HeadSeed<'_> {
    type Value = Head<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Head<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for HeadSeed<'_> {
    type Value = Head<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any value")
    }
    // Not an object (a bare scalar, a list): nothing to judge.
    fn visit_bool<E>(self, _: bool) -> Result<Head<'de>, E> {
        Ok(Head::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Head<'de>, E> {
        Ok(Head::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Head<'de>, E> {
        Ok(Head::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Head<'de>, E> {
        Ok(Head::default())
    }
    fn visit_str<E>(self, _: &str) -> Result<Head<'de>, E> {
        Ok(Head::default())
    }
    fn visit_unit<E>(self) -> Result<Head<'de>, E> {
        Ok(Head::default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Head<'de>, A::Error> {
        Walk(self.0).visit_seq(seq).map(|()| Head::default())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Head<'de>, A::Error> {
        let mut head = Head::default();
        let mut keys = Keys::default();
        while let Some(key) = map.next_key_seed(Key {
            keys: &mut keys,
            duplicate: self.0,
        })? {
            match key.as_ref() {
                "kind" => head.kind = map.next_value_seed(MaybeStr(self.0))?,
                "type" => {
                    head.watch_type = true;
                    map.next_value_seed(Walk(self.0))?;
                }
                "object" => head.object = Some(map.next_value()?),
                "items" => head.items = map.next_value_seed(Items(self.0))?,
                _ => map.next_value_seed(Walk(self.0))?,
            }
        }
        Ok(head)
    }
}

/// A `List`'s items, each as borrowed text; `None` (checked, not kept) when not a list.
struct Items<'a>(&'a Duplicate);

impl<'de> DeserializeSeed<'de> for Items<'_> {
    type Value = Option<Vec<&'de RawValue>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Items<'_> {
    type Value = Option<Vec<&'de RawValue>>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any value")
    }
    crate::render::strict::scalars_give_none!();
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Some(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Walk(self.0).visit_map(map).map(|()| None)
    }
}
