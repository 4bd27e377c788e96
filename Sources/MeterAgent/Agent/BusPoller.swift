import Foundation
import LedgerLite
import Logging
import ModbusBridge
import ServiceLifecycle

/// One meter an agent reads and signs for.
struct PolledMeter: Sendable {
    let reader: MeterReader
    let factory: ReadingFactory
    let identity: SigningIdentity
}

/// Polls the meters of one bus at an interval, signs each reading and stores it in the
/// outbox before anything is sent.
struct BusPoller: Service {
    let name: String
    let meters: [PolledMeter]
    let interval: Duration
    let outbox: Outbox
    let logger: Logger

    func run() async throws {
        var failures = FailureLog(logger: logger)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let started = ContinuousClock.now
            for meter in meters {
                await poll(meter, failures: &failures)
            }
            let wait = interval - (ContinuousClock.now - started)
            if wait > .zero {
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
                } catch {
                    return  // shutting down
                }
            }
        }
    }

    /// Reads, signs and stores one reading; failures are logged, never fatal.
    func poll(_ meter: PolledMeter, failures: inout FailureLog) async {
        let meterID = meter.identity.id
        let snapshot: MeterSnapshot
        do {
            snapshot = try await meter.reader.read()
        } catch {
            failures.record("meter read failed", key: "\(meterID.hex) \(error.kind)", metadata: [
                "meter.id": "\(meterID.hex)", "modbus.unit": "\(meter.reader.unit)", "bus": "\(name)",
                "error": "\(error)",
            ])
            return
        }
        do {
            let record = try await outbox.append(meter: meterID) { sequence in
                let reading = try meter.factory.reading(from: snapshot, meter: meterID, sequence: sequence)
                return try SignedRecord.sign(.reading(reading), with: meter.identity)
            }
            if case .reading(let reading) = record.record {
                logger.trace("reading stored", metadata: ["meter.id": "\(meterID.hex)", "reading.seq": "\(reading.sequence)"])
            }
        } catch let full as Outbox.OutboxFull {
            failures.record("reading skipped: outbox full", key: "\(meterID.hex) full", metadata: [
                "meter.id": "\(meterID.hex)", "reason": "\(full)",
            ])
        } catch {
            failures.record("reading not stored", key: "\(meterID.hex) store", metadata: [
                "meter.id": "\(meterID.hex)", "error": "\(error)",
            ])
        }
    }
}

/// Logs a repeated failure once, then how often it repeated, at most every 30 s.
struct FailureLog {
    let logger: Logger
    var window: Duration = .seconds(30)
    private var seen: [String: (since: ContinuousClock.Instant, repeats: Int)] = [:]

    init(logger: Logger) {
        self.logger = logger
    }

    mutating func record(_ message: Logger.Message, key: String, metadata: Logger.Metadata) {
        let now = ContinuousClock.now
        if var entry = seen[key], now - entry.since < window {
            entry.repeats += 1
            seen[key] = entry
            return
        }
        var metadata = metadata
        if let previous = seen[key], previous.repeats > 0 {
            metadata["repeated"] = "\(previous.repeats) times in the last \(window)"
        }
        logger.warning(message, metadata: metadata)
        seen[key] = (now, 0)
    }
}
