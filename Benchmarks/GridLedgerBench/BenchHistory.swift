import Foundation
import LedgerLite

/// What the history-size suites share: a chain's readings signed in bulk, and a server binary
/// started and timed until it listens.
enum BenchHistory {
    /// Every meter's readings for the `rounds` rounds after round `first` (sequences
    /// `first + 1 …`), three values each, signed on every core; in round order, the meters in
    /// order within a round. The k-th of these rounds (from 1) is stamped `start + k × 10 s`.
    static func signedRounds(
        keys: [SigningIdentity],
        gateway: SigningIdentity,
        after first: Int,
        rounds: Int,
        start: Int64
    ) -> [SignedRecord] {
        let meters = keys.count
        // Each iteration writes its own slots only.
        nonisolated(unsafe) let slots = UnsafeMutableBufferPointer<SignedRecord?>.allocate(capacity: rounds * meters)
        slots.initialize(repeating: nil)
        defer { slots.deallocate() }
        DispatchQueue.concurrentPerform(iterations: rounds) { offset in
            let n = first + offset + 1
            for (m, key) in keys.enumerated() {
                let values = [
                    MeasuredValue(.energyImportWh, Int64(n) * 5), MeasuredValue(.activePowerW, 300),
                    MeasuredValue(.voltageL1dV, 2300),
                ]
                let reading = try! Reading(
                    meter: key.id,
                    gateway: gateway.id,
                    sequence: UInt64(n),
                    timestamp: start + Int64(offset + 1) * 10_000,
                    values: values
                )
                slots[offset * meters + m] = try! SignedRecord.sign(.reading(reading), with: key)
            }
        }
        return slots.map { $0! }
    }

    /// Starts `binary` with `arguments` and waits until it writes `urlFile` (removed first),
    /// as `serve` does once it listens; returns the process and the seconds that took.
    static func startServing(
        _ binary: String,
        _ arguments: [String],
        urlFile: String
    ) async throws
        -> (process: Process, startup: Double)
    {
        try? FileManager.default.removeItem(atPath: urlFile)
        let started = ContinuousClock.now
        let process = try GatewayBenchmarks.start(binary, arguments)
        while !FileManager.default.fileExists(atPath: urlFile) {
            guard process.isRunning, ContinuousClock.now - started < .seconds(600) else {
                GatewayBenchmarks.stopProcess(process)
                throw GatewayBenchmarks.BenchFailure("\(binary) \(arguments.joined(separator: " ")) did not listen")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        return (process, (ContinuousClock.now - started).seconds)
    }
}
