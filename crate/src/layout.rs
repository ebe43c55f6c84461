//! What Rust and TypeScript share at the wasm boundary, defined once, here and where the
//! `record!` lines stand (`table.rs`, `stats.rs`). `ts/wasm/layout.ts` is rendered from
//! `RECORDS` and `CONSTANTS`, doc comments included, by `crate/tests/layout.rs`, which fails
//! while the committed file differs; `UPDATE_LAYOUT=1 cargo test -p adadelta-wasm --test layout`
//! rewrites it. A field is one line of a `record!`; a new record is one entry of `RECORDS`.

/// One field of a record, or one constant: its TS name, its value and its doc lines.
pub struct Field {
    pub name: &'static str,
    pub value: usize,
    pub doc: &'static [&'static str],
}

/// A record's fields, rendered as one `as const` object; `source` is the file that defines it.
pub struct Record {
    pub name: &'static str,
    pub source: &'static str,
    pub doc: &'static [&'static str],
    pub fields: &'static [Field],
}

/// `record! { /// doc
///            NAME { /// doc
///                   tsName: RUST_CONST = value, ... } }`
/// defines `pub const RUST_CONST: usize = value` for each field, and `pub const NAME: Record`.
macro_rules! record {
    ($(#[doc = $doc:literal])* $name:ident { $($(#[doc = $fdoc:literal])* $field:ident: $konst:ident = $value:expr),* $(,)? }) => {
        $($(#[doc = $fdoc])* pub const $konst: usize = $value;)*
        $(#[doc = $doc])*
        pub const $name: $crate::layout::Record = $crate::layout::Record {
            name: stringify!($name),
            source: file!(),
            doc: &[$($doc),*],
            fields: &[$($crate::layout::Field { name: stringify!($field), value: $konst, doc: &[$($fdoc),*] }),*],
        };
    };
}
pub(crate) use record;

/// `constants! { /// doc
///               NAME = value, ... }` defines each `pub const NAME: usize` and `CONSTANTS`.
macro_rules! constants {
    ($($(#[doc = $doc:literal])* $konst:ident = $value:expr),* $(,)?) => {
        $($(#[doc = $doc])* pub const $konst: usize = $value;)*
        /// The constants `ts/wasm/layout.ts` exports as they are.
        pub const CONSTANTS: &[Field] = &[$(Field { name: stringify!($konst), value: $konst, doc: &[$($doc),*] }),*];
    };
}

/// The records `ts/wasm/layout.ts` exports, in its order.
pub const RECORDS: &[Record] = &[crate::table::TENSOR, crate::table::GROUP, crate::stats::STATS];

constants! {
    /// Bytes of one group's stats region: the f64 words, then the u32 histogram.
    STATS_GROUP_BYTES = crate::stats::STATS_F64 * 8 + crate::stats::HIST_BINS * 4,
    /// Bytes of the shadow stack of each instance (the kernel recurses nowhere): the wasm is
    /// linked with it, and each worker of the thread pool starts its instance with a stack this
    /// size. scripts/build-wasm.sh reads it from crate/src/layout.rs, as a plain integer.
    STACK_BYTES = 65536,
    /// Elements per block of a gradient norm's sum (`clip.rs`): the threads' element ranges
    /// start at multiples of it, so that every build and thread count sums in one order.
    NORM_BLOCK = 1024,
}
