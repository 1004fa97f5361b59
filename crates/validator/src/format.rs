//! `format` assertions: email, uri, uuid, date, date-time, ipv4.
