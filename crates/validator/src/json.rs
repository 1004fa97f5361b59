//! JSON reading: a borrowing parser, array element splitting, NDJSON lines.
