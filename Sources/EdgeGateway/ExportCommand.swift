import ArgumentParser
import Foundation
import GatewayCore
import LedgerLite
import OperatorKit

/// `edge-gateway export`: documents made from the chain for others to read.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write what others need from the chain: settlement rows (csv, json), OCMF documents (ocmf).",
        subcommands: [ExportCSVCommand.self, ExportJSONCommand.self, ExportOCMFCommand.self]
    )
}

/// `edge-gateway export csv`.
struct ExportCSVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csv",
        abstract: "Settlement rows as CSV: per meter and period, imported and exported Wh and energy traded.",
        discussion: SettlementOptions.discussion
    )

    @OptionGroup var options: SettlementOptions

    func run() throws { try options.export(.csv) }
}

/// `edge-gateway export json`.
struct ExportJSONCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "json",
        abstract: "Settlement rows as JSON (the same document as GET /v1/export).",
        discussion: SettlementOptions.discussion
    )

    @OptionGroup var options: SettlementOptions

    func run() throws { try options.export(.json) }
}

/// The options both settlement formats take, and the export itself.
struct SettlementOptions: ParsableArguments {
    static let discussion = """
        Reads the gateway's store directly (safe while the server runs) and considers sealed blocks only: \
        entries still in the pending journal are not in an export until the next seal.

        Periods start on multiples of --period since the Unix epoch: on UTC boundaries. --from and --until \
        must be period boundaries (for 15m: :00, :15, :30, :45 UTC).

        Imported and exported Wh come from the meters' signed counters: a counter's value at a boundary is \
        the one in the meter's last reading at or before it, and a period's energy is the value at its end \
        minus the value at its start, so consecutive periods add up to the counter's rise and nothing is \
        counted twice. A meter with no reading before a period is taken from its first reading in it. \
        Traded energy comes from the dispatches: a dispatch belongs to the period holding the last timestamp \
        of its block. Every figure names the chain entries it was taken from. A row is marked incomplete \
        while its period reaches beyond the last sealed block; readings an agent delivers late (after an \
        outage) can still change a past period, so export again once the agents have caught up. \
        docs/GATEWAY.md, "Settlement export", has the columns.
        """

    @OptionGroup var data: DataOption

    @Option(
        help: ArgumentHelp(
            "First period's start: ISO 8601 (2026-06-21T00:00:00Z), a date (2026-06-21, midnight UTC) or ms since the Unix epoch.",
            valueName: "time"
        )
    )
    var from: ExportTime

    @Option(help: ArgumentHelp("Last period's end (exclusive), written as --from.", valueName: "time"))
    var until: ExportTime

    @Option(help: ArgumentHelp("Length of a period, 1m to 1d, dividing a day.", valueName: "duration"))
    var period = DurationArgument(.milliseconds(SettlementWindow.defaultPeriodMs), text: "15m")

    @Option(
        name: .customLong("meter"),
        help: ArgumentHelp("Only this meter (32 hex digits); repeat for more. Default: every enrolled meter.")
    )
    var meters: [String] = []

    @Option(help: ArgumentHelp("Write to this file (created 0600, must not exist) instead of standard output."))
    var out: String?

    func validate() throws {
        for meter in meters where MeterID(hex: meter) == nil {
            throw ValidationError("--meter takes a meter id of 32 hex digits, not '\(meter)'")
        }
    }

    func export(_ format: SettlementDocument.Format) throws {
        let window: SettlementWindow
        do {
            window = try SettlementWindow(
                from: from.milliseconds,
                until: until.milliseconds,
                periodMs: Int64(period.duration.milliseconds)
            )
        } catch {
            throw OperatorError(error.description)
        }
        let chain = try ReadOnlyChain(data.directory)
        let export = SettlementExport(queries: ChainQueries(store: chain.store))
        let output = try ExportOutput(path: out)
        let rows: Int
        do {
            rows = try export.write(window, format: format, meters: meters) { try output.write($0) }
            try output.finish()
        } catch let error as SettlementError {
            output.abandon()
            throw OperatorError(error.description)
        } catch {
            output.abandon()
            throw error
        }
        if let out {
            print("export \(out): \(rows) rows, \(window.periodCount) periods of \(period)")
        }
    }
}

/// `--from`/`--until`: ms since the Unix epoch, ISO 8601 with a zone, or a date (midnight UTC).
struct ExportTime: ExpressibleByArgument {
    var milliseconds: Int64

    init?(argument: String) {
        guard let ms = SettlementWindow.parseTime(argument) else { return nil }
        milliseconds = ms
    }
}

/// Standard output, or a new file written beside its final name and moved there once
/// complete, so a failed export leaves no half-written file behind.
final class ExportOutput {
    private let path: String?
    private let partial: String?
    private let handle: FileHandle

    init(path: String?) throws {
        self.path = path
        guard let path else {
            partial = nil
            handle = FileHandle.standardOutput
            return
        }
        guard !FileManager.default.fileExists(atPath: path) else {
            throw OperatorError("\(path) exists; give --out a new file")
        }
        let partial = path + ".partial"
        let fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw OperatorError("cannot create \(partial): \(String(cString: strerror(errno)))")
        }
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        self.partial = partial
    }

    func write(_ text: String) throws {
        try handle.write(contentsOf: Data(text.utf8))
    }

    func finish() throws {
        guard let path, let partial else { return }
        try handle.synchronize()
        try handle.close()
        try FileManager.default.moveItem(atPath: partial, toPath: path)
    }

    func abandon() {
        guard let partial else { return }
        try? handle.close()
        try? FileManager.default.removeItem(atPath: partial)
    }
}
