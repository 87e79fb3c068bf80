//! Decoding that refuses a mapping key given twice, as kubectl's decoder does (its
//! strict YAML and JSON readers both reject it) where serde keeps the last one silently.
//! Generic over the serde format, so the YAML codec (`yaml.rs`) and the dump reader's
//! JSON path share one rule; it sits with the codec, below the verdict engine.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The key found twice, written by the decoders below when they refuse a mapping. The
/// error itself comes from the format (it knows the line); this says it was a duplicate.
#[derive(Debug, Default)]
pub(crate) struct Duplicate(RefCell<Option<String>>);

impl Duplicate {
    /// The key given twice, once a decoder has refused one.
    pub(crate) fn take(&self) -> Option<String> {
        self.0.borrow_mut().take()
    }

    fn refuse<E: de::Error>(&self, key: &str) -> E {
        *self.0.borrow_mut() = Some(key.to_owned());
        E::custom(format_args!("duplicate key `{key}`"))
    }
}

/// Decodes any value into a `serde_json::Value`, refusing duplicate keys.
#[derive(Clone, Copy)]
pub(crate) struct UniqueValue<'a>(pub &'a Duplicate);

impl<'de> DeserializeSeed<'de> for UniqueValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON has no NaN or infinity; serde_json's own Value makes them null too.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key_seed(NewKey {
            object: &object,
            duplicate: self.0,
        })? {
            let value = map.next_value_seed(self)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// A key of the map being built, refused when already there. The check is made while
/// the key is read, so the format's error points at the second key, not the mapping.
struct NewKey<'a> {
    object: &'a Map<String, Value>,
    duplicate: &'a Duplicate,
}

impl<'de> DeserializeSeed<'de> for NewKey<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        // As a string, like serde_json's own Value: YAML reads `1:` as the key "1".
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for NewKey<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<String, E> {
        if self.object.contains_key(key) {
            return Err(self.duplicate.refuse(key));
        }
        Ok(key.to_owned())
    }
}

/// Reads any value without keeping it, refusing duplicate keys: the check the JSON
/// reader runs over each object before decoding it into its type (the typed decoders
/// keep the last of two keys, as serde does). Borrows keys from the input where it can.
#[derive(Clone, Copy)]
pub(crate) struct Walk<'a>(pub &'a Duplicate);

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.deserialize(deserializer)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = Keys::default();
        while map
            .next_key_seed(Key {
                keys: &mut keys,
                duplicate: self.0,
            })?
            .is_some()
        {
            map.next_value_seed(self)?;
        }
        Ok(())
    }
}

/// The keys of one mapping so far: a few in place while short (most Kubernetes maps
/// have a handful of keys; a Pod has hundreds of maps, so no allocation each), a hash
/// set once long, so a map of a million keys stays linear.
pub(crate) struct Keys<'de> {
    short: [Cow<'de, str>; SHORT],
    len: usize,
    set: HashSet<Cow<'de, str>>,
}

const SHORT: usize = 16;

impl Default for Keys<'_> {
    fn default() -> Self {
        Self {
            short: [const { Cow::Borrowed("") }; SHORT],
            len: 0,
            set: HashSet::new(),
        }
    }
}

impl<'de> Keys<'de> {
    /// Adds `key`; false when it was there already.
    fn insert(&mut self, key: Cow<'de, str>) -> bool {
        if self.set.is_empty() {
            let short = &mut self.short[..self.len];
            if short.contains(&key) {
                return false;
            }
            if self.len < SHORT {
                self.short[self.len] = key;
                self.len += 1;
                return true;
            }
            self.set.extend(short.iter_mut().map(std::mem::take));
            self.len = 0;
        }
        self.set.insert(key)
    }
}

/// A key of the map being read, refused when already seen; handed back (borrowed from
/// the input when unescaped) for readers that look at some keys.
pub(crate) struct Key<'k, 'de> {
    pub keys: &'k mut Keys<'de>,
    pub duplicate: &'k Duplicate,
}

impl<'de> Key<'_, 'de> {
    fn add<E: de::Error>(self, key: Cow<'de, str>) -> Result<Cow<'de, str>, E> {
        if self.keys.insert(key.clone()) {
            Ok(key)
        } else {
            Err(self.duplicate.refuse(&key))
        }
    }
}

impl<'de> DeserializeSeed<'de> for Key<'_, 'de> {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_, 'de> {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Self::Value, E> {
        self.add(Cow::Borrowed(key))
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        self.add(Cow::Owned(key.to_owned()))
    }
}

/// The scalar visits of a visitor that keeps nothing of a number, a bool or a null:
/// each gives `None` (the visitors that look for a string or a list in any value).
macro_rules! scalars_give_none {
    () => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    };
}
pub(crate) use scalars_give_none;

/// A value read for its text when it is a string, walked (and so checked) otherwise.
pub(crate) struct MaybeStr<'a>(pub &'a Duplicate);

impl<'de> DeserializeSeed<'de> for MaybeStr<'_> {
    type Value = Option<Cow<'de, str>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MaybeStr<'_> {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }
    scalars_give_none!();
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Walk(self.0).visit_seq(seq).map(|()| None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Walk(self.0).visit_map(map).map(|()| None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml_value(text: &str) -> Result<Value, (Option<String>, Option<usize>)> {
        let duplicate = Duplicate::default();
        let document = serde_yaml::Deserializer::from_str(text);
        UniqueValue(&duplicate)
            .deserialize(document)
            .map_err(|e| (duplicate.take(), e.location().map(|l| l.line())))
    }

    #[test]
    fn a_repeated_key_is_refused_at_its_second_line() {
        let error = yaml_value("a: 1\nb:\n  c: 2\n  d: 1\n  c: 3\n").expect_err("refused");
        assert_eq!(error, (Some("c".to_owned()), Some(5)));
        assert!(yaml_value("a: 1\nb:\n  c: 2\n  d: 1\n").is_ok());
    }

    #[test]
    fn the_walk_refuses_what_the_value_refuses_and_borrows() {
        let duplicate = Duplicate::default();
        let text = "{\"a\": 1,\n \"b\": [{\"c\": 2,\n \"c\": 3}]}";
        let mut json = serde_json::Deserializer::from_str(text);
        let error = Walk(&duplicate)
            .deserialize(&mut json)
            .expect_err("refused");
        assert_eq!(duplicate.take().as_deref(), Some("c"));
        assert_eq!(error.line(), 3);
        // Escaped keys are compared by their text: "\u0063" is "c".
        let text = r#"{"c": 1, "\u0063": 2}"#;
        let mut json = serde_json::Deserializer::from_str(text);
        assert!(Walk(&duplicate).deserialize(&mut json).is_err());
    }

    #[test]
    fn long_maps_switch_to_a_set_and_still_find_repeats() {
        let duplicate = Duplicate::default();
        let mut keys = Keys::default();
        for n in 0..1000 {
            assert!(keys.insert(Cow::Owned(format!("k{n}"))));
        }
        assert!(!keys.insert(Cow::Borrowed("k3")));
        assert!(!keys.insert(Cow::Borrowed("k999")));
        let many: Vec<String> = (0..100).map(|n| format!("\"k{n}\": {n}")).collect();
        let text = format!("{{{}, \"k7\": 0}}", many.join(", "));
        let mut json = serde_json::Deserializer::from_str(&text);
        assert!(Walk(&duplicate).deserialize(&mut json).is_err());
        assert_eq!(duplicate.take().as_deref(), Some("k7"));
    }
}
