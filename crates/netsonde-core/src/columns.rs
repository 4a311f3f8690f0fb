//! Flow records as columns in Arrow's memory layout, so that the Python bindings can hand
//! them to pyarrow (tables, pandas, Parquet) as they are, without a Python object per
//! record or per value. Each field becomes one column of the type [`crate::record::FIELDS`]
//! declares for it: numbers as little-endian values, text as 32-bit offsets and UTF-8
//! bytes, the risks as a list of text, the metadata as its JSON text (as in a JSON line).

use crate::decode::write_ip;
use crate::record::{json_value, push_tcp_flags, FieldType, FieldValue, FlowRecord, FIELD_TYPES};

/// Text bytes a batch holds at most before the next record starts another batch: Arrow's
/// text offsets are 32-bit, and a record's text is far smaller than the difference.
const MAX_TEXT_BYTES: usize = 1 << 30;

/// One column of a batch, as Arrow lays it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// Bit `i % 8` of byte `i / 8` is set when row `i` has a value; `None` when every row has.
    pub validity: Option<Vec<u8>>,
    /// The buffers after the validity bitmap: the values, for numbers; the offsets (`i32`,
    /// rows + 1) and the bytes, for text; for a list of text, the list offsets, then the
    /// items' offsets and bytes.
    pub buffers: Vec<Vec<u8>>,
}

/// Records as columns, in the order of [`crate::record::FIELD_NAMES`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnBatch {
    pub rows: usize,
    pub columns: Vec<Column>,
}

/// The records as column batches: one, unless their text is too long for 32-bit offsets.
pub fn column_batches(records: &[FlowRecord]) -> Vec<ColumnBatch> {
    batches_of(records, MAX_TEXT_BYTES)
}

fn batches_of(records: &[FlowRecord], max_text_bytes: usize) -> Vec<ColumnBatch> {
    let mut out = Vec::new();
    let mut batch = BatchBuilder::new();
    for r in records {
        batch.push(r);
        if batch.text_bytes() >= max_text_bytes {
            out.push(std::mem::replace(&mut batch, BatchBuilder::new()).finish());
        }
    }
    if batch.rows > 0 {
        out.push(batch.finish());
    }
    out
}

struct BatchBuilder {
    rows: usize,
    columns: Vec<ColumnBuilder>,
}

impl BatchBuilder {
    fn new() -> BatchBuilder {
        BatchBuilder {
            rows: 0,
            columns: FIELD_TYPES.iter().map(|&t| ColumnBuilder::new(t)).collect(),
        }
    }

    fn push(&mut self, r: &FlowRecord) {
        for ((_, value), column) in r.fields().iter().zip(&mut self.columns) {
            let fits = column.push(value);
            debug_assert!(fits, "{value:?} is not a {:?}", column.ty);
        }
        self.rows += 1;
    }

    fn text_bytes(&self) -> usize {
        self.columns.iter().map(|c| c.text.len()).sum()
    }

    fn finish(self) -> ColumnBatch {
        ColumnBatch {
            rows: self.rows,
            columns: self
                .columns
                .into_iter()
                .map(ColumnBuilder::finish)
                .collect(),
        }
    }
}

struct ColumnBuilder {
    ty: FieldType,
    rows: usize,
    nulls: usize,
    validity: Vec<u8>,
    /// Numbers' values; text's offsets; a list's offsets.
    values: Vec<u8>,
    /// The list items' offsets.
    item_offsets: Vec<u8>,
    items: usize,
    /// Text's bytes; a list's items' bytes.
    text: String,
}

impl ColumnBuilder {
    fn new(ty: FieldType) -> ColumnBuilder {
        let mut c = ColumnBuilder {
            ty,
            rows: 0,
            nulls: 0,
            validity: Vec::new(),
            values: Vec::new(),
            item_offsets: Vec::new(),
            items: 0,
            text: String::new(),
        };
        match ty {
            FieldType::Text | FieldType::OptionalText | FieldType::Json => c.push_offset(0),
            FieldType::TextList => {
                c.push_offset(0);
                push_i32(&mut c.item_offsets, 0);
            }
            FieldType::UInt8 | FieldType::UInt16 | FieldType::UInt64 | FieldType::Int64 => {}
        }
        c
    }

    fn push_offset(&mut self, at: usize) {
        push_i32(&mut self.values, at);
    }

    /// Appends a row; false (and a zero, empty or null row) when the value is not of the
    /// column's type.
    fn push(&mut self, value: &FieldValue<'_>) -> bool {
        use FieldType as T;
        use FieldValue as V;
        let mut valid = true;
        let fits = match (self.ty, value) {
            (T::UInt8, V::UInt(n)) => {
                self.values.push(u8::try_from(*n).unwrap_or(u8::MAX));
                true
            }
            (T::UInt16, V::UInt(n)) => {
                let n = u16::try_from(*n).unwrap_or(u16::MAX);
                self.values.extend_from_slice(&n.to_le_bytes());
                true
            }
            (T::UInt64, V::UInt(n)) => {
                self.values.extend_from_slice(&n.to_le_bytes());
                true
            }
            (T::Int64, V::Int(n)) => {
                self.values.extend_from_slice(&n.to_le_bytes());
                true
            }
            (T::Text | T::OptionalText, V::Str(s)) => {
                self.text.push_str(s);
                true
            }
            (T::Text | T::OptionalText, V::Ip(version, addr)) => {
                write_ip(&mut self.text, *version, addr);
                true
            }
            (T::Text | T::OptionalText, V::TcpFlags(flags)) => {
                push_tcp_flags(&mut self.text, *flags);
                true
            }
            (T::OptionalText, V::Null) => {
                valid = false;
                true
            }
            (T::Json, V::Metadata(_)) => {
                json_value(&mut self.text, value);
                true
            }
            (T::TextList, V::List(items)) => {
                for item in *items {
                    self.text.push_str(item);
                    push_i32(&mut self.item_offsets, self.text.len());
                }
                self.items += items.len();
                true
            }
            (T::UInt8, _) => {
                self.values.push(0);
                false
            }
            (T::UInt16, _) => {
                self.values.extend_from_slice(&[0; 2]);
                false
            }
            (T::UInt64 | T::Int64, _) => {
                self.values.extend_from_slice(&[0; 8]);
                false
            }
            (T::OptionalText, _) => {
                valid = false;
                false
            }
            (T::Text | T::Json | T::TextList, _) => false,
        };
        match self.ty {
            T::Text | T::OptionalText | T::Json => self.push_offset(self.text.len()),
            T::TextList => self.push_offset(self.items),
            T::UInt8 | T::UInt16 | T::UInt64 | T::Int64 => {}
        }
        if self.rows % 8 == 0 {
            self.validity.push(0);
        }
        if valid {
            if let Some(last) = self.validity.last_mut() {
                *last |= 1 << (self.rows % 8);
            }
        } else {
            self.nulls += 1;
        }
        self.rows += 1;
        fits
    }

    fn finish(self) -> Column {
        let validity = (self.nulls > 0).then_some(self.validity);
        let text = self.text.into_bytes();
        let buffers = match self.ty {
            FieldType::UInt8 | FieldType::UInt16 | FieldType::UInt64 | FieldType::Int64 => {
                vec![self.values]
            }
            FieldType::Text | FieldType::OptionalText | FieldType::Json => vec![self.values, text],
            FieldType::TextList => vec![self.values, self.item_offsets, text],
        };
        Column { validity, buffers }
    }
}

/// Appends an Arrow offset; [`MAX_TEXT_BYTES`] keeps offsets far below `i32::MAX`.
fn push_i32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&i32::try_from(n).unwrap_or(i32::MAX).to_le_bytes());
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::flow::Expiration;
    use crate::record::{MetaValue, FIELD_NAMES};

    fn record(id: u64, full: bool) -> FlowRecord {
        let mut src_ip = [0; 16];
        src_ip[..4].copy_from_slice(&[10, 0, 0, id as u8]);
        let mut dst_ip = [0; 16];
        dst_ip[0] = 0x20;
        dst_ip[1] = 0x01;
        dst_ip[15] = 1;
        let text = |s: &str| full.then(|| s.to_owned());
        FlowRecord {
            id,
            expiration: if full {
                Expiration::Idle
            } else {
                Expiration::EndOfInput
            },
            ip_version: if full { 4 } else { 6 },
            src_ip: if full { src_ip } else { dst_ip },
            src_port: 40_000 + id as u16,
            dst_ip,
            dst_port: 443,
            protocol: 6,
            vlan_id: if full { 4094 } else { 0 },
            tunnel_id: 0,
            first_seen_ns: 1_700_000_000_123_456_789,
            last_seen_ns: 1_700_000_001_000_000_000 + id as i64,
            src2dst_packets: (1 << 40) + id,
            src2dst_bytes: 1500,
            dst2src_packets: 2,
            dst2src_bytes: 3000,
            src2dst_tcp_flags: 0x1b,
            dst2src_tcp_flags: 0x12,
            application_name: "TLS.YouTube".into(),
            application_category_name: "Media".into(),
            application_confidence: "DPI",
            requested_server_name: text("www.youtube.com"),
            user_agent: text("Mozilla/5.0 \"quoted\" \\ ü"),
            content_type: None,
            client_fingerprint: text("t13d1516h2_8daaf6152771_e5627efa2ab1"),
            server_fingerprint: text("15af977ce25de452b96affa2addb1036"),
            metadata: if full {
                vec![
                    ("tls.sni", MetaValue::Str("www.youtube.com".into())),
                    (
                        "tls.alpn",
                        MetaValue::List(vec!["h2".into(), "http/1.1".into()]),
                    ),
                    ("tls.version", MetaValue::Int(772)),
                ]
            } else {
                Vec::new()
            },
            risks: if full {
                vec!["numeric_sni", "obsolete_tls"]
            } else {
                Vec::new()
            },
        }
    }

    fn i32s(b: &[u8]) -> Vec<usize> {
        b.chunks(4)
            .map(|c| i32::from_le_bytes(c.try_into().unwrap()) as usize)
            .collect()
    }

    fn is_valid(c: &Column, row: usize) -> bool {
        c.validity
            .as_ref()
            .map_or(true, |v| v[row / 8] & (1 << (row % 8)) != 0)
    }

    /// A row's value read back from the buffers, as the JSON line writes it.
    fn read_back(ty: FieldType, c: &Column, row: usize) -> String {
        if !is_valid(c, row) {
            return "null".into();
        }
        let fixed = |width: usize| &c.buffers[0][row * width..(row + 1) * width];
        let text = |offsets: &[u8], bytes: &[u8], i: usize| {
            let o = i32s(offsets);
            String::from_utf8(bytes[o[i]..o[i + 1]].to_vec()).unwrap()
        };
        let mut json = String::new();
        match ty {
            FieldType::UInt8 => return fixed(1)[0].to_string(),
            FieldType::UInt16 => {
                return u16::from_le_bytes(fixed(2).try_into().unwrap()).to_string()
            }
            FieldType::UInt64 => {
                return u64::from_le_bytes(fixed(8).try_into().unwrap()).to_string()
            }
            FieldType::Int64 => {
                return i64::from_le_bytes(fixed(8).try_into().unwrap()).to_string()
            }
            FieldType::Json => return text(&c.buffers[0], &c.buffers[1], row),
            FieldType::Text | FieldType::OptionalText => {
                crate::record::json_str(&mut json, &text(&c.buffers[0], &c.buffers[1], row));
            }
            FieldType::TextList => {
                let lists = i32s(&c.buffers[0]);
                let items: Vec<String> = (lists[row]..lists[row + 1])
                    .map(|i| text(&c.buffers[1], &c.buffers[2], i))
                    .collect();
                json.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        json.push(',');
                    }
                    crate::record::json_str(&mut json, item);
                }
                json.push(']');
            }
        }
        json
    }

    /// The record's JSON line, field by field.
    fn json_fields(r: &FlowRecord) -> Vec<String> {
        r.fields()
            .iter()
            .map(|(_, v)| {
                let mut s = String::new();
                json_value(&mut s, v);
                s
            })
            .collect()
    }

    #[test]
    fn every_field_reads_back_as_its_json_value() {
        let records: Vec<FlowRecord> = (0..19).map(|i| record(i, i % 3 != 1)).collect();
        let batches = column_batches(&records);
        assert_eq!(batches.len(), 1);
        let b = &batches[0];
        assert_eq!((b.rows, b.columns.len()), (19, FIELD_NAMES.len()));
        for (row, r) in records.iter().enumerate() {
            let want = json_fields(r);
            for (i, ty) in FIELD_TYPES.iter().enumerate() {
                assert_eq!(
                    read_back(*ty, &b.columns[i], row),
                    want[i],
                    "row {row} field {}",
                    FIELD_NAMES[i]
                );
            }
        }
        // Only the optional text has nulls, and only where a record has none of it.
        for (i, c) in b.columns.iter().enumerate() {
            let nullable = FIELD_TYPES[i] == FieldType::OptionalText;
            assert_eq!(c.validity.is_some(), nullable, "{}", FIELD_NAMES[i]);
        }
    }

    #[test]
    fn the_declared_types_fit_every_value() {
        for full in [true, false] {
            let r = record(7, full);
            for (((name, value), ty), declared) in
                r.fields().iter().zip(FIELD_TYPES).zip(FIELD_NAMES)
            {
                assert_eq!(*name, declared);
                assert!(
                    ColumnBuilder::new(ty).push(value),
                    "{name}: {value:?} is not {ty:?}"
                );
            }
        }
    }

    #[test]
    fn a_value_of_another_type_is_refused_and_keeps_the_column_whole() {
        let mut c = ColumnBuilder::new(FieldType::UInt16);
        assert!(!c.push(&FieldValue::Str("x")));
        assert!(c.push(&FieldValue::UInt(9)));
        assert_eq!(c.finish().buffers, vec![vec![0, 0, 9, 0]]);
        let mut c = ColumnBuilder::new(FieldType::Text);
        assert!(!c.push(&FieldValue::UInt(1)));
        assert!(c.push(&FieldValue::Str("ab")));
        assert_eq!(i32s(&c.finish().buffers[0]), vec![0, 0, 2]);
    }

    #[test]
    fn long_text_splits_the_records_into_batches_that_start_their_offsets_again() {
        let records: Vec<FlowRecord> = (0..10).map(|i| record(i, true)).collect();
        let one = column_batches(&records);
        let split = batches_of(&records, 600);
        assert!(split.len() > 2, "{} batches", split.len());
        assert_eq!(split.iter().map(|b| b.rows).sum::<usize>(), 10);
        let mut row = 0;
        for b in &split {
            for i in 0..b.rows {
                for (f, ty) in FIELD_TYPES.iter().enumerate() {
                    assert_eq!(
                        read_back(*ty, &b.columns[f], i),
                        read_back(*ty, &one[0].columns[f], row + i)
                    );
                }
            }
            assert_eq!(i32s(&b.columns[1].buffers[0])[0], 0);
            row += b.rows;
        }
        assert!(column_batches(&[]).is_empty());
    }
}
