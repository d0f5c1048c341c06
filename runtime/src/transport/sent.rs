//! [`OnSent`]: how the layers above learn which header block ended a response, as the
//! transport wrote it. That may not be the body's own trailers: a drain deadline cuts a
//! response with trailers of its own, and an HTTP/1.1 response folded into its headers
//! can overflow its buffer and end with another status.

use std::sync::{Arc, Mutex};

use http::HeaderMap;

/// Told once of the header block that ended a response (`Some`), or that it did not
/// complete (`None`: the connection failed or the client reset the stream). Carried in
/// the response's extensions, which require values that are `Clone` and `Sync`.
#[derive(Clone)]
pub(crate) struct OnSent(Arc<Report>);

struct Report(Mutex<Option<ReportFn>>);

type ReportFn = Box<dyn FnOnce(Option<&HeaderMap>) + Send>;

impl OnSent {
    /// Calls `report` with the header block that ends the response.
    pub(crate) fn new(report: impl FnOnce(Option<&HeaderMap>) + Send + 'static) -> OnSent {
        OnSent(Arc::new(Report(Mutex::new(Some(Box::new(report))))))
    }

    /// Takes the hook out of a response's extensions; `None` when nothing listens (the
    /// common case: the extensions are then empty, and looking costs one check).
    pub(crate) fn take(extensions: &mut http::Extensions) -> Option<OnSent> {
        extensions.remove::<OnSent>()
    }

    /// Reports that `headers` ended the response.
    pub(crate) fn sent(self, headers: &HeaderMap) {
        self.0.report(Some(headers));
    }
}

impl Report {
    fn report(&self, headers: Option<&HeaderMap>) {
        let report = self.0.lock().ok().and_then(|mut report| report.take());
        if let Some(report) = report {
            report(headers);
        }
    }
}

impl Drop for Report {
    fn drop(&mut self) {
        self.report(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_once_what_was_sent_or_that_nothing_was() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = |seen: &Arc<Mutex<Vec<bool>>>| {
            let seen = Arc::clone(seen);
            OnSent::new(move |headers| seen.lock().unwrap().push(headers.is_some()))
        };
        let sent = record(&seen);
        let mut extensions = http::Extensions::new();
        extensions.insert(sent.clone());
        drop(sent);
        OnSent::take(&mut extensions)
            .unwrap()
            .sent(&HeaderMap::new());
        drop(record(&seen));
        assert_eq!(*seen.lock().unwrap(), [true, false]);
    }
}
