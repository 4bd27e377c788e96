import ArgumentParser

@main
struct SuperNodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "super-node",
        abstract:
            "GridLedger super node: certify edge gateways, audit the blocks they push, countersign checkpoints, flag unmeasured energy, and dispatch across gateways.",
        discussion: "Operations guide: docs/SUPERNODE.md.",
        subcommands: [
            InitCommand.self, CertifyCommand.self, RevokeCommand.self, ReinstateCommand.self, ServeCommand.self,
            VerifyCommand.self, TLSCertificateCommand.self,
        ]
    )
}
