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
    /// Where each reading goes once it is in the outbox (MQTT): after, never before, and
    /// without waiting.
    package var readings: (any ReadingPublishing)?

    package func run() async throws {
        let failures = RateLimitedLog(logger: logger, interval: .seconds(30))
        var schedule = PollSchedule(interval: interval, meters: meters.count)
        defer {
            failures.flush()
            logger.info(
                "bus polling stopped",
                metadata: [
                    "bus": "\(name)", "meters": "\(meters.count)", "polls": "\(schedule.polls)",
                    "polls.late": "\(schedule.latePolls)", "polls.worst_delay": "\(schedule.worstDelay)",
                ]
            )
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let started = ContinuousClock.now
            for (index, meter) in meters.enumerated() {
                if let delay = schedule.begin(meter: index, at: .now) {
                    failures.log(
                        .warning,
                        key: "late poll",
                        "meter polled later than its interval",
                        metadata: [
                            "bus": "\(name)", "meter.id": "\(meter.identity.id.hex)",
                            "modbus.unit": "\(meter.reader.unit)", "interval": "\(interval)", "late_by": "\(delay)",
                            "polls.late": "\(schedule.latePolls)",
                        ]
                    )
                }
                await poll(meter, failures: failures)
            }
            failures.flush()
            let elapsed = ContinuousClock.now - started
            let wait = interval - elapsed
            if wait <= .zero {
                failures.log(
                    .warning,
                    key: "long round",
                    "polling the bus took longer than the interval: some meters will be polled late",
                    metadata: [
                        "bus": "\(name)", "meters": "\(meters.count)", "round": "\(elapsed)", "interval": "\(interval)",
                    ]
                )
            } else {
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
        let factory: ReadingFactory
        do {
            let read = try await meter.read()
            snapshot = read.snapshot
            factory = read.factory
        } catch {
            let kind = (error as? ModbusError).map { "\($0.kind)" } ?? "discovery"
            failures.log(
                .warning,
                key: "\(meterID.hex) \(kind)",
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
                let reading = try factory.reading(
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
                // After the log line, so that whoever sees the state can already read that it was stored.
                readings?.publish(reading)
                if let ocmf = meter.ocmf { await recordOCMF(reading, of: meter, with: ocmf, failures: failures) }
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

    /// Moves the meter's settlement period on; a finished period's OCMF document goes into
    /// the outbox. A failure is logged: the reading is stored all the same, and the next
    /// reading moves the period on.
    private func recordOCMF(
        _ reading: Reading,
        of meter: PolledMeter,
        with ocmf: OCMFRecorder,
        failures: RateLimitedLog
    ) async {
        let meterID = meter.identity.id
        do {
            guard let stored = try await ocmf.record(reading, meter: meter.identity, gateway: gateway, outbox: outbox),
                case .ocmfCommitment(let c) = stored.record
            else { return }
            logger.info(
                "OCMF document signed",
                metadata: [
                    "meter.id": "\(meterID.hex)", "ocmf.pagination": "T\(c.pagination)",
                    "ocmf.period_start": "\(c.periodStart)", "ocmf.period_end": "\(c.periodEnd)",
                ]
            )
        } catch {
            failures.log(
                .error,
                key: "\(meterID.hex) ocmf",
                "OCMF document not stored",
                metadata: ["meter.id": "\(meterID.hex)", "error": "\(error)"]
            )
        }
    }

    package init(
        name: String,
        meters: [PolledMeter],
        gateway: GatewayID,
        interval: Duration,
        outbox: Outbox,
        logger: Logger,
        readings: (any ReadingPublishing)? = nil
    ) {
        self.name = name
        self.meters = meters
        self.gateway = gateway
        self.interval = interval
        self.outbox = outbox
        self.logger = logger
        self.readings = readings
    }
}
