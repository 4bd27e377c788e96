import LedgerLite
import Logging
import Synchronization

/// Each producer meter's cumulative export counter (`energyExportWh`), as of the newest
/// reading the gateway has acknowledged, and the baseline: the counter's value up to
/// which export has been offered (and accepted).
///
/// Fed by the forwarder with acknowledged readings, so an offer never claims export the
/// gateway has not metered yet (it would cut the offer and record an anomaly). The first
/// reading sets the baseline; the baseline lives in memory only, so export between the
/// last accepted offer and a restart is not offered.
package final class ExportLedger: Sendable {
    package struct Meter: Sendable, Equatable {
        /// Export offered and accepted up to this counter value, Wh.
        package var baseline: Int64
        /// The newest acknowledged counter value, Wh, and its reading's time.
        package var latest: Int64
        package var timestamp: Int64

        /// Export not offered yet, Wh.
        package var pending: Int64 { latest - baseline }
    }

    /// Producer meter ids (hex) this ledger follows; other meters' readings are ignored.
    package let producers: Set<String>
    private let meters = Mutex<[String: Meter]>([:])
    private let sequences = Mutex<[String: UInt64]>([:])
    private let logger: Logger

    package init(producers: some Sequence<MeterID>, logger: Logger) {
        self.producers = Set(producers.map(\.hex))
        self.logger = logger
    }

    /// Takes the export counter of an acknowledged reading of a producer.
    package func observe(_ record: SignedRecord) {
        guard case .reading(let reading) = record.record, producers.contains(reading.meter.hex),
            let export = reading[.energyExportWh]
        else { return }
        observe(meter: reading.meter.hex, exportWh: export, timestamp: reading.timestamp)
    }

    package func observe(meter: String, exportWh: Int64, timestamp: Int64) {
        guard producers.contains(meter) else { return }
        let reset: (from: Int64, to: Int64)? = meters.withLock { meters in
            guard var entry = meters[meter] else {
                meters[meter] = Meter(baseline: exportWh, latest: exportWh, timestamp: timestamp)
                return nil
            }
            guard timestamp > entry.timestamp else { return nil }  // an older reading sent again
            entry.timestamp = timestamp
            entry.latest = exportWh
            var reset: (Int64, Int64)?
            if exportWh < entry.baseline {
                // The counter went back (meter replaced or reset): count from here.
                reset = (entry.baseline, exportWh)
                entry.baseline = exportWh
            }
            meters[meter] = entry
            return reset
        }
        if let reset {
            logger.warning(
                "export counter went back; offering export counted from the new value",
                metadata: [
                    "meter.id": "\(meter)", "from_wh": "\(reset.from)", "to_wh": "\(reset.to)",
                ]
            )
        }
    }

    /// The next offer sequence number of a meter: the Unix time in ms, above the last one.
    package func nextOfferSequence(_ id: String) -> UInt64 {
        sequences.withLock { sequences in
            let next = TradeSequence.next(after: sequences[id])
            sequences[id] = next
            return next
        }
    }

    package func meter(_ id: String) -> Meter? {
        meters.withLock { $0[id] }
    }

    /// An offer sent without an answer (timeout, connection lost): the gateway may have
    /// recorded it, so the same bytes go again rather than a new offer for the same export
    /// (which the gateway would cut, recording an anomaly against an honest producer).
    package struct Unanswered: Sendable {
        package var signed: SignedRecord
        package var offer: Offer
        /// The export the offer covers: from this baseline to this counter value.
        package var baseline: Int64
        package var latest: Int64
    }

    private let unanswered = Mutex<[String: Unanswered]>([:])

    package func unansweredOffer(_ id: String) -> Unanswered? { unanswered.withLock { $0[id] } }
    package func setUnanswered(_ id: String, _ offer: Unanswered?) { unanswered.withLock { $0[id] = offer } }

    /// Moves the baseline from `old` to `new` after an accepted offer, unless the counter
    /// was reset meanwhile (then the baseline already moved and stays).
    package func advance(_ id: String, from old: Int64, to new: Int64) {
        meters.withLock { meters in
            guard var entry = meters[id], entry.baseline == old else { return }
            entry.baseline = new
            meters[id] = entry
        }
    }
}
