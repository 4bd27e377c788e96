import Foundation
import LedgerLite
import Logging
import ModbusBridge
import OperatorKit
import ServiceLifecycle

/// Polls the meters of one bus at an interval, signs each reading and stores it in the
/// outbox before anything is sent.
package struct BusPoller: Service {
    package let name: String
    package let meters: [PolledMeter]
    /// The gateway every reading is addressed to (`GatewayAddressee`).
    package let gateway: GatewayID
    package let interval: Duration
    package let outbox: Outbox
    package let logger: Logger

    package func run() async throws {
        let failures = RateLimitedLog(logger: logger, interval: .seconds(30))
        defer { failures.flush() }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let started = ContinuousClock.now
            for meter in meters {
                await poll(meter, failures: failures)
            }
            failures.flush()
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
    package func poll(_ meter: PolledMeter, failures: RateLimitedLog) async {
        let meterID = meter.identity.id
        let snapshot: MeterSnapshot
        do {
            snapshot = try await meter.reader.read()
        } catch {
            failures.log(
                .warning,
                key: "\(meterID.hex) \(error.kind)",
                "meter read failed",
                metadata: [
                    "meter.id": "\(meterID.hex)", "modbus.unit": "\(meter.reader.unit)", "bus": "\(name)",
                    "error": "\(error)",
                ]
            )
            return
        }
        do {
            let record = try await outbox.append(meter: meterID) { sequence in
                let reading = try meter.factory.reading(
                    from: snapshot,
                    meter: meterID,
                    gateway: gateway,
                    sequence: sequence
                )
                return try SignedRecord.sign(.reading(reading), with: meter.identity)
            }
            if case .reading(let reading) = record.record {
                logger.trace(
                    "reading stored",
                    metadata: ["meter.id": "\(meterID.hex)", "reading.seq": "\(reading.sequence)"]
                )
            }
        } catch let full as Outbox.OutboxFull {
            failures.log(
                .warning,
                key: "\(meterID.hex) full",
                "reading skipped: outbox full",
                metadata: [
                    "meter.id": "\(meterID.hex)", "reason": "\(full)",
                ]
            )
        } catch {
            failures.log(
                .error,
                key: "\(meterID.hex) store",
                "reading not stored",
                metadata: [
                    "meter.id": "\(meterID.hex)", "error": "\(error)",
                ]
            )
        }
    }

    package init(
        name: String,
        meters: [PolledMeter],
        gateway: GatewayID,
        interval: Duration,
        outbox: Outbox,
        logger: Logger
    ) {
        self.name = name
        self.meters = meters
        self.gateway = gateway
        self.interval = interval
        self.outbox = outbox
        self.logger = logger
    }
}
