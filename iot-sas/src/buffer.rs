//! Writing formatted text into a caller's buffer, without allocating (style anchors, practice
//! 3): the one set of buffer writers of the workspace (iot-dps-proto's topics and user names
//! use [`write_into`] too).

use core::fmt::{self, Write as _};

use crate::Error;

/// Formats `args` into `out`, all or nothing: when `out` is too small it is left untouched and
/// the error says how many bytes are enough.
///
/// ```
/// let mut buf = [0u8; 16];
/// assert_eq!(iot_sas::write_into(&mut buf, format_args!("se={}", 42)), Ok("se=42"));
/// let mut small = [0u8; 2];
/// assert_eq!(
///     iot_sas::write_into(&mut small, format_args!("se={}", 42)),
///     Err(iot_sas::Error::BufferTooSmall { required: 5 })
/// );
/// ```
///
/// # Errors
///
/// [`Error::BufferTooSmall`] with the exact length needed.
pub fn write_into<'b>(out: &'b mut [u8], args: fmt::Arguments<'_>) -> Result<&'b str, Error> {
    let required = formatted_len(&args);
    if required > out.len() {
        return Err(Error::BufferTooSmall { required });
    }
    let mut writer = SliceWriter {
        buf: &mut *out,
        len: 0,
    };
    // A `SliceWriter` never fails; a `Display` impl that does leaves a short text, caught below.
    let _ = writer.write_fmt(args);
    let len = writer.len;
    let out: &'b [u8] = out;
    out.get(..len)
        .filter(|_| len == required)
        // Only `&str` pieces were copied, so this is valid UTF-8.
        .and_then(|written| core::str::from_utf8(written).ok())
        .ok_or(Error::BufferTooSmall { required })
}

/// Writes into a caller buffer and counts the bytes a complete write needs (what does not fit
/// is counted, not written).
pub(crate) struct SliceWriter<'b> {
    pub(crate) buf: &'b mut [u8],
    pub(crate) len: usize,
}

impl fmt::Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.saturating_add(s.len());
        if let Some(dest) = self.buf.get_mut(self.len..end) {
            dest.copy_from_slice(s.as_bytes());
        }
        self.len = end;
        Ok(())
    }
}

impl SliceWriter<'_> {
    pub(crate) fn overflowed(&self) -> bool {
        self.len > self.buf.len()
    }
}

/// Counts the bytes of a formatted value without storing them.
pub(crate) fn formatted_len(value: &impl fmt::Display) -> usize {
    struct Counter(usize);
    impl fmt::Write for Counter {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.0 = self.0.saturating_add(s.len());
            Ok(())
        }
    }
    let mut counter = Counter(0);
    let _ = write!(counter, "{value}");
    counter.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_writer_counts_overflow() {
        let mut buf = [0u8; 4];
        let mut w = SliceWriter {
            buf: &mut buf,
            len: 0,
        };
        write!(w, "abcdef").unwrap();
        assert!(w.overflowed());
        assert_eq!(w.len, 6);
        assert_eq!(formatted_len(&crate::percent_encode("a/b")), 5);
    }

    #[test]
    fn write_into_leaves_buffer_untouched_when_too_small() {
        let mut buf = [0xCCu8; 4];
        assert_eq!(
            write_into(&mut buf, format_args!("{}", "hello")),
            Err(Error::BufferTooSmall { required: 5 })
        );
        assert_eq!(buf, [0xCC; 4]);
        let mut buf = [0u8; 5];
        assert_eq!(
            write_into(&mut buf, format_args!("{}", "hello")),
            Ok("hello")
        );
    }
}
