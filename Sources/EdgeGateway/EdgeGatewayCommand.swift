import ArgumentParser

@main
struct EdgeGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edge-gateway",
        abstract: "GridLedger edge gateway: ingest signed meter readings, seal them into a verifiable chain.",
        discussion: "Operations guide: docs/GATEWAY.md.",
        subcommands: [
            InitCommand.self, EnrollCommand.self, RevokeCommand.self, ServeCommand.self, InspectCommand.self,
            VerifyCommand.self,
            VerifyReceiptCommand.self, TLSCertificateCommand.self, BackupCommand.self, ArchiveCommand.self,
            VerifyArchiveCommand.self, ExportCommand.self,
        ]
    )
}
