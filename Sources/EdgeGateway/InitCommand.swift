import ArgumentParser

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a data directory: gateway key pair, admin token and an empty chain store."
    )

    @OptionGroup var data: DataOption

    func run() async throws {
        let dir = data.directory
        let key = try dir.initialise()
        print("initialised \(dir.path)")
        print("gateway id   \(key.id.hex)")
        print("public key   \(dir.publicKeyPath)")
        print("admin token  \(dir.tokenPath) (mode 0600)")
        print("chain store  \(dir.chainPath)")
        print(
            "next: edge-gateway enroll --data \(dir.path) --meter-key METER.pub, then edge-gateway serve --data \(dir.path)"
        )
    }
}
