//! A serde serializer that writes a value's structure and data as compact tagged bytes, for
//! hashing a list page's view without the string escaping of JSON (which showed as the largest
//! single cost of an incremental build's list pages).
//!
//! The encoding is unambiguous, which is all a fingerprint needs: every value starts with a
//! type tag, strings and byte strings carry their length, and sequences and maps without a
//! known length end with a marker no element can start with. Struct field names are left out:
//! a page's view type is fixed by the rendering code, whose source is part of every
//! fingerprint. It is never decoded.

use std::hash::Hasher as _;

use serde::ser::{self, Serialize};
use xxhash_rust::xxh3::Xxh3;

/// Bytes buffered before they go to the hasher: big views (the index, the graph data) are
/// hashed in chunks instead of being encoded whole into one growing buffer.
const CHUNK: usize = 32 * 1024;

/// Feeds the encoding of `value` to `h`.
pub(crate) fn hash<T: Serialize + ?Sized>(h: &mut Xxh3, value: &T) {
    let mut out = Vec::with_capacity(CHUNK + 1024);
    let mut enc = Encoder {
        out: &mut out,
        hasher: Some(h),
    };
    // The encoder cannot fail; `Unsupported` is only returned through serde's error plumbing
    // for a custom `Serialize` that reports its own error, which the views never do.
    let _ = value.serialize(&mut enc);
    enc.spill();
}

/// Appends the encoding of `value` to `out` (what [`hash`] feeds the hasher).
#[cfg(test)]
fn encode<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let _ = value.serialize(&mut Encoder { out, hasher: None });
}

/// The serializer behind [`hash`].
struct Encoder<'a> {
    out: &'a mut Vec<u8>,
    /// Where full chunks go (`None`: everything stays in `out`).
    hasher: Option<&'a mut Xxh3>,
}

/// A `Serialize` impl reported an error of its own.
#[derive(Debug)]
struct Unsupported(String);

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unsupported {}

impl ser::Error for Unsupported {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Unsupported(msg.to_string())
    }
}

// Type tags. `END` closes sequences and maps of unknown length.
const END: u8 = 0;
const BOOL: u8 = 1;
const INT: u8 = 2;
const UINT: u8 = 3;
const FLOAT: u8 = 4;
const CHAR: u8 = 5;
const STR: u8 = 6;
const BYTES: u8 = 7;
const NONE: u8 = 8;
const SOME: u8 = 9;
const UNIT: u8 = 10;
const UNIT_STRUCT: u8 = 11;
const VARIANT: u8 = 12;
const NEWTYPE: u8 = 13;
const SEQ: u8 = 14;
const MAP: u8 = 15;
const STRUCT: u8 = 16;
const TUPLE: u8 = 17;
/// 128-bit integers have tags of their own: under `INT`/`UINT` their 16 bytes could read as
/// a 64-bit value followed by other items.
const INT128: u8 = 18;
const UINT128: u8 = 19;

impl<'a> Encoder<'a> {
    /// Hands the buffered bytes to the hasher.
    fn spill(&mut self) {
        if let Some(h) = self.hasher.as_deref_mut() {
            h.write(self.out);
            self.out.clear();
        }
    }

    fn tag(&mut self, tag: u8) {
        self.out.push(tag);
    }

    fn len(&mut self, n: usize) {
        self.out.extend_from_slice(&(n as u64).to_le_bytes());
    }

    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.out.extend_from_slice(b);
    }

    /// Opens a sequence or map: a known length is written up front, an unknown one is closed
    /// by `END` (`close` decides by the same flag).
    fn open<'e>(&'e mut self, tag: u8, len: Option<usize>) -> Compound<'e, 'a> {
        self.tag(tag);
        match len {
            Some(n) => {
                self.out.push(1);
                self.len(n);
            }
            None => self.out.push(0),
        }
        Compound {
            enc: self,
            close: len.is_none(),
        }
    }
}

/// A sequence, map, tuple or struct being encoded.
struct Compound<'e, 'a> {
    enc: &'e mut Encoder<'a>,
    /// Whether to write `END` at the end (the length was not known up front).
    close: bool,
}

impl Compound<'_, '_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        value.serialize(&mut *self.enc)?;
        if self.enc.out.len() >= CHUNK {
            self.enc.spill();
        }
        Ok(())
    }

    fn finish(self) -> Result<(), Unsupported> {
        if self.close {
            self.enc.tag(END);
        }
        Ok(())
    }
}

impl<'e, 'a> ser::Serializer for &'e mut Encoder<'a> {
    type Ok = ();
    type Error = Unsupported;
    type SerializeSeq = Compound<'e, 'a>;
    type SerializeTuple = Compound<'e, 'a>;
    type SerializeTupleStruct = Compound<'e, 'a>;
    type SerializeTupleVariant = Compound<'e, 'a>;
    type SerializeMap = Compound<'e, 'a>;
    type SerializeStruct = Compound<'e, 'a>;
    type SerializeStructVariant = Compound<'e, 'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Unsupported> {
        self.tag(BOOL);
        self.out.push(v as u8);
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), Unsupported> {
        self.serialize_i64(v.into())
    }

    fn serialize_i16(self, v: i16) -> Result<(), Unsupported> {
        self.serialize_i64(v.into())
    }

    fn serialize_i32(self, v: i32) -> Result<(), Unsupported> {
        self.serialize_i64(v.into())
    }

    fn serialize_i64(self, v: i64) -> Result<(), Unsupported> {
        self.tag(INT);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }

    fn serialize_i128(self, v: i128) -> Result<(), Unsupported> {
        self.tag(INT128);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }

    fn serialize_u8(self, v: u8) -> Result<(), Unsupported> {
        self.serialize_u64(v.into())
    }

    fn serialize_u16(self, v: u16) -> Result<(), Unsupported> {
        self.serialize_u64(v.into())
    }

    fn serialize_u32(self, v: u32) -> Result<(), Unsupported> {
        self.serialize_u64(v.into())
    }

    fn serialize_u64(self, v: u64) -> Result<(), Unsupported> {
        self.tag(UINT);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }

    fn serialize_u128(self, v: u128) -> Result<(), Unsupported> {
        self.tag(UINT128);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result<(), Unsupported> {
        self.serialize_f64(v.into())
    }

    fn serialize_f64(self, v: f64) -> Result<(), Unsupported> {
        self.tag(FLOAT);
        self.out.extend_from_slice(&v.to_bits().to_le_bytes());
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), Unsupported> {
        self.tag(CHAR);
        self.out.extend_from_slice(&u32::from(v).to_le_bytes());
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), Unsupported> {
        self.tag(STR);
        self.bytes(v.as_bytes());
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), Unsupported> {
        self.tag(BYTES);
        self.bytes(v);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Unsupported> {
        self.tag(NONE);
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Unsupported> {
        self.tag(SOME);
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Unsupported> {
        self.tag(UNIT);
        Ok(())
    }

    fn serialize_unit_struct(self, name: &'static str) -> Result<(), Unsupported> {
        self.tag(UNIT_STRUCT);
        self.bytes(name.as_bytes());
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Unsupported> {
        self.tag(VARIANT);
        self.bytes(variant.as_bytes());
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Unsupported> {
        self.tag(NEWTYPE);
        self.bytes(variant.as_bytes());
        value.serialize(self)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'e, 'a>, Unsupported> {
        Ok(self.open(SEQ, len))
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'e, 'a>, Unsupported> {
        Ok(self.open(TUPLE, Some(len)))
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Compound<'e, 'a>, Unsupported> {
        self.bytes(name.as_bytes());
        Ok(self.open(TUPLE, Some(len)))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'e, 'a>, Unsupported> {
        self.tag(NEWTYPE);
        self.bytes(variant.as_bytes());
        Ok(self.open(TUPLE, Some(len)))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'e, 'a>, Unsupported> {
        Ok(self.open(MAP, len))
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'e, 'a>, Unsupported> {
        Ok(self.open(STRUCT, Some(len)))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'e, 'a>, Unsupported> {
        self.tag(NEWTYPE);
        self.bytes(variant.as_bytes());
        Ok(self.open(STRUCT, Some(len)))
    }
}

/// Sequences, tuples and their struct and variant forms: the elements, in order.
macro_rules! impl_elements {
    ($($trait:ident :: $method:ident),* $(,)?) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Unsupported;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
                self.element(value)
            }

            fn end(self) -> Result<(), Unsupported> {
                self.finish()
            }
        }
    )*};
}

impl_elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

/// Structs and struct variants: the field values in declaration order (the names are fixed by
/// the type); a skipped field still takes its place, so the fields after it keep theirs.
macro_rules! impl_fields {
    ($($trait:ident),* $(,)?) => {$(
        impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Unsupported;

            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                _key: &'static str,
                value: &T,
            ) -> Result<(), Unsupported> {
                self.element(value)
            }

            fn skip_field(&mut self, _key: &'static str) -> Result<(), Unsupported> {
                self.enc.tag(END);
                Ok(())
            }

            fn end(self) -> Result<(), Unsupported> {
                self.finish()
            }
        }
    )*};
}

impl_fields!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Unsupported;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Unsupported> {
        self.element(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Unsupported> {
        self.element(value)
    }

    fn end(self) -> Result<(), Unsupported> {
        self.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::encode;
    use serde::Serialize;
    use std::collections::BTreeMap;

    fn bytes<T: Serialize>(v: &T) -> Vec<u8> {
        let mut out = Vec::new();
        encode(&mut out, v);
        out
    }

    #[derive(Clone, Serialize)]
    struct Entry<'a> {
        title: &'a str,
        tags: Vec<&'a str>,
        depth: usize,
        note: Option<&'a str>,
    }

    #[derive(Serialize)]
    struct Page<B> {
        site: &'static str,
        #[serde(flatten)]
        body: B,
    }

    #[test]
    fn a_wide_integer_does_not_read_as_a_narrow_one_and_more() {
        // INT + 16 bytes must not equal INT + 8 bytes followed by an item whose tag and
        // payload fill the other 8 (here BOOL, 1, then 6 bytes of a following value).
        let wide: i128 = i128::from_le_bytes([5, 0, 0, 0, 0, 0, 0, 0, 1, 1, 9, 9, 9, 9, 9, 9]);
        let mut narrow = bytes(&5i64);
        narrow.extend(bytes(&true));
        narrow.extend([9; 6]);
        assert_ne!(bytes(&wide), narrow);
    }

    #[test]
    fn strings_cannot_run_into_each_other() {
        // JSON-like concatenation would make these equal without lengths.
        let a = Entry {
            title: "ab",
            tags: vec!["c"],
            depth: 1,
            note: None,
        };
        let b = Entry {
            title: "a",
            tags: vec!["bc"],
            depth: 1,
            note: None,
        };
        assert_ne!(bytes(&a), bytes(&b));
        // Moving an element between adjacent sequences changes the bytes too.
        assert_ne!(
            bytes(&(vec!["x", "y"], vec!["z"])),
            bytes(&(vec!["x"], vec!["y", "z"]))
        );
    }

    #[test]
    fn every_field_and_variant_counts() {
        let base = Entry {
            title: "t",
            tags: vec!["a", "b"],
            depth: 2,
            note: Some("n"),
        };
        let changed = [
            Entry {
                title: "T",
                ..base.clone()
            },
            Entry {
                tags: vec!["a"],
                ..base.clone()
            },
            Entry {
                depth: 3,
                ..base.clone()
            },
            Entry {
                note: None,
                ..base.clone()
            },
            Entry {
                note: Some(""),
                ..base.clone()
            },
        ];
        let b = bytes(&base);
        for c in &changed {
            assert_ne!(bytes(c), b);
        }
        assert_eq!(bytes(&base), b, "encoding is deterministic");
        assert_ne!(bytes(&Some(())), bytes(&None::<()>));
        assert_ne!(bytes(&1u64), bytes(&1i64));
    }

    #[test]
    fn flattened_bodies_and_maps_are_encoded() {
        // `#[serde(flatten)]` serializes as a map of unknown length, which bincode-like
        // formats reject; the encoder must take it and see the body's fields.
        let mut m = BTreeMap::new();
        m.insert("k", vec![1u32, 2]);
        let a = bytes(&Page {
            site: "s",
            body: m.clone(),
        });
        m.insert("k", vec![1u32]);
        let b = bytes(&Page { site: "s", body: m });
        assert_ne!(a, b);
        assert!(!a.is_empty());
        let json_value: serde_json::Value = serde_json::json!({"a": [1, "x", null], "b": 2.5});
        let v2: serde_json::Value = serde_json::json!({"a": [1, "x", null], "b": 2.25});
        assert_ne!(bytes(&json_value), bytes(&v2));
    }

    #[test]
    fn hashing_in_chunks_equals_hashing_the_whole_encoding() {
        use std::hash::Hasher as _;
        // Far more than one chunk, with strings crossing chunk borders.
        let big: Vec<Entry> = (0..20_000)
            .map(|i| Entry {
                title: if i % 7 == 0 {
                    "a longer title, repeated"
                } else {
                    "t"
                },
                tags: vec!["x"; i % 5],
                depth: i,
                note: (i % 3 == 0).then_some("n"),
            })
            .collect();
        let whole = bytes(&big);
        assert!(whole.len() > 4 * super::CHUNK);
        let mut a = xxhash_rust::xxh3::Xxh3::new();
        a.write(&whole);
        let mut b = xxhash_rust::xxh3::Xxh3::new();
        super::hash(&mut b, &big);
        assert_eq!(a.finish(), b.finish());
    }

    #[test]
    fn a_skipped_field_keeps_the_next_field_in_its_place() {
        #[derive(Serialize)]
        struct Optional<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            a: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            b: Option<&'a str>,
        }
        let first = Optional {
            a: Some("x"),
            b: None,
        };
        let second = Optional {
            a: None,
            b: Some("x"),
        };
        assert_ne!(bytes(&first), bytes(&second));
    }
}
