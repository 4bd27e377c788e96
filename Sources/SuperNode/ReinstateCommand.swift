import ArgumentParser
import LedgerLite
import SuperNodeCore

struct ReinstateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reinstate",
        abstract: "Lift a gateway's suspension by the value verification and reset its flag count.",
        discussion:
            "A gateway is suspended when --suspend-after of its blocks were value-flagged (energy dispatched beyond its producers' metered export). Reinstating lets its pushes in again; its flags stay on record (GET /v1/flags) and count anew from its next block. Takes effect at once, also for a running `serve` on the same directory. Refused for an unknown gateway or one that is not suspended."
    )

    @OptionGroup var data: DataOption

    @Option(help: ArgumentHelp("The suspended gateway's id (32 hex digits).", valueName: "id"))
    var gateway: String

    @Option(
        help: ArgumentHelp(
            "Why it is reinstated, kept with the reinstatement (one line, at most 1024 bytes).",
            valueName: "text"
        )
    )
    var note: String?

    func validate() throws {
        if GatewayID(hex: gateway) == nil { throw ValidationError("--gateway must be a gateway id of 32 hex digits") }
        if let note {
            do { try Authority.checkNote(note) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() async throws {
        let store = try await data.directory.openStore()
        let done = try await Authority.reinstate(
            store: store,
            gateway: GatewayID(hex: gateway)!,
            note: note,
            now: Timestamps.now()
        )
        let s = done.suspension
        print(
            "reinstated gateway \(s.gateway.hex) (\"\(done.certificate.name)\"): suspended since \(Timestamps.iso(s.suspendedAt)) after \(s.flagCount) value-flagged blocks (the last at height \(s.height))"
        )
        print(
            "its pushes are accepted again; flagged blocks count anew above height \(s.reinstatedHeight ?? s.height) (\(done.flagsOnRecord) flags stay on record: GET /v1/flags?gateway=\(s.gateway.hex))"
        )
    }
}
